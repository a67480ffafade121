//! yinxin's storage layer: certificate authorities, issued certificates and their revocation
//! state, CRL numbers, the hash-chained audit log and the key vault's opaque blobs, on an
//! embedded SQLite file (the default) or on PostgreSQL (several nodes on one cluster), with the
//! same behaviour on both.
//!
//! ```text
//!   Store::open("sqlite:///var/lib/yinxin/yinxin.db")   created if absent, WAL, foreign keys
//!   Store::open("postgres://yinxin@db:5432/yinxin")     migrations under sqlx's advisory lock
//!        │
//!        ├─ put_ca / cas / ca
//!        ├─ insert_certificate ─▶ Conflict on a duplicate (ca, serial): retry with a new serial
//!        ├─ issue_certificate_with_audit ─▶ certificate + audit record, both or neither
//!        ├─ certificate / search / revoke / hold / release / revoked / crl_number_next
//!        ├─ append_audit / audit_range   (gap-free `seq`, chained by `yinxin_audit`)
//!        ├─ lease_serials_with_audit ─▶ a block of serials no other node or restart gets
//!        └─ put_vault_blob / vault_blob / vault_blob_names
//! ```
//!
//! # One type over two backends
//!
//! [`Store`] is one concrete type, not a trait with two implementations: it holds a sqlx `Any`
//! pool and runs the *same* SQL (with `$1…$n` placeholders, `ON CONFLICT … RETURNING`) on both
//! backends. The dialects differ only in the embedded migrations (`migrations/sqlite/`,
//! `migrations/postgres/`: BLOB vs BYTEA, identity columns, triggers) and in how a writing
//! transaction starts (`BEGIN IMMEDIATE` on SQLite so writers queue on the busy timeout instead
//! of failing on a lock upgrade). One code path means one set of behaviours to test, and the
//! integration tests run every test against both backends. A trait can still be extracted later
//! (for an in-memory fake) without changing callers' types; no sqlx type appears in this API.
//!
//! # Conventions
//!
//! * Every time is an `i64` count of **milliseconds** since the Unix epoch (UTC), as in
//!   [`yinxin_audit::AuditRecord::time_ms`].
//! * Serial numbers are the big-endian bytes of the certificate's serial as issued; they are
//!   compared byte for byte, and `(ca, serial)` is unique (the database enforces it).
//! * Statuses are stored as TEXT (`valid`, `on_hold`, `revoked`); binary values as BLOB/BYTEA;
//!   flags, if ever needed, as INTEGER 0/1 (the `Any` driver has no BOOLEAN).
//! * Migrations are append-only and run on [`Store::open`].
//!
//! # Invariants
//!
//! * Issued certificates are never deleted (a trigger refuses it), and the audit log is
//!   append-only (triggers refuse UPDATE and DELETE).
//! * Audit `seq` is gap-free and unique across connections and processes: each append reads the
//!   last record and inserts `seq + 1` under a primary key, in a transaction, retrying on a
//!   conflict.
//! * [`Store::issue_certificate_with_audit`] records a certificate and its audit entry in one
//!   transaction, so a certificate handed out after it returns is recorded and audited.
#![forbid(unsafe_code)]

mod governance;
mod group_commit;

pub use governance::{
    ApprovalRecord, ApprovalRequestRecord, Effect, FormationRecord, MemberRecord,
};

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Executor, Row, SqlSafeStr, Transaction};
use yinxin_audit::{AuditAction, AuditEvent, AuditOutcome, AuditRecord, ChainHash};

/// How often a transaction that lost a race for an audit `seq` (or hit a busy database) is
/// retried before giving up with [`StoreError::Conflict`].
const MAX_ATTEMPTS: usize = 200;

/// The most rows one search returns.
pub const MAX_SEARCH_LIMIT: u32 = 1000;

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The write would duplicate something unique (a serial number, a CA name).
    #[error("conflict: {what} already exists")]
    Conflict {
        /// What already exists.
        what: String,
    },
    /// A certificate's status does not allow the change asked for (e.g. un-revoking).
    #[error("certificate is {from}; it cannot be {action}")]
    InvalidTransition {
        /// The certificate's current status.
        from: CertificateStatus,
        /// The change refused ("revoked", "put on hold", "released").
        action: &'static str,
    },
    /// An argument is out of range (e.g. a revocation reason code).
    #[error("invalid argument: {what}")]
    Invalid {
        /// What is wrong.
        what: String,
    },
    /// The URL names no supported backend or is malformed.
    #[error("unsupported store URL {url:?}: expected sqlite://… or postgres://…")]
    InvalidUrl {
        /// The URL with any password removed.
        url: String,
    },
    /// Applying the embedded migrations failed.
    #[error("store migration failed: {0}")]
    Migration(String),
    /// The database reported an error (connection, I/O, SQL).
    #[error("store backend error: {0}")]
    Backend(String),
    /// A stored value cannot be read back as what it should be.
    #[error("corrupt store data: {what}")]
    Corrupt {
        /// What is wrong.
        what: String,
    },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => StoreError::Corrupt {
                what: e.to_string(),
            },
            other => StoreError::Backend(other.to_string()),
        }
    }
}

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A certificate authority known to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaRecord {
    /// Unique name, e.g. `"sm2-issuing"`.
    pub name: String,
    /// Key algorithm, e.g. `"sm2"`, `"rsa-3072"`.
    pub algorithm: String,
    /// The CA's certificate, DER.
    pub certificate_der: Vec<u8>,
    /// Where its private key lives (a vault key label, a PKCS#11 URI); never the key.
    pub key_ref: String,
    /// When it was created, ms since the epoch.
    pub created_at: i64,
}

/// A certificate's revocation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateStatus {
    /// Not revoked (it may still have expired).
    Valid,
    /// Suspended (CRL reason certificateHold); can be released or revoked.
    OnHold,
    /// Revoked for good.
    Revoked,
}

impl CertificateStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "valid",
            CertificateStatus::OnHold => "on_hold",
            CertificateStatus::Revoked => "revoked",
        }
    }
}

impl fmt::Display for CertificateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CertificateStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "valid" => Ok(CertificateStatus::Valid),
            "on_hold" => Ok(CertificateStatus::OnHold),
            "revoked" => Ok(CertificateStatus::Revoked),
            other => Err(StoreError::Corrupt {
                what: format!("unknown certificate status {other:?}"),
            }),
        }
    }
}

/// The RFC 5280 CRL reason code for certificateHold, used by [`Store::hold`].
pub const REASON_CERTIFICATE_HOLD: u8 = 6;

/// A certificate to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCertificate {
    /// The issuing CA's name ([`CaRecord::name`]).
    pub ca: String,
    /// The serial number's big-endian bytes; unique per CA.
    pub serial: Vec<u8>,
    /// The subject name as text (RFC 4514).
    pub subject: String,
    /// The subject's organisation, if any.
    pub organisation: Option<String>,
    /// The certificate profile, e.g. `"employee"`.
    pub profile: String,
    /// Start of validity, ms since the epoch.
    pub not_before: i64,
    /// End of validity, ms since the epoch.
    pub not_after: i64,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Who asked for it (user or operator).
    pub requested_by: String,
    /// Whether the platform issued it for itself (a CA, an OCSP signer, a service identity):
    /// such certificates are the platform's to change, never an RA's, and their subjects are
    /// reserved.
    pub platform: bool,
}

/// A recorded certificate with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// What was recorded at issuance.
    pub certificate: NewCertificate,
    /// Its revocation status.
    pub status: CertificateStatus,
    /// When it was revoked or put on hold, ms since the epoch.
    pub revoked_at: Option<i64>,
    /// The RFC 5280 CRL reason code, when revoked or on hold.
    pub revocation_reason: Option<u8>,
}

/// Filters for [`Store::search`]; unset fields match everything. Results are in issuance order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateQuery {
    /// The subject contains this text (case-insensitive for ASCII letters).
    pub subject_contains: Option<String>,
    /// The organisation is exactly this.
    pub organisation: Option<String>,
    /// The serial is exactly these bytes.
    pub serial: Option<Vec<u8>>,
    /// The status is this.
    pub status: Option<CertificateStatus>,
    /// Issued by this CA.
    pub ca: Option<String>,
    /// At most this many rows (default and maximum [`MAX_SEARCH_LIMIT`]).
    pub limit: Option<u32>,
    /// Skip this many rows first.
    pub offset: u64,
}

/// One entry of a CRL: a revoked or held certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The serial number's bytes.
    pub serial: Vec<u8>,
    /// When it was revoked or put on hold, ms since the epoch.
    pub revoked_at: i64,
    /// The RFC 5280 CRL reason code.
    pub reason: u8,
}

/// A transaction step failed: either retry the whole transaction or give up.
enum Attempt {
    Retry,
    Fail(StoreError),
}

impl From<sqlx::Error> for Attempt {
    fn from(e: sqlx::Error) -> Self {
        if is_unique_violation(&e) || is_busy(&e) {
            Attempt::Retry
        } else {
            Attempt::Fail(e.into())
        }
    }
}

impl From<StoreError> for Attempt {
    fn from(e: StoreError) -> Self {
        Attempt::Fail(e)
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}

/// SQLite's SQLITE_BUSY / SQLITE_LOCKED (and their extended codes) after the busy timeout.
fn is_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code();
            let primary = code
                .as_deref()
                .and_then(|c| c.parse::<i64>().ok())
                .map(|c| c & 0xff);
            matches!(primary, Some(5 | 6))
        }
        _ => false,
    }
}

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "authority",
        include_str!("../migrations/sqlite/0002_authority.sql"),
    ),
    (
        3,
        "escrow immutable",
        include_str!("../migrations/sqlite/0003_escrow_immutable.sql"),
    ),
    (
        4,
        "serial counters",
        include_str!("../migrations/sqlite/0004_serial_counters.sql"),
    ),
    (
        5,
        "key operator role",
        include_str!("../migrations/sqlite/0005_key_operator_role.sql"),
    ),
    (
        6,
        "platform certificates",
        include_str!("../migrations/sqlite/0006_platform_certificates.sql"),
    ),
    (
        7,
        "administrators",
        include_str!("../migrations/sqlite/0007_administrators.sql"),
    ),
];

const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "authority",
        include_str!("../migrations/postgres/0002_authority.sql"),
    ),
    (
        3,
        "escrow immutable",
        include_str!("../migrations/postgres/0003_escrow_immutable.sql"),
    ),
    (
        4,
        "serial counters",
        include_str!("../migrations/postgres/0004_serial_counters.sql"),
    ),
    (
        5,
        "key operator role",
        include_str!("../migrations/postgres/0005_key_operator_role.sql"),
    ),
    (
        6,
        "platform certificates",
        include_str!("../migrations/postgres/0006_platform_certificates.sql"),
    ),
    (
        7,
        "administrators",
        include_str!("../migrations/postgres/0007_administrators.sql"),
    ),
];

fn migrator(backend: Backend) -> Migrator {
    let list = match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    };
    let mut m = Migrator::with_migrations(
        list.iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    );
    // On PostgreSQL this takes an advisory lock, so nodes starting together migrate one by one.
    m.set_locking(true);
    m
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

const CERT_COLUMNS: &str = "ca, serial, subject, organisation, profile, not_before, not_after, \
                            der, requested_by, status, revoked_at, revocation_reason, platform";

const AUDIT_COLUMNS: &str =
    "seq, time_ms, actor, action, target, outcome, details, prev_hash, hash";

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt { what: what.into() }
}

fn reason_from_db(v: Option<i64>) -> Result<Option<u8>, StoreError> {
    v.map(|r| u8::try_from(r).map_err(|_| corrupt(format!("revocation reason {r}"))))
        .transpose()
}

fn cert_from_row(row: &AnyRow) -> Result<CertificateRecord, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(CertificateRecord {
        certificate: NewCertificate {
            ca: row.try_get("ca")?,
            serial: row.try_get("serial")?,
            subject: row.try_get("subject")?,
            organisation: row.try_get("organisation")?,
            profile: row.try_get("profile")?,
            not_before: row.try_get("not_before")?,
            not_after: row.try_get("not_after")?,
            der: row.try_get("der")?,
            requested_by: row.try_get("requested_by")?,
            platform: row.try_get::<i64, _>("platform")? != 0,
        },
        status: status.parse()?,
        revoked_at: row.try_get("revoked_at")?,
        revocation_reason: reason_from_db(row.try_get("revocation_reason")?)?,
    })
}

fn ca_from_row(row: &AnyRow) -> Result<CaRecord, StoreError> {
    Ok(CaRecord {
        name: row.try_get("name")?,
        algorithm: row.try_get("algorithm")?,
        certificate_der: row.try_get("certificate_der")?,
        key_ref: row.try_get("key_ref")?,
        created_at: row.try_get("created_at")?,
    })
}

fn hash_from_db(bytes: Vec<u8>, seq: i64) -> Result<ChainHash, StoreError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| corrupt(format!("audit record {seq}: hash is not 32 bytes")))?;
    Ok(ChainHash(arr))
}

fn audit_from_row(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    let bad = |field: &str| corrupt(format!("audit record {seq}: bad {field}"));
    let action: String = row.try_get("action")?;
    let action: AuditAction =
        serde_json::from_value(serde_json::Value::String(action)).map_err(|_| bad("action"))?;
    let outcome: String = row.try_get("outcome")?;
    let outcome: AuditOutcome =
        serde_json::from_value(serde_json::Value::String(outcome)).map_err(|_| bad("outcome"))?;
    let details: String = row.try_get("details")?;
    let details: BTreeMap<String, String> =
        serde_json::from_str(&details).map_err(|_| bad("details"))?;
    Ok(AuditRecord {
        seq: u64::try_from(seq).map_err(|_| bad("seq"))?,
        time_ms: row.try_get("time_ms")?,
        event: AuditEvent {
            actor: row.try_get("actor")?,
            action,
            target: row.try_get("target")?,
            outcome,
            details,
        },
        prev_hash: hash_from_db(row.try_get("prev_hash")?, seq)?,
        hash: hash_from_db(row.try_get("hash")?, seq)?,
    })
}

fn outcome_str(o: AuditOutcome) -> &'static str {
    match o {
        AuditOutcome::Success => "success",
        AuditOutcome::Failure => "failure",
    }
}

/// Append `event` after the current last record, on a connection inside a transaction.
async fn append_audit_in(
    conn: &mut AnyConnection,
    event: AuditEvent,
    time_ms: i64,
) -> Result<AuditRecord, Attempt> {
    let last = last_audit_in(conn).await?;
    let record = AuditRecord::append(last.as_ref(), event, time_ms);
    insert_audit_in(conn, &record).await?;
    Ok(record)
}

/// The last audit record, read inside a transaction.
async fn last_audit_in(conn: &mut AnyConnection) -> Result<Option<AuditRecord>, Attempt> {
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .fetch_optional(&mut *conn)
        .await?
        .map(|row| audit_from_row(&row))
        .transpose()?)
}

/// Insert an already chained audit record. A taken `seq` (another writer was first) is
/// [`Attempt::Retry`].
async fn insert_audit_in(conn: &mut AnyConnection, record: &AuditRecord) -> Result<(), Attempt> {
    let seq = i64::try_from(record.seq).map_err(|_| corrupt("audit seq overflow"))?;
    let details =
        serde_json::to_string(&record.event.details).map_err(|e| StoreError::Invalid {
            what: e.to_string(),
        })?;
    sqlx::query(
        "INSERT INTO audit_log (seq, time_ms, actor, action, target, outcome, details, \
         prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(record.time_ms)
    .bind(record.event.actor.clone())
    .bind(record.event.action.as_str().to_string())
    .bind(record.event.target.clone())
    .bind(outcome_str(record.event.outcome))
    .bind(details)
    .bind(record.prev_hash.0.to_vec())
    .bind(record.hash.0.to_vec())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Insert a certificate on a connection; a duplicate serial is a [`StoreError::Conflict`],
/// an unknown CA [`StoreError::NotFound`].
async fn insert_certificate_in(
    conn: &mut AnyConnection,
    cert: &NewCertificate,
) -> Result<(), StoreError> {
    let result = sqlx::query(
        "INSERT INTO certificates (ca, serial, subject, organisation, profile, not_before, \
         not_after, der, requested_by, status, platform) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'valid', $10)",
    )
    .bind(cert.ca.clone())
    .bind(cert.serial.clone())
    .bind(cert.subject.clone())
    .bind(cert.organisation.clone())
    .bind(cert.profile.clone())
    .bind(cert.not_before)
    .bind(cert.not_after)
    .bind(cert.der.clone())
    .bind(cert.requested_by.clone())
    .bind(i64::from(cert.platform))
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
            what: format!(
                "certificate serial {} of CA {:?}",
                hex::encode(&cert.serial),
                cert.ca
            ),
        }),
        Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound {
            what: format!("certificate authority {:?}", cert.ca),
        }),
        Err(e) => Err(e.into()),
    }
}

/// A change of a certificate's revocation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// Revoke for good (from valid or on hold) with an RFC 5280 reason code (0–10, not 6 or 7).
    Revoke {
        /// The CRL reason code.
        reason: u8,
        /// When, ms since the epoch.
        time_ms: i64,
    },
    /// Suspend a valid certificate (reason certificateHold).
    Hold {
        /// When, ms since the epoch.
        time_ms: i64,
    },
    /// Lift a hold.
    Release,
}

impl StatusChange {
    /// What the change does, in words for errors and audit.
    pub fn action(self) -> &'static str {
        match self {
            StatusChange::Revoke { .. } => "revoked",
            StatusChange::Hold { .. } => "put on hold",
            StatusChange::Release => "released",
        }
    }

    /// Run the guarded UPDATE on `conn`; if it changed nothing, say why.
    async fn apply(
        self,
        conn: &mut AnyConnection,
        ca: &str,
        serial: &[u8],
    ) -> Result<(), StoreError> {
        let (sql, time_and_reason): (&'static str, Option<(i64, i64)>) = match self {
            StatusChange::Revoke { reason, time_ms } => {
                if reason > 10 || reason == 7 || reason == REASON_CERTIFICATE_HOLD {
                    return Err(StoreError::Invalid {
                        what: format!(
                            "revocation reason {reason} (use hold() for certificateHold)"
                        ),
                    });
                }
                (
                    "UPDATE certificates SET status = 'revoked', revoked_at = $3, \
                     revocation_reason = $4 \
                     WHERE ca = $1 AND serial = $2 AND status IN ('valid', 'on_hold')",
                    Some((time_ms, i64::from(reason))),
                )
            }
            StatusChange::Hold { time_ms } => (
                "UPDATE certificates SET status = 'on_hold', revoked_at = $3, \
                 revocation_reason = $4 WHERE ca = $1 AND serial = $2 AND status = 'valid'",
                Some((time_ms, i64::from(REASON_CERTIFICATE_HOLD))),
            ),
            StatusChange::Release => (
                "UPDATE certificates SET status = 'valid', revoked_at = NULL, \
                 revocation_reason = NULL WHERE ca = $1 AND serial = $2 AND status = 'on_hold'",
                None,
            ),
        };
        let mut q = sqlx::query(sql).bind(ca.to_string()).bind(serial.to_vec());
        if let Some((time, reason)) = time_and_reason {
            q = q.bind(time).bind(reason);
        }
        if q.execute(&mut *conn).await?.rows_affected() == 1 {
            return Ok(());
        }
        let sql = format!("SELECT {CERT_COLUMNS} FROM certificates WHERE ca = $1 AND serial = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ca.to_string())
            .bind(serial.to_vec())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| not_found_cert(ca, serial))?;
        Err(StoreError::InvalidTransition {
            from: cert_from_row(&row)?.status,
            action: self.action(),
        })
    }
}

/// An escrowed encryption key to record with its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEscrow {
    /// The issuing CA of the encryption certificate.
    pub ca: String,
    /// The encryption certificate's serial.
    pub serial: Vec<u8>,
    /// The key wrapped under the vault's master key (the vault's serialised `WrappedKey`).
    pub wrapped: String,
}

/// A platform key that is not a CA (OCSP signer, TSA): its certificate and key reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceKeyRecord {
    /// Unique name, e.g. `"sm2-issuing/ocsp"`.
    pub name: String,
    /// The CA that issued its certificate.
    pub ca: String,
    /// What it is for, e.g. `"ocsp"`.
    pub purpose: String,
    /// Its certificate, DER.
    pub certificate_der: Vec<u8>,
    /// Where its private key lives; never the key.
    pub key_ref: String,
    /// When it was created, ms since the epoch.
    pub created_at: i64,
}

/// An API credential. Only a hash of the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    /// Public identifier, part of the token text.
    pub id: String,
    /// Who or what it is for.
    pub name: String,
    /// `admin`, `ra-operator` or `auditor`.
    pub role: String,
    /// A hash of the secret part (the authority decides which).
    pub secret_hash: Vec<u8>,
    /// Who created it.
    pub created_by: String,
    /// When, ms since the epoch.
    pub created_at: i64,
    /// Whether it was disabled.
    pub disabled: bool,
    /// The administrator (member id) it belongs to; `None` for operators' tokens and the
    /// first start's administrator token.
    pub member: Option<String>,
}

/// A dual-control recovery of an escrowed key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRecord {
    /// Its identifier.
    pub id: String,
    /// The encryption certificate's CA.
    pub ca: String,
    /// The encryption certificate's serial.
    pub serial: Vec<u8>,
    /// The administrator who asked.
    pub requested_by: String,
    /// When, ms since the epoch.
    pub requested_at: i64,
    /// The second administrator, once approved.
    pub approved_by: Option<String>,
    /// When it was approved.
    pub approved_at: Option<i64>,
}

/// The largest block [`Store::lease_serials_with_audit`] hands out at once.
pub const MAX_SERIAL_BLOCK: i64 = 1 << 24;

/// A block of serial numbers leased from a counter: `first..end` (`end` exclusive), never
/// handed out to anyone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialLease {
    /// The first serial of the block.
    pub first: u64,
    /// One past the last serial of the block.
    pub end: u64,
}

impl SerialLease {
    /// How many serials the block holds.
    pub fn len(&self) -> u64 {
        self.end - self.first
    }

    /// Whether the block is empty (never, for a lease the store made).
    pub fn is_empty(&self) -> bool {
        self.end <= self.first
    }
}

/// A CA's published CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlRecord {
    /// The CA.
    pub ca: String,
    /// Its cRLNumber.
    pub number: u64,
    /// thisUpdate, ms since the epoch.
    pub this_update: i64,
    /// nextUpdate, ms since the epoch.
    pub next_update: i64,
    /// The CRL, DER.
    pub der: Vec<u8>,
}

/// One write inside an audited transaction.
enum Write<'a> {
    Certificate(&'a NewCertificate),
    Escrow(&'a NewEscrow),
    Status {
        ca: &'a str,
        serial: &'a [u8],
        change: StatusChange,
    },
    ApproveRecovery {
        id: &'a str,
        approver: &'a str,
        time_ms: i64,
    },
    Token(&'a ApiTokenRecord),
    Recovery(&'a RecoveryRecord),
    DisableToken(&'a str),
    /// Administrator list and approvals (governance.rs).
    Governance(&'a governance::GovernanceWrite<'a>),
    /// Point service key `name` at a new key and certificate, if it still has `old_der`.
    ReplaceServiceKey {
        old_der: &'a [u8],
        new: &'a ServiceKeyRecord,
    },
}

impl Write<'_> {
    async fn apply(&self, conn: &mut AnyConnection) -> Result<(), Attempt> {
        match self {
            Write::Certificate(cert) => insert_certificate_in(conn, cert).await?,
            Write::Escrow(e) => {
                sqlx::query(
                    "INSERT INTO escrowed_keys (ca, serial, wrapped, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(e.ca.clone())
                .bind(e.serial.clone())
                .bind(e.wrapped.clone())
                .bind(now_ms())
                .execute(&mut *conn)
                .await
                .map_err(|err| {
                    if is_foreign_key_violation(&err) {
                        Attempt::Fail(not_found_cert(&e.ca, &e.serial))
                    } else if is_unique_violation(&err) {
                        // Not a lost race for the audit `seq`: retrying cannot succeed.
                        Attempt::Fail(StoreError::Conflict {
                            what: format!(
                                "escrowed key of certificate {} of CA {:?}",
                                hex::encode(&e.serial),
                                e.ca
                            ),
                        })
                    } else {
                        err.into()
                    }
                })?;
            }
            Write::Status { ca, serial, change } => change.apply(conn, ca, serial).await?,
            Write::ApproveRecovery {
                id,
                approver,
                time_ms,
            } => {
                let done = sqlx::query(
                    "UPDATE key_recoveries SET approved_by = $2, approved_at = $3 \
                     WHERE id = $1 AND approved_by IS NULL AND requested_by <> $2",
                )
                .bind(id.to_string())
                .bind(approver.to_string())
                .bind(*time_ms)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if done != 1 {
                    return Err(Attempt::Fail(StoreError::Invalid {
                        what: format!(
                            "recovery {id:?} does not exist, was already approved, or was \
                             requested by the same administrator"
                        ),
                    }));
                }
            }
            Write::Token(t) => insert_token(conn, t).await?,
            Write::DisableToken(id) => {
                let done = sqlx::query(
                    "UPDATE api_tokens SET disabled = 1 WHERE id = $1 AND disabled = 0",
                )
                .bind(id.to_string())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if done != 1 {
                    return Err(Attempt::Fail(StoreError::NotFound {
                        what: format!("enabled API token {id:?}"),
                    }));
                }
            }
            Write::Governance(g) => g.apply(conn).await?,
            Write::ReplaceServiceKey { old_der, new } => {
                let done = sqlx::query(
                    "UPDATE service_keys SET ca = $2, purpose = $3, certificate_der = $4, \
                     key_ref = $5, created_at = $6 WHERE name = $1 AND certificate_der = $7",
                )
                .bind(new.name.clone())
                .bind(new.ca.clone())
                .bind(new.purpose.clone())
                .bind(new.certificate_der.clone())
                .bind(new.key_ref.clone())
                .bind(new.created_at)
                .bind(old_der.to_vec())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if done != 1 {
                    // Another node replaced it first (or it never existed).
                    return Err(Attempt::Fail(StoreError::Conflict {
                        what: format!("service key {:?} was replaced meanwhile", new.name),
                    }));
                }
            }
            Write::Recovery(r) => {
                sqlx::query(
                    "INSERT INTO key_recoveries (id, ca, serial, requested_by, requested_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(r.id.clone())
                .bind(r.ca.clone())
                .bind(r.serial.clone())
                .bind(r.requested_by.clone())
                .bind(r.requested_at)
                .execute(&mut *conn)
                .await
                .map_err(|err| {
                    if is_unique_violation(&err) {
                        Attempt::Fail(StoreError::Conflict {
                            what: format!("recovery request {:?}", r.id),
                        })
                    } else {
                        err.into()
                    }
                })?;
            }
        }
        Ok(())
    }
}

/// Insert an API token on a connection; a duplicate id is a [`StoreError::Conflict`].
async fn insert_token(conn: &mut AnyConnection, t: &ApiTokenRecord) -> Result<(), Attempt> {
    sqlx::query(
        "INSERT INTO api_tokens (id, name, role, secret_hash, created_by, \
             created_at, disabled, member) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(t.id.clone())
    .bind(t.name.clone())
    .bind(t.role.clone())
    .bind(t.secret_hash.clone())
    .bind(t.created_by.clone())
    .bind(t.created_at)
    .bind(i64::from(t.disabled))
    .bind(t.member.clone())
    .execute(&mut *conn)
    .await
    .map_err(|err| {
        if is_unique_violation(&err) {
            Attempt::Fail(StoreError::Conflict {
                what: format!("API token {:?}", t.id),
            })
        } else {
            err.into()
        }
    })?;
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The storage layer over SQLite or PostgreSQL. Cheap to clone (a shared connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The group-commit writer for issuances (see [`group_commit`]).
    issuer: group_commit::Sender,
}

impl Store {
    /// Open (and migrate) the store at `url`:
    ///
    /// * `sqlite:///path/to/yinxin.db` (or `sqlite:relative.db`): the file is created if absent
    ///   and opened in WAL mode with foreign keys on and a 10 s busy timeout.
    ///   `sqlite::memory:` gives a private in-memory store on a single connection.
    /// * `postgres://user[:password]@host:port/db[?options=-c search_path%3Dschema]`: several
    ///   nodes may open the same database at once; migrations run under an advisory lock.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains("mode=") || url.contains(":memory:") {
                url.to_string()
            } else if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::InvalidUrl { url: redact(url) });
        };
        let mut options = AnyPoolOptions::new();
        if backend == Backend::Sqlite {
            // Each connection to `:memory:` would be its own empty database.
            let max = if url.contains(":memory:") { 1 } else { 8 };
            options = options.max_connections(max).after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    // FULL: a commit survives power loss, not only a crash of this process
                    // (issued certificates must never be lost; group commit pays the fsync
                    // once per batch).
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    Ok(())
                })
            });
        } else {
            options = options.max_connections(10);
        }
        let pool = options
            .connect(&url)
            .await
            .map_err(|e| StoreError::Backend(format!("opening {}: {e}", redact(&url))))?;
        migrator(backend)
            .run(&pool)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let issuer = group_commit::spawn(pool.clone(), backend);
        Ok(Store {
            pool,
            backend,
            issuer,
        })
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Close every connection; waits for ongoing operations.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Start a transaction that will write. SQLite takes the write lock at once so concurrent
    /// writers wait on the busy timeout instead of failing a lock upgrade.
    async fn write_tx(&self) -> Result<Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    // ---------------------------------------------------------------- certificate authorities

    /// Record a new CA. A CA of the same name is a [`StoreError::Conflict`].
    pub async fn put_ca(&self, ca: &CaRecord) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO cas (name, algorithm, certificate_der, key_ref, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(ca.name.clone())
        .bind(ca.algorithm.clone())
        .bind(ca.certificate_der.clone())
        .bind(ca.key_ref.clone())
        .bind(ca.created_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                what: format!("certificate authority {:?}", ca.name),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Every CA, by name.
    pub async fn cas(&self) -> Result<Vec<CaRecord>, StoreError> {
        sqlx::query("SELECT name, algorithm, certificate_der, key_ref, created_at FROM cas")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(ca_from_row)
            .collect::<Result<Vec<_>, _>>()
            // Sorted here: PostgreSQL's collation may order text differently from SQLite's.
            .map(|mut cas| {
                cas.sort_by(|a, b| a.name.cmp(&b.name));
                cas
            })
    }

    /// The CA called `name`.
    pub async fn ca(&self, name: &str) -> Result<CaRecord, StoreError> {
        let row = sqlx::query(
            "SELECT name, algorithm, certificate_der, key_ref, created_at FROM cas \
             WHERE name = $1",
        )
        .bind(name.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("certificate authority {name:?}"),
        })?;
        ca_from_row(&row)
    }

    // ---------------------------------------------------------------------------- certificates

    /// Record an issued certificate as valid. A serial already used by the same CA is a
    /// [`StoreError::Conflict`] (draw a fresh random serial and retry); an unknown CA is
    /// [`StoreError::NotFound`]. Prefer [`Store::issue_certificate_with_audit`].
    pub async fn insert_certificate(&self, cert: &NewCertificate) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_certificate_in(&mut conn, cert).await
    }

    /// Record an issued certificate and append its audit event in one transaction: both are
    /// stored or neither. A duplicate serial is a [`StoreError::Conflict`] and appends nothing.
    pub async fn issue_certificate_with_audit(
        &self,
        cert: &NewCertificate,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        self.audited(&[Write::Certificate(cert)], event, time_ms)
            .await
    }

    /// One transaction that applies `writes` and appends `event` after the last audit record,
    /// retried when another writer took the same `seq` first (or the database was busy).
    async fn audited(
        &self,
        writes: &[Write<'_>],
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let attempt: Result<AuditRecord, Attempt> = async {
                let mut tx = self.write_tx().await?;
                for write in writes {
                    write.apply(&mut tx).await?;
                }
                let record = append_audit_in(&mut tx, event.clone(), time_ms).await?;
                tx.commit().await?;
                Ok(record)
            }
            .await;
            match attempt {
                Ok(record) => return Ok(record),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry) => tokio::task::yield_now().await,
            }
        }
        Err(StoreError::Conflict {
            what: "audit sequence number (too much contention)".into(),
        })
    }

    /// Record several certificates issued together (a dual-certificate pair), the escrowed
    /// keys that belong to them and one audit event, in one transaction: all or nothing. A
    /// duplicate serial is a [`StoreError::Conflict`] and records nothing.
    pub async fn issue_with_audit(
        &self,
        certificates: &[NewCertificate],
        escrows: &[NewEscrow],
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        let job = group_commit::Job {
            certificates: certificates.to_vec(),
            escrows: escrows.to_vec(),
            event,
            time_ms,
        };
        // Concurrent issuances share one transaction (group commit); if the writer is gone
        // (its runtime ended), the issuance runs on its own.
        match self.issuer.submit(job).await {
            Ok(result) => result,
            Err(job) => {
                let writes: Vec<Write<'_>> = job
                    .certificates
                    .iter()
                    .map(Write::Certificate)
                    .chain(job.escrows.iter().map(Write::Escrow))
                    .collect();
                self.audited(&writes, job.event, job.time_ms).await
            }
        }
    }

    /// The certificate `serial` of CA `ca`.
    pub async fn certificate(
        &self,
        ca: &str,
        serial: &[u8],
    ) -> Result<CertificateRecord, StoreError> {
        let sql = format!("SELECT {CERT_COLUMNS} FROM certificates WHERE ca = $1 AND serial = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(ca.to_string())
            .bind(serial.to_vec())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found_cert(ca, serial))?;
        cert_from_row(&row)
    }

    /// Certificates matching every set filter of `query`, in issuance order.
    pub async fn search(
        &self,
        query: &CertificateQuery,
    ) -> Result<Vec<CertificateRecord>, StoreError> {
        enum Arg {
            Text(String),
            Bytes(Vec<u8>),
            Int(i64),
        }
        let mut conditions: Vec<String> = Vec::new();
        let mut args: Vec<Arg> = Vec::new();
        if let Some(s) = &query.subject_contains {
            let escaped = s
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            args.push(Arg::Text(format!("%{escaped}%")));
            conditions.push(format!(
                "lower(subject) LIKE lower(${}) ESCAPE '\\'",
                args.len()
            ));
        }
        if let Some(o) = &query.organisation {
            args.push(Arg::Text(o.clone()));
            conditions.push(format!("organisation = ${}", args.len()));
        }
        if let Some(s) = &query.serial {
            args.push(Arg::Bytes(s.clone()));
            conditions.push(format!("serial = ${}", args.len()));
        }
        if let Some(s) = query.status {
            args.push(Arg::Text(s.as_str().to_string()));
            conditions.push(format!("status = ${}", args.len()));
        }
        if let Some(c) = &query.ca {
            args.push(Arg::Text(c.clone()));
            conditions.push(format!("ca = ${}", args.len()));
        }
        let mut sql = format!("SELECT {CERT_COLUMNS} FROM certificates");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        let limit = query
            .limit
            .unwrap_or(MAX_SEARCH_LIMIT)
            .min(MAX_SEARCH_LIMIT);
        let offset = i64::try_from(query.offset).map_err(|_| StoreError::Invalid {
            what: "search offset too large".into(),
        })?;
        args.push(Arg::Int(i64::from(limit)));
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", args.len()));
        args.push(Arg::Int(offset));
        sql.push_str(&format!(" OFFSET ${}", args.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for arg in args {
            q = match arg {
                Arg::Text(t) => q.bind(t),
                Arg::Bytes(b) => q.bind(b),
                Arg::Int(i) => q.bind(i),
            };
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(cert_from_row)
            .collect()
    }

    /// Revoke a valid or held certificate at `time_ms` with an RFC 5280 CRL reason code
    /// (0–10 but not 7; certificateHold, 6, goes through [`Store::hold`]). Revoking a revoked
    /// certificate is [`StoreError::InvalidTransition`]. Unaudited: the authority uses
    /// [`Store::change_status_with_audit`].
    pub async fn revoke(
        &self,
        ca: &str,
        serial: &[u8],
        reason: u8,
        time_ms: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        StatusChange::Revoke { reason, time_ms }
            .apply(&mut conn, ca, serial)
            .await
    }

    /// Put a valid certificate on hold (reason certificateHold) at `time_ms`.
    pub async fn hold(&self, ca: &str, serial: &[u8], time_ms: i64) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        StatusChange::Hold { time_ms }
            .apply(&mut conn, ca, serial)
            .await
    }

    /// Release a held certificate back to valid. Releasing a revoked (or valid) certificate is
    /// [`StoreError::InvalidTransition`].
    pub async fn release(&self, ca: &str, serial: &[u8]) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        StatusChange::Release.apply(&mut conn, ca, serial).await
    }

    /// Apply a status change and append its audit event in one transaction: both or neither.
    pub async fn change_status_with_audit(
        &self,
        ca: &str,
        serial: &[u8],
        change: StatusChange,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        self.audited(&[Write::Status { ca, serial, change }], event, time_ms)
            .await
    }

    /// Every revoked or held certificate of `ca`, for its CRL, in issuance order.
    pub async fn revoked(&self, ca: &str) -> Result<Vec<RevokedEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT serial, revoked_at, revocation_reason FROM certificates \
             WHERE ca = $1 AND status IN ('revoked', 'on_hold') ORDER BY id",
        )
        .bind(ca.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let serial: Vec<u8> = row.try_get("serial")?;
                let missing = || {
                    corrupt(format!(
                        "revoked {} lacks a time or reason",
                        hex::encode(&serial)
                    ))
                };
                let revoked_at: Option<i64> = row.try_get("revoked_at")?;
                let reason = reason_from_db(row.try_get("revocation_reason")?)?;
                Ok(RevokedEntry {
                    revoked_at: revoked_at.ok_or_else(missing)?,
                    reason: reason.ok_or_else(missing)?,
                    serial,
                })
            })
            .collect()
    }

    /// The next CRL number of `ca`: 1, 2, 3, … Atomic and strictly increasing, even across
    /// nodes.
    pub async fn crl_number_next(&self, ca: &str) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "INSERT INTO crl_numbers (ca, last) VALUES ($1, 1) \
             ON CONFLICT (ca) DO UPDATE SET last = crl_numbers.last + 1 RETURNING last",
        )
        .bind(ca.to_string())
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(row) => {
                let n: i64 = row.try_get("last")?;
                u64::try_from(n).map_err(|_| corrupt(format!("CRL number {n}")))
            }
            Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound {
                what: format!("certificate authority {ca:?}"),
            }),
            Err(e) => Err(e.into()),
        }
    }

    // ------------------------------------------------------------------------- serial counters

    /// Lease `block` serial numbers from the counter `counter` (`tsa` exists from migration 4
    /// on) and record the audit event `event(&lease)` in the same transaction. The counter is
    /// advanced by one `UPDATE … SET next = next + block RETURNING next`, so concurrent leases,
    /// from this store or another process on the same database, get disjoint blocks, and a
    /// block is never handed out again (the counter only grows; the database refuses anything
    /// else). The caller hands the serials out from memory and simply forgets what it did not
    /// use.
    pub async fn lease_serials_with_audit(
        &self,
        counter: &str,
        block: u64,
        event: impl Fn(&SerialLease) -> AuditEvent,
        time_ms: i64,
    ) -> Result<(SerialLease, AuditRecord), StoreError> {
        let size = i64::try_from(block)
            .ok()
            .filter(|b| (1..=MAX_SERIAL_BLOCK).contains(b))
            .ok_or_else(|| StoreError::Invalid {
                what: format!("serial block of {block} (1 to {MAX_SERIAL_BLOCK})"),
            })?;
        for _ in 0..MAX_ATTEMPTS {
            let attempt: Result<(SerialLease, AuditRecord), Attempt> = async {
                let mut tx = self.write_tx().await?;
                let row = sqlx::query(
                    "UPDATE serial_counters SET next = next + $1 WHERE name = $2 RETURNING next",
                )
                .bind(size)
                .bind(counter.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| {
                    Attempt::Fail(StoreError::NotFound {
                        what: format!("serial counter {counter:?}"),
                    })
                })?;
                let next: i64 = row.try_get("next").map_err(StoreError::from)?;
                let bad = || corrupt(format!("serial counter {counter:?} at {next}"));
                let end = u64::try_from(next).map_err(|_| bad())?;
                let first = end.checked_sub(block).ok_or_else(bad)?;
                let lease = SerialLease { first, end };
                let record = append_audit_in(&mut tx, event(&lease), time_ms).await?;
                tx.commit().await?;
                Ok((lease, record))
            }
            .await;
            match attempt {
                Ok(done) => return Ok(done),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry) => tokio::task::yield_now().await,
            }
        }
        Err(StoreError::Conflict {
            what: "audit sequence number (too much contention)".into(),
        })
    }

    // ------------------------------------------------------------------------------- audit log

    /// Append `event` at `time_ms` (ms since the epoch) to the audit chain and return the
    /// stored record. `seq` is gap-free and unique even with many writers.
    pub async fn append_audit(
        &self,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        self.audited(&[], event, time_ms).await
    }

    /// Up to `limit` audit records from `from_seq` on, in order. Check them with
    /// [`yinxin_audit::verify`] or [`yinxin_audit::verify_from`].
    pub async fn audit_range(
        &self,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let from = i64::try_from(from_seq).map_err(|_| StoreError::Invalid {
            what: "audit seq too large".into(),
        })?;
        let sql =
            format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(from)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_from_row)
            .collect()
    }

    /// The highest audit `seq` so far (0 when the log is empty). Nodes poll it to learn of
    /// changes made by other nodes.
    pub async fn audit_head(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS head FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        let head: i64 = row.try_get("head")?;
        u64::try_from(head).map_err(|_| corrupt(format!("audit seq {head}")))
    }

    // ---------------------------------------------------------------------------- service keys

    /// Record a platform key that is not a CA. A duplicate name is a [`StoreError::Conflict`].
    pub async fn put_service_key(&self, key: &ServiceKeyRecord) -> Result<(), StoreError> {
        let result = sqlx::query(
            "INSERT INTO service_keys (name, ca, purpose, certificate_der, key_ref, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.name.clone())
        .bind(key.ca.clone())
        .bind(key.purpose.clone())
        .bind(key.certificate_der.clone())
        .bind(key.key_ref.clone())
        .bind(key.created_at)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                what: format!("service key {:?}", key.name),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Replace service key `new.name`, whose certificate was `old_der` (revoked or held), by a
    /// new key and certificate: the new certificate, the record and `event` in one
    /// transaction. Another node's replacement first is a [`StoreError::Conflict`] and
    /// records nothing.
    pub async fn replace_service_key_with_audit(
        &self,
        old_der: &[u8],
        new: &ServiceKeyRecord,
        certificate: &NewCertificate,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        self.audited(
            &[
                Write::Certificate(certificate),
                Write::ReplaceServiceKey { old_der, new },
            ],
            event,
            time_ms,
        )
        .await
    }

    /// Every certificate the platform issued itself ([`NewCertificate::platform`]), in issuance
    /// order: there are few (CAs, OCSP signers, service identities and their replacements).
    pub async fn platform_certificates(&self) -> Result<Vec<CertificateRecord>, StoreError> {
        let sql = format!("SELECT {CERT_COLUMNS} FROM certificates WHERE platform = 1 ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(cert_from_row).collect()
    }

    /// Every service key, by name.
    pub async fn service_keys(&self) -> Result<Vec<ServiceKeyRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, ca, purpose, certificate_der, key_ref, created_at FROM service_keys \
             ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ServiceKeyRecord {
                    name: row.try_get("name")?,
                    ca: row.try_get("ca")?,
                    purpose: row.try_get("purpose")?,
                    certificate_der: row.try_get("certificate_der")?,
                    key_ref: row.try_get("key_ref")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    // ------------------------------------------------------------------------------ API tokens

    /// Record a new API credential together with its audit event.
    pub async fn create_api_token_with_audit(
        &self,
        token: &ApiTokenRecord,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        self.audited(&[Write::Token(token)], event, time_ms).await
    }

    /// Disable API credential `id` for good, with its audit event. An unknown or already
    /// disabled token is [`StoreError::NotFound`].
    pub async fn disable_api_token_with_audit(
        &self,
        id: &str,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        self.audited(&[Write::DisableToken(id)], event, time_ms)
            .await
    }

    /// The API credential `id`.
    pub async fn api_token(&self, id: &str) -> Result<ApiTokenRecord, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, secret_hash, created_by, created_at, disabled, member \
             FROM api_tokens WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "API token".into(),
        })?;
        let disabled: i64 = row.try_get("disabled")?;
        Ok(ApiTokenRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            role: row.try_get("role")?,
            secret_hash: row.try_get("secret_hash")?,
            created_by: row.try_get("created_by")?,
            created_at: row.try_get("created_at")?,
            disabled: disabled != 0,
            member: row.try_get("member")?,
        })
    }

    /// How many API credentials exist (0 means the first start has not finished).
    pub async fn api_token_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens")
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        u64::try_from(n).map_err(|_| corrupt(format!("token count {n}")))
    }

    // ------------------------------------------------------------------- escrow and recovery

    /// The wrapped escrowed key of encryption certificate `serial` of `ca`.
    pub async fn escrowed_key(&self, ca: &str, serial: &[u8]) -> Result<String, StoreError> {
        let row = sqlx::query("SELECT wrapped FROM escrowed_keys WHERE ca = $1 AND serial = $2")
            .bind(ca.to_string())
            .bind(serial.to_vec())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!(
                    "escrowed key of certificate {} of CA {ca:?}",
                    hex::encode(serial)
                ),
            })?;
        Ok(row.try_get("wrapped")?)
    }

    /// Open a recovery request for an escrowed key, audited. The key must be escrowed.
    pub async fn request_recovery_with_audit(
        &self,
        recovery: &RecoveryRecord,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        // Checked first so the error names the key rather than a foreign-key failure.
        self.escrowed_key(&recovery.ca, &recovery.serial).await?;
        self.audited(&[Write::Recovery(recovery)], event, time_ms)
            .await
    }

    /// The recovery request `id`.
    pub async fn recovery(&self, id: &str) -> Result<RecoveryRecord, StoreError> {
        let row = sqlx::query(
            "SELECT id, ca, serial, requested_by, requested_at, approved_by, approved_at \
             FROM key_recoveries WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: format!("recovery request {id:?}"),
        })?;
        Ok(RecoveryRecord {
            id: row.try_get("id")?,
            ca: row.try_get("ca")?,
            serial: row.try_get("serial")?,
            requested_by: row.try_get("requested_by")?,
            requested_at: row.try_get("requested_at")?,
            approved_by: row.try_get("approved_by")?,
            approved_at: row.try_get("approved_at")?,
        })
    }

    /// Approve recovery `id` as `approver`, audited, in one transaction. Refused when the
    /// approver is the requester or the request was already approved (dual control: each
    /// request releases the key once, to two different administrators acting together).
    pub async fn approve_recovery_with_audit(
        &self,
        id: &str,
        approver: &str,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        self.audited(
            &[Write::ApproveRecovery {
                id,
                approver,
                time_ms,
            }],
            event,
            time_ms,
        )
        .await
    }

    // ------------------------------------------------------------------------------------ CRLs

    /// Publish `crl` as its CA's newest CRL unless a CRL with a higher number is already
    /// published (another node was faster). Returns whether it was stored.
    pub async fn put_crl(&self, crl: &CrlRecord) -> Result<bool, StoreError> {
        let number = i64::try_from(crl.number).map_err(|_| StoreError::Invalid {
            what: "CRL number too large".into(),
        })?;
        let done = sqlx::query(
            "INSERT INTO crls (ca, number, this_update, next_update, der) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (ca) DO UPDATE SET number = excluded.number, \
             this_update = excluded.this_update, next_update = excluded.next_update, \
             der = excluded.der WHERE crls.number < excluded.number",
        )
        .bind(crl.ca.clone())
        .bind(number)
        .bind(crl.this_update)
        .bind(crl.next_update)
        .bind(crl.der.clone())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// The newest published CRL of `ca`.
    pub async fn crl(&self, ca: &str) -> Result<CrlRecord, StoreError> {
        let row =
            sqlx::query("SELECT ca, number, this_update, next_update, der FROM crls WHERE ca = $1")
                .bind(ca.to_string())
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    what: format!("CRL of CA {ca:?}"),
                })?;
        let number: i64 = row.try_get("number")?;
        Ok(CrlRecord {
            ca: row.try_get("ca")?,
            number: u64::try_from(number).map_err(|_| corrupt(format!("CRL number {number}")))?,
            this_update: row.try_get("this_update")?,
            next_update: row.try_get("next_update")?,
            der: row.try_get("der")?,
        })
    }

    // ----------------------------------------------------------------------------- vault blobs

    /// Store (or replace) the opaque, already encrypted blob `name`.
    pub async fn put_vault_blob(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO vault_blobs (name, data) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET data = excluded.data",
        )
        .bind(name.to_string())
        .bind(bytes.to_vec())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The blob `name`.
    pub async fn vault_blob(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let row = sqlx::query("SELECT data FROM vault_blobs WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("vault blob {name:?}"),
            })?;
        Ok(row.try_get("data")?)
    }

    /// The names of every vault blob, sorted.
    pub async fn vault_blob_names(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT name FROM vault_blobs")
            .fetch_all(&self.pool)
            .await?;
        let mut names = rows
            .iter()
            .map(|r| r.try_get("name").map_err(StoreError::from))
            .collect::<Result<Vec<String>, _>>()?;
        names.sort();
        Ok(names)
    }
}

fn not_found_cert(ca: &str, serial: &[u8]) -> StoreError {
    StoreError::NotFound {
        what: format!("certificate {} of CA {ca:?}", hex::encode(serial)),
    }
}
