#!/usr/bin/env bash
# Test PKI made with the openssl 3 CLI in the current directory (tests/path.rs and
# yinxin-cli's tests/verify_chain.rs run it). Every key is P-256 except the SM2 chain.
set -euo pipefail
cat > ext.cnf <<'CNF'
[req]
distinguished_name=dn
[dn]
[ca_ext]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
[nc_ext]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
nameConstraints=critical,permitted;DNS:example.org
[leaf_ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:www.example.com,DNS:*.api.example.com,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
[crit_ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectAltName=DNS:www.example.com
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
1.2.3.4.5=critical,ASN1:NULL
[ca]
default_ca=ica
[ica]
database=index.txt
crlnumber=crlnumber
default_md=sha256
default_crl_days=30
CNF
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@"; exit 1; }; }
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
# root -> ICA -> leaf (www.example.com, *.api.example.com, 127.0.0.1; serverAuth; 30 days)
q openssl req -x509 -new "${ec[@]}" -keyout root.key -subj /CN=Test-Root -days 3650 -config ext.cnf -extensions ca_ext -out root.pem
q openssl req -new "${ec[@]}" -keyout ica.key -subj /CN=Test-ICA -config ext.cnf -out ica.csr
q openssl x509 -req -in ica.csr -CA root.pem -CAkey root.key -set_serial 2 -days 3650 -extfile ext.cnf -extensions ca_ext -out ica.pem
q openssl req -new "${ec[@]}" -keyout leaf.key -subj /CN=www.example.com -config ext.cnf -out leaf.csr
q openssl x509 -req -in leaf.csr -CA ica.pem -CAkey ica.key -set_serial 3 -days 30 -extfile ext.cnf -extensions leaf_ext -out leaf.pem
# a leaf with an unknown critical extension
q openssl x509 -req -in leaf.csr -CA ica.pem -CAkey ica.key -set_serial 4 -days 30 -extfile ext.cnf -extensions crit_ext -out leaf-crit.pem
# root -> ICA-NC (permits only example.org) -> leaf for www.example.com
q openssl req -new "${ec[@]}" -keyout icanc.key -subj /CN=Test-ICA-NC -config ext.cnf -out icanc.csr
q openssl x509 -req -in icanc.csr -CA root.pem -CAkey root.key -set_serial 5 -days 3650 -extfile ext.cnf -extensions nc_ext -out icanc.pem
q openssl x509 -req -in leaf.csr -CA icanc.pem -CAkey icanc.key -set_serial 6 -days 30 -extfile ext.cnf -extensions leaf_ext -out leaf-nc.pem
# CRLs of ICA: one before and one after revoking leaf.pem
touch index.txt; echo 01 > crlnumber
q openssl ca -config ext.cnf -gencrl -keyfile ica.key -cert ica.pem -out crl-empty.pem
q openssl ca -config ext.cnf -revoke leaf.pem -keyfile ica.key -cert ica.pem -crl_reason keyCompromise
q openssl ca -config ext.cnf -gencrl -keyfile ica.key -cert ica.pem -out crl-revoked.pem
# SM2 root -> SM2 leaf, signed with the default ID 1234567812345678
id=distid:1234567812345678
q openssl req -x509 -new -newkey sm2 -nodes -keyout sm2root.key -subj /CN=SM2-Root -days 3650 -config ext.cnf -extensions ca_ext -sm3 -sigopt $id -out sm2root.pem
q openssl req -new -newkey sm2 -nodes -keyout sm2leaf.key -subj /CN=www.example.com -config ext.cnf -sm3 -sigopt $id -out sm2leaf.csr
q openssl x509 -req -in sm2leaf.csr -CA sm2root.pem -CAkey sm2root.key -set_serial 7 -days 30 -extfile ext.cnf -extensions leaf_ext -sm3 -sigopt $id -vfyopt $id -out sm2leaf.pem
# times relative to now: after the leaf expires (CAs still valid), before anything is valid
date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ > time-expired
echo 2001-01-01T00:00:00Z > time-early
