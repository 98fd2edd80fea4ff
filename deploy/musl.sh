#!/usr/bin/env bash
# Builds the static `weft` binary that the container image ships (deploy/Dockerfile runs
# this very script in its build stage), lays out the image's final filesystem beside it,
# and checks both:
#
#   deploy/musl.sh [TARGET_DIR]        # default: $CARGO_TARGET_DIR, else target (relative to
#                                      # the repository root); deploy/check.sh gives
#                                      # $CARGO_TARGET_DIR/musl, the Dockerfile target
#   deploy/musl.sh --build [TARGET_DIR]   # the toolchain and the build only (tests/all.sh
#                                      # runs it in the background, beside the tests; the
#                                      # run without --build then finds it done)
#
# - adds the x86_64-unknown-linux-musl target (rustup), and installs Debian's musl-tools
#   (`apt-get install -y --no-install-recommends musl-tools`) when `musl-gcc` is missing:
#   the C parts of the dependencies (SQLite in libsqlite3-sys, wasmtime's helpers.c, the
#   crypto of aws-lc-sys) must be compiled against musl, not glibc;
# - `cargo rustc --release --target x86_64-unknown-linux-musl -p weft-cli --bin weft
#   --no-default-features --features mimalloc --target-dir TARGET_DIR -- -C
#   relocation-model=static` (without `weft build`, with mimalloc for musl's malloc, a static
#   executable), with the release profile adjusted for size through
#   CARGO_PROFILE_RELEASE_* variables (see below; Cargo.toml is not changed);
# - writes TARGET_DIR/image-root/: exactly what the image's `scratch` stage holds (the
#   binary, the CA bundle, /etc/passwd and /etc/group naming the non-root user, an empty
#   /tmp and $WEFT_HOME), which the Dockerfile copies as it is;
# - checks that the binary is static (its ELF program headers have no PT_INTERP: no dynamic
#   loader is needed; read with od, so nothing beyond coreutils is required), that it runs
#   inside that image root (chroot, as the image's user, when run as root; else directly):
#   `weft --version`, and `weft serve` answering GET /api/health;
# - prints the sizes and fails when the image (the whole image root) is over
#   WEFT_IMAGE_MAX_BYTES (default 28 MB = 28,000,000 bytes, as `docker images` counts).
#
# The build is a release build of wasmtime, cranelift, kube and the rest with fat LTO: the
# dependencies are compiled to LLVM bitcode only (cargo does so when everything is linked
# with LTO), and machine code is generated once, for the whole program, at the link.
# Measured on two cores with nothing else running: 8 min 20 s from nothing (user 11 min
# 37 s), of which the last crate and the single-threaded LTO link take about 4 min. A second run reuses
# TARGET_DIR. CI runs it (tests/all.sh, through deploy/check.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly TARGET=x86_64-unknown-linux-musl
readonly UID_GID=65532   # the image's user (distroless's `nonroot` number)
build_only=false
if [ "${1:-}" = --build ]; then
    build_only=true
    shift
fi
target_dir=${1:-${CARGO_TARGET_DIR:-target}}
max_bytes=${WEFT_IMAGE_MAX_BYTES:-28000000}

say() { printf 'musl.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# --- toolchain --------------------------------------------------------------------------

apt_install() {
    [ "$(id -u)" = 0 ] || die "not root: install $* first (apt-get install $*)"
    say "installing $* (apt-get install -y --no-install-recommends $*)"
    # Waits for another apt-get (the test scripts install their own packages) to finish.
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends "$@" >&2
}

rustup target add "$TARGET"
command -v musl-gcc >/dev/null 2>&1 || apt_install musl-tools
command -v musl-gcc >/dev/null 2>&1 || die "musl-tools installed but musl-gcc not found"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca_bundle" ] || apt_install ca-certificates
[ -s "$ca_bundle" ] || die "no CA bundle at $ca_bundle"

# --- build ------------------------------------------------------------------------------

# C compiled by build scripts (the cc crate) for the musl target: musl's headers and ABI
# (objects compiled against glibc's headers may call glibc-only symbols, which the static
# link against musl lacks). Rust links the result against its bundled (self-contained)
# musl, statically.
# Whose C: libsqlite3-sys (SQLite, bundled), wasmtime (helpers.c) and aws-lc-sys (the one
# rustls provider, for kube and object_store alike): C and assembly all.
export CC_x86_64_unknown_linux_musl=musl-gcc
export AR_x86_64_unknown_linux_musl=ar
# mimalloc (the binary's allocator: `--features mimalloc` below) without committing its
# first 1 GiB arena up front: a `weft step` process (a step pod's work) spends about 2 ms of
# CPU on that commit, 20% of its life (measured: 11.4 ms against 9.5 ms; musl's own malloc
# 9.6 ms). MIMALLOC_ARENA_EAGER_COMMIT=1 in a pod's environment turns it back on.
export CFLAGS_x86_64_unknown_linux_musl="-DMI_DEFAULT_ARENA_EAGER_COMMIT=0 ${CFLAGS_x86_64_unknown_linux_musl:-}"
# aws-lc-sys: from its sources with the cc crate (no cmake, which the image's build stage
# lacks) and its pregenerated bindings (no bindgen), never a system AWS-LC or OpenSSL.
export AWS_LC_SYS_USE_SYSTEM=0 AWS_LC_SYS_CMAKE_BUILDER=0
# The release profile, for the image only (Cargo.toml's [profile.release] is what tests and
# the glibc binary use; these variables override it for this build and this target dir):
# - strip the symbol table (debug = false already; panics still print their message);
# - whole-program LTO in one codegen unit: smaller and no slower;
# - opt-level "z": this binary's own code is the control plane and cranelift, the compiler
#   of guests (whose output is cached per digest, and which pods fetch precompiled from the
#   server); the code guests run is machine code cranelift emits, whatever cranelift itself
#   was compiled with. "z" is 2.6 MB smaller than "s" and compiles a component slower
#   (deploy/README.md has the figures); CARGO_PROFILE_RELEASE_OPT_LEVEL=s to choose speed;
# - no incremental state (a one-shot build; incremental is moot with LTO).
# panic stays "unwind": a panic in one request or task must not take the server down.
# The binary is a static executable at fixed addresses (relocation-model=static), as Go
# builds its static binaries by default: static-pie would carry 1.7 MB of relocations
# (.rela.dyn) to randomize the binary's own addresses at start; the heap, stack and mmaps
# are randomized either way. WEFT_IMAGE_PIE=1 builds static-pie instead.
export CARGO_PROFILE_RELEASE_STRIP=${CARGO_PROFILE_RELEASE_STRIP:-symbols}
export CARGO_PROFILE_RELEASE_LTO=${CARGO_PROFILE_RELEASE_LTO:-fat}
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-1}
export CARGO_PROFILE_RELEASE_OPT_LEVEL=${CARGO_PROFILE_RELEASE_OPT_LEVEL:-z}
export CARGO_PROFILE_RELEASE_INCREMENTAL=${CARGO_PROFILE_RELEASE_INCREMENTAL:-false}

# The relocation model is given to the final crate only (with LTO it compiles the whole
# program), so the dependencies' cached builds stay valid.
relocation=static
[ "${WEFT_IMAGE_PIE:-0}" = 1 ] && relocation=pic
say "cargo rustc --release --target $TARGET -p weft-cli --bin weft --no-default-features --features mimalloc" \
    "--target-dir $target_dir -- -C relocation-model=$relocation" \
    "(strip=$CARGO_PROFILE_RELEASE_STRIP lto=$CARGO_PROFILE_RELEASE_LTO" \
    "codegen-units=$CARGO_PROFILE_RELEASE_CODEGEN_UNITS opt-level=$CARGO_PROFILE_RELEASE_OPT_LEVEL)"
cargo rustc --release --locked --target "$TARGET" -p weft-cli --bin weft --no-default-features --features mimalloc \
    --target-dir "$target_dir" -- -C relocation-model="$relocation"
binary="$target_dir/$TARGET/release/weft"
[ -x "$binary" ] || die "no binary at $binary"
if $build_only; then
    say "built $binary ($(stat -c %s "$binary") bytes; the checks are the run without --build)"
    exit 0
fi

# --- the image root ---------------------------------------------------------------------

root="$target_dir/image-root"
rm -rf "$root"
mkdir -p "$root/etc/ssl/certs" "$root/var/lib/weft" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$binary" "$root/weft"
cp "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
weft:x:$UID_GID:$UID_GID:weft:/var/lib/weft:/sbin/nologin
EOF
cat >"$root/etc/group" <<EOF
root:x:0:
weft:x:$UID_GID:
EOF

# --- static? ----------------------------------------------------------------------------

# The unsigned little-endian integer of $3 bytes at offset $2 of file $1.
read_uint() {
    od -An -v -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' \n'
}

# Succeeds when $1 is an x86-64 ELF executable without PT_INTERP (no dynamic loader: it
# is static, or static-pie); prints what it found.
check_static() {
    local file=$1 magic phoff phentsize phnum i type dynamic=no
    magic=$(od -An -v -t x1 -N 4 "$file" | tr -d ' \n')
    [ "$magic" = 7f454c46 ] || { say "$file is not ELF"; return 1; }
    [ "$(read_uint "$file" 4 1)" = 2 ] || { say "$file is not 64-bit ELF"; return 1; }
    [ "$(read_uint "$file" 5 1)" = 1 ] || { say "$file is not little-endian"; return 1; }
    [ "$(read_uint "$file" 18 2)" = 62 ] || { say "$file is not x86-64"; return 1; }
    phoff=$(read_uint "$file" 32 8)
    phentsize=$(read_uint "$file" 54 2)
    phnum=$(read_uint "$file" 56 2)
    for ((i = 0; i < phnum; i++)); do
        type=$(read_uint "$file" $((phoff + i * phentsize)) 4)
        case $type in
            3) say "$file has PT_INTERP: it is dynamically linked"; return 1 ;;
            2) dynamic=yes ;;
        esac
    done
    if [ "$dynamic" = yes ]; then
        say "static: no PT_INTERP among $phnum program headers (static-pie: relocates itself)"
    else
        say "static: no PT_INTERP, no PT_DYNAMIC among $phnum program headers"
    fi
}

check_static "$binary"

# --- does it run, where the image would run it? -----------------------------------------

# Runs "$@" (a path inside the image root, then arguments) as the image does: chrooted into
# the image root as its user when we are root, else directly from the image root. It execs:
# call it only in a subshell, `$(in_image ...)` or `in_image ... &` (whose `$!` is then
# weft's own PID, to kill).
in_image() {
    local exe=$1 chroot_bin
    shift
    if [ "$(id -u)" = 0 ] && chroot_bin=$(command -v chroot); then
        exec env -i WEFT_HOME=/var/lib/weft "$chroot_bin" --userspec="$UID_GID:$UID_GID" "$root" "$exe" "$@"
    fi
    exec env -i WEFT_HOME="$root/var/lib/weft" "$root$exe" "$@"
}

version=$(in_image /weft --version) || die "the binary does not run: /weft --version failed"
say "runs: $version"

# `weft serve` in the image root, on a port of its choosing, until GET /api/health answers.
if [ "$(id -u)" = 0 ]; then
    chown "$UID_GID:$UID_GID" "$root/var/lib/weft"
fi
log=$(mktemp)
in_image /weft serve --listen 127.0.0.1:0 >"$log" 2>&1 &
serve_pid=$!
stop_serve() {
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    rm -f "$log"
}
trap stop_serve EXIT
addr=
for _ in $(seq 1 100); do
    addr=$(sed -n 's|.*listening on http://\([0-9.:]*\).*|\1|p' "$log" | head -n 1)
    [ -n "$addr" ] && break
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$addr" ]; then
    cat "$log" >&2
    die "weft serve did not start in the image root"
fi
health=$(
    exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}"
    printf 'GET /api/health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$addr" >&3
    cat <&3
)
case $health in
    "HTTP/1.1 200"*) say "serves: GET http://$addr/api/health -> ${health##*$'\n'}" ;;
    *) cat "$log" >&2; die "GET /api/health did not answer 200: ${health%%$'\r'*}" ;;
esac
stop_serve
trap - EXIT
# Leave the image root as the Dockerfile copies it: an empty $WEFT_HOME.
rm -rf "${root:?}/var/lib/weft"
mkdir -p "$root/var/lib/weft"

# --- size -------------------------------------------------------------------------------

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
binary_bytes=$(stat -c %s "$root/weft")
ca_bytes=$(stat -c %s "$root/etc/ssl/certs/ca-certificates.crt")
image_bytes=$(find "$root" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
say "binary $binary_bytes bytes ($(mb "$binary_bytes")), CA bundle $ca_bytes bytes," \
    "image $image_bytes bytes ($(mb "$image_bytes")); limit $(mb "$max_bytes")"
if [ "$image_bytes" -gt "$max_bytes" ]; then
    say "the image is over the limit; the largest sections of the binary:"
    if command -v size >/dev/null 2>&1; then
        size -A "$binary" | grep "^\." | sort -k2 -n -r | head -n 8 >&2
    fi
    exit 1
fi
say "ok: $binary (image root: $root)"
