//! The authority's one error type, grouped by what a caller can do about it.

use yinxin_store::StoreError;

/// Why an authority operation failed. The server maps each kind to one HTTP status and a
/// stable `type` code ([`AuthorityError::code`]); nothing internal is in the message of
/// [`AuthorityError::Internal`] beyond what an operator needs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorityError {
    /// The vault is sealed: only health, status and unseal work.
    #[error(
        "the key vault is sealed; unseal it with `yinxin vault unseal` ({given} of {threshold} shares given)"
    )]
    Sealed {
        /// Shares given so far.
        given: u8,
        /// Shares needed.
        threshold: u8,
    },
    /// No or an unknown credential.
    #[error("authentication required: {0}")]
    Unauthenticated(&'static str),
    /// The caller's role may not do this.
    #[error("the {role} role may not {action}")]
    Forbidden {
        /// The caller's role.
        role: &'static str,
        /// What was attempted.
        action: &'static str,
    },
    /// The request is malformed or breaks a rule; nothing was changed.
    #[error("{what}")]
    BadRequest {
        /// A stable short code, e.g. `bad-csr`.
        code: &'static str,
        /// What is wrong, for a person.
        what: String,
    },
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request conflicts with the current state (e.g. revoking a revoked certificate).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The CA asked to sign has its own certificate revoked or on hold: it issues nothing.
    #[error("CA {ca} cannot issue: its certificate is {status}")]
    CaRevoked {
        /// The CA's name.
        ca: String,
        /// `revoked` or `on_hold`.
        status: &'static str,
    },
    /// The operation needs dual control by the formed administrator list, and there is none
    /// (a trial installation, or the ceremony is not finished).
    #[error(
        "{0} needs approvals from formed administrators, and the administrator list is not \
         formed: run `yinxin admin form` and have each administrator `yinxin admin join`"
    )]
    NotFormed(&'static str),
    /// The operation needs dual control: open an approval request for it.
    #[error("{0} needs dual control: open an approval request (`yinxin admin request …`)")]
    NeedsApproval(&'static str),
    /// Too many refused attempts from this address; try again later.
    #[error("too many refused attempts from this address; try again in {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds until the next attempt is looked at.
        retry_after_secs: u64,
    },
    /// The server is at its limit for this kind of work; try again shortly.
    #[error("busy: {0}")]
    Busy(String),
    /// The store, the vault or a signer failed; logged with details.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AuthorityError {
    /// A stable machine-readable code for the error kind.
    pub fn code(&self) -> &'static str {
        match self {
            AuthorityError::Sealed { .. } => "sealed",
            AuthorityError::Unauthenticated(_) => "unauthenticated",
            AuthorityError::Forbidden { .. } => "forbidden",
            AuthorityError::BadRequest { code, .. } => code,
            AuthorityError::NotFound(_) => "not-found",
            AuthorityError::Conflict(_) => "conflict",
            AuthorityError::CaRevoked { .. } => "ca-revoked",
            AuthorityError::TooManyAttempts { .. } => "too-many-attempts",
            AuthorityError::Busy(_) => "busy",
            AuthorityError::NotFormed(_) => "not-formed",
            AuthorityError::NeedsApproval(_) => "needs-approval",
            AuthorityError::Internal(_) => "internal",
        }
    }

    pub(crate) fn bad(code: &'static str, what: impl Into<String>) -> Self {
        AuthorityError::BadRequest {
            code,
            what: what.into(),
        }
    }

    pub(crate) fn internal(what: impl std::fmt::Display) -> Self {
        AuthorityError::Internal(what.to_string())
    }
}

impl From<StoreError> for AuthorityError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what } => AuthorityError::NotFound(what),
            StoreError::Conflict { what } => AuthorityError::Conflict(what),
            e @ StoreError::InvalidTransition { .. } => AuthorityError::Conflict(e.to_string()),
            StoreError::Invalid { what } => AuthorityError::bad("invalid", what),
            other => AuthorityError::Internal(other.to_string()),
        }
    }
}

impl From<yinxin_vault::VaultError> for AuthorityError {
    fn from(e: yinxin_vault::VaultError) -> Self {
        AuthorityError::Internal(format!("vault: {e}"))
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, AuthorityError>;
