#!/usr/bin/env bash
# Builds the Kubernetes control plane of the tests (kube-apiserver, kube-controller-manager,
# kube-scheduler) from k8s.io/kubernetes on the Go module proxy, once per machine, and prints
# the directory of the binaries: ${WEFT_K8S_CACHE:-$XDG_CACHE_HOME/weft/k8s}/<version>/bin.
# tests/k8s/cluster.sh runs it; tests/all.sh runs it early, in the background, so that the
# first build (about 5 minutes on 2 cores) overlaps the Rust build.
#
# WEFT_K8S_VERSION (v1.34.2 by default) picks the version; its 29 staging modules
# (k8s.io/api, k8s.io/apiserver, ...: every v0.0.0 requirement of its go.mod) are replaced
# by their published v0.x.y.
set -euo pipefail

WEFT_K8S_VERSION=${WEFT_K8S_VERSION:-v1.34.2}

# Builds (or finds) the control-plane binaries of WEFT_K8S_VERSION; prints their directory.
_weft_k8s_binaries() {
    local version=$WEFT_K8S_VERSION
    local staging="v0.${version#v1.}"
    local root="${WEFT_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weft/k8s}/$version"
    local bin="$root/bin"
    if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ] &&
        [ -x "$bin/kube-scheduler" ]; then
        printf '%s\n' "$bin"
        return 0
    fi
    local src="$root/src.$$"
    rm -rf "$src" && mkdir -p "$src" || return 1
    (
        set -e
        cd "$src"
        go mod init weft.invalid/control-plane >/dev/null 2>&1
        go mod edit -require="k8s.io/kubernetes@$version"
        local mod
        mod=$(go mod download -json "k8s.io/kubernetes@$version" |
            sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
        # Every k8s.io module it requires at v0.0.0 is one of its staging modules.
        awk '$2 == "v0.0.0" && $1 ~ /^k8s\.io\// { print $1 }' "$mod" | sort -u |
            while read -r m; do go mod edit -replace="$m=$m@$staging"; done
        cat >tools.go <<'EOF'
//go:build tools

// Package tools names what this module builds: the control plane's commands.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
)
EOF
        go mod tidy
        mkdir -p out
        go build -trimpath -ldflags="-s -w" -o out/ k8s.io/kubernetes/cmd/kube-apiserver \
            k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
    ) >&2 || { rm -rf "$src"; return 1; }
    rm -rf "$bin" && mv "$src/out" "$bin" && rm -rf "$src" || return 1
    printf '%s\n' "$bin"
}

_weft_k8s_binaries
