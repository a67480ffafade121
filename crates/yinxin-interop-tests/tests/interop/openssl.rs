//! yinxin against the OpenSSL 3 command line: SM2 signatures (with the signer ID) and
//! encryption, SM3, HMAC-SM3, SM4/AES-CBC, RSA (PKCS#1 v1.5, PSS, OAEP), ECDSA P-256/P-384,
//! and private/public key files in every form either side writes.

use std::sync::OnceLock;

use yinxin_crypto::symmetric::{SymmetricAlgorithm, SymmetricKey};
use yinxin_crypto::{
    DistinguishingId, EncryptionScheme, Error, HashAlgorithm, KeySpec, PrivateKey, PublicKey,
    SignatureScheme, Sm2CiphertextFormat,
};
use yinxin_interop_tests::der::{self, Sm2Cipher};
use yinxin_interop_tests::{DEFAULT_ID, Outcome, Workdir, openssl, random_bytes, sm2_key, unhex};

/// A custom signer ID, as a relying party would configure it for a named user.
const CUSTOM_ID: &str = "alice@example.cn";

fn sm2_scheme(id: &str) -> SignatureScheme {
    SignatureScheme::Sm2WithSm3 {
        id: DistinguishingId::new(id.as_bytes()).expect("id"),
    }
}

/// Message lengths that cross SM3's 64-byte block and its padding boundary.
fn messages() -> Vec<Vec<u8>> {
    [1usize, 55, 56, 64, 1000]
        .into_iter()
        .map(random_bytes)
        .collect()
}

/// One RSA-2048 key made by yinxin, shared by the RSA tests (generation takes a while).
fn yinxin_rsa_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| PrivateKey::generate(KeySpec::Rsa2048).expect("RSA key generation"))
}

/// Write `key`'s PKCS#8 PEM and public PEM as `<stem>.pem` and `<stem>.pub.pem`.
fn write_key(dir: &Workdir, stem: &str, key: &PrivateKey) {
    let pem = key.to_pkcs8_pem(None).expect("export PKCS#8");
    dir.write(&format!("{stem}.pem"), pem.as_bytes());
    dir.write(&format!("{stem}.pub.pem"), key.public_key().to_pem());
}

fn read_private(dir: &Workdir, name: &str, password: Option<&[u8]>) -> PrivateKey {
    PrivateKey::from_pem_or_der(&dir.read(name), password)
        .unwrap_or_else(|e| panic!("yinxin cannot read OpenSSL's {name}: {e}"))
}

/// The public key OpenSSL derives from a private key file, as PEM.
fn openssl_public_pem(dir: &Workdir, name: &str, password: Option<&str>) -> String {
    let mut args = vec!["pkey", "-in", name, "-pubout"];
    let pass;
    if let Some(p) = password {
        pass = format!("pass:{p}");
        args.extend(["-passin", &pass]);
    }
    let out = openssl(dir, args).expect_ok(&format!("OpenSSL reads {name}"));
    String::from_utf8(out).expect("PEM is text")
}

/// Run an OpenSSL command given as space-separated words, then `extra` arguments (which may
/// hold spaces or computed values).
fn openssl_words(dir: &Workdir, words: &str, extra: &[&str]) -> Outcome {
    openssl(dir, words.split_whitespace().chain(extra.iter().copied()))
}

fn distid(id: &str) -> String {
    format!("distid:{id}")
}

// ---------------------------------------------------------------------------------------
// SM2 signatures
// ---------------------------------------------------------------------------------------

/// OpenSSL's two SM2 verification commands on `pub.pem`, `msg` and `sig`, with `distid` when
/// an ID is given (without it OpenSSL 3.0 uses the empty ID).
fn openssl_sm2_verify(dir: &Workdir, id: Option<&str>) -> [Outcome; 2] {
    let pkeyutl = {
        let mut args: Vec<String> = [
            "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "pub.pem", "-in",
            "msg", "-sigfile", "sig",
        ]
        .map(String::from)
        .to_vec();
        if let Some(id) = id {
            args.extend(["-pkeyopt".into(), distid(id)]);
        }
        openssl(dir, args)
    };
    let dgst = {
        let mut args: Vec<String> = ["dgst", "-sm3", "-verify", "pub.pem", "-signature", "sig"]
            .map(String::from)
            .to_vec();
        if let Some(id) = id {
            args.extend(["-sigopt".into(), distid(id)]);
        }
        args.push("msg".into());
        openssl(dir, args)
    };
    [pkeyutl, dgst]
}

#[test]
fn sm2_signatures_by_yinxin_verify_in_openssl() {
    let dir = Workdir::new();
    for k in 0..3 {
        let key = sm2_key();
        dir.write("pub.pem", key.public_key().to_pem());
        for (m, msg) in messages().iter().enumerate().take(3) {
            for id in [DEFAULT_ID, CUSTOM_ID] {
                let sig = key.sign(&sm2_scheme(id), msg).expect("sign");
                dir.write("msg", msg);
                dir.write("sig", &sig);
                for outcome in openssl_sm2_verify(&dir, Some(id)) {
                    outcome.expect_ok(&format!("key {k}, message {m}, ID {id:?}"));
                }
            }
        }
    }
}

#[test]
fn sm2_signatures_by_openssl_verify_in_yinxin() {
    let dir = Workdir::new();
    for k in 0..3 {
        openssl(&dir, ["genpkey", "-algorithm", "SM2", "-out", "key.pem"])
            .expect_ok("OpenSSL generates an SM2 key");
        let key = read_private(&dir, "key.pem", None);
        assert_eq!(key.algorithm(), yinxin_crypto::KeyAlgorithm::Sm2);
        assert_eq!(
            key.public_key().to_pem(),
            openssl_public_pem(&dir, "key.pem", None),
            "key {k}: yinxin derives the public key OpenSSL does"
        );
        for (m, msg) in messages().iter().enumerate().take(3) {
            dir.write("msg", msg);
            for id in [DEFAULT_ID, CUSTOM_ID] {
                let sig = openssl_words(
                    &dir,
                    "pkeyutl -sign -rawin -digest sm3 -inkey key.pem -in msg -pkeyopt",
                    &[&distid(id)],
                )
                .expect_ok("OpenSSL signs");
                key.public_key()
                    .verify(&sm2_scheme(id), msg, &sig)
                    .unwrap_or_else(|e| panic!("key {k}, message {m}, ID {id:?}: {e}"));
                let other = if id == DEFAULT_ID {
                    CUSTOM_ID
                } else {
                    DEFAULT_ID
                };
                assert!(
                    matches!(
                        key.public_key().verify(&sm2_scheme(other), msg, &sig),
                        Err(Error::InvalidSignature)
                    ),
                    "an OpenSSL signature under ID {id:?} must not verify under {other:?}"
                );
            }
        }
    }
}

#[test]
fn sm2_signer_id_mismatch_fails_in_openssl() {
    let dir = Workdir::new();
    let key = sm2_key();
    dir.write("pub.pem", key.public_key().to_pem());
    dir.write("msg", b"contract v3");
    dir.write(
        "sig",
        key.sign(&sm2_scheme(CUSTOM_ID), b"contract v3")
            .expect("sign"),
    );
    for outcome in openssl_sm2_verify(&dir, Some("bob@example.cn")) {
        outcome.expect_failure("a signature under alice's ID, verified under bob's");
    }
    for outcome in openssl_sm2_verify(&dir, Some(DEFAULT_ID)) {
        outcome.expect_failure("a signature under a custom ID, verified under the default ID");
    }
}

/// About one SM2 signature in 128 has an `r` or `s` with a leading zero byte, which DER
/// encodes in fewer than 32 bytes; search for such signatures on purpose, both ways.
#[test]
fn sm2_signatures_with_a_short_r_or_s_interoperate() {
    let dir = Workdir::new();
    let key = sm2_key();
    write_key(&dir, "key", &key);
    let msg = b"short integer";
    dir.write("msg", msg);
    let scheme = sm2_scheme(DEFAULT_ID);
    let is_short = |sig: &[u8]| {
        let (body, _) = der::expect_tlv(sig, 0x30).expect("a DER SEQUENCE");
        let (r, body) = der::expect_tlv(body, 0x02).expect("r");
        let (s, _) = der::expect_tlv(body, 0x02).expect("s");
        der::uint_value(r).expect("minimal r").len() < 32
            || der::uint_value(s).expect("minimal s").len() < 32
    };

    // yinxin → OpenSSL.
    let sig = (0..4000)
        .map(|_| key.sign(&scheme, msg).expect("sign"))
        .find(|sig| is_short(sig))
        .expect("a short r or s within 4000 signatures (probability of none: 1e-13)");
    dir.write("sig", &sig);
    dir.write("pub.pem", key.public_key().to_pem());
    for outcome in openssl_sm2_verify(&dir, Some(DEFAULT_ID)) {
        outcome.expect_ok("OpenSSL verifies a yinxin signature with a short r or s");
    }

    // OpenSSL → yinxin: sign in batches in one shell each until one is short.
    let script = format!(
        "for i in $(seq 1 100); do openssl pkeyutl -sign -rawin -digest sm3 -inkey key.pem \
         -in msg -pkeyopt distid:{DEFAULT_ID} -out sig.$i || exit 1; done"
    );
    let mut found = None;
    'search: for _ in 0..16 {
        yinxin_interop_tests::run_in(dir.path(), "sh", ["-c", script.as_str()])
            .expect_ok("OpenSSL signs a batch");
        for i in 1..=100 {
            let sig = dir.read(&format!("sig.{i}"));
            if is_short(&sig) {
                found = Some(sig);
                break 'search;
            }
        }
    }
    let sig = found.expect("a short r or s within 1600 OpenSSL signatures");
    key.public_key()
        .verify(&scheme, msg, &sig)
        .expect("yinxin verifies an OpenSSL signature with a short r or s");
    let (r, s) = der::signature_parts(&sig).expect("parts");
    key.public_key()
        .verify(&scheme, msg, &[r, s].concat())
        .expect("and the same as raw r || s, zero-padded");
}

/// The trap: OpenSSL 3.0 hashes an *empty* ID into Z when it is not given `distid`, while
/// yinxin (like GM/T 0009, BouncyCastle and sm-crypto) defaults to `1234567812345678`. A
/// signature made with yinxin's default therefore fails `openssl dgst -verify` unless the
/// command line says `-sigopt distid:1234567812345678`; and a signature OpenSSL made without
/// `distid` verifies in yinxin only under the empty ID.
#[test]
fn sm2_openssl_without_distid_uses_the_empty_id() {
    let dir = Workdir::new();
    let key = sm2_key();
    write_key(&dir, "key", &key);
    dir.write("pub.pem", key.public_key().to_pem());
    dir.write("msg", b"bid 42");
    dir.write(
        "sig",
        key.sign(&sm2_scheme(DEFAULT_ID), b"bid 42").expect("sign"),
    );
    for outcome in openssl_sm2_verify(&dir, None) {
        outcome.expect_failure("a default-ID yinxin signature, verified by OpenSSL without distid");
    }
    for outcome in openssl_sm2_verify(&dir, Some(DEFAULT_ID)) {
        outcome.expect_ok("the same signature with distid:1234567812345678");
    }

    // Sign with the empty ID in yinxin: OpenSSL without distid accepts it.
    dir.write("sig", key.sign(&sm2_scheme(""), b"bid 42").expect("sign"));
    for outcome in openssl_sm2_verify(&dir, None) {
        outcome.expect_ok("an empty-ID yinxin signature, verified by OpenSSL without distid");
    }

    // OpenSSL signing without distid: yinxin verifies it under the empty ID only.
    let sig = openssl_words(
        &dir,
        "pkeyutl -sign -rawin -digest sm3 -inkey key.pem -in msg",
        &[],
    )
    .expect_ok("OpenSSL signs without distid");
    key.public_key()
        .verify(&sm2_scheme(""), b"bid 42", &sig)
        .expect("verifies under the empty ID");
    assert!(matches!(
        key.public_key()
            .verify(&sm2_scheme(DEFAULT_ID), b"bid 42", &sig),
        Err(Error::InvalidSignature)
    ));
}

// ---------------------------------------------------------------------------------------
// SM2 encryption
// ---------------------------------------------------------------------------------------

/// Plaintext lengths around SM3's 32-byte KDF output block.
fn plaintexts() -> Vec<Vec<u8>> {
    [1usize, 19, 32, 33, 1000]
        .into_iter()
        .map(random_bytes)
        .collect()
}

#[test]
fn sm2_encryption_by_openssl_decrypts_in_yinxin() {
    let dir = Workdir::new();
    for k in 0..2 {
        let key = sm2_key();
        write_key(&dir, "key", &key);
        for (p, pt) in plaintexts().iter().enumerate() {
            dir.write("pt", pt);
            let ct = openssl_words(
                &dir,
                "pkeyutl -encrypt -pubin -inkey key.pub.pem -in pt",
                &[],
            )
            .expect_ok("OpenSSL encrypts");
            let got = key
                .decrypt(&EncryptionScheme::Sm2(Sm2CiphertextFormat::Asn1), &ct)
                .unwrap_or_else(|e| panic!("key {k}, plaintext {p}: {e}"));
            assert_eq!(&got[..], &pt[..], "key {k}, plaintext {p}");
            // The same ciphertext re-laid out raw, as other middleware sends it.
            let cipher = Sm2Cipher::parse(&ct).expect("OpenSSL writes a strict SM2Cipher");
            for raw in [
                cipher.c1c3c2(),
                cipher.c1c2c3(),
                cipher.c1c3c2()[1..].to_vec(),
            ] {
                let got = key
                    .decrypt(&EncryptionScheme::Sm2(Sm2CiphertextFormat::C1C3C2), &raw)
                    .expect("raw layout");
                assert_eq!(&got[..], &pt[..]);
            }
        }
    }
}

#[test]
fn sm2_encryption_by_yinxin_decrypts_in_openssl() {
    let dir = Workdir::new();
    for k in 0..2 {
        let key = sm2_key();
        write_key(&dir, "key", &key);
        for (p, pt) in plaintexts().iter().enumerate() {
            let ct = key
                .public_key()
                .encrypt(&EncryptionScheme::Sm2(Sm2CiphertextFormat::Asn1), pt)
                .expect("encrypt");
            Sm2Cipher::parse(&ct).expect("yinxin writes a strict SM2Cipher");
            dir.write("ct", &ct);
            let got = openssl(
                &dir,
                ["pkeyutl", "-decrypt", "-inkey", "key.pem", "-in", "ct"],
            )
            .expect_ok(&format!(
                "OpenSSL decrypts yinxin's ciphertext (key {k}, plaintext {p})"
            ));
            assert_eq!(got, *pt);
        }
    }
}

/// About one ciphertext in 128 has a C1 coordinate with a leading zero byte, which the
/// GM/T 0009 INTEGER encodes in fewer than 32 bytes. Middleware that pads or strips wrongly
/// fails only then, so search for such ciphertexts on purpose, both ways.
#[test]
fn sm2_ciphertexts_with_a_short_c1_coordinate_interoperate() {
    let dir = Workdir::new();
    let key = sm2_key();
    write_key(&dir, "key", &key);
    let pt = b"short coordinate";
    dir.write("pt", pt);

    // yinxin → OpenSSL.
    let scheme = EncryptionScheme::Sm2(Sm2CiphertextFormat::Asn1);
    let ct = (0..4000)
        .map(|_| key.public_key().encrypt(&scheme, pt).expect("encrypt"))
        .find(|ct| {
            Sm2Cipher::parse(ct)
                .expect("strict DER")
                .has_short_coordinate()
        })
        .expect("a short coordinate within 4000 ciphertexts (probability of none: 1e-13)");
    dir.write("ct", &ct);
    let got = openssl(
        &dir,
        ["pkeyutl", "-decrypt", "-inkey", "key.pem", "-in", "ct"],
    )
    .expect_ok("OpenSSL decrypts a yinxin ciphertext with a short C1 coordinate");
    assert_eq!(got, pt);

    // OpenSSL → yinxin: encrypt in batches in one shell each until one is short.
    let mut found = None;
    'search: for _ in 0..16 {
        let script = "for i in $(seq 1 100); do \
             openssl pkeyutl -encrypt -pubin -inkey key.pub.pem -in pt -out ct.$i || exit 1; done";
        yinxin_interop_tests::run_in(dir.path(), "sh", ["-c", script])
            .expect_ok("OpenSSL encrypts a batch");
        for i in 1..=100 {
            let ct = dir.read(&format!("ct.{i}"));
            let cipher = Sm2Cipher::parse(&ct).expect("OpenSSL writes strict DER");
            if cipher.has_short_coordinate() {
                found = Some((ct, cipher));
                break 'search;
            }
        }
    }
    let (ct, cipher) = found.expect("a short coordinate within 1600 OpenSSL ciphertexts");
    for (name, layout) in [
        ("ASN.1", ct.clone()),
        ("C1C3C2", cipher.c1c3c2()),
        ("C1C2C3", cipher.c1c2c3()),
        ("C1C3C2 without 04", cipher.c1c3c2()[1..].to_vec()),
    ] {
        let got = key
            .decrypt(&scheme, &layout)
            .unwrap_or_else(|e| panic!("{name} with a short C1 coordinate: {e}"));
        assert_eq!(&got[..], pt, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// SM3, HMAC-SM3, SM4/AES-CBC
// ---------------------------------------------------------------------------------------

#[test]
fn sm3_digests_match_openssl() {
    let dir = Workdir::new();
    let lengths = [0usize, 1, 3, 55, 56, 63, 64, 65, 1000, 1 << 20];
    let mut args = vec!["dgst".to_string(), "-sm3".into(), "-r".into()];
    let mut inputs = Vec::new();
    for (i, len) in lengths.iter().enumerate() {
        let data = if i == 2 {
            b"abc".to_vec()
        } else {
            random_bytes(*len)
        };
        let name = format!("in{i}");
        dir.write(&name, &data);
        args.push(name);
        inputs.push(data);
    }
    let out = openssl(&dir, args).expect_ok("openssl dgst -sm3");
    let out = String::from_utf8(out).expect("text");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), inputs.len(), "{out}");
    for ((line, data), len) in lines.iter().zip(&inputs).zip(lengths) {
        let theirs = line.split_whitespace().next().expect("digest");
        let ours = hex::encode(yinxin_crypto::hash::digest(HashAlgorithm::Sm3, data));
        assert_eq!(ours, theirs, "SM3 of {len} bytes");
    }
    // GM/T 0004 example 1, through both.
    assert_eq!(
        hex::encode(yinxin_crypto::hash::digest(HashAlgorithm::Sm3, b"abc")),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
}

#[test]
fn hmac_sm3_matches_openssl() {
    let dir = Workdir::new();
    // Key lengths below, at and above SM3's 64-byte block (long keys are hashed first).
    for (key_len, msg_len) in [
        (1usize, 0usize),
        (16, 3),
        (32, 64),
        (64, 100),
        (65, 1000),
        (200, 77),
    ] {
        let key = random_bytes(key_len);
        let msg = random_bytes(msg_len);
        dir.write("msg", &msg);
        let hexkey = format!("hexkey:{}", hex::encode(&key));
        let out = openssl_words(
            &dir,
            "mac -digest SM3 -macopt",
            &[&hexkey, "-in", "msg", "HMAC"],
        )
        .expect_ok("openssl mac HMAC-SM3");
        let theirs = String::from_utf8(out)
            .expect("text")
            .trim()
            .to_ascii_lowercase();
        let ours = hex::encode(yinxin_crypto::hash::hmac(HashAlgorithm::Sm3, &key, &msg));
        assert_eq!(
            ours, theirs,
            "HMAC-SM3 with a {key_len}-byte key over {msg_len} bytes"
        );
    }
}

#[test]
fn cbc_matches_openssl_enc_both_ways() {
    let dir = Workdir::new();
    for (alg, name) in [
        (SymmetricAlgorithm::Sm4, "-sm4-cbc"),
        (SymmetricAlgorithm::Aes128, "-aes-128-cbc"),
        (SymmetricAlgorithm::Aes256, "-aes-256-cbc"),
    ] {
        for len in [0usize, 1, 15, 16, 17, 1000] {
            let key_bytes = random_bytes(alg.key_len());
            let iv = random_bytes(16);
            let pt = random_bytes(len);
            let key = SymmetricKey::from_bytes(alg, &key_bytes).expect("key");
            let (k, i) = (hex::encode(&key_bytes), hex::encode(&iv));
            dir.write("pt", &pt);
            let theirs = openssl_words(&dir, "enc", &[name, "-K", &k, "-iv", &i, "-in", "pt"])
                .expect_ok("openssl enc");
            let ours = key.cbc_encrypt(&iv, &pt).expect("encrypt");
            assert_eq!(
                hex::encode(&ours),
                hex::encode(&theirs),
                "{name}, {len} bytes"
            );
            let back = key
                .cbc_decrypt(&iv, &theirs)
                .expect("yinxin decrypts OpenSSL's");
            assert_eq!(&back[..], &pt[..]);
            dir.write("ct", &ours);
            let back = openssl_words(&dir, "enc -d", &[name, "-K", &k, "-iv", &i, "-in", "ct"])
                .expect_ok("OpenSSL decrypts yinxin's");
            assert_eq!(back, pt, "{name}, {len} bytes");
        }
    }
    // GB/T 32907 example 1 as one CBC block with a zero IV, through OpenSSL.
    let k = "0123456789abcdeffedcba9876543210";
    dir.write("pt", unhex(k));
    let out = openssl(
        &dir,
        [
            "enc",
            "-sm4-cbc",
            "-nopad",
            "-K",
            k,
            "-iv",
            &"0".repeat(32),
            "-in",
            "pt",
        ],
    )
    .expect_ok("openssl enc");
    assert_eq!(hex::encode(out), "681edf34d206965e86b3e94f536e4246");
}

// ---------------------------------------------------------------------------------------
// Key files
// ---------------------------------------------------------------------------------------

const PASSWORD: &str = "correct horse 电池";

/// OpenSSL key generation arguments for each key type yinxin supports.
fn openssl_genpkey_args(spec: KeySpec) -> Vec<&'static str> {
    match spec {
        KeySpec::Sm2 => vec!["-algorithm", "SM2"],
        KeySpec::Rsa2048 => vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        KeySpec::Rsa3072 => vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
        KeySpec::Rsa4096 => vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096"],
        KeySpec::EcP256 => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        KeySpec::EcP384 => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    }
}

#[test]
fn openssl_key_files_are_read_by_yinxin() {
    let dir = Workdir::new();
    let pass = format!("pass:{PASSWORD}");
    for spec in [
        KeySpec::Sm2,
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::EcP256,
        KeySpec::EcP384,
    ] {
        let mut args = vec!["genpkey"];
        args.extend(openssl_genpkey_args(spec));
        args.extend(["-out", "key.pem"]);
        openssl(&dir, args).expect_ok(&format!("OpenSSL generates {spec}"));
        let expected_pub = openssl_public_pem(&dir, "key.pem", None);
        openssl_words(&dir, "pkey -in key.pem -outform DER -out key.der", &[])
            .expect_ok("PKCS#8 DER");
        openssl_words(
            &dir,
            "pkey -in key.pem -pubout -outform DER -out pub.der",
            &[],
        )
        .expect_ok("SPKI DER");
        openssl_words(
            &dir,
            "pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out enc.pem -passout",
            &[&pass],
        )
        .expect_ok("encrypted PKCS#8 (PBKDF2, AES-256-CBC)");
        openssl_words(
            &dir,
            "pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -outform DER -out enc.der -passout",
            &[&pass],
        )
        .expect_ok("encrypted PKCS#8 DER");
        openssl_words(
            &dir,
            "pkcs8 -topk8 -scrypt -in key.pem -out scrypt.pem -passout",
            &[&pass],
        )
        .expect_ok("encrypted PKCS#8 (scrypt)");

        // The same PEM with Windows line endings.
        dir.write("crlf.pem", dir.read_string("key.pem").replace('\n', "\r\n"));
        let mut files: Vec<(&str, Option<&[u8]>)> = vec![
            ("key.pem", None),
            ("crlf.pem", None),
            ("key.der", None),
            ("enc.pem", Some(PASSWORD.as_bytes())),
            ("enc.der", Some(PASSWORD.as_bytes())),
            ("scrypt.pem", Some(PASSWORD.as_bytes())),
        ];
        // The traditional forms: PKCS#1 for RSA, SEC1 for EC.
        match spec {
            KeySpec::Sm2 => {
                // OpenSSL 3.0 `pkey -traditional` refuses SM2; `ec` writes SEC1.
                openssl_words(&dir, "ec -in key.pem -outform DER -out trad.der", &[])
                    .expect_ok("SEC1 DER");
                files.push(("trad.der", None));
            }
            _ => {
                openssl(
                    &dir,
                    ["pkey", "-in", "key.pem", "-traditional", "-out", "trad.pem"],
                )
                .expect_ok("traditional PEM");
                openssl_words(
                    &dir,
                    "pkey -in key.pem -traditional -outform DER -out trad.der",
                    &[],
                )
                .expect_ok("traditional DER");
                files.extend([("trad.pem", None), ("trad.der", None)]);
            }
        }
        for (name, password) in files {
            let key = read_private(&dir, name, password);
            assert_eq!(key.algorithm(), spec.algorithm(), "{spec} {name}");
            assert_eq!(key.public_key().to_pem(), expected_pub, "{spec} {name}");
        }
        assert!(
            matches!(
                PrivateKey::from_pem_or_der(&dir.read("enc.pem"), Some(b"wrong")),
                Err(Error::WrongPassword)
            ),
            "{spec}: a wrong password is reported as such"
        );

        // Public keys: SPKI PEM and DER, and PKCS#1 for RSA.
        let public = PublicKey::from_pem_or_der(&dir.read("pub.der")).expect("SPKI DER");
        assert_eq!(public.to_pem(), expected_pub, "{spec} pub.der");
        let public = PublicKey::from_pem_or_der(expected_pub.as_bytes()).expect("SPKI PEM");
        assert_eq!(
            public.to_der(),
            dir.read("pub.der"),
            "{spec}: same DER as OpenSSL"
        );
        if let KeySpec::Rsa2048 | KeySpec::Rsa3072 = spec {
            for (form, name) in [("PEM", "pkcs1.pem"), ("DER", "pkcs1.der")] {
                openssl_words(
                    &dir,
                    "rsa -in key.pem -RSAPublicKey_out -outform",
                    &[form, "-out", name],
                )
                .expect_ok("PKCS#1 public key");
                let public = PublicKey::from_pem_or_der(&dir.read(name)).expect("PKCS#1 public");
                assert_eq!(public.to_pem(), expected_pub, "{spec} {name}");
            }
        }
    }
}

/// `openssl ec` writes an SM2 key in its traditional (SEC1) PEM form under the label
/// `SM2 PRIVATE KEY` (OpenSSL 3.0 names the block after the key type). yinxin reads the same
/// bytes as DER but refuses the PEM label.
#[test]
fn openssl_sm2_traditional_pem_is_read_by_yinxin() {
    let dir = Workdir::new();
    openssl(&dir, ["genpkey", "-algorithm", "SM2", "-out", "key.pem"]).expect_ok("genpkey");
    openssl(&dir, ["ec", "-in", "key.pem", "-out", "trad.pem"]).expect_ok("openssl ec");
    let text = dir.read_string("trad.pem");
    assert!(
        text.starts_with("-----BEGIN SM2 PRIVATE KEY-----"),
        "{text}"
    );
    let key = PrivateKey::from_pem_or_der(text.as_bytes(), None)
        .unwrap_or_else(|e| panic!("yinxin cannot read `openssl ec`'s SM2 PEM: {e}"));
    assert_eq!(
        key.public_key().to_pem(),
        openssl_public_pem(&dir, "key.pem", None)
    );
}

/// PEM files with more than one block, as OpenSSL writes them and as administrators keep
/// them. `openssl ecparam -genkey -name <curve>` (the key generation command of most
/// tutorials) writes a parameters block in front of the key: `SM2 PARAMETERS` + `PRIVATE KEY`
/// for SM2, `EC PARAMETERS` + `EC PRIVATE KEY` for the NIST curves; and a key is often kept
/// in one file with its certificate. OpenSSL reads the key block from all of them.
#[test]
fn multi_block_pem_key_files_are_read_by_yinxin() {
    let dir = Workdir::new();
    let mut failures = Vec::new();
    for curve in ["SM2", "prime256v1", "secp384r1"] {
        openssl(
            &dir,
            ["ecparam", "-genkey", "-name", curve, "-out", "key.pem"],
        )
        .expect_ok("openssl ecparam -genkey");
        let text = dir.read_string("key.pem");
        assert!(text.contains(" PARAMETERS-----"), "{text}");
        let expected = openssl_public_pem(&dir, "key.pem", None);
        match PrivateKey::from_pem_or_der(text.as_bytes(), None) {
            Ok(key) => assert_eq!(key.public_key().to_pem(), expected, "{curve}"),
            Err(e) => failures.push(format!("`openssl ecparam -genkey -name {curve}`: {e}")),
        }
    }
    openssl(&dir, ["genpkey", "-algorithm", "SM2", "-out", "key.pem"]).expect_ok("genpkey");
    openssl_words(
        &dir,
        "req -new -x509 -key key.pem -subj /CN=yinxin -days 1 -out cert.pem",
        &[],
    )
    .expect_ok("a self-signed certificate");
    let bundle = dir.read_string("key.pem") + &dir.read_string("cert.pem");
    match PrivateKey::from_pem_or_der(bundle.as_bytes(), None) {
        Ok(key) => assert_eq!(
            key.public_key().to_pem(),
            openssl_public_pem(&dir, "key.pem", None)
        ),
        Err(e) => failures.push(format!("a PKCS#8 key followed by its certificate: {e}")),
    }
    assert!(
        failures.is_empty(),
        "yinxin cannot read these key files:\n{}",
        failures.join("\n")
    );
}

#[test]
fn yinxin_key_files_are_read_by_openssl() {
    let dir = Workdir::new();
    let pass = format!("pass:{PASSWORD}");
    for spec in [
        KeySpec::Sm2,
        KeySpec::Rsa2048,
        KeySpec::EcP256,
        KeySpec::EcP384,
    ] {
        let key = if spec == KeySpec::Rsa2048 {
            PrivateKey::from_pem_or_der(
                yinxin_rsa_key()
                    .to_pkcs8_pem(None)
                    .expect("export")
                    .as_bytes(),
                None,
            )
            .expect("re-read")
        } else {
            PrivateKey::generate(spec).expect("generate")
        };
        let expected_pub = key.public_key().to_pem();
        dir.write(
            "key.pem",
            key.to_pkcs8_pem(None).expect("PKCS#8").as_bytes(),
        );
        dir.write("key.der", &key.to_pkcs8_der().expect("PKCS#8 DER")[..]);
        dir.write(
            "enc.pem",
            key.to_pkcs8_pem(Some(PASSWORD.as_bytes()))
                .expect("encrypted PKCS#8")
                .as_bytes(),
        );
        dir.write("pub.pem", &expected_pub);
        dir.write("pub.der", key.public_key().to_der());

        openssl(&dir, ["pkey", "-in", "key.pem", "-noout"]).expect_ok(&format!("{spec} PKCS#8"));
        assert_eq!(
            openssl_public_pem(&dir, "key.pem", None),
            expected_pub,
            "{spec}"
        );
        openssl(&dir, ["pkey", "-in", "key.der", "-inform", "DER", "-noout"])
            .expect_ok(&format!("{spec} PKCS#8 DER"));
        openssl(&dir, ["pkey", "-in", "enc.pem", "-passin", &pass, "-noout"])
            .expect_ok(&format!("{spec} encrypted PKCS#8"));
        assert_eq!(
            openssl_public_pem(&dir, "enc.pem", Some(PASSWORD)),
            expected_pub,
            "{spec} encrypted"
        );
        openssl(
            &dir,
            ["pkey", "-in", "enc.pem", "-passin", "pass:wrong", "-noout"],
        )
        .expect_failure("a wrong password");
        let out = openssl(&dir, ["pkey", "-pubin", "-in", "pub.der", "-inform", "DER"])
            .expect_ok(&format!("{spec} SPKI DER"));
        assert_eq!(String::from_utf8(out).expect("PEM"), expected_pub);
        openssl(&dir, ["pkey", "-in", "key.pem", "-check", "-noout"]).expect_ok(&format!(
            "{spec}: OpenSSL's consistency check of the key pair"
        ));
    }
}

// ---------------------------------------------------------------------------------------
// RSA and ECDSA
// ---------------------------------------------------------------------------------------

/// `openssl dgst` options for a signature scheme.
fn dgst_options(scheme: &SignatureScheme) -> Vec<String> {
    let mut args = vec![format!("-{}", scheme.hash().name())];
    if let SignatureScheme::RsaPss(_) = scheme {
        args.extend(
            [
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ]
            .map(String::from),
        );
    }
    args
}

/// Sign with yinxin → `openssl dgst -verify`, and `openssl dgst -sign` → yinxin verify.
fn cross_sign(dir: &Workdir, key: &PrivateKey, schemes: &[SignatureScheme]) {
    write_key(dir, "key", key);
    for scheme in schemes {
        for (m, msg) in messages().iter().enumerate().take(2) {
            dir.write("msg", msg);
            let sig = key.sign(scheme, msg).expect("sign");
            dir.write("sig", &sig);
            let mut args = vec!["dgst".to_string()];
            args.extend(dgst_options(scheme));
            args.extend(["-verify", "key.pub.pem", "-signature", "sig", "msg"].map(String::from));
            openssl(dir, args).expect_ok(&format!("OpenSSL verifies yinxin's {scheme} ({m})"));

            let mut args = vec!["dgst".to_string()];
            args.extend(dgst_options(scheme));
            args.extend(["-sign", "key.pem", "msg"].map(String::from));
            let theirs = openssl(dir, args).expect_ok("OpenSSL signs");
            key.public_key()
                .verify(scheme, msg, &theirs)
                .unwrap_or_else(|e| panic!("yinxin verifies OpenSSL's {scheme} ({m}): {e}"));
            let mut bad = msg.clone();
            bad[0] ^= 1;
            assert!(
                matches!(
                    key.public_key().verify(scheme, &bad, &theirs),
                    Err(Error::InvalidSignature)
                ),
                "{scheme}: a changed message must not verify"
            );
        }
    }
}

#[test]
fn rsa_signatures_both_ways() {
    let dir = Workdir::new();
    let schemes = [
        SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha256),
        SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha384),
        SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha512),
        SignatureScheme::RsaPss(HashAlgorithm::Sha256),
        SignatureScheme::RsaPss(HashAlgorithm::Sha384),
        SignatureScheme::RsaPss(HashAlgorithm::Sha512),
    ];
    cross_sign(&dir, yinxin_rsa_key(), &schemes);
    // And an OpenSSL-made RSA-3072 key.
    openssl_words(
        &dir,
        "genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out k3.pem",
        &[],
    )
    .expect_ok("genpkey");
    let key = read_private(&dir, "k3.pem", None);
    cross_sign(&dir, &key, &schemes[..4]);
}

#[test]
fn ecdsa_signatures_both_ways() {
    let dir = Workdir::new();
    for spec in [KeySpec::EcP256, KeySpec::EcP384] {
        // Both the curve's own hash (AWS-LC path) and the others (RustCrypto path).
        let schemes = [
            SignatureScheme::Ecdsa(HashAlgorithm::Sha256),
            SignatureScheme::Ecdsa(HashAlgorithm::Sha384),
            SignatureScheme::Ecdsa(HashAlgorithm::Sha512),
        ];
        for _ in 0..2 {
            cross_sign(
                &dir,
                &PrivateKey::generate(spec).expect("generate"),
                &schemes,
            );
        }
        let mut args = vec!["genpkey"];
        args.extend(openssl_genpkey_args(spec));
        args.extend(["-out", "theirs.pem"]);
        openssl(&dir, args).expect_ok("genpkey");
        cross_sign(&dir, &read_private(&dir, "theirs.pem", None), &schemes);
    }
}

#[test]
fn rsa_encryption_both_ways() {
    let dir = Workdir::new();
    let key = yinxin_rsa_key();
    write_key(&dir, "key", key);
    let oaep = [
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        "rsa_mgf1_md:sha256",
    ];
    let scheme = EncryptionScheme::RsaOaep(HashAlgorithm::Sha256);
    // Up to the OAEP maximum for RSA-2048 with SHA-256: 256 - 2·32 - 2 = 190 bytes.
    for len in [1usize, 32, 190] {
        let pt = random_bytes(len);
        dir.write("pt", &pt);
        // OpenSSL → yinxin, OAEP.
        let mut args = vec![
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            "key.pub.pem",
            "-in",
            "pt",
        ];
        args.extend(oaep);
        let ct = openssl(&dir, args).expect_ok("OpenSSL OAEP-encrypts");
        assert_eq!(
            &key.decrypt(&scheme, &ct).expect("yinxin decrypts")[..],
            &pt[..]
        );
        // yinxin → OpenSSL, OAEP.
        dir.write(
            "ct",
            key.public_key().encrypt(&scheme, &pt).expect("encrypt"),
        );
        let mut args = vec!["pkeyutl", "-decrypt", "-inkey", "key.pem", "-in", "ct"];
        args.extend(oaep);
        assert_eq!(
            openssl(&dir, args).expect_ok("OpenSSL OAEP-decrypts"),
            pt,
            "{len} bytes"
        );
        // OpenSSL → yinxin, legacy PKCS#1 v1.5.
        let ct = openssl_words(
            &dir,
            "pkeyutl -encrypt -pubin -inkey key.pub.pem -in pt -pkeyopt rsa_padding_mode:pkcs1",
            &[],
        )
        .expect_ok("OpenSSL PKCS#1 v1.5-encrypts");
        let got = key
            .decrypt(&EncryptionScheme::RsaPkcs1v15, &ct)
            .expect("yinxin decrypts a PKCS#1 v1.5 envelope");
        assert_eq!(&got[..], &pt[..]);
    }
    assert!(
        key.public_key()
            .encrypt(&scheme, &random_bytes(191))
            .is_err(),
        "191 bytes exceed the OAEP limit"
    );
}

#[test]
fn openssl_default_pss_with_the_longest_salt_verifies_in_yinxin() {
    // `-sigopt rsa_padding_mode:pss` alone makes OpenSSL 3 sign with the longest salt the key
    // allows, not the hash length; yinxin's verifier accepts any salt length, as OpenSSL's does.
    let dir = Workdir::new();
    let key = yinxin_rsa_key();
    write_key(&dir, "key", key);
    dir.write("msg", b"tender document");
    let sig = openssl_words(
        &dir,
        "dgst -sha256 -sign key.pem -sigopt rsa_padding_mode:pss msg",
        &[],
    )
    .expect_ok("OpenSSL signs PSS with its default salt");
    key.public_key()
        .verify(
            &SignatureScheme::RsaPss(HashAlgorithm::Sha256),
            b"tender document",
            &sig,
        )
        .expect("yinxin verifies OpenSSL's maximum-salt PSS signature");
    assert!(
        key.public_key()
            .verify(
                &SignatureScheme::RsaPss(HashAlgorithm::Sha256),
                b"tender documenT",
                &sig
            )
            .is_err()
    );
}

#[test]
fn encrypted_keys_with_ruinous_kdf_costs_are_refused_at_once() {
    // A crafted key file must not make yinxin spend minutes or gigabytes before saying no:
    // take an OpenSSL scrypt-encrypted key and raise its parallelisation to 127.
    let dir = Workdir::new();
    write_key(
        &dir,
        "k",
        &PrivateKey::generate(KeySpec::Sm2).expect("generate"),
    );
    openssl_words(
        &dir,
        "pkcs8 -topk8 -in k.pem -outform DER -out enc.der -passout pass:pw -scrypt -scrypt_N 16384 -scrypt_r 8 -scrypt_p 1",
        &[],
    )
    .expect_ok("openssl pkcs8 -scrypt");
    let mut der = dir.read("enc.der");
    PrivateKey::from_encrypted_der(&der, b"pw").expect("the untouched key reads");
    let params = [0x02, 0x02, 0x40, 0x00, 0x02, 0x01, 0x08, 0x02, 0x01, 0x01];
    let at = der
        .windows(params.len())
        .position(|w| w == params)
        .expect("scrypt parameters N=16384 r=8 p=1 in the DER");
    der[at + params.len() - 1] = 0x7f;
    // Unsupported (not WrongPassword): refused by the cost check, before any KDF ran.
    let err = PrivateKey::from_encrypted_der(&der, b"pw").expect_err("refused");
    assert!(matches!(err, Error::Unsupported(_)), "{err}");
}

#[test]
fn sm2_key_envelopes_are_opened_by_openssl_step_by_step() {
    // GB/T 35276 SM2EnvelopedKey: OpenSSL decrypts the SM2Cipher holding the SM4 key with the
    // token's signing key, then SM4-ECB-decrypts the private scalar; both must match.
    use yinxin_crypto::enveloped_key::{open_sm2_key_pair, seal_sm2_key_pair};
    let dir = Workdir::new();
    let token = PrivateKey::generate(KeySpec::Sm2).expect("token key");
    let escrowed = PrivateKey::generate(KeySpec::Sm2).expect("escrowed key");
    write_key(&dir, "token", &token);
    let env = seal_sm2_key_pair(token.public_key(), &escrowed).expect("seal");
    // SEQUENCE { SEQUENCE { OID sm4-ecb }, SM2Cipher, BIT STRING pub, BIT STRING priv }
    let (body, rest) = der::expect_tlv(&env, 0x30).expect("outer SEQUENCE");
    assert!(rest.is_empty());
    let (alg, body) = der::expect_tlv(body, 0x30).expect("AlgorithmIdentifier");
    assert_eq!(
        alg,
        [0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x68, 0x01]
    );
    let (cipher, body) = der::read_tlv(body)
        .map(|(_, v, r)| (v, r))
        .expect("SM2Cipher");
    let cipher_der = der::tlv(0x30, cipher);
    let (public, body) = der::expect_tlv(body, 0x03).expect("public key BIT STRING");
    assert_eq!(&public[1..], &escrowed.public_key().raw_bytes()[..]);
    let (private, body) = der::expect_tlv(body, 0x03).expect("private key BIT STRING");
    assert!(body.is_empty());
    dir.write("symkey.ct", &cipher_der);
    let sym = openssl_words(&dir, "pkeyutl -decrypt -inkey token.pem -in symkey.ct", &[])
        .expect_ok("OpenSSL decrypts the envelope's SM4 key");
    assert_eq!(sym.len(), 16);
    dir.write("priv.enc", &private[1..]);
    let key_hex = hex::encode(&sym);
    let scalar = openssl_words(
        &dir,
        &format!("enc -d -sm4-ecb -nopad -K {key_hex} -in priv.enc"),
        &[],
    )
    .expect_ok("OpenSSL SM4-ECB-decrypts the private key");
    assert_eq!(scalar, yinxin_interop_tests::ec_scalar(&escrowed).to_vec());
    let opened = open_sm2_key_pair(&token, &env).expect("yinxin opens it");
    assert_eq!(opened.public_key(), escrowed.public_key());
}
