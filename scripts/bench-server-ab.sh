#!/usr/bin/env bash
# Two builds of yinxin side by side (BENCHMARKS.md, "Issue 12 hardening"): for each binary in
# turn, `bench-server` with the authority in process, then against its own `yinxin serve` on
# 127.0.0.1 over HTTP. Everything stays on this machine and stops by itself.
# Usage: scripts/bench-server-ab.sh BEFORE_BINARY AFTER_BINARY [SECONDS] [CONCURRENCY] [WHAT…]
#   e.g. git worktree add /tmp/before COMMIT && (cd /tmp/before && cargo build --release -p yinxin-cli)
#   (a separate target directory per checkout: path crates of two checkouts share names)
set -euo pipefail
before="$1"; after="$2"; secs="${3:-5}"; conc="${4:-32}"; shift 4 2>/dev/null || shift $#
what=("$@")
for pair in "before:$before" "after:$after"; do
    label="${pair%%:*}"; bin="${pair#*:}"
    echo "=== $label ($bin): in process"
    "$bin" bench-server --seconds "$secs" --concurrency "$conc" "${what[@]}"
    data="$(mktemp -d)"; log="$(mktemp)"
    "$bin" serve --data "$data" --listen 127.0.0.1:0 >"$log" 2>&1 &
    server=$!
    url=""
    for _ in $(seq 1 600); do
        url="$(sed -n 's/^yinxin: serving on \(http:[^ ]*\).*/\1/p' "$log" | head -n1)"
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || { cat "$log" >&2; kill "$server"; exit 1; }
    echo "=== $label: over HTTP ($url)"
    "$bin" bench-server --server "$url" --token-file "$data/admin-token.txt" \
        --seconds "$secs" --concurrency "$conc" "${what[@]}"
    kill "$server"; wait "$server" 2>/dev/null || true
    rm -rf "$data" "$log"
done
