# shellcheck shell=bash
# The phases of tests/all.sh and their wall times, and the one job it runs in the
# background. Meant to be SOURCED (by tests/all.sh):
#
#   step LABEL DESCRIPTION    ends the phase in progress (printing its time) and starts one
#   background LABEL CMD...   starts CMD beside the phases, in a session of its own (an
#                             equal share of the CPU), its output in $CARGO_TARGET_DIR/LABEL.log
#   await                     waits for it; prints how long it took (from its start to its
#                             own end) and, when it failed, the end of its log; returns its
#                             status
#   phases_report STATUS      ends the phase in progress (failed unless STATUS is 0), stops
#                             the background job if it still runs (else reports it as
#                             `await` does), and prints the table of
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
    bg_label=$1 bg_started=$(date +%s) bg_log=$CARGO_TARGET_DIR/${1// /-}.log
    shift
    mkdir -p "$CARGO_TARGET_DIR"
    # A session of its own (setsid), so that it can be stopped as a whole (cargo, rustc, the
    # linker) if the run ends first. With the kernel's autogroups (Linux's default,
    # /proc/sys/kernel/sched_autogroup_enabled) a session is a scheduling group of its own:
    # when both want the CPU, it and the rest of the run get half each, whatever the nice
    # values. That is what a cold run wants (measured on 2 cores: the image's build then ends
    # before the host build, and nothing waits for it at the end; at nice 19 in the run's own
    # session it only had the scraps, its single-threaded link came last, and the whole run
    # took a minute longer: 35m03s against 33m58s).
    # Its end is written down when it comes (the time reported is its own, not the wait's).
    local end=$bg_log.end
    rm -f -- "$end"
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's: the file, then the command
    setsid sh -c '"$@"; rc=$?; date +%s >"$0"; exit $rc' "$end" "$@" >"$bg_log" 2>&1 </dev/null &
    bg_pid=$!
    printf '    started in the background (its own session, an equal share of the CPU): %s (log: %s)\n' "$*" "$bg_log"
}

await() {
    [ -n "$bg_pid" ] || return 0
    local rc=0
    wait "$bg_pid" || rc=$?
    bg_pid=''
    local ended
    ended=$(cat -- "$bg_log.end" 2>/dev/null) || ended=$(date +%s)
    _phase_add "$bg_label (background)" $((ended - bg_started)) \
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
    if [ -n "$bg_pid" ] && [ -f "$bg_log.end" ]; then
        await || true
    fi
    if [ -n "$bg_pid" ]; then
        kill -TERM -- "-$bg_pid" 2>/dev/null || true
        wait "$bg_pid" 2>/dev/null || true
        _phase_add "$bg_label (background)" $(($(date +%s) - bg_started)) "stopped: the run ended first"
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
