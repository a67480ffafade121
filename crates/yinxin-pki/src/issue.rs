//! Issuing X.509 v3 certificates through a key handle (RFC 5280 §4.1).
//!
//! [`issue`] checks the [`IssueParams`], builds the `TBSCertificate` with the extensions of
//! its [`Profile`], has the issuer's [`Signer`] sign its DER (the key stays in its token),
//! checks the signature with the issuer's public key and assembles the certificate.

use std::time::SystemTime;

use const_oid::AssociatedOid;
use der::asn1::{BitString, Ia5String, Null, OctetString, PrintableStringRef, Utf8StringRef};
use der::{Decode, Encode, Sequence, Tag, Tagged};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::certpolicy::PolicyInformation;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CertificatePolicies, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, Extensions};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use yinxin_crypto::{PublicKey, SignatureScheme, Signer};

use crate::certificate::{self, Certificate};
use crate::profile::{ID_PKIX_OCSP_NOCHECK, IdentityExtension, Profile, San, Urls, key_identifier};
use crate::{Error, Result, algorithm};

/// Why a certificate cannot be issued as asked.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// notAfter is not after notBefore.
    #[error("notAfter must be after notBefore")]
    EmptyValidity,
    /// A time that cannot be written in a certificate (before 1970 or after 9999).
    #[error("a validity time cannot be encoded")]
    TimeOutOfRange,
    /// The serial number is zero (or empty).
    #[error("the serial number must be positive")]
    SerialNotPositive,
    /// The serial number's DER INTEGER would be longer than 20 octets (RFC 5280 §4.1.2.2).
    #[error("the serial number needs {octets} octets; at most 20 are allowed")]
    SerialTooLong {
        /// Octets the INTEGER's content would take.
        octets: usize,
    },
    /// Only a root CA is self-signed, and a root CA is always self-signed.
    #[error("only the RootCa profile is self-signed, and it always is")]
    SelfSignedMismatch,
    /// The issuer certificate is not a CA certificate that may sign certificates.
    #[error("the issuer certificate is not a CA allowed to sign certificates")]
    IssuerNotCa,
    /// The issuer's pathLenConstraint is 0, so it cannot issue CA certificates.
    #[error("the issuer's path length constraint forbids issuing CA certificates")]
    PathLengthExceeded,
    /// The signer's key is not the issuer certificate's key (or, for a self-signed root, not
    /// the subject key).
    #[error("the signing key does not belong to the issuer")]
    SignerKeyMismatch,
    /// The validity period is not within the issuer's.
    #[error("the validity period extends beyond the issuer certificate's")]
    OutsideIssuerValidity,
    /// The subject key cannot serve the profile (an ECDSA key as an encryption key).
    #[error("a {algorithm} key cannot be used for this profile")]
    KeyNotForProfile {
        /// The subject key's algorithm.
        algorithm: String,
    },
    /// A server certificate without a DNS or IP subject alternative name.
    #[error("a server certificate needs a DNS or IP subject alternative name")]
    MissingServerName,
    /// An employee certificate whose subject lacks the organisation as its `O`.
    #[error("the employee's subject must carry O={organisation}")]
    MissingOrganisation {
        /// The organisation named in the profile.
        organisation: String,
    },
    /// A subject alternative name or URL that is not ASCII (IA5String).
    #[error("\"{0}\" is not an ASCII name or URL")]
    NotAscii(String),
    /// The signature the handle returned does not verify under the issuer's key.
    #[error("the signer returned a signature that does not verify")]
    BadSignature,
}

/// What to put in a new certificate. The issuer and its key are passed to [`issue`].
#[derive(Clone, Debug)]
pub struct IssueParams {
    /// The subject name.
    pub subject: Name,
    /// The subject's public key.
    pub subject_public_key: PublicKey,
    /// The serial number, an unsigned big-endian integer chosen (and reserved) by the caller:
    /// positive, and at most 20 octets as a DER INTEGER.
    pub serial: Vec<u8>,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity; after `not_before`.
    pub not_after: SystemTime,
    /// The kind of certificate.
    pub profile: Profile,
    /// Subject alternative names.
    pub sans: Vec<San>,
    /// CRL distribution point and authority information access URLs.
    pub urls: Urls,
    /// certificatePolicies OIDs (non-critical); empty leaves the extension out.
    pub policies: Vec<const_oid::ObjectIdentifier>,
    /// GM/T 0015 identity extensions (non-critical).
    pub identity: Vec<IdentityExtension>,
}

impl IssueParams {
    /// Parameters with no SANs, URLs, policies or identity extensions.
    pub fn new(
        subject: Name,
        subject_public_key: PublicKey,
        serial: Vec<u8>,
        not_before: SystemTime,
        not_after: SystemTime,
        profile: Profile,
    ) -> Self {
        IssueParams {
            subject,
            subject_public_key,
            serial,
            not_before,
            not_after,
            profile,
            sans: Vec::new(),
            urls: Urls::default(),
            policies: Vec::new(),
            identity: Vec::new(),
        }
    }
}

/// `TBSCertificate` as written by yinxin: always v3 with extensions, no unique IDs.
///
/// ```text
/// TBSCertificate  ::=  SEQUENCE  {
///     version         [0]  EXPLICIT Version DEFAULT v1,
///     serialNumber         CertificateSerialNumber,
///     signature            AlgorithmIdentifier,
///     issuer               Name,
///     validity             Validity,
///     subject              Name,
///     subjectPublicKeyInfo SubjectPublicKeyInfo,
///     extensions      [3]  EXPLICIT Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, Sequence)]
struct TbsCertificateV3 {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: Version,
    serial_number: SerialNumber,
    signature: AlgorithmIdentifierOwned,
    issuer: Name,
    validity: Validity,
    subject: Name,
    subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Extensions,
}

/// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }`.
#[derive(Clone, Debug, Sequence)]
struct CertificateV3 {
    tbs_certificate: TbsCertificateV3,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
}

/// Issue a certificate. `issuer_cert` is `None` for a self-signed root (then `issuer` must
/// hold the subject key); otherwise the issuer name is its subject, the authority key
/// identifier its subject key identifier, and `issuer` must hold its key. SM2 signatures use
/// the ID inside `scheme` (normally the default `1234567812345678`).
pub fn issue(
    issuer_cert: Option<&Certificate>,
    issuer: &dyn Signer,
    scheme: &SignatureScheme,
    params: &IssueParams,
) -> Result<Certificate> {
    let (not_before, not_after) = validity_times(params.not_before, params.not_after)?;
    let serial_number = serial(&params.serial)?;
    let subject_spki_der = params.subject_public_key.to_der();
    let subject_key_id = key_identifier(&subject_spki_der)?;
    let (issuer_name, authority_key_id) = match issuer_cert {
        None => {
            if params.profile != Profile::RootCa {
                return Err(IssueError::SelfSignedMismatch.into());
            }
            if issuer.public_key().to_der() != params.subject_public_key.to_der() {
                return Err(IssueError::SignerKeyMismatch.into());
            }
            (params.subject.clone(), subject_key_id.clone())
        }
        Some(ca) => {
            if params.profile == Profile::RootCa {
                return Err(IssueError::SelfSignedMismatch.into());
            }
            check_issuer(ca, issuer, params)?;
            (
                ca.tbs_certificate().subject().clone(),
                subject_key_identifier(ca)?,
            )
        }
    };
    let extensions = extensions(params, subject_key_id, authority_key_id)?;
    let signature = algorithm::signature_algorithm(scheme)?;
    let tbs = TbsCertificateV3 {
        version: Version::V3,
        serial_number,
        signature: signature.clone(),
        issuer: issuer_name,
        validity: Validity::new(not_before, not_after),
        subject: params.subject.clone(),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(&subject_spki_der)
            .map_err(|e| Error::decode("public key", e))?,
        extensions,
    };
    let tbs_der = tbs.to_der().map_err(|e| Error::decode("certificate", e))?;
    let sig = issuer.sign(scheme, &tbs_der)?;
    issuer
        .public_key()
        .verify(scheme, &tbs_der, &sig)
        .map_err(|_| IssueError::BadSignature)?;
    let cert = CertificateV3 {
        tbs_certificate: tbs,
        signature_algorithm: signature,
        signature: BitString::from_bytes(&sig).map_err(|e| Error::decode("signature", e))?,
    };
    let der = cert.to_der().map_err(|e| Error::decode("certificate", e))?;
    Certificate::from_der(&der).map_err(|e| Error::decode("certificate", e))
}

/// Both times as `Time`, notAfter after notBefore.
pub(crate) fn validity_times(
    not_before: SystemTime,
    not_after: SystemTime,
) -> Result<(Time, Time)> {
    if not_after <= not_before {
        return Err(IssueError::EmptyValidity.into());
    }
    Ok((time(not_before)?, time(not_after)?))
}

/// A `Time` (UTCTime until 2049, GeneralizedTime after), whole seconds.
pub(crate) fn time(t: SystemTime) -> Result<Time> {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| IssueError::TimeOutOfRange)?
        .as_secs();
    let dt = der::DateTime::from_unix_duration(std::time::Duration::from_secs(secs))
        .map_err(|_| IssueError::TimeOutOfRange)?;
    Ok(Time::from(dt))
}

/// A serial number from unsigned big-endian bytes: positive, at most 20 DER octets.
pub(crate) fn serial(bytes: &[u8]) -> Result<SerialNumber> {
    let start = bytes.iter().position(|b| *b != 0);
    let Some(start) = start else {
        return Err(IssueError::SerialNotPositive.into());
    };
    let magnitude = &bytes[start..];
    let octets = magnitude.len() + usize::from(magnitude[0] >= 0x80);
    if octets > 20 {
        return Err(IssueError::SerialTooLong { octets }.into());
    }
    SerialNumber::new(magnitude).map_err(|e| Error::decode("serial number", e))
}

/// The certificate's subjectKeyIdentifier, or one computed from its key when it has none.
pub(crate) fn subject_key_identifier(cert: &Certificate) -> Result<Vec<u8>> {
    match cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
    {
        Ok(Some((_, ski))) => Ok(ski.0.as_bytes().to_vec()),
        Ok(None) => key_identifier(
            &cert
                .tbs_certificate()
                .subject_public_key_info()
                .to_der()
                .map_err(|e| Error::decode("certificate", e))?,
        ),
        Err(e) => Err(Error::decode("subjectKeyIdentifier", e)),
    }
}

/// The issuer may sign this certificate: same key, a CA with keyCertSign, path length room
/// for CA profiles, and a validity period covering the new one.
fn check_issuer(ca: &Certificate, issuer: &dyn Signer, params: &IssueParams) -> Result<()> {
    if certificate::public_key(ca)?.to_der() != issuer.public_key().to_der() {
        return Err(IssueError::SignerKeyMismatch.into());
    }
    let tbs = ca.tbs_certificate();
    let bc = tbs
        .get_extension::<BasicConstraints>()
        .map_err(|e| Error::decode("basicConstraints", e))?;
    let Some((_, bc)) = bc.filter(|(_, bc)| bc.ca) else {
        return Err(IssueError::IssuerNotCa.into());
    };
    if let Some((_, ku)) = tbs
        .get_extension::<KeyUsage>()
        .map_err(|e| Error::decode("keyUsage", e))?
        && !ku.0.contains(KeyUsages::KeyCertSign)
    {
        return Err(IssueError::IssuerNotCa.into());
    }
    if params.profile.is_ca() && bc.path_len_constraint == Some(0) {
        return Err(IssueError::PathLengthExceeded.into());
    }
    let v = tbs.validity();
    if params.not_before < v.not_before.to_system_time()
        || params.not_after > v.not_after.to_system_time()
    {
        return Err(IssueError::OutsideIssuerValidity.into());
    }
    Ok(())
}

/// One extension with an explicit criticality.
pub(crate) fn extension(
    oid: const_oid::ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> Result<Extension> {
    let der = value.to_der().map_err(|e| Error::decode("extension", e))?;
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(der).map_err(|e| Error::decode("extension", e))?,
    })
}

fn ia5(s: &str) -> Result<Ia5String> {
    Ia5String::new(s).map_err(|_| IssueError::NotAscii(s.to_string()).into())
}

fn uri(s: &str) -> Result<GeneralName> {
    Ok(GeneralName::UniformResourceIdentifier(ia5(s)?))
}

/// Whether `subject` has an `O` attribute equal to `organisation`.
fn has_organisation(subject: &Name, organisation: &str) -> bool {
    subject.iter_rdn().flat_map(|rdn| rdn.iter()).any(|atv| {
        atv.oid == const_oid::db::rfc4519::O
            && match atv.value.tag() {
                Tag::Utf8String => atv
                    .value
                    .decode_as::<Utf8StringRef<'_>>()
                    .is_ok_and(|s| s.as_str() == organisation),
                Tag::PrintableString => atv
                    .value
                    .decode_as::<PrintableStringRef<'_>>()
                    .is_ok_and(|s| s.as_str() == organisation),
                _ => false,
            }
    })
}

fn extensions(
    params: &IssueParams,
    subject_key_id: Vec<u8>,
    authority_key_id: Vec<u8>,
) -> Result<Extensions> {
    let profile = &params.profile;
    let algorithm = params.subject_public_key.algorithm();
    let usages = profile
        .key_usage(algorithm)
        .ok_or_else(|| IssueError::KeyNotForProfile {
            algorithm: algorithm.to_string(),
        })?;
    match profile {
        Profile::Server
            if !params
                .sans
                .iter()
                .any(|s| matches!(s, San::Dns(_) | San::Ip(_))) =>
        {
            return Err(IssueError::MissingServerName.into());
        }
        Profile::Employee { organisation, .. }
            if !has_organisation(&params.subject, organisation) =>
        {
            return Err(IssueError::MissingOrganisation {
                organisation: organisation.clone(),
            }
            .into());
        }
        _ => {}
    }

    let mut exts = Vec::new();
    let bc = BasicConstraints {
        ca: profile.is_ca(),
        path_len_constraint: profile.path_len(),
    };
    exts.push(extension(BasicConstraints::OID, profile.is_ca(), &bc)?);
    let ku = KeyUsage(usages.into_iter().fold(Default::default(), |s, u| s | u));
    exts.push(extension(KeyUsage::OID, true, &ku)?);
    if let Some((purposes, critical)) = profile.extended_key_usage() {
        exts.push(extension(
            ExtendedKeyUsage::OID,
            critical,
            &ExtendedKeyUsage(purposes),
        )?);
    }
    let ski = SubjectKeyIdentifier(
        OctetString::new(subject_key_id).map_err(|e| Error::decode("extension", e))?,
    );
    exts.push(extension(SubjectKeyIdentifier::OID, false, &ski)?);
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(
            OctetString::new(authority_key_id).map_err(|e| Error::decode("extension", e))?,
        ),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    exts.push(extension(AuthorityKeyIdentifier::OID, false, &aki)?);
    if !params.sans.is_empty() {
        let names = params
            .sans
            .iter()
            .map(|s| {
                Ok(match s {
                    San::Dns(d) => GeneralName::DnsName(ia5(d)?),
                    San::Email(m) => GeneralName::Rfc822Name(ia5(m)?),
                    San::Ip(ip) => GeneralName::from(*ip),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        // RFC 5280 §4.2.1.6: critical only when the subject name is empty.
        let critical = params.subject.is_empty();
        exts.push(extension(
            SubjectAltName::OID,
            critical,
            &SubjectAltName(names),
        )?);
    }
    if !params.urls.crl.is_empty() {
        let names = params
            .urls
            .crl
            .iter()
            .map(|u| uri(u))
            .collect::<Result<Vec<_>>>()?;
        let dp = CrlDistributionPoints(vec![DistributionPoint {
            distribution_point: Some(DistributionPointName::FullName(names)),
            reasons: None,
            crl_issuer: None,
        }]);
        exts.push(extension(CrlDistributionPoints::OID, false, &dp)?);
    }
    let access = params
        .urls
        .ocsp
        .iter()
        .map(|u| (const_oid::db::rfc5280::ID_AD_OCSP, u))
        .chain(
            params
                .urls
                .ca_issuers
                .iter()
                .map(|u| (const_oid::db::rfc5280::ID_AD_CA_ISSUERS, u)),
        )
        .map(|(m, u)| {
            Ok(AccessDescription {
                access_method: m,
                access_location: uri(u)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if !access.is_empty() {
        exts.push(extension(
            AuthorityInfoAccessSyntax::OID,
            false,
            &AuthorityInfoAccessSyntax(access),
        )?);
    }
    if !params.policies.is_empty() {
        let policies = CertificatePolicies(
            params
                .policies
                .iter()
                .map(|p| PolicyInformation {
                    policy_identifier: *p,
                    policy_qualifiers: None,
                })
                .collect(),
        );
        exts.push(extension(CertificatePolicies::OID, false, &policies)?);
    }
    if *profile == Profile::OcspSigner {
        exts.push(extension(ID_PKIX_OCSP_NOCHECK, false, &Null)?);
    }
    for id in &params.identity {
        let value = id.value_der()?;
        exts.push(Extension {
            extn_id: id.oid(),
            critical: false,
            extn_value: OctetString::new(value).map_err(|e| Error::decode("extension", e))?,
        });
    }
    Ok(exts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_rules() {
        assert!(matches!(
            serial(&[0, 0]),
            Err(Error::Issue(IssueError::SerialNotPositive))
        ));
        assert!(serial(&[0, 1]).is_ok());
        assert!(serial(&[0x7f; 20]).is_ok());
        assert!(matches!(
            serial(&[0x80; 20]),
            Err(Error::Issue(IssueError::SerialTooLong { octets: 21 }))
        ));
    }
}
