# A throwaway S3-compatible server (moto's) for the tests. Meant to be SOURCED (tests/all.sh
# does `source tests/s3.sh`), not run: it starts a server and exports its endpoint into the
# sourcing shell, and stops it when that shell exits.
#
#   source tests/s3.sh     # then: cargo test -p weft-objstore
#
# - installs moto's server from PyPI (`python3 -m pip install 'moto[server]==5.2.5'`) unless
#   that version is already importable;
# - starts it on 127.0.0.1 at the first free port from 45120 (WEFT_S3_PORT to choose), in a
#   new temp dir (its working directory and log; moto keeps buckets in memory);
# - waits until it answers, and creates nothing: each test makes its own bucket;
# - exports WEFT_TEST_S3_ENDPOINT=http://127.0.0.1:PORT, and AWS_ACCESS_KEY_ID and
#   AWS_SECRET_ACCESS_KEY set to test values (moto accepts any), replacing any the shell had;
# - registers an EXIT trap (added to any the shell had) that stops the server and removes
#   the temp dir.
# Sourcing it again in the same shell while its server runs does nothing but say so.
# Works under `set -euo pipefail`; returns non-zero (never exits the shell) on failure.

_WEFT_S3_MOTO_VERSION=5.2.5

_weft_s3_port_free() {
    # Something answering on the port means it is taken.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_weft_s3_answers() {
    # Any HTTP answer from the server's root (moto lists the buckets there) will do.
    python3 - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[1] + "/", timeout=2).read()
except urllib.error.HTTPError:
    pass
EOF
}

_weft_s3_moto_installed() {
    python3 - "$_WEFT_S3_MOTO_VERSION" <<'EOF' >/dev/null 2>&1
import sys, importlib.metadata
assert importlib.metadata.version("moto") == sys.argv[1]
import moto.server  # the [server] extra: flask, flask-cors
EOF
}

_weft_s3_stop() {
    if [ -n "${WEFT_S3_PID:-}" ]; then
        kill "$WEFT_S3_PID" 2>/dev/null || true
        local i
        for i in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$WEFT_S3_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$WEFT_S3_PID" 2>/dev/null || true
    fi
    if [ -n "${WEFT_S3_DIR:-}" ] && [ -d "$WEFT_S3_DIR" ]; then
        rm -rf "$WEFT_S3_DIR"
    fi
    unset WEFT_S3_DIR WEFT_S3_PID WEFT_S3_PORT_USED WEFT_TEST_S3_ENDPOINT
}

_weft_s3_start() {
    local dir port pid previous_trap i

    # Already started by this shell and still answering: keep it.
    if [ -n "${WEFT_S3_PID:-}" ] && [ -n "${WEFT_TEST_S3_ENDPOINT:-}" ] \
        && kill -0 "$WEFT_S3_PID" 2>/dev/null && _weft_s3_answers "$WEFT_TEST_S3_ENDPOINT"; then
        echo "s3.sh: moto already running for this shell: $WEFT_TEST_S3_ENDPOINT" >&2
        return 0
    fi
    # A server of an earlier sourcing that died: clear what is left of it.
    if [ -n "${WEFT_S3_PID:-}" ] || [ -n "${WEFT_S3_DIR:-}" ]; then
        _weft_s3_stop
    fi

    if ! command -v python3 >/dev/null 2>&1; then
        echo "s3.sh: python3 is needed (moto's server is a Python program)" >&2
        return 1
    fi
    if ! _weft_s3_moto_installed; then
        echo "s3.sh: installing moto's server (pip install 'moto[server]==$_WEFT_S3_MOTO_VERSION')" >&2
        PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
            "moto[server]==$_WEFT_S3_MOTO_VERSION" >&2 || return 1
        _weft_s3_moto_installed || {
            echo "s3.sh: moto $_WEFT_S3_MOTO_VERSION installed but python3 cannot import moto.server" >&2
            return 1
        }
    fi

    dir=$(mktemp -d "${TMPDIR:-/tmp}/weft-s3.XXXXXX") || return 1

    port=${WEFT_S3_PORT:-45120}
    while ! _weft_s3_port_free "$port"; do
        port=$((port + 1))
        if [ "$port" -gt $(( ${WEFT_S3_PORT:-45120} + 100 )) ]; then
            echo "s3.sh: no free port from ${WEFT_S3_PORT:-45120}" >&2
            rm -rf "$dir"
            return 1
        fi
    done

    # `exec` so that $! is the server itself, which the trap stops.
    (cd "$dir" && exec python3 -m moto.server -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1) &
    pid=$!

    i=0
    until _weft_s3_answers "http://127.0.0.1:$port"; do
        i=$((i + 1))
        if ! kill -0 "$pid" 2>/dev/null || [ "$i" -gt 150 ]; then
            echo "s3.sh: moto's server did not start on 127.0.0.1:$port:" >&2
            cat "$dir/server.log" >&2
            kill "$pid" 2>/dev/null || true
            rm -rf "$dir"
            return 1
        fi
        sleep 0.2
    done

    export WEFT_S3_DIR="$dir" WEFT_S3_PID="$pid" WEFT_S3_PORT_USED="$port"
    export WEFT_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
    export AWS_ACCESS_KEY_ID=weft-test AWS_SECRET_ACCESS_KEY=weft-test-secret

    # Stop the server when the shell exits, after whatever the shell already did then.
    previous_trap=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
    case "$previous_trap" in
        *_weft_s3_stop*) ;;
        "") trap _weft_s3_stop EXIT ;;
        *)
            # shellcheck disable=SC2064
            trap "$previous_trap; _weft_s3_stop" EXIT
            ;;
    esac
    echo "s3.sh: moto $_WEFT_S3_MOTO_VERSION (S3) on 127.0.0.1:$port (log in $dir); WEFT_TEST_S3_ENDPOINT exported" >&2
}

_weft_s3_start
