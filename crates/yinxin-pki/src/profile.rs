//! Certificate profiles: which extensions each kind of certificate carries (RFC 5280 §4.2,
//! GB/T 20518, GM/T 0015).
//!
//! A [`Profile`] names the kind of certificate; [`issue`](crate::issue::issue) turns it into
//! basicConstraints, keyUsage, extKeyUsage and the key identifiers. Addresses
//! ([`Urls`]), subject alternative names ([`San`]), policies and the Chinese identity
//! extensions of GM/T 0015 ([`IdentityExtension`]) come from the caller.

use std::net::IpAddr;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280 as ids;
use der::asn1::{ContextSpecific, PrintableString, Utf8StringRef};
use der::{Encode, TagMode, TagNumber};
use x509_cert::ext::pkix::{KeyUsages, SubjectKeyIdentifier};
use yinxin_crypto::KeyAlgorithm;

use crate::{Error, Result};

/// `id-pkix-ocsp-nocheck` (RFC 6960 §4.2.2.2.1): an OCSP signer's own certificate is not
/// checked for revocation.
pub const ID_PKIX_OCSP_NOCHECK: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.5");

/// GM/T 0015-2012 §5.2.4.2 identity extension OIDs (arc `1.2.156.10260.4.1`).
pub mod gmt0015 {
    use const_oid::ObjectIdentifier;

    /// `IdentifyCode` (个人身份标识码).
    pub const IDENTIFY_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10260.4.1.1");
    /// `InsuranceNumber` (个人社会保险号).
    pub const INSURANCE_NUMBER: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.156.10260.4.1.2");
    /// `ICRegistrationNumber` (企业工商注册号).
    pub const IC_REGISTRATION_NUMBER: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.156.10260.4.1.3");
    /// `OrganizationCode` (企业组织机构代码); in practice Chinese CAs also put the 18-character
    /// unified social credit code (统一社会信用代码) here.
    pub const ORGANIZATION_CODE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.156.10260.4.1.4");
    /// `TaxationNumber` (企业税号).
    pub const TAXATION_NUMBER: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.156.10260.4.1.5");
}

/// What a user's key of a dual-certificate pair is for (GM/T 0015, GB/T 20518).
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
pub enum KeyRole {
    /// The signing key, generated on the user's token: digitalSignature + nonRepudiation.
    Signing,
    /// The escrowed encryption key: keyEncipherment + dataEncipherment, plus keyAgreement
    /// for SM2. ECDSA keys cannot take this role.
    Encryption,
}

/// The kind of certificate to issue.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum Profile {
    /// A self-signed root CA: basicConstraints cA (critical), keyCertSign + cRLSign.
    RootCa,
    /// A subordinate CA: basicConstraints cA with an optional pathLenConstraint (critical),
    /// keyCertSign + cRLSign.
    IssuingCa {
        /// The pathLenConstraint; `Some(0)` issues end-entity certificates only.
        path_len: Option<u8>,
    },
    /// An organisation (单位) certificate; the signing role also gets clientAuth.
    Organisation {
        /// Signing or encryption certificate of the dual pair.
        role: KeyRole,
    },
    /// An employee of an organisation (单位员工); the subject must carry the organisation's
    /// name as an `O` attribute.
    Employee {
        /// The organisation's name, as in its own certificate's `O`.
        organisation: String,
        /// Signing or encryption certificate of the dual pair.
        role: KeyRole,
    },
    /// A TLS server: digitalSignature (+ keyEncipherment for RSA), serverAuth; needs at
    /// least one DNS or IP subject alternative name.
    Server,
    /// The platform's OCSP responder: digitalSignature, OCSPSigning, `id-pkix-ocsp-nocheck`.
    OcspSigner,
    /// The platform's time-stamping authority: digitalSignature + nonRepudiation,
    /// timeStamping as the only, critical, extended key usage (RFC 3161 §2.3).
    TimeStamping,
    /// Code signing: digitalSignature, codeSigning.
    CodeSigning,
    /// The platform's seal-making key (GB/T 38540): digitalSignature + nonRepudiation.
    SealMaking,
}

impl Profile {
    /// Whether certificates of this profile are CA certificates.
    pub fn is_ca(&self) -> bool {
        matches!(self, Profile::RootCa | Profile::IssuingCa { .. })
    }

    /// The key role, for the profiles of dual certificates.
    pub fn role(&self) -> Option<KeyRole> {
        match self {
            Profile::Organisation { role } | Profile::Employee { role, .. } => Some(*role),
            _ => None,
        }
    }

    /// The pathLenConstraint of CA profiles.
    pub(crate) fn path_len(&self) -> Option<u8> {
        match self {
            Profile::IssuingCa { path_len } => *path_len,
            _ => None,
        }
    }

    /// The keyUsage bits for a subject key of `algorithm`, or `None` when the key cannot
    /// serve this profile (an ECDSA key in the encryption role).
    pub fn key_usage(&self, algorithm: KeyAlgorithm) -> Option<Vec<KeyUsages>> {
        use KeyUsages::*;
        Some(match self {
            Profile::RootCa | Profile::IssuingCa { .. } => {
                vec![DigitalSignature, KeyCertSign, CRLSign]
            }
            Profile::Organisation { role } | Profile::Employee { role, .. } => match role {
                KeyRole::Signing => vec![DigitalSignature, NonRepudiation],
                KeyRole::Encryption => match algorithm {
                    KeyAlgorithm::Sm2 => vec![KeyEncipherment, DataEncipherment, KeyAgreement],
                    KeyAlgorithm::Rsa { .. } => vec![KeyEncipherment, DataEncipherment],
                    KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => return None,
                },
            },
            Profile::Server => match algorithm {
                KeyAlgorithm::Rsa { .. } => vec![DigitalSignature, KeyEncipherment],
                _ => vec![DigitalSignature],
            },
            Profile::OcspSigner | Profile::CodeSigning => vec![DigitalSignature],
            Profile::TimeStamping | Profile::SealMaking => {
                vec![DigitalSignature, NonRepudiation]
            }
        })
    }

    /// The extKeyUsage purposes and whether the extension is critical; `None` for none.
    pub fn extended_key_usage(&self) -> Option<(Vec<ObjectIdentifier>, bool)> {
        match self {
            Profile::RootCa | Profile::IssuingCa { .. } | Profile::SealMaking => None,
            Profile::Organisation { role } | Profile::Employee { role, .. } => match role {
                KeyRole::Signing => Some((vec![ids::ID_KP_CLIENT_AUTH], false)),
                KeyRole::Encryption => None,
            },
            Profile::Server => Some((vec![ids::ID_KP_SERVER_AUTH], false)),
            Profile::OcspSigner => Some((vec![ids::ID_KP_OCSP_SIGNING], false)),
            Profile::TimeStamping => Some((vec![ids::ID_KP_TIME_STAMPING], true)),
            Profile::CodeSigning => Some((vec![ids::ID_KP_CODE_SIGNING], false)),
        }
    }
}

/// A subject alternative name.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum San {
    /// A DNS host name (`dNSName`), ASCII (A-labels for IDNs).
    Dns(String),
    /// An IPv4 or IPv6 address (`iPAddress`).
    Ip(IpAddr),
    /// An e-mail address (`rfc822Name`), ASCII.
    Email(String),
}

/// Where relying parties fetch revocation data and the issuer's certificate. Every URL is
/// written as given; empty lists leave the extension out.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Urls {
    /// cRLDistributionPoints `fullName` URIs.
    pub crl: Vec<String>,
    /// authorityInfoAccess `id-ad-ocsp` URIs.
    pub ocsp: Vec<String>,
    /// authorityInfoAccess `id-ad-caIssuers` URIs.
    pub ca_issuers: Vec<String>,
}

/// `IdentifyCode` of GM/T 0015-2012 §5.2.4.2.1.
///
/// ```text
/// IdentifyCode ::= CHOICE {
///     residenterCardNumber      [0] PrintableString,
///     militaryOfficerCardNumber [1] UTF8String,
///     passportNumber            [2] PrintableString }
/// ```
///
/// The standard does not say IMPLICIT or EXPLICIT; yinxin writes EXPLICIT tags, as XiPKI does.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum IdentifyCode {
    /// Resident identity card number (居民身份证号码).
    ResidentCardNumber(String),
    /// Military officer card number (军官证号码).
    MilitaryOfficerCardNumber(String),
    /// Passport number (护照号码).
    PassportNumber(String),
}

/// A Chinese identity extension of GM/T 0015-2012 §5.2.4.2, always non-critical. All but
/// [`IdentityExtension::IdentifyCode`] are a `PrintableString`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum IdentityExtension {
    /// `IdentifyCode` (OID [`gmt0015::IDENTIFY_CODE`]).
    IdentifyCode(IdentifyCode),
    /// `InsuranceNumber ::= PrintableString` (OID [`gmt0015::INSURANCE_NUMBER`]).
    InsuranceNumber(String),
    /// `ICRegistrationNumber ::= PrintableString` (OID [`gmt0015::IC_REGISTRATION_NUMBER`]).
    IcRegistrationNumber(String),
    /// `OrganizationCode ::= PrintableString` (OID [`gmt0015::ORGANIZATION_CODE`]).
    OrganizationCode(String),
    /// `TaxationNumber ::= PrintableString` (OID [`gmt0015::TAXATION_NUMBER`]).
    TaxationNumber(String),
}

impl IdentityExtension {
    /// The extension's OID.
    pub fn oid(&self) -> ObjectIdentifier {
        match self {
            IdentityExtension::IdentifyCode(_) => gmt0015::IDENTIFY_CODE,
            IdentityExtension::InsuranceNumber(_) => gmt0015::INSURANCE_NUMBER,
            IdentityExtension::IcRegistrationNumber(_) => gmt0015::IC_REGISTRATION_NUMBER,
            IdentityExtension::OrganizationCode(_) => gmt0015::ORGANIZATION_CODE,
            IdentityExtension::TaxationNumber(_) => gmt0015::TAXATION_NUMBER,
        }
    }

    /// The DER of the extension value. A number that is not a valid PrintableString is an
    /// error.
    pub fn value_der(&self) -> Result<Vec<u8>> {
        let printable = |s: &str| {
            PrintableString::new(s).map_err(|e| Error::decode("GM/T 0015 identity number", e))
        };
        let explicit = |n: u32, der: Vec<u8>| -> Result<Vec<u8>> {
            let any = <der::asn1::Any as der::Decode>::from_der(&der)
                .map_err(|e| Error::decode("GM/T 0015 identity number", e))?;
            ContextSpecific {
                tag_number: TagNumber(n),
                tag_mode: TagMode::Explicit,
                value: any,
            }
            .to_der()
            .map_err(|e| Error::decode("GM/T 0015 identity number", e))
        };
        fn enc<T: Encode>(v: &T) -> Result<Vec<u8>> {
            v.to_der()
                .map_err(|e| Error::decode("GM/T 0015 identity number", e))
        }
        match self {
            IdentityExtension::IdentifyCode(code) => match code {
                IdentifyCode::ResidentCardNumber(s) => explicit(0, enc(&printable(s)?)?),
                IdentifyCode::MilitaryOfficerCardNumber(s) => {
                    let utf8 = Utf8StringRef::new(s)
                        .map_err(|e| Error::decode("GM/T 0015 identity number", e))?;
                    explicit(1, enc(&utf8)?)
                }
                IdentifyCode::PassportNumber(s) => explicit(2, enc(&printable(s)?)?),
            },
            IdentityExtension::InsuranceNumber(s)
            | IdentityExtension::IcRegistrationNumber(s)
            | IdentityExtension::OrganizationCode(s)
            | IdentityExtension::TaxationNumber(s) => enc(&printable(s)?),
        }
    }
}

/// A key identifier: the SHA-1 of the subjectPublicKey BIT STRING's value (RFC 5280
/// §4.2.1.2, method 1), as used for the subjectKeyIdentifier.
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>> {
    use der::Decode;
    let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| Error::decode("public key", e))?;
    let ski = SubjectKeyIdentifier::try_from(spki).map_err(|e| Error::decode("public key", e))?;
    Ok(ski.0.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identify_code_is_explicitly_tagged() {
        let e = IdentityExtension::IdentifyCode(IdentifyCode::ResidentCardNumber("1101".into()));
        assert_eq!(
            e.value_der().unwrap(),
            [0xa0, 0x06, 0x13, 0x04, b'1', b'1', b'0', b'1']
        );
        let o = IdentityExtension::OrganizationCode("91110000X".into());
        assert_eq!(o.value_der().unwrap()[0], 0x13);
        assert!(
            IdentityExtension::TaxationNumber("税号".into())
                .value_der()
                .is_err()
        );
    }
}
