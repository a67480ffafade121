//! One certificate as the validator sees it: decoded extensions and the per-certificate
//! checks (profile, validity, CA role, leaf role).

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280 as ids;
use der::asn1::UintRef;
use der::{Decode, Encode, Sequence};
use x509_cert::Certificate;
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage,
    KeyUsage, KeyUsages, NameConstraints, PolicyConstraints, SubjectAltName, SubjectKeyIdentifier,
};
use yinxin_crypto::{DistinguishingId, PublicKey};

use super::error::{CertRef, PathError, ProfileRule};
use super::names::{self, NormName};
use super::{PeerName, Purpose, ValidationOptions};

/// `rsaEncryption`.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// Signed certificate timestamps (RFC 6962), never processed, accepted when non-critical.
const CT_SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
/// Smallest RSA modulus accepted.
const MIN_RSA_BITS: usize = 2048;

/// `RSAPublicKey` (RFC 8017 A.1.1), to measure the modulus.
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// A problem found while decoding, reported if the certificate is used.
#[derive(Clone, Debug)]
enum Problem {
    Rule(ProfileRule),
    Critical(ObjectIdentifier),
}

/// A certificate with what the validator needs from it decoded once.
pub(super) struct Parsed<'a> {
    pub(super) cert: &'a Certificate,
    pub(super) subject: NormName,
    issuer: NormName,
    pub(super) self_issued: bool,
    subject_empty: bool,
    spki_der: Vec<u8>,
    key: Result<PublicKey, ProfileRule>,
    basic: Option<(bool, BasicConstraints)>,
    key_usage: Option<KeyUsage>,
    eku: Option<Vec<ObjectIdentifier>>,
    eku_critical: bool,
    pub(super) san: Option<Vec<GeneralName>>,
    pub(super) name_constraints: Option<NameConstraints>,
    ski: Option<Vec<u8>>,
    aki: Option<AuthorityKeyIdentifier>,
    problem: Option<Problem>,
}

impl<'a> Parsed<'a> {
    pub(super) fn new(cert: &'a Certificate) -> Self {
        let tbs = cert.tbs_certificate();
        let subject = names::normalize(tbs.subject());
        let issuer = names::normalize(tbs.issuer());
        let spki_der = tbs.subject_public_key_info().to_der().unwrap_or_default();
        let key = acceptable_key(cert, &spki_der);
        let mut p = Parsed {
            cert,
            self_issued: subject == issuer,
            subject,
            issuer,
            subject_empty: tbs.subject().is_empty(),
            spki_der,
            key,
            basic: None,
            key_usage: None,
            eku: None,
            eku_critical: false,
            san: None,
            name_constraints: None,
            ski: None,
            aki: None,
            problem: None,
        };
        p.decode_extensions();
        p
    }

    fn fail(&mut self, problem: Problem) {
        if self.problem.is_none() {
            self.problem = Some(problem);
        }
    }

    fn decode_extensions(&mut self) {
        let exts: &[x509_cert::ext::Extension] = self
            .cert
            .tbs_certificate()
            .extensions()
            .map_or(&[], |v| v.as_slice());
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        for ext in exts {
            let oid = ext.extn_id;
            if seen.contains(&oid) {
                self.fail(Problem::Rule(ProfileRule::DuplicateExtension(oid)));
                continue;
            }
            seen.push(oid);
            let value = ext.extn_value.as_bytes();
            let malformed = Problem::Rule(ProfileRule::MalformedExtension(oid));
            let ok = match oid {
                ids::ID_CE_BASIC_CONSTRAINTS => BasicConstraints::from_der(value)
                    .map(|bc| self.basic = Some((ext.critical, bc)))
                    .is_ok(),
                ids::ID_CE_KEY_USAGE => KeyUsage::from_der(value)
                    .map(|ku| self.key_usage = Some(ku))
                    .is_ok(),
                ids::ID_CE_EXT_KEY_USAGE => match ExtendedKeyUsage::from_der(value) {
                    Ok(eku) if eku.0.is_empty() => {
                        self.fail(Problem::Rule(ProfileRule::EmptyExtendedKeyUsage));
                        true
                    }
                    Ok(eku) => {
                        self.eku = Some(eku.0);
                        self.eku_critical = ext.critical;
                        true
                    }
                    Err(_) => false,
                },
                ids::ID_CE_SUBJECT_ALT_NAME => match SubjectAltName::from_der(value) {
                    Ok(san) => {
                        self.check_san(&san.0, ext.critical);
                        self.san = Some(san.0);
                        true
                    }
                    Err(_) => false,
                },
                ids::ID_CE_NAME_CONSTRAINTS => match NameConstraints::from_der(value) {
                    Ok(nc) => {
                        let empty = |s: &Option<Vec<_>>| s.as_ref().is_none_or(|v| v.is_empty());
                        if empty(&nc.permitted_subtrees) && empty(&nc.excluded_subtrees) {
                            self.fail(Problem::Rule(ProfileRule::EmptyNameConstraints));
                        }
                        self.name_constraints = Some(nc);
                        true
                    }
                    Err(_) => false,
                },
                ids::ID_CE_SUBJECT_KEY_IDENTIFIER => match SubjectKeyIdentifier::from_der(value) {
                    Ok(ski) => {
                        self.must_not_be_critical(ext.critical, oid);
                        self.ski = Some(ski.0.as_bytes().to_vec());
                        true
                    }
                    Err(_) => false,
                },
                ids::ID_CE_AUTHORITY_KEY_IDENTIFIER => {
                    match AuthorityKeyIdentifier::from_der(value) {
                        Ok(aki) => {
                            self.must_not_be_critical(ext.critical, oid);
                            self.aki = Some(aki);
                            true
                        }
                        Err(_) => false,
                    }
                }
                ids::ID_PE_AUTHORITY_INFO_ACCESS => {
                    match AuthorityInfoAccessSyntax::from_der(value) {
                        Ok(aia) => {
                            self.must_not_be_critical(ext.critical, oid);
                            if aia.0.is_empty() {
                                self.fail(Problem::Rule(ProfileRule::EmptyAuthorityInfoAccess));
                            }
                            true
                        }
                        Err(_) => false,
                    }
                }
                ids::ID_CE_POLICY_CONSTRAINTS => match PolicyConstraints::from_der(value) {
                    Ok(_) => {
                        if !ext.critical {
                            self.fail(Problem::Rule(ProfileRule::MustBeCritical(oid)));
                        }
                        true
                    }
                    Err(_) => false,
                },
                // Recognised, not processed: policies are not required by any caller, and
                // an absent requireExplicitPolicy leaves the path valid without them.
                ids::ID_CE_CERTIFICATE_POLICIES
                | ids::ID_CE_POLICY_MAPPINGS
                | ids::ID_CE_INHIBIT_ANY_POLICY
                | ids::ID_CE_CRL_DISTRIBUTION_POINTS
                | ids::ID_CE_ISSUER_ALT_NAME
                | ids::ID_CE_FRESHEST_CRL
                | ids::ID_PE_SUBJECT_INFO_ACCESS
                | CT_SCT_LIST => {
                    if ext.critical
                        && !matches!(
                            oid,
                            ids::ID_CE_CERTIFICATE_POLICIES
                                | ids::ID_CE_POLICY_MAPPINGS
                                | ids::ID_CE_INHIBIT_ANY_POLICY
                        )
                    {
                        self.fail(Problem::Critical(oid));
                    }
                    true
                }
                _ => {
                    if ext.critical {
                        self.fail(Problem::Critical(oid));
                    }
                    true
                }
            };
            if !ok {
                self.fail(malformed);
            }
        }
    }

    fn must_not_be_critical(&mut self, critical: bool, oid: ObjectIdentifier) {
        if critical {
            self.fail(Problem::Rule(ProfileRule::MustNotBeCritical(oid)));
        }
    }

    fn check_san(&mut self, names: &[GeneralName], critical: bool) {
        if names.is_empty() {
            self.fail(Problem::Rule(ProfileRule::MalformedSubjectAltName));
        }
        if self.subject_empty && !critical {
            self.fail(Problem::Rule(ProfileRule::EmptySubjectNonCriticalSan));
        }
        if !self.subject_empty && critical {
            self.fail(Problem::Rule(ProfileRule::CriticalSanWithSubject));
        }
        for n in names {
            if let GeneralName::IpAddress(ip) = n
                && !matches!(ip.as_bytes().len(), 4 | 16)
            {
                self.fail(Problem::Rule(ProfileRule::MalformedSubjectAltName));
            }
        }
    }

    /// This certificate as an error names it.
    pub(super) fn at(&self, position: usize) -> CertRef {
        CertRef {
            position,
            subject: self.cert.tbs_certificate().subject().to_string(),
        }
    }

    fn rule(&self, position: usize, rule: ProfileRule) -> PathError {
        PathError::Profile {
            cert: self.at(position),
            rule,
        }
    }

    fn is_ca(&self) -> bool {
        self.basic.as_ref().is_some_and(|(_, bc)| bc.ca)
    }

    fn has_usage(&self, usage: KeyUsages) -> Option<bool> {
        self.key_usage.map(|ku| ku.0.contains(usage))
    }

    fn has_aki_key_id(&self) -> bool {
        self.aki
            .as_ref()
            .is_some_and(|a| a.key_identifier.is_some())
    }

    /// Whether `issuer` may have issued this certificate (names, key identifiers).
    pub(super) fn may_be_issued_by(&self, issuer: &Parsed<'_>) -> bool {
        if self.issuer != issuer.subject {
            return false;
        }
        match (
            self.aki.as_ref().and_then(|a| a.key_identifier.as_ref()),
            &issuer.ski,
        ) {
            (Some(aki), Some(ski)) => aki.as_bytes() == ski.as_slice(),
            _ => true,
        }
    }

    /// Same subject and key: the same CA, whatever certificate carries it.
    pub(super) fn same_logical_cert(&self, other: &Parsed<'_>) -> bool {
        self.subject == other.subject && self.spki_der == other.spki_der
    }

    /// The rules every certificate in a path must keep.
    fn check_common(&self, position: usize, at: u64, anchor: bool) -> Result<(), PathError> {
        let tbs = self.cert.tbs_certificate();
        match &self.problem {
            Some(Problem::Rule(r)) => return Err(self.rule(position, r.clone())),
            Some(Problem::Critical(oid)) => {
                return Err(PathError::UnsupportedCriticalExtension {
                    cert: self.at(position),
                    oid: *oid,
                });
            }
            None => {}
        }
        if tbs.version() != Version::V3 {
            return Err(self.rule(position, ProfileRule::NotVersion3));
        }
        // A trust anchor is trusted by configuration; old roots carry serial 0.
        if !anchor {
            let serial = tbs.serial_number().as_bytes();
            let rule = if serial.first().is_some_and(|b| b & 0x80 != 0) {
                Some(ProfileRule::SerialNegative)
            } else if serial.iter().all(|b| *b == 0) {
                Some(ProfileRule::SerialZero)
            } else if serial.len() > 20 {
                Some(ProfileRule::SerialTooLong)
            } else {
                None
            };
            if let Some(rule) = rule {
                return Err(self.rule(position, rule));
            }
        }
        if self.cert.signature_algorithm() != tbs.signature() {
            return Err(self.rule(position, ProfileRule::SignatureAlgorithmMismatch));
        }
        if tbs.issuer().is_empty() {
            return Err(self.rule(position, ProfileRule::EmptyIssuer));
        }
        if let Err(r) = &self.key {
            return Err(self.rule(position, r.clone()));
        }
        let is_ca = self.is_ca();
        if self.has_usage(KeyUsages::KeyCertSign) == Some(true) && !is_ca {
            return Err(self.rule(position, ProfileRule::KeyCertSignWithoutCa));
        }
        if is_ca && self.has_usage(KeyUsages::KeyCertSign) == Some(false) {
            return Err(self.rule(position, ProfileRule::CaWithoutKeyCertSign));
        }
        if self.name_constraints.is_some() && !is_ca {
            return Err(self.rule(position, ProfileRule::NameConstraintsOnEndEntity));
        }
        let validity = tbs.validity();
        let not_before = validity.not_before.to_unix_duration().as_secs();
        let not_after = validity.not_after.to_unix_duration().as_secs();
        if at < not_before {
            return Err(PathError::NotYetValid {
                cert: self.at(position),
                not_before: validity.not_before.to_date_time().to_string(),
            });
        }
        if at > not_after {
            return Err(PathError::Expired {
                cert: self.at(position),
                not_after: validity.not_after.to_date_time().to_string(),
            });
        }
        Ok(())
    }

    /// The checks of the leaf: profile, validity, purposes and peer name.
    pub(super) fn check_leaf(
        &self,
        at: u64,
        options: &ValidationOptions<'_>,
    ) -> Result<(), PathError> {
        self.check_common(0, at, false)?;
        if !self.self_issued && !self.has_aki_key_id() {
            return Err(self.rule(0, ProfileRule::MissingAuthorityKeyIdentifier));
        }
        for &purpose in &options.purposes {
            if purpose == Purpose::Any {
                continue;
            }
            if let Some(eku) = &self.eku
                && !eku.contains(&purpose.oid())
                && !eku.contains(&ids::ANY_EXTENDED_KEY_USAGE)
            {
                return Err(PathError::ExtendedKeyUsage {
                    cert: self.at(0),
                    purpose,
                });
            }
            if let Some(ku) = self.key_usage {
                use KeyUsages::*;
                let allowed = match purpose {
                    Purpose::ServerAuth | Purpose::ClientAuth => {
                        DigitalSignature | KeyEncipherment | KeyAgreement
                    }
                    Purpose::EmailProtection => {
                        DigitalSignature | NonRepudiation | KeyEncipherment | KeyAgreement
                    }
                    _ => DigitalSignature | NonRepudiation,
                };
                if (ku.0 & allowed).is_empty() {
                    return Err(PathError::KeyUsage {
                        cert: self.at(0),
                        purpose,
                    });
                }
            }
        }
        if options.purposes.contains(&Purpose::ServerAuth)
            && let Some(eku) = &self.eku
        {
            // Web PKI server profile (CA/B Forum BR 7.1.2.7.10).
            if eku.contains(&ids::ANY_EXTENDED_KEY_USAGE) {
                return Err(self.rule(
                    0,
                    ProfileRule::WebPkiServerProfile("anyExtendedKeyUsage in a server certificate"),
                ));
            }
            if self.eku_critical {
                return Err(self.rule(
                    0,
                    ProfileRule::WebPkiServerProfile(
                        "critical extKeyUsage in a server certificate",
                    ),
                ));
            }
        }
        if let Some(host) = &options.host
            && matches!(host, PeerName::Dns(_) | PeerName::Ip(_))
            && let Some(cn) =
                names::inconsistent_common_name(self.cert, self.san.as_deref().unwrap_or(&[]))
        {
            return Err(self.rule(0, ProfileRule::CommonNameNotInSan(cn)));
        }
        if let Some(host) = &options.host
            && !names::peer_matches(self.san.as_deref().unwrap_or(&[]), host)
        {
            return Err(PathError::HostMismatch {
                host: host.to_string(),
                subject: self.cert.tbs_certificate().subject().to_string(),
            });
        }
        Ok(())
    }

    /// The checks of an issuer at `position` with `below` non-self-issued intermediates
    /// under it.
    pub(super) fn check_issuer(
        &self,
        position: usize,
        is_anchor: bool,
        below: usize,
        at: u64,
        options: &ValidationOptions<'_>,
    ) -> Result<(), PathError> {
        self.check_common(position, at, is_anchor)?;
        let Some((critical, bc)) = &self.basic else {
            return Err(self.rule(position, ProfileRule::MissingBasicConstraints));
        };
        if !bc.ca {
            return Err(self.rule(position, ProfileRule::NotCa));
        }
        if !critical {
            return Err(self.rule(
                position,
                ProfileRule::MustBeCritical(ids::ID_CE_BASIC_CONSTRAINTS),
            ));
        }
        if let Some(n) = bc.path_len_constraint
            && below > usize::from(n)
        {
            return Err(PathError::PathLenExceeded {
                cert: self.at(position),
                below,
            });
        }
        if self.has_usage(KeyUsages::KeyCertSign) == Some(false) {
            return Err(self.rule(position, ProfileRule::MissingKeyCertSign));
        }
        if self.subject_empty {
            return Err(self.rule(position, ProfileRule::EmptySubject));
        }
        if self.ski.is_none() {
            return Err(self.rule(position, ProfileRule::MissingSubjectKeyIdentifier));
        }
        match &self.aki {
            // RFC 5280 §4.2.1.1: keyIdentifier is how paths are built.
            _ if !is_anchor && !self.has_aki_key_id() => {
                return Err(self.rule(position, ProfileRule::MissingAuthorityKeyIdentifier));
            }
            _ if !is_anchor => {}
            // An anchor is trusted by configuration, whoever else cross-signed it; an AKI it
            // does carry must be the plain key identifier form, its own SKI if self-signed.
            None => {}
            Some(aki) => {
                let Some(k) = &aki.key_identifier else {
                    return Err(self.rule(position, ProfileRule::BadAuthorityKeyIdentifier));
                };
                if aki.authority_cert_issuer.is_some() || aki.authority_cert_serial_number.is_some()
                {
                    return Err(self.rule(position, ProfileRule::BadAuthorityKeyIdentifier));
                }
                if self.self_issued && self.ski.as_deref().is_some_and(|ski| k.as_bytes() != ski) {
                    return Err(self.rule(position, ProfileRule::AuthorityKeyIdentifierMismatch));
                }
            }
        }
        // Web PKI server profile (CA/B Forum BR 7.1.2.1.2): roots carry no extKeyUsage.
        if is_anchor && self.eku.is_some() && options.purposes.contains(&Purpose::ServerAuth) {
            return Err(self.rule(
                position,
                ProfileRule::WebPkiServerProfile("root with extKeyUsage"),
            ));
        }
        Ok(())
    }

    /// A CA whose extKeyUsage lists purposes allows only those below it (as the Web PKI).
    pub(super) fn check_eku_nesting(
        &self,
        position: usize,
        purposes: &[Purpose],
    ) -> Result<(), PathError> {
        let Some(eku) = &self.eku else {
            return Ok(());
        };
        if eku.contains(&ids::ANY_EXTENDED_KEY_USAGE) {
            return Ok(());
        }
        for &purpose in purposes {
            if purpose != Purpose::Any && !eku.contains(&purpose.oid()) {
                return Err(PathError::ExtendedKeyUsage {
                    cert: self.at(position),
                    purpose,
                });
            }
        }
        Ok(())
    }

    /// Verify this certificate's signature with `issuer`'s key.
    pub(super) fn verify_signed_by(
        &self,
        issuer: &Parsed<'_>,
        position: usize,
        sm2_id: &DistinguishingId,
    ) -> Result<(), PathError> {
        let unsupported = |reason: String| PathError::UnsupportedSignature {
            cert: self.at(position),
            reason,
        };
        let scheme =
            crate::algorithm::scheme_of(self.cert.signature_algorithm(), Some(sm2_id.clone()))
                .map_err(|e| unsupported(e.to_string()))?;
        let key = issuer
            .key
            .as_ref()
            .map_err(|r| unsupported(format!("issuer key: {r}")))?;
        let tbs = self
            .cert
            .tbs_certificate()
            .to_der()
            .map_err(|e| unsupported(e.to_string()))?;
        let bad = || PathError::BadSignature {
            cert: self.at(position),
        };
        let sig = self.cert.signature().as_bytes().ok_or_else(bad)?;
        match key.verify(&scheme, &tbs, sig) {
            Ok(()) => Ok(()),
            Err(e) if e.is_verdict() => Err(bad()),
            Err(yinxin_crypto::Error::Decode { .. }) => Err(bad()),
            Err(e) => Err(unsupported(e.to_string())),
        }
    }
}

/// The certificate's key, if yinxin accepts it: a key yinxin-crypto reads (SM2, P-256,
/// P-384, RSA), RSA at least 2048 bits and a whole number of octets.
fn acceptable_key(cert: &Certificate, spki_der: &[u8]) -> Result<PublicKey, ProfileRule> {
    let spki = cert.tbs_certificate().subject_public_key_info();
    if spki.algorithm.oid == RSA_ENCRYPTION {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .and_then(|b| RsaPublicKey::from_der(b).ok())
            .map(|k| {
                let _ = k.public_exponent;
                let n = k.modulus.as_bytes();
                n.first()
                    .map_or(0, |b| n.len() * 8 - b.leading_zeros() as usize)
            })
            .ok_or_else(|| ProfileRule::UnacceptableKey("malformed RSA key".into()))?;
        if bits < MIN_RSA_BITS {
            return Err(ProfileRule::UnacceptableKey(format!(
                "RSA-{bits} is too weak"
            )));
        }
        if bits % 8 != 0 {
            return Err(ProfileRule::UnacceptableKey(format!(
                "RSA modulus of {bits} bits is not a whole number of octets"
            )));
        }
    }
    PublicKey::from_der(spki_der).map_err(|e| ProfileRule::UnacceptableKey(e.to_string()))
}
