//! The crate's error type.

/// Everything that can go wrong in the cryptography core.
///
/// The variants say what the caller did wrong (`Unsupported`, `SchemeMismatch`, `Decode`) apart
/// from what the data says (`InvalidSignature`, `DecryptionFailed`), so that a CLI can map the
/// former to exit code 2 and the latter to exit code 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input could not be decoded (DER, PEM, raw encodings).
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// What was being decoded, e.g. "private key", "SM2 ciphertext".
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A PEM block had another label than expected (e.g. a certificate where a key belongs).
    #[error("expected {expected}, found a PEM block labelled \"{found}\"")]
    WrongPemLabel {
        /// What the caller asked for.
        expected: &'static str,
        /// The label that was found.
        found: String,
    },
    /// An algorithm, curve, key size or combination that yinxin does not implement.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A signature or encryption scheme was used with a key of another algorithm.
    #[error("scheme {scheme} cannot be used with a {key} key")]
    SchemeMismatch {
        /// The scheme's name.
        scheme: String,
        /// The key's algorithm.
        key: String,
    },
    /// The signature does not verify.
    #[error("signature verification failed")]
    InvalidSignature,
    /// The ciphertext could not be decrypted (wrong key, tampered or truncated data).
    #[error("decryption failed: wrong key or corrupted ciphertext")]
    DecryptionFailed,
    /// The message is too long for the key (RSA) or empty where that is not allowed.
    #[error("message length {len} not allowed: {reason}")]
    MessageLength {
        /// The length that was given.
        len: usize,
        /// The rule it broke.
        reason: &'static str,
    },
    /// A key or parameter has the wrong length.
    #[error("{what} must be {expected} bytes, got {got}")]
    Length {
        /// Which parameter.
        what: &'static str,
        /// The required length, as text (e.g. "16" or "16 or 32").
        expected: &'static str,
        /// The length that was given.
        got: usize,
    },
    /// The wrong password for an encrypted private key.
    #[error("cannot decrypt the private key: wrong password or corrupted file")]
    WrongPassword,
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The signing primitive refused to sign (an internal failure of the implementation).
    #[error("the signature could not be made")]
    Signing,
    /// A key backend (token, PKCS#11 module, vault) failed while using a key.
    #[error("key backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub(crate) fn decode(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Error::Decode {
            what,
            reason: reason.to_string(),
        }
    }

    /// Whether the error is a verdict on the data (bad signature, undecryptable ciphertext)
    /// rather than a usage or input problem.
    pub fn is_verdict(&self) -> bool {
        matches!(self, Error::InvalidSignature | Error::DecryptionFailed)
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
