//! The crate's error type.

/// What can go wrong with certificates, requests and names.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A name string could not be parsed.
    #[error("invalid name \"{name}\": {reason}")]
    Name {
        /// The input.
        name: String,
        /// Why.
        reason: String,
    },
    /// DER or PEM could not be decoded.
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A PEM block with another label than expected.
    #[error("expected {expected}, found a PEM block labelled \"{found}\"")]
    WrongPemLabel {
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// An algorithm identifier yinxin does not know.
    #[error("unsupported signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    /// A certificate cannot be issued as asked.
    #[error(transparent)]
    Issue(#[from] crate::issue::IssueError),
    /// A CRL cannot be built as asked.
    #[error(transparent)]
    Crl(#[from] crate::crl::CrlError),
    /// A request's input exceeds an [`IssuanceLimits`](crate::limits::IssuanceLimits) bound.
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitError),
    /// A Chinese identifier (unified social credit code, resident identity number) is
    /// malformed.
    #[error(transparent)]
    Identifier(#[from] crate::limits::IdentifierError),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] yinxin_crypto::Error),
}

impl Error {
    pub(crate) fn decode(what: &'static str, e: impl std::fmt::Display) -> Self {
        Error::Decode {
            what,
            reason: e.to_string(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
