#!/usr/bin/env bash
# Installs the Helm chart into the tests' cluster (tests/k8s/cluster.sh, sourced first) as an
# operator would, with each of the chart's CI values files (deploy/helm/weft/ci/): into a
# namespace of its own that enforces Pod Security Admission's `restricted` level, with what
# the values say exists already (a ServiceAccount, the runs' namespace, a PriorityClass;
# Secrets and ConfigMaps that only pods read need not), `helm install` as the cluster's
# admin. Checks that the real API server accepted every object the chart renders
# (helm fails otherwise), and that each Deployment's pods were admitted under `restricted`
# (its ReplicaSet made them: admission refuses a non-conforming pod, and then there is none).
# The pods do not have to run (the image is not pulled here: only the kubelet is simulated).
#
#   tests/k8s/helm.sh HELM
set -euo pipefail
helm=$(realpath "${1:?usage: tests/k8s/helm.sh HELM}")
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
: "${WEFT_TEST_K8S_URL:?source tests/k8s/cluster.sh first}"
admin="Authorization: Bearer $WEFT_TEST_K8S_ADMIN_TOKEN"

api() { # METHOD PATH [BODY]
    curl -sfk -X "$1" -H "$admin" -H 'Content-Type: application/json' \
        "$WEFT_TEST_K8S_URL$2" ${3:+-d "$3"}
}

# count PATH PYTHON-EXPR: the number of items of the list at PATH for which EXPR (on `i`) holds.
count() {
    api GET "$1" | python3 -c "import json, sys
items = json.load(sys.stdin)['items']
print(sum(1 for i in items if $2))"
}

restricted_namespace() {
    api POST /api/v1/namespaces "{\"metadata\":{\"name\":\"$1\",\"labels\":{
        \"pod-security.kubernetes.io/enforce\":\"restricted\",
        \"pod-security.kubernetes.io/enforce-version\":\"latest\"}}}" >/dev/null
}

for values in default created-secrets all; do
    ns=weft-helm-$values
    restricted_namespace "$ns"
    # What the values file says exists already (deploy/check.sh's externals).
    case $values in
        created-secrets)
            api POST "/api/v1/namespaces/$ns/serviceaccounts" \
                '{"metadata":{"name":"weft-existing"}}' >/dev/null ;;
        all)
            restricted_namespace weft-runs
            api POST /apis/scheduling.k8s.io/v1/priorityclasses \
                '{"metadata":{"name":"platform-high"},"value":1000}' >/dev/null ;;
    esac
    "$helm" install weft deploy/helm/weft --namespace "$ns" \
        --values "deploy/helm/weft/ci/$values-values.yaml" \
        --kubeconfig "$WEFT_TEST_KUBECONFIG" --timeout 60s >/dev/null
    kinds=$(for kind in deployments services configmaps secrets serviceaccounts; do
        path=/api/v1/namespaces/$ns/$kind
        [ "$kind" = deployments ] && path=/apis/apps/v1/namespaces/$ns/$kind
        printf '%s=%s ' "$kind" "$(count "$path" "i['metadata'].get('labels', {}).get('app.kubernetes.io/managed-by') == 'Helm'")"
    done)
    roles=$(count "/apis/rbac.authorization.k8s.io/v1/namespaces/$ns/roles" True)
    deployments=$(api GET "/apis/apps/v1/namespaces/$ns/deployments" |
        python3 -c "import json, sys; print(' '.join(i['metadata']['name'] for i in json.load(sys.stdin)['items']))")
    [ -n "$deployments" ] || { echo "helm.sh ($values): no Deployment installed" >&2; exit 1; }
    for deployment in $deployments; do
        admitted=0
        for _ in $(seq 1 150); do
            admitted=$(count "/api/v1/namespaces/$ns/pods" \
                "i['metadata']['name'].startswith('$deployment-')")
            [ "$admitted" -gt 0 ] && break
            sleep 0.2
        done
        if [ "$admitted" -eq 0 ]; then
            echo "helm.sh ($values): Deployment $deployment has no pod; its ReplicaSet says:" >&2
            api GET "/apis/apps/v1/namespaces/$ns/replicasets" | python3 -c "import json, sys
for rs in json.load(sys.stdin)['items']:
    for c in rs.get('status', {}).get('conditions', []):
        print('   ', rs['metadata']['name'], c.get('reason'), c.get('message'))" >&2
            exit 1
        fi
    done
    echo "helm.sh: ci/$values-values.yaml installed into $ns (restricted): ${kinds}roles=$roles; pods admitted for: $deployments"
done
