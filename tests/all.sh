#!/usr/bin/env bash
# Runs every test of Weft from a clean clone: installs what the tests need (the
# wasm32-wasip2 target, componentize-py, schemathesis, moto; Debian's PostgreSQL and Chromium, and
# playwright-core from npm, through the scripts they have), then builds everything in ONE
# profile (release: wasmtime is built once) and runs the host crates' tests, the end-to-end
# tests (which build the Rust, Go and Python guests from source), the API's property test
# against its OpenAPI document, the web UI in headless Chromium, each guest SDK's own tests
# and the format check; the Helm chart is linted and validated, and the container image's
# static binary (the one other build: its own target, x86_64-unknown-linux-musl, and its own
# target dir) is built, run and held to the image's size limit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchains"
rustup target add wasm32-wasip2
command -v go >/dev/null || { echo "Go 1.25+ is needed for the Go guest" >&2; exit 1; }
python3 -m pip install --quiet --disable-pip-version-check 'componentize-py==0.25.1' 'schemathesis==4.32.5'
# pip may put console scripts where PATH does not look.
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
export PATH

step "PostgreSQL for the storage and API tests"
# shellcheck source=tests/pg.sh
source tests/pg.sh

step "an S3-compatible server (moto) for the object-store tests"
# shellcheck source=tests/s3.sh
source tests/s3.sh

step "format"
cargo fmt --all --check

step "host crates and end-to-end tests (release)"
# The end-to-end tests run the `weft` binary: build it first, in the same profile and in
# the same invocation as the tests, so that both see one set of features (dev-dependencies
# such as tokio's test-util included) and nothing is compiled twice (examples too, which
# `cargo test` builds).
cargo build --release --bins --tests --examples
cargo test --release

step "deploy: the Helm chart (lint, render, offline validation), the image's static binary and its size"
# The image's binary is the one build here for another target (x86_64-unknown-linux-musl,
# with fat LTO in its own target dir): about 8 minutes from nothing on 2 cores, since the
# dependencies are compiled to bitcode only and code is generated once, at the link.
deploy/check.sh

step "HTTP API against its OpenAPI document (schemathesis: no 5xx)"
tests/api/fuzz.sh

step "web UI end to end (headless Chromium)"
tests/ui/run.sh

step "Rust guest SDK (host tests and compile-fail tests)"
cargo test --release -p weft-sdk -p weft-sdk-macros

step "Go guest SDK (native unit tests)"
(cd guest-sdk/go && go test ./...)

step "Python guest SDK (unit tests)"
python3 -m unittest discover -s guest-sdk/python/tests
