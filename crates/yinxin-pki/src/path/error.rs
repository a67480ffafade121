//! Why a path is not valid.

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use x509_cert::ext::pkix::CrlReason;

use super::revocation::CrlProblem;

/// The certificate an error concerns: its position in the path (0 = leaf) and subject.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CertRef {
    /// 0 for the leaf, 1 for its issuer, and so on up to the trust anchor.
    pub position: usize,
    /// The subject name (RFC 4514).
    pub subject: String,
}

impl std::fmt::Display for CertRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "certificate #{} \"{}\"", self.position, self.subject)
    }
}

/// A certificate profile rule (RFC 5280 §4, CA/Browser Forum where RFC 5280 is silent) that
/// a certificate breaks.
#[derive(Clone, Debug, Eq, PartialEq)]
#[non_exhaustive]
pub enum ProfileRule {
    /// Not an X.509 v3 certificate.
    NotVersion3,
    /// The serial number is zero.
    SerialZero,
    /// The serial number is negative.
    SerialNegative,
    /// The serial number is longer than 20 octets.
    SerialTooLong,
    /// `signatureAlgorithm` differs from the TBS `signature` field.
    SignatureAlgorithmMismatch,
    /// The issuer name is empty.
    EmptyIssuer,
    /// A CA certificate with an empty subject.
    EmptySubject,
    /// The same extension appears twice.
    DuplicateExtension(ObjectIdentifier),
    /// An extension does not decode.
    MalformedExtension(ObjectIdentifier),
    /// An extension that must not be critical is.
    MustNotBeCritical(ObjectIdentifier),
    /// An extension that must be critical is not.
    MustBeCritical(ObjectIdentifier),
    /// No authorityKeyIdentifier with a keyIdentifier on a certificate that is not an
    /// anchor (on a leaf: unless self-issued).
    MissingAuthorityKeyIdentifier,
    /// An anchor's authorityKeyIdentifier without keyIdentifier, or with issuer and serial.
    BadAuthorityKeyIdentifier,
    /// A self-signed anchor whose authorityKeyIdentifier differs from its
    /// subjectKeyIdentifier.
    AuthorityKeyIdentifierMismatch,
    /// A CA certificate without subjectKeyIdentifier.
    MissingSubjectKeyIdentifier,
    /// A CA (issuer) certificate without basicConstraints.
    MissingBasicConstraints,
    /// An issuer whose basicConstraints says it is not a CA.
    NotCa,
    /// An issuer whose keyUsage lacks keyCertSign.
    MissingKeyCertSign,
    /// keyCertSign on a certificate that is not a CA.
    KeyCertSignWithoutCa,
    /// A CA certificate whose keyUsage lacks keyCertSign.
    CaWithoutKeyCertSign,
    /// nameConstraints on an end-entity certificate.
    NameConstraintsOnEndEntity,
    /// nameConstraints with neither permitted nor excluded subtrees, or empty ones.
    EmptyNameConstraints,
    /// extKeyUsage with no purposes.
    EmptyExtendedKeyUsage,
    /// An empty subject with a non-critical subjectAltName.
    EmptySubjectNonCriticalSan,
    /// A non-empty subject with a critical subjectAltName.
    CriticalSanWithSubject,
    /// An empty subjectAltName, or an iPAddress entry that is not 4 or 16 octets.
    MalformedSubjectAltName,
    /// An empty authorityInfoAccess.
    EmptyAuthorityInfoAccess,
    /// A rule of the Web PKI TLS server profile (CA/Browser Forum Baseline Requirements),
    /// applied when serverAuth is requested.
    WebPkiServerProfile(&'static str),
    /// A host-like common name that is not a copy of a subjectAltName entry (CA/B Forum BR
    /// 7.1.4.3), checked when a DNS name or IP address is expected.
    CommonNameNotInSan(String),
    /// The public key is not one yinxin accepts (algorithm, curve, or RSA size).
    UnacceptableKey(String),
}

impl std::fmt::Display for ProfileRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProfileRule::NotVersion3 => f.write_str("not an X.509 v3 certificate"),
            ProfileRule::SerialZero => f.write_str("serial number is zero"),
            ProfileRule::SerialNegative => f.write_str("serial number is negative"),
            ProfileRule::SerialTooLong => f.write_str("serial number is longer than 20 octets"),
            ProfileRule::SignatureAlgorithmMismatch => {
                f.write_str("signatureAlgorithm differs from the TBS signature field")
            }
            ProfileRule::EmptyIssuer => f.write_str("empty issuer name"),
            ProfileRule::EmptySubject => f.write_str("CA certificate with an empty subject"),
            ProfileRule::DuplicateExtension(o) => write!(f, "extension {o} appears twice"),
            ProfileRule::MalformedExtension(o) => write!(f, "extension {o} is malformed"),
            ProfileRule::MustNotBeCritical(o) => write!(f, "extension {o} must not be critical"),
            ProfileRule::MustBeCritical(o) => write!(f, "extension {o} must be critical"),
            ProfileRule::MissingAuthorityKeyIdentifier => {
                f.write_str("no authorityKeyIdentifier keyIdentifier")
            }
            ProfileRule::BadAuthorityKeyIdentifier => f.write_str(
                "authorityKeyIdentifier lacks keyIdentifier or carries issuer and serial",
            ),
            ProfileRule::AuthorityKeyIdentifierMismatch => {
                f.write_str("self-signed certificate whose AKI differs from its SKI")
            }
            ProfileRule::MissingSubjectKeyIdentifier => {
                f.write_str("CA certificate without subjectKeyIdentifier")
            }
            ProfileRule::MissingBasicConstraints => f.write_str("issuer without basicConstraints"),
            ProfileRule::NotCa => f.write_str("issuer is not a CA (basicConstraints cA false)"),
            ProfileRule::MissingKeyCertSign => f.write_str("issuer keyUsage lacks keyCertSign"),
            ProfileRule::KeyCertSignWithoutCa => {
                f.write_str("keyCertSign on a certificate that is not a CA")
            }
            ProfileRule::CaWithoutKeyCertSign => {
                f.write_str("CA certificate whose keyUsage lacks keyCertSign")
            }
            ProfileRule::NameConstraintsOnEndEntity => {
                f.write_str("nameConstraints on an end-entity certificate")
            }
            ProfileRule::EmptyNameConstraints => f.write_str("empty nameConstraints"),
            ProfileRule::EmptyExtendedKeyUsage => f.write_str("empty extKeyUsage"),
            ProfileRule::EmptySubjectNonCriticalSan => {
                f.write_str("empty subject with a non-critical subjectAltName")
            }
            ProfileRule::CriticalSanWithSubject => {
                f.write_str("critical subjectAltName with a non-empty subject")
            }
            ProfileRule::MalformedSubjectAltName => f.write_str("malformed subjectAltName"),
            ProfileRule::EmptyAuthorityInfoAccess => f.write_str("empty authorityInfoAccess"),
            ProfileRule::WebPkiServerProfile(what) => write!(f, "{what} (Web PKI server profile)"),
            ProfileRule::CommonNameNotInSan(cn) => {
                write!(
                    f,
                    "common name \"{cn}\" is not a copy of a subjectAltName entry"
                )
            }
            ProfileRule::UnacceptableKey(why) => write!(f, "unacceptable public key: {why}"),
        }
    }
}

/// Why a certification path is not valid.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The validation time is before notBefore.
    #[error("{cert} is not yet valid (notBefore {not_before})")]
    NotYetValid {
        /// The certificate.
        cert: CertRef,
        /// Its notBefore (RFC 3339).
        not_before: String,
    },
    /// The validation time is after notAfter.
    #[error("{cert} has expired (notAfter {not_after})")]
    Expired {
        /// The certificate.
        cert: CertRef,
        /// Its notAfter (RFC 3339).
        not_after: String,
    },
    /// The issuer's key does not verify the certificate's signature.
    #[error("bad signature on {cert}")]
    BadSignature {
        /// The certificate.
        cert: CertRef,
    },
    /// The signature algorithm is not supported or does not fit the issuer's key.
    #[error("cannot verify the signature on {cert}: {reason}")]
    UnsupportedSignature {
        /// The certificate.
        cert: CertRef,
        /// Why.
        reason: String,
    },
    /// A profile rule is broken.
    #[error("{cert}: {rule}")]
    Profile {
        /// The certificate.
        cert: CertRef,
        /// The rule.
        rule: ProfileRule,
    },
    /// A critical extension the validator does not process.
    #[error("{cert} has an unsupported critical extension {oid}")]
    UnsupportedCriticalExtension {
        /// The certificate.
        cert: CertRef,
        /// The extension.
        oid: ObjectIdentifier,
    },
    /// An issuer's pathLenConstraint is exceeded.
    #[error("path length constraint of {cert} exceeded ({below} intermediates below it)")]
    PathLenExceeded {
        /// The issuer with the constraint.
        cert: CertRef,
        /// How many non-self-issued intermediates are below it.
        below: usize,
    },
    /// The path would need more intermediates than allowed.
    #[error("path too deep (at most {max} intermediates)")]
    TooDeep {
        /// The bound.
        max: usize,
    },
    /// The leaf's keyUsage does not allow the requested purpose.
    #[error("{cert} keyUsage does not allow {purpose}")]
    KeyUsage {
        /// The certificate.
        cert: CertRef,
        /// The purpose.
        purpose: super::Purpose,
    },
    /// A certificate's extKeyUsage does not allow a requested purpose.
    #[error("{cert} extKeyUsage does not allow {purpose}")]
    ExtendedKeyUsage {
        /// The certificate.
        cert: CertRef,
        /// The purpose.
        purpose: super::Purpose,
    },
    /// The leaf's subjectAltName does not name the expected peer.
    #[error("the leaf certificate \"{subject}\" is not valid for {host}")]
    HostMismatch {
        /// The expected peer name.
        host: String,
        /// The leaf's subject.
        subject: String,
    },
    /// A name in a certificate breaks a CA's name constraints.
    #[error("name {name} of {cert} violates the name constraints of {constrained_by}")]
    NameConstraint {
        /// The certificate holding the name.
        cert: CertRef,
        /// The name.
        name: String,
        /// The CA whose constraints it breaks.
        constrained_by: CertRef,
    },
    /// A CA's name constraint is malformed.
    #[error("{cert} has a malformed name constraint {constraint}")]
    InvalidNameConstraint {
        /// The CA.
        cert: CertRef,
        /// The constraint.
        constraint: String,
    },
    /// The certificate is revoked.
    #[error("{cert} is revoked{}", reason.map(|r| format!(" ({r:?})")).unwrap_or_default())]
    Revoked {
        /// The certificate.
        cert: CertRef,
        /// The CRL reason code, if given.
        reason: Option<CrlReason>,
        /// When it was revoked.
        at: SystemTime,
    },
    /// The revocation data for the certificate is present but unusable.
    #[error("revocation data for {cert} is unusable: {problem}")]
    RevocationUnusable {
        /// The certificate.
        cert: CertRef,
        /// What is wrong with the data.
        problem: CrlProblem,
    },
    /// No revocation status is known and one is required.
    #[error("no revocation status for {cert}")]
    RevocationUnknown {
        /// The certificate.
        cert: CertRef,
    },
    /// No issuer leads to a trust anchor.
    #[error("no path to a trust anchor: issuer \"{issuer}\" not found")]
    NoPath {
        /// The issuer name that could not be found.
        issuer: String,
    },
    /// Path building gave up: too many candidates or signatures (a crafted pool).
    #[error("path building exceeded its work limit")]
    WorkLimit,
}
