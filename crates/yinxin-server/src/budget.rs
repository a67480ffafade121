//! Bounded memory: the bytes of request bodies in flight, server-wide, stay under a budget
//! (default [`DEFAULT_BODY_BUDGET`]). A request is admitted for its `Content-Length` (or, sent
//! chunked, for its route's largest body) before its body is read, and holds that much of the
//! budget until its response is ready; one that does not fit is answered 503 `busy` at once,
//! and one larger than its route allows 413 `too-large`, without reading its body. So a flood
//! of large uploads costs at most the budget, while small requests (OCSP, TSA, issuance) pass:
//! the budget bounds bytes, not requests. CMS operations are also limited in number by the
//! authority (`AuthorityConfig::max_cms_operations`).

use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// The default server-wide budget for request bodies in flight: 256 MiB.
pub const DEFAULT_BODY_BUDGET: usize = 256 * 1024 * 1024;

/// Budget units are KiB, so a budget of terabytes still fits a semaphore's `u32` permits.
const UNIT: usize = 1024;

/// The body budget shared by every request.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    permits: Arc<Semaphore>,
    units: u32,
}

impl BodyBudget {
    /// A budget of `bytes` (at least 1 MiB).
    pub fn new(bytes: usize) -> BodyBudget {
        let units = u32::try_from(bytes.max(1024 * 1024) / UNIT).unwrap_or(u32::MAX >> 4);
        BodyBudget {
            permits: Arc::new(Semaphore::new(units as usize)),
            units,
        }
    }
}

impl Default for BodyBudget {
    fn default() -> Self {
        BodyBudget::new(DEFAULT_BODY_BUDGET)
    }
}

/// The largest body each route takes (the routes' own `DefaultBodyLimit`s say the same).
pub fn route_limit(path: &str) -> usize {
    if path.starts_with("/api/v1/cms/") && path.ends_with("/raw") {
        crate::routes::MAX_CMS_RAW_BODY
    } else if path.starts_with("/api/v1/cms/") {
        crate::routes::MAX_CMS_BODY
    } else if path.starts_with("/tsa") {
        crate::routes::MAX_TSA_BODY
    } else {
        crate::routes::MAX_BODY
    }
}

/// The middleware: admit a request for its body's size, or answer 413/503 unread.
pub async fn admit(State(budget): State<BodyBudget>, request: Request, next: Next) -> Response {
    let limit = route_limit(request.uri().path());
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let bytes = match declared {
        Some(n) if n > limit as u64 => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!("the body is {n} bytes; this endpoint takes at most {limit}"),
            )
            .into_response();
        }
        Some(n) => n as usize,
        None if matches!(
            *request.method(),
            Method::POST | Method::PUT | Method::PATCH
        ) =>
        {
            limit
        }
        None => 0,
    };
    let units = u32::try_from(bytes.div_ceil(UNIT))
        .unwrap_or(u32::MAX)
        .min(budget.units);
    if units == 0 {
        return next.run(request).await;
    }
    let Ok(permit) = budget.permits.clone().try_acquire_many_owned(units) else {
        let mut response = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "the server is receiving as many request bytes as it takes at once; try again shortly",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        return response;
    };
    let response = next.run(request).await;
    drop(permit);
    response
}

/// A request body read into one buffer sized from `Content-Length` (no copy when it is
/// complete), at most the route's limit: what the raw-body endpoints take.
pub struct RawBody(pub Vec<u8>);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;
    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let limit = route_limit(request.uri().path());
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!("this endpoint takes at most {limit} bytes"),
            )
        };
        let mut out = Vec::with_capacity(declared.min(limit));
        let mut body = request.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| ApiError::bad_request("bad-body", format!("reading the body: {e}")))?;
            if let Ok(data) = frame.into_data() {
                if out.len() + data.len() > limit {
                    return Err(too_large());
                }
                out.extend_from_slice(&data);
            }
        }
        Ok(RawBody(out))
    }
}
