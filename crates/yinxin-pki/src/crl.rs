//! Certificate revocation lists signed through a key handle (RFC 5280 §5).
//!
//! [`build_crl`] writes a v2 CRL whose authorityKeyIdentifier is the issuing certificate's
//! *subjectKeyIdentifier*. (x509-cert's `CrlBuilder` copies the issuer certificate's own
//! authorityKeyIdentifier, which names the wrong key for every CA but a root.)

use std::time::SystemTime;

use const_oid::AssociatedOid;
use der::asn1::{BitString, OctetString, Uint};
use der::{Decode, Encode};
use x509_cert::certificate::Version;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason, KeyUsage, KeyUsages};
use yinxin_crypto::{SignatureScheme, Signer};

use crate::certificate::{self, Certificate};
use crate::issue::{extension, serial, subject_key_identifier, time, validity_times};
use crate::{Error, Result, algorithm};

/// Why a CRL cannot be built as asked.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    /// The issuer certificate's keyUsage lacks cRLSign.
    #[error("the issuer certificate may not sign CRLs (no cRLSign)")]
    IssuerCannotSignCrls,
    /// The signer's key is not the issuer certificate's key.
    #[error("the signing key does not belong to the CRL issuer")]
    SignerKeyMismatch,
    /// The CRL number is empty, zero-length after leading zeros are removed, or longer than
    /// 20 octets (RFC 5280 §5.2.3).
    #[error("the CRL number must be a non-negative integer of at most 20 octets")]
    BadCrlNumber,
    /// `removeFromCRL` belongs only in delta CRLs, which yinxin does not issue.
    #[error("removeFromCRL may only appear in delta CRLs")]
    RemoveFromCrlInBaseCrl,
    /// The signature the handle returned does not verify under the issuer's key.
    #[error("the signer returned a signature that does not verify")]
    BadSignature,
}

/// One revoked certificate.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RevokedEntry {
    /// The certificate's serial number (unsigned big-endian, as given to issuance).
    pub serial: Vec<u8>,
    /// When it was revoked.
    pub revocation_time: SystemTime,
    /// The reason, written as a `reasonCode` entry extension when given.
    pub reason: Option<CrlReason>,
}

/// Build and sign a v2 CRL of `issuer_cert` through the `issuer` handle: thisUpdate,
/// nextUpdate (after thisUpdate), cRLNumber (unsigned big-endian) and authorityKeyIdentifier
/// from the issuer certificate's subjectKeyIdentifier.
pub fn build_crl(
    issuer_cert: &Certificate,
    issuer: &dyn Signer,
    scheme: &SignatureScheme,
    this_update: SystemTime,
    next_update: SystemTime,
    crl_number: &[u8],
    revoked: &[RevokedEntry],
) -> Result<CertificateList> {
    if certificate::public_key(issuer_cert)?.to_der() != issuer.public_key().to_der() {
        return Err(CrlError::SignerKeyMismatch.into());
    }
    if let Some((_, ku)) = issuer_cert
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .map_err(|e| Error::decode("keyUsage", e))?
        && !ku.0.contains(KeyUsages::CRLSign)
    {
        return Err(CrlError::IssuerCannotSignCrls.into());
    }
    let (this_update, next_update) = validity_times(this_update, next_update)?;
    let number = crl_number_of(crl_number)?;
    let entries = revoked
        .iter()
        .map(|r| {
            let crl_entry_extensions = match r.reason {
                None => None,
                Some(CrlReason::RemoveFromCRL) => {
                    return Err(CrlError::RemoveFromCrlInBaseCrl.into());
                }
                Some(reason) => Some(vec![extension(CrlReason::OID, false, &reason)?]),
            };
            Ok(RevokedCert {
                serial_number: serial(&r.serial)?,
                revocation_date: time(r.revocation_time)?,
                crl_entry_extensions,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(
            OctetString::new(subject_key_identifier(issuer_cert)?)
                .map_err(|e| Error::decode("extension", e))?,
        ),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    let signature = algorithm::signature_algorithm(scheme)?;
    let tbs = TbsCertList {
        version: Version::V2,
        signature: signature.clone(),
        issuer: issuer_cert.tbs_certificate().subject().clone(),
        this_update,
        next_update: Some(next_update),
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(vec![
            extension(AuthorityKeyIdentifier::OID, false, &aki)?,
            extension(CrlNumber::OID, false, &number)?,
        ]),
    };
    let tbs_der = tbs.to_der().map_err(|e| Error::decode("CRL", e))?;
    let sig = issuer.sign(scheme, &tbs_der)?;
    issuer
        .public_key()
        .verify(scheme, &tbs_der, &sig)
        .map_err(|_| CrlError::BadSignature)?;
    let crl = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: signature,
        signature: BitString::from_bytes(&sig).map_err(|e| Error::decode("signature", e))?,
    };
    // Round-trip so the caller holds exactly what a relying party will decode.
    let der = crl.to_der().map_err(|e| Error::decode("CRL", e))?;
    CertificateList::from_der(&der).map_err(|e| Error::decode("CRL", e))
}

/// PEM (`X509 CRL`) of a CRL.
pub fn to_pem(crl: &CertificateList) -> Result<String> {
    let der = crl.to_der().map_err(|e| Error::decode("CRL", e))?;
    der::pem::encode_string("X509 CRL", der::pem::LineEnding::LF, &der)
        .map_err(|e| Error::decode("CRL", e))
}

fn crl_number_of(bytes: &[u8]) -> Result<CrlNumber> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let magnitude = &bytes[start..];
    let octets =
        magnitude.len().max(1) + usize::from(magnitude.first().is_some_and(|b| *b >= 0x80));
    if bytes.is_empty() || octets > 20 {
        return Err(CrlError::BadCrlNumber.into());
    }
    let value = if magnitude.is_empty() {
        &[0u8][..]
    } else {
        magnitude
    };
    Ok(CrlNumber(
        Uint::new(value).map_err(|e| Error::decode("CRL number", e))?,
    ))
}
