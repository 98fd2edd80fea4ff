#!/usr/bin/env bash
# Builds the Go and Python hello code locations into components:
#   OUT/hello-go.wasm       (go build for wasip1, componentized by the weft-build crate)
#   OUT/hello-python.wasm   (componentize-py)
#
# Usage: tests/guests/build-polyglot.sh [OUT]      (default: target/wasm/polyglot)
#
# Needs Go 1.25+ and componentize-py 0.25.x (`pip install componentize-py`); no
# wit-bindgen or wasm-tools (the Go bindings are committed under guest-sdk/go). Both builds
# go through the `componentize` example of weft-build, which is what `weft build` runs,
# built with --release so it shares the host's release artifacts.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$root/target/wasm/polyglot}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

for tool in go componentize-py cargo; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        case "$tool" in
            go) hint="install Go 1.25 or later (https://go.dev/dl/)" ;;
            componentize-py) hint="pip install componentize-py" ;;
            cargo) hint="install Rust (https://rustup.rs)" ;;
        esac
        echo "build-polyglot: $tool not found: $hint" >&2
        exit 1
    fi
done

cd "$root"
componentize() {
    cargo run --release --quiet -p weft-build --example componentize -- "$@"
}

componentize go examples/hello-go "$out/hello-go.wasm"
componentize python examples/hello-python "$out/hello-python.wasm"
