# A throwaway Kubernetes control plane for the tests: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler on loopback. Meant to be SOURCED, as
# tests/pg.sh is: it starts them, exports a kubeconfig into the sourcing shell, and stops
# them when that shell exits. Only the kubelet is missing: the tests' Node and what runs
# its pods are theirs to bring.
#
#   source tests/k8s/cluster.sh   # then: kubectl --kubeconfig "$WEFT_TEST_KUBECONFIG" ...
#
# - the three control-plane binaries are built from k8s.io/kubernetes on the Go module
#   proxy (WEFT_K8S_VERSION, v1.34.2 by default; its 29 staging modules, k8s.io/api,
#   k8s.io/apiserver, ..., replaced by their published v0.x.y), once per machine, into
#   ${WEFT_K8S_CACHE:-$XDG_CACHE_HOME/weft/k8s}/<version>/bin: about 4 minutes each on 2
#   cores the first time, nothing after (the Go build cache makes a rebuild fast too);
# - etcd is Debian's (`apt-get install -y etcd-server` if missing);
# - everything listens on 127.0.0.1 at free ports, keeps its state in a new temp dir, and
#   authenticates by static tokens: WEFT_TEST_K8S_ADMIN_TOKEN (system:masters, for the
#   tests) and WEFT_TEST_K8S_WEFT_TOKEN (the user `weft`, with what RBAC grants it), with
#   RBAC and the API server's default admission plugins (Pod Security Admission among them);
# - exports WEFT_TEST_KUBECONFIG (the admin's), WEFT_TEST_KUBECONFIG_WEFT (weft's) and
#   WEFT_TEST_K8S_URL, and registers an EXIT trap (added to any the shell had) that stops
#   the processes and removes the temp dir.
# Works under `set -euo pipefail`; returns non-zero (never exits the shell) on failure.

WEFT_K8S_VERSION=${WEFT_K8S_VERSION:-v1.34.2}

_weft_k8s_free_port() {
    local port=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    printf '%s\n' "$port"
}

# Builds (or finds) the control-plane binaries of WEFT_K8S_VERSION; prints their directory.
_weft_k8s_binaries() {
    local version=$WEFT_K8S_VERSION
    local staging="v0.${version#v1.}"
    local root="${WEFT_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weft/k8s}/$version"
    local bin="$root/bin"
    if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ] &&
        [ -x "$bin/kube-scheduler" ]; then
        printf '%s\n' "$bin"
        return 0
    fi
    local src="$root/src.$$"
    rm -rf "$src" && mkdir -p "$src" || return 1
    (
        set -e
        cd "$src"
        go mod init weft.invalid/control-plane >/dev/null 2>&1
        go mod edit -require="k8s.io/kubernetes@$version"
        local mod
        mod=$(go mod download -json "k8s.io/kubernetes@$version" |
            sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
        # Every k8s.io module it requires at v0.0.0 is one of its staging modules.
        awk '$2 == "v0.0.0" && $1 ~ /^k8s\.io\// { print $1 }' "$mod" | sort -u |
            while read -r m; do go mod edit -replace="$m=$m@$staging"; done
        cat >tools.go <<'EOF'
//go:build tools

// Package tools names what this module builds: the control plane's commands.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
)
EOF
        go mod tidy
        mkdir -p out
        go build -trimpath -ldflags="-s -w" -o out/ k8s.io/kubernetes/cmd/kube-apiserver \
            k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
    ) >&2 || { rm -rf "$src"; return 1; }
    rm -rf "$bin" && mv "$src/out" "$bin" && rm -rf "$src" || return 1
    printf '%s\n' "$bin"
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
    unset WEFT_TEST_K8S_ADMIN_TOKEN WEFT_TEST_K8S_WEFT_TOKEN
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
    WEFT_TEST_K8S_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    WEFT_TEST_K8S_WEFT_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s,admin,1,system:masters\n%s,weft,2\n' \
        "$WEFT_TEST_K8S_ADMIN_TOKEN" "$WEFT_TEST_K8S_WEFT_TOKEN" >"$dir/tokens.csv"
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

    export WEFT_K8S_DIR WEFT_TEST_KUBECONFIG WEFT_TEST_KUBECONFIG_WEFT WEFT_TEST_K8S_URL
    export WEFT_TEST_K8S_ADMIN_TOKEN WEFT_TEST_K8S_WEFT_TOKEN
    local previous
    previous=$(trap -p EXIT | sed -e "s/^trap -- '\(.*\)' EXIT$/\1/")
    # shellcheck disable=SC2064
    trap "_weft_k8s_stop; ${previous:-:}" EXIT
    echo "cluster.sh: Kubernetes $WEFT_K8S_VERSION on $WEFT_TEST_K8S_URL (state in $dir); WEFT_TEST_KUBECONFIG exported"
}

_weft_k8s_start
