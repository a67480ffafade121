#!/usr/bin/env bash
# Issuance, OCSP and timestamp throughput (BENCHMARKS.md, "Server: issuance and OCSP"): the
# authority in process and a `yinxin serve` on 127.0.0.1 over HTTP, each beside the raw signing
# rate of the same key type, the TSA beside `openssl ts -reply` run per request as a CGI script
# would, then `openssl speed` for the same key types. Everything stays on this machine and
# stops by itself.
# Usage: scripts/bench-server.sh [SECONDS] [CONCURRENCY]
#        (TS_REQUESTS=200 TS_PARALLEL=2 set the openssl ts -reply run)
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

# ---- The time-stamping authority -----------------------------------------------------------
# yinxin's TSA over HTTP (SM2, RSA-2048, ECDSA P-256) beside the raw signing rate of the same key
# type on all cores, then `openssl ts -reply` run the way a small site runs a TSA: one process
# per request with a config file and a key file, as a CGI script would.
ts_n="${TS_REQUESTS:-200}"
ts_par="${TS_PARALLEL:-2}"
echo "## $bin bench-server --server $url tsa-sm2 tsa-rsa tsa-ecdsa --seconds $secs --concurrency $conc --json"
tsa_json="$("$bin" --json bench-server --server "$url" --token-file "$data/admin-token.txt" \
    --seconds "$secs" --concurrency "$conc" tsa-sm2 tsa-rsa tsa-ecdsa)"
echo "$tsa_json"
echo "## the same with $ts_par requests in flight (the openssl runs below have $ts_par processes)"
tsa_json_few="$("$bin" --json bench-server --server "$url" --token-file "$data/admin-token.txt" \
    --seconds "$secs" --concurrency "$ts_par" tsa-sm2 tsa-rsa tsa-ecdsa)"
echo "$tsa_json_few"
echo

# per_s of the JSON line whose "$1" field is "$2" (bench-server prints sorted keys, one object per line).
field() {
    printf '%s\n' "$3" | grep "\"$1\":\"$2\"" | head -n1 | sed -n 's/.*"per_s":\([0-9.e+-]*\).*/\1/p'
}
raw_rate() {
    printf '%s\n' "$2" | grep "\"operation\":\"$1\"" | grep "\"threads\":$(nproc)" | head -n1 |
        sed -n 's/.*"per_s":\([0-9.e+-]*\).*/\1/p'
}

ts_dir="$data/openssl-ts"
mkdir -p "$ts_dir"
head -c 4096 /dev/urandom >"$ts_dir/doc.bin"
openssl_ts() { # KEY: sets ots_rate (requests per second, or n/a)
    local key="$1" dir="$ts_dir/$1" digest=sha256 genkey=() reqopt=()
    mkdir -p "$dir"
    case "$key" in
    rsa) genkey=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
    ecdsa) genkey=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
    sm2) genkey=(-algorithm SM2); digest=sm3; reqopt=(-sm3 -sigopt distid:1234567812345678) ;;
    esac
    ots_rate="n/a"
    openssl genpkey "${genkey[@]}" -out "$dir/tsa.key" 2>/dev/null || return 0
    openssl req -x509 -new -key "$dir/tsa.key" "${reqopt[@]}" -subj "/CN=bench TSA ($key)" -days 30 \
        -addext "extendedKeyUsage=critical,timeStamping" -out "$dir/tsa.crt" 2>/dev/null || return 0
    echo 01 >"$dir/serial"
    cat >"$dir/tsa.cnf" <<CNF
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = $digest
default_policy = 1.3.6.1.4.1.32473.3161.1
other_policies = 1.3.6.1.4.1.32473.3161.2
digests = sha256, sha384, sha512, sm3
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
    openssl ts -query -data "$ts_dir/doc.bin" "-$digest" -cert -out "$dir/q.tsq" 2>/dev/null || return 0
    # OpenSSL 3.0's ts cannot sign with SM2 (PKCS7_SIGNER_INFO_set: "signing not supported for
    # this key type"); the row then says so.
    if ! openssl ts -reply -config "$dir/tsa.cnf" -queryfile "$dir/q.tsq" -out "$dir/check.tsr" 2>/dev/null; then
        ots_rate="cannot sign"
        return 0
    fi
    openssl ts -reply -in "$dir/check.tsr" -text 2>/dev/null | grep -q "Status: Granted" || return 0
    local start end
    start=$(date +%s.%N)
    seq 1 "$ts_n" | xargs -P "$ts_par" -I{} \
        openssl ts -reply -config "$dir/tsa.cnf" -queryfile "$dir/q.tsq" -out "$dir/r{}.tsr" 2>/dev/null
    end=$(date +%s.%N)
    ots_rate=$(awk -v n="$ts_n" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", n / (b - a) }')
}

echo "## TSA summary: timestamps per second on $(nproc) cores (yinxin over HTTP on 127.0.0.1)"
printf '%-7s %14s %14s %8s %14s %22s\n' key "yinxin C=$conc" "raw sign $(nproc)thr" ratio "yinxin C=$ts_par" "openssl ts CGI P=$ts_par"
for key in sm2 rsa ecdsa; do
    case "$key" in sm2) sign=sm2-sign ;; rsa) sign=rsa2048-sign ;; ecdsa) sign=ecdsa-p256-sign ;; esac
    http=$(field operation "tsa-$key" "$tsa_json")
    few=$(field operation "tsa-$key" "$tsa_json_few")
    raw=$(raw_rate "$sign" "$tsa_json")
    openssl_ts "$key"
    ratio=$(awk -v h="${http:-0}" -v r="${raw:-0}" 'BEGIN { if (r > 0) printf "%.1f%%", 100 * h / r; else print "n/a" }')
    printf '%-7s %14.1f %14.1f %8s %14.1f %22s\n' "$key" "${http:-0}" "${raw:-0}" "$ratio" "${few:-0}" "$ots_rate"
done
echo "# openssl ts -reply: $ts_n requests, one process each, $ts_par at a time (config file, key file, serial file)"
echo

kill "$server"
wait "$server" 2>/dev/null || true
server=""

echo "## openssl speed -seconds 3 sm2 rsa2048   (single thread)"
openssl speed -seconds 3 sm2 rsa2048 2>/dev/null | grep -E '^ *(rsa 2048|256 bits SM2)|sign/s'
echo "## openssl speed -seconds 3 -multi $(nproc) sm2 rsa2048"
openssl speed -seconds 3 -multi "$(nproc)" sm2 rsa2048 2>/dev/null | grep -E '^ *(rsa 2048|256 bits SM2)|sign/s|^(rsa|sm2)'
