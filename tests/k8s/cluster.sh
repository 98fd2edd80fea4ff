# A throwaway Kubernetes cluster for the tests: a real control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler) on loopback, and one node whose kubelet is the
# one simulated part (tests/kube-double: its pods' containers run as local processes).
# Meant to be SOURCED, as tests/pg.sh is: it starts them, exports kubeconfigs into the
# sourcing shell, and stops everything when that shell exits.
#
#   source tests/k8s/cluster.sh   # then: kubectl --kubeconfig "$WEFT_TEST_KUBECONFIG" ...
#
# - the three control-plane binaries are built by tests/k8s/build.sh from k8s.io/kubernetes
#   on the Go module proxy (WEFT_K8S_VERSION, v1.34.2 by default), once per machine, into
#   ${WEFT_K8S_CACHE:-$XDG_CACHE_HOME/weft/k8s}/<version>/bin (about 5 minutes on 2 cores
#   the first time, nothing after);
# - etcd is Debian's (`apt-get install -y etcd-server` if missing);
# - the kubelet is this build's weft-kubelet (${CARGO_TARGET_DIR:-target}/release, built with
#   cargo when missing, or $WEFT_KUBELET): node $WEFT_TEST_K8S_NODE (weft-node), with the
#   Node authorizer's credentials of a node (system:node:weft-node), labelled as the tests'
#   pods select (pool=batch, node-group.dp.ssup2=worker); ready when the node lifecycle
#   controller has made it schedulable;
# - everything listens on 127.0.0.1 at free ports, keeps its state in a new temp dir, and
#   authenticates by static tokens: WEFT_TEST_K8S_ADMIN_TOKEN (system:masters, for the
#   tests), WEFT_TEST_K8S_WEFT_TOKEN (the user `weft`, with what RBAC grants it) and the
#   node's, with RBAC and the API server's default admission plugins (Pod Security
#   Admission among them);
# - exports WEFT_TEST_KUBECONFIG (the admin's), WEFT_TEST_KUBECONFIG_WEFT (weft's),
#   WEFT_TEST_K8S_URL and WEFT_TEST_K8S_NODE, and registers an EXIT trap (added to any the
#   shell had) that stops the processes and removes the temp dir.
# Works under `set -euo pipefail`; returns non-zero (never exits the shell) on failure.

WEFT_K8S_VERSION=${WEFT_K8S_VERSION:-v1.34.2}

_weft_k8s_free_port() {
    local port=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    printf '%s\n' "$port"
}

# The control-plane binaries of WEFT_K8S_VERSION (built by tests/k8s/build.sh when missing);
# prints their directory.
_weft_k8s_binaries() {
    bash "$(dirname "${BASH_SOURCE[0]}")/build.sh"
}

_weft_k8s_stop() {
    if [ -n "${WEFT_K8S_DIR:-}" ] && [ -d "$WEFT_K8S_DIR" ]; then
        local pid i
        for pid in $(cat "$WEFT_K8S_DIR"/*.pid 2>/dev/null); do
            kill "$pid" 2>/dev/null || true
        done
        # They shut down gracefully in a second or two; what is left after 5 s is killed.
        for i in $(seq 1 50); do
            pid=""
            for pid in $(cat "$WEFT_K8S_DIR"/*.pid 2>/dev/null); do
                kill -0 "$pid" 2>/dev/null && break
                pid=""
            done
            [ -z "$pid" ] && break
            sleep 0.1
        done
        for pid in $(cat "$WEFT_K8S_DIR"/*.pid 2>/dev/null); do
            kill -9 "$pid" 2>/dev/null || true
        done
        rm -rf "$WEFT_K8S_DIR"
    fi
    unset WEFT_K8S_DIR WEFT_TEST_KUBECONFIG WEFT_TEST_KUBECONFIG_WEFT WEFT_TEST_K8S_URL
    unset WEFT_TEST_K8S_ADMIN_TOKEN WEFT_TEST_K8S_WEFT_TOKEN WEFT_TEST_K8S_NODE
}

# A kubeconfig for `token` at `url`, trusting the API server's own certificate.
_weft_k8s_kubeconfig() {
    cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: weft-test
  cluster: {server: "$1", insecure-skip-tls-verify: true}
users:
- name: user
  user: {token: "$2"}
contexts:
- name: weft-test
  context: {cluster: weft-test, user: user, namespace: default}
current-context: weft-test
EOF
}

_weft_k8s_start() {
    if [ -n "${WEFT_K8S_DIR:-}" ] && [ -d "$WEFT_K8S_DIR" ]; then
        echo "cluster.sh: already running ($WEFT_TEST_K8S_URL)"
        return 0
    fi
    command -v etcd >/dev/null 2>&1 || {
        apt-get -o DPkg::Lock::Timeout=300 update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
                etcd-server >/dev/null
    } || return 1
    # Debian's package starts a system etcd of its own; the tests use theirs.
    systemctl disable --now etcd >/dev/null 2>&1 || true
    local bin
    bin=$(_weft_k8s_binaries) || { echo "cluster.sh: building the control plane failed" >&2; return 1; }
    local dir
    dir=$(mktemp -d /tmp/weft-k8s.XXXXXX) || return 1
    WEFT_K8S_DIR=$dir
    local etcd_port peer_port api_port
    etcd_port=$(_weft_k8s_free_port 52379)
    peer_port=$(_weft_k8s_free_port $((etcd_port + 1)))
    api_port=$(_weft_k8s_free_port 56443)
    WEFT_TEST_K8S_NODE=weft-node
    WEFT_TEST_K8S_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    WEFT_TEST_K8S_WEFT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    local node_token
    node_token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s,admin,1,system:masters\n%s,weft,2\n%s,system:node:%s,3,system:nodes\n' \
        "$WEFT_TEST_K8S_ADMIN_TOKEN" "$WEFT_TEST_K8S_WEFT_TOKEN" "$node_token" \
        "$WEFT_TEST_K8S_NODE" >"$dir/tokens.csv"
    openssl genrsa -out "$dir/sa.key" 2048 >/dev/null 2>&1 &&
        openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" >/dev/null 2>&1 || return 1

    etcd --name weft-test --data-dir "$dir/etcd" \
        --listen-client-urls "http://127.0.0.1:$etcd_port" \
        --advertise-client-urls "http://127.0.0.1:$etcd_port" \
        --listen-peer-urls "http://127.0.0.1:$peer_port" \
        --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
        --initial-cluster "weft-test=http://127.0.0.1:$peer_port" \
        --unsafe-no-fsync >"$dir/etcd.log" 2>&1 &
    echo $! >"$dir/etcd.pid"
    disown $! 2>/dev/null || true

    "$bin/kube-apiserver" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
        --secure-port="$api_port" --cert-dir="$dir/certs" \
        --etcd-servers="http://127.0.0.1:$etcd_port" \
        --token-auth-file="$dir/tokens.csv" --authorization-mode=Node,RBAC \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$dir/sa.pub" \
        --service-account-signing-key-file="$dir/sa.key" \
        --service-cluster-ip-range=10.96.0.0/16 >"$dir/kube-apiserver.log" 2>&1 &
    echo $! >"$dir/kube-apiserver.pid"
    disown $! 2>/dev/null || true

    WEFT_TEST_K8S_URL="https://127.0.0.1:$api_port"
    WEFT_TEST_KUBECONFIG="$dir/admin.kubeconfig"
    WEFT_TEST_KUBECONFIG_WEFT="$dir/weft.kubeconfig"
    _weft_k8s_kubeconfig "$WEFT_TEST_K8S_URL" "$WEFT_TEST_K8S_ADMIN_TOKEN" >"$WEFT_TEST_KUBECONFIG"
    _weft_k8s_kubeconfig "$WEFT_TEST_K8S_URL" "$WEFT_TEST_K8S_WEFT_TOKEN" >"$WEFT_TEST_KUBECONFIG_WEFT"

    local i ready=
    for i in $(seq 1 150); do
        if curl -fsk -H "Authorization: Bearer $WEFT_TEST_K8S_ADMIN_TOKEN" \
            "$WEFT_TEST_K8S_URL/readyz" >/dev/null 2>&1; then
            ready=1
            break
        fi
        sleep 0.2
    done
    if [ -z "$ready" ]; then
        echo "cluster.sh: kube-apiserver did not become ready; its log:" >&2
        tail -n 20 "$dir/kube-apiserver.log" >&2
        _weft_k8s_stop
        return 1
    fi

    "$bin/kube-controller-manager" --kubeconfig="$WEFT_TEST_KUBECONFIG" \
        --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
        --service-account-private-key-file="$dir/sa.key" --root-ca-file="$dir/certs/apiserver.crt" \
        --use-service-account-credentials=false >"$dir/kube-controller-manager.log" 2>&1 &
    echo $! >"$dir/kube-controller-manager.pid"
    disown $! 2>/dev/null || true
    "$bin/kube-scheduler" --kubeconfig="$WEFT_TEST_KUBECONFIG" \
        --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
        >"$dir/kube-scheduler.log" 2>&1 &
    echo $! >"$dir/kube-scheduler.pid"
    disown $! 2>/dev/null || true

    # The one simulated part: the kubelet of node $WEFT_TEST_K8S_NODE, with the node's own
    # credentials (the Node authorizer decides what it may read). Its labels are those the
    # tests' pods select (weft.yaml's node_selector, the seed's Dagster code).
    _weft_k8s_kubeconfig "$WEFT_TEST_K8S_URL" "$node_token" >"$dir/node.kubeconfig"
    local kubelet=${WEFT_KUBELET:-${CARGO_TARGET_DIR:-$PWD/target}/release/weft-kubelet}
    if [ ! -x "$kubelet" ]; then
        cargo build --release -p weft-kube-double --bin weft-kubelet >&2 || {
            _weft_k8s_stop
            return 1
        }
    fi
    "$kubelet" --kubeconfig "$dir/node.kubeconfig" --node-name "$WEFT_TEST_K8S_NODE" \
        --state-dir "$dir/kubelet" --ready-file "$dir/kubelet.ready" \
        --label pool=batch --label node-group.dp.ssup2=worker >"$dir/kubelet.log" 2>&1 &
    echo $! >"$dir/kubelet.pid"
    disown $! 2>/dev/null || true
    for i in $(seq 1 600); do
        [ -f "$dir/kubelet.ready" ] && break
        kill -0 "$(cat "$dir/kubelet.pid")" 2>/dev/null || break
        sleep 0.2
    done
    if [ ! -f "$dir/kubelet.ready" ]; then
        echo "cluster.sh: the kubelet's node did not become schedulable; its log:" >&2
        tail -n 20 "$dir/kubelet.log" >&2
        _weft_k8s_stop
        return 1
    fi

    export WEFT_K8S_DIR WEFT_TEST_KUBECONFIG WEFT_TEST_KUBECONFIG_WEFT WEFT_TEST_K8S_URL
    export WEFT_TEST_K8S_ADMIN_TOKEN WEFT_TEST_K8S_WEFT_TOKEN WEFT_TEST_K8S_NODE
    local previous
    previous=$(trap -p EXIT | sed -e "s/^trap -- '\(.*\)' EXIT$/\1/")
    # shellcheck disable=SC2064
    trap "_weft_k8s_stop; ${previous:-:}" EXIT
    echo "cluster.sh: Kubernetes $WEFT_K8S_VERSION on $WEFT_TEST_K8S_URL (state in $dir); WEFT_TEST_KUBECONFIG exported"
}

_weft_k8s_start
