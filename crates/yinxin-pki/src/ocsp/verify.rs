//! The client side: verifying a response against the issuer, and [`OcspSource`] for the
//! path validator.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::{Decode, Reader};
use x509_cert::Certificate;
use yinxin_crypto::DistinguishingId;

use super::asn1::{BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, ResponderId};
use super::request::{nonce_octets, unsigned};
use super::responder::is_delegated_by;
use super::{
    CertIdHash, CertStatusAnswer, ID_PKIX_OCSP_BASIC, ID_PKIX_OCSP_NONCE, OcspError, Result,
};
use crate::path::{CrlProblem, RevocationSource, RevocationStatus};
use crate::{algorithm, certificate};

/// The largest DER response accepted.
pub const MAX_RESPONSE_LEN: usize = 256 * 1024;

/// One verified status from a response.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct SingleStatus {
    /// The certificate's serial number, unsigned big-endian without leading zero octets.
    pub serial: Vec<u8>,
    /// The `CertID` hash the responder used.
    pub hash: CertIdHash,
    /// The status.
    pub status: CertStatusAnswer,
    /// thisUpdate.
    pub this_update: SystemTime,
    /// nextUpdate, if stated.
    pub next_update: Option<SystemTime>,
}

fn malformed(e: impl std::fmt::Display) -> OcspError {
    OcspError::MalformedResponse(e.to_string())
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn system_time(t: &der::asn1::GeneralizedTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(t.to_unix_duration().as_secs())
}

/// The `tbsResponseData` TLV exactly as received: the signed bytes.
fn tbs_bytes(basic_der: &[u8]) -> der::Result<Vec<u8>> {
    let mut reader = der::SliceReader::new(basic_der)?;
    reader.sequence(|r| {
        let tbs = r.tlv_bytes()?.to_vec();
        r.read_slice(r.remaining_len())?;
        Ok(tbs)
    })
}

/// Decode the `BasicOCSPResponse` of a successful DER `OCSPResponse`, with the signed bytes.
fn basic_and_tbs_of(der: &[u8]) -> Result<(BasicOcspResponse, Vec<u8>)> {
    let (basic, raw) = decode_basic(der)?;
    Ok((basic, tbs_bytes(&raw).map_err(malformed)?))
}

/// Decode the `BasicOCSPResponse` of a successful DER `OCSPResponse`.
fn basic_of(der: &[u8]) -> Result<BasicOcspResponse> {
    decode_basic(der).map(|(basic, _)| basic)
}

fn decode_basic(der: &[u8]) -> Result<(BasicOcspResponse, Vec<u8>)> {
    if der.len() > MAX_RESPONSE_LEN {
        return Err(OcspError::TooLarge {
            what: "response",
            len: der.len(),
            max: MAX_RESPONSE_LEN,
        });
    }
    let resp = OcspResponse::from_der(der).map_err(malformed)?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(OcspError::Status(resp.response_status));
    }
    let bytes = resp
        .response_bytes
        .ok_or_else(|| malformed("successful response without responseBytes"))?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(malformed(format!(
            "unsupported response type {}",
            bytes.response_type
        )));
    }
    let raw = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(raw).map_err(malformed)?;
    Ok((basic, raw.to_vec()))
}

/// Whether a `CertID` names `issuer` (under a supported hash).
fn names_issuer(id: &super::asn1::CertId, issuer: &Certificate) -> Result<Option<CertIdHash>> {
    let Some(hash) = CertIdHash::from_oid(&id.hash_algorithm.oid) else {
        return Ok(None);
    };
    let (n, k) = super::issuer_hashes(issuer, hash)?;
    Ok((id.issuer_name_hash.as_bytes() == n && id.issuer_key_hash.as_bytes() == k).then_some(hash))
}

/// Verify a DER `OCSPResponse` about certificates of `issuer` at time `at`, and return the
/// statuses of the certificates of `issuer` it covers (others are skipped).
///
/// The response must be successful and basic, signed by `issuer` itself or by a delegated
/// responder whose certificate (in `certs`) `issuer` signed, carries `id-kp-OCSPSigning` and
/// is valid at `at`. When `expected_nonce` is given, the response must echo it. Each
/// status must be current: thisUpdate ≤ `at` ≤ nextUpdate. SM2 signatures are verified
/// with `sm2_id` (default `1234567812345678`).
pub fn verify_response(
    der: &[u8],
    issuer: &Certificate,
    expected_nonce: Option<&[u8]>,
    at: SystemTime,
    sm2_id: Option<DistinguishingId>,
) -> Result<Vec<SingleStatus>> {
    let (basic, tbs_der) = basic_and_tbs_of(der)?;
    let tbs = &basic.tbs_response_data;
    let certs = basic.certs.as_deref().unwrap_or(&[]);
    let signer = std::iter::once(issuer)
        .chain(certs.iter())
        .find(|c| match &tbs.responder_id {
            ResponderId::ByKey(h) => super::key_hash(c) == h.as_bytes(),
            ResponderId::ByName(n) => c.tbs_certificate().subject() == n,
        })
        .ok_or_else(|| {
            OcspError::UnauthorisedSigner("no certificate matches the responderID".into())
        })?;
    let now = secs(at);
    if signer != issuer {
        is_delegated_by(signer, issuer)?;
        let v = signer.tbs_certificate().validity();
        if v.not_before.to_unix_duration().as_secs() > now
            || v.not_after.to_unix_duration().as_secs() < now
        {
            return Err(OcspError::UnauthorisedSigner(
                "the responder certificate is not valid at the validation time".into(),
            ));
        }
    }
    let scheme = algorithm::scheme_of(&basic.signature_algorithm, sm2_id)?;
    let sig = basic.signature.as_bytes().ok_or(OcspError::BadSignature)?;
    certificate::public_key(signer)?
        .verify(&scheme, &tbs_der, sig)
        .map_err(|e| {
            if e.is_verdict() || matches!(e, yinxin_crypto::Error::Decode { .. }) {
                OcspError::BadSignature
            } else {
                OcspError::from(e)
            }
        })?;
    if let Some(expected) = expected_nonce {
        let echoed = tbs
            .response_extensions
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
            .map(|e| nonce_octets(e.extn_value.as_bytes()));
        if echoed != Some(expected) {
            return Err(OcspError::NonceMismatch);
        }
    }
    let mut out = Vec::new();
    for single in &tbs.responses {
        let Some(hash) = names_issuer(&single.cert_id, issuer)? else {
            continue;
        };
        if single.this_update.to_unix_duration().as_secs() > now {
            return Err(OcspError::NotYetValid);
        }
        if let Some(next) = &single.next_update
            && next.to_unix_duration().as_secs() < now
        {
            return Err(OcspError::Expired);
        }
        let status = match &single.cert_status {
            CertStatus::Good(_) => CertStatusAnswer::Good,
            CertStatus::Unknown(_) => CertStatusAnswer::Unknown,
            CertStatus::Revoked(info) => CertStatusAnswer::Revoked {
                at: system_time(&info.revocation_time),
                reason: info.revocation_reason,
            },
        };
        out.push(SingleStatus {
            serial: unsigned(single.cert_id.serial_number.as_bytes()).to_vec(),
            hash,
            status,
            this_update: system_time(&single.this_update),
            next_update: single.next_update.as_ref().map(system_time),
        });
    }
    Ok(out)
}

/// A [`RevocationSource`] backed by OCSP responses the caller already holds (DER), for the
/// path validator. A response covers a certificate when one of its `CertID`s names the
/// certificate's issuer and serial; it is used only if [`verify_response`] accepts it at
/// the validation time (no nonce). A covering response that fails verification makes the
/// status [`RevocationStatus::Unusable`], mapped onto the nearest [`CrlProblem`].
#[derive(Clone, Debug, Default)]
pub struct OcspSource {
    responses: Vec<Vec<u8>>,
    sm2_id: Option<DistinguishingId>,
}

impl OcspSource {
    /// A source of DER `OCSPResponse`s.
    pub fn new(responses: Vec<Vec<u8>>) -> Self {
        OcspSource {
            responses,
            sm2_id: None,
        }
    }

    /// Verify SM2-signed responses with this signer ID (default `1234567812345678`).
    pub fn with_sm2_id(mut self, id: DistinguishingId) -> Self {
        self.sm2_id = Some(id);
        self
    }

    /// How many responses the source holds.
    pub fn len(&self) -> usize {
        self.responses.len()
    }

    /// Whether the source holds no response.
    pub fn is_empty(&self) -> bool {
        self.responses.is_empty()
    }
}

fn covers(der: &[u8], issuer: &Certificate, serial: &[u8]) -> bool {
    basic_of(der).is_ok_and(|b| {
        b.tbs_response_data.responses.iter().any(|s| {
            unsigned(s.cert_id.serial_number.as_bytes()) == serial
                && matches!(names_issuer(&s.cert_id, issuer), Ok(Some(_)))
        })
    })
}

fn problem_of(e: &OcspError) -> CrlProblem {
    match e {
        OcspError::BadSignature | OcspError::UnauthorisedSigner(_) => CrlProblem::BadSignature,
        OcspError::NotYetValid => CrlProblem::NotYetValid,
        OcspError::Expired => CrlProblem::Expired,
        OcspError::Pki(crate::Error::UnsupportedAlgorithm(a)) => {
            CrlProblem::UnsupportedSignature(a.clone())
        }
        _ => CrlProblem::Malformed,
    }
}

impl RevocationSource for OcspSource {
    fn status(&self, cert: &Certificate, issuer: &Certificate, at: SystemTime) -> RevocationStatus {
        let serial = unsigned(cert.tbs_certificate().serial_number().as_bytes()).to_vec();
        let mut problem = None;
        for der in &self.responses {
            if !covers(der, issuer, &serial) {
                continue;
            }
            match verify_response(der, issuer, None, at, self.sm2_id.clone()) {
                Ok(statuses) => {
                    if let Some(s) = statuses.into_iter().find(|s| s.serial == serial) {
                        return match s.status {
                            CertStatusAnswer::Good => RevocationStatus::Good,
                            CertStatusAnswer::Unknown => RevocationStatus::Unknown,
                            CertStatusAnswer::Revoked { at, reason } => {
                                RevocationStatus::Revoked { reason, at }
                            }
                        };
                    }
                }
                Err(e) => {
                    problem.get_or_insert(problem_of(&e));
                }
            }
        }
        problem.map_or(RevocationStatus::Unknown, RevocationStatus::Unusable)
    }
}
