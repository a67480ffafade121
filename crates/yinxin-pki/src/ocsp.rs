//! RFC 6960 OCSP without IO: requests ([`parse_request`], [`parse_get_path`],
//! [`build_request`]), a [`Responder`] that signs answers through a key handle, and the
//! client side ([`verify_response`], [`OcspSource`] for the path validator).
//!
//! The wire structures are `der` derive structs in [`asn1`], named after the RFC's ASN.1.
//! `CertID`s are accepted with SHA-1 (what OpenSSL and most clients send), SHA-256 and SM3;
//! the responder identifies itself `byKey` (SHA-1 of its public key) and echoes the nonce
//! (RFC 8954: 1 to 32 octets).
//!
//! # Caching
//! A response to a request without a nonce depends only on (issuer, serial, CertID hash,
//! status, times): [`Responder::sign_single`] signs exactly that, so a server may sign once
//! per (issuer, serial, hash) and serve the bytes until shortly before nextUpdate. Requests
//! with a nonce need [`Responder::respond`].

pub mod asn1;
mod base64;
mod request;
mod responder;
mod verify;

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use x509_cert::Certificate;
use x509_cert::ext::pkix::CrlReason;
use yinxin_crypto::HashAlgorithm;

pub use request::{
    MAX_GET_PATH_LEN, MAX_REQUEST_LEN, MAX_REQUESTED_CERTS, ParsedRequest, RequestedCert,
    build_request, get_path, parse_get_path, parse_request,
};
pub use responder::{Responder, ResponseTimes, error_response};
pub use verify::{MAX_RESPONSE_LEN, OcspSource, SingleStatus, verify_response};

use asn1::OcspResponseStatus;

/// `id-pkix-ocsp-nonce` (RFC 6960 §4.4.1).
pub const ID_PKIX_OCSP_NONCE: ObjectIdentifier = const_oid::db::rfc6960::ID_PKIX_OCSP_NONCE;
/// `id-pkix-ocsp-basic`: the only response type.
pub const ID_PKIX_OCSP_BASIC: ObjectIdentifier = const_oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
/// `id-pkix-ocsp-nocheck`, carried by delegated responder certificates.
pub const ID_PKIX_OCSP_NOCHECK: ObjectIdentifier = const_oid::db::rfc6960::ID_PKIX_OCSP_NOCHECK;
/// The longest nonce accepted (RFC 8954 §2.1).
pub const MAX_NONCE_LEN: usize = 32;

/// Why an OCSP request or response cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OcspError {
    /// The request does not decode or breaks RFC 6960 (the responder answers
    /// `malformedRequest`).
    #[error("malformed OCSP request: {0}")]
    MalformedRequest(String),
    /// The input is larger than the limit.
    #[error("OCSP {what} of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A nonce outside 1..=32 octets (RFC 8954).
    #[error("the OCSP nonce must hold 1 to 32 octets, not {0}")]
    BadNonce(usize),
    /// The response does not decode or breaks RFC 6960.
    #[error("malformed OCSP response: {0}")]
    MalformedResponse(String),
    /// The responder answered with an error status.
    #[error("the OCSP responder answered {0}")]
    Status(OcspResponseStatus),
    /// The response is signed by no key authorised for the issuer.
    #[error("the OCSP response is not signed by the issuer or an authorised responder: {0}")]
    UnauthorisedSigner(String),
    /// The response signature does not verify.
    #[error("the OCSP response signature does not verify")]
    BadSignature,
    /// The expected nonce is missing from the response or differs.
    #[error("the OCSP response does not echo the request's nonce")]
    NonceMismatch,
    /// thisUpdate is after the validation time.
    #[error("the OCSP response is not yet valid")]
    NotYetValid,
    /// nextUpdate is before the validation time.
    #[error("the OCSP response is out of date")]
    Expired,
    /// The responder cannot be set up as asked.
    #[error("OCSP responder: {0}")]
    Responder(String),
    /// The issuer index given to the responder does not exist.
    #[error("no issuer number {0} in this responder")]
    NoSuchIssuer(usize),
    /// Certificates, algorithms, encodings or keys.
    #[error(transparent)]
    Pki(#[from] crate::Error),
}

impl From<yinxin_crypto::Error> for OcspError {
    fn from(e: yinxin_crypto::Error) -> Self {
        OcspError::Pki(crate::Error::Crypto(e))
    }
}

/// Results of this module.
pub type Result<T> = std::result::Result<T, OcspError>;

/// The hash algorithm of a `CertID`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
pub enum CertIdHash {
    /// SHA-1: what OpenSSL and most clients send.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SM3, for clients of the Chinese algorithm suite.
    Sm3,
}

impl CertIdHash {
    /// Every supported `CertID` hash.
    pub const ALL: [CertIdHash; 3] = [CertIdHash::Sha1, CertIdHash::Sha256, CertIdHash::Sm3];

    /// The hash algorithm's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            CertIdHash::Sha1 => rfc5912::ID_SHA_1,
            CertIdHash::Sha256 => HashAlgorithm::Sha256.oid(),
            CertIdHash::Sm3 => HashAlgorithm::Sm3.oid(),
        }
    }

    /// The hash named by `oid`, if supported (SM3 under any of its spellings).
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        if *oid == rfc5912::ID_SHA_1 {
            return Some(CertIdHash::Sha1);
        }
        if *oid == HashAlgorithm::Sha256.oid() {
            return Some(CertIdHash::Sha256);
        }
        if *oid == HashAlgorithm::Sm3.oid()
            || yinxin_crypto::oid::means(oid, yinxin_crypto::oid::Meaning::Sm3)
        {
            return Some(CertIdHash::Sm3);
        }
        None
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            CertIdHash::Sha1 => yinxin_crypto::hash::sha1(data).to_vec(),
            CertIdHash::Sha256 => yinxin_crypto::hash::digest(HashAlgorithm::Sha256, data),
            CertIdHash::Sm3 => yinxin_crypto::hash::digest(HashAlgorithm::Sm3, data),
        }
    }
}

/// The status a responder gives, or a verified response reports, for one certificate.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum CertStatusAnswer {
    /// Not revoked.
    Good,
    /// Revoked.
    Revoked {
        /// When (whole seconds).
        at: SystemTime,
        /// The reason, if given.
        reason: Option<CrlReason>,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// issuerNameHash and issuerKeyHash of `issuer` under `hash`.
pub fn issuer_hashes(issuer: &Certificate, hash: CertIdHash) -> Result<(Vec<u8>, Vec<u8>)> {
    use der::Encode;
    let tbs = issuer.tbs_certificate();
    let name = tbs
        .subject()
        .to_der()
        .map_err(|e| crate::Error::decode("issuer name", e))?;
    let key = tbs.subject_public_key_info().subject_public_key.raw_bytes();
    Ok((hash.digest(&name), hash.digest(key)))
}

/// The `KeyHash` of a certificate's key: SHA-1 of its subjectPublicKey BIT STRING contents.
pub fn key_hash(cert: &Certificate) -> Vec<u8> {
    yinxin_crypto::hash::sha1(
        cert.tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes(),
    )
    .to_vec()
}
