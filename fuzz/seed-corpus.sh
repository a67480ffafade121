#!/usr/bin/env bash
# Seed fuzz/corpus/NAME/ with real inputs: keys, certificates, requests, CRLs, OCSP, RFC 3161
# and CMS messages made by the OpenSSL 3 CLI and by a throwaway `yinxin serve` on 127.0.0.1.
# Run from anywhere; it stops its server by itself. Files are named by content (SHA-256), so
# running it again only adds.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p yinxin-cli
bin="$PWD/target/release/yinxin"
corpus="$PWD/fuzz/corpus"
work="$(mktemp -d)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
put() { # put TARGET FILE
    mkdir -p "$corpus/$1"
    cp "$2" "$corpus/$1/$(sha256sum "$2" | cut -c1-16)"
}
cd "$work"
export YINXIN_HOME="$work/home" YINXIN_PIN=123456 YINXIN_SO_PIN=87654321
# Keys in every encoding.
for alg in sm2 rsa2048 ec-p256; do
    "$bin" key generate --alg "$alg" --out "$alg.pem"
    "$bin" key public "$alg.pem" --out "$alg.pub"
    put key "$alg.pem"; put key "$alg.pub"
    openssl pkey -in "$alg.pem" -outform DER -out "$alg.der" 2>/dev/null && put key "$alg.der"
done
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve \
    -out ec-sec1.tmp 2>/dev/null && openssl ec -in ec-sec1.tmp -out ec-sec1.pem 2>/dev/null && put key ec-sec1.pem
openssl pkcs8 -topk8 -in sm2.pem -v2 aes-256-cbc -passout pass:password -outform DER -out enc.der && put encrypted_key enc.der
openssl pkcs8 -topk8 -in ec-sec1.pem -scrypt -passout pass:password -outform DER -out enc-scrypt.der && put encrypted_key enc-scrypt.der
openssl pkcs8 -topk8 -in sm2.pem -v2 aes-256-cbc -passout pass:password -out enc.pem && put encrypted_key enc.pem
# A platform: CA certificates, CRLs, OCSP, RFC 3161, CMS.
"$bin" serve --data data --listen 127.0.0.1:0 >serve.log 2>&1 &
server=$!
url=""
for _ in $(seq 1 600); do
    url="$(sed -n 's/^yinxin: serving on \(http:[^ ]*\).*/\1/p' serve.log | head -n1)"
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { cat serve.log >&2; exit 1; }
token="data/admin-token.txt"
for ca in sm2-root sm2-issuing rsa-root rsa-issuing; do
    curl -sf "$url/ca/$ca.crt" -o "$ca.crt"; put certificate "$ca.crt"
    curl -sf "$url/crl/$ca.crl" -o "$ca.crl"; put crl "$ca.crl"
done
curl -sf "$url/ca/sm2-issuing.pem" -o sm2-issuing.pem; put certificate sm2-issuing.pem
openssl req -new -key rsa2048.pem -subj "/CN=fuzz.example.cn/O=yinxin" -outform DER -out rsa.csr && put csr rsa.csr
"$bin" token init --name fuzz >/dev/null
"$bin" token keygen --name fuzz --container c1 --alg sm2 >/dev/null
"$bin" token csr --name fuzz --container c1 --subject "CN=张三,O=某某医院,C=CN" --out sm2.csr.pem
openssl req -in sm2.csr.pem -outform DER -out sm2.csr && put csr sm2.csr
"$bin" ca issue --server "$url" --token-file "$token" --csr rsa.csr --profile server \
    --san dns:fuzz.example.cn --out leaf.pem >/dev/null
openssl x509 -in leaf.pem -outform DER -out leaf.der && put certificate leaf.der
openssl ocsp -issuer rsa-issuing.crt -cert leaf.pem -reqout ocsp.req -no_nonce >/dev/null 2>&1 && put ocsp_request ocsp.req
openssl ocsp -issuer rsa-issuing.crt -cert leaf.pem -reqout ocsp-nonce.req >/dev/null 2>&1 && put ocsp_request ocsp-nonce.req
echo "hello" >doc.txt
for hash in sha256 sm3; do
    openssl ts -query -data doc.txt -"$hash" -cert -out "q-$hash.tsq" 2>/dev/null && put tsa_request "q-$hash.tsq"
    curl -sf -H 'Content-Type: application/timestamp-query' --data-binary @"q-$hash.tsq" "$url/tsa" -o "r-$hash.tsr" && put tsa_response "r-$hash.tsr"
done
openssl req -x509 -key rsa2048.pem -subj "/CN=fuzz signer" -days 30 -out signer.pem 2>/dev/null
openssl cms -sign -binary -in doc.txt -signer signer.pem -inkey rsa2048.pem -outform DER -out signed.der -nodetach && put cms_signed signed.der
openssl cms -sign -binary -in doc.txt -signer signer.pem -inkey rsa2048.pem -outform DER -out detached.der && put cms_signed detached.der
"$bin" cms sign --key sm2.pem --cert sm2-issuing.crt --in doc.txt --out gm.p7s --form gmt0010 2>/dev/null && put cms_signed gm.p7s || true
openssl cms -encrypt -binary -in doc.txt -aes-256-cbc -outform DER -out env.der signer.pem && put cms_envelope env.der
openssl cms -encrypt -binary -in doc.txt -aes-128-gcm -outform DER -out authenv.der signer.pem && put cms_envelope authenv.der
openssl pkeyutl -encrypt -pubin -inkey sm2.pub -in doc.txt -out sm2.ct && put sm2_ciphertext sm2.ct
cp data/unseal-share.txt share.txt && put share_text share.txt
cd - >/dev/null
# The fixed GM/T 0010 vectors of yinxin-cms are seeds too.
put cms_signed crates/yinxin-cms/tests/vectors/gmt0010/signed.der
put cms_envelope crates/yinxin-cms/tests/vectors/enveloped-gmt0010-sm2.der
put certificate crates/yinxin-cms/tests/vectors/gmt0010/root.der
for t in "$corpus"/*; do echo "$(basename "$t"): $(ls "$t" | wc -l) files"; done
