#!/usr/bin/env bash
# Checks everything under deploy/, offline but for the Go module proxy and Debian's mirror:
#
#   deploy/check.sh            # the chart, then the static binary and the image size
#   deploy/check.sh --chart    # the chart only (a few seconds once the tools are built)
#
# Everything is built under CARGO_TARGET_DIR: unless the caller sets it (tests/all.sh does),
# the build cache outside the clone that tests/all.sh uses too, kept between runs (see
# tests/target-dir.sh: ${XDG_CACHE_HOME:-$HOME/.cache}/weft/target-KEY, and its disk guard).
#
# 1. Tools, built once into $CARGO_TARGET_DIR/deploy-tools (a second run reuses them): helm
#    (`go install helm.sh/helm/v3/cmd/helm@v3.22.0`) and weft-manifest-check, the offline
#    validator of deploy/validate (Kubernetes' own API types; see its main.go), whose tests
#    run too.
# 2. The chart, with each values file of deploy/helm/weft/ci/ (the chart's defaults plus a
#    database; every option at once; the Secrets the chart creates): `helm lint --strict`
#    (values.schema.json included), `helm template`, and the rendered manifests through
#    weft-manifest-check (strict decoding into the API types, the API server's rules that
#    charts get wrong, and references between the objects). Rendering without a database
#    must fail and say so; a few properties of the rendered objects are asserted.
# 3. deploy/musl.sh $CARGO_TARGET_DIR/musl: the static binary (its own target dir: another
#    target, other profile settings), and the image's size under the limit.
# 4. weft.yaml as the chart renders it, read by that binary (`weft runs list` against a
#    throw-away home): the instance fields the chart writes are ones weft knows, with the
#    types it expects.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Sets CARGO_TARGET_DIR (first: it may run this script again, under a lock).
# (tests/target-dir.sh is not among the files linted below: not followed.)
# shellcheck source=/dev/null
source tests/target-dir.sh deploy/check.sh "$@"

readonly HELM_VERSION=v3.22.0
readonly CHART=deploy/helm/weft
tools=$CARGO_TARGET_DIR/deploy-tools
rendered=$tools/rendered
chart_only=false
case ${1:-} in
    --chart) chart_only=true ;;
    "") ;;
    *) echo "usage: deploy/check.sh [--chart]" >&2; exit 2 ;;
esac

step() { printf '\n--> %s\n' "$*"; }
fail() { echo "check.sh: $*" >&2; exit 1; }

# --- tools ------------------------------------------------------------------------------

weft_target_guard

step "tools (cached in $tools)"
command -v go >/dev/null 2>&1 || fail "Go is needed (to build helm and the manifest validator)"
mkdir -p "$tools/bin" "$rendered"
tools_abs=$(cd "$tools" && pwd)
helm=$tools_abs/helm-$HELM_VERSION/helm
if [ ! -x "$helm" ]; then
    echo "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    GOBIN=$tools_abs/helm-$HELM_VERSION go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
# Helm's own cache, configuration and plugins stay here too, not in $HOME.
export HELM_CACHE_HOME=$tools_abs/helm-home/cache HELM_CONFIG_HOME=$tools_abs/helm-home/config \
    HELM_DATA_HOME=$tools_abs/helm-home/data
"$helm" version --short

validator=$tools_abs/bin/weft-manifest-check
unformatted=$(gofmt -l deploy/validate)
[ -z "$unformatted" ] || fail "gofmt: $unformatted"
(cd deploy/validate && go vet ./... && go test ./... && go build -o "$validator" .)

if command -v shellcheck >/dev/null 2>&1; then
    shellcheck deploy/*.sh
else
    echo "(shellcheck not installed: scripts not linted)"
fi

# --- the chart --------------------------------------------------------------------------

# The Kind/name of objects each values file refers to without the chart creating them.
externals() {
    case $1 in
        all-values.yaml)
            echo -external Secret/weft-database -external Secret/weft-api \
                -external Secret/registry-credentials -external Secret/numbers-api \
                -external Secret/weft-object-store -external Secret/weft-tls \
                -external ConfigMap/corporate-ca
            ;;
        created-secrets-values.yaml)
            echo -external ServiceAccount/weft-existing
            ;;
    esac
}

for values in "$CHART"/ci/*-values.yaml; do
    name=$(basename "$values")
    step "chart with ci/$name: lint, template, validate"
    "$helm" lint --strict "$CHART" --values "$values"
    out=$rendered/${name%-values.yaml}.yaml
    "$helm" template weft "$CHART" --namespace weft --values "$values" >"$out"
    # shellcheck disable=SC2046 # one word per flag and value
    "$validator" $(externals "$name") "$out"
done

step "chart without a database: refused"
if message=$("$helm" template weft "$CHART" 2>&1); then
    fail "helm template rendered without a database"
fi
case $message in
    *"set database.url or database.existingSecret"*)
        echo "refused: $(grep -o 'weft: set database.*' <<<"$message")" ;;
    *) fail "helm template failed, but not for the database: $message" ;;
esac

step "chart with run pods that could not read the database Secret: refused"
if message=$("$helm" template weft "$CHART" --set database.existingSecret=db \
    --set database.existingSecretKey=url 2>&1); then
    fail "helm template rendered run pods without the database URL"
fi
case $message in
    *"must be under the key WEFT_DATABASE_URL"*)
        echo "refused: $(grep -o 'weft: the k8s launcher.*' <<<"$message")" ;;
    *) fail "helm template failed, but not for the Secret's key: $message" ;;
esac

step "chart: rendered properties"
# has FILE TEXT: the rendered FILE contains the line TEXT (leading spaces ignored).
has() {
    # (grep reads everything: with -q it could stop early and fail sed under pipefail)
    sed 's/^ *//' "$1" | grep -xF -- "$2" >/dev/null || fail "$(basename "$1") lacks the line: $2"
}
default=$rendered/default.yaml
all=$rendered/all.yaml
created=$rendered/created-secrets.yaml
# weft.yaml: the pods Weft starts get the chart's image, namespace, ServiceAccount, Secret.
has "$default" "type: k8s"
has "$default" "image: weft:0.1.0"
has "$default" "namespace: weft"
has "$default" "service_account_name: weft"
has "$default" "- weft-database"
has "$default" "subPath: weft.yaml"
# ... and what the user gave is kept.
has "$all" "namespace: weft-runs"
has "$all" "image: registry.example.com/platform/weft:0.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
has "$all" "service_account_name: weft-orchestrator"
has "$all" "- weft-runs-env"
has "$all" "team: platform"
# The daemon: one, replaced with Recreate.
has "$default" "type: Recreate"
# The Secrets' URL and token reach the containers from the right Secret and key.
has "$default" "name: weft-database"
has "$default" "key: WEFT_DATABASE_URL"
has "$all" "key: connection-url"
has "$all" "key: api-token"
has "$created" "name: weft-auth"
has "$created" "- name: WEFT_TOKEN"
# Pods fetch components from the server's Service, with the token when there is one.
has "$default" "component_server: http://weft.weft.svc:3000"
has "$all" "component_server: http://weft-prod.weft.svc:443"
has "$all" "secret: weft-api"
# Hardening.
has "$default" "readOnlyRootFilesystem: true"
has "$default" "runAsNonRoot: true"
has "$default" "allowPrivilegeEscalation: false"
has "$default" "- ALL"
# Probes on the health endpoint, workers when asked for.
has "$default" "path: /api/health"
has "$all" "- worker"
if grep -xF -- "            - worker" "$default" >/dev/null; then fail "workers rendered though workers.enabled is false"; fi
echo "ok"

# `weft runs list` reads weft.yaml first (refusing unknown fields and wrong types: "... is
# not valid: ..."), then says there are no runs yet in the empty home: that is a pass.
check_weft_yaml() {
    local weft=$1
    step "weft.yaml as rendered, read by $weft"
    home=$(mktemp -d)
    trap 'rm -rf "$home"' EXIT
    for out in "$rendered"/*.yaml; do
        # The ConfigMap's weft.yaml: the block under `weft.yaml: |`, unindented.
        awk '/^  weft.yaml: \|$/ { on = 1; next } on && /^    / { print substr($0, 5); next } on { exit }' \
            "$out" >"$home/weft.yaml"
        [ -s "$home/weft.yaml" ] || fail "no weft.yaml in $out"
        if ! said=$(env -u WEFT_DATABASE_URL WEFT_HOME="$home" "$weft" runs list 2>&1); then
            case $said in
                *"no runs yet"*) ;;
                *) fail "weft does not accept the weft.yaml of $(basename "$out"): $said" ;;
            esac
        fi
        echo "$(basename "$out"): weft.yaml accepted"
        rm -rf "${home:?}"/*
    done
}

if $chart_only; then
    # The glibc build of the same sources (tests/all.sh builds it first).
    check_weft_yaml "${WEFT_BIN:-$CARGO_TARGET_DIR/release/weft}"
    exit 0
fi

# --- the static binary and the image size -----------------------------------------------

step "static binary and image size (deploy/musl.sh $CARGO_TARGET_DIR/musl)"
deploy/musl.sh "$CARGO_TARGET_DIR/musl"
check_weft_yaml "$CARGO_TARGET_DIR/musl/x86_64-unknown-linux-musl/release/weft"
