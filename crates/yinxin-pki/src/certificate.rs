//! Reading certificates.

use der::{Decode, Encode};
/// The certificate type every function here takes and returns (RustCrypto `x509-cert`).
pub use x509_cert::Certificate;
use yinxin_crypto::{PublicKey, pem};

use crate::{Error, Result};

/// Decode one certificate from PEM (`CERTIFICATE`) or DER.
pub fn from_pem_or_der(data: &[u8]) -> Result<Certificate> {
    if let Some(text) = std::str::from_utf8(data).ok().filter(|_| pem::is_pem(data)) {
        let block = pem::first_of(text, &["CERTIFICATE"], "certificate", "a certificate")?;
        return Certificate::from_der(&block.der).map_err(|e| Error::decode("certificate", e));
    }
    Certificate::from_der(data).map_err(|e| Error::decode("certificate", e))
}

/// Every certificate in `data`: all `CERTIFICATE` blocks of PEM text (other blocks are
/// skipped), or one DER certificate. Empty or blank input is an empty list.
pub fn all_from_pem_or_der(data: &[u8]) -> Result<Vec<Certificate>> {
    if data.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    if !pem::is_pem(data) {
        return Ok(vec![
            Certificate::from_der(data).map_err(|e| Error::decode("certificate", e))?,
        ]);
    }
    let text = std::str::from_utf8(data).map_err(|e| Error::decode("certificate", e))?;
    pem::blocks(text, "certificate")?
        .into_iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| Certificate::from_der(&b.der).map_err(|e| Error::decode("certificate", e)))
        .collect()
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
