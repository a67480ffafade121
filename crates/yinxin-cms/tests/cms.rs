//! yinxin's CMS against the OpenSSL 3 command line: EnvelopedData that yinxin seals is
//! opened by `openssl cms -decrypt`, what `openssl cms -encrypt` writes (every AES-CBC key
//! size, PKCS#1 v1.5 and OAEP key transport, issuer-and-serial and key-identifier recipients,
//! DER, PEM and streamed BER) is opened by yinxin through a key handle, and OpenSSL's parsers
//! read yinxin's output. Then key delivery and tampering, without a peer.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use yinxin_cms::Error;
use yinxin_cms::algorithm::ContentEncryptionAlgorithm;
use yinxin_cms::enveloped_data::{
    self, KEY_TRANSPORT, Recipient, RecipientIdentifier, RecipientInfo, SealOptions,
    subject_key_identifier,
};
use yinxin_cms::key_delivery::{self, DeliveryFormat};
use yinxin_crypto::{Decrypter, KeyHandle, KeySpec, PrivateKey, PublicKey};

// The envelope and SignedData/RFC 3161 suites, in this one test binary.
#[path = "cms/envelopes.rs"]
mod envelopes;
#[path = "cms/signed_data.rs"]
mod signed_data;

/// A temporary directory for one test's files, where `openssl` runs (shared by the suites).
struct Workdir(tempfile::TempDir);

impl Workdir {
    fn new() -> Self {
        Workdir(tempfile::tempdir().unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    fn write(&self, name: &str, data: impl AsRef<[u8]>) {
        std::fs::write(self.file(name), data).unwrap();
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Run `openssl` in the directory; the output, or a panic with its stderr.
    fn openssl(&self, args: &[&str]) -> Vec<u8> {
        let out = self.openssl_result(args);
        assert!(
            out.status.success(),
            "openssl {} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Run `openssl` in the directory and return what happened.
    fn openssl_result(&self, args: &[&str]) -> std::process::Output {
        Command::new("openssl")
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl: {e}"))
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    yinxin_crypto::random::bytes(n).unwrap()
}

/// RSA keys made once (generation takes a while in debug builds).
fn rsa_key(spec: KeySpec) -> Arc<PrivateKey> {
    static KEYS: OnceLock<[Arc<PrivateKey>; 3]> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa2048]
            .map(|s| Arc::new(PrivateKey::generate(s).unwrap()))
    });
    match spec {
        KeySpec::Rsa2048 => keys[0].clone(),
        KeySpec::Rsa3072 => keys[1].clone(),
        _ => panic!("no shared key for {spec}"),
    }
}

/// A second RSA-2048 key, for wrong-recipient checks.
fn other_rsa_2048() -> Arc<PrivateKey> {
    static KEY: OnceLock<Arc<PrivateKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(PrivateKey::generate(KeySpec::Rsa2048).unwrap()))
        .clone()
}

/// Write `key` as `<stem>.pem` and a self-signed certificate for it as `<stem>.crt`.
fn write_key_and_certificate(dir: &Workdir, stem: &str, key: &PrivateKey) -> Vec<u8> {
    dir.write(
        &format!("{stem}.pem"),
        key.to_pkcs8_pem(None).unwrap().as_bytes(),
    );
    dir.openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        &format!("{stem}.pem"),
        "-subj",
        &format!("/C=CN/O=yinxin/CN={stem}"),
        "-days",
        "1",
        "-outform",
        "DER",
        "-out",
        &format!("{stem}.der"),
    ]);
    dir.read(&format!("{stem}.der"))
}

fn handle(key: &Arc<PrivateKey>) -> KeyHandle {
    KeyHandle::new(key.clone())
}

#[test]
fn openssl_decrypts_what_yinxin_seals() {
    let dir = Workdir::new();
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072] {
        let key = rsa_key(spec);
        let stem = spec.name();
        let cert = write_key_and_certificate(&dir, stem, &key);
        for (i, len) in [0usize, 1, 15, 16, 17, 1000, 70_000]
            .into_iter()
            .enumerate()
        {
            let content = random_bytes(len);
            dir.write("content", &content);
            let recipient = if i % 2 == 0 {
                Recipient::by_key_identifier(key.public_key()).unwrap()
            } else {
                Recipient::by_certificate(&cert).unwrap()
            };
            let envelope =
                enveloped_data::seal(&content, &[recipient], &SealOptions::default()).unwrap();
            dir.write("e.der", enveloped_data::to_der(&envelope).unwrap());
            dir.write("e.pem", enveloped_data::to_pem(&envelope).unwrap());
            for (form, file) in [("DER", "e.der"), ("PEM", "e.pem")] {
                let _ = std::fs::remove_file(dir.file("out"));
                dir.openssl(&[
                    "cms",
                    "-decrypt",
                    "-binary",
                    "-inform",
                    form,
                    "-in",
                    file,
                    "-inkey",
                    &format!("{stem}.pem"),
                    "-out",
                    "out",
                ]);
                assert_eq!(dir.read("out"), content, "{stem}, {len} bytes, {form}");
            }
            // With the certificate, OpenSSL matches the recipient by it.
            if i % 2 == 1 {
                dir.openssl(&[
                    "cms",
                    "-decrypt",
                    "-binary",
                    "-inform",
                    "DER",
                    "-in",
                    "e.der",
                    "-recip",
                    &format!("{stem}.der"),
                    "-inkey",
                    &format!("{stem}.pem"),
                    "-out",
                    "out",
                ]);
                assert_eq!(dir.read("out"), content);
            }
        }
    }
}

#[test]
fn openssl_decrypts_an_envelope_for_two_recipients() {
    let dir = Workdir::new();
    let a = rsa_key(KeySpec::Rsa2048);
    let b = rsa_key(KeySpec::Rsa3072);
    dir.write("a.pem", a.to_pkcs8_pem(None).unwrap().as_bytes());
    dir.write("b.pem", b.to_pkcs8_pem(None).unwrap().as_bytes());
    let content = random_bytes(300);
    let recipients = [
        Recipient::by_key_identifier(a.public_key()).unwrap(),
        Recipient::by_key_identifier(b.public_key()).unwrap(),
    ];
    let envelope = enveloped_data::seal(&content, &recipients, &SealOptions::default()).unwrap();
    dir.write("e.der", enveloped_data::to_der(&envelope).unwrap());
    for key in ["a.pem", "b.pem"] {
        dir.openssl(&[
            "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "e.der", "-inkey", key, "-out",
            "out",
        ]);
        assert_eq!(dir.read("out"), content, "{key}");
    }
    let decoded = enveloped_data::decode(&enveloped_data::to_der(&envelope).unwrap()).unwrap();
    assert_eq!(
        &enveloped_data::open(&decoded, &handle(&a)).unwrap()[..],
        &content[..]
    );
    assert_eq!(
        &enveloped_data::open(&decoded, &handle(&b)).unwrap()[..],
        &content[..]
    );
}

#[test]
fn openssl_parses_what_yinxin_writes() {
    let dir = Workdir::new();
    let key = rsa_key(KeySpec::Rsa2048);
    let recipient = Recipient::by_key_identifier(key.public_key()).unwrap();
    let envelope = enveloped_data::seal(b"tender", &[recipient], &SealOptions::default()).unwrap();
    dir.write("e.der", enveloped_data::to_der(&envelope).unwrap());
    dir.write("e.pem", enveloped_data::to_pem(&envelope).unwrap());
    assert!(
        String::from_utf8(dir.read("e.pem"))
            .unwrap()
            .starts_with("-----BEGIN CMS-----\n")
    );
    let asn1 =
        String::from_utf8(dir.openssl(&["asn1parse", "-inform", "DER", "-in", "e.der"])).unwrap();
    for expected in [
        "pkcs7-envelopedData",
        "rsaesOaep",
        "mgf1",
        "sha256",
        "pkcs7-data",
        "aes-256-cbc",
    ] {
        assert!(
            asn1.contains(expected),
            "asn1parse lacks {expected}:\n{asn1}"
        );
    }
    // OpenSSL prints the key identifier as a hex dump: "bc 9a 1c a1 …".
    let ski = subject_key_identifier(key.public_key()).unwrap();
    let ski_start = ski[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    for (form, file) in [("DER", "e.der"), ("PEM", "e.pem")] {
        let printed = String::from_utf8(
            dir.openssl(&["cms", "-cmsout", "-print", "-inform", form, "-in", file]),
        )
        .unwrap();
        for expected in [
            "contentType: pkcs7-envelopedData",
            "version: 2",
            "d.subjectKeyIdentifier",
            "algorithm: rsaesOaep",
            ":sha256",
            ":mgf1",
            "algorithm: aes-256-cbc",
            "contentType: pkcs7-data",
            &ski_start,
        ] {
            assert!(
                printed.contains(expected),
                "cms -print lacks {expected}:\n{printed}"
            );
        }
    }
}

/// The ways `openssl cms -encrypt` may address and protect an envelope.
const OPENSSL_VARIANTS: [(&str, &[&str]); 6] = [
    ("PKCS#1 v1.5", &[]),
    (
        "OAEP SHA-256",
        &[
            "-keyopt",
            "rsa_padding_mode:oaep",
            "-keyopt",
            "rsa_oaep_md:sha256",
        ],
    ),
    ("OAEP SHA-1", &["-keyopt", "rsa_padding_mode:oaep"]),
    (
        "OAEP SHA-512",
        &[
            "-keyopt",
            "rsa_padding_mode:oaep",
            "-keyopt",
            "rsa_oaep_md:sha512",
        ],
    ),
    ("key identifier", &["-keyid"]),
    (
        "key identifier, OAEP SHA-256",
        &[
            "-keyid",
            "-keyopt",
            "rsa_padding_mode:oaep",
            "-keyopt",
            "rsa_oaep_md:sha256",
        ],
    ),
];

#[test]
fn yinxin_opens_what_openssl_encrypts() {
    let dir = Workdir::new();
    dir.openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-subj",
        "/C=CN/O=peer/CN=recipient",
        "-days",
        "1",
    ]);
    dir.openssl(&[
        "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
    ]);
    let key_pem = String::from_utf8(dir.read("key.pem")).unwrap();
    let key = Arc::new(PrivateKey::from_pem(&key_pem, None).unwrap());
    let token_key = handle(&key);
    let cert = dir.read("cert.der");
    let content = random_bytes(777);
    dir.write("content", &content);
    let ciphers = [
        ("-aes128", ContentEncryptionAlgorithm::Aes128Cbc),
        ("-aes192", ContentEncryptionAlgorithm::Aes192Cbc),
        ("-aes256", ContentEncryptionAlgorithm::Aes256Cbc),
    ];
    for (cipher, expected_cipher) in ciphers {
        for (variant, options) in OPENSSL_VARIANTS {
            for form in ["DER", "PEM"] {
                let what = format!("{cipher}, {variant}, {form}");
                let mut args = vec![
                    "cms", "-encrypt", "-binary", cipher, "-in", "content", "-outform", form,
                    "-out", "e",
                ];
                if options.iter().any(|o| o.starts_with("-keyopt")) {
                    args.extend(["-recip", "cert.pem"]);
                    args.extend(options.iter().copied());
                } else {
                    args.extend(options.iter().copied());
                    args.push("cert.pem");
                }
                dir.openssl(&args);
                let envelope = enveloped_data::decode(&dir.read("e"))
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(
                    enveloped_data::content_encryption(&envelope).unwrap(),
                    expected_cipher
                );
                let opened = enveloped_data::open(&envelope, &token_key)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(&opened[..], &content[..], "{what}");
                let opened = enveloped_data::open_with_certificate(&envelope, &token_key, &cert)
                    .unwrap_or_else(|e| panic!("{what}, with the certificate: {e}"));
                assert_eq!(&opened[..], &content[..], "{what}");
                // Another key of the same size: the envelope does not open.
                let stranger = handle(&other_rsa_2048());
                let err = enveloped_data::open(&envelope, &stranger).unwrap_err();
                assert!(
                    matches!(err, Error::DecryptionFailed | Error::NoMatchingRecipient),
                    "{what}: {err}"
                );
                // A key of another size is not even tried.
                let err = enveloped_data::open(&envelope, &handle(&rsa_key(KeySpec::Rsa3072)))
                    .unwrap_err();
                assert!(matches!(err, Error::NoMatchingRecipient), "{what}: {err}");
            }
        }
    }
    // Streamed (indefinite-length BER) output.
    dir.openssl(&[
        "cms", "-encrypt", "-binary", "-aes256", "-stream", "-in", "content", "-outform", "DER",
        "-out", "e.ber", "cert.pem",
    ]);
    let envelope = enveloped_data::decode(&dir.read("e.ber")).unwrap();
    assert_eq!(
        &enveloped_data::open(&envelope, &token_key).unwrap()[..],
        &content[..]
    );
}

#[test]
fn key_identifiers_are_openssls() {
    let dir = Workdir::new();
    let key = rsa_key(KeySpec::Rsa3072);
    write_key_and_certificate(&dir, "k", &key);
    // OpenSSL's default configuration gives self-signed certificates subjectKeyIdentifier=hash.
    let text = String::from_utf8(dir.openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        "k.der",
        "-noout",
        "-ext",
        "subjectKeyIdentifier",
    ]))
    .unwrap();
    let from_openssl: String = text
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .replace(':', "")
        .to_lowercase();
    assert_eq!(
        hex::encode(subject_key_identifier(key.public_key()).unwrap()),
        from_openssl
    );
}

#[test]
fn key_delivery_round_trips_and_refuses_others() {
    for spec in [KeySpec::Sm2, KeySpec::Rsa2048] {
        let token_signing_key = Arc::new(PrivateKey::generate(spec).unwrap());
        let escrowed = PrivateKey::generate(spec).unwrap();
        let delivered = key_delivery::seal(token_signing_key.public_key(), &escrowed).unwrap();
        assert_eq!(
            delivered.format,
            DeliveryFormat::for_algorithm(spec.algorithm()).unwrap()
        );
        let opened = key_delivery::open(
            &handle(&token_signing_key),
            delivered.format,
            &delivered.der,
        )
        .unwrap();
        assert_eq!(opened.public_key(), escrowed.public_key());
        let opened =
            key_delivery::open_detected(&handle(&token_signing_key), &delivered.der).unwrap();
        assert_eq!(opened.public_key(), escrowed.public_key());
        let stranger = PrivateKey::generate(spec).unwrap();
        let err = key_delivery::open(&stranger, delivered.format, &delivered.der).unwrap_err();
        assert!(
            matches!(err, Error::DecryptionFailed | Error::NoMatchingRecipient),
            "{spec}: {err}"
        );
    }
}

/// Every truncation and every flipped bit (two per byte) of a delivered key fails with an
/// error, for both formats.
#[test]
fn tampered_envelopes_fail_cleanly() {
    let token_signing_key = rsa_key(KeySpec::Rsa2048);
    let opener = handle(&token_signing_key);
    let sm2_signing_key = Arc::new(PrivateKey::generate(KeySpec::Sm2).unwrap());
    let sm2_escrowed = PrivateKey::generate(KeySpec::Sm2).unwrap();
    let cases = [
        (
            handle(&token_signing_key),
            key_delivery::seal(token_signing_key.public_key(), &other_rsa_2048()).unwrap(),
        ),
        (
            handle(&sm2_signing_key),
            key_delivery::seal(sm2_signing_key.public_key(), &sm2_escrowed).unwrap(),
        ),
    ];
    for (opener, delivered) in &cases {
        let format = delivered.format;
        for len in 0..delivered.der.len() {
            assert!(
                key_delivery::open(opener, format, &delivered.der[..len]).is_err(),
                "{format} truncated to {len}"
            );
        }
        for i in 0..delivered.der.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = delivered.der.clone();
                bad[i] ^= bit;
                assert!(
                    key_delivery::open(opener, format, &bad).is_err(),
                    "{format} byte {i} ^ {bit:#x}"
                );
            }
        }
        let mut longer = delivered.der.clone();
        longer.push(0);
        assert!(key_delivery::open(opener, format, &longer).is_err());
    }

    // Arbitrary content is not authenticated by CBC, but no bit flip makes yinxin panic.
    let envelope = enveloped_data::seal(
        b"open tender, lot 7",
        &[Recipient::by_key_identifier(token_signing_key.public_key()).unwrap()],
        &SealOptions::default(),
    )
    .unwrap();
    let der = enveloped_data::to_der(&envelope).unwrap();
    for i in 0..der.len() {
        let mut bad = der.clone();
        bad[i] ^= 0x04;
        if let Ok(e) = enveloped_data::decode(&bad) {
            let _ = enveloped_data::open(&e, &opener);
        }
    }
    for junk in [
        &b""[..],
        b"\x30",
        b"\x30\x80",
        b"-----BEGIN CMS-----\n",
        b"\xff\xff\xff",
    ] {
        assert!(enveloped_data::decode(junk).is_err());
    }
}

#[test]
fn what_yinxin_reads_and_refuses() {
    let key = rsa_key(KeySpec::Rsa2048);
    let envelope = enveloped_data::seal(
        b"x",
        &[Recipient::by_key_identifier(key.public_key()).unwrap()],
        &SealOptions {
            content_encryption: ContentEncryptionAlgorithm::Sm4Cbc,
            ..SealOptions::default()
        },
    )
    .unwrap();
    // Bare EnvelopedData (no ContentInfo) reads too.
    let bare = der::Encode::to_der(&envelope).unwrap();
    let decoded = enveloped_data::decode(&bare).unwrap();
    assert_eq!(
        &enveloped_data::open(&decoded, &handle(&key)).unwrap()[..],
        b"x"
    );
    let RecipientInfo::Ktri(ktri) = decoded.recip_infos.0.iter().next().unwrap() else {
        panic!("one key transport recipient");
    };
    assert!(matches!(
        ktri.rid,
        RecipientIdentifier::SubjectKeyIdentifier(_)
    ));
    assert_eq!(
        yinxin_cms::algorithm::key_transport_scheme(&ktri.key_enc_alg).unwrap(),
        KEY_TRANSPORT
    );
    // Another content type in the ContentInfo.
    let signed =
        yinxin_cms::content_info::wrap(yinxin_cms::oid::ID_SIGNED_DATA, &envelope).unwrap();
    let der = yinxin_cms::content_info::to_der(&signed).unwrap();
    assert!(matches!(
        enveloped_data::decode(&der),
        Err(Error::WrongContentType { .. })
    ));
    // A PEM block of another kind.
    assert!(matches!(
        enveloped_data::decode(key.public_key().to_pem().as_bytes()),
        Err(Error::WrongPemLabel { .. })
    ));
    // SM2 and EC keys are recipients too (tests/cms/envelopes.rs), but not of this envelope.
    for spec in [KeySpec::Sm2, KeySpec::EcP256] {
        let k = PrivateKey::generate(spec).unwrap();
        assert!(Recipient::by_key_identifier(k.public_key()).is_ok());
        let err = enveloped_data::open(&decoded, &k).unwrap_err();
        assert!(matches!(err, Error::NoMatchingRecipient), "{err}");
    }
    assert!(matches!(
        enveloped_data::seal(b"x", &[], &SealOptions::default()),
        Err(Error::Unsupported(_))
    ));
    // A certificate that is not the key's.
    let dir = Workdir::new();
    let cert = write_key_and_certificate(&dir, "other", &other_rsa_2048());
    assert!(enveloped_data::open_with_certificate(&decoded, &handle(&key), &cert).is_err());
    let _: &PublicKey = Decrypter::public_key(&handle(&key));
}
