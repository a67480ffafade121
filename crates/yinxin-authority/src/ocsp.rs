//! The OCSP responder (RFC 6960) with a cache of pre-signed responses.
//!
//! A nonce-less request about one certificate (what browsers and most middleware send) is
//! answered from a cache keyed by the request's exact `CertID`, so the echoed CertID matches
//! byte for byte. A cached response is re-signed once it is older than
//! [`AuthorityConfig::ocsp_cache_refresh`](crate::AuthorityConfig::ocsp_cache_refresh), and
//! dropped at once when the certificate's status changes on this node, or within about a
//! second when it changes on another node (seen through the audit log). `unknown` answers
//! are never cached (the serial may be issued a moment later on another node). A request
//! with a nonce is always signed afresh.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use std::sync::Arc;

use der::Encode;
use yinxin_pki::ocsp::asn1::OcspResponseStatus;
use yinxin_pki::ocsp::{
    CertStatusAnswer, ParsedRequest, ResponseTimes, error_response, parse_get_path, parse_request,
};
use yinxin_store::CertificateStatus;

use crate::Authority;
use crate::revocation::crl_reason;

/// An OCSP request as it arrived.
#[derive(Debug, Clone, Copy)]
pub enum OcspInput<'a> {
    /// The DER body of a POST.
    Post(&'a [u8]),
    /// The path of a GET after the responder's base (URL-encoded base64 DER).
    Get(&'a str),
}

struct Cached {
    cert_id: Vec<u8>,
    response: Arc<Vec<u8>>,
    made: Instant,
}

/// Cached responses of one certificate, one per CertID spelling, keyed by (CA, serial).
type Entries = HashMap<(String, Vec<u8>), Vec<Cached>>;

/// Cached responses per (CA, serial).
#[derive(Default)]
pub(crate) struct Cache {
    entries: RwLock<Entries>,
    /// Bumped on every invalidation, so a response signed from a status read before the
    /// change is not cached after it.
    generation: AtomicU64,
}

impl Cache {
    fn get(
        &self,
        ca: &str,
        serial: &[u8],
        cert_id: &[u8],
        max_age: std::time::Duration,
    ) -> Option<Arc<Vec<u8>>> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(&(ca.to_string(), serial.to_vec()))?
            .iter()
            .find(|c| c.cert_id == cert_id && c.made.elapsed() < max_age)
            .map(|c| c.response.clone())
    }

    fn put(
        &self,
        ca: &str,
        serial: &[u8],
        cert_id: Vec<u8>,
        response: Arc<Vec<u8>>,
        generation: u64,
    ) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        let list = entries
            .entry((ca.to_string(), serial.to_vec()))
            .or_default();
        list.retain(|c| c.cert_id != cert_id);
        // A handful of CertID spellings per certificate at most; more is someone probing.
        if list.len() < 8 {
            list.push(Cached {
                cert_id,
                response,
                made: Instant::now(),
            });
        }
    }

    /// Drop every cached answer (a responder was withdrawn or the vault sealed).
    pub(crate) fn clear(&self) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }

    pub(crate) fn invalidate(&self, ca: &str, serial: &[u8]) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.remove(&(ca.to_string(), serial.to_vec()));
    }
}

impl Authority {
    /// Answer an OCSP request. Never fails: malformed requests get `malformedRequest`, a
    /// sealed vault `tryLater`, other trouble `internalError` (and a log line).
    pub async fn ocsp(&self, input: OcspInput<'_>) -> Vec<u8> {
        let parsed = match input {
            OcspInput::Post(der) => parse_request(der),
            OcspInput::Get(path) => parse_get_path(path),
        };
        let Ok(req) = parsed else {
            return error_response(OcspResponseStatus::MalformedRequest);
        };
        let Ok(keys) = self.unsealed() else {
            return error_response(OcspResponseStatus::TryLater);
        };
        // The responder answering for the first certificate; others it does not serve make
        // the whole answer `unauthorized` (Responder::respond).
        let Some(index) = keys
            .responders
            .iter()
            .position(|(_, r)| r.issuer_of(&req.certs[0]).is_some())
        else {
            return error_response(OcspResponseStatus::Unauthorized);
        };
        match self.answer(keys, index, req).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("OCSP: {e}");
                error_response(OcspResponseStatus::InternalError)
            }
        }
    }

    async fn answer(
        &self,
        keys: Arc<crate::keys::Unsealed>,
        index: usize,
        req: ParsedRequest,
    ) -> crate::Result<Vec<u8>> {
        let (ca, responder) = &keys.responders[index];
        let ca = ca.as_str();
        let cache = &self.inner.ocsp_cache;
        let config = &self.inner.config;
        let cacheable = req.nonce.is_none() && req.certs.len() == 1;
        let first = &req.certs[0];
        let cert_id = first
            .cert_id
            .to_der()
            .map_err(crate::AuthorityError::internal)?;
        if cacheable
            && let Some(hit) = cache.get(ca, &first.serial, &cert_id, config.ocsp_cache_refresh)
        {
            return Ok(hit.as_ref().clone());
        }
        let generation = cache.generation.load(Ordering::SeqCst);
        let mut statuses = Vec::with_capacity(req.certs.len());
        for c in &req.certs {
            let status = if responder.issuer_of(c).is_some() {
                match self.inner.store.certificate(ca, &c.serial).await {
                    Ok(record) => match record.status {
                        CertificateStatus::Valid => CertStatusAnswer::Good,
                        CertificateStatus::OnHold | CertificateStatus::Revoked => {
                            CertStatusAnswer::Revoked {
                                at: crate::time_of(record.revoked_at.unwrap_or(0)),
                                reason: record.revocation_reason.and_then(crl_reason),
                            }
                        }
                    },
                    Err(yinxin_store::StoreError::NotFound { .. }) => CertStatusAnswer::Unknown,
                    Err(e) => return Err(e.into()),
                }
            } else {
                CertStatusAnswer::Unknown
            };
            statuses.push((c.serial.clone(), status));
        }
        let times = ResponseTimes::starting(SystemTime::now(), config.ocsp_validity);
        let first_unknown = matches!(statuses[0].1, CertStatusAnswer::Unknown);
        let serial = first.serial.clone();
        let signing_keys = keys.clone();
        // Signing runs on the blocking pool, off the async workers.
        let response = tokio::task::spawn_blocking(move || {
            let lookup = |_: usize, serial: &[u8]| {
                statuses
                    .iter()
                    .find(|(s, _)| s == serial)
                    .map(|(_, a)| a.clone())
                    .unwrap_or(CertStatusAnswer::Unknown)
            };
            signing_keys.responders[index]
                .1
                .respond(&req, &lookup, times)
        })
        .await
        .map_err(crate::AuthorityError::internal)?
        .map_err(|e| crate::AuthorityError::internal(format!("signing an OCSP response: {e}")))?;
        if cacheable && !first_unknown {
            cache.put(ca, &serial, cert_id, Arc::new(response.clone()), generation);
        }
        Ok(response)
    }
}
