//! Who may do what: roles, the authenticated [`Actor`], and API tokens.
//!
//! A token reads `yx1.<id>.<secret>`: the id is public and names the stored record, the
//! secret is 32 random bytes (hex) of which only the SHA-256 is stored, compared in constant
//! time. A token is shown once, when created.

use std::fmt;
use std::str::FromStr;

use subtle::ConstantTimeEq;
use yinxin_crypto::{HashAlgorithm, hash, random};
use yinxin_store::ApiTokenRecord;
use zeroize::Zeroizing;

use crate::error::{AuthorityError, Result};

/// A role of the server's access control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Everything: CAs, keys, credentials, escrow recovery (with a second administrator).
    Admin,
    /// Registration authority: issue, renew, revoke, hold, release and search end-entity
    /// certificates (never the platform's own).
    RaOperator,
    /// Read-only: search certificates, read and verify the audit log.
    Auditor,
    /// Uses the platform's keys (SPEC: the vault's operator): signs with the platform's
    /// signing key and opens envelopes addressed to the server's encryption certificate.
    KeyOperator,
}

impl Role {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::RaOperator => "ra-operator",
            Role::Auditor => "auditor",
            Role::KeyOperator => "key-operator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthorityError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "admin" => Ok(Role::Admin),
            "ra-operator" | "ra" | "operator" => Ok(Role::RaOperator),
            "auditor" => Ok(Role::Auditor),
            "key-operator" => Ok(Role::KeyOperator),
            other => Err(AuthorityError::bad(
                "bad-role",
                format!("unknown role {other:?} (admin, ra-operator, auditor, key-operator)"),
            )),
        }
    }
}

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Permission {
    /// Issue, renew, re-key, revoke, hold, release.
    ChangeCertificates,
    /// Search and download certificates.
    ReadCertificates,
    /// Read and verify the audit log.
    ReadAudit,
    /// Create credentials, publish CRLs, recover escrowed keys.
    Administer,
    /// Sign with the platform's own signing keys.
    UseServiceKeys,
    /// Open envelopes addressed to the server's encryption certificates.
    OpenEnvelopes,
}

impl Permission {
    fn allowed(self, role: Role) -> bool {
        match self {
            Permission::ChangeCertificates => matches!(role, Role::Admin | Role::RaOperator),
            Permission::ReadCertificates => true,
            Permission::ReadAudit => matches!(role, Role::Admin | Role::Auditor),
            Permission::Administer => role == Role::Admin,
            // Administrators manage keys and credentials and RA operators certificates; only
            // key operators use the platform's keys.
            Permission::UseServiceKeys => role == Role::KeyOperator,
            Permission::OpenEnvelopes => role == Role::KeyOperator,
        }
    }

    fn action(self) -> &'static str {
        match self {
            Permission::ChangeCertificates => "issue or change certificates",
            Permission::ReadCertificates => "read certificates",
            Permission::ReadAudit => "read the audit log",
            Permission::Administer => "administer the server",
            Permission::UseServiceKeys => "sign with the platform's keys",
            Permission::OpenEnvelopes => "open envelopes addressed to the server",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The credential's name (for the audit log: `name#id`).
    pub name: String,
    /// The credential's id.
    pub token_id: String,
    /// Its role.
    pub role: Role,
    /// The administrator (member of the formed list) the credential belongs to, if any:
    /// dual control counts persons by this, never by tokens.
    pub member: Option<String>,
}

impl Actor {
    /// How the audit log names this actor.
    pub fn audit_name(&self) -> String {
        format!("{}#{}", self.name, self.token_id)
    }

    pub(crate) fn require(&self, permission: Permission) -> Result<()> {
        if permission.allowed(self.role) {
            Ok(())
        } else {
            Err(AuthorityError::Forbidden {
                role: self.role.as_str(),
                action: permission.action(),
            })
        }
    }

    /// Whoever gives an unseal share (the share is the credential).
    pub(crate) fn share_holder() -> Actor {
        Actor {
            name: "share-holder".into(),
            token_id: "-".into(),
            role: Role::Admin,
            member: None,
        }
    }

    /// The actor the server itself acts as (first start, periodic CRLs).
    pub(crate) fn system() -> Actor {
        Actor {
            name: "system".into(),
            token_id: "-".into(),
            role: Role::Admin,
            // The platform acting for itself is nobody: it approves nothing.
            member: None,
        }
    }
}

/// A newly created token: the text to hand over once, and the record to store.
pub(crate) struct NewToken {
    pub(crate) text: Zeroizing<String>,
    pub(crate) record: ApiTokenRecord,
}

pub(crate) fn new_token(name: &str, role: Role, created_by: &str, now_ms: i64) -> Result<NewToken> {
    new_token_for(name, role, created_by, None, now_ms)
}

/// A new token that belongs to administrator `member`.
pub(crate) fn new_token_for(
    name: &str,
    role: Role,
    created_by: &str,
    member: Option<String>,
    now_ms: i64,
) -> Result<NewToken> {
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(AuthorityError::bad(
            "bad-name",
            "a token name is 1 to 100 characters without control characters",
        ));
    }
    let id = hex::encode(random::bytes(8).map_err(AuthorityError::internal)?);
    let secret = Zeroizing::new(hex::encode(
        random::bytes(32).map_err(AuthorityError::internal)?,
    ));
    let text = Zeroizing::new(format!("yx1.{id}.{}", secret.as_str()));
    Ok(NewToken {
        text,
        record: ApiTokenRecord {
            id,
            name: name.to_string(),
            role: role.as_str().to_string(),
            secret_hash: hash::digest(HashAlgorithm::Sha256, secret.as_bytes()),
            created_by: created_by.to_string(),
            created_at: now_ms,
            disabled: false,
            member,
        },
    })
}

/// Split token text into (id, secret); `None` when it is not shaped like a token.
pub(crate) fn parse_token(text: &str) -> Option<(&str, &str)> {
    let rest = text.trim().strip_prefix("yx1.")?;
    let (id, secret) = rest.split_once('.')?;
    let hexish =
        |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexish(id) && hexish(secret)).then_some((id, secret))
}

/// Whether `secret` matches the stored record (constant time in the secret).
pub(crate) fn secret_matches(record: &ApiTokenRecord, secret: &str) -> bool {
    let h = hash::digest(HashAlgorithm::Sha256, secret.as_bytes());
    bool::from(h.ct_eq(&record.secret_hash)) && !record.disabled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_round_trip_and_rejections() {
        let t = new_token("alice", Role::RaOperator, "system", 0).unwrap();
        let (id, secret) = parse_token(&t.text).unwrap();
        assert_eq!(id, t.record.id);
        assert!(secret_matches(&t.record, secret));
        assert!(!secret_matches(&t.record, "00"));
        assert!(parse_token("yx1.zz.00").is_none());
        assert!(parse_token("Bearer x").is_none());
        assert!(parse_token("yx1..").is_none());
        assert!(new_token("", Role::Admin, "s", 0).is_err());
    }

    #[test]
    fn roles_allow_what_they_should() {
        let a = |role| Actor {
            name: "x".into(),
            token_id: "1".into(),
            role,
            member: None,
        };
        assert!(
            a(Role::Auditor)
                .require(Permission::ChangeCertificates)
                .is_err()
        );
        assert!(a(Role::Auditor).require(Permission::ReadAudit).is_ok());
        assert!(a(Role::RaOperator).require(Permission::ReadAudit).is_err());
        assert!(
            a(Role::RaOperator)
                .require(Permission::ChangeCertificates)
                .is_ok()
        );
        assert!(a(Role::RaOperator).require(Permission::Administer).is_err());
        assert!(a(Role::Admin).require(Permission::Administer).is_ok());
        // The whole matrix, as the README's Security section documents it.
        let matrix = [
            (Role::Admin, [true, true, true, true, false, false]),
            (Role::RaOperator, [true, true, false, false, false, false]),
            (Role::Auditor, [false, true, true, false, false, false]),
            (Role::KeyOperator, [false, true, false, false, true, true]),
        ];
        let permissions = [
            Permission::ChangeCertificates,
            Permission::ReadCertificates,
            Permission::ReadAudit,
            Permission::Administer,
            Permission::UseServiceKeys,
            Permission::OpenEnvelopes,
        ];
        for (role, allowed) in matrix {
            for (permission, expected) in permissions.iter().zip(allowed) {
                assert_eq!(
                    a(role).require(*permission).is_ok(),
                    expected,
                    "{role} {permission:?}"
                );
            }
        }
    }
}
