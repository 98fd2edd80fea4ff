#!/usr/bin/env bash
# Runs the web UI's end-to-end tests (tests/ui/ui.test.mjs) in Debian's headless Chromium,
# driven by playwright-core (no browser download). Assumes TARGET/release/weft and the guest
# components (TARGET/wasm/wasm32-wasip2/guest/{numbers,hostile,conformance_rust}.wasm) are built, TARGET
# being ${CARGO_TARGET_DIR:-target} (the tests read CARGO_TARGET_DIR too); tests/all.sh
# calls this after its cargo build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [ ! -x /usr/bin/chromium ]; then
  apt-get -o DPkg::Lock::Timeout=300 update
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y chromium
fi

target=${CARGO_TARGET_DIR:-target}
for f in "$target/release/weft" \
  "$target/wasm/wasm32-wasip2/guest/numbers.wasm" \
  "$target/wasm/wasm32-wasip2/guest/hostile.wasm" \
  "$target/wasm/wasm32-wasip2/guest/conformance_rust.wasm"; do
  if [ ! -e "$f" ]; then
    echo "tests/ui/run.sh: $f is missing; build it first:" >&2
    echo "  cargo build --release --bins" >&2
    echo "  cargo build --target wasm32-wasip2 --profile guest --target-dir $target/wasm -p numbers -p hostile -p conformance-rust" >&2
    exit 1
  fi
done

(cd tests/ui && npm ci --no-audit --no-fund)
# The test files by name (a shell glob): Node 20 searches a directory given to --test, but
# Node 22 and later try to run the directory itself as a file.
node --test tests/ui/*.test.mjs
