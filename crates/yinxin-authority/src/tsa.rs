//! The RFC 3161 time-stamping authority: which key stamps, the clock it trusts, and serial
//! numbers that are unique across restarts and across nodes on one database.
//!
//! ```text
//!   Authority::timestamp(key?, DER)      never fails: always a TimeStampResp
//!     ├─ TimestampRequest::decode        badRequest / badDataFormat / badAlg / …
//!     ├─ key: explicit, else SM3 → SM2 TSA, SHA-2 → RSA TSA
//!     ├─ ClockMonitor::check             timeNotAvailable while the clock is unhealthy
//!     ├─ Authority::unsealed             systemFailure while the vault is sealed
//!     ├─ SerialPool::next                a serial from this node's leased block (memory)
//!     └─ SigningPool: TimestampSigner::respond      the signature, on one signing thread per
//!                                                   core, off the async workers
//! ```
//!
//! # Serial numbers
//!
//! Each node leases a block of [`TsaConfig::serial_block`] serials from the store's `tsa`
//! counter (`Store::lease_serials_with_audit`: one `UPDATE … SET next = next + block
//! RETURNING`, so blocks of different nodes never overlap) and hands them out from memory.
//! When half of the block is used, the next block is leased in the background, so requests do
//! not wait for the database. A block is never reused: a restart forgets the rest of its
//! block, and the counter only grows.
//!
//! Each *lease* is audited (`tsa_serials_leased`, with the range), not each timestamp: an
//! audit record per token would put a database transaction (and its fsync) on every request,
//! capping the TSA at the database's commit rate and filling the audit log with tokens whose
//! own signature is already the evidence. The lease record proves which node was given which
//! serials before any token with them left it, which is what an auditor needs to attribute a
//! token; the serial is reserved (committed) before the token is signed.
//!
//! # Clock health
//!
//! A [`ClockMonitor`] per node compares the wall clock (which `genTime` comes from) with the
//! monotonic clock on every request and at least once a second in the background. A jump of
//! more than [`TsaConfig::clock_tolerance`] (an NTP step, an operator's `date -s`, a VM resumed
//! after a pause) marks the clock unhealthy, with the size of the jump as the reason; so does
//! an operator (`PUT /api/v1/tsa/clock`). While unhealthy every request is refused with
//! `timeNotAvailable` and that reason. The monitor does **not** recover by itself: after a
//! jump only a person can tell whether the new time is right, so an administrator marks it
//! healthy again (audited). The state is per node: with several nodes, mark each one.
//!
//! A sealed vault is refused with `systemFailure` (RFC 3161: "the request cannot be handled
//! due to system failure"): the time source is fine, the keys are not available.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use const_oid::ObjectIdentifier;
use yinxin_audit::{AuditAction, AuditEvent};
use yinxin_cms::timestamp::{
    Accuracy, FailureInfo, Rejection, TimestampRequest, TimestampSigner, TsaPolicy,
};
use yinxin_crypto::HashAlgorithm;

use crate::access::{Actor, Permission};
use crate::error::{AuthorityError, Result};
use crate::{Authority, now_ms};

/// The default TSA policy, `1.3.6.1.4.1.32473.3161.1`: under IANA's enterprise number 32473,
/// which RFC 5612 reserves for documentation and examples, so it can never collide with a
/// real policy. A deployment names its own policy OID with `--tsa-policy`.
pub const DEFAULT_TSA_POLICY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.3161.1");

/// The audit action of a serial-number lease.
pub const SERIALS_LEASED: &str = "tsa_serials_leased";

/// Which of the platform's TSA keys stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TsaKey {
    /// SM2 with SM3 (issued by `sm2-issuing`).
    Sm2,
    /// RSA-2048, PKCS#1 v1.5 with SHA-256 (issued by `rsa-issuing`).
    Rsa,
    /// ECDSA P-256 with SHA-256 (issued by `rsa-issuing`).
    Ecdsa,
}

impl TsaKey {
    /// Every TSA key.
    pub const ALL: [TsaKey; 3] = [TsaKey::Sm2, TsaKey::Rsa, TsaKey::Ecdsa];

    /// `sm2`, `rsa` or `ecdsa` (the `/tsa/{key}` path segment).
    pub fn as_str(self) -> &'static str {
        match self {
            TsaKey::Sm2 => "sm2",
            TsaKey::Rsa => "rsa",
            TsaKey::Ecdsa => "ecdsa",
        }
    }

    /// The key that stamps a request for an imprint made with `hash` when the client did not
    /// choose: SM3 → SM2, SHA-2 → RSA.
    pub fn for_hash(hash: HashAlgorithm) -> TsaKey {
        match hash {
            HashAlgorithm::Sm3 => TsaKey::Sm2,
            _ => TsaKey::Rsa,
        }
    }

    /// The service identity that holds this key.
    pub(crate) fn identity(self) -> crate::setup::ServiceName {
        match self {
            TsaKey::Sm2 => crate::setup::ServiceName::TsaSm2,
            TsaKey::Rsa => crate::setup::ServiceName::TsaRsa,
            TsaKey::Ecdsa => crate::setup::ServiceName::TsaEcdsa,
        }
    }
}

impl fmt::Display for TsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TsaKey {
    type Err = AuthorityError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "sm2" => Ok(TsaKey::Sm2),
            "rsa" => Ok(TsaKey::Rsa),
            "ecdsa" | "ec" | "p256" | "ec-p256" => Ok(TsaKey::Ecdsa),
            other => Err(AuthorityError::NotFound(format!(
                "TSA key {other:?} (sm2, rsa, ecdsa)"
            ))),
        }
    }
}

/// How the TSA stamps; part of [`AuthorityConfig`](crate::AuthorityConfig).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsaConfig {
    /// The policy OID in every token; requests asking for another are refused
    /// (`unacceptedPolicy`). Default [`DEFAULT_TSA_POLICY`].
    pub policy: ObjectIdentifier,
    /// The accuracy claimed in tokens (default one second); finer than a second, `genTime`
    /// carries a fraction.
    pub accuracy: Option<Accuracy>,
    /// A wall-clock jump against the monotonic clock larger than this marks the clock
    /// unhealthy (default one second).
    pub clock_tolerance: Duration,
    /// Serials leased from the store at once per node (default 4096).
    pub serial_block: u64,
}

impl Default for TsaConfig {
    fn default() -> Self {
        TsaConfig {
            policy: DEFAULT_TSA_POLICY,
            accuracy: Some(Accuracy {
                seconds: 1,
                millis: 0,
                micros: 0,
            }),
            clock_tolerance: Duration::from_secs(1),
            serial_block: 4096,
        }
    }
}

impl TsaConfig {
    /// The token policy the signers use.
    pub(crate) fn tsa_policy(&self) -> TsaPolicy {
        let mut policy = TsaPolicy::new(self.policy);
        policy.accuracy = self.accuracy;
        policy
    }
}

/// Parse an accuracy given in seconds as a decimal (`1`, `0.5`, `0.000250`) to whole seconds,
/// milliseconds and microseconds; `0` means no accuracy is claimed.
pub fn parse_accuracy(text: &str) -> Result<Option<Accuracy>> {
    let bad = || {
        AuthorityError::bad(
            "bad-accuracy",
            format!(
                "accuracy {text:?} is not a number of seconds with at most 6 decimals, e.g. 1, \
                 0.5 or 0.000250"
            ),
        )
    };
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || fraction.len() > 6
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let seconds: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let micros_total: u32 = format!("{fraction:0<6}").parse().map_err(|_| bad())?;
    let accuracy = Accuracy {
        seconds,
        millis: u16::try_from(micros_total / 1000).map_err(|_| bad())?,
        micros: u16::try_from(micros_total % 1000).map_err(|_| bad())?,
    };
    Ok((accuracy != Accuracy::default()).then_some(accuracy))
}

/// Whether this node's clock may be used for timestamps, and why not.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClockHealth {
    /// Whether timestamps are granted.
    pub healthy: bool,
    /// Why the clock was last marked (by an operator, or the jump seen).
    pub reason: Option<String>,
    /// When it was last marked, ms since the epoch.
    pub since_ms: i64,
    /// Who marked it: an operator (`name#id`) or `system`.
    pub by: String,
}

struct ClockState {
    /// The last time both clocks were read together.
    mono: Instant,
    wall: SystemTime,
    health: ClockHealth,
}

/// What one clock check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ClockReading {
    /// The clock is healthy; this is the time to stamp.
    Healthy(SystemTime),
    /// The clock is unhealthy; `newly` if this very check found the jump.
    Unhealthy {
        /// Why.
        reason: String,
        /// Whether this check marked it.
        newly: bool,
    },
}

/// Watches the wall clock against the monotonic clock and keeps the operator's verdict (see
/// the module documentation).
pub struct ClockMonitor {
    tolerance: Duration,
    state: Mutex<ClockState>,
}

impl fmt::Debug for ClockMonitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClockMonitor")
            .field("tolerance", &self.tolerance)
            .field("health", &self.health())
            .finish()
    }
}

impl ClockMonitor {
    /// A healthy monitor that tolerates jumps up to `tolerance`.
    pub fn new(tolerance: Duration) -> ClockMonitor {
        ClockMonitor::starting_at(tolerance, Instant::now(), SystemTime::now())
    }

    fn starting_at(tolerance: Duration, mono: Instant, wall: SystemTime) -> ClockMonitor {
        ClockMonitor {
            tolerance,
            state: Mutex::new(ClockState {
                mono,
                wall,
                health: ClockHealth {
                    healthy: true,
                    reason: None,
                    since_ms: crate::ms(wall),
                    by: "system".into(),
                },
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // Every update leaves the state whole, so a poisoned lock is still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current verdict.
    pub fn health(&self) -> ClockHealth {
        self.lock().health.clone()
    }

    /// Read both clocks now and compare them with the last reading.
    pub(crate) fn check(&self) -> ClockReading {
        self.check_at(Instant::now(), SystemTime::now())
    }

    fn check_at(&self, mono: Instant, wall: SystemTime) -> ClockReading {
        let mut s = self.lock();
        let expected = s.wall + mono.saturating_duration_since(s.mono);
        let (jump, forward) = match wall.duration_since(expected) {
            Ok(ahead) => (ahead, true),
            Err(e) => (e.duration(), false),
        };
        s.mono = mono;
        s.wall = wall;
        let mut newly = false;
        if jump > self.tolerance && s.health.healthy {
            newly = true;
            s.health = ClockHealth {
                healthy: false,
                reason: Some(format!(
                    "the wall clock jumped {} by {} ms against the monotonic clock (tolerance \
                     {} ms); an administrator must check the time and mark the clock healthy",
                    if forward { "forward" } else { "back" },
                    jump.as_millis(),
                    self.tolerance.as_millis()
                )),
                since_ms: crate::ms(wall),
                by: "system".into(),
            };
        }
        if s.health.healthy {
            ClockReading::Healthy(wall)
        } else {
            ClockReading::Unhealthy {
                reason: s
                    .health
                    .reason
                    .clone()
                    .unwrap_or_else(|| "the clock is marked unhealthy".into()),
                newly,
            }
        }
    }

    /// Mark the clock healthy or not, as `by` says, for `reason`.
    pub(crate) fn set(&self, healthy: bool, reason: Option<String>, by: String) -> ClockHealth {
        let mut s = self.lock();
        s.mono = Instant::now();
        s.wall = SystemTime::now();
        s.health = ClockHealth {
            healthy,
            reason,
            since_ms: crate::ms(s.wall),
            by,
        };
        s.health.clone()
    }
}

#[derive(Debug, Default)]
struct Blocks {
    /// The block serials are taken from: `next..end`.
    next: u64,
    end: u64,
    /// The block leased ahead, used when the current one runs out.
    spare: Option<(u64, u64)>,
}

/// This node's serials: a leased block in memory and the next one leased ahead.
#[derive(Debug)]
pub(crate) struct SerialPool {
    blocks: Mutex<Blocks>,
    /// One lease at a time per node.
    lease_lock: tokio::sync::Mutex<()>,
    /// A background lease is under way.
    leasing_ahead: AtomicBool,
    block: u64,
}

impl SerialPool {
    pub(crate) fn new(block: u64) -> SerialPool {
        SerialPool {
            blocks: Mutex::new(Blocks::default()),
            lease_lock: tokio::sync::Mutex::new(()),
            leasing_ahead: AtomicBool::new(false),
            block: block.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Blocks> {
        self.blocks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A serial from memory, if any, and whether the next block should be leased now.
    fn take(&self) -> (Option<u64>, bool) {
        let mut b = self.lock();
        if b.next >= b.end
            && let Some((first, end)) = b.spare.take()
        {
            b.next = first;
            b.end = end;
        }
        let serial = (b.next < b.end).then(|| {
            b.next += 1;
            b.next - 1
        });
        let low = b.end.saturating_sub(b.next) < self.block / 2;
        (serial, serial.is_some() && low && b.spare.is_none())
    }

    /// Lease a block (unless another caller did meanwhile) and keep it.
    async fn lease(&self, authority: &Authority) -> Result<()> {
        let _one = self.lease_lock.lock().await;
        {
            let b = self.lock();
            if b.spare.is_some() || (b.next < b.end && b.end - b.next >= self.block / 2) {
                return Ok(());
            }
        }
        let (lease, _) = authority
            .inner
            .store
            .lease_serials_with_audit(
                "tsa",
                self.block,
                |l| {
                    AuditEvent::new("system", AuditAction::Other(SERIALS_LEASED.into()), "tsa")
                        .with("first", l.first.to_string())
                        .with("last", (l.end - 1).to_string())
                        .with("node", authority.node_name())
                },
                now_ms(),
            )
            .await?;
        let mut b = self.lock();
        if b.next >= b.end {
            b.next = lease.first;
            b.end = lease.end;
        } else {
            b.spare = Some((lease.first, lease.end));
        }
        Ok(())
    }

    /// The next serial of this node.
    pub(crate) async fn next(&self, authority: &Authority) -> Result<u64> {
        for _ in 0..8 {
            let (serial, ahead) = self.take();
            if ahead && !self.leasing_ahead.swap(true, Ordering::AcqRel) {
                let a = authority.clone();
                tokio::spawn(async move {
                    if let Err(e) = a.inner.tsa_serials.lease(&a).await {
                        tracing::warn!("leasing TSA serials ahead: {e}");
                    }
                    a.inner
                        .tsa_serials
                        .leasing_ahead
                        .store(false, Ordering::Release);
                });
            }
            if let Some(s) = serial {
                return Ok(s);
            }
            self.lease(authority).await?;
        }
        Err(AuthorityError::internal(
            "no TSA serials available (leases are used up faster than made)",
        ))
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of signing threads (one per core) fed by a queue: timestamps are signed here,
/// off the async workers. Measured against `tokio::task::spawn_blocking` with 32 clients over
/// HTTP on 2 cores (bench-server, release build, loaded machine): ECDSA P-256 10,900–13,000/s
/// against 8,800–10,300/s, SM2 9,950–10,100/s against 9,080–9,180/s, RSA-2048 equal within
/// noise. tokio's blocking pool starts a thread per waiting job (32 here), which then compete
/// for the two cores; a fixed pool does not oversubscribe. The threads end when the
/// authority is dropped.
pub(crate) struct SigningPool {
    queue: Mutex<std::sync::mpsc::Sender<Job>>,
}

impl fmt::Debug for SigningPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningPool")
    }
}

impl SigningPool {
    pub(crate) fn new(threads: usize) -> SigningPool {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("yinxin-tsa-{i}"))
                .spawn(move || {
                    loop {
                        let job = {
                            let queue =
                                rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                            match queue.recv() {
                                Ok(job) => job,
                                Err(_) => return,
                            }
                        };
                        job();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!("starting a TSA signing thread: {e}");
            }
        }
        SigningPool {
            queue: Mutex::new(tx),
        }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .ok()?;
        rx.await.ok()
    }
}

/// The TSA signers of an unsealed vault.
pub(crate) type Signers = BTreeMap<TsaKey, Arc<TimestampSigner>>;

/// One TSA key as `GET /api/v1/tsa` shows it.
#[derive(Debug, Clone)]
pub struct TsaKeyInfo {
    /// Which key.
    pub key: TsaKey,
    /// Its algorithm, e.g. `SM2`, `RSA-2048`, `ECDSA P-256`.
    pub algorithm: String,
    /// Its certificate, DER.
    pub certificate: Vec<u8>,
    /// The CA certificates above it, issuing CA first, root last, DER.
    pub chain: Vec<Vec<u8>>,
}

/// What anyone may know about the TSA.
#[derive(Debug, Clone)]
pub struct TsaInfo {
    /// The policy OID of every token.
    pub policy: ObjectIdentifier,
    /// The accuracy claimed.
    pub accuracy: Option<Accuracy>,
    /// This node's clock.
    pub clock: ClockHealth,
    /// Whether the vault is sealed (nothing is stamped then).
    pub sealed: bool,
    /// The keys (empty before the first unseal of a data directory of an older version).
    pub keys: Vec<TsaKeyInfo>,
}

impl Authority {
    /// Answer an RFC 3161 `TimeStampReq` (DER) with a `TimeStampResp` (DER). Never fails:
    /// a bad request, an unhealthy clock, a sealed vault or a store failure is a response with
    /// status `rejection` and the matching `failInfo` and `statusString` (module docs). `key`
    /// chooses the TSA key; `None` takes it from the imprint's hash (SM3 → SM2, else RSA).
    pub async fn timestamp(&self, key: Option<TsaKey>, request: &[u8]) -> Vec<u8> {
        match self.try_timestamp(key, request).await {
            Ok(der) => der,
            Err(rejection) => rejection.to_response_der(),
        }
    }

    async fn try_timestamp(
        &self,
        key: Option<TsaKey>,
        request: &[u8],
    ) -> std::result::Result<Vec<u8>, Rejection> {
        let request = TimestampRequest::decode(request)?;
        let key = key.unwrap_or_else(|| TsaKey::for_hash(request.hash()));
        if let ClockReading::Unhealthy { reason, newly } = self.inner.clock.check() {
            if newly {
                self.audit_clock_jump(&reason);
            }
            return Err(Rejection::new(FailureInfo::TimeNotAvailable, reason));
        }
        let signer = self
            .tsa_signer(key)
            .map_err(|e| Rejection::new(FailureInfo::SystemFailure, e.to_string()))?;
        let serial = self.inner.tsa_serials.next(self).await.map_err(|e| {
            tracing::error!("TSA serials: {e}");
            Rejection::new(
                FailureInfo::SystemFailure,
                "no serial number available; see the server log",
            )
        })?;
        // Read the clock after the serial: a lease may have waited for the database.
        let gen_time = match self.inner.clock.check() {
            ClockReading::Healthy(t) => t,
            ClockReading::Unhealthy { reason, newly } => {
                if newly {
                    self.audit_clock_jump(&reason);
                }
                return Err(Rejection::new(FailureInfo::TimeNotAvailable, reason));
            }
        };
        let work = move || signer.respond(&request, u128::from(serial), gen_time);
        self.inner.tsa_pool.run(work).await.unwrap_or_else(|| {
            tracing::error!("TSA signing task failed");
            Err(Rejection::new(
                FailureInfo::SystemFailure,
                "signing failed; see the server log",
            ))
        })
    }

    fn audit_clock_jump(&self, reason: &str) {
        tracing::error!("TSA clock marked unhealthy: {reason}");
        let store = self.inner.store.clone();
        let event = AuditEvent::new(
            "system",
            AuditAction::Other("tsa_clock_marked".into()),
            format!("tsa/clock/{}", self.node_name()),
        )
        .with("healthy", "false")
        .with("reason", reason)
        .failed();
        tokio::spawn(async move {
            if let Err(e) = store.append_audit(event, now_ms()).await {
                tracing::warn!("auditing the clock jump: {e}");
            }
        });
    }

    /// The timestamp signer of `key` (needs the vault unsealed).
    pub fn tsa_signer(&self, key: TsaKey) -> Result<Arc<TimestampSigner>> {
        self.unsealed()?.tsa.get(&key).cloned().ok_or_else(|| {
            AuthorityError::NotFound(format!(
                "TSA key {key} (its certificate is revoked or on hold, or it was never made: \
                     an administrator runs `yinxin admin replace-service {}`)",
                key.identity().name()
            ))
        })
    }

    /// This node's clock verdict.
    pub fn clock_health(&self) -> ClockHealth {
        self.inner.clock.health()
    }

    /// Mark this node's TSA clock healthy or unhealthy (administrators; audited as
    /// `tsa_clock_marked`). Marking it healthy is the only way back after a detected jump.
    pub async fn set_clock_health(
        &self,
        actor: &Actor,
        healthy: bool,
        reason: Option<&str>,
    ) -> Result<ClockHealth> {
        actor.require(Permission::Administer)?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.len() > 1000) {
            return Err(AuthorityError::bad(
                "bad-reason",
                "the reason is at most 1000 bytes",
            ));
        }
        let mut event = AuditEvent::new(
            actor.audit_name(),
            AuditAction::Other("tsa_clock_marked".into()),
            format!("tsa/clock/{}", self.node_name()),
        )
        .with("healthy", healthy.to_string());
        if let Some(r) = reason {
            event = event.with("reason", r);
        }
        // Audited first: a change nobody can trace does not happen.
        self.inner.store.append_audit(event, now_ms()).await?;
        Ok(self
            .inner
            .clock
            .set(healthy, reason.map(str::to_string), actor.audit_name()))
    }

    /// The TSA's policy, accuracy, keys and this node's clock (anyone may know).
    pub async fn tsa_info(&self) -> Result<TsaInfo> {
        let tsa = &self.inner.config.tsa;
        let mut keys = Vec::new();
        let records = self.inner.store.service_keys().await?;
        for key in TsaKey::ALL {
            let Some(record) = records.iter().find(|r| r.name == key.identity().name()) else {
                continue;
            };
            let certificate = yinxin_pki::certificate::from_pem_or_der(&record.certificate_der)
                .map_err(AuthorityError::internal)?;
            let algorithm = yinxin_pki::certificate::public_key(&certificate)
                .map_err(AuthorityError::internal)?
                .algorithm()
                .to_string();
            keys.push(TsaKeyInfo {
                key,
                algorithm,
                certificate: record.certificate_der.clone(),
                chain: self.chain_of(&record.ca)?,
            });
        }
        Ok(TsaInfo {
            policy: tsa.policy,
            accuracy: tsa.accuracy,
            clock: self.clock_health(),
            sealed: self.vault_status().sealed,
            keys,
        })
    }

    /// Check the clock once (the background task calls this every second).
    pub(crate) fn watch_clock(&self) {
        if let ClockReading::Unhealthy {
            reason,
            newly: true,
        } = self.inner.clock.check()
        {
            self.audit_clock_jump(&reason);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn accuracy_parses_seconds_with_decimals() {
        let a = |s, m, u| {
            Some(Accuracy {
                seconds: s,
                millis: m,
                micros: u,
            })
        };
        assert_eq!(parse_accuracy("1").unwrap(), a(1, 0, 0));
        assert_eq!(parse_accuracy("0.5").unwrap(), a(0, 500, 0));
        assert_eq!(parse_accuracy(".000250").unwrap(), a(0, 0, 250));
        assert_eq!(parse_accuracy("2.001002").unwrap(), a(2, 1, 2));
        assert_eq!(parse_accuracy("0").unwrap(), None);
        for bad in ["", ".", "x", "-1", "0.0000001", "1e3", "99999999999"] {
            assert!(parse_accuracy(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_clock_jump_marks_unhealthy_until_an_operator_says_otherwise() {
        let mono = Instant::now();
        let wall = SystemTime::now();
        let m = ClockMonitor::starting_at(Duration::from_millis(500), mono, wall);
        let sec = Duration::from_secs(1);
        // In step (and small drift) is fine.
        assert_eq!(
            m.check_at(mono + sec, wall + sec),
            ClockReading::Healthy(wall + sec)
        );
        let t = wall + sec * 2 + Duration::from_millis(400);
        assert_eq!(m.check_at(mono + sec * 2, t), ClockReading::Healthy(t));
        // The wall clock steps back 10 s.
        let r = m.check_at(mono + sec * 3, wall - sec * 7);
        assert!(
            matches!(&r, ClockReading::Unhealthy { reason, newly: true } if reason.contains("back by")),
            "{r:?}"
        );
        assert!(!m.health().healthy);
        // In step again, but it stays unhealthy (and is not reported twice).
        assert!(matches!(
            m.check_at(mono + sec * 4, wall - sec * 6),
            ClockReading::Unhealthy { newly: false, .. }
        ));
        m.set(true, Some("checked against NTP".into()), "alice#1".into());
        assert!(matches!(m.check(), ClockReading::Healthy(_)));
        assert_eq!(m.health().by, "alice#1");
        // An operator may mark it unhealthy too.
        m.set(false, Some("GPS lost".into()), "alice#1".into());
        assert_eq!(
            m.check(),
            ClockReading::Unhealthy {
                reason: "GPS lost".into(),
                newly: false
            }
        );
    }

    #[test]
    fn keys_by_hash_and_name() {
        assert_eq!(TsaKey::for_hash(HashAlgorithm::Sm3), TsaKey::Sm2);
        assert_eq!(TsaKey::for_hash(HashAlgorithm::Sha384), TsaKey::Rsa);
        assert_eq!("ECDSA".parse::<TsaKey>().unwrap(), TsaKey::Ecdsa);
        assert!("dsa".parse::<TsaKey>().is_err());
    }
}

#[cfg(test)]
mod service_tests {
    #![allow(clippy::unwrap_used)]
    use yinxin_cms::timestamp::{TimestampResponse, VerifyOptions, verify_response};
    use yinxin_store::Store;

    use super::*;
    use crate::{AuthorityConfig, InitOptions, ServiceAlgorithm};

    /// A data directory of the version before service identities: the vault, the CAs and
    /// the OCSP signers, nothing else. Two nodes unseal it at once: each creates the missing
    /// identities, one wins each name, both end up with the same keys.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_nodes_agree_on_service_identities_that_sign_and_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("y.db").display());
        let store = Store::open(&url).await.unwrap();
        let config = AuthorityConfig::new("http://127.0.0.1:1");
        let options = InitOptions::default();
        let (init, vault_config) = crate::setup::initialise(&store, &config, &options)
            .await
            .unwrap();
        crate::setup::finish(&store, &vault_config, &options)
            .await
            .unwrap();
        assert!(
            store.service_keys().await.unwrap().len() == 2,
            "OCSP signers only"
        );
        let share = init.shares[0].to_text();
        let a = Authority::open(Store::open(&url).await.unwrap(), config.clone())
            .await
            .unwrap();
        let b = Authority::open(Store::open(&url).await.unwrap(), config)
            .await
            .unwrap();
        let (ra, rb) = tokio::join!(a.unseal(&share), b.unseal(&share));
        assert!(!ra.unwrap().sealed && !rb.unwrap().sealed);
        let records = store.service_keys().await.unwrap();
        assert_eq!(records.len(), 2 + 7, "{records:?}");
        for key in TsaKey::ALL {
            let (ca, cb) = (a.tsa_signer(key).unwrap(), b.tsa_signer(key).unwrap());
            assert_eq!(ca.certificate(), cb.certificate(), "{key}");
        }
        // The loser of each race revoked its certificate (superseded); the winners are valid.
        let mut made = 0;
        for cn in [
            "Time-Stamping Authority",
            "Server Envelope",
            "Server Signing",
        ] {
            let query = yinxin_store::CertificateQuery {
                subject_contains: Some(cn.into()),
                ..Default::default()
            };
            made += store.search(&query).await.unwrap().len();
        }
        let revoked = store.revoked("sm2-issuing").await.unwrap().len()
            + store.revoked("rsa-issuing").await.unwrap().len();
        assert!(made >= 7);
        assert_eq!(revoked, made - 7, "every losing certificate is revoked");
        for r in &records {
            let query = yinxin_store::CertificateQuery {
                ca: Some(r.ca.clone()),
                status: Some(yinxin_store::CertificateStatus::Valid),
                ..Default::default()
            };
            let valid = store.search(&query).await.unwrap();
            assert!(
                valid.iter().any(|c| c.certificate.der == r.certificate_der),
                "{} is valid",
                r.name
            );
        }

        for alg in [ServiceAlgorithm::Sm2, ServiceAlgorithm::Rsa] {
            let s = b.service_signer(alg).unwrap();
            let public = yinxin_pki::certificate::public_key(&s.certificate).unwrap();
            let signature = s.signer.sign(&s.scheme, b"a receipt").unwrap();
            public.verify(&s.scheme, b"a receipt", &signature).unwrap();
            assert_eq!(s.chain.len(), 2, "issuing CA and root");
            let d = a.service_decrypter(alg).unwrap();
            let public = yinxin_pki::certificate::public_key(&d.certificate).unwrap();
            let scheme = public.algorithm().default_encryption_scheme().unwrap();
            let sealed = public.encrypt(&scheme, b"a bid").unwrap();
            assert_eq!(
                &d.decrypter.decrypt(&scheme, &sealed).unwrap()[..],
                b"a bid"
            );
        }

        // Both nodes stamp from one serial space.
        let roots: Vec<_> = a
            .cas()
            .into_iter()
            .filter(|c| c.is_root())
            .map(|c| c.certificate)
            .collect();
        let mut serials = std::collections::HashSet::new();
        for (i, node) in [&a, &b, &a, &b].into_iter().enumerate() {
            let hash = if i % 2 == 0 {
                HashAlgorithm::Sm3
            } else {
                HashAlgorithm::Sha256
            };
            let request = TimestampRequest::for_data(hash, b"doc")
                .with_random_nonce()
                .with_cert_req(true);
            let der = node.timestamp(None, &request.to_der().unwrap()).await;
            let info = verify_response(&der, &request, &VerifyOptions::new(&roots)).unwrap();
            assert!(serials.insert(info.serial.clone()));
            let expected = if i % 2 == 0 { "(SM2)" } else { "(RSA)" };
            assert!(info.tsa_subject.contains(expected), "{}", info.tsa_subject);
        }
        // A sealed node refuses with systemFailure.
        let c = Authority::open(Store::open(&url).await.unwrap(), AuthorityConfig::new("x"))
            .await
            .unwrap();
        let request = TimestampRequest::for_data(HashAlgorithm::Sha256, b"doc");
        let r = TimestampResponse::decode(&c.timestamp(None, &request.to_der().unwrap()).await)
            .unwrap();
        assert_eq!(r.failure, Some(FailureInfo::SystemFailure));
    }
}
