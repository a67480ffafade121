//! Reading the attributes of a `SignerInfo`, and the ESS signing-certificate attributes
//! (RFC 2634 §5.4, RFC 5035 §3).

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use der::asn1::{Any, OctetString};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attributes;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use yinxin_crypto::{HashAlgorithm, hash};
use yinxin_pki::certificate::Certificate;

use super::SignerProblem;
use crate::oid;

/// ```text
/// SigningCertificateV2 ::= SEQUENCE {
///     certs SEQUENCE OF ESSCertIDv2,
///     policies SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
#[derive(Clone, Debug, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// ```text
/// ESSCertIDv2 ::= SEQUENCE {
///     hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
///     certHash Hash,
///     issuerSerial IssuerSerial OPTIONAL }
/// ```
#[derive(Clone, Debug, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// ```text
/// SigningCertificate ::= SEQUENCE {
///     certs SEQUENCE OF ESSCertID,
///     policies SEQUENCE OF PolicyInformation OPTIONAL }
/// ```
#[derive(Clone, Debug, Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// `ESSCertID ::= SEQUENCE { certHash Hash (SHA-1), issuerSerial IssuerSerial OPTIONAL }`.
#[derive(Clone, Debug, Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

/// `IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }`.
#[derive(Clone, Debug, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// The signed attributes yinxin looks at, checked for shape.
#[derive(Clone, Debug, Default)]
pub(crate) struct SignedAttributes {
    pub(crate) content_type: Option<ObjectIdentifier>,
    pub(crate) message_digest: Option<Vec<u8>>,
    pub(crate) signing_time: Option<SystemTime>,
    /// The first `ESSCertID(v2)`: hash algorithm, hash and issuer/serial.
    signing_certificate: Option<(HashAlgorithmOrSha1, Vec<u8>, Option<IssuerSerial>)>,
}

/// The hash of an `ESSCertID` (SHA-1) or `ESSCertIDv2`.
#[derive(Clone, Copy, Debug)]
enum HashAlgorithmOrSha1 {
    Sha1,
    Other(HashAlgorithm),
}

fn malformed(attribute: &'static str, reason: impl std::fmt::Display) -> SignerProblem {
    SignerProblem::MalformedSignedAttribute {
        attribute,
        reason: reason.to_string(),
    }
}

/// The single value of an attribute (RFC 5652 §11: each of these has exactly one).
fn single<'a>(
    values: &'a der::asn1::SetOfVec<Any>,
    name: &'static str,
) -> Result<&'a Any, SignerProblem> {
    match values.as_slice() {
        [one] => Ok(one),
        _ => Err(malformed(name, "not exactly one value")),
    }
}

impl SignedAttributes {
    /// Read the attributes; a duplicate or malformed one is a problem (RFC 5652 §5.3: each of
    /// these appears at most once).
    pub(crate) fn read(attributes: &Attributes) -> Result<Self, SignerProblem> {
        let mut out = SignedAttributes::default();
        for attribute in attributes.iter() {
            let values = &attribute.values;
            if attribute.oid == oid::ID_CONTENT_TYPE {
                let name = "contentType";
                if out.content_type.is_some() {
                    return Err(malformed(name, "appears twice"));
                }
                let value = single(values, name)?;
                out.content_type = Some(
                    value
                        .decode_as::<ObjectIdentifier>()
                        .map_err(|e| malformed(name, e))?,
                );
            } else if attribute.oid == oid::ID_MESSAGE_DIGEST {
                let name = "messageDigest";
                if out.message_digest.is_some() {
                    return Err(malformed(name, "appears twice"));
                }
                let value = single(values, name)?;
                out.message_digest = Some(
                    value
                        .decode_as::<OctetString>()
                        .map_err(|e| malformed(name, e))?
                        .as_bytes()
                        .to_vec(),
                );
            } else if attribute.oid == oid::ID_SIGNING_TIME {
                let name = "signingTime";
                if out.signing_time.is_some() {
                    return Err(malformed(name, "appears twice"));
                }
                let value = single(values, name)?;
                let der = value.to_der().map_err(|e| malformed(name, e))?;
                let time = x509_cert::time::Time::from_der(&der).map_err(|e| malformed(name, e))?;
                out.signing_time = Some(time.to_system_time());
            } else if attribute.oid == oid::ID_AA_SIGNING_CERTIFICATE_V2 {
                let name = "signingCertificateV2";
                let value = single(values, name)?;
                let v2: SigningCertificateV2 = value.decode_as().map_err(|e| malformed(name, e))?;
                let first = v2
                    .certs
                    .into_iter()
                    .next()
                    .ok_or_else(|| malformed(name, "no ESSCertIDv2"))?;
                let hash = match &first.hash_algorithm {
                    None => HashAlgorithm::Sha256,
                    Some(alg) => hash_algorithm(&alg.oid).ok_or_else(|| {
                        malformed(name, format!("unsupported hash algorithm {}", alg.oid))
                    })?,
                };
                out.signing_certificate = Some((
                    HashAlgorithmOrSha1::Other(hash),
                    first.cert_hash.as_bytes().to_vec(),
                    first.issuer_serial,
                ));
            } else if attribute.oid == oid::ID_AA_SIGNING_CERTIFICATE
                && out.signing_certificate.is_none()
            {
                let name = "signingCertificate";
                let value = single(values, name)?;
                let v1: SigningCertificate = value.decode_as().map_err(|e| malformed(name, e))?;
                let first = v1
                    .certs
                    .into_iter()
                    .next()
                    .ok_or_else(|| malformed(name, "no ESSCertID"))?;
                out.signing_certificate = Some((
                    HashAlgorithmOrSha1::Sha1,
                    first.cert_hash.as_bytes().to_vec(),
                    first.issuer_serial,
                ));
            }
        }
        Ok(out)
    }

    /// Whether a signing-certificate attribute (v1 or v2) is present.
    pub(crate) fn has_signing_certificate(&self) -> bool {
        self.signing_certificate.is_some()
    }

    /// Whether the signing-certificate attribute, if any, names `certificate` (its DER
    /// `certificate_der`): same hash and, when given, same issuer and serial.
    pub(crate) fn signing_certificate_matches(
        &self,
        certificate: &Certificate,
        certificate_der: &[u8],
    ) -> bool {
        let Some((algorithm, cert_hash, issuer_serial)) = &self.signing_certificate else {
            return true;
        };
        let computed = match algorithm {
            HashAlgorithmOrSha1::Sha1 => hash::sha1(certificate_der).to_vec(),
            HashAlgorithmOrSha1::Other(h) => hash::digest(*h, certificate_der),
        };
        if computed != *cert_hash {
            return false;
        }
        let Some(issuer_serial) = issuer_serial else {
            return true;
        };
        let tbs = certificate.tbs_certificate();
        issuer_serial.serial_number == *tbs.serial_number()
            && issuer_serial
                .issuer
                .iter()
                .any(|n| matches!(n, GeneralName::DirectoryName(name) if name == tbs.issuer()))
    }
}

/// The hash algorithm an identifier names (SM3 in either spelling), if supported.
pub(crate) fn hash_algorithm(o: &ObjectIdentifier) -> Option<HashAlgorithm> {
    if yinxin_crypto::oid::means(o, yinxin_crypto::oid::Meaning::Sm3) {
        return Some(HashAlgorithm::Sm3);
    }
    HashAlgorithm::ALL.into_iter().find(|h| h.oid() == *o)
}
