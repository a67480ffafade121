#!/usr/bin/env bash
# Measure yinxin and OpenSSL side by side in one run on this machine (BENCHMARKS.md).
# Usage: scripts/bench-vs-openssl.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-3}"
cargo build --release -q --bin yinxin
echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $(openssl version)"
echo
echo "## openssl speed -seconds $secs sm2 rsa2048 ecdsap256 sha256  +  openssl speed -seconds $secs -evp sm3"
openssl speed -seconds "$secs" sm2 rsa2048 ecdsap256 sha256 2>/dev/null | grep -vE '^(Doing|\+)' | sed -n '/^The .numbers/,$p'
openssl speed -seconds "$secs" -evp sm3 2>/dev/null | grep -E '^(type|sm3)'
echo
echo "## target/release/yinxin bench --seconds $secs sm2 rsa2048 ecdsap256 sha256 sm3"
./target/release/yinxin bench --seconds "$secs" sm2 rsa2048 ecdsap256 sha256 sm3
