#!/usr/bin/env bash
# Property-based test of the HTTP API against its own OpenAPI document: schemathesis (PyPI)
# generates requests for every documented operation, valid and invalid, against a real
# `weft serve` holding the numbers location, and fails on any 5xx answer: once with an
# admin's token (everything is allowed), once with a viewer's (changes are refused). Run by
# tests/all.sh after the build; needs `weft` and the numbers component, built in
# ${CARGO_TARGET_DIR:-target} (release/weft, wasm/wasm32-wasip2/guest/numbers.wasm).
#
#   tests/api/fuzz.sh [MAX_EXAMPLES]     (default 25 per operation)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

target=${CARGO_TARGET_DIR:-target}
weft=$target/release/weft
numbers=$target/wasm/wasm32-wasip2/guest/numbers.wasm
for f in "$weft" "$numbers"; do
  [ -f "$f" ] || { echo "fuzz.sh: $f is missing: build first (tests/all.sh does)" >&2; exit 1; }
done
command -v schemathesis >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'

home=$(mktemp -d)
out=$(mktemp)
admin=fuzz-admin-token
viewer=fuzz-viewer-token
sha256() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
echo "api_tokens: [{ role: viewer, sha256: $(sha256 $viewer) }]" >"$home/weft.yaml"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$home" "$out"; }
trap cleanup EXIT

WEFT_HOME=$home "$weft" serve --listen 127.0.0.1:0 --max-upload-mb 4 --token "$admin" >"$out" &
pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$out")
[ -n "$url" ] || { echo "fuzz.sh: weft serve did not start" >&2; exit 1; }

# Something to find: the numbers location and one run of process_numbers.
auth=(-H "authorization: Bearer $admin")
curl -sf "${auth[@]}" -X POST --data-binary @"$numbers" -H 'content-type: application/wasm' "$url/api/locations/numbers" >/dev/null
curl -sf "${auth[@]}" -X POST -H 'content-type: application/json' -d '{"location":"numbers","job":"process_numbers"}' "$url/api/runs" >/dev/null

fuzz() { # TOKEN MAX_EXAMPLES
  schemathesis run "$url/api/openapi.json" \
    --header "authorization: Bearer $1" \
    --checks not_a_server_error \
    --max-examples "$2" \
    --phases examples,coverage,fuzzing \
    --workers 1 \
    --request-timeout 20 \
    --seed 1 \
    --no-color
}
fuzz "$admin" "${1:-25}"
fuzz "$viewer" 10
