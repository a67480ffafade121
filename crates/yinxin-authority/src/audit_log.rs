//! Reading and verifying the audit log (auditors and administrators).

use yinxin_audit::AuditRecord;

use crate::Authority;
use crate::access::{Actor, Permission};
use crate::error::Result;

/// Records read per store round trip while verifying.
const PAGE: u32 = 5000;

/// The outcome of verifying the whole audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditReport {
    /// Records checked.
    pub records: u64,
    /// The last record's hash (hex), to compare with an earlier export or a witness.
    pub head_hash: Option<String>,
    /// `None` when intact; otherwise what is wrong and where.
    pub problem: Option<String>,
}

impl Authority {
    /// Up to `limit` records from `from_seq` on.
    pub async fn audit_records(
        &self,
        actor: &Actor,
        from_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        actor.require(Permission::ReadAudit)?;
        Ok(self
            .inner
            .store
            .audit_range(from_seq, limit.min(PAGE))
            .await?)
    }

    /// Verify the whole chain from its first record (seq 0, anchored at zeros).
    pub async fn verify_audit(&self, actor: &Actor) -> Result<AuditReport> {
        actor.require(Permission::ReadAudit)?;
        let mut from = 0u64;
        let mut previous: Option<AuditRecord> = None;
        let mut count = 0u64;
        loop {
            let page = self.inner.store.audit_range(from, PAGE).await?;
            let Some(last) = page.last().cloned() else {
                break;
            };
            let checked = match &previous {
                None if page[0].seq != 0 => {
                    Err(yinxin_audit::AuditError::MissingStart { seq: page[0].seq })
                }
                None => yinxin_audit::verify(&page),
                Some(p) if page[0].seq != p.seq + 1 => Err(yinxin_audit::AuditError::Broken {
                    seq: page[0].seq,
                    previous: p.seq,
                }),
                Some(p) => yinxin_audit::verify_from(&page, Some(p.hash)),
            };
            if let Err(e) = checked {
                return Ok(AuditReport {
                    records: count,
                    head_hash: previous.map(|p| hex::encode(p.hash.0)),
                    problem: Some(e.to_string()),
                });
            }
            count += page.len() as u64;
            from = last.seq + 1;
            previous = Some(last);
        }
        Ok(AuditReport {
            records: count,
            head_hash: previous.map(|p| hex::encode(p.hash.0)),
            problem: None,
        })
    }
}
