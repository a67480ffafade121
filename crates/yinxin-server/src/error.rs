//! The one mapping from errors to HTTP: RFC 9457 problem JSON with a stable `type`.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use yinxin_authority::AuthorityError;

use crate::api::Problem;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: String,
    detail: String,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            detail: detail.into(),
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, detail)
    }
}

impl From<AuthorityError> for ApiError {
    fn from(e: AuthorityError) -> Self {
        let status = match &e {
            AuthorityError::Sealed { .. } | AuthorityError::Busy(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AuthorityError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AuthorityError::Forbidden { .. } => StatusCode::FORBIDDEN,
            AuthorityError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AuthorityError::NotFound(_) => StatusCode::NOT_FOUND,
            AuthorityError::Conflict(_)
            | AuthorityError::CaRevoked { .. }
            | AuthorityError::NotFormed(_) => StatusCode::CONFLICT,
            AuthorityError::NeedsApproval(_) => StatusCode::FORBIDDEN,
            AuthorityError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // Details go to the log once; the client gets no internals.
            tracing::error!("internal error: {e}");
            return ApiError::new(status, e.code(), "internal error; see the server log");
        }
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too-large"
        } else {
            "bad-json"
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        let status = r.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too-large"
        } else {
            "bad-body"
        };
        ApiError::new(status, code, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-query", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self
            .status
            .canonical_reason()
            .unwrap_or("error")
            .to_string();
        let body = Problem {
            kind: format!("urn:yinxin:problem:{}", self.code),
            title,
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"yinxin\""),
            );
        }
        response
    }
}
