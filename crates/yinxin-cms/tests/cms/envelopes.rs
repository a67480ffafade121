//! Digital envelopes to RSA, EC (P-256, P-384) and SM2 recipients, against real peers:
//!
//! * `openssl cms -decrypt` opens what yinxin seals (RSA OAEP and PKCS#1 v1.5, ECDH on
//!   P-256 and P-384, AES-128/256-CBC, issuer-and-serial and key-identifier recipients, several
//!   recipients of mixed kinds in one envelope);
//! * yinxin opens what `openssl cms -encrypt` writes (RSA v1.5 and OAEP, ECDH with OpenSSL's
//!   default SHA-1 KDF and with SHA-256, `-aes128`/`-aes256`, `-keyid`, several recipients);
//! * SM2 per GM/T 0010 in both forms: round trips, the pieces checked by OpenSSL's SM2
//!   decryption and SM4-CBC (`pkeyutl`, `enc`) both ways, and a pinned vector
//!   (`tests/vectors/enveloped-gmt0010-*`, see the README there);
//! * keys on SoftHSM2 through `Pkcs11Token` (RSA decryption and ECDH inside the device);
//! * tampering, wrong keys, garbage and truncation: typed errors, never a panic;
//! * `AuthEnvelopedData` (RFC 5083) with AES-128/256-GCM both ways with `openssl cms`
//!   (`-aes-128-gcm`, `-aes-256-gcm`) to RSA and P-256 recipients, SM4-GCM to SM2 ones, every
//!   changed byte of ciphertext, tag and nonce failing as `IntegrityCheckFailed`, and the API
//!   that treats both envelope kinds alike (`seal_message`, `open_message`,
//!   `describe_message`).

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::sync::Arc;

use der::asn1::OctetString;
use der::{Decode, Encode};
use yinxin_cms::Error;
use yinxin_cms::algorithm::{
    AuthEncryptionAlgorithm, ContentCipher, ContentEncryptionAlgorithm, KeyAgreementAlgorithm,
};
use yinxin_cms::enveloped_data::{
    self, EnvelopeKind, Form, KeyAgreeRecipientIdentifier, Recipient, RecipientIdentifier,
    RecipientInfo, SealOptions, authenticated,
};
use yinxin_cms::oid;
use yinxin_crypto::{Decrypter, EncryptionScheme, KeyHandle, PrivateKey};

use super::Workdir;

/// A recipient made by OpenSSL: its key (also as a yinxin key) and self-signed certificate
/// (with a subject key identifier extension, RFC 5280 method 1, as OpenSSL 3 adds).
struct Party {
    name: String,
    key: PrivateKey,
    cert_der: Vec<u8>,
}

impl Party {
    /// `kind`: `rsa`, `p256`, `p384` or `sm2`.
    fn new(dir: &Workdir, name: &str, kind: &str) -> Self {
        let key_file = format!("{name}.key");
        match kind {
            "rsa" => dir.openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                &key_file,
            ]),
            "p256" | "p384" => dir.openssl(&[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                if kind == "p256" {
                    "ec_paramgen_curve:P-256"
                } else {
                    "ec_paramgen_curve:P-384"
                },
                "-out",
                &key_file,
            ]),
            "sm2" => dir.openssl(&["genpkey", "-algorithm", "SM2", "-out", &key_file]),
            other => panic!("unknown kind {other}"),
        };
        let cert_file = format!("{name}.crt");
        let subject = format!("/CN={name}");
        let mut args = vec![
            "req", "-x509", "-key", &key_file, "-subj", &subject, "-days", "30", "-out", &cert_file,
        ];
        if kind == "sm2" {
            args.extend(["-sm3", "-sigopt", "distid:1234567812345678"]);
        }
        dir.openssl(&args);
        dir.openssl(&[
            "x509",
            "-in",
            &cert_file,
            "-outform",
            "DER",
            "-out",
            &format!("{name}.cer"),
        ]);
        let pem = String::from_utf8(dir.read(&key_file)).unwrap();
        Party {
            name: name.to_string(),
            key: PrivateKey::from_pem(&pem, None).unwrap(),
            cert_der: dir.read(&format!("{name}.cer")),
        }
    }

    fn handle(&self) -> KeyHandle {
        KeyHandle::new(Arc::new(
            PrivateKey::from_der(&self.key.to_pkcs8_der().unwrap()).unwrap(),
        ))
    }

    fn by_certificate(&self) -> Recipient {
        Recipient::by_certificate(&self.cert_der).unwrap()
    }

    fn by_key(&self) -> Recipient {
        Recipient::by_key_identifier(self.key.public_key()).unwrap()
    }

    /// `openssl cms -decrypt` of `envelope` (DER file) with this party's key and certificate.
    fn openssl_decrypts(&self, dir: &Workdir, envelope: &str) -> Vec<u8> {
        dir.openssl(&[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            envelope,
            "-recip",
            &format!("{}.crt", self.name),
            "-inkey",
            &format!("{}.key", self.name),
        ])
    }
}

fn content() -> Vec<u8> {
    (0..1000u32).map(|i| (i * 7 + 3) as u8).collect()
}

fn aes(bits: u32) -> ContentEncryptionAlgorithm {
    match bits {
        128 => ContentEncryptionAlgorithm::Aes128Cbc,
        _ => ContentEncryptionAlgorithm::Aes256Cbc,
    }
}

#[test]
fn openssl_opens_what_yinxin_seals_to_rsa_and_ec() {
    let dir = Workdir::new();
    let parties = [
        Party::new(&dir, "rsa", "rsa"),
        Party::new(&dir, "p256", "p256"),
        Party::new(&dir, "p384", "p384"),
    ];
    let content = content();
    for party in &parties {
        for bits in [128, 256] {
            for by_certificate in [true, false] {
                let recipient = if by_certificate {
                    party.by_certificate()
                } else {
                    party.by_key()
                };
                let options = SealOptions {
                    content_encryption: aes(bits),
                    ..SealOptions::default()
                };
                let envelope = enveloped_data::seal(&content, &[recipient], &options).unwrap();
                dir.write("e.der", enveloped_data::to_der(&envelope).unwrap());
                assert_eq!(
                    party.openssl_decrypts(&dir, "e.der"),
                    content,
                    "{} AES-{bits} by certificate {by_certificate}",
                    party.name
                );
            }
        }
    }
    // RSA key transport as asked: OAEP with SHA-1 and PKCS#1 v1.5 for legacy readers.
    for scheme in [EncryptionScheme::RsaOaepSha1, EncryptionScheme::RsaPkcs1v15] {
        let options = SealOptions {
            rsa_key_transport: scheme,
            ..SealOptions::default()
        };
        let envelope =
            enveloped_data::seal(&content, &[parties[0].by_certificate()], &options).unwrap();
        dir.write("e.der", enveloped_data::to_der(&envelope).unwrap());
        assert_eq!(
            parties[0].openssl_decrypts(&dir, "e.der"),
            content,
            "{scheme}"
        );
        let back = enveloped_data::decode(&dir.read("e.der")).unwrap();
        assert_eq!(
            &enveloped_data::open(&back, &parties[0].handle()).unwrap()[..],
            &content[..]
        );
    }
    // The P-384 recipient info carries what RFC 5753 / RFC 6318 pair with the curve.
    let envelope =
        enveloped_data::seal(b"x", &[parties[2].by_key()], &SealOptions::default()).unwrap();
    let RecipientInfo::Kari(kari) = envelope.recip_infos.0.iter().next().unwrap() else {
        panic!("a key agreement recipient");
    };
    assert_eq!(kari.key_enc_alg.oid, oid::DH_STD_SHA384_KDF);
    assert_eq!(
        KeyAgreementAlgorithm::from_identifier(&kari.key_enc_alg).unwrap(),
        KeyAgreementAlgorithm::for_key(yinxin_crypto::KeyAlgorithm::EcP384).unwrap()
    );
    assert!(matches!(
        kari.recipient_enc_keys[0].rid,
        KeyAgreeRecipientIdentifier::RKeyId(_)
    ));
}

#[test]
fn one_envelope_to_rsa_ec_and_sm2_recipients() {
    let dir = Workdir::new();
    let rsa = Party::new(&dir, "rsa", "rsa");
    let p256 = Party::new(&dir, "p256", "p256");
    let p384 = Party::new(&dir, "p384", "p384");
    let sm2 = Party::new(&dir, "sm2", "sm2");
    let content = content();
    let recipients = [
        rsa.by_certificate(),
        p256.by_key(),
        p384.by_certificate(),
        sm2.by_certificate(),
    ];
    let envelope = enveloped_data::seal(&content, &recipients, &SealOptions::default()).unwrap();
    assert_eq!(envelope.recip_infos.0.len(), 4);
    let der = enveloped_data::to_der(&envelope).unwrap();
    dir.write("e.der", &der);
    for party in [&rsa, &p256, &p384] {
        assert_eq!(
            party.openssl_decrypts(&dir, "e.der"),
            content,
            "{}",
            party.name
        );
    }
    let back = enveloped_data::decode(&der).unwrap();
    for party in [&rsa, &p256, &p384, &sm2] {
        assert_eq!(
            &enveloped_data::open(&back, &party.handle()).unwrap()[..],
            &content[..],
            "{}",
            party.name
        );
        assert_eq!(
            &enveloped_data::open_with_certificate(&back, &party.handle(), &party.cert_der)
                .unwrap()[..],
            &content[..],
            "{}",
            party.name
        );
    }
    // A key that is none of them.
    let stranger = Party::new(&dir, "stranger", "p256");
    assert!(matches!(
        enveloped_data::open(&back, &stranger.handle()),
        Err(Error::NoMatchingRecipient | Error::DecryptionFailed)
    ));
    assert!(matches!(
        enveloped_data::open_with_certificate(&back, &stranger.handle(), &stranger.cert_der),
        Err(Error::NoMatchingRecipient)
    ));
}

#[test]
fn yinxin_opens_what_openssl_seals() {
    let dir = Workdir::new();
    let rsa = Party::new(&dir, "rsa", "rsa");
    let p256 = Party::new(&dir, "p256", "p256");
    let p384 = Party::new(&dir, "p384", "p384");
    let content = content();
    dir.write("m.bin", &content);
    let all = [&rsa, &p256, &p384];
    for cipher in ["-aes128", "-aes256"] {
        for keyid in [false, true] {
            for rsa_options in [&[][..], &["-keyopt", "rsa_padding_mode:oaep"][..]] {
                let mut args = vec![
                    "cms", "-encrypt", "-binary", cipher, "-in", "m.bin", "-outform", "DER",
                    "-out", "e.der",
                ];
                if keyid {
                    args.push("-keyid");
                }
                args.extend(["-recip", "rsa.crt"]);
                args.extend(rsa_options);
                args.extend(["-recip", "p256.crt", "-recip", "p384.crt"]);
                dir.openssl(&args);
                let envelope = enveloped_data::decode(&dir.read("e.der")).unwrap();
                for party in all {
                    let what = format!("{} {cipher} keyid {keyid} {rsa_options:?}", party.name);
                    assert_eq!(
                        &enveloped_data::open(&envelope, &party.handle()).unwrap()[..],
                        &content[..],
                        "{what}"
                    );
                    assert_eq!(
                        &enveloped_data::open_with_certificate(
                            &envelope,
                            &party.handle(),
                            &party.cert_der
                        )
                        .unwrap()[..],
                        &content[..],
                        "{what}"
                    );
                }
            }
        }
    }
    // ECDH with a SHA-256 KDF (OpenSSL's default is SHA-1), PEM output.
    dir.openssl(&[
        "cms",
        "-encrypt",
        "-binary",
        "-aes256",
        "-in",
        "m.bin",
        "-outform",
        "PEM",
        "-out",
        "e.pem",
        "-recip",
        "p256.crt",
        "-keyopt",
        "ecdh_kdf_md:sha256",
    ]);
    let envelope = enveloped_data::decode(&dir.read("e.pem")).unwrap();
    let RecipientInfo::Kari(kari) = envelope.recip_infos.0.iter().next().unwrap() else {
        panic!("a key agreement recipient");
    };
    assert_eq!(kari.key_enc_alg.oid, oid::DH_STD_SHA256_KDF);
    assert_eq!(
        &enveloped_data::open(&envelope, &p256.handle()).unwrap()[..],
        &content[..]
    );
}

/// The pieces of a GM/T 0010 envelope to one SM2 recipient: SM2 ciphertext of the key, IV,
/// SM4-CBC ciphertext.
fn sm2_parts(envelope: &enveloped_data::EnvelopedData) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let RecipientInfo::Ktri(ktri) = envelope.recip_infos.0.iter().next().unwrap() else {
        panic!("a key transport recipient");
    };
    let (alg, iv) =
        ContentEncryptionAlgorithm::from_identifier(&envelope.encrypted_content.content_enc_alg)
            .unwrap();
    assert_eq!(alg, ContentEncryptionAlgorithm::Sm4Cbc);
    (
        ktri.enc_key.as_bytes().to_vec(),
        iv.to_vec(),
        envelope
            .encrypted_content
            .encrypted_content
            .as_ref()
            .unwrap()
            .as_bytes()
            .to_vec(),
    )
}

#[test]
fn sm2_envelopes_in_both_forms_checked_by_openssl_sm2_and_sm4() {
    let dir = Workdir::new();
    let sm2 = Party::new(&dir, "sm2", "sm2");
    let content = content();
    for form in [Form::GmT0010, Form::Rfc5652] {
        for recipient in [sm2.by_certificate(), sm2.by_key()] {
            let envelope =
                enveloped_data::seal(&content, &[recipient], &SealOptions::sm2(form)).unwrap();
            assert_eq!(enveloped_data::form_of(&envelope), form);
            let der = enveloped_data::to_der(&envelope).unwrap();
            let back = enveloped_data::decode(&der).unwrap();
            assert_eq!(back, envelope);
            let outer = yinxin_cms::content_info::decode(&der).unwrap();
            assert_eq!(outer.content_info.content_type, form.enveloped_data_type());
            assert_eq!(
                &enveloped_data::open(&back, &sm2.handle()).unwrap()[..],
                &content[..]
            );
            // OpenSSL decrypts the SM2 key transport and the SM4-CBC content.
            let (ek, iv, ct) = sm2_parts(&back);
            dir.write("ek.bin", &ek);
            dir.write("ct.bin", &ct);
            let cek = dir.openssl(&["pkeyutl", "-decrypt", "-inkey", "sm2.key", "-in", "ek.bin"]);
            let plain = dir.openssl(&[
                "enc",
                "-d",
                "-sm4-cbc",
                "-K",
                &hex::encode(&cek),
                "-iv",
                &hex::encode(&iv),
                "-in",
                "ct.bin",
            ]);
            assert_eq!(plain, content, "{form:?}");
        }
    }
    // The other way: OpenSSL encrypts a content key to the SM2 key and the content under it
    // with SM4-CBC; yinxin opens the envelope made of those pieces, both SM4 identifiers.
    let cek = [0x5au8; 16];
    let iv = [0xa5u8; 16];
    dir.write("cek.bin", cek);
    dir.write("m.bin", &content);
    dir.openssl(&[
        "x509", "-in", "sm2.crt", "-pubkey", "-noout", "-out", "sm2.pub",
    ]);
    let ek = dir.openssl(&[
        "pkeyutl", "-encrypt", "-pubin", "-inkey", "sm2.pub", "-in", "cek.bin",
    ]);
    let ct = dir.openssl(&[
        "enc",
        "-sm4-cbc",
        "-K",
        &hex::encode(cek),
        "-iv",
        &hex::encode(iv),
        "-in",
        "m.bin",
    ]);
    let mut envelope = enveloped_data::seal(
        b"placeholder",
        &[sm2.by_certificate()],
        &SealOptions::sm2(Form::GmT0010),
    )
    .unwrap();
    {
        let mut infos: Vec<RecipientInfo> = envelope.recip_infos.0.iter().cloned().collect();
        let RecipientInfo::Ktri(ktri) = &mut infos[0] else {
            panic!("a key transport recipient");
        };
        ktri.enc_key = OctetString::new(ek).unwrap();
        envelope.recip_infos = enveloped_data::RecipientInfos::try_from(infos).unwrap();
    }
    envelope.encrypted_content.content_enc_alg =
        ContentEncryptionAlgorithm::Sm4Cbc.identifier(&iv).unwrap();
    envelope.encrypted_content.encrypted_content = Some(OctetString::new(ct).unwrap());
    let der = enveloped_data::to_der(&envelope).unwrap();
    let back = enveloped_data::decode(&der).unwrap();
    assert_eq!(
        &enveloped_data::open(&back, &sm2.handle()).unwrap()[..],
        &content[..]
    );
    // The bare SM4 identifier, as some GM/T 0010 writers spell SM4-CBC.
    envelope.encrypted_content.content_enc_alg.oid = yinxin_crypto::oid::SM4;
    let back = enveloped_data::decode(&enveloped_data::to_der(&envelope).unwrap()).unwrap();
    assert_eq!(
        &enveloped_data::open(&back, &sm2.handle()).unwrap()[..],
        &content[..]
    );
}

/// The directory of the pinned vectors.
fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// Everything of a GM/T 0010 envelope but the random parts (encrypted key, IV, encrypted
/// content), as DER with those fields emptied.
fn structure(envelope: &enveloped_data::EnvelopedData) -> Vec<u8> {
    let mut e = envelope.clone();
    let infos: Vec<RecipientInfo> = e
        .recip_infos
        .0
        .iter()
        .map(|ri| match ri {
            RecipientInfo::Ktri(k) => {
                let mut k = k.clone();
                k.enc_key = OctetString::new(Vec::new()).unwrap();
                RecipientInfo::Ktri(k)
            }
            other => other.clone(),
        })
        .collect();
    e.recip_infos = enveloped_data::RecipientInfos::try_from(infos).unwrap();
    e.encrypted_content.content_enc_alg = ContentEncryptionAlgorithm::Sm4Cbc
        .identifier(&[0u8; 16])
        .unwrap();
    e.encrypted_content.encrypted_content = None;
    enveloped_data::to_der(&e).unwrap()
}

#[test]
fn the_pinned_gmt0010_vector() {
    let key_pem = std::fs::read_to_string(vectors().join("enveloped-gmt0010-sm2-key.pem")).unwrap();
    let cert = std::fs::read(vectors().join("enveloped-gmt0010-sm2-cert.der")).unwrap();
    let content = std::fs::read(vectors().join("enveloped-gmt0010-content.txt")).unwrap();
    let key = PrivateKey::from_pem(&key_pem, None).unwrap();
    let path = vectors().join("enveloped-gmt0010-sm2.der");
    if std::env::var_os("YINXIN_WRITE_VECTORS").is_some() {
        let recipient = Recipient::by_certificate(&cert).unwrap();
        let envelope =
            enveloped_data::seal(&content, &[recipient], &SealOptions::sm2(Form::GmT0010)).unwrap();
        std::fs::write(&path, enveloped_data::to_der(&envelope).unwrap()).unwrap();
    }
    let der = std::fs::read(&path).unwrap();
    let envelope = enveloped_data::decode(&der).unwrap();
    assert_eq!(
        &enveloped_data::open_with_certificate(&envelope, &key, &cert).unwrap()[..],
        &content[..]
    );
    // The fields GM/T 0010 fixes, one by one (see tests/vectors/README.md).
    let outer = yinxin_cms::content_info::decode(&der).unwrap();
    assert_eq!(outer.content_info.content_type, oid::GMT_ENVELOPED_DATA);
    assert_eq!(envelope.version as u8, 1);
    assert!(envelope.originator_info.is_none() && envelope.unprotected_attrs.is_none());
    let RecipientInfo::Ktri(ktri) = envelope.recip_infos.0.iter().next().unwrap() else {
        panic!("a key transport recipient");
    };
    assert_eq!(envelope.recip_infos.0.len(), 1);
    assert_eq!(ktri.version as u8, 1);
    let RecipientIdentifier::IssuerAndSerialNumber(ias) = &ktri.rid else {
        panic!("issuer and serial number");
    };
    let certificate = x509_cert::Certificate::from_der(&cert).unwrap();
    assert_eq!(&ias.issuer, certificate.tbs_certificate().issuer());
    assert_eq!(
        &ias.serial_number,
        certificate.tbs_certificate().serial_number()
    );
    assert_eq!(
        ktri.key_enc_alg.to_der().unwrap(),
        hex::decode("300b06092a811ccf5501822d03").unwrap()
    );
    // encryptedKey: GM/T 0009 SM2Cipher SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING
    // (32), ciphertext OCTET STRING (16, the SM4 key) }.
    let ek = ktri.enc_key.as_bytes();
    assert_eq!(ek[0], 0x30);
    assert!(ek.len() >= 2 + 2 * 34 + 34 + 18 - 4 && ek.len() <= 2 + 2 * 35 + 34 + 18);
    assert_eq!(&ek[ek.len() - 18..ek.len() - 16], &[0x04, 0x10]);
    let eci = &envelope.encrypted_content;
    assert_eq!(eci.content_type, oid::GMT_DATA);
    assert_eq!(eci.content_enc_alg.oid, oid::SM4_CBC);
    let iv: OctetString = eci
        .content_enc_alg
        .parameters
        .as_ref()
        .unwrap()
        .decode_as()
        .unwrap();
    assert_eq!(iv.as_bytes().len(), 16);
    assert_eq!(
        eci.encrypted_content.as_ref().unwrap().as_bytes().len(),
        (content.len() / 16 + 1) * 16
    );
    // yinxin writes the same structure today, the random parts aside.
    let fresh = enveloped_data::seal(
        &content,
        &[Recipient::by_certificate(&cert).unwrap()],
        &SealOptions::sm2(Form::GmT0010),
    )
    .unwrap();
    assert_eq!(structure(&fresh), structure(&envelope));
    // And OpenSSL's SM2 and SM4 open its pieces.
    let dir = Workdir::new();
    dir.write("k.pem", &key_pem);
    let (ek, iv, ct) = sm2_parts(&envelope);
    dir.write("ek.bin", &ek);
    dir.write("ct.bin", &ct);
    let cek = dir.openssl(&["pkeyutl", "-decrypt", "-inkey", "k.pem", "-in", "ek.bin"]);
    let plain = dir.openssl(&[
        "enc",
        "-d",
        "-sm4-cbc",
        "-K",
        &hex::encode(&cek),
        "-iv",
        &hex::encode(&iv),
        "-in",
        "ct.bin",
    ]);
    assert_eq!(plain, content);
}

/// Flip one bit of `der` at `at` and open the result with `key`.
fn open_flipped(
    der: &[u8],
    at: usize,
    key: &dyn Decrypter,
) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    let mut bad = der.to_vec();
    bad[at] ^= 0x01;
    enveloped_data::open(&enveloped_data::decode(&bad)?, key)
}

/// Where `needle` sits in `haystack`.
fn position(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

#[test]
fn tampering_and_wrong_keys_fail_cleanly() {
    let dir = Workdir::new();
    let parties = [
        Party::new(&dir, "rsa", "rsa"),
        Party::new(&dir, "p256", "p256"),
        Party::new(&dir, "sm2", "sm2"),
    ];
    // 37 bytes: three blocks of ciphertext, the last holding 11 bytes of padding.
    let content = b"sealed bid: 1,234,567.89 CNY, lot 42";
    for party in &parties {
        for form in [Form::Rfc5652, Form::GmT0010] {
            let options = if party.name == "sm2" {
                SealOptions::sm2(form)
            } else {
                SealOptions {
                    form,
                    ..SealOptions::default()
                }
            };
            let envelope = enveloped_data::seal(content, &[party.by_key()], &options).unwrap();
            let der = enveloped_data::to_der(&envelope).unwrap();
            let key = party.handle();
            let what = format!("{} {form:?}", party.name);
            // The encrypted key (RSA-OAEP, SM2's hash, the AES key wrap's check).
            let encrypted_key = match envelope.recip_infos.0.iter().next().unwrap() {
                RecipientInfo::Ktri(k) => k.enc_key.as_bytes().to_vec(),
                RecipientInfo::Kari(k) => k.recipient_enc_keys[0].enc_key.as_bytes().to_vec(),
                _ => panic!("{what}"),
            };
            let at = position(&der, &encrypted_key) + encrypted_key.len() - 5;
            assert!(
                matches!(open_flipped(&der, at, &key), Err(Error::DecryptionFailed)),
                "{what}: encrypted key"
            );
            // The IV and the ciphertext, where CBC's padding notices (RFC 5652 content has
            // no integrity check of its own: elsewhere the content comes out changed).
            let (_, iv) = ContentEncryptionAlgorithm::from_identifier(
                &envelope.encrypted_content.content_enc_alg,
            )
            .unwrap();
            let ciphertext = envelope
                .encrypted_content
                .encrypted_content
                .as_ref()
                .unwrap()
                .as_bytes()
                .to_vec();
            assert_eq!(ciphertext.len(), 48);
            let ct_at = position(&der, &ciphertext);
            let iv_at = position(&der, &iv);
            // Padding bytes of the last block, through the block before it.
            for at in [ct_at + 16 + 15, ct_at + 16 + 10] {
                let got = open_flipped(&der, at, &key);
                assert!(
                    matches!(got, Err(Error::DecryptionFailed)),
                    "{what}: ciphertext at {at}: {got:?}"
                );
            }
            match open_flipped(&der, iv_at, &key) {
                Ok(opened) => assert_ne!(&opened[..], &content[..], "{what}: IV"),
                Err(e) => assert!(e.is_verdict(), "{what}: IV: {e}"),
            }
            assert!(!matches!(
                open_flipped(&der, ct_at + 20, &key),
                Ok(c) if &c[..] == content
            ));
            // Every single flipped bit: an error or an outcome, never a panic (the encrypted
            // content's type is not protected, so some flips open unchanged).
            for at in 0..der.len() {
                let _ = open_flipped(&der, at, &key);
            }
            // Every truncation fails to decode.
            for len in 0..der.len() {
                assert!(
                    enveloped_data::decode(&der[..len]).is_err(),
                    "{what}: {len}"
                );
            }
            // A wrong key of the same kind: not named (key identifier), so no match.
            let other = PrivateKey::generate(match party.name.as_str() {
                "rsa" => yinxin_crypto::KeySpec::Rsa2048,
                "p256" => yinxin_crypto::KeySpec::EcP256,
                _ => yinxin_crypto::KeySpec::Sm2,
            })
            .unwrap();
            assert!(
                matches!(
                    enveloped_data::open(&envelope, &other),
                    Err(Error::NoMatchingRecipient)
                ),
                "{what}"
            );
        }
        // Named by certificate, a wrong key is tried and fails.
        let envelope =
            enveloped_data::seal(content, &[party.by_certificate()], &SealOptions::default())
                .unwrap();
        let other = Party::new(
            &dir,
            &format!("other-{}", party.name),
            match party.name.as_str() {
                "rsa" => "rsa",
                "p256" => "p256",
                _ => "sm2",
            },
        );
        assert!(
            matches!(
                enveloped_data::open(&envelope, &other.handle()),
                Err(Error::DecryptionFailed)
            ),
            "{}",
            party.name
        );
    }
}

#[test]
fn garbage_never_panics() {
    let key = PrivateKey::generate(yinxin_crypto::KeySpec::EcP256).unwrap();
    let mut seed = 0x1234_5678u32;
    for len in [0usize, 1, 2, 5, 17, 64, 300] {
        for _ in 0..50 {
            let junk: Vec<u8> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    if i == 0 { 0x30 } else { (seed >> 16) as u8 }
                })
                .collect();
            if let Ok(e) = enveloped_data::decode(&junk) {
                let _ = enveloped_data::open(&e, &key);
            }
        }
    }
}

/// SoftHSM2 reads `$SOFTHSM2_CONF` (set for tests in .cargo/config.toml) when first loaded.
/// The yinxin-token tests write it; here it is written only if missing, and the token
/// directory is shared (a fresh token in a free slot, never a wipe).
fn softhsm() -> PathBuf {
    const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
    let module = PathBuf::from(MODULE);
    assert!(
        module.exists(),
        "SoftHSM2 is not installed ({MODULE} missing): apt-get install -y softhsm2"
    );
    let conf = PathBuf::from(std::env::var_os("SOFTHSM2_CONF").unwrap());
    let tokens = conf.with_extension("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    if !conf.exists() {
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
    }
    module
}

#[test]
fn keys_on_softhsm2_open_rsa_and_ec_envelopes() {
    use yinxin_token::{KeyUsage, Pkcs11Token, Token};
    let module = softhsm();
    let label = format!("yinxin-env-{}", std::process::id());
    let mut token = Pkcs11Token::init(&module, &label, "so-pin-1234", "user-pin-1234").unwrap();
    token.login("user-pin-1234").unwrap();
    let content = content();
    for (container, spec, scheme) in [
        // SoftHSM2 implements OAEP with SHA-1 only.
        (
            "rsa",
            yinxin_crypto::KeySpec::Rsa2048,
            EncryptionScheme::RsaOaepSha1,
        ),
        (
            "rsa-v15",
            yinxin_crypto::KeySpec::Rsa2048,
            EncryptionScheme::RsaPkcs1v15,
        ),
        ("p256", yinxin_crypto::KeySpec::EcP256, KEY_TRANSPORT_UNUSED),
        ("p384", yinxin_crypto::KeySpec::EcP384, KEY_TRANSPORT_UNUSED),
    ] {
        let public = token
            .generate_key(container, KeyUsage::Encryption, spec)
            .unwrap();
        let handle = token.decrypter(container, KeyUsage::Encryption).unwrap();
        assert_eq!(handle.public_key(), &public);
        let options = SealOptions {
            rsa_key_transport: scheme,
            ..SealOptions::default()
        };
        let envelope = enveloped_data::seal(
            &content,
            &[Recipient::by_key_identifier(&public).unwrap()],
            &options,
        )
        .unwrap();
        let back = enveloped_data::decode(&enveloped_data::to_der(&envelope).unwrap()).unwrap();
        assert_eq!(
            &enveloped_data::open(&back, handle.as_ref()).unwrap()[..],
            &content[..],
            "{container}"
        );
        // The key stays in the device: ECDH happens there (the shared secret comes out, the
        // private key does not).
        let p = token
            .key_protection(container, KeyUsage::Encryption)
            .unwrap();
        assert!(
            p.sensitive && !p.extractable && !p.value_readable,
            "{container}: {p:?}"
        );
        // Another key of the same kind in software agrees with the device's key.
        if matches!(
            spec,
            yinxin_crypto::KeySpec::EcP256 | yinxin_crypto::KeySpec::EcP384
        ) {
            let software = PrivateKey::generate(spec).unwrap();
            assert_eq!(
                handle.agree(software.public_key()).unwrap(),
                Decrypter::agree(&software, &public).unwrap()
            );
        }
    }
}

/// Unused for EC recipients (no key transport); any RSA scheme will do.
const KEY_TRANSPORT_UNUSED: EncryptionScheme = enveloped_data::KEY_TRANSPORT;

// ---- AuthEnvelopedData (RFC 5083, GCM) and both kinds alike ----

fn gcm(bits: u32) -> ContentCipher {
    match bits {
        128 => ContentCipher::Aes128Gcm,
        _ => ContentCipher::Aes256Gcm,
    }
}

#[test]
fn openssl_opens_what_yinxin_seals_with_gcm() {
    let dir = Workdir::new();
    let rsa = Party::new(&dir, "rsa", "rsa");
    let p256 = Party::new(&dir, "p256", "p256");
    let content = content();
    let mut checked = 0;
    for party in [&rsa, &p256] {
        for bits in [128, 256] {
            for by_certificate in [true, false] {
                let recipient = if by_certificate {
                    party.by_certificate()
                } else {
                    party.by_key()
                };
                let options = SealOptions::default().with_cipher(gcm(bits));
                let der = enveloped_data::seal_message(&content, &[recipient], &options).unwrap();
                let summary = enveloped_data::describe_message(&der).unwrap();
                assert_eq!(summary.kind, EnvelopeKind::AuthEnveloped);
                assert_eq!(summary.content_cipher, Some(gcm(bits)));
                dir.write("e.der", &der);
                let what = format!(
                    "{} AES-{bits}-GCM by certificate {by_certificate}",
                    party.name
                );
                assert_eq!(party.openssl_decrypts(&dir, "e.der"), content, "{what}");
                checked += 1;
            }
        }
    }
    // Both recipients in one envelope, each opened by OpenSSL.
    let options = SealOptions::authenticated(AuthEncryptionAlgorithm::Aes256Gcm);
    let envelope =
        authenticated::seal(&content, &[rsa.by_certificate(), p256.by_key()], &options).unwrap();
    dir.write("e.der", authenticated::to_der(&envelope).unwrap());
    for party in [&rsa, &p256] {
        assert_eq!(
            party.openssl_decrypts(&dir, "e.der"),
            content,
            "{}",
            party.name
        );
        checked += 1;
    }
    assert_eq!(checked, 10);
}

#[test]
fn yinxin_opens_what_openssl_seals_with_gcm() {
    let dir = Workdir::new();
    let rsa = Party::new(&dir, "rsa", "rsa");
    let p256 = Party::new(&dir, "p256", "p256");
    let content = content();
    dir.write("m.bin", &content);
    for (cipher, expected) in [
        ("-aes-128-gcm", ContentCipher::Aes128Gcm),
        ("-aes-256-gcm", ContentCipher::Aes256Gcm),
    ] {
        for keyid in [false, true] {
            for outform in ["DER", "PEM"] {
                let mut args = vec![
                    "cms", "-encrypt", "-binary", cipher, "-in", "m.bin", "-outform", outform,
                    "-out", "e",
                ];
                if keyid {
                    args.push("-keyid");
                }
                args.extend(["-recip", "rsa.crt", "-keyopt", "rsa_padding_mode:oaep"]);
                args.extend(["-recip", "p256.crt"]);
                dir.openssl(&args);
                let data = dir.read("e");
                let what = format!("{cipher} keyid {keyid} {outform}");
                let summary = enveloped_data::describe_message(&data).unwrap();
                assert_eq!(summary.kind, EnvelopeKind::AuthEnveloped, "{what}");
                assert_eq!(summary.form, Form::Rfc5652, "{what}");
                assert_eq!(summary.content_cipher, Some(expected), "{what}");
                assert_eq!(summary.recipients.len(), 2, "{what}");
                assert_eq!(
                    summary.recipients[0].kind,
                    enveloped_data::RecipientKind::KeyTransport
                );
                assert_eq!(
                    summary.recipients[1].kind,
                    enveloped_data::RecipientKind::KeyAgreement
                );
                for party in [&rsa, &p256] {
                    for certificate in [None, Some(&party.cert_der[..])] {
                        let opened =
                            enveloped_data::open_message(&data, &party.handle(), certificate)
                                .unwrap_or_else(|e| panic!("{what} {}: {e}", party.name));
                        assert_eq!(&opened[..], &content[..], "{what} {}", party.name);
                    }
                }
                // One changed byte of OpenSSL's ciphertext or tag: the precise verdict.
                let envelope = authenticated::decode(&data).unwrap();
                let der = authenticated::to_der(&envelope).unwrap();
                let ciphertext = envelope
                    .auth_encrypted_content_info
                    .encrypted_content
                    .as_ref()
                    .unwrap()
                    .as_bytes();
                for at in [
                    position(&der, ciphertext) + 7,
                    position(&der, envelope.mac.as_bytes()) + 15,
                ] {
                    let got = open_message_flipped(&der, at, &rsa.handle(), None);
                    assert!(
                        matches!(got, Err(Error::IntegrityCheckFailed)),
                        "{what} at {at}: {got:?}"
                    );
                }
            }
        }
    }
}

/// Flip one bit of `der` at `at` and open the result (either kind) with `key`.
fn open_message_flipped(
    der: &[u8],
    at: usize,
    key: &dyn Decrypter,
    certificate: Option<&[u8]>,
) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    let mut bad = der.to_vec();
    bad[at] ^= 0x01;
    enveloped_data::open_message(&bad, key, certificate)
}

#[test]
fn gcm_envelopes_detect_every_changed_byte() {
    let dir = Workdir::new();
    let parties = [
        (Party::new(&dir, "rsa", "rsa"), ContentCipher::Aes256Gcm),
        (Party::new(&dir, "p256", "p256"), ContentCipher::Aes128Gcm),
        (Party::new(&dir, "sm2", "sm2"), ContentCipher::Sm4Gcm),
    ];
    let content = b"sealed bid: 1,234,567.89 CNY, lot 42";
    let mut integrity_verdicts = 0;
    for (party, cipher) in &parties {
        let key = party.handle();
        for by_certificate in [false, true] {
            let (recipient, certificate) = if by_certificate {
                (party.by_certificate(), Some(&party.cert_der[..]))
            } else {
                (party.by_key(), None)
            };
            let options = SealOptions::default().with_cipher(*cipher);
            let der = enveloped_data::seal_message(content, &[recipient], &options).unwrap();
            let what = format!("{} {cipher} by certificate {by_certificate}", party.name);
            assert_eq!(
                &enveloped_data::open_message(&der, &key, certificate).unwrap()[..],
                content,
                "{what}"
            );
            let envelope = authenticated::decode(&der).unwrap();
            let info = &envelope.auth_encrypted_content_info;
            let ciphertext = info.encrypted_content.as_ref().unwrap().as_bytes();
            assert_eq!(ciphertext.len(), content.len(), "{what}: GCM does not pad");
            let (_, nonce) =
                AuthEncryptionAlgorithm::from_identifier(&info.content_enc_alg).unwrap();
            let tag = envelope.mac.as_bytes();
            assert_eq!(tag.len(), 16);
            // Every byte of the ciphertext, the tag and the nonce: the tag does not verify.
            let ct_at = position(&der, ciphertext);
            let tag_at = position(&der, tag);
            let nonce_at = position(&der, &nonce);
            let authenticated_positions = (ct_at..ct_at + ciphertext.len())
                .chain(tag_at..tag_at + tag.len())
                .chain(nonce_at..nonce_at + nonce.len());
            for at in authenticated_positions {
                let got = open_message_flipped(&der, at, &key, certificate);
                assert!(
                    matches!(&got, Err(e @ Error::IntegrityCheckFailed) if e.is_verdict()),
                    "{what}: byte {at}: {got:?}"
                );
                integrity_verdicts += 1;
            }
            // Every other byte (recipient info, algorithm identifiers, lengths, tags,
            // versions): an error, never content, and never mistaken for a changed content
            // where the key could not be recovered.
            let recipient_info = envelope.recip_infos.to_der().unwrap();
            let ri_at = position(&der, &recipient_info);
            for at in 0..der.len() {
                let got = open_message_flipped(&der, at, &key, certificate);
                assert!(got.is_err(), "{what}: byte {at} opened");
                if (ri_at..ri_at + recipient_info.len()).contains(&at) {
                    assert!(
                        !matches!(got, Err(Error::IntegrityCheckFailed)),
                        "{what}: recipient info byte {at}: {got:?}"
                    );
                }
            }
            // The encrypted key alone: the key transport or key wrap says so.
            let encrypted_key = match envelope.recip_infos.0.iter().next().unwrap() {
                RecipientInfo::Ktri(k) => k.enc_key.as_bytes().to_vec(),
                RecipientInfo::Kari(k) => k.recipient_enc_keys[0].enc_key.as_bytes().to_vec(),
                _ => panic!("{what}"),
            };
            let at = position(&der, &encrypted_key) + encrypted_key.len() - 5;
            assert!(
                matches!(
                    open_message_flipped(&der, at, &key, certificate),
                    Err(Error::DecryptionFailed)
                ),
                "{what}: encrypted key"
            );
            // Every truncation fails to decode.
            for len in 0..der.len() {
                assert!(
                    enveloped_data::Envelope::decode(&der[..len]).is_err(),
                    "{what}: {len}"
                );
            }
            // A key of the same kind that is not the recipient.
            let other = PrivateKey::generate(match party.name.as_str() {
                "rsa" => yinxin_crypto::KeySpec::Rsa2048,
                "p256" => yinxin_crypto::KeySpec::EcP256,
                _ => yinxin_crypto::KeySpec::Sm2,
            })
            .unwrap();
            let got = enveloped_data::open_message(&der, &other, None);
            assert!(
                matches!(
                    got,
                    Err(Error::NoMatchingRecipient | Error::DecryptionFailed)
                ),
                "{what}: {got:?}"
            );
        }
    }
    assert!(integrity_verdicts > 6 * (36 + 16 + 12) - 1);
}

#[test]
fn both_kinds_alike_and_sm4_gcm_to_sm2() {
    let dir = Workdir::new();
    let sm2 = Party::new(&dir, "sm2", "sm2");
    let rsa = Party::new(&dir, "rsa", "rsa");
    let content = content();
    // Every cipher in the RFC 5652 form, CBC ones also in GM/T 0010 form: the kind follows
    // the cipher, and one function opens them all.
    for cipher in ContentCipher::ALL {
        for form in [Form::Rfc5652, Form::GmT0010] {
            let options = SealOptions {
                form,
                ..SealOptions::default()
            }
            .with_cipher(cipher);
            assert_eq!(options.cipher(), cipher);
            let sealed = enveloped_data::seal_message(
                &content,
                &[sm2.by_certificate(), rsa.by_key()],
                &options,
            );
            let what = format!("{cipher} {form}");
            if cipher.is_authenticated() && form == Form::GmT0010 {
                let Err(Error::Unsupported(message)) = sealed else {
                    panic!("{what}: {sealed:?}");
                };
                assert!(
                    message.contains("GM/T 0010") && message.contains("sign"),
                    "{message}"
                );
                continue;
            }
            let der = sealed.unwrap();
            let summary = enveloped_data::describe_message(&der).unwrap();
            assert_eq!(summary.content_cipher, Some(cipher), "{what}");
            assert_eq!(summary.form, form, "{what}");
            assert_eq!(
                summary.kind,
                if cipher.is_authenticated() {
                    EnvelopeKind::AuthEnveloped
                } else {
                    EnvelopeKind::Enveloped
                },
                "{what}"
            );
            assert_eq!(summary.recipients.len(), 2);
            assert!(matches!(
                summary.recipients[0].name,
                enveloped_data::RecipientName::IssuerAndSerialNumber { .. }
            ));
            assert_eq!(summary.recipients[0].key_encryption, "SM2 encryption");
            assert_eq!(
                summary.recipients[1].key_encryption, "RSA-OAEP with SHA-256",
                "{what}"
            );
            let pem = enveloped_data::Envelope::decode(&der)
                .unwrap()
                .to_pem()
                .unwrap();
            for party in [&sm2, &rsa] {
                for data in [&der[..], pem.as_bytes()] {
                    assert_eq!(
                        &enveloped_data::open_message(data, &party.handle(), Some(&party.cert_der))
                            .unwrap()[..],
                        &content[..],
                        "{what} {}",
                        party.name
                    );
                }
            }
        }
    }
    // The EnvelopedData functions keep their contract: GCM options are refused there, not
    // silently downgraded to CBC.
    let options = SealOptions::authenticated(AuthEncryptionAlgorithm::Sm4Gcm);
    assert!(matches!(
        enveloped_data::seal(b"x", &[sm2.by_key()], &options),
        Err(Error::Unsupported(_))
    ));
    let gmt = SealOptions {
        form: Form::GmT0010,
        ..options
    };
    assert!(matches!(
        authenticated::seal(b"x", &[sm2.by_key()], &gmt),
        Err(Error::Unsupported(_))
    ));
    // A content type other than id-data is authenticated as RFC 5083 §2.1 asks.
    let typed = SealOptions {
        content_type: oid::ID_SIGNED_DATA,
        ..options
    };
    let envelope = authenticated::seal(b"signed", &[sm2.by_key()], &typed).unwrap();
    assert!(envelope.auth_attrs.is_some());
    let der = authenticated::to_der(&envelope).unwrap();
    assert_eq!(
        &authenticated::open(&authenticated::decode(&der).unwrap(), &sm2.handle()).unwrap()[..],
        b"signed"
    );
    let at = position(&der, &oid::ID_SIGNED_DATA.to_der().unwrap()[2..]) + 3;
    assert!(matches!(
        open_message_flipped(&der, at, &sm2.handle(), None),
        Err(Error::Decode { .. } | Error::IntegrityCheckFailed)
    ));
    // Something else than an envelope.
    assert!(matches!(
        enveloped_data::open_message(
            &yinxin_cms::content_info::to_der(
                &yinxin_cms::content_info::wrap(
                    oid::ID_DATA,
                    &OctetString::new(b"x".to_vec()).unwrap()
                )
                .unwrap()
            )
            .unwrap(),
            &sm2.handle(),
            None
        ),
        Err(Error::WrongContentType { .. })
    ));
    // Garbage and junk never panic.
    let mut seed = 0x9e37_79b9u32;
    for len in [0usize, 1, 3, 40, 300] {
        for _ in 0..50 {
            let junk: Vec<u8> = (0..len)
                .map(|i| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    if i == 0 { 0x30 } else { (seed >> 16) as u8 }
                })
                .collect();
            let _ = enveloped_data::open_message(&junk, &sm2.handle(), None);
            let _ = enveloped_data::describe_message(&junk);
        }
    }
}
