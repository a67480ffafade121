//! Group commit for issuance: one writer task takes every issuance waiting at that moment and
//! records them in a single transaction: all certificates in one multi-row INSERT and all audit
//! records (chained in memory from one read of the log's head) in another. If a certificate is
//! refused (a duplicate serial), the batch is redone with a savepoint per issuance so that one
//! fails alone.
//!
//! Why: SQLite has one writer at a time, and each transaction through sqlx costs several round
//! trips to its connection thread; one issuance per transaction capped the CA near 3,000
//! certificates/s whatever the CPU (BENCHMARKS.md). Batching keeps every guarantee of
//! [`Store::issue_with_audit`](crate::Store::issue_with_audit):
//!
//! * a caller hears back only after the transaction holding its certificate has committed;
//! * one issuance failing (a duplicate serial) rolls back to its savepoint and fails alone;
//! * another node taking the same audit `seq` first makes the whole batch retry, so the chain
//!   stays gap-free on PostgreSQL with several nodes.

use sqlx::{AnyConnection, AnyPool, Transaction};
use tokio::sync::{mpsc, oneshot};
use yinxin_audit::{AuditEvent, AuditRecord};

use sqlx::AssertSqlSafe;

use crate::{
    Attempt, Backend, MAX_ATTEMPTS, NewCertificate, NewEscrow, StoreError, Write, insert_audit_in,
    is_foreign_key_violation, is_unique_violation, last_audit_in, outcome_str,
};

/// The most issuances one transaction records.
const MAX_BATCH: usize = 256;

/// One issuance to record.
pub(crate) struct Job {
    pub(crate) certificates: Vec<NewCertificate>,
    pub(crate) escrows: Vec<NewEscrow>,
    pub(crate) event: AuditEvent,
    pub(crate) time_ms: i64,
}

type Reply = oneshot::Sender<Result<AuditRecord, StoreError>>;

/// The handle to the writer task.
#[derive(Debug, Clone)]
pub(crate) struct Sender(mpsc::UnboundedSender<(Job, Reply)>);

impl Sender {
    /// Record `job` with whatever else is waiting. `Err(job)` hands it back when the writer is
    /// gone (the runtime it ran on has ended); the caller then records it alone.
    pub(crate) async fn submit(&self, job: Job) -> Result<Result<AuditRecord, StoreError>, Job> {
        let (tx, rx) = oneshot::channel();
        if let Err(mpsc::error::SendError((job, _))) = self.0.send((job, tx)) {
            return Err(job);
        }
        // A dropped reply means the writer stopped mid-batch (runtime shutdown); whether that
        // batch committed is unknown, so say so rather than guess.
        Ok(rx.await.unwrap_or_else(|_| {
            Err(StoreError::Backend(
                "the store's writer stopped before answering".into(),
            ))
        }))
    }
}

/// Start the writer on the current tokio runtime.
pub(crate) fn spawn(pool: AnyPool, backend: Backend) -> Sender {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Job, Reply)>();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            run(&pool, backend, batch).await;
        }
    });
    Sender(tx)
}

async fn begin(
    pool: &AnyPool,
    backend: Backend,
) -> Result<Transaction<'static, sqlx::Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

/// Apply one job's writes; the caller wraps them in a savepoint.
async fn apply(conn: &mut AnyConnection, job: &Job) -> Result<(), Attempt> {
    for cert in &job.certificates {
        Write::Certificate(cert).apply(conn).await?;
    }
    for escrow in &job.escrows {
        Write::Escrow(escrow).apply(conn).await?;
    }
    Ok(())
}

/// `($1, …, $n<suffix>), (…)` for `rows` rows of `columns` parameters each.
fn values(rows: usize, columns: usize, suffix: &str) -> String {
    (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({}{suffix})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The fast path: every certificate of the batch in one INSERT, every audit record in a
/// second, so a batch costs four round trips however large it is. `Ok(None)` when a
/// certificate was refused (duplicate serial, unknown CA): the transaction is then unusable
/// and the batch goes the savepoint way to find out which.
async fn fast(
    pool: &AnyPool,
    backend: Backend,
    batch: &[(Job, Reply)],
) -> Result<Option<Vec<AuditRecord>>, Attempt> {
    let mut tx = begin(pool, backend).await?;
    let mut last = last_audit_in(&mut tx).await?;
    let certs: Vec<&NewCertificate> = batch.iter().flat_map(|(j, _)| &j.certificates).collect();
    if !certs.is_empty() {
        let sql = format!(
            "INSERT INTO certificates (ca, serial, subject, organisation, profile, not_before, \
             not_after, der, requested_by, platform, status) VALUES {}",
            values(certs.len(), 10, ", 'valid'")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for c in &certs {
            q = q
                .bind(c.ca.clone())
                .bind(c.serial.clone())
                .bind(c.subject.clone())
                .bind(c.organisation.clone())
                .bind(c.profile.clone())
                .bind(c.not_before)
                .bind(c.not_after)
                .bind(c.der.clone())
                .bind(c.requested_by.clone())
                .bind(i64::from(c.platform));
        }
        match q.execute(&mut *tx).await {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) || is_foreign_key_violation(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
    let mut records = Vec::with_capacity(batch.len());
    for (job, _) in batch {
        let record = AuditRecord::append(last.as_ref(), job.event.clone(), job.time_ms);
        last = Some(record.clone());
        records.push(record);
    }
    let sql = format!(
        "INSERT INTO audit_log (seq, time_ms, actor, action, target, outcome, details, \
         prev_hash, hash) VALUES {}",
        values(records.len(), 9, "")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for r in &records {
        let seq = i64::try_from(r.seq).map_err(|_| crate::corrupt("audit seq overflow"))?;
        let details = serde_json::to_string(&r.event.details).map_err(|e| StoreError::Invalid {
            what: e.to_string(),
        })?;
        q = q
            .bind(seq)
            .bind(r.time_ms)
            .bind(r.event.actor.clone())
            .bind(r.event.action.as_str().to_string())
            .bind(r.event.target.clone())
            .bind(outcome_str(r.event.outcome))
            .bind(details)
            .bind(r.prev_hash.0.to_vec())
            .bind(r.hash.0.to_vec());
    }
    // A taken seq (another node appended first) is Attempt::Retry.
    q.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Some(records))
}

/// Record a batch, retrying it whole when another writer took an audit `seq` first.
async fn run(pool: &AnyPool, backend: Backend, batch: Vec<(Job, Reply)>) {
    let simple = batch.iter().all(|(j, _)| j.escrows.is_empty());
    for _ in 0..MAX_ATTEMPTS {
        if simple {
            match fast(pool, backend, &batch).await {
                Ok(Some(records)) => {
                    for ((_, reply), record) in batch.into_iter().zip(records) {
                        let _ = reply.send(Ok(record));
                    }
                    return;
                }
                Ok(None) => {}
                Err(Attempt::Retry) => {
                    tokio::task::yield_now().await;
                    continue;
                }
                Err(Attempt::Fail(e)) => {
                    for (_, reply) in batch {
                        let _ = reply.send(Err(e.clone()));
                    }
                    return;
                }
            }
        }
        let attempt: Result<Vec<Result<AuditRecord, StoreError>>, Attempt> = async {
            let mut tx = begin(pool, backend).await?;
            let mut last = last_audit_in(&mut tx).await?;
            let mut outcomes = Vec::with_capacity(batch.len());
            for (job, _) in &batch {
                sqlx::query("SAVEPOINT issuance").execute(&mut *tx).await?;
                match apply(&mut tx, job).await {
                    Ok(()) => {
                        let record =
                            AuditRecord::append(last.as_ref(), job.event.clone(), job.time_ms);
                        insert_audit_in(&mut tx, &record).await?;
                        sqlx::query("RELEASE SAVEPOINT issuance")
                            .execute(&mut *tx)
                            .await?;
                        last = Some(record.clone());
                        outcomes.push(Ok(record));
                    }
                    Err(Attempt::Fail(e)) => {
                        sqlx::query("ROLLBACK TO SAVEPOINT issuance")
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("RELEASE SAVEPOINT issuance")
                            .execute(&mut *tx)
                            .await?;
                        outcomes.push(Err(e));
                    }
                    Err(Attempt::Retry) => return Err(Attempt::Retry),
                }
            }
            tx.commit().await?;
            Ok(outcomes)
        }
        .await;
        match attempt {
            Ok(outcomes) => {
                for ((_, reply), outcome) in batch.into_iter().zip(outcomes) {
                    // The caller may have gone (client disconnected); the record stands.
                    let _ = reply.send(outcome);
                }
                return;
            }
            Err(Attempt::Fail(e)) => {
                for (_, reply) in batch {
                    let _ = reply.send(Err(e.clone()));
                }
                return;
            }
            Err(Attempt::Retry) => tokio::task::yield_now().await,
        }
    }
    for (_, reply) in batch {
        let _ = reply.send(Err(StoreError::Conflict {
            what: "audit sequence number (too much contention)".into(),
        }));
    }
}
