//! The token layer's error type.

use std::path::PathBuf;

/// What can go wrong with a token, said so that a user (or `yinxin doctor`) knows what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Reading or writing the token file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// No token exists at this place.
    #[error("no token at {0} (create one with `yinxin token init`)")]
    NotFound(PathBuf),
    /// A token already exists where a new one was to be created.
    #[error("a token already exists at {0}; refusing to overwrite it")]
    AlreadyExists(PathBuf),
    /// The token file is damaged: a byte changed, it was truncated, or it is not a token.
    #[error("token file {path} is corrupted ({reason}); restore it from a backup")]
    Corrupted {
        /// The file.
        path: PathBuf,
        /// What check failed.
        reason: String,
    },
    /// The token file was created on another machine and copied here (for instance inside a
    /// cloned OS image). Its keys are bound to the machine that created it.
    #[error(
        "token {path} was created on another machine (machine fingerprint {created_on}, this \
         machine is {this_machine}) and copied here, e.g. inside a cloned OS image; it cannot \
         be used on this machine: `yinxin doctor --fix` moves it aside, then enrol again"
    )]
    CopiedFromAnotherMachine {
        /// The file.
        path: PathBuf,
        /// Fingerprint of the machine that created the token.
        created_on: String,
        /// Fingerprint of this machine.
        this_machine: String,
    },
    /// The token file's integrity code does not match although its checksum does: it was
    /// edited by something other than yinxin.
    #[error("token file {0} was modified outside yinxin (integrity check failed)")]
    Tampered(PathBuf),
    /// This machine's identity could not be read.
    #[error("cannot read this machine's identity from {path}: {reason}")]
    MachineIdentity {
        /// The file tried.
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },
    /// The PIN was wrong.
    #[error("wrong {kind} PIN{}", match .retries_left {
        Some(n) => format!("; {n} attempt(s) left before it locks"),
        None => String::new(),
    })]
    WrongPin {
        /// "user" or "SO".
        kind: PinKind,
        /// Attempts left, if the token tells.
        retries_left: Option<u32>,
    },
    /// Too many wrong PINs: locked.
    #[error("the {0} PIN is locked after too many wrong attempts{hint}", hint = match .0 {
        PinKind::User => "; unlock it with the SO PIN (`yinxin token unlock`)",
        PinKind::So => "; the token must be re-initialised",
    })]
    PinLocked(PinKind),
    /// A PIN that breaks the rules (length).
    #[error("invalid PIN: {0}")]
    InvalidPin(&'static str),
    /// The operation needs a logged-in session.
    #[error("log in with the user PIN first")]
    NotLoggedIn,
    /// No container of that name.
    #[error("no container named \"{0}\" on the token")]
    NoSuchContainer(String),
    /// The container has no key for that usage.
    #[error("container \"{container}\" has no {usage} key")]
    NoKey {
        /// The container.
        container: String,
        /// The usage asked for.
        usage: crate::KeyUsage,
    },
    /// The container already has a key for that usage.
    #[error("container \"{container}\" already has a {usage} key")]
    KeyExists {
        /// The container.
        container: String,
        /// The usage.
        usage: crate::KeyUsage,
    },
    /// A certificate was imported whose public key is not the container's key.
    #[error(
        "the certificate's public key does not match the {usage} key of container \"{container}\""
    )]
    CertificateMismatch {
        /// The container.
        container: String,
        /// The usage.
        usage: crate::KeyUsage,
    },
    /// The certificate could not be parsed.
    #[error("cannot read the certificate: {0}")]
    BadCertificate(String),
    /// A name (label, container) breaks the rules.
    #[error("invalid {what}: {reason}")]
    InvalidName {
        /// Which name.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A PKCS#11 module (driver) could not be loaded.
    #[error("cannot load the PKCS#11 module {path}: {reason} (is the USB key's driver installed?)")]
    Module {
        /// The module's path.
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },
    /// No suitable token is present in the PKCS#11 module's slots.
    #[error("{0}")]
    NoToken(String),
    /// The PIN key derivation failed (memory exhausted, or parameters out of range).
    #[error("PIN key derivation (Argon2id) failed: {0}")]
    Kdf(String),
    /// The backend cannot do this (e.g. SM2 on a PKCS#11 module without SM2 mechanisms).
    #[error("not supported by this token: {0}")]
    Unsupported(String),
    /// A delivered key's envelope could not be opened or did not hold a fitting key.
    #[error("cannot import the delivered key: {0}")]
    Envelope(#[source] yinxin_cms::Error),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] yinxin_crypto::Error),
    /// The PKCS#11 module reported an error.
    #[error("PKCS#11: {0}")]
    Pkcs11(#[from] cryptoki::error::Error),
}

/// Which PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinKind {
    /// The user PIN, for using keys.
    User,
    /// The security officer PIN, for unlocking and resetting the user PIN.
    So,
}

impl std::fmt::Display for PinKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PinKind::User => "user",
            PinKind::So => "SO",
        })
    }
}

impl From<yinxin_cms::Error> for TokenError {
    fn from(e: yinxin_cms::Error) -> Self {
        match e {
            yinxin_cms::Error::Crypto(c) => TokenError::Crypto(c),
            other => TokenError::Envelope(other),
        }
    }
}

impl From<TokenError> for yinxin_crypto::Error {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Crypto(c) => c,
            other => yinxin_crypto::Error::Backend(Box::new(other)),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, TokenError>;
