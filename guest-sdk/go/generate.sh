#!/usr/bin/env bash
# Regenerates the Go bindings of the weft:plugin contract (../../wit) into wit/imports and
# wit/exports/wit_exports. The generated code is committed, so building a Go code location
# needs only Go; run this after changing wit/ (needs `cargo install wit-bindgen-cli
# --version 0.63.0 --locked`). The hand-written export trampolines in
# wit/exports/export_weft_plugin_* are kept. The bindings import two support packages,
# go.bytecodealliance.org/pkg/wit/{runtime,types}; they are rewritten to import Weft's own
# implementation of that API, internal/witrt/{runtime,types}, instead.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
module="example.invalid/weft/guest-sdk/go"
want="0.63.0"

if ! command -v wit-bindgen >/dev/null 2>&1; then
    echo "generate.sh: wit-bindgen not found: cargo install wit-bindgen-cli --version $want --locked" >&2
    exit 1
fi
have="$(wit-bindgen --version | awk '{print $2}')"
if [ "$have" != "$want" ]; then
    echo "generate.sh: warning: wit-bindgen $have, the committed bindings come from $want" >&2
fi

rm -rf "$here/wit/imports" "$here/wit/exports/wit_exports"
wit-bindgen go \
    --world code-location \
    --pkg-name "$module/wit" \
    --out-dir "$here/wit" \
    "$here/../../wit" >/dev/null 2>&1

# Point the bindings' support imports at our own packages (see internal/witrt/README.md).
find "$here/wit" -name '*.go' -print0 | xargs -0 sed -i \
    "s#\"go.bytecodealliance.org/pkg/wit/#\"$module/internal/witrt/#"
gofmt -w "$here/wit"
echo "generated Go bindings in $here/wit"
