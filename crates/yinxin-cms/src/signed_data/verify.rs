//! Verifying `SignedData`: every signer gets a verdict with the exact reason.

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use der::Encode;
use spki::AlgorithmIdentifierOwned;
use yinxin_crypto::{DistinguishingId, HashAlgorithm, SignatureScheme, hash};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::path::{self, PathError, Purpose, RevocationSource, ValidationOptions};

use super::attributes::{SignedAttributes, hash_algorithm};
use super::{Decoded, Form, SignerInfo, decode};
use crate::error::{Error, Result};
use crate::oid;
use crate::timestamp::{self, Imprint, TimestampInfo, TimestampProblem};

/// What a verification trusts and when it validates.
///
/// The validation time of a signer's certificate chain is [`VerifyOptions::time`] when set;
/// otherwise the time of the signature's timestamp when it carries a valid one (the
/// timestamp proves the signature existed then, so a certificate that expired since still
/// counts); otherwise now. A timestamp token's own chain is validated at `time` when set,
/// else at the token's `genTime`.
#[derive(Clone)]
pub struct VerifyOptions<'a> {
    /// The trust anchors (root certificates).
    pub trust_anchors: &'a [Certificate],
    /// More certificates that may serve as intermediates or as the signer's certificate,
    /// besides those in the message.
    pub intermediates: &'a [Certificate],
    /// Where revocation status comes from; `None` skips revocation checking.
    pub revocation: Option<&'a dyn RevocationSource>,
    /// A fixed validation time (see above).
    pub time: Option<SystemTime>,
    /// The SM2 signer ID the signatures were made with (default `1234567812345678`).
    pub sm2_id: DistinguishingId,
    /// Purposes every signer's certificate must allow (default: any).
    pub purposes: Vec<Purpose>,
}

impl std::fmt::Debug for VerifyOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyOptions")
            .field("trust_anchors", &self.trust_anchors.len())
            .field("intermediates", &self.intermediates.len())
            .field("revocation", &self.revocation.is_some())
            .field("time", &self.time)
            .field("sm2_id", &self.sm2_id)
            .field("purposes", &self.purposes)
            .finish()
    }
}

impl Default for VerifyOptions<'_> {
    fn default() -> Self {
        VerifyOptions::new(&[])
    }
}

impl<'a> VerifyOptions<'a> {
    /// Trust these anchors; otherwise the defaults.
    pub fn new(trust_anchors: &'a [Certificate]) -> Self {
        VerifyOptions {
            trust_anchors,
            intermediates: &[],
            revocation: None,
            time: None,
            sm2_id: DistinguishingId::default(),
            purposes: Vec::new(),
        }
    }

    /// Use these intermediates too.
    pub fn with_intermediates(mut self, intermediates: &'a [Certificate]) -> Self {
        self.intermediates = intermediates;
        self
    }

    /// Check revocation with `source`.
    pub fn with_revocation(mut self, source: &'a dyn RevocationSource) -> Self {
        self.revocation = Some(source);
        self
    }

    /// Validate at this time.
    pub fn at(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }

    /// Verify SM2 signatures with this signer ID.
    pub fn with_sm2_id(mut self, id: DistinguishingId) -> Self {
        self.sm2_id = id;
        self
    }

    /// Require these purposes of every signer's certificate.
    pub fn with_purposes(mut self, purposes: impl IntoIterator<Item = Purpose>) -> Self {
        self.purposes = purposes.into_iter().collect();
        self
    }
}

/// The outcome of [`verify`].
#[derive(Clone, Debug)]
pub struct Report {
    /// The form the message used.
    pub form: Form,
    /// The encapsulated content type, as written.
    pub content_type: ObjectIdentifier,
    /// The content, when attached.
    pub content: Option<Vec<u8>>,
    /// One report per signer, in the message's order.
    pub signers: Vec<SignerReport>,
}

impl Report {
    /// Whether there is at least one signer and every signer is valid.
    pub fn is_valid(&self) -> bool {
        !self.signers.is_empty() && self.signers.iter().all(SignerReport::is_valid)
    }

    /// The first problem found, if any, for messages.
    pub fn first_problem(&self) -> Option<&SignerProblem> {
        self.signers.iter().find_map(|s| s.problem.as_ref())
    }
}

/// The verdict on one signer.
#[derive(Clone, Debug)]
pub struct SignerReport {
    /// The signer's certificate subject (RFC 4514), once the certificate is found.
    pub subject: Option<String>,
    /// The issuer named by the signer identifier or the certificate.
    pub issuer: Option<String>,
    /// The certificate serial number (hex), as named by the signer identifier or certificate.
    pub serial: Option<String>,
    /// The signer's certificate, once found.
    pub certificate: Option<Certificate>,
    /// The signature scheme.
    pub scheme: SignatureScheme,
    /// The digest algorithm of the content.
    pub digest_algorithm: HashAlgorithm,
    /// The `signingTime` attribute (the signer's claim, not proof).
    pub signing_time: Option<SystemTime>,
    /// The signature's verified timestamp, if it carries a valid one.
    pub timestamp: Option<TimestampInfo>,
    /// The validated chain's subjects, leaf first, when the chain is valid.
    pub chain: Vec<String>,
    /// Why the signer is not valid; `None` when it is.
    pub problem: Option<SignerProblem>,
}

impl SignerReport {
    /// Whether this signer is valid.
    pub fn is_valid(&self) -> bool {
        self.problem.is_none()
    }

    /// When the signature existed by proof: the timestamp's time.
    pub fn timestamp_time(&self) -> Option<SystemTime> {
        self.timestamp.as_ref().map(|t| t.gen_time)
    }
}

/// Why a signer is not valid.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignerProblem {
    /// The `messageDigest` attribute (or, without signed attributes, the signature) does not
    /// match the content's hash: the content was altered.
    #[error("the content's digest does not match the signed messageDigest")]
    ContentDigestMismatch,
    /// The signature does not verify under the signer's key.
    #[error("the signature does not verify")]
    SignatureInvalid,
    /// A required signed attribute is absent (or there are no signed attributes although the
    /// content type requires them).
    #[error("the signed attribute {0} is missing")]
    MissingSignedAttribute(&'static str),
    /// A signed attribute is malformed or repeated.
    #[error("the signed attribute {attribute} is malformed: {reason}")]
    MalformedSignedAttribute {
        /// The attribute.
        attribute: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The `contentType` attribute does not name the encapsulated content type.
    #[error("the signed contentType {signed} is not the content type {encapsulated}")]
    ContentTypeMismatch {
        /// The signed attribute's value.
        signed: ObjectIdentifier,
        /// The `eContentType`.
        encapsulated: ObjectIdentifier,
    },
    /// The `signingCertificate(V2)` attribute names another certificate.
    #[error("the signingCertificate attribute does not match the signer's certificate")]
    SigningCertificateMismatch,
    /// The signer's certificate is neither in the message nor among the given ones.
    #[error("the signer's certificate was not found")]
    CertificateNotFound,
    /// The certificate's key cannot check this signature (another algorithm, a bad key).
    #[error("the signer's certificate key cannot verify this signature: {0}")]
    UnusableKey(String),
    /// The certificate does not chain to a trust anchor, has expired, is revoked, ….
    #[error("the signer's certificate is not valid: {0}")]
    Chain(PathError),
    /// The signature's timestamp token is not valid.
    #[error("the signature's timestamp is not valid: {0}")]
    TimestampInvalid(Box<TimestampProblem>),
    /// The timestamp token is valid but stamps something else than this signature.
    #[error("the timestamp's message imprint is not the hash of this signature")]
    TimestampImprintMismatch,
}

/// What a signer's verification needs beyond the options (timestamp tokens differ).
#[derive(Clone, Debug, Default)]
pub(crate) struct SignerRules {
    /// Purposes the certificate must allow, in addition to the options'.
    pub(crate) purposes: Vec<Purpose>,
    /// The validation time when the options set none (before timestamps and now).
    pub(crate) default_time: Option<SystemTime>,
    /// A signing-certificate attribute must be present (RFC 3161 §2.4.1).
    pub(crate) require_signing_certificate: bool,
    /// Check `id-aa-timeStampToken` unsigned attributes.
    pub(crate) check_timestamps: bool,
}

/// Verify a `SignedData` (DER, BER or PEM, either form). A detached signature needs
/// `detached_content`; for an attached one it is ignored.
///
/// Input that cannot be read (not a `SignedData`, an unknown digest or signature algorithm,
/// a detached signature without content) is an `Err`; anything that makes a signer
/// invalid is that signer's [`SignerProblem`] in the [`Report`].
pub fn verify(
    signed: &[u8],
    detached_content: Option<&[u8]>,
    options: &VerifyOptions<'_>,
) -> Result<Report> {
    let decoded = decode(signed)?;
    let attached = decoded.content()?;
    let content = match (&attached, detached_content) {
        (Some(c), _) => c.as_slice(),
        (None, Some(c)) => c,
        (None, None) => return Err(Error::MissingContent),
    };
    let rules = SignerRules {
        check_timestamps: true,
        ..SignerRules::default()
    };
    let signers = decoded
        .signed_data
        .signer_infos
        .0
        .iter()
        .map(|si| verify_signer(&decoded, si, content, options, &rules))
        .collect::<Result<Vec<_>>>()?;
    Ok(Report {
        form: decoded.form,
        content_type: decoded.signed_data.encap_content_info.econtent_type,
        content: attached,
        signers,
    })
}

/// The signature scheme of a `SignerInfo`, whose content digest is `digest`.
pub(crate) fn scheme_of(
    algorithm: &AlgorithmIdentifierOwned,
    digest: HashAlgorithm,
    sm2_id: &DistinguishingId,
) -> Result<SignatureScheme> {
    let o = algorithm.oid;
    if o == yinxin_crypto::oid::RSA_ENCRYPTION {
        // OpenSSL writes the key algorithm; the hash is the digest algorithm's.
        return Ok(SignatureScheme::RsaPkcs1v15(digest));
    }
    if o == yinxin_crypto::oid::ID_EC_PUBLIC_KEY {
        return Ok(SignatureScheme::Ecdsa(digest));
    }
    if yinxin_crypto::oid::means(&o, yinxin_crypto::oid::Meaning::Sm2PublicKey)
        || yinxin_crypto::oid::means(&o, yinxin_crypto::oid::Meaning::Sm2Signature)
    {
        return Ok(SignatureScheme::Sm2WithSm3 { id: sm2_id.clone() });
    }
    yinxin_pki::algorithm::scheme_of(algorithm, Some(sm2_id.clone()))
        .map_err(|_| Error::Unsupported(format!("signature algorithm {o} in a SignerInfo")))
}

/// Verify one signer.
pub(crate) fn verify_signer(
    decoded: &Decoded,
    si: &SignerInfo,
    content: &[u8],
    options: &VerifyOptions<'_>,
    rules: &SignerRules,
) -> Result<SignerReport> {
    let digest_algorithm = hash_algorithm(&si.digest_alg.oid).ok_or_else(|| {
        Error::Unsupported(format!(
            "digest algorithm {} in a SignerInfo",
            si.digest_alg.oid
        ))
    })?;
    let scheme = scheme_of(&si.signature_algorithm, digest_algorithm, &options.sm2_id)?;
    let mut report = SignerReport {
        subject: None,
        issuer: None,
        serial: None,
        certificate: None,
        scheme,
        digest_algorithm,
        signing_time: None,
        timestamp: None,
        chain: Vec::new(),
        problem: None,
    };
    if let cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(isn) = &si.sid {
        report.issuer = Some(isn.issuer.to_string());
        report.serial = Some(hex(isn.serial_number.as_bytes()));
    }
    let problem = check_signer(decoded, si, content, options, rules, &mut report);
    report.problem = problem;
    Ok(report)
}

fn message_certificates(decoded: &Decoded) -> Vec<Certificate> {
    decoded
        .signed_data
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    cms::cert::CertificateChoices::Certificate(c) => Some(c.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn find_certificate<'c>(
    sid: &cms::signed_data::SignerIdentifier,
    candidates: impl Iterator<Item = &'c Certificate>,
) -> Option<&'c Certificate> {
    use cms::signed_data::SignerIdentifier as Sid;
    let mut candidates = candidates;
    candidates.find(|c| {
        let tbs = c.tbs_certificate();
        match sid {
            Sid::IssuerAndSerialNumber(isn) => {
                *tbs.issuer() == isn.issuer && *tbs.serial_number() == isn.serial_number
            }
            Sid::SubjectKeyIdentifier(ski) => tbs
                .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
                .ok()
                .flatten()
                .is_some_and(|(_, found)| found == *ski),
        }
    })
}

/// The checks, in order; the first problem found is the verdict.
fn check_signer(
    decoded: &Decoded,
    si: &SignerInfo,
    content: &[u8],
    options: &VerifyOptions<'_>,
    rules: &SignerRules,
    report: &mut SignerReport,
) -> Option<SignerProblem> {
    let in_message = message_certificates(decoded);
    let Some(certificate) = find_certificate(
        &si.sid,
        in_message.iter().chain(options.intermediates.iter()),
    ) else {
        return Some(SignerProblem::CertificateNotFound);
    };
    let tbs = certificate.tbs_certificate();
    report.subject = Some(tbs.subject().to_string());
    report.issuer = Some(tbs.issuer().to_string());
    report.serial = Some(hex(tbs.serial_number().as_bytes()));
    report.certificate = Some(certificate.clone());
    let key = match yinxin_pki::certificate::public_key(certificate) {
        Ok(k) => k,
        Err(e) => return Some(SignerProblem::UnusableKey(e.to_string())),
    };
    let econtent_type = decoded.signed_data.encap_content_info.econtent_type;
    let content_digest = hash::digest(report.digest_algorithm, content);

    let attributes = match &si.signed_attrs {
        Some(attrs) => match SignedAttributes::read(attrs) {
            Ok(a) => Some((a, attrs)),
            Err(p) => return Some(p),
        },
        None => None,
    };
    let signed_message: Vec<u8>;
    let message: &[u8] = match &attributes {
        Some((a, raw)) => {
            let Some(signed_type) = a.content_type else {
                return Some(SignerProblem::MissingSignedAttribute("contentType"));
            };
            let Some(digest) = &a.message_digest else {
                return Some(SignerProblem::MissingSignedAttribute("messageDigest"));
            };
            if oid::rfc5652_equivalent(&signed_type) != oid::rfc5652_equivalent(&econtent_type) {
                return Some(SignerProblem::ContentTypeMismatch {
                    signed: signed_type,
                    encapsulated: econtent_type,
                });
            }
            if *digest != content_digest {
                return Some(SignerProblem::ContentDigestMismatch);
            }
            report.signing_time = a.signing_time;
            signed_message = match raw.to_der() {
                Ok(d) => d,
                Err(e) => {
                    return Some(SignerProblem::MalformedSignedAttribute {
                        attribute: "signedAttrs",
                        reason: e.to_string(),
                    });
                }
            };
            &signed_message
        }
        None => {
            if oid::rfc5652_equivalent(&econtent_type) != oid::ID_DATA {
                return Some(SignerProblem::MissingSignedAttribute("contentType"));
            }
            content
        }
    };
    let signature = si.signature.as_bytes();
    match key.verify(&report.scheme, message, signature) {
        Ok(()) => {}
        Err(yinxin_crypto::Error::InvalidSignature) => {
            // Without signed attributes the signature is over the content itself.
            return Some(if attributes.is_none() {
                SignerProblem::ContentDigestMismatch
            } else {
                SignerProblem::SignatureInvalid
            });
        }
        Err(e) => return Some(SignerProblem::UnusableKey(e.to_string())),
    }
    if let Some((a, _)) = &attributes {
        if rules.require_signing_certificate && !a.has_signing_certificate() {
            return Some(SignerProblem::MissingSignedAttribute(
                "signingCertificateV2",
            ));
        }
        let certificate_der = match certificate.to_der() {
            Ok(d) => d,
            Err(e) => return Some(SignerProblem::UnusableKey(e.to_string())),
        };
        if !a.signing_certificate_matches(certificate, &certificate_der) {
            return Some(SignerProblem::SigningCertificateMismatch);
        }
    } else if rules.require_signing_certificate {
        return Some(SignerProblem::MissingSignedAttribute(
            "signingCertificateV2",
        ));
    }
    if rules.check_timestamps
        && let Some(token) = timestamp_attribute(si)
    {
        let token_options = VerifyOptions {
            time: options.time,
            purposes: Vec::new(),
            ..options.clone()
        };
        match timestamp::verify_token(&token, Imprint::Data(signature), &token_options) {
            Ok(info) => report.timestamp = Some(info),
            Err(Error::Timestamp(TimestampProblem::ImprintMismatch)) => {
                return Some(SignerProblem::TimestampImprintMismatch);
            }
            Err(Error::Timestamp(p)) => {
                return Some(SignerProblem::TimestampInvalid(Box::new(p)));
            }
            Err(e) => {
                return Some(SignerProblem::TimestampInvalid(Box::new(
                    TimestampProblem::Malformed(e.to_string()),
                )));
            }
        }
    }
    let time = options
        .time
        .or(rules.default_time)
        .or(report.timestamp_time())
        .unwrap_or_else(SystemTime::now);
    let mut validation = ValidationOptions::new(time).with_purposes(
        options
            .purposes
            .iter()
            .chain(rules.purposes.iter())
            .copied(),
    );
    validation.revocation = options.revocation;
    let intermediates: Vec<Certificate> = options
        .intermediates
        .iter()
        .chain(in_message.iter())
        .cloned()
        .collect();
    match path::validate(
        options.trust_anchors,
        &intermediates,
        certificate,
        &validation,
    ) {
        Ok(chain) => {
            report.chain = chain.subjects();
            None
        }
        Err(e) => Some(SignerProblem::Chain(e)),
    }
}

/// The first `id-aa-timeStampToken` unsigned attribute value, as DER.
fn timestamp_attribute(si: &SignerInfo) -> Option<Vec<u8>> {
    si.unsigned_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == oid::ID_AA_TIME_STAMP_TOKEN)?
        .values
        .iter()
        .next()?
        .to_der()
        .ok()
}

/// Lower-case hex, for serial numbers in reports.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
