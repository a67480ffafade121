//! The crate's error type.

/// What can go wrong with CMS messages.
///
/// As in `yinxin_crypto`, a verdict on the data ([`Error::DecryptionFailed`]) is told apart from
/// unusable input or a request yinxin does not implement (see [`Error::is_verdict`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input could not be decoded (DER, BER, PEM, or an inner structure).
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded, e.g. "ContentInfo", "RSAES-OAEP-params".
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A PEM block with another label than expected.
    #[error("expected {expected}, found a PEM block labelled \"{found}\"")]
    WrongPemLabel {
        /// What was expected.
        expected: &'static str,
        /// The label that was found.
        found: String,
    },
    /// The `ContentInfo` holds another content type than the one asked for.
    #[error("expected CMS {expected}, found content type {found}")]
    WrongContentType {
        /// The content type asked for, by name.
        expected: &'static str,
        /// The content type found (name and OID).
        found: String,
    },
    /// An algorithm, parameter or structure that yinxin does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// None of the envelope's recipients is the given key.
    #[error(
        "the envelope is not addressed to this key: no recipient matches its subject key \
         identifier, certificate or RSA key size"
    )]
    NoMatchingRecipient,
    /// The envelope carries no encrypted content (detached content is not supported).
    #[error("the envelope has no encrypted content (detached content is not supported)")]
    NoContent,
    /// The envelope could not be opened: wrong key, or altered or truncated data.
    #[error("cannot open the envelope: wrong key, or the envelope was altered or truncated")]
    DecryptionFailed,
    /// An authenticated envelope's key reached the recipient, but its content, nonce or tag
    /// was altered: the GCM authentication tag does not verify (a verdict).
    #[error("the envelope's content was altered: its authentication tag does not verify")]
    IntegrityCheckFailed,
    /// An envelope opened, but what it delivered is not what was expected.
    #[error("the envelope delivered {found}, expected {expected}")]
    UnexpectedContent {
        /// What the caller expected, e.g. "an RSA private key".
        expected: String,
        /// What was found.
        found: String,
    },
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] yinxin_crypto::Error),
    /// A certificate could not be read or used (yinxin-pki).
    #[error(transparent)]
    Pki(#[from] yinxin_pki::Error),
    /// A signer's key handle does not hold the key of the certificate given for it.
    #[error("the signing key does not match the certificate \"{subject}\"")]
    CertificateKeyMismatch {
        /// The certificate's subject.
        subject: String,
    },
    /// A certificate cannot serve a time-stamping authority (RFC 3161 §2.3).
    #[error("not a time-stamping certificate: {0}")]
    NotTimeStampingCertificate(String),
    /// A `SignedData` has no signer at this index.
    #[error("the SignedData has {count} signer(s), there is no signer {index}")]
    NoSuchSigner {
        /// The index asked for.
        index: usize,
        /// How many signers there are.
        count: usize,
    },
    /// A detached signature was given without the content it signs.
    #[error("the signature is detached: the signed content must be given to verify it")]
    MissingContent,
    /// A timestamp token does not verify, or does not match what it should stamp: a verdict.
    #[error("invalid timestamp token: {0}")]
    Timestamp(crate::timestamp::TimestampProblem),
}

impl Error {
    pub(crate) fn decode(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Decode {
            what,
            reason: reason.to_string(),
        }
    }

    /// Whether the error is a verdict on the data (the envelope does not open) rather than a
    /// usage or input problem.
    pub fn is_verdict(&self) -> bool {
        match self {
            Error::DecryptionFailed | Error::IntegrityCheckFailed | Error::Timestamp(_) => true,
            Error::Crypto(e) => e.is_verdict(),
            _ => false,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
