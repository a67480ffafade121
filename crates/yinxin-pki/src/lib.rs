//! Certificates, requests and names for yinxin.
//!
//! This first part holds what the client side needs: PKCS#10 requests signed by any key
//! handle ([`csr::build`]), the X.509 signature algorithm identifiers of each
//! [`SignatureScheme`](yinxin_crypto::SignatureScheme) ([`algorithm`]), subject names in both
//! RFC 4514 and OpenSSL `/C=CN/O=…` spelling ([`name`]), and reading certificates
//! ([`certificate`]), and the one RFC 5280 path validator with CRL revocation ([`path`]).
//! Certificate issuance and profiles join it with the CA.
#![forbid(unsafe_code)]

pub mod algorithm;
pub mod certificate;
pub mod csr;
mod error;
pub mod name;
pub mod path;

pub use error::{Error, Result};
