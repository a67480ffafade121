#!/usr/bin/env bash
# CMS throughput (BENCHMARKS.md, "CMS signatures and envelopes"): `yinxin cms bench` (attached
# SignedData sign/verify, envelope seal/open, 1 KB and 10 MB, SM2 / RSA-2048 / P-256) beside
# `openssl cms` on the same payloads, one process per operation as a script or CGI would call
# it, and `openssl speed` for the primitives that bound the 10 MB rows.
# Usage: scripts/bench-cms.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-2}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p yinxin-cli
bin="$target/release/yinxin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "# $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# $(openssl version); load average before: $(cut -d" " -f1-3 /proc/loadavg)"
echo
echo "## yinxin cms bench --seconds $secs (in process, one thread)"
"$bin" cms bench --seconds "$secs"
echo

# OpenSSL: a root and a signer/recipient per key type, then N runs of each command.
cd "$work"
head -c 1024 /dev/urandom > 1KB
head -c $((10 * 1024 * 1024)) /dev/urandom > 10MB
for alg in rsa ec; do
    case $alg in
        rsa) newkey=(-newkey rsa:2048) ;;
        ec) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
    esac
    openssl req -x509 -nodes -days 2 "${newkey[@]}" -keyout "$alg-root.key" -out "$alg-root.pem" -subj /CN=root 2>/dev/null
    openssl req -new -nodes "${newkey[@]}" -keyout "$alg.key" -out "$alg.csr" -subj /CN=leaf 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment,keyAgreement\n' > ext.cnf
    openssl x509 -req -in "$alg.csr" -CA "$alg-root.pem" -CAkey "$alg-root.key" -set_serial 2 -days 2 -extfile ext.cnf -out "$alg.pem" 2>/dev/null
done

# Operations per second of `$@` run N times (one process each).
per_second() {
    local n=$1; shift
    local start end
    start=$(date +%s.%N)
    for _ in $(seq "$n"); do "$@" >/dev/null 2>&1; done
    end=$(date +%s.%N)
    echo "$n / ($end - $start)" | bc -l
}

echo "## openssl cms, one process per operation (operations/s; MB/s for 10MB)"
printf '%-10s %6s %12s %12s %12s %12s\n' key size sign verify encrypt decrypt
for alg in rsa ec; do
    for size in 1KB 10MB; do
        n=40; [ "$size" = 10MB ] && n=5
        openssl cms -sign -binary -nodetach -in "$size" -signer "$alg.pem" -inkey "$alg.key" -outform DER -out s.der
        openssl cms -encrypt -binary -aes-256-gcm -in "$size" -outform DER -out e.der "$alg.pem"
        sign=$(per_second $n openssl cms -sign -binary -nodetach -in "$size" -signer "$alg.pem" -inkey "$alg.key" -outform DER -out s2.der)
        verify=$(per_second $n openssl cms -verify -binary -inform DER -in s.der -CAfile "$alg-root.pem" -purpose any -out /dev/null)
        encrypt=$(per_second $n openssl cms -encrypt -binary -aes-256-gcm -in "$size" -outform DER -out e2.der "$alg.pem")
        decrypt=$(per_second $n openssl cms -decrypt -inform DER -in e.der -inkey "$alg.key" -recip "$alg.pem" -out /dev/null)
        if [ "$size" = 10MB ]; then
            f() { printf '%.1f MB/s' "$(echo "$1 * 10.48576" | bc -l)"; }
        else
            f() { printf '%.0f' "$1"; }
        fi
        printf '%-10s %6s %12s %12s %12s %12s\n' "$alg" "$size" "$(f "$sign")" "$(f "$verify")" "$(f "$encrypt")" "$(f "$decrypt")"
    done
done
echo
echo "## openssl speed (the primitives under the 10 MB rows)"
for evp in sha256 sm3 aes-256-gcm sm4-cbc; do
    openssl speed -seconds "$secs" -bytes 16384 -evp "$evp" 2>/dev/null | tail -1
done
