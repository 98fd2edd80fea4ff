# A throwaway PostgreSQL server for the tests. Meant to be SOURCED (tests/all.sh does
# `source tests/pg.sh`), not run: it starts a server and exports its URL into the sourcing
# shell, and stops it when that shell exits.
#
#   source tests/pg.sh     # then: cargo test --release -p weft-store
#
# - installs Debian's PostgreSQL (`apt-get install -y postgresql`) if initdb/pg_ctl/psql
#   are missing (beside pg_ctl in PATH, then /usr/lib/postgresql/*/bin, the newest);
# - makes a cluster in a new temp dir, owned by the `postgres` user when run as root
#   (PostgreSQL refuses to run as root), C locale, fsync off (its data is thrown away);
# - starts it on 127.0.0.1 at the first free port from 55432 (WEFT_PG_PORT to choose),
#   with its socket in the temp dir, so it touches no system cluster;
# - creates the role `weft` (LOGIN CREATEDB, a random password), and exports
#   WEFT_TEST_POSTGRES_URL=postgres://weft:PASSWORD@127.0.0.1:PORT/postgres;
# - registers an EXIT trap (added to any the shell had) that stops the server and removes
#   the temp dir.
# Sourcing it again in the same shell while its server runs does nothing but say so.
# Works under `set -euo pipefail`; returns non-zero (never exits the shell) on failure.

_weft_pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_weft_pg_bindir() {
    local dir
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        # The directory the binaries really are in (a link in PATH may stand alone).
        dir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
        if [ -x "$dir/initdb" ] && [ -x "$dir/psql" ]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/psql" ]; then
        printf '%s\n' "$dir"
        return 0
    fi
    return 1
}

_weft_pg_port_free() {
    # Something answering on the port means it is taken.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_weft_pg_stop() {
    if [ -n "${WEFT_PG_DIR:-}" ] && [ -d "$WEFT_PG_DIR" ]; then
        _weft_pg_as_owner "$WEFT_PG_BIN/pg_ctl" -D "$WEFT_PG_DIR/data" -m fast -w stop \
            >/dev/null 2>&1 || true
        rm -rf "$WEFT_PG_DIR"
    fi
    unset WEFT_PG_DIR WEFT_PG_BIN WEFT_TEST_POSTGRES_URL
}

_weft_pg_start() {
    local bin dir port password previous_trap

    # Already started by this shell and still running: keep it.
    if [ -n "${WEFT_PG_DIR:-}" ] && [ -n "${WEFT_TEST_POSTGRES_URL:-}" ] \
        && _weft_pg_as_owner "${WEFT_PG_BIN:-}/pg_ctl" -D "$WEFT_PG_DIR/data" status >/dev/null 2>&1; then
        echo "pg.sh: PostgreSQL already running for this shell: ${WEFT_TEST_POSTGRES_URL%%:*}://weft@127.0.0.1:${WEFT_PG_PORT_USED:-?}" >&2
        return 0
    fi

    if ! bin=$(_weft_pg_bindir); then
        echo "pg.sh: installing PostgreSQL (apt-get install -y postgresql)" >&2
        if [ "$(id -u)" != 0 ]; then
            echo "pg.sh: not root: install PostgreSQL first (apt-get install postgresql)" >&2
            return 1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 || return 1
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq postgresql >&2 || return 1
        bin=$(_weft_pg_bindir) || {
            echo "pg.sh: PostgreSQL installed but initdb/pg_ctl not found" >&2
            return 1
        }
    fi

    dir=$(mktemp -d "${TMPDIR:-/tmp}/weft-pg.XXXXXX") || return 1
    chmod 700 "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir" || return 1
    fi

    port=${WEFT_PG_PORT:-55432}
    while ! _weft_pg_port_free "$port"; do
        port=$((port + 1))
        if [ "$port" -gt $(( ${WEFT_PG_PORT:-55432} + 100 )) ]; then
            echo "pg.sh: no free port from ${WEFT_PG_PORT:-55432}" >&2
            rm -rf "$dir"
            return 1
        fi
    done

    # The superuser connects through the socket in $dir only (trust); TCP wants a password.
    if ! _weft_pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1; then
        echo "pg.sh: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        return 1
    fi
    if ! _weft_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null; then
        echo "pg.sh: the server did not start:" >&2
        cat "$dir/server.log" >&2
        rm -rf "$dir"
        return 1
    fi

    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    if ! _weft_pg_as_owner "$bin/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -c "CREATE ROLE weft LOGIN CREATEDB PASSWORD '$password'"; then
        _weft_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$dir"
        return 1
    fi

    export WEFT_PG_DIR="$dir" WEFT_PG_BIN="$bin" WEFT_PG_PORT_USED="$port"
    export WEFT_TEST_POSTGRES_URL="postgres://weft:$password@127.0.0.1:$port/postgres"

    # Stop the server when the shell exits, after whatever the shell already did then.
    previous_trap=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
    if [ -n "$previous_trap" ] && [ "$previous_trap" != "_weft_pg_stop" ]; then
        # shellcheck disable=SC2064
        trap "$previous_trap; _weft_pg_stop" EXIT
    else
        trap _weft_pg_stop EXIT
    fi
    echo "pg.sh: PostgreSQL $("$bin/pg_ctl" --version | sed -n 's/.*(PostgreSQL) \([0-9.]*\).*/\1/p') on 127.0.0.1:$port (data in $dir); WEFT_TEST_POSTGRES_URL exported" >&2
}

_weft_pg_start
