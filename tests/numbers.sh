#!/usr/bin/env bash
# Builds the `weft` binary and the numbers example, then runs the seed's process_numbers job
# end to end on the embedded default (SQLite under $WEFT_HOME, default ~/.weft).
#
#   tests/numbers.sh [JOB]        (default: process_numbers; try wide_job)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rustup target add wasm32-wasip2 >/dev/null
# Into $CARGO_TARGET_DIR when it is set, else target/.
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p weft-cli
cargo build --target wasm32-wasip2 --profile guest --target-dir "$target/wasm" -p numbers
"$target/release/weft" run "$target/wasm/wasm32-wasip2/guest/numbers.wasm" --job "${1:-process_numbers}"
