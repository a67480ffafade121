//! yinxin's HTTP edge: the axum router with thin handlers over [`yinxin_authority`], the
//! REST bodies ([`api`]), authentication as an extractor ([`auth`]), the single mapping of
//! errors to problem JSON ([`error`]) and the `serve` entry point ([`serve`]).
//!
//! ```text
//!   request ─▶ routes::router ─▶ Caller (Bearer token → Actor) ─▶ handler
//!                                                   │ one call
//!                                                   ▼
//!                                      yinxin_authority::Authority ─▶ ApiError / JSON / DER
//! ```
//!
//! Anonymous: `/health`, `/api/v1/status`, `/api/v1/vault/unseal` (the share is the
//! credential), `/api/openapi.json`, `/api/v1/cas`, `/ca/*`, `/crl/*`, `/ocsp`, `/tsa`,
//! `/tsa/{key}` (RFC 3161) and `/api/v1/tsa`. Everything
//! else needs `Authorization: Bearer <token>` and a role that allows it.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod budget;
pub mod error;
pub mod routes;
pub mod serve;
pub mod transport;

pub use routes::{router, router_with};
pub use serve::{ServeError, ServeOptions, serve};

#[cfg(test)]
mod openapi_tests;
