//! The audit log's rules, with no storage: what an audit record is, how each record is chained
//! to the one before it, how a sequence of records is verified, and the export format.
//!
//! ```text
//!   AuditEvent ──Chain::append(previous, event, time)──▶ AuditRecord { seq, …, prev_hash, hash }
//!   [AuditRecord] ──verify──▶ Ok(VerifiedChain { first, last, head }) | Err(AuditError at seq)
//! ```
//!
//! `hash = SM3(canonical encoding of the record without its hash, including prev_hash)`; the
//! first record's `prev_hash` is all zeros. Removing, inserting, reordering or editing any
//! record breaks every link after it. Persistence (append-only tables, transactions that
//! reserve `seq`) belongs to the store; this crate is pure so auditors can run it anywhere.
//!
//! ```
//! use yinxin_audit::{AuditAction, AuditEvent, AuditRecord, verify};
//! let e = AuditEvent::new("admin", AuditAction::CertificateIssued, "serial 01ab");
//! let first = AuditRecord::append(None, e.clone(), 1_700_000_000_000);
//! let second = AuditRecord::append(Some(&first), e, 1_700_000_000_500);
//! assert_eq!(verify(&[first, second])?.last_seq, 1);
//! # Ok::<(), yinxin_audit::AuditError>(())
//! ```
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use yinxin_crypto::{HashAlgorithm, hash};

/// What happened. Unknown names read from an export are kept as [`AuditAction::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditAction {
    /// A certificate was issued.
    CertificateIssued,
    /// A certificate was revoked (or put on hold, or released).
    CertificateRevoked,
    /// An escrowed key was recovered.
    KeyRecovered,
    /// The key vault was unsealed.
    VaultUnsealed,
    /// A server-side key was used (signing, decryption).
    KeyUsed,
    /// A user logged in (or failed to).
    Login,
    /// A seal was applied to a document.
    SealApplied,
    /// A bid was submitted or opened.
    Bid,
    /// An action this version does not know by name.
    Other(String),
}

impl AuditAction {
    /// The stable name used in exports and hashing.
    pub fn as_str(&self) -> &str {
        match self {
            AuditAction::CertificateIssued => "certificate_issued",
            AuditAction::CertificateRevoked => "certificate_revoked",
            AuditAction::KeyRecovered => "key_recovered",
            AuditAction::VaultUnsealed => "vault_unsealed",
            AuditAction::KeyUsed => "key_used",
            AuditAction::Login => "login",
            AuditAction::SealApplied => "seal_applied",
            AuditAction::Bid => "bid",
            AuditAction::Other(name) => name,
        }
    }

    fn from_name(name: &str) -> Self {
        [
            AuditAction::CertificateIssued,
            AuditAction::CertificateRevoked,
            AuditAction::KeyRecovered,
            AuditAction::VaultUnsealed,
            AuditAction::KeyUsed,
            AuditAction::Login,
            AuditAction::SealApplied,
            AuditAction::Bid,
        ]
        .into_iter()
        .find(|a| a.as_str() == name)
        .unwrap_or_else(|| AuditAction::Other(name.to_string()))
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditAction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(AuditAction::from_name(&name))
    }
}

/// Whether the action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// It was done.
    Success,
    /// It was attempted and refused or failed.
    Failure,
}

/// An event to record, before it has a place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Who did it (user, administrator, or "system").
    pub actor: String,
    /// What was done.
    pub action: AuditAction,
    /// What it was done to (a serial number, a key label, a bid round).
    pub target: String,
    /// Whether it succeeded.
    pub outcome: AuditOutcome,
    /// More facts, by name. Never secrets.
    #[serde(default)]
    pub details: BTreeMap<String, String>,
}

impl AuditEvent {
    /// A successful event with no details.
    pub fn new(actor: impl Into<String>, action: AuditAction, target: impl Into<String>) -> Self {
        AuditEvent {
            actor: actor.into(),
            action,
            target: target.into(),
            outcome: AuditOutcome::Success,
            details: BTreeMap::new(),
        }
    }

    /// Add a detail.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.details.insert(name.into(), value.into());
        self
    }

    /// Mark the event as a failure.
    pub fn failed(mut self) -> Self {
        self.outcome = AuditOutcome::Failure;
        self
    }
}

/// A 32-byte SM3 hash, written as hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChainHash(pub [u8; 32]);

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(self.0))
    }
}

impl Serialize for ChainHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for ChainHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out).map_err(serde::de::Error::custom)?;
        Ok(ChainHash(out))
    }
}

/// A record in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 0, without gaps.
    pub seq: u64,
    /// When, in milliseconds since the Unix epoch (UTC).
    pub time_ms: i64,
    /// The event.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// The previous record's hash (zeros for the first).
    pub prev_hash: ChainHash,
    /// This record's hash.
    pub hash: ChainHash,
}

fn put(buf: &mut Vec<u8>, field: &[u8]) {
    buf.extend_from_slice(&(field.len() as u64).to_be_bytes());
    buf.extend_from_slice(field);
}

impl AuditRecord {
    /// The record that follows `previous` (or starts the chain) for `event` at `time_ms`.
    pub fn append(previous: Option<&AuditRecord>, event: AuditEvent, time_ms: i64) -> Self {
        let (seq, prev_hash) = match previous {
            Some(p) => (p.seq + 1, p.hash),
            None => (0, ChainHash::default()),
        };
        let mut record = AuditRecord {
            seq,
            time_ms,
            event,
            prev_hash,
            hash: ChainHash::default(),
        };
        record.hash = record.compute_hash();
        record
    }

    /// The canonical bytes that are hashed: every field but `hash`, each length-prefixed, in
    /// a fixed order (details sorted by name), so that no two records encode alike.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(256);
        put(&mut b, b"yinxin-audit-v1");
        b.extend_from_slice(&self.seq.to_be_bytes());
        b.extend_from_slice(&self.time_ms.to_be_bytes());
        put(&mut b, self.event.actor.as_bytes());
        put(&mut b, self.event.action.as_str().as_bytes());
        put(&mut b, self.event.target.as_bytes());
        put(
            &mut b,
            match self.event.outcome {
                AuditOutcome::Success => b"success",
                AuditOutcome::Failure => b"failure",
            },
        );
        b.extend_from_slice(&(self.event.details.len() as u64).to_be_bytes());
        for (k, v) in &self.event.details {
            put(&mut b, k.as_bytes());
            put(&mut b, v.as_bytes());
        }
        b.extend_from_slice(&self.prev_hash.0);
        b
    }

    fn compute_hash(&self) -> ChainHash {
        let d = hash::digest(HashAlgorithm::Sm3, &self.canonical_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(&d);
        ChainHash(out)
    }
}

/// Why a chain does not verify, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A record's hash is not the hash of its contents: it was edited.
    #[error("record {seq} was altered: its hash does not match its contents")]
    Altered {
        /// The record.
        seq: u64,
    },
    /// A record does not point at the one before it: records were removed, inserted or
    /// reordered.
    #[error("record {seq} does not follow record {previous}: the chain is broken there")]
    Broken {
        /// The record.
        seq: u64,
        /// The record before it in the input.
        previous: u64,
    },
    /// The first record claims a predecessor that the input does not hold.
    #[error("the chain starts at record {seq}, whose predecessor is not given")]
    MissingStart {
        /// The first record given.
        seq: u64,
    },
    /// A line of an export could not be read.
    #[error("export line {line}: {reason}")]
    Format {
        /// 1-based line number.
        line: usize,
        /// Why.
        reason: String,
    },
}

/// A verified run of records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedChain {
    /// The first record's sequence number.
    pub first_seq: u64,
    /// The last record's sequence number.
    pub last_seq: u64,
    /// The last record's hash: publish or sign it to anchor the log.
    pub head: ChainHash,
}

/// Verify records in order. A chain that starts at 0 must start from zeros; a partial chain
/// (an export from `seq` onwards) is verified from its first record, anchored by
/// `trusted_prev` if given.
pub fn verify_from(
    records: &[AuditRecord],
    trusted_prev: Option<ChainHash>,
) -> Result<VerifiedChain, AuditError> {
    let Some(first) = records.first() else {
        return Ok(VerifiedChain {
            first_seq: 0,
            last_seq: 0,
            head: ChainHash::default(),
        });
    };
    // A partial chain without an anchor is still checked link by link from its first record.
    let expected_start = if first.seq == 0 {
        Some(ChainHash::default())
    } else {
        trusted_prev
    };
    if let Some(h) = expected_start
        && h != first.prev_hash
    {
        return Err(AuditError::MissingStart { seq: first.seq });
    }
    let mut previous: Option<&AuditRecord> = None;
    for r in records {
        if r.compute_hash() != r.hash {
            return Err(AuditError::Altered { seq: r.seq });
        }
        if let Some(p) = previous
            && (r.seq != p.seq + 1 || r.prev_hash != p.hash)
        {
            return Err(AuditError::Broken {
                seq: r.seq,
                previous: p.seq,
            });
        }
        previous = Some(r);
    }
    let last = previous.unwrap_or(first);
    Ok(VerifiedChain {
        first_seq: first.seq,
        last_seq: last.seq,
        head: last.hash,
    })
}

/// Verify a whole chain from its first record.
pub fn verify(records: &[AuditRecord]) -> Result<VerifiedChain, AuditError> {
    verify_from(records, None)
}

/// The export format: one JSON record per line.
pub fn export_jsonl(records: &[AuditRecord]) -> String {
    let mut out = String::new();
    for r in records {
        // Records hold only strings, numbers and maps of strings: serialising cannot fail.
        out.push_str(&serde_json::to_string(r).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// Read an export written by [`export_jsonl`] (blank lines are skipped).
pub fn import_jsonl(text: &str) -> Result<Vec<AuditRecord>, AuditError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| AuditError::Format {
                line: i + 1,
                reason: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let e = AuditEvent::new(
                "ra-operator",
                AuditAction::CertificateIssued,
                format!("serial {i:04x}"),
            )
            .with("profile", "organisation");
            let r = AuditRecord::append(out.last(), e, 1_700_000_000_000 + i as i64);
            out.push(r);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies_and_exports() {
        let c = chain(10);
        let v = verify(&c).unwrap();
        assert_eq!((v.first_seq, v.last_seq, v.head), (0, 9, c[9].hash));
        let text = export_jsonl(&c);
        assert_eq!(import_jsonl(&text).unwrap(), c);
        assert!(verify_from(&c[4..], Some(c[3].hash)).is_ok());
        assert!(matches!(
            verify_from(&c[4..], Some(c[2].hash)),
            Err(AuditError::MissingStart { seq: 4 })
        ));
    }

    #[test]
    fn edits_removals_insertions_and_reorders_are_found() {
        let c = chain(6);
        let mut edited = c.clone();
        edited[3].event.target = "serial ffff".into();
        assert_eq!(verify(&edited), Err(AuditError::Altered { seq: 3 }));
        let mut edited = c.clone();
        edited[2]
            .event
            .details
            .insert("profile".into(), "server".into());
        assert_eq!(verify(&edited), Err(AuditError::Altered { seq: 2 }));
        let mut removed = c.clone();
        removed.remove(2);
        assert!(matches!(
            verify(&removed),
            Err(AuditError::Broken {
                seq: 3,
                previous: 1
            })
        ));
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        assert!(verify(&swapped).is_err());
        // A forged record with a recomputed hash still breaks the next link.
        let mut forged = c.clone();
        forged[2].event.actor = "mallory".into();
        forged[2].hash = forged[2].compute_hash();
        assert!(matches!(
            verify(&forged),
            Err(AuditError::Broken { seq: 3, .. })
        ));
        let mut dropped_head = c.clone();
        dropped_head.remove(0);
        dropped_head[0].seq = 0;
        assert!(verify(&dropped_head).is_err());
    }

    #[test]
    fn unknown_actions_survive_a_round_trip() {
        let e = AuditEvent::new("system", AuditAction::Other("future_action".into()), "x");
        let r = AuditRecord::append(None, e, 0);
        let back = import_jsonl(&export_jsonl(std::slice::from_ref(&r))).unwrap();
        assert_eq!(
            back[0].event.action,
            AuditAction::Other("future_action".into())
        );
        assert!(verify(&back).is_ok());
        assert!(matches!(
            import_jsonl("{not json"),
            Err(AuditError::Format { line: 1, .. })
        ));
    }
}
