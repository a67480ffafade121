//! Authentication as an extractor: `Authorization: Bearer yx1.…` becomes an [`Caller`].

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use yinxin_authority::{Actor, Authority, AuthorityError};

use crate::error::ApiError;

/// The authenticated caller of a handler.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl<S> FromRequestParts<S> for Caller
where
    Authority: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let authority = Authority::from_ref(state);
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or(
            AuthorityError::Unauthenticated("send `Authorization: Bearer <token>`"),
        )?;
        let text = header
            .to_str()
            .map_err(|_| AuthorityError::Unauthenticated("malformed Authorization header"))?;
        // Schemes are case-insensitive (RFC 9110 §11.1).
        let token = text
            .trim_start()
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or(AuthorityError::Unauthenticated(
                "the Authorization scheme must be Bearer",
            ))?;
        Ok(Caller(authority.authenticate(token).await?))
    }
}
