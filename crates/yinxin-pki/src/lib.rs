//! Certificates, requests, names, CRLs and path validation for yinxin. No IO: every input is
//! handed in, every key is a [`Signer`](yinxin_crypto::Signer) handle.
//!
//! * [`csr`]: PKCS#10 requests signed by any key handle, and their proof of possession;
//! * [`algorithm`]: the X.509 signature algorithm identifier of each
//!   [`SignatureScheme`](yinxin_crypto::SignatureScheme), both ways;
//! * [`name`]: subject names in RFC 4514 and OpenSSL `/C=CN/O=…` spelling;
//! * [`certificate`]: reading certificates and bundles;
//! * [`profile`] and [`issue`]: certificate profiles (CAs, organisation, employee, server,
//!   OCSP, timestamping, code signing, seal-making; signing and encryption roles for dual
//!   certificates; GM/T 0015 identity extensions) and issuance through a key handle;
//! * [`limits`]: bounds on a request's names and identity values, and the unified social
//!   credit code and resident identity number validators;
//! * [`crl`]: CRLs signed through a key handle;
//! * [`ocsp`]: RFC 6960 OCSP requests, a responder signing through a key handle, and
//!   response verification usable as the validator's revocation source;
//! * [`path`]: the one RFC 5280 path validator, with CRL revocation.
#![forbid(unsafe_code)]

pub mod algorithm;
pub mod certificate;
pub mod crl;
pub mod csr;
mod error;
pub mod issue;
pub mod limits;
pub mod name;
pub mod ocsp;
pub mod path;
pub mod profile;

pub use error::{Error, Result};
