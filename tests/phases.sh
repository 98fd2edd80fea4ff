# shellcheck shell=bash
# The phases of tests/all.sh and their wall times, and the one job it runs in the
# background. Meant to be SOURCED (by tests/all.sh):
#
#   step LABEL DESCRIPTION    ends the phase in progress (printing its time) and starts one
#   background LABEL CMD...   starts CMD beside the phases, at the lowest CPU and I/O
#                             priority, its output in $CARGO_TARGET_DIR/LABEL.log
#   await                     waits for it; prints its time (from its start) and, when it
#                             failed, the end of its log; returns its status
#   phases_report STATUS      ends the phase in progress (failed unless STATUS is 0), stops
#                             the background job if it still runs, and prints the table of
#                             times with the total (call it from the EXIT trap)

phase='' phase_started=0
phase_names=() phase_secs=() phase_notes=()
bg_label='' bg_pid='' bg_started=0 bg_log=''

minutes() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

_phase_add() {
    phase_names+=("$1") phase_secs+=("$2") phase_notes+=("$3")
    printf '<== %s: %s%s\n' "$1" "$(minutes "$2")" "${3:+  $3}"
}

# Ends the phase in progress, if any; $1 is its exit status (0: it passed).
_phase_end() {
    [ -n "$phase" ] || return 0
    local note=
    [ "${1:-0}" = 0 ] || note="FAILED (exit $1)"
    _phase_add "$phase" $((SECONDS - phase_started)) "$note"
    phase=
}

step() {
    _phase_end 0
    phase=$1 phase_started=$SECONDS
    printf '\n==> %s\n' "$2"
}

background() {
    bg_label=$1 bg_started=$SECONDS bg_log=$CARGO_TARGET_DIR/${1// /-}.log
    shift
    mkdir -p "$CARGO_TARGET_DIR"
    local -a low=(nice -n 19)
    if command -v ionice >/dev/null 2>&1; then low+=(ionice -c 3); fi
    # A process group of its own (job control for this one command), so that it can be
    # stopped as a whole (cargo, rustc, the linker) if the run ends first; but the run's own
    # session: with the kernel's autogroups (sched_autogroup_enabled) a new session (setsid)
    # would be a scheduling group of its own, given an equal share of the CPU whatever its nice.
    set -m
    "${low[@]}" "$@" >"$bg_log" 2>&1 </dev/null &
    bg_pid=$!
    set +m
    printf '    started in the background at the lowest priority: %s (log: %s)\n' "$*" "$bg_log"
}

await() {
    [ -n "$bg_pid" ] || return 0
    local rc=0
    wait "$bg_pid" || rc=$?
    bg_pid=''
    _phase_add "$bg_label (background)" $((SECONDS - bg_started)) \
        "$([ "$rc" = 0 ] || echo "FAILED (exit $rc)")"
    if [ "$rc" != 0 ]; then
        printf '    the end of %s:\n' "$bg_log"
        tail -n 40 "$bg_log" | sed 's/^/    /'
    fi
    return "$rc"
}

phases_report() {
    local rc=$1 i
    _phase_end "$rc"
    if [ -n "$bg_pid" ]; then
        kill -TERM -- "-$bg_pid" 2>/dev/null || true
        wait "$bg_pid" 2>/dev/null || true
        _phase_add "$bg_label (background)" $((SECONDS - bg_started)) "stopped: the run ended first"
        bg_pid=''
    fi
    printf '\n==> wall time of each phase\n'
    for i in "${!phase_names[@]}"; do
        printf '    %-30s %8s%s\n' "${phase_names[$i]}" "$(minutes "${phase_secs[$i]}")" \
            "${phase_notes[$i]:+  ${phase_notes[$i]}}"
    done
    printf '    %-30s %8s%s\n' "total" "$(minutes "$SECONDS")" \
        "$([ "$rc" = 0 ] || echo "  FAILED (exit $rc)")"
}
