#!/usr/bin/env bash
# Issuance and OCSP throughput (BENCHMARKS.md, "Server: issuance and OCSP"): the authority in
# process and a `yinxin serve` on 127.0.0.1 over HTTP, each beside the raw signing rate of the
# same key type, then `openssl speed` for the same key types. Everything stays on this machine
# and stops by itself.
# Usage: scripts/bench-server.sh [SECONDS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
conc="${2:-32}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p yinxin-cli
bin="$target/release/yinxin"

data="$(mktemp -d)"
log="$(mktemp)"
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$data" "$log"
}
trap cleanup EXIT

echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $(openssl version); load average before: $(cut -d" " -f1-3 /proc/loadavg)"
echo

echo "## $bin bench-server --seconds $secs --concurrency $conc   (in-process authority)"
"$bin" bench-server --seconds "$secs" --concurrency "$conc"
echo

"$bin" serve --data "$data" --listen 127.0.0.1:0 >"$log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 600); do
    url="$(sed -n 's/^yinxin: serving on \(http:[^ ]*\).*/\1/p' "$log" | head -n1)"
    [ -n "$url" ] && break
    if ! kill -0 "$server" 2>/dev/null; then
        cat "$log" >&2
        echo "yinxin serve stopped before serving" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$url" ]; then
    cat "$log" >&2
    echo "yinxin serve did not start within 60 s" >&2
    exit 1
fi

echo "## $bin bench-server --server $url --token-file DATA/admin-token.txt --seconds $secs --concurrency $conc"
"$bin" bench-server --server "$url" --token-file "$data/admin-token.txt" \
    --seconds "$secs" --concurrency "$conc"
echo

kill "$server"
wait "$server" 2>/dev/null || true
server=""

echo "## openssl speed -seconds 3 sm2 rsa2048   (single thread)"
openssl speed -seconds 3 sm2 rsa2048 2>/dev/null | grep -E '^ *(rsa 2048|256 bits SM2)|sign/s'
echo "## openssl speed -seconds 3 -multi $(nproc) sm2 rsa2048"
openssl speed -seconds 3 -multi "$(nproc)" sm2 rsa2048 2>/dev/null | grep -E '^ *(rsa 2048|256 bits SM2)|sign/s|^(rsa|sm2)'
