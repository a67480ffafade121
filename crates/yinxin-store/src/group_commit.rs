//! Group commit for issuance: one writer task takes every issuance waiting at that moment and
//! records them in a single transaction, each inside its own savepoint, with the audit records
//! chained in memory from one read of the log's head.
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

use crate::{
    Attempt, Backend, MAX_ATTEMPTS, NewCertificate, NewEscrow, StoreError, Write, insert_audit_in,
    last_audit_in,
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

/// Record a batch, retrying it whole when another writer took an audit `seq` first.
async fn run(pool: &AnyPool, backend: Backend, batch: Vec<(Job, Reply)>) {
    for _ in 0..MAX_ATTEMPTS {
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
