//! Dual control by persons: the administrator list formed at a ceremony, and approval
//! requests that K members sign. Every write here goes with its audit record in one
//! transaction (`Store::audited`), and the guards that make dual control hold are in the SQL:
//! a formation takes at most `size` members, an approval only on an open, unexpired request
//! and once per member, an executed request executes once.

use sqlx::{AnyConnection, Row};
use yinxin_audit::{AuditEvent, AuditRecord};

use crate::{ApiTokenRecord, Attempt, StatusChange, Store, StoreError, Write, is_unique_violation};

/// The ceremony that forms the administrator list (one per store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormationRecord {
    /// Its identifier.
    pub id: String,
    /// The nonce each member signs to register.
    pub nonce: Vec<u8>,
    /// How many members the list has when formed.
    pub size: u8,
    /// Approvals (from distinct members) a dual-control operation needs.
    pub approvals: u8,
    /// Members registered so far.
    pub joined: u8,
    /// When it was opened, ms since the epoch.
    pub opened_at: i64,
    /// When the last member registered, ms since the epoch.
    pub closed_at: Option<i64>,
}

/// A member of the administrator list: a person, known by the certificate they registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    /// Its identifier.
    pub id: String,
    /// The person's name.
    pub name: String,
    /// The registered certificate, DER; approvals are signatures by its key.
    pub certificate_der: Vec<u8>,
    /// SHA-256 of the certificate's SubjectPublicKeyInfo: one key, one member.
    pub key_id: Vec<u8>,
    /// When the member was added, ms since the epoch.
    pub added_at: i64,
    /// When the member was removed, if they were.
    pub removed_at: Option<i64>,
}

/// A request for a dual-control operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequestRecord {
    /// Its identifier.
    pub id: String,
    /// What is asked (`recover-key`, `revoke-platform-certificate`, …).
    pub operation: String,
    /// What it acts on (`ca/serial`, a member id, …).
    pub target: String,
    /// The operation's parameters, canonical JSON.
    pub parameters: String,
    /// SHA-256 of `parameters`.
    pub parameters_hash: Vec<u8>,
    /// The member who asked.
    pub requested_by: String,
    /// When, ms since the epoch.
    pub requested_at: i64,
    /// When it lapses unexecuted, ms since the epoch.
    pub expires_at: i64,
    /// `open`, `executed`, `cancelled` or `rejected`.
    pub status: String,
    /// What the execution produced (JSON), once executed.
    pub result: Option<String>,
    /// When it was executed, cancelled or rejected.
    pub closed_at: Option<i64>,
}

/// One member's signed approval of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    /// The request.
    pub request_id: String,
    /// The approving member.
    pub member: String,
    /// Their signature over the request's canonical statement.
    pub signature: Vec<u8>,
    /// When, ms since the epoch.
    pub approved_at: i64,
}

/// What an approval request does when its last approval arrives, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Nothing in the store beyond closing the request (e.g. a key recovery, whose result is
    /// the sealed key).
    None,
    /// Change a certificate's status.
    Status {
        /// The CA.
        ca: String,
        /// The serial.
        serial: Vec<u8>,
        /// The change.
        change: StatusChange,
    },
    /// Add a member (and their first admin token).
    AddMember(Box<(MemberRecord, ApiTokenRecord)>),
    /// Remove a member and disable their tokens.
    RemoveMember {
        /// The member.
        id: String,
    },
}

/// The governance writes (see `Write::Governance`).
pub(crate) enum GovernanceWrite<'a> {
    OpenFormation(&'a FormationRecord),
    Join {
        formation: &'a str,
        expected_joined: u8,
        closes: bool,
        member: &'a MemberRecord,
        token: &'a ApiTokenRecord,
        time_ms: i64,
    },
    Request(&'a ApprovalRequestRecord),
    Approve {
        approval: &'a ApprovalRecord,
        execute: Option<(&'a Effect, &'a str)>,
    },
    Close {
        id: &'a str,
        status: &'a str,
        time_ms: i64,
    },
}

fn conflict(what: impl Into<String>) -> Attempt {
    Attempt::Fail(StoreError::Conflict { what: what.into() })
}

fn invalid(what: impl Into<String>) -> Attempt {
    Attempt::Fail(StoreError::Invalid { what: what.into() })
}

async fn insert_member(conn: &mut AnyConnection, m: &MemberRecord) -> Result<(), Attempt> {
    sqlx::query(
        "INSERT INTO admin_members (id, name, certificate_der, key_id, added_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(m.id.clone())
    .bind(m.name.clone())
    .bind(m.certificate_der.clone())
    .bind(m.key_id.clone())
    .bind(m.added_at)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            conflict("that key is already registered to an administrator")
        } else {
            e.into()
        }
    })?;
    Ok(())
}

impl GovernanceWrite<'_> {
    pub(crate) async fn apply(&self, conn: &mut AnyConnection) -> Result<(), Attempt> {
        match self {
            GovernanceWrite::OpenFormation(f) => {
                sqlx::query(
                    "INSERT INTO admin_formation (id, nonce, size, approvals, joined, opened_at) \
                     VALUES ($1, $2, $3, $4, 0, $5)",
                )
                .bind(f.id.clone())
                .bind(f.nonce.clone())
                .bind(i64::from(f.size))
                .bind(i64::from(f.approvals))
                .bind(f.opened_at)
                .execute(&mut *conn)
                .await?;
                let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM admin_formation")
                    .fetch_one(&mut *conn)
                    .await?
                    .try_get("n")?;
                if count != 1 {
                    return Err(conflict("the administrator list was formed already"));
                }
            }
            GovernanceWrite::Join {
                formation,
                expected_joined,
                closes,
                member,
                token,
                time_ms,
            } => {
                let done = sqlx::query(
                    "UPDATE admin_formation SET joined = joined + 1 \
                     WHERE id = $1 AND joined = $2 AND closed_at IS NULL",
                )
                .bind(formation.to_string())
                .bind(i64::from(*expected_joined))
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if done != 1 {
                    return Err(conflict(
                        "the ceremony changed meanwhile (another member registered, or it closed)",
                    ));
                }
                insert_member(conn, member).await?;
                crate::insert_token(conn, token).await?;
                if *closes {
                    sqlx::query(
                        "UPDATE admin_formation SET closed_at = $2 WHERE id = $1 AND joined = size",
                    )
                    .bind(formation.to_string())
                    .bind(*time_ms)
                    .execute(&mut *conn)
                    .await?;
                    // The list is formed: admin tokens that belong to nobody (the first
                    // start's) stop working.
                    sqlx::query(
                        "UPDATE api_tokens SET disabled = 1 \
                         WHERE role = 'admin' AND member IS NULL",
                    )
                    .execute(&mut *conn)
                    .await?;
                }
            }
            GovernanceWrite::Request(r) => {
                sqlx::query(
                    "INSERT INTO approval_requests (id, operation, target, parameters, \
                     parameters_hash, requested_by, requested_at, expires_at, status) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open')",
                )
                .bind(r.id.clone())
                .bind(r.operation.clone())
                .bind(r.target.clone())
                .bind(r.parameters.clone())
                .bind(r.parameters_hash.clone())
                .bind(r.requested_by.clone())
                .bind(r.requested_at)
                .bind(r.expires_at)
                .execute(&mut *conn)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        conflict(format!("approval request {:?}", r.id))
                    } else {
                        e.into()
                    }
                })?;
            }
            GovernanceWrite::Approve { approval, execute } => {
                let open = sqlx::query(
                    "SELECT 1 AS one FROM approval_requests \
                     WHERE id = $1 AND status = 'open' AND expires_at > $2",
                )
                .bind(approval.request_id.clone())
                .bind(approval.approved_at)
                .fetch_optional(&mut *conn)
                .await?;
                if open.is_none() {
                    return Err(invalid(format!(
                        "approval request {} is not open (executed, cancelled, rejected or \
                         expired)",
                        approval.request_id
                    )));
                }
                sqlx::query(
                    "INSERT INTO approvals (request_id, member, signature, approved_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(approval.request_id.clone())
                .bind(approval.member.clone())
                .bind(approval.signature.clone())
                .bind(approval.approved_at)
                .execute(&mut *conn)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        conflict("this administrator has approved this request already")
                    } else {
                        e.into()
                    }
                })?;
                if let Some((effect, result)) = execute {
                    match effect {
                        Effect::None => {}
                        Effect::Status { ca, serial, change } => {
                            change.apply(conn, ca, serial).await?;
                        }
                        Effect::AddMember(added) => {
                            let (member, token) = &**added;
                            insert_member(conn, member).await?;
                            crate::insert_token(conn, token).await?;
                        }
                        Effect::RemoveMember { id } => {
                            let done = sqlx::query(
                                "UPDATE admin_members SET removed_at = $2 \
                                 WHERE id = $1 AND removed_at IS NULL",
                            )
                            .bind(id.clone())
                            .bind(approval.approved_at)
                            .execute(&mut *conn)
                            .await?
                            .rows_affected();
                            if done != 1 {
                                return Err(invalid(format!("administrator {id} is not a member")));
                            }
                            sqlx::query("UPDATE api_tokens SET disabled = 1 WHERE member = $1")
                                .bind(id.clone())
                                .execute(&mut *conn)
                                .await?;
                        }
                    }
                    let done = sqlx::query(
                        "UPDATE approval_requests SET status = 'executed', result = $2, \
                         closed_at = $3 WHERE id = $1 AND status = 'open'",
                    )
                    .bind(approval.request_id.clone())
                    .bind(result.to_string())
                    .bind(approval.approved_at)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    if done != 1 {
                        return Err(invalid("the request was executed meanwhile"));
                    }
                }
            }
            GovernanceWrite::Close {
                id,
                status,
                time_ms,
            } => {
                let done = sqlx::query(
                    "UPDATE approval_requests SET status = $2, closed_at = $3 \
                     WHERE id = $1 AND status = 'open'",
                )
                .bind(id.to_string())
                .bind(status.to_string())
                .bind(*time_ms)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if done != 1 {
                    return Err(invalid(format!("approval request {id} is not open")));
                }
            }
        }
        Ok(())
    }
}

fn formation_from_row(row: &sqlx::any::AnyRow) -> Result<FormationRecord, StoreError> {
    let small = |v: i64| u8::try_from(v).map_err(|_| crate::corrupt(format!("formation {v}")));
    Ok(FormationRecord {
        id: row.try_get("id")?,
        nonce: row.try_get("nonce")?,
        size: small(row.try_get("size")?)?,
        approvals: small(row.try_get("approvals")?)?,
        joined: small(row.try_get("joined")?)?,
        opened_at: row.try_get("opened_at")?,
        closed_at: row.try_get("closed_at")?,
    })
}

fn member_from_row(row: &sqlx::any::AnyRow) -> Result<MemberRecord, StoreError> {
    Ok(MemberRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        certificate_der: row.try_get("certificate_der")?,
        key_id: row.try_get("key_id")?,
        added_at: row.try_get("added_at")?,
        removed_at: row.try_get("removed_at")?,
    })
}

const REQUEST_COLUMNS: &str = "id, operation, target, parameters, parameters_hash, requested_by, \
                               requested_at, expires_at, status, result, closed_at";

fn request_from_row(row: &sqlx::any::AnyRow) -> Result<ApprovalRequestRecord, StoreError> {
    Ok(ApprovalRequestRecord {
        id: row.try_get("id")?,
        operation: row.try_get("operation")?,
        target: row.try_get("target")?,
        parameters: row.try_get("parameters")?,
        parameters_hash: row.try_get("parameters_hash")?,
        requested_by: row.try_get("requested_by")?,
        requested_at: row.try_get("requested_at")?,
        expires_at: row.try_get("expires_at")?,
        status: row.try_get("status")?,
        result: row.try_get("result")?,
        closed_at: row.try_get("closed_at")?,
    })
}

impl Store {
    /// Open the ceremony that forms the administrator list, with its audit record. A store
    /// has one: a second is a [`StoreError::Conflict`].
    pub async fn open_formation_with_audit(
        &self,
        formation: &FormationRecord,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        let write = GovernanceWrite::OpenFormation(formation);
        self.audited(&[Write::Governance(&write)], event, time_ms)
            .await
    }

    /// The formation ceremony, if one was opened.
    pub async fn formation(&self) -> Result<Option<FormationRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, nonce, size, approvals, joined, opened_at, closed_at FROM admin_formation",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(formation_from_row).transpose()
    }

    /// Register `member` at the ceremony with its first admin token and the audit record;
    /// `expected_joined` is the count read before (another registration meanwhile is a
    /// [`StoreError::Conflict`]). The registration that fills the list closes it and disables
    /// every admin token that belongs to nobody.
    #[allow(clippy::too_many_arguments)]
    pub async fn join_formation_with_audit(
        &self,
        formation: &FormationRecord,
        member: &MemberRecord,
        token: &ApiTokenRecord,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        let write = GovernanceWrite::Join {
            formation: &formation.id,
            expected_joined: formation.joined,
            closes: formation.joined + 1 == formation.size,
            member,
            token,
            time_ms,
        };
        self.audited(&[Write::Governance(&write)], event, time_ms)
            .await
    }

    /// Every member, removed ones included, in the order they were added.
    pub async fn members(&self) -> Result<Vec<MemberRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, certificate_der, key_id, added_at, removed_at FROM admin_members \
             ORDER BY added_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(member_from_row).collect()
    }

    /// Record an approval request with its audit record.
    pub async fn request_approval_with_audit(
        &self,
        request: &ApprovalRequestRecord,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        let write = GovernanceWrite::Request(request);
        self.audited(&[Write::Governance(&write)], event, time_ms)
            .await
    }

    /// The approval request `id` and its approvals so far.
    pub async fn approval_request(
        &self,
        id: &str,
    ) -> Result<(ApprovalRequestRecord, Vec<ApprovalRecord>), StoreError> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: format!("approval request {id:?}"),
            })?;
        let request = request_from_row(&row)?;
        let rows = sqlx::query(
            "SELECT request_id, member, signature, approved_at FROM approvals \
             WHERE request_id = $1 ORDER BY approved_at, member",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let approvals = rows
            .iter()
            .map(|r| {
                Ok(ApprovalRecord {
                    request_id: r.try_get("request_id")?,
                    member: r.try_get("member")?,
                    signature: r.try_get("signature")?,
                    approved_at: r.try_get("approved_at")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((request, approvals))
    }

    /// The most recent approval requests (at most `limit`), newest first.
    pub async fn approval_requests(
        &self,
        limit: u32,
    ) -> Result<Vec<ApprovalRequestRecord>, StoreError> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM approval_requests ORDER BY requested_at DESC, id \
             LIMIT {}",
            limit.min(1000)
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(request_from_row).collect()
    }

    /// Record one member's approval, with its audit record; with `execute`, the request
    /// reached its quorum: `effect` is applied and the request closed as executed with
    /// `result`, all in the same transaction. A request not open (or expired) is
    /// [`StoreError::Invalid`]; a member approving twice [`StoreError::Conflict`].
    pub async fn approve_with_audit(
        &self,
        approval: &ApprovalRecord,
        execute: Option<(&Effect, &str)>,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        let write = GovernanceWrite::Approve { approval, execute };
        self.audited(&[Write::Governance(&write)], event, time_ms)
            .await
    }

    /// Close an open request as `cancelled` or `rejected`, with its audit record.
    pub async fn close_approval_request_with_audit(
        &self,
        id: &str,
        status: &str,
        event: AuditEvent,
        time_ms: i64,
    ) -> Result<AuditRecord, StoreError> {
        let write = GovernanceWrite::Close {
            id,
            status,
            time_ms,
        };
        self.audited(&[Write::Governance(&write)], event, time_ms)
            .await
    }
}
