//! The responder: matches `CertID`s to the issuers it answers for and signs `BasicOCSPResponse`s
//! through a key handle.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use const_oid::db::rfc5280 as ids;
use der::asn1::{BitString, GeneralizedTime, Null, OctetString};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::ExtendedKeyUsage;
use yinxin_crypto::{SignatureScheme, Signer};

use super::asn1::{
    BasicOcspResponse, CertId, CertStatus, OcspResponse, OcspResponseStatus, ResponderId,
    ResponseBytes, ResponseData, RevokedInfo, SingleResponse,
};
use super::request::{ParsedRequest, cert_id, parse_get_path, parse_request};
use super::{
    CertIdHash, CertStatusAnswer, ID_PKIX_OCSP_BASIC, ID_PKIX_OCSP_NONCE, OcspError, Result,
};
use crate::{algorithm, certificate};

/// The times a response states.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ResponseTimes {
    /// `producedAt`: when the response is signed.
    pub produced_at: SystemTime,
    /// `thisUpdate`: when the status is known to be correct.
    pub this_update: SystemTime,
    /// `nextUpdate`: when newer information will be available, if stated.
    pub next_update: Option<SystemTime>,
}

impl ResponseTimes {
    /// producedAt and thisUpdate `now`, nextUpdate `now + validity`.
    pub fn starting(now: SystemTime, validity: Duration) -> Self {
        ResponseTimes {
            produced_at: now,
            this_update: now,
            next_update: Some(now + validity),
        }
    }
}

/// An issuer the responder answers for, with its `CertID` hashes under every supported hash.
#[derive(Clone, Debug)]
struct Issuer {
    hashes: Vec<(CertIdHash, Vec<u8>, Vec<u8>)>,
    cert: Certificate,
}

/// An OCSP responder for one or more issuing CAs, signing through a key handle: either the
/// CA's own key (the responder certificate is the CA certificate) or a delegated responder
/// whose certificate each CA issued with `id-kp-OCSPSigning` ([`Profile::OcspSigner`]).
/// A delegated responder's certificate goes into every response's `certs`.
///
/// [`Profile::OcspSigner`]: crate::profile::Profile::OcspSigner
#[derive(Clone, Debug)]
pub struct Responder {
    issuers: Vec<Issuer>,
    responder_cert: Certificate,
    delegated: bool,
    key_hash: Vec<u8>,
    signer: Arc<dyn Signer>,
    scheme: SignatureScheme,
}

fn gtime(t: SystemTime) -> Result<GeneralizedTime> {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| OcspError::Responder("time before 1970".into()))?
        .as_secs();
    GeneralizedTime::from_unix_duration(Duration::from_secs(secs))
        .map_err(|e| OcspError::Responder(format!("time out of range: {e}")))
}

fn enc(what: &'static str) -> impl Fn(der::Error) -> OcspError {
    move |e| OcspError::Pki(crate::Error::decode(what, e))
}

/// Whether `cert` was issued by `issuer` (name and signature) and carries
/// `id-kp-OCSPSigning`.
pub(crate) fn is_delegated_by(cert: &Certificate, issuer: &Certificate) -> Result<()> {
    if cert.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return Err(OcspError::UnauthorisedSigner(
            "the responder certificate was not issued by the CA".into(),
        ));
    }
    let eku = cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(enc("extendedKeyUsage"))?;
    if !eku.is_some_and(|(_, e)| e.0.contains(&ids::ID_KP_OCSP_SIGNING)) {
        return Err(OcspError::UnauthorisedSigner(
            "the responder certificate lacks id-kp-OCSPSigning".into(),
        ));
    }
    let scheme = algorithm::scheme_of(cert.signature_algorithm(), None)?;
    let tbs = cert
        .tbs_certificate()
        .to_der()
        .map_err(enc("certificate"))?;
    let sig = cert
        .signature()
        .as_bytes()
        .ok_or(OcspError::UnauthorisedSigner(
            "bad certificate signature".into(),
        ))?;
    certificate::public_key(issuer)?
        .verify(&scheme, &tbs, sig)
        .map_err(|_| {
            OcspError::UnauthorisedSigner("the CA's signature on the responder certificate".into())
        })
}

/// A status-only `OCSPResponse` (no responseBytes): `malformedRequest`, `internalError`,
/// `tryLater`, `sigRequired` or `unauthorized`.
pub fn error_response(status: OcspResponseStatus) -> Vec<u8> {
    OcspResponse {
        response_status: status,
        response_bytes: None,
    }
    .to_der()
    // Encoding five fixed octets cannot fail; fall back to internalError regardless.
    .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, 0x02])
}

impl Responder {
    /// A responder for `issuers`, signing with `signer` under `scheme` as the holder of
    /// `responder_cert`. The signer's key must be the certificate's; the certificate must be
    /// each issuer's own or be issued by each issuer with `id-kp-OCSPSigning`.
    pub fn new(
        issuers: Vec<Certificate>,
        responder_cert: Certificate,
        signer: Arc<dyn Signer>,
        scheme: SignatureScheme,
    ) -> Result<Self> {
        if issuers.is_empty() {
            return Err(OcspError::Responder("no issuers".into()));
        }
        if certificate::public_key(&responder_cert)?.to_der() != signer.public_key().to_der() {
            return Err(OcspError::Responder(
                "the signing key is not the responder certificate's".into(),
            ));
        }
        algorithm::signature_algorithm(&scheme)?;
        let mut delegated = false;
        let issuers = issuers
            .into_iter()
            .map(|cert| {
                if cert != responder_cert {
                    is_delegated_by(&responder_cert, &cert)?;
                    delegated = true;
                }
                let hashes = CertIdHash::ALL
                    .into_iter()
                    .map(|h| {
                        let (n, k) = super::issuer_hashes(&cert, h)?;
                        Ok((h, n, k))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Issuer { hashes, cert })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Responder {
            issuers,
            key_hash: super::key_hash(&responder_cert),
            responder_cert,
            delegated,
            signer,
            scheme,
        })
    }

    /// The issuer certificates, in the order their indices are passed to lookups.
    pub fn issuers(&self) -> impl Iterator<Item = &Certificate> {
        self.issuers.iter().map(|i| &i.cert)
    }

    /// The index of the issuer a `CertID` names, if this responder answers for it.
    pub fn issuer_of(&self, cert: &super::RequestedCert) -> Option<usize> {
        let hash = cert.hash?;
        self.issuers.iter().position(|i| {
            i.hashes.iter().any(|(h, n, k)| {
                *h == hash && *n == cert.issuer_name_hash && *k == cert.issuer_key_hash
            })
        })
    }

    /// Answer `req`: `lookup(issuer index, serial)` gives each certificate's status (serial
    /// unsigned big-endian). A `CertID` of an issuer this responder does not serve (or with
    /// an unsupported hash) makes the whole answer `unauthorized`. The nonce is echoed.
    /// Returns the DER `OCSPResponse`.
    pub fn respond(
        &self,
        req: &ParsedRequest,
        lookup: &dyn Fn(usize, &[u8]) -> CertStatusAnswer,
        times: ResponseTimes,
    ) -> Result<Vec<u8>> {
        let mut singles = Vec::with_capacity(req.certs.len());
        for c in &req.certs {
            let Some(index) = self.issuer_of(c) else {
                return Ok(error_response(OcspResponseStatus::Unauthorized));
            };
            singles.push(single(c.cert_id.clone(), &lookup(index, &c.serial), times)?);
        }
        self.sign(singles, req.nonce.as_deref(), times)
    }

    /// Sign a response about one certificate without a nonce: the response to cache per
    /// (issuer, serial, hash) and serve to every nonce-less request for it until shortly
    /// before nextUpdate. `serial` is unsigned big-endian.
    pub fn sign_single(
        &self,
        issuer_index: usize,
        serial: &[u8],
        hash: CertIdHash,
        status: &CertStatusAnswer,
        times: ResponseTimes,
    ) -> Result<Vec<u8>> {
        let issuer = self
            .issuers
            .get(issuer_index)
            .ok_or(OcspError::NoSuchIssuer(issuer_index))?;
        let id = cert_id(&issuer.cert, hash, serial)?;
        self.sign(vec![single(id, status, times)?], None, times)
    }

    /// Answer a DER request (POST body) whatever it holds: `malformedRequest` for requests
    /// that do not parse, `internalError` when signing fails. Never fails, never panics.
    pub fn respond_to_der(
        &self,
        der: &[u8],
        lookup: &dyn Fn(usize, &[u8]) -> CertStatusAnswer,
        times: ResponseTimes,
    ) -> Vec<u8> {
        match parse_request(der) {
            Ok(req) => self.respond_or_error(&req, lookup, times),
            Err(_) => error_response(OcspResponseStatus::MalformedRequest),
        }
    }

    /// [`respond_to_der`](Self::respond_to_der) for the path of a GET request.
    pub fn respond_to_get(
        &self,
        path: &str,
        lookup: &dyn Fn(usize, &[u8]) -> CertStatusAnswer,
        times: ResponseTimes,
    ) -> Vec<u8> {
        match parse_get_path(path) {
            Ok(req) => self.respond_or_error(&req, lookup, times),
            Err(_) => error_response(OcspResponseStatus::MalformedRequest),
        }
    }

    fn respond_or_error(
        &self,
        req: &ParsedRequest,
        lookup: &dyn Fn(usize, &[u8]) -> CertStatusAnswer,
        times: ResponseTimes,
    ) -> Vec<u8> {
        self.respond(req, lookup, times)
            .unwrap_or_else(|_| error_response(OcspResponseStatus::InternalError))
    }

    fn sign(
        &self,
        responses: Vec<SingleResponse>,
        nonce: Option<&[u8]>,
        times: ResponseTimes,
    ) -> Result<Vec<u8>> {
        let response_extensions = match nonce {
            None => None,
            Some(n) => Some(vec![Extension {
                extn_id: ID_PKIX_OCSP_NONCE,
                critical: false,
                extn_value: OctetString::new(n).map_err(enc("nonce"))?,
            }]),
        };
        let tbs = ResponseData {
            version: Default::default(),
            responder_id: ResponderId::ByKey(
                OctetString::new(self.key_hash.clone()).map_err(enc("responder ID"))?,
            ),
            produced_at: gtime(times.produced_at)?,
            responses,
            response_extensions,
        };
        let tbs_der = tbs.to_der().map_err(enc("OCSP response"))?;
        let sig = self.signer.sign(&self.scheme, &tbs_der)?;
        self.signer
            .public_key()
            .verify(&self.scheme, &tbs_der, &sig)
            .map_err(|_| OcspError::Responder("the signer returned a bad signature".into()))?;
        let basic = BasicOcspResponse {
            tbs_response_data: tbs,
            signature_algorithm: algorithm::signature_algorithm(&self.scheme)?,
            signature: BitString::from_bytes(&sig).map_err(enc("signature"))?,
            certs: self.delegated.then(|| vec![self.responder_cert.clone()]),
        };
        let basic_der = basic.to_der().map_err(enc("OCSP response"))?;
        let resp = OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: ID_PKIX_OCSP_BASIC,
                response: OctetString::new(basic_der).map_err(enc("OCSP response"))?,
            }),
        };
        let der = resp.to_der().map_err(enc("OCSP response"))?;
        // Round-trip, so what leaves is what a client will decode.
        OcspResponse::from_der(&der).map_err(enc("OCSP response"))?;
        Ok(der)
    }
}

fn single(
    cert_id: CertId,
    status: &CertStatusAnswer,
    times: ResponseTimes,
) -> Result<SingleResponse> {
    if times.next_update.is_some_and(|n| n < times.this_update) {
        return Err(OcspError::Responder(
            "nextUpdate is before thisUpdate".into(),
        ));
    }
    let cert_status = match status {
        CertStatusAnswer::Good => CertStatus::Good(Null),
        CertStatusAnswer::Unknown => CertStatus::Unknown(Null),
        CertStatusAnswer::Revoked { at, reason } => CertStatus::Revoked(RevokedInfo {
            revocation_time: gtime(*at)?,
            revocation_reason: *reason,
        }),
    };
    Ok(SingleResponse {
        cert_id,
        cert_status,
        this_update: gtime(times.this_update)?,
        next_update: times.next_update.map(gtime).transpose()?,
        single_extensions: None,
    })
}
