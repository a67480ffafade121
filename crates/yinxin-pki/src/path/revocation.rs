//! Revocation: the [`RevocationSource`] the validator asks, and [`CrlSet`], a source backed by
//! CRLs the caller already holds (RFC 5280 §5, §6.3). No network IO here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280 as ids;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{CrlReason, KeyUsage, KeyUsages};
use yinxin_crypto::{DistinguishingId, pem};

use super::names::{self, NormName};
use crate::{Error, Result};

/// The revocation status of one certificate.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum RevocationStatus {
    /// Current revocation data says the certificate is not revoked.
    Good,
    /// The certificate is revoked.
    Revoked {
        /// The reason code, if the data gives one.
        reason: Option<CrlReason>,
        /// When it was revoked.
        at: SystemTime,
    },
    /// No revocation data covers the certificate.
    Unknown,
    /// Revocation data from the certificate's issuer exists but cannot be used (bad
    /// signature, out of date, malformed): the validator rejects the path.
    Unusable(CrlProblem),
}

/// What is wrong with a CRL.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlProblem {
    /// The issuer's key does not verify the CRL's signature.
    #[error("the CRL signature does not verify")]
    BadSignature,
    /// The CRL's signature algorithm is not supported.
    #[error("unsupported CRL signature: {0}")]
    UnsupportedSignature(String),
    /// The issuer's keyUsage lacks cRLSign.
    #[error("the CRL issuer's keyUsage lacks cRLSign")]
    IssuerMissingCrlSign,
    /// thisUpdate is after the validation time.
    #[error("the CRL is not yet valid")]
    NotYetValid,
    /// nextUpdate is before the validation time.
    #[error("the CRL is out of date")]
    Expired,
    /// No cRLNumber extension (RFC 5280 §5.2.3).
    #[error("the CRL has no cRLNumber")]
    MissingCrlNumber,
    /// A critical extension that must not be, or that is not processed.
    #[error("the CRL has a critical extension {0} that is not processed or must not be critical")]
    CriticalExtension(ObjectIdentifier),
    /// The CRL does not decode.
    #[error("the CRL is malformed")]
    Malformed,
}

/// Where the validator gets revocation status from.
pub trait RevocationSource {
    /// The status of `cert`, issued by `issuer`, at time `at`.
    fn status(&self, cert: &Certificate, issuer: &Certificate, at: SystemTime) -> RevocationStatus;
}

/// A set of CRLs. A CRL covers a certificate when its issuer name is the certificate's
/// issuer; it is used only if the issuer's key verifies it, the issuer may sign CRLs, it is
/// current and well-formed. Indirect and delta CRLs are not supported (their critical
/// extensions make such CRLs unusable).
#[derive(Clone, Debug, Default)]
pub struct CrlSet {
    crls: Vec<(NormName, CertificateList)>,
    sm2_id: DistinguishingId,
}

impl CrlSet {
    /// A set of decoded CRLs.
    pub fn new(crls: Vec<CertificateList>) -> Self {
        CrlSet {
            crls: crls
                .into_iter()
                .map(|c| (names::normalize(&c.tbs_cert_list.issuer), c))
                .collect(),
            sm2_id: DistinguishingId::default(),
        }
    }

    /// Decode CRLs from PEM (every `X509 CRL` block) or from one DER CRL. Empty input is an
    /// empty set.
    pub fn from_pem_or_der(data: &[u8]) -> Result<Self> {
        if data.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        let mut crls = Vec::new();
        if pem::is_pem(data) {
            let text = std::str::from_utf8(data).map_err(|e| Error::decode("CRL", e))?;
            for block in pem::blocks(text, "CRL")? {
                if block.label != "X509 CRL" {
                    return Err(Error::WrongPemLabel {
                        expected: "X509 CRL",
                        found: block.label,
                    });
                }
                crls.push(
                    CertificateList::from_der(&block.der).map_err(|e| Error::decode("CRL", e))?,
                );
            }
        } else {
            crls.push(CertificateList::from_der(data).map_err(|e| Error::decode("CRL", e))?);
        }
        Ok(Self::new(crls))
    }

    /// Verify SM2-signed CRLs with this signer ID (default `1234567812345678`).
    pub fn with_sm2_id(mut self, id: DistinguishingId) -> Self {
        self.sm2_id = id;
        self
    }

    /// How many CRLs the set holds.
    pub fn len(&self) -> usize {
        self.crls.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.crls.is_empty()
    }

    fn usable(
        &self,
        crl: &CertificateList,
        issuer: &Certificate,
        at: u64,
    ) -> std::result::Result<(), CrlProblem> {
        let tbs = &crl.tbs_cert_list;
        if let Ok(Some((_, ku))) = issuer.tbs_certificate().get_extension::<KeyUsage>()
            && !ku.0.contains(KeyUsages::CRLSign)
        {
            return Err(CrlProblem::IssuerMissingCrlSign);
        }
        let mut has_number = false;
        for ext in tbs.crl_extensions.as_deref().unwrap_or(&[]) {
            match ext.extn_id {
                ids::ID_CE_CRL_NUMBER => {
                    has_number = true;
                    if ext.critical {
                        return Err(CrlProblem::CriticalExtension(ext.extn_id));
                    }
                }
                ids::ID_CE_AUTHORITY_KEY_IDENTIFIER if !ext.critical => {}
                _ if ext.critical => return Err(CrlProblem::CriticalExtension(ext.extn_id)),
                _ => {}
            }
        }
        if !has_number {
            return Err(CrlProblem::MissingCrlNumber);
        }
        if crl.signature_algorithm != tbs.signature {
            return Err(CrlProblem::Malformed);
        }
        let scheme =
            crate::algorithm::scheme_of(&crl.signature_algorithm, Some(self.sm2_id.clone()))
                .map_err(|e| CrlProblem::UnsupportedSignature(e.to_string()))?;
        let key = crate::certificate::public_key(issuer)
            .map_err(|e| CrlProblem::UnsupportedSignature(e.to_string()))?;
        let tbs_der = tbs.to_der().map_err(|_| CrlProblem::Malformed)?;
        let sig = crl.signature.as_bytes().ok_or(CrlProblem::BadSignature)?;
        key.verify(&scheme, &tbs_der, sig).map_err(|e| {
            if e.is_verdict() || matches!(e, yinxin_crypto::Error::Decode { .. }) {
                CrlProblem::BadSignature
            } else {
                CrlProblem::UnsupportedSignature(e.to_string())
            }
        })?;
        if tbs.this_update.to_unix_duration().as_secs() > at {
            return Err(CrlProblem::NotYetValid);
        }
        if let Some(next) = tbs.next_update
            && next.to_unix_duration().as_secs() < at
        {
            return Err(CrlProblem::Expired);
        }
        Ok(())
    }
}

impl RevocationSource for CrlSet {
    fn status(&self, cert: &Certificate, issuer: &Certificate, at: SystemTime) -> RevocationStatus {
        let at = at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let want = names::normalize(cert.tbs_certificate().issuer());
        let mut problem = None;
        for (name, crl) in &self.crls {
            if *name != want {
                continue;
            }
            if let Err(p) = self.usable(crl, issuer, at) {
                problem.get_or_insert(p);
                continue;
            }
            let serial = cert.tbs_certificate().serial_number();
            let entry = crl
                .tbs_cert_list
                .revoked_certificates
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .find(|r| r.serial_number.as_bytes() == serial.as_bytes());
            return match entry {
                None => RevocationStatus::Good,
                Some(r) => {
                    let reason = r
                        .crl_entry_extensions
                        .as_deref()
                        .unwrap_or(&[])
                        .iter()
                        .find(|e| e.extn_id == ids::ID_CE_CRL_REASONS)
                        .and_then(|e| CrlReason::from_der(e.extn_value.as_bytes()).ok());
                    if reason == Some(CrlReason::RemoveFromCRL) {
                        RevocationStatus::Good
                    } else {
                        RevocationStatus::Revoked {
                            reason,
                            at: UNIX_EPOCH
                                + Duration::from_secs(
                                    r.revocation_date.to_unix_duration().as_secs(),
                                ),
                        }
                    }
                }
            };
        }
        problem.map_or(RevocationStatus::Unknown, RevocationStatus::Unusable)
    }
}

/// Revocation for a validation at a past time (a signature's timestamp) with the newest data:
/// the inner source is asked about the present, so a CRL issued after the time of interest is
/// usable, and a revocation dated after that time does not count, unless its reason is a key
/// compromise (`keyCompromise`, `cACompromise`, `aACompromise`), because the key may have been
/// in other hands before the revocation was recorded. This is how verifiers of timestamped
/// signatures treat later revocations (the timestamp proves the signature came first).
#[derive(Clone, Copy)]
pub struct AtPastTime<'a> {
    inner: &'a dyn RevocationSource,
    now: SystemTime,
}

impl std::fmt::Debug for AtPastTime<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtPastTime")
            .field("now", &self.now)
            .finish()
    }
}

impl<'a> AtPastTime<'a> {
    /// Ask `inner` about the present (`SystemTime::now()` at construction).
    pub fn new(inner: &'a dyn RevocationSource) -> Self {
        AtPastTime {
            inner,
            now: SystemTime::now(),
        }
    }
}

impl RevocationSource for AtPastTime<'_> {
    fn status(&self, cert: &Certificate, issuer: &Certificate, at: SystemTime) -> RevocationStatus {
        match self.inner.status(cert, issuer, self.now.max(at)) {
            RevocationStatus::Revoked {
                reason,
                at: revoked,
            } if revoked > at
                && !matches!(
                    reason,
                    Some(
                        CrlReason::KeyCompromise
                            | CrlReason::CaCompromise
                            | CrlReason::AaCompromise
                    )
                ) =>
            {
                RevocationStatus::Good
            }
            other => other,
        }
    }
}
