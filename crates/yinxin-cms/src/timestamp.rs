//! RFC 3161 timestamps (with RFC 5816's `ESSCertIDv2`): requests, a signer for a timestamp
//! authority, responses, and token verification.
//!
//! ```text
//!   client: TimestampRequest::for_data(hash, data) ──to_der──▶ TSA
//!   TSA:    TimestampRequest::decode ──▶ TimestampSigner::respond(request, serial, time)
//!           ──▶ TimeStampResp DER (granted, with the token) | Rejection::to_response_der
//!   client: TimestampResponse::decode ──▶ verify_response / verify_token ──▶ TimestampInfo
//! ```
//!
//! A token is a `SignedData` ([`crate::signed_data`]) whose `eContentType` is
//! `id-ct-TSTInfo`, signed with the attributes `contentType`, `messageDigest` and
//! `signingCertificateV2` (no `signingTime`: `genTime` is the time). SM2 tokens use the RFC
//! 5652 identifiers (SM3 + `SM2-with-SM3`) unless the [`TsaPolicy`] asks for
//! [`Form::GmT0010`].
//!
//! [`TimestampSigner::respond`] is built for throughput: the certificate set, signer
//! identifier, algorithm identifiers, `signingCertificateV2` attribute, policy, accuracy and
//! TSA name are encoded once in [`TimestampSigner::new`], so a response costs the `TSTInfo`
//! concatenation, one hash and one signature. Serial numbers and the clock are the caller's:
//! `respond` signs what it is given.
//!
//! `genTime` carries a fraction of a second when the policy's accuracy is finer than a
//! second (milliseconds, or microseconds when the accuracy has micros), trailing zeros
//! dropped as DER requires; OpenSSL 3 (`openssl ts -verify`, `-reply -text`) reads it.

mod asn1;
mod request;
mod signer;
mod verify;

use der::Decode;

pub use asn1::{
    AccuracyAsn1, GenTime, MessageImprint, PkiStatusInfo, TimeStampReq, TimeStampResp, TstInfo,
};
pub use request::TimestampRequest;
pub use signer::{TimestampSigner, TsaPolicy};
pub(crate) use verify::token_info;
pub use verify::{Imprint, TimestampInfo, TimestampProblem, verify_response, verify_token};

use crate::error::{Error, Result};
use crate::signed_data::der_out::{self, BIT_STRING, SEQUENCE, UTF8_STRING, tlv};
pub use crate::signed_data::{Form, VerifyOptions};

/// `PKIFailureInfo` (RFC 3161 §2.4.2): why a request was rejected. Each is one bit of the
/// `failInfo` BIT STRING.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureInfo {
    /// `badAlg` (0): unrecognized or unsupported algorithm identifier.
    BadAlg,
    /// `badRequest` (2): transaction not permitted or supported.
    BadRequest,
    /// `badDataFormat` (5): the data submitted has the wrong format.
    BadDataFormat,
    /// `timeNotAvailable` (14): the TSA's time source is not available.
    TimeNotAvailable,
    /// `unacceptedPolicy` (15): the requested policy is not supported by the TSA.
    UnacceptedPolicy,
    /// `unacceptedExtension` (16): the requested extension is not supported by the TSA.
    UnacceptedExtension,
    /// `addInfoNotAvailable` (17): the additional information requested is not available.
    AddInfoNotAvailable,
    /// `systemFailure` (25): the request cannot be handled due to system failure.
    SystemFailure,
}

impl FailureInfo {
    /// Every failure, in bit order.
    pub const ALL: [FailureInfo; 8] = [
        FailureInfo::BadAlg,
        FailureInfo::BadRequest,
        FailureInfo::BadDataFormat,
        FailureInfo::TimeNotAvailable,
        FailureInfo::UnacceptedPolicy,
        FailureInfo::UnacceptedExtension,
        FailureInfo::AddInfoNotAvailable,
        FailureInfo::SystemFailure,
    ];

    /// The bit number in `PKIFailureInfo`.
    pub fn bit(self) -> u8 {
        match self {
            FailureInfo::BadAlg => 0,
            FailureInfo::BadRequest => 2,
            FailureInfo::BadDataFormat => 5,
            FailureInfo::TimeNotAvailable => 14,
            FailureInfo::UnacceptedPolicy => 15,
            FailureInfo::UnacceptedExtension => 16,
            FailureInfo::AddInfoNotAvailable => 17,
            FailureInfo::SystemFailure => 25,
        }
    }

    /// The ASN.1 name.
    pub fn name(self) -> &'static str {
        match self {
            FailureInfo::BadAlg => "badAlg",
            FailureInfo::BadRequest => "badRequest",
            FailureInfo::BadDataFormat => "badDataFormat",
            FailureInfo::TimeNotAvailable => "timeNotAvailable",
            FailureInfo::UnacceptedPolicy => "unacceptedPolicy",
            FailureInfo::UnacceptedExtension => "unacceptedExtension",
            FailureInfo::AddInfoNotAvailable => "addInfoNotAvailable",
            FailureInfo::SystemFailure => "systemFailure",
        }
    }

    /// The DER `BIT STRING` with just this bit set (trailing zero bits removed).
    fn bit_string(self) -> Vec<u8> {
        let bit = usize::from(self.bit());
        let mut bytes = vec![0u8; bit / 8 + 1];
        bytes[bit / 8] = 0x80 >> (bit % 8);
        let unused = 7 - (bit % 8) as u8;
        tlv(BIT_STRING, &[&[unused], &bytes])
    }

    /// The first failure whose bit is set in `bits` (a `PKIFailureInfo` BIT STRING's bytes).
    fn first_in(bits: &[u8]) -> Option<FailureInfo> {
        FailureInfo::ALL.into_iter().find(|f| {
            let bit = usize::from(f.bit());
            bits.get(bit / 8)
                .is_some_and(|b| b & (0x80 >> (bit % 8)) != 0)
        })
    }
}

impl std::fmt::Display for FailureInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A refused request: the `failInfo` and a text for the client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{failure}: {text}")]
pub struct Rejection {
    /// Why.
    pub failure: FailureInfo,
    /// A human-readable explanation (sent as `statusString`).
    pub text: String,
}

impl Rejection {
    /// A rejection for `failure` explained by `text`.
    pub fn new(failure: FailureInfo, text: impl Into<String>) -> Self {
        Rejection {
            failure,
            text: text.into(),
        }
    }

    /// The `TimeStampResp` DER: status `rejection` (2), `statusString` and the `failInfo` bit.
    pub fn to_response_der(&self) -> Vec<u8> {
        let status = der_out::small_integer(2);
        let text = (!self.text.is_empty())
            .then(|| tlv(SEQUENCE, &[&tlv(UTF8_STRING, &[self.text.as_bytes()])]));
        let info = tlv(
            SEQUENCE,
            &[
                &status,
                text.as_deref().unwrap_or_default(),
                &self.failure.bit_string(),
            ],
        );
        tlv(SEQUENCE, &[&info])
    }
}

/// `PKIStatus` (RFC 3161 §2.4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PkiStatus {
    /// `granted` (0): a token is present.
    Granted,
    /// `grantedWithMods` (1): a token is present, with modifications.
    GrantedWithMods,
    /// `rejection` (2).
    Rejection,
    /// `waiting` (3).
    Waiting,
    /// `revocationWarning` (4).
    RevocationWarning,
    /// `revocationNotification` (5).
    RevocationNotification,
}

impl PkiStatus {
    fn from_u32(n: u32) -> Option<Self> {
        Some(match n {
            0 => PkiStatus::Granted,
            1 => PkiStatus::GrantedWithMods,
            2 => PkiStatus::Rejection,
            3 => PkiStatus::Waiting,
            4 => PkiStatus::RevocationWarning,
            5 => PkiStatus::RevocationNotification,
            _ => return None,
        })
    }

    /// Whether a token comes with this status.
    pub fn is_granted(self) -> bool {
        matches!(self, PkiStatus::Granted | PkiStatus::GrantedWithMods)
    }
}

/// A decoded `TimeStampResp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampResponse {
    /// The status.
    pub status: PkiStatus,
    /// The first failure bit set, for rejections.
    pub failure: Option<FailureInfo>,
    /// The `statusString` texts joined by newlines.
    pub text: Option<String>,
    /// The token (a DER `ContentInfo`), when granted.
    pub token: Option<Vec<u8>>,
}

impl TimestampResponse {
    /// Decode a `TimeStampResp` (DER, or BER as some servers write).
    pub fn decode(der: &[u8]) -> Result<Self> {
        let resp = TimeStampResp::from_der(der)
            .or_else(|e| TimeStampResp::from_ber(der).map_err(|_| e))
            .map_err(|e| Error::decode("TimeStampResp", e))?;
        let status = PkiStatus::from_u32(resp.status.status).ok_or_else(|| {
            Error::decode(
                "TimeStampResp",
                format!("unknown PKIStatus {}", resp.status.status),
            )
        })?;
        let token = resp
            .time_stamp_token
            .map(|t| crate::signed_data::encode("TimeStampToken", &t))
            .transpose()?;
        Ok(TimestampResponse {
            status,
            failure: resp
                .status
                .fail_info
                .as_ref()
                .and_then(|b| FailureInfo::first_in(b.raw_bytes())),
            text: resp.status.status_string.map(|t| t.join("\n")),
            token,
        })
    }
}

/// The accuracy of `genTime` (RFC 3161 §2.4.2): at most `seconds` + `millis` ms + `micros` µs
/// either way. Zero fields are left out of the encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Accuracy {
    /// Whole seconds.
    pub seconds: u32,
    /// Milliseconds, 0–999.
    pub millis: u16,
    /// Microseconds, 0–999.
    pub micros: u16,
}

impl Accuracy {
    /// How many fractional digits `genTime` carries at this accuracy: none from a second up,
    /// milliseconds below, microseconds when micros are given.
    pub fn fraction_digits(&self) -> u32 {
        if self.seconds > 0 {
            0
        } else if self.micros > 0 {
            6
        } else {
            3
        }
    }

    fn to_asn1(self) -> AccuracyAsn1 {
        AccuracyAsn1 {
            seconds: (self.seconds > 0).then_some(self.seconds),
            millis: (self.millis > 0).then_some(self.millis),
            micros: (self.micros > 0).then_some(self.micros),
        }
    }

    fn from_asn1(a: &AccuracyAsn1) -> Self {
        Accuracy {
            seconds: a.seconds.unwrap_or(0),
            millis: a.millis.unwrap_or(0),
            micros: a.micros.unwrap_or(0),
        }
    }
}

/// The unsigned big-endian magnitude of a DER INTEGER (`None` if negative).
fn unsigned_bytes(int: &der::asn1::Int) -> Option<Vec<u8>> {
    let bytes = int.as_bytes();
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    Some(bytes[skip..].to_vec())
}

/// The signed DER INTEGER of an unsigned big-endian number.
fn int_of(unsigned: &[u8]) -> Result<der::asn1::Int> {
    let der = der_out::unsigned_integer(unsigned);
    der::asn1::Int::from_der(&der).map_err(|e| Error::decode("INTEGER", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_bits_are_rfc_3161s() {
        assert_eq!(FailureInfo::BadAlg.bit_string(), [0x03, 0x02, 0x07, 0x80]);
        assert_eq!(
            FailureInfo::SystemFailure.bit_string(),
            [0x03, 0x05, 0x06, 0x00, 0x00, 0x00, 0x40]
        );
        for f in FailureInfo::ALL {
            let der = Rejection::new(f, "no").to_response_der();
            let resp = TimestampResponse::decode(&der).ok();
            assert_eq!(resp.as_ref().map(|r| r.failure), Some(Some(f)));
            assert_eq!(resp.map(|r| r.status), Some(PkiStatus::Rejection));
        }
    }
}
