//! `TimeStampReq`: made by clients, decoded (and judged) by the TSA.

use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode, Encode, Tagged};
use spki::AlgorithmIdentifierOwned;
use yinxin_crypto::{HashAlgorithm, hash};

use super::asn1::{MessageImprint, TimeStampReq};
use super::{FailureInfo, Rejection, int_of, unsigned_bytes};
use crate::error::{Error, Result};
use crate::signed_data::der_out;

/// The longest nonce accepted, in octets (OpenSSL sends 8).
const MAX_NONCE_LEN: usize = 64;

/// A timestamp request: what to stamp (a hash), and the client's policy, nonce and whether
/// it wants the TSA's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimestampRequest {
    hash: HashAlgorithm,
    imprint: Vec<u8>,
    policy: Option<ObjectIdentifier>,
    nonce: Option<Vec<u8>>,
    cert_req: bool,
    /// The `hashAlgorithm` as the request spelled it, echoed in the token (RFC 3161 §2.4.2:
    /// "the same value as the similar field in TimeStampReq").
    hash_algorithm_der: Vec<u8>,
}

impl TimestampRequest {
    /// A request for the hash of `data`.
    pub fn for_data(hash: HashAlgorithm, data: &[u8]) -> Self {
        Self::new(hash, hash::digest(hash, data))
    }

    /// A request for a precomputed `digest`, whose length must fit `hash`.
    pub fn for_digest(hash: HashAlgorithm, digest: Vec<u8>) -> Result<Self> {
        if digest.len() != hash.output_len() {
            return Err(Error::Unsupported(format!(
                "a {hash} digest is {} octets, not {}",
                hash.output_len(),
                digest.len()
            )));
        }
        Ok(Self::new(hash, digest))
    }

    fn new(hash: HashAlgorithm, imprint: Vec<u8>) -> Self {
        TimestampRequest {
            hash,
            imprint,
            policy: None,
            nonce: None,
            cert_req: false,
            hash_algorithm_der: der_out::tlv(der_out::SEQUENCE, &[&der_out::oid(&hash.oid())]),
        }
    }

    /// With this nonce (an unsigned big-endian number; leading zeros are dropped).
    pub fn with_nonce(mut self, nonce: Vec<u8>) -> Self {
        let skip = nonce.iter().take_while(|b| **b == 0).count();
        self.nonce = Some(nonce[skip..].to_vec());
        self
    }

    /// With a random 64-bit nonce.
    pub fn with_random_nonce(self) -> Self {
        let mut nonce = yinxin_crypto::random::bytes(8).unwrap_or_else(|_| {
            // The system RNG failing is not recoverable here; a clock-derived nonce still
            // binds the response to this request well enough to detect replays of old ones.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            t.to_be_bytes().to_vec()
        });
        if let Some(first) = nonce.first_mut() {
            *first = (*first & 0x7f) | 0x40;
        }
        self.with_nonce(nonce)
    }

    /// Ask for the TSA's certificate in the token (`certReq`).
    pub fn with_cert_req(mut self, yes: bool) -> Self {
        self.cert_req = yes;
        self
    }

    /// Ask for this policy.
    pub fn with_policy(mut self, policy: ObjectIdentifier) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The hash algorithm.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    /// The hash of the data to stamp.
    pub fn imprint(&self) -> &[u8] {
        &self.imprint
    }

    /// The nonce, unsigned big-endian without leading zeros.
    pub fn nonce(&self) -> Option<&[u8]> {
        self.nonce.as_deref()
    }

    /// The policy asked for.
    pub fn policy(&self) -> Option<&ObjectIdentifier> {
        self.policy.as_ref()
    }

    /// Whether the TSA's certificate is asked for.
    pub fn cert_req(&self) -> bool {
        self.cert_req
    }

    /// The `MessageImprint` DER, with the hash algorithm spelled as in the request.
    pub(crate) fn message_imprint_der(&self) -> Vec<u8> {
        der_out::tlv(
            der_out::SEQUENCE,
            &[
                &self.hash_algorithm_der,
                &der_out::octet_string(&self.imprint),
            ],
        )
    }

    /// The DER `TimeStampReq`.
    pub fn to_der(&self) -> Result<Vec<u8>> {
        let hash_algorithm = AlgorithmIdentifierOwned::from_der(&self.hash_algorithm_der)
            .map_err(|e| Error::decode("hash algorithm", e))?;
        let req = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm,
                hashed_message: OctetString::new(self.imprint.clone())
                    .map_err(|e| Error::decode("message imprint", e))?,
            },
            req_policy: self.policy,
            nonce: self.nonce.as_deref().map(int_of).transpose()?,
            cert_req: self.cert_req,
            extensions: None,
        };
        req.to_der().map_err(|e| Error::decode("TimeStampReq", e))
    }

    /// Decode and judge a request as a TSA: garbage → `badDataFormat`, an unknown or
    /// unsupported hash → `badAlg`, an imprint of the wrong length → `badDataFormat`, a
    /// version other than 1 → `badRequest`, any extension → `unacceptedExtension`.
    pub fn decode(der: &[u8]) -> std::result::Result<Self, Rejection> {
        let req = TimeStampReq::from_der(der)
            .or_else(|e| TimeStampReq::from_ber(der).map_err(|_| e))
            .map_err(|e| {
                Rejection::new(
                    FailureInfo::BadDataFormat,
                    format!("cannot decode the TimeStampReq: {e}"),
                )
            })?;
        if req.version != 1 {
            return Err(Rejection::new(
                FailureInfo::BadRequest,
                format!("TimeStampReq version {} (only v1 exists)", req.version),
            ));
        }
        let algorithm = &req.message_imprint.hash_algorithm;
        let hash = crate::signed_data::hash_algorithm_of(&algorithm.oid).ok_or_else(|| {
            Rejection::new(
                FailureInfo::BadAlg,
                format!("unsupported hash algorithm {}", algorithm.oid),
            )
        })?;
        if algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.tag() != der::Tag::Null)
        {
            return Err(Rejection::new(
                FailureInfo::BadAlg,
                "hash algorithm parameters must be absent or NULL",
            ));
        }
        let imprint = req.message_imprint.hashed_message.as_bytes().to_vec();
        if imprint.len() != hash.output_len() {
            return Err(Rejection::new(
                FailureInfo::BadDataFormat,
                format!(
                    "the message imprint is {} octets, a {hash} hash is {}",
                    imprint.len(),
                    hash.output_len()
                ),
            ));
        }
        if req.extensions.is_some() {
            return Err(Rejection::new(
                FailureInfo::UnacceptedExtension,
                "request extensions are not supported",
            ));
        }
        let nonce = match &req.nonce {
            None => None,
            Some(n) => {
                let bytes = unsigned_bytes(n)
                    .ok_or_else(|| Rejection::new(FailureInfo::BadDataFormat, "negative nonce"))?;
                if bytes.len() > MAX_NONCE_LEN {
                    return Err(Rejection::new(
                        FailureInfo::BadDataFormat,
                        format!("the nonce is longer than {MAX_NONCE_LEN} octets"),
                    ));
                }
                Some(bytes)
            }
        };
        let hash_algorithm_der = algorithm.to_der().map_err(|e| {
            Rejection::new(FailureInfo::BadDataFormat, format!("hash algorithm: {e}"))
        })?;
        Ok(TimestampRequest {
            hash,
            imprint,
            policy: req.req_policy,
            nonce,
            cert_req: req.cert_req,
            hash_algorithm_der,
        })
    }
}
