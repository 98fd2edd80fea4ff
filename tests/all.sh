#!/usr/bin/env bash
# Runs every test of Weft from a clean clone: installs what the tests need (the
# wasm32-wasip2 target, componentize-py, schemathesis, moto; Dagster, in a virtualenv, for the
# compat suite; Debian's PostgreSQL and Chromium, and playwright-core from npm, through the
# scripts they have; Debian's etcd and a Kubernetes control plane built from source, through
# tests/k8s/cluster.sh), then builds everything in ONE
# profile (release: wasmtime is built once) and runs the host crates' tests, the end-to-end
# tests (which build the Rust, Go and Python guests from source; the Kubernetes ones on a real
# control plane whose one kubelet is simulated), the API's property test
# against its OpenAPI document, the web UI in headless Chromium, each guest SDK's own tests,
# the compat suite against Dagster itself (tests/compat) and the format check; the Helm chart
# is linted, validated and installed into the cluster, and the container image's
# static binary (the one other build: its own target, x86_64-unknown-linux-musl, and its own
# target dir) is built, run and held to the image's size limit.
#
# Everything is built into CARGO_TARGET_DIR: unless the caller sets it, a build cache outside
# the clone, ${XDG_CACHE_HOME:-$HOME/.cache}/weft/target-KEY (KEY from `rustc -vV`), kept
# between runs so that a second run on the same machine compiles only what changed; see
# tests/target-dir.sh (one run at a time, the disk guard: WEFT_CACHE_MAX_GIB, and the source
# files' times).
# Each phase prints its wall time as it ends, and a table of them all (with the total) is
# printed at the end, also when a phase fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Sets CARGO_TARGET_DIR (first: it may run this script again, under a lock).
# shellcheck source=tests/target-dir.sh
source tests/target-dir.sh tests/all.sh "$@"

# shellcheck source=tests/phases.sh
source tests/phases.sh

# No incremental compilation here (Cargo.toml's release profile keeps it for a developer's
# rebuilds): a clean run compiles each crate once, and incremental's bookkeeping costs about
# a fifth more CPU on the workspace's crates (measured: weft-core and weft-wasm from nothing,
# 61 s of CPU against 49 s).
export CARGO_PROFILE_RELEASE_INCREMENTAL=${CARGO_PROFILE_RELEASE_INCREMENTAL:-false}

# At exit, whatever the outcome: the table of times, and the record of the source files'
# times for the next run's build. (tests/pg.sh and tests/s3.sh add the stopping of their
# servers after this.)
on_exit() {
    local rc=$?
    local -
    set +e
    phases_report "$rc"
    # The control plane's build, if the run ended before waiting for it.
    [ -z "${k8s_build:-}" ] || kill -TERM -- "-$k8s_build" 2>/dev/null || true
    weft_source_times_record
    return 0
}
trap on_exit EXIT

# --- the phases -------------------------------------------------------------------------

step "build cache" "the build cache: $CARGO_TARGET_DIR"
weft_target_guard
weft_source_times_restore

step toolchains "toolchains"
rustup target add wasm32-wasip2
command -v go >/dev/null || { echo "Go 1.25+ is needed for the Go guest" >&2; exit 1; }
python3 -m pip install --quiet --disable-pip-version-check 'componentize-py==0.25.1' 'schemathesis==4.32.5'
# pip may put console scripts where PATH does not look.
PATH="$PATH:$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
export PATH

step PostgreSQL "PostgreSQL for the storage and API tests"
# shellcheck source=tests/pg.sh
source tests/pg.sh

step "S3 server" "an S3-compatible server (moto) for the object-store tests"
# shellcheck source=tests/s3.sh
source tests/s3.sh

step format "format"
cargo fmt --all --check

step build "build: host crates, their tests and examples (release); the Rust guests (wasm32-wasip2)"
# The image's static binary (deploy/musl.sh: another target, x86_64-unknown-linux-musl, fat
# LTO, its own target dir) is the one other build: about 12 minutes of CPU from nothing,
# much of it in its single-threaded link. It builds in the background from here on, with an
# equal share of the CPU (tests/phases.sh says why), so that on a fresh machine it is done
# before the host build and the tests are; the deploy phase, last, waits for it.
background "image build" deploy/musl.sh --build "$CARGO_TARGET_DIR/musl"
# The Kubernetes control plane of the Kubernetes tests (tests/k8s/build.sh): built once per
# machine beside the build cache, about 5 minutes of Go on 2 cores the first time, beside the
# Rust build (in a session of its own, as the image's); nothing to do when cached.
export WEFT_K8S_CACHE="$CARGO_TARGET_DIR/k8s"
k8s_build_log="$CARGO_TARGET_DIR/k8s-build.log"
setsid tests/k8s/build.sh >"$k8s_build_log" 2>&1 </dev/null &
k8s_build=$!
# The end-to-end tests run the `weft` binary: build it first, in the same profile and in
# the same invocation as the tests, so that both see one set of features (dev-dependencies
# such as tokio's test-util included) and nothing is compiled twice (examples too, which
# `cargo test` builds).
cargo build --release --bins --tests --examples
# The Rust guests, as tests/lib.rs's rust_guest() builds them (the same packages, profile
# and target dir, without RUSTFLAGS; built here, that build finds nothing to do): the
# schemathesis and UI phases below load numbers.wasm, hostile.wasm and conformance_rust.wasm
# from there.
env -u RUSTFLAGS -u CARGO_TARGET_DIR cargo build --target wasm32-wasip2 --profile guest \
    --target-dir "$CARGO_TARGET_DIR/wasm" -p numbers -p hostile -p k8s-job -p http-json -p conformance-rust

step "Kubernetes cluster" "a real kube-apiserver, controller-manager and scheduler, and the simulated kubelet (tests/k8s/cluster.sh), checked"
wait "$k8s_build" || { tail -n 40 "$k8s_build_log"; exit 1; }
# shellcheck source=tests/k8s/cluster.sh
source tests/k8s/cluster.sh
tests/k8s/smoke.sh

step "host tests" "host crates and end-to-end tests (release), the Kubernetes tests on the cluster"
cargo test --release

step schemathesis "HTTP API against its OpenAPI document (schemathesis: no 5xx)"
tests/api/fuzz.sh

step UI "web UI end to end (headless Chromium)"
tests/ui/run.sh

step "Rust SDK tests" "Rust guest SDK (host tests and compile-fail tests)"
cargo test --release -p weft-sdk -p weft-sdk-macros

step "Go SDK tests" "Go guest SDK (native unit tests)"
(cd guest-sdk/go && go test ./...)

step "Python SDK tests" "Python guest SDK (unit tests)"
WEFT_REQUIRE_BINDINGS=1 python3 -m unittest discover -s guest-sdk/python/tests

step "Dagster compatibility" "the compat suite: tests/compat's locations run by Dagster itself and by Weft, compared"
# Dagster in its own virtualenv (its pins stay out of the tools' Python), kept beside the
# build cache; pip's own cache makes a second install quick.
dagster_venv="$CARGO_TARGET_DIR/dagster-1.13.29"
if [ ! -x "$dagster_venv/bin/python" ] || ! "$dagster_venv/bin/python" -c 'import dagster' 2>/dev/null; then
    rm -rf "$dagster_venv"
    python3 -m venv "$dagster_venv"
    "$dagster_venv/bin/pip" install --quiet --disable-pip-version-check 'dagster==1.13.29'
fi
python3 tests/compat/compare.py --weft "$CARGO_TARGET_DIR/release/weft" --dagster-python "$dagster_venv/bin/python"

step deploy/image "deploy: the Helm chart (lint, render, offline validation, installed into the cluster), the image's static binary and its size"
await
deploy/check.sh
# The chart installed into the Kubernetes cluster (helm as deploy/check.sh built it).
tests/k8s/helm.sh "$(ls "$CARGO_TARGET_DIR"/deploy-tools/helm-*/helm | head -n 1)"
