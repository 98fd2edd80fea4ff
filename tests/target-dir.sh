# shellcheck shell=bash
# The cargo target directory of the test scripts, kept OUTSIDE the clone so that a second
# run on the same machine (a new clone of the same commit, say) compiles only what changed.
# Meant to be SOURCED from the repository root, first thing, by a script that gives its own
# path (relative to the root) and arguments (tests/all.sh and deploy/check.sh do):
#
#   source tests/target-dir.sh tests/all.sh "$@"     # exports CARGO_TARGET_DIR
#
# - CARGO_TARGET_DIR set by the caller (not empty): used as it is; nothing below is done
#   to it or to the sources (WEFT_TARGET_DIR_OWNED=0).
# - Else CARGO_TARGET_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/weft/target-KEY, where KEY is the
#   first 16 hex digits of the SHA-256 of `rustc -vV` (version, commit, host, LLVM): a new
#   toolchain can reuse nothing the old one built, so it gets a directory of its own. The
#   key is NOT Cargo.lock: cargo's own fingerprints rebuild what a change of the lock
#   changes and keep the rest (a key on the lock would leave a directory of several GB
#   behind at each change). WEFT_TARGET_DIR_OWNED=1 is exported, and:
#   - one run at a time: the script is run again under `flock -o` on
#     ${XDG_CACHE_HOME:-$HOME/.cache}/weft/.lock (a second run on the machine waits for
#     the first, instead of building into the directory the first one is testing from).
#     flock holds the lock itself and the script's processes do not inherit it, so a
#     process the run leaves behind cannot keep the next run waiting;
#   - weft_target_guard: when ${XDG_CACHE_HOME:-$HOME/.cache}/weft is over
#     WEFT_CACHE_MAX_GIB (default 20) GiB, the other toolchains' target-* directories are
#     removed, then, if it is still over, this one (the build then starts from nothing);
#     each removal is printed;
#   - weft_source_times_restore and weft_source_times_record (below).
# Everything the scripts build goes under it: the host build (release/), the guests
# (wasm/), the image's static binary (musl/: deploy/musl.sh) and deploy/check.sh's tools
# (deploy-tools/).
# Works under `set -euo pipefail`; returns non-zero (never exits the shell) on failure.

_weft_target_say() { printf 'target-dir.sh: %s\n' "$*" >&2; }

# KiB used by directory $1 (0 when it is not there).
_weft_target_kib() {
    local kib
    kib=$(du -sk -- "$1" 2>/dev/null | cut -f1) || true
    printf '%s\n' "${kib:-0}"
}

_weft_target_gib() { awk -v k="$1" 'BEGIN { printf "%.1f GiB", k / 1048576 }'; }

_weft_target_dir() {
    local script=$1 cache key lock
    shift
    if [ -n "${CARGO_TARGET_DIR:-}" ]; then
        export CARGO_TARGET_DIR WEFT_TARGET_DIR_OWNED=0
        _weft_target_say "CARGO_TARGET_DIR=$CARGO_TARGET_DIR (the caller's: used as it is)"
        return 0
    fi
    cache=${XDG_CACHE_HOME:-${HOME:?}/.cache}/weft
    key=$(rustc -vV | sha256sum | cut -c1-16) || key=
    if [ -z "$key" ]; then
        _weft_target_say "rustc -vV failed: no toolchain to key the build cache on"
        return 1
    fi
    mkdir -p "$cache" || return 1
    lock=$cache/.lock
    if [ "${WEFT_TARGET_LOCK:-}" != "$lock" ] && command -v flock >/dev/null 2>&1; then
        if ! flock -n "$lock" true; then
            _weft_target_say "another run holds $lock (it uses the build cache): waiting for it to end"
        fi
        # The lock is held by flock for as long as the script runs.
        exec env WEFT_TARGET_LOCK="$lock" flock -o "$lock" "$BASH" "$script" "$@"
    fi
    [ -n "${WEFT_TARGET_LOCK:-}" ] || _weft_target_say "flock not found: runs on this machine are not kept apart"
    export CARGO_TARGET_DIR=$cache/target-$key WEFT_TARGET_DIR_OWNED=1 WEFT_CACHE_DIR=$cache
    _weft_target_say "CARGO_TARGET_DIR=$CARGO_TARGET_DIR (the build cache, keyed by \`rustc -vV\`: kept between runs)"
}

# The disk guard (the default directory only): see above.
weft_target_guard() {
    [ "${WEFT_TARGET_DIR_OWNED:-0}" = 1 ] || return 0
    local cache=$WEFT_CACHE_DIR mine=$CARGO_TARGET_DIR max_gib=${WEFT_CACHE_MAX_GIB:-20} max_kib kib dir
    case $max_gib in
        '' | *[!0-9]*) _weft_target_say "WEFT_CACHE_MAX_GIB is not a whole number: $max_gib"; return 1 ;;
    esac
    max_kib=$((max_gib * 1024 * 1024))
    kib=$(_weft_target_kib "$cache")
    if [ "$kib" -le "$max_kib" ]; then
        _weft_target_say "$cache holds $(_weft_target_gib "$kib") (limit: WEFT_CACHE_MAX_GIB=$max_gib)"
    else
        _weft_target_say "$cache holds $(_weft_target_gib "$kib"), over WEFT_CACHE_MAX_GIB=$max_gib"
        for dir in "$cache"/target-*; do
            if [ ! -d "$dir" ] || [ "$dir" = "$mine" ]; then continue; fi
            _weft_target_say "removing $dir (another toolchain's build)"
            rm -rf -- "$dir" || return 1
        done
        kib=$(_weft_target_kib "$cache")
        if [ "$kib" -gt "$max_kib" ]; then
            _weft_target_say "still $(_weft_target_gib "$kib"): removing $mine: this build starts from nothing"
            rm -rf -- "$mine" || return 1
        fi
    fi
    mkdir -p "$mine"
}

# --- file times of the sources ----------------------------------------------------------
#
# Cargo decides whether a crate of the workspace must be compiled again by comparing the
# modification times of its source files with those of what it built. A new clone's files
# are all newer than anything built before it: with nothing more, every crate of the
# workspace (and the image's binary, with its whole LTO link) would be compiled again on
# every run, changed or not. So:
# - weft_source_times_record (at the end of a run, whatever its outcome) writes
#   $CARGO_TARGET_DIR/weft-source-times: the clone's directory, and each tracked file's
#   modification time and content (the git blob hash of the file in the work tree).
# - weft_source_times_restore (before anything is built) gives each tracked file whose
#   content is the recorded one the time it had then (to the nanosecond), and every other
#   tracked file the current time (newer than anything built: cargo rebuilds what it goes
#   into). For cargo the clone is then as the last run
#   left its own: the build is as incremental as a second run in one checkout.
#   It gives EVERY tracked file the current time (the workspace's crates are all built
#   again; dependencies are still reused) when there is no record, or the record was made
#   in another directory (the absolute path a crate reads with env!("CARGO_MANIFEST_DIR")
#   is not part of cargo's fingerprints: rust-lang/cargo#8693), or anything was built in
#   the directory after the record was written (by something else than tests/all.sh: it
#   may have been built from other sources).
# Only for the default directory (WEFT_TARGET_DIR_OWNED=1); WEFT_SOURCE_TIMES=0 turns it
# off (the clone's own times are kept: every crate of the workspace is rebuilt).

_weft_source_times_on() {
    [ "${WEFT_TARGET_DIR_OWNED:-0}" = 1 ] && [ "${WEFT_SOURCE_TIMES:-1}" != 0 ] \
        && git rev-parse --is-inside-work-tree >/dev/null 2>&1
}

# The tracked regular files (not links, not submodules) that exist, one per line.
_weft_source_files() {
    local f
    git -c core.quotePath=false ls-files -s \
        | awk -F'\t' '{ split($1, m, " ") } m[1] == "100644" || m[1] == "100755" { print $2 }' \
        | while IFS= read -r f; do
            if [ -f "$f" ] && [ ! -L "$f" ]; then printf '%s\n' "$f"; fi
        done
}

# "HASH<TAB>PATH" for each of the files given one per line on stdin.
_weft_source_hashes() {
    local files
    files=$(cat)
    [ -n "$files" ] || return 0
    paste <(printf '%s\n' "$files" | git hash-object --stdin-paths) <(printf '%s\n' "$files")
}

weft_source_times_record() {
    _weft_source_times_on || return 0
    local record=$CARGO_TARGET_DIR/weft-source-times tmp files n
    tmp=$record.$$
    files=$(_weft_source_files) || return 1
    n=$(printf '%s\n' "$files" | grep -c .) || true
    [ "$n" -gt 0 ] || return 0
    {
        printf 'root %s\n' "$(pwd -P)"
        paste <(printf '%s\n' "$files" | tr '\n' '\0' | xargs -0 stat -c %.9Y --) \
            <(printf '%s\n' "$files" | _weft_source_hashes)
    } >"$tmp" 2>/dev/null || true
    # Every file with its time and hash, or no record at all (a file that went away while
    # it was read would shift the columns).
    if [ "$(awk -F'\t' 'NR > 1 && NF == 3 && $1 ~ /^[0-9]+\.[0-9]+$/ && $2 ~ /^[0-9a-f]+$/' "$tmp" | wc -l)" -eq "$n" ]; then
        mv -f -- "$tmp" "$record"
        _weft_target_say "recorded the times and contents of $n source files in $record"
    else
        rm -f -- "$tmp" "$record"
        _weft_target_say "could not record the source files' times: the next run rebuilds the workspace's crates"
    fi
}

weft_source_times_restore() {
    if ! _weft_source_times_on; then
        _weft_target_say "source file times: left as they are"
        return 0
    fi
    local record=$CARGO_TARGET_DIR/weft-source-times current why='' t f last='' same=0 n
    local -a batch=()
    current=$(_weft_source_files | _weft_source_hashes) || return 1
    n=$(printf '%s\n' "$current" | grep -c .) || true
    if [ ! -f "$record" ]; then
        why="no record of an earlier run"
    elif [ "$(head -n 1 "$record")" != "root $(pwd -P)" ]; then
        why="the last run was in another directory ($(head -n 1 "$record" | cut -c6-))"
    elif [ -n "$(find "$CARGO_TARGET_DIR" \( -name deps -o -name build -o -name incremental \) -prune \
        -o -path '*/.fingerprint/*' -newer "$record" -print -quit 2>/dev/null)" ]; then
        why="something was built in $CARGO_TARGET_DIR after the last run's record"
    fi
    if [ -n "$why" ]; then
        rm -f -- "$record"
        printf '%s\n' "$current" | cut -f2- | tr '\n' '\0' | xargs -0 -r touch -m -- || return 1
        _weft_target_say "source file times: $why; all $n tracked files get the current time (the workspace's crates are built again)"
        return 0
    fi
    # The files changed or new since the record: now.
    awk -F'\t' 'NR == FNR { if (FNR > 1) hash[$3] = $2; next }
                !(($2 in hash) && hash[$2] == $1) { print $2 }' "$record" - <<<"$current" \
        | tr '\n' '\0' | xargs -0 -r touch -m -- || return 1
    # The unchanged ones, in order of their recorded time: one `touch` per time.
    while IFS=$'\t' read -r t f; do
        if [ "$t" != "$last" ] && [ "${#batch[@]}" -gt 0 ]; then
            touch -m -d "@$last" -- "${batch[@]}" || return 1
            batch=()
        fi
        last=$t
        batch+=("$f")
        same=$((same + 1))
    done < <(
        awk -F'\t' 'NR == FNR { if (FNR > 1) { time[$3] = $1; hash[$3] = $2 } next }
                    ($2 in hash) && hash[$2] == $1 { print time[$2] "\t" $2 }' "$record" - <<<"$current" \
            | sort -t "$(printf '\t')" -k1,1n
    )
    if [ "${#batch[@]}" -gt 0 ]; then
        touch -m -d "@$last" -- "${batch[@]}" || return 1
    fi
    _weft_target_say "source file times: $same of $n tracked files are as the last run left them and get its times back; the $((n - same)) others get the current time (cargo rebuilds what they go into)"
}

_weft_target_dir "$@"
