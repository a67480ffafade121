//! Verifying timestamp tokens and responses.

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use der::Decode;
use yinxin_crypto::{HashAlgorithm, hash};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::path::Purpose;

use super::asn1::TstInfo;
use super::request::TimestampRequest;
use super::signer::check_time_stamping_usage;
use super::{Accuracy, FailureInfo, PkiStatus, TimestampResponse, unsigned_bytes};
use crate::error::{Error, Result};
use crate::oid;
use crate::signed_data::{
    self, Form, SignerProblem, SignerRules, VerifyOptions, hash_algorithm_of, verify_signer,
};

/// What a token must stamp.
#[derive(Clone, Copy, Debug)]
pub enum Imprint<'a> {
    /// This data, hashed with the token's hash algorithm.
    Data(&'a [u8]),
    /// This digest, made with `hash`.
    Digest {
        /// The hash algorithm.
        hash: HashAlgorithm,
        /// The digest.
        digest: &'a [u8],
    },
}

/// Why a timestamp token or response is not valid.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampProblem {
    /// The token is not a timestamp token (content type, signer count, missing content).
    #[error("not a timestamp token: {0}")]
    Malformed(String),
    /// The token stamps another hash than the one expected.
    #[error("the token's message imprint does not match")]
    ImprintMismatch,
    /// The token's signature or its signer is not valid.
    #[error("{0}")]
    Signer(Box<SignerProblem>),
    /// The signer's certificate is not a TSA certificate (RFC 3161 §2.3).
    #[error("{0}")]
    NotTimeStampingCertificate(String),
    /// The token's nonce is not the request's.
    #[error("the token's nonce is not the request's")]
    NonceMismatch,
    /// The token's policy is not the one requested.
    #[error("the token's policy {found} is not the requested {expected}")]
    PolicyMismatch {
        /// The requested policy.
        expected: ObjectIdentifier,
        /// The token's.
        found: ObjectIdentifier,
    },
    /// The TSA did not grant the request.
    #[error("the TSA refused: status {status:?}{}{}",
        .failure.map(|f| format!(", {f}")).unwrap_or_default(),
        .text.as_ref().map(|t| format!(": {t}")).unwrap_or_default())]
    Rejected {
        /// The status.
        status: PkiStatus,
        /// The failure bit.
        failure: Option<FailureInfo>,
        /// The TSA's text.
        text: Option<String>,
    },
}

/// A verified token's content and signer.
#[derive(Clone, Debug)]
pub struct TimestampInfo {
    /// The serial number (unsigned big-endian).
    pub serial: Vec<u8>,
    /// When the TSA stamped.
    pub gen_time: SystemTime,
    /// The TSA policy.
    pub policy: ObjectIdentifier,
    /// The claimed accuracy.
    pub accuracy: Option<Accuracy>,
    /// The claimed ordering.
    pub ordering: bool,
    /// The nonce, unsigned big-endian without leading zeros.
    pub nonce: Option<Vec<u8>>,
    /// The imprint's hash algorithm.
    pub hash: HashAlgorithm,
    /// The imprint.
    pub imprint: Vec<u8>,
    /// The form of the token's `SignedData`.
    pub form: Form,
    /// The TSA certificate's subject (RFC 4514).
    pub tsa_subject: String,
    /// The TSA certificate.
    pub tsa_certificate: Certificate,
    /// The validated chain's subjects, leaf first.
    pub chain: Vec<String>,
}

impl TimestampInfo {
    /// The serial number as an integer, when it fits in 128 bits.
    pub fn serial_u128(&self) -> Option<u128> {
        (self.serial.len() <= 16).then(|| {
            self.serial
                .iter()
                .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
        })
    }

    /// Check the token against the request it answers: the same imprint, the request's nonce
    /// (if it had one) and policy (if it asked for one).
    pub fn check_request(&self, request: &TimestampRequest) -> Result<()> {
        if self.hash != request.hash() || self.imprint != request.imprint() {
            return Err(Error::Timestamp(TimestampProblem::ImprintMismatch));
        }
        if let Some(nonce) = request.nonce()
            && self.nonce.as_deref() != Some(nonce)
        {
            return Err(Error::Timestamp(TimestampProblem::NonceMismatch));
        }
        if let Some(policy) = request.policy()
            && *policy != self.policy
        {
            return Err(Error::Timestamp(TimestampProblem::PolicyMismatch {
                expected: *policy,
                found: self.policy,
            }));
        }
        Ok(())
    }
}

/// A token's `TSTInfo`, decoded but not verified.
#[derive(Clone, Debug)]
pub(crate) struct Tst {
    hash: HashAlgorithm,
    imprint: Vec<u8>,
    serial: Vec<u8>,
    gen_time: SystemTime,
    policy: ObjectIdentifier,
    accuracy: Option<Accuracy>,
    ordering: bool,
    nonce: Option<Vec<u8>>,
}

impl Tst {
    /// Whether the imprint is the hash of `data`.
    pub(crate) fn imprint_matches(&self, data: &[u8]) -> bool {
        hash::digest(self.hash, data) == self.imprint
    }

    fn parse(content: &[u8]) -> Result<Self> {
        let tst = TstInfo::from_der(content)
            .or_else(|e| TstInfo::from_ber(content).map_err(|_| e))
            .map_err(|e| Error::decode("TSTInfo", e))?;
        if tst.version != 1 {
            return Err(Error::Unsupported(format!(
                "TSTInfo version {}",
                tst.version
            )));
        }
        let algorithm = &tst.message_imprint.hash_algorithm.oid;
        let hash = hash_algorithm_of(algorithm)
            .ok_or_else(|| Error::Unsupported(format!("timestamp hash algorithm {algorithm}")))?;
        let bad = |what: &'static str| Error::decode("TSTInfo", format!("negative {what}"));
        Ok(Tst {
            hash,
            imprint: tst.message_imprint.hashed_message.as_bytes().to_vec(),
            serial: unsigned_bytes(&tst.serial_number).ok_or_else(|| bad("serialNumber"))?,
            gen_time: tst.gen_time.0,
            policy: tst.policy,
            accuracy: tst.accuracy.as_ref().map(Accuracy::from_asn1),
            ordering: tst.ordering,
            nonce: tst
                .nonce
                .as_ref()
                .map(|n| unsigned_bytes(n).ok_or_else(|| bad("nonce")))
                .transpose()?,
        })
    }
}

/// The decoded token: its `SignedData` and `TSTInfo`, checked for shape only.
fn open(token: &[u8]) -> Result<(signed_data::Decoded, Tst)> {
    let decoded = signed_data::decode(token)?;
    let malformed = |why: String| Error::Timestamp(TimestampProblem::Malformed(why));
    let content_type = decoded.signed_data.encap_content_info.econtent_type;
    if content_type != oid::ID_CT_TST_INFO {
        return Err(malformed(format!(
            "content type {}, not id-ct-TSTInfo",
            crate::content_info::describe(&content_type)
        )));
    }
    let signers = decoded.signed_data.signer_infos.0.len();
    if signers != 1 {
        return Err(malformed(format!("{signers} signers, a token has one")));
    }
    let content = decoded
        .content()?
        .ok_or_else(|| malformed("no TSTInfo in the token".into()))?;
    let tst = Tst::parse(&content)?;
    Ok((decoded, tst))
}

/// The `TSTInfo` of `token`, unverified (for checks before verification).
pub(crate) fn token_info(token: &[u8]) -> Result<Tst> {
    open(token).map(|(_, tst)| tst)
}

/// Verify a timestamp token (a DER `ContentInfo`) over `imprint`.
///
/// Checks: a `SignedData` (either form) of `id-ct-TSTInfo` with one signer; the imprint; the
/// signature with `contentType`, `messageDigest` and a signing-certificate attribute naming
/// the signer's certificate (RFC 3161 §2.4.1, RFC 5816); the TSA certificate's critical,
/// timeStamping-only extended key usage; its chain to `options.trust_anchors` (with
/// revocation when a source is given) at `options.time`, else at the token's `genTime`.
///
/// A token that cannot be decoded is `Err(Decode)`; an invalid one is
/// `Err(Error::Timestamp(problem))` ([`Error::is_verdict`]).
pub fn verify_token(
    token: &[u8],
    imprint: Imprint<'_>,
    options: &VerifyOptions<'_>,
) -> Result<TimestampInfo> {
    let (decoded, tst) = open(token)?;
    let matches = match imprint {
        Imprint::Data(data) => tst.imprint_matches(data),
        Imprint::Digest { hash, digest } => hash == tst.hash && digest == tst.imprint.as_slice(),
    };
    if !matches {
        return Err(Error::Timestamp(TimestampProblem::ImprintMismatch));
    }
    let content = decoded.content()?.unwrap_or_default();
    let rules = SignerRules {
        purposes: vec![Purpose::TimeStamping],
        default_time: Some(tst.gen_time),
        require_signing_certificate: true,
        check_timestamps: false,
    };
    let signer = decoded
        .signed_data
        .signer_infos
        .0
        .get(0)
        .ok_or_else(|| Error::Timestamp(TimestampProblem::Malformed("no signer".into())))?;
    let report = verify_signer(&decoded, signer, &content, options, &rules)?;
    if let Some(problem) = report.problem {
        return Err(Error::Timestamp(TimestampProblem::Signer(Box::new(
            problem,
        ))));
    }
    let certificate = report.certificate.ok_or_else(|| {
        Error::Timestamp(TimestampProblem::Signer(Box::new(
            SignerProblem::CertificateNotFound,
        )))
    })?;
    check_time_stamping_usage(&certificate)
        .map_err(|why| Error::Timestamp(TimestampProblem::NotTimeStampingCertificate(why)))?;
    Ok(TimestampInfo {
        serial: tst.serial,
        gen_time: tst.gen_time,
        policy: tst.policy,
        accuracy: tst.accuracy,
        ordering: tst.ordering,
        nonce: tst.nonce,
        hash: tst.hash,
        imprint: tst.imprint,
        form: decoded.form,
        tsa_subject: certificate.tbs_certificate().subject().to_string(),
        tsa_certificate: certificate,
        chain: report.chain,
    })
}

/// Verify a `TimeStampResp` to `request`: granted, a valid token (see [`verify_token`]) over
/// the request's imprint, with the request's nonce and policy.
pub fn verify_response(
    response: &[u8],
    request: &TimestampRequest,
    options: &VerifyOptions<'_>,
) -> Result<TimestampInfo> {
    let response = TimestampResponse::decode(response)?;
    let token = match (&response.token, response.status.is_granted()) {
        (Some(token), true) => token,
        _ => {
            return Err(Error::Timestamp(TimestampProblem::Rejected {
                status: response.status,
                failure: response.failure,
                text: response.text,
            }));
        }
    };
    let info = verify_token(
        token,
        Imprint::Digest {
            hash: request.hash(),
            digest: request.imprint(),
        },
        options,
    )?;
    info.check_request(request)?;
    Ok(info)
}
