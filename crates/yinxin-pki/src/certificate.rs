//! Reading certificates.

use der::{Decode, Encode};
use x509_cert::Certificate;
use yinxin_crypto::PublicKey;

use crate::{Error, Result};

/// Decode one certificate from PEM (`CERTIFICATE`) or DER.
pub fn from_pem_or_der(data: &[u8]) -> Result<Certificate> {
    if let Some(text) = std::str::from_utf8(data).ok().filter(|t| t.trim_start().starts_with("-----BEGIN ")) {
        let start = text.find("-----BEGIN ").unwrap_or(0);
        let (label, der) = der::pem::decode_vec(text[start..].as_bytes())
            .map_err(|e| Error::decode("certificate", format!("malformed PEM: {e}")))?;
        if label != "CERTIFICATE" {
            return Err(Error::WrongPemLabel {
                expected: "a certificate",
                found: label.to_string(),
            });
        }
        return Certificate::from_der(&der).map_err(|e| Error::decode("certificate", e));
    }
    Certificate::from_der(data).map_err(|e| Error::decode("certificate", e))
}

/// The certificate's subject public key.
pub fn public_key(cert: &Certificate) -> Result<PublicKey> {
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| Error::decode("certificate public key", e))?;
    Ok(PublicKey::from_der(&spki)?)
}

/// The DER encoding.
pub fn to_der(cert: &Certificate) -> Result<Vec<u8>> {
    cert.to_der().map_err(|e| Error::decode("certificate", e))
}
