//! One function per fuzz target. Each takes arbitrary bytes and must return without
//! panicking.

use std::sync::OnceLock;

use der::{Decode as _, Encode as _};
use yinxin_crypto::shamir::Share;
use yinxin_crypto::{EncryptionScheme, PrivateKey, PublicKey, Sm2CiphertextFormat};

/// Private and public keys in every encoding yinxin reads (PKCS#8, SEC1, PKCS#1, SPKI; PEM
/// or DER). A key that decodes re-encodes to something that decodes to the same key.
pub fn key(data: &[u8]) {
    if let Ok(k) = PrivateKey::from_pem_or_der(data, None)
        && let Ok(der) = k.to_pkcs8_der()
    {
        let again = PrivateKey::from_der(&der).map(|k| k.public_key().to_der());
        assert_eq!(
            again.ok(),
            Some(k.public_key().to_der()),
            "a decoded key re-encodes"
        );
    }
    if let Ok(p) = PublicKey::from_der(data) {
        assert!(
            PublicKey::from_der(&p.to_der()).is_ok(),
            "a decoded SPKI re-encodes"
        );
    }
}

/// Encrypted PKCS#8 (PBES2 with PBKDF2 or scrypt): the KDF's cost comes from the input, so
/// the decoder's bounds are what keep a hostile file from taking minutes.
pub fn encrypted_key(data: &[u8]) {
    let _ = PrivateKey::from_encrypted_der(data, b"password");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PrivateKey::from_pem(text, Some(b"password"));
    }
}

/// X.509 certificates, PEM or DER.
pub fn certificate(data: &[u8]) {
    if let Ok(cert) = yinxin_pki::certificate::from_pem_or_der(data) {
        let _ = yinxin_pki::certificate::public_key(&cert);
        let _ = yinxin_pki::certificate::to_der(&cert);
        let _ = cert.tbs_certificate().subject().to_string();
    }
}

/// PKCS#10 requests and their proof of possession.
pub fn csr(data: &[u8]) {
    if let Ok(req) = x509_cert::request::CertReq::from_der(data) {
        let _ = yinxin_pki::csr::verify(&req, None);
    }
}

/// CRLs, as the validator reads them.
pub fn crl(data: &[u8]) {
    if let Ok(list) = x509_cert::crl::CertificateList::from_der(data) {
        let _ = list.to_der();
        let _ = yinxin_pki::path::CrlSet::new(vec![list]);
    }
}

/// OCSP requests, POSTed (DER) or in a GET path.
pub fn ocsp_request(data: &[u8]) {
    let _ = yinxin_pki::ocsp::parse_request(data);
    if let Ok(path) = std::str::from_utf8(data) {
        let _ = yinxin_pki::ocsp::parse_get_path(path);
    }
}

/// RFC 3161 requests, as the TSA decodes them (every refusal is a `Rejection`).
pub fn tsa_request(data: &[u8]) {
    let _ = yinxin_cms::timestamp::TimestampRequest::decode(data);
}

/// RFC 3161 responses and the tokens in them.
pub fn tsa_response(data: &[u8]) {
    let _ = yinxin_cms::timestamp::TimestampResponse::decode(data);
}

/// SignedData in both forms (RFC 5652 and GM/T 0010; DER, BER or PEM), decoded and verified
/// against no trust anchor.
pub fn cms_signed(data: &[u8]) {
    let _ = yinxin_cms::signed_data::decode(data);
    let options = yinxin_cms::signed_data::VerifyOptions::new(&[]);
    let _ = yinxin_cms::signed_data::verify(data, None, &options);
}

/// EnvelopedData and AuthEnvelopedData in both forms, described and opened with a fixed SM2
/// key (which no corpus envelope is addressed to, except by chance).
pub fn cms_envelope(data: &[u8]) {
    let _ = yinxin_cms::enveloped_data::describe_message(data);
    let _ = yinxin_cms::enveloped_data::open_message(data, fixed_sm2_key(), None);
}

/// SM2 ciphertexts in every layout (GM/T 0009 ASN.1, C1C3C2, C1C2C3), decrypted with a fixed
/// key: only a ciphertext whose C3 matches may decrypt.
pub fn sm2_ciphertext(data: &[u8]) {
    let key = fixed_sm2_key();
    for format in [
        Sm2CiphertextFormat::Asn1,
        Sm2CiphertextFormat::C1C3C2,
        Sm2CiphertextFormat::C1C2C3,
    ] {
        let _ = key.decrypt(&EncryptionScheme::Sm2(format), data);
    }
}

/// Unseal share text (what a stranger may POST to an unsealed or sealed server).
pub fn share_text(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(share) = Share::from_text(text)
    {
        assert_eq!(
            Share::from_text(&share.to_text()).ok(),
            Some(share),
            "a read share writes back"
        );
    }
}

/// One SM2 key for the targets that need a private key (generated once per process).
fn fixed_sm2_key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        // A generated key: a parse failure here would be a bug in yinxin, not in the input.
        PrivateKey::generate(yinxin_crypto::KeySpec::Sm2).unwrap_or_else(|e| {
            panic!("generating the fuzz targets' SM2 key: {e}");
        })
    })
}
