#!/usr/bin/env bash
# Checks the control plane tests/k8s/cluster.sh starts (source that first) is a real one:
# a valid Job is created (201) and the Job controller makes its Pod; a Job asking for
# `cpu: lots` is refused with the API server's own validation message (400); the `weft`
# user, granted nothing by RBAC yet, may not list Pods (403). Prints what it saw; exits
# non-zero at the first difference.
set -euo pipefail

: "${WEFT_TEST_K8S_URL:?source tests/k8s/cluster.sh first}"
admin="Authorization: Bearer $WEFT_TEST_K8S_ADMIN_TOKEN"
jobs="$WEFT_TEST_K8S_URL/apis/batch/v1/namespaces/default/jobs"

job() {
    printf '{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"%s"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox:1.36","command":["true"],"resources":{"limits":{"cpu":"%s"}}}]}}}}' "$1" "$2"
}

expect() { # what, wanted, got
    if [ "$2" != "$3" ]; then
        echo "smoke.sh: $1: wanted $2, got $3" >&2
        exit 1
    fi
    echo "smoke.sh: $1: $3"
}

post() { # body file -> status; the answer in $answer
    curl -sk -o "$answer" -w '%{http_code}' -H "$admin" -H 'Content-Type: application/json' \
        -X POST "$jobs" -d "$1"
}

answer=$(mktemp)
trap 'rm -f "$answer"' EXIT

expect "a valid Job" 201 "$(post "$(job smoke 100m)")"
expect "a Job asking for cpu: lots" 400 "$(post "$(job lots lots)")"
grep -q 'quantities must match the regular expression' "$answer" ||
    { echo "smoke.sh: the refusal is not the API server's own: $(cat "$answer")" >&2; exit 1; }

pods=0
for _ in $(seq 1 100); do
    pods=$(curl -sk -H "$admin" \
        "$WEFT_TEST_K8S_URL/api/v1/namespaces/default/pods?labelSelector=job-name%3Dsmoke" |
        python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))')
    [ "$pods" -gt 0 ] && break
    sleep 0.2
done
expect "Pods the Job controller made" 1 "$pods"

expect "the weft user listing Pods (no RBAC grant)" 403 "$(curl -sk -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $WEFT_TEST_K8S_WEFT_TOKEN" \
    "$WEFT_TEST_K8S_URL/api/v1/namespaces/default/pods")"
