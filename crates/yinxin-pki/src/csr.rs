//! PKCS#10 certification requests (RFC 2986) signed by any key handle.

use der::asn1::BitString;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, Version};
use yinxin_crypto::{DistinguishingId, PublicKey, SignatureScheme, Signer};

use crate::{Error, Result, algorithm};

/// Build and sign a request for `signer`'s public key. The key never leaves its token: only
/// the request's bytes are handed to the handle to sign.
pub fn build(signer: &dyn Signer, subject: Name, scheme: &SignatureScheme) -> Result<CertReq> {
    let public_key = SubjectPublicKeyInfoOwned::from_der(&signer.public_key().to_der())
        .map_err(|e| Error::decode("public key", e))?;
    let info = CertReqInfo {
        version: Version::V1,
        subject,
        public_key,
        attributes: Default::default(),
    };
    let tbs = info.to_der().map_err(|e| Error::decode("request", e))?;
    let signature = signer.sign(scheme, &tbs)?;
    Ok(CertReq {
        info,
        algorithm: algorithm::signature_algorithm(scheme)?,
        signature: BitString::from_bytes(&signature).map_err(|e| Error::decode("signature", e))?,
    })
}

/// PEM (`CERTIFICATE REQUEST`) of a request.
pub fn to_pem(req: &CertReq) -> Result<String> {
    let der = req.to_der().map_err(|e| Error::decode("request", e))?;
    der::pem::encode_string("CERTIFICATE REQUEST", der::pem::LineEnding::LF, &der)
        .map_err(|e| Error::decode("request", e))
}

/// Check a request's self-signature (proof of possession); SM2 requests under `sm2_id`.
pub fn verify(req: &CertReq, sm2_id: Option<DistinguishingId>) -> Result<PublicKey> {
    let key_der = req
        .info
        .public_key
        .to_der()
        .map_err(|e| Error::decode("request", e))?;
    let key = PublicKey::from_der(&key_der)?;
    let scheme = algorithm::scheme_of(&req.algorithm, sm2_id)?;
    let tbs = req.info.to_der().map_err(|e| Error::decode("request", e))?;
    let sig = req
        .signature
        .as_bytes()
        .ok_or_else(|| Error::decode("request", "signature BIT STRING has unused bits"))?;
    key.verify(&scheme, &tbs, sig)?;
    Ok(key)
}
