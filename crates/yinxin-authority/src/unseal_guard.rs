//! Who may keep trying shares: failures are counted per source address, at most
//! [`MAX_FAILURES_PER_MINUTE`] a minute are looked at, and the audit log gets at most one
//! `unseal_refused` record per address and minute, with a count (never a share's index), so
//! a stranger can neither wear the holders out nor flood the log.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed shares an address may send in a minute before it is refused unheard.
pub const MAX_FAILURES_PER_MINUTE: u32 = 10;

/// Addresses remembered at most; beyond this the oldest windows are forgotten first.
const MAX_TRACKED: usize = 10_000;

const MINUTE: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Entry {
    window_start: Instant,
    failures: u32,
    unaudited: u32,
    last_audit: Option<Instant>,
}

/// Failed-unseal bookkeeping per source address.
#[derive(Debug, Default)]
pub(crate) struct UnsealGuard {
    entries: Mutex<HashMap<IpAddr, Entry>>,
}

impl UnsealGuard {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err(seconds to wait)` when `addr` used up its failures for this minute.
    pub(crate) fn admit(&self, addr: IpAddr, now: Instant) -> Result<(), u64> {
        let entries = self.lock();
        match entries.get(&addr) {
            Some(e)
                if now.duration_since(e.window_start) < MINUTE
                    && e.failures >= MAX_FAILURES_PER_MINUTE =>
            {
                Err((MINUTE - now.duration_since(e.window_start))
                    .as_secs()
                    .max(1))
            }
            _ => Ok(()),
        }
    }

    /// Count a failure of `addr`; `Some(count)` when an audit record is due now (none for
    /// this address in the last minute), with the failures it covers.
    pub(crate) fn failed(&self, addr: IpAddr, now: Instant) -> Option<u32> {
        let mut entries = self.lock();
        if entries.len() >= MAX_TRACKED && !entries.contains_key(&addr) {
            // Forget quiet addresses first; their unaudited counts go to the log now.
            entries.retain(|_, e| now.duration_since(e.window_start) < MINUTE || e.unaudited > 0);
            if entries.len() >= MAX_TRACKED {
                return None;
            }
        }
        let e = entries.entry(addr).or_insert(Entry {
            window_start: now,
            failures: 0,
            unaudited: 0,
            last_audit: None,
        });
        if now.duration_since(e.window_start) >= MINUTE {
            e.window_start = now;
            e.failures = 0;
        }
        e.failures += 1;
        e.unaudited += 1;
        if e.last_audit.is_none_or(|t| now.duration_since(t) >= MINUTE) {
            e.last_audit = Some(now);
            Some(std::mem::take(&mut e.unaudited))
        } else {
            None
        }
    }

    /// Failures not yet audited whose address's last record is a minute old: the background
    /// task writes them, so every failure reaches the log within about a minute.
    pub(crate) fn due(&self, now: Instant) -> Vec<(IpAddr, u32)> {
        let mut entries = self.lock();
        let mut out = Vec::new();
        for (addr, e) in entries.iter_mut() {
            if e.unaudited > 0 && e.last_audit.is_none_or(|t| now.duration_since(t) >= MINUTE) {
                e.last_audit = Some(now);
                out.push((*addr, std::mem::take(&mut e.unaudited)));
            }
        }
        entries.retain(|_, e| now.duration_since(e.window_start) < MINUTE || e.unaudited > 0);
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn failures_are_limited_and_audited_once_a_minute() {
        let g = UnsealGuard::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        assert_eq!(
            g.failed(a, t0),
            Some(1),
            "the first failure is recorded at once"
        );
        for i in 1..MAX_FAILURES_PER_MINUTE {
            assert!(g.admit(a, t0).is_ok(), "{i}");
            assert_eq!(g.failed(a, t0), None);
        }
        assert!(g.admit(a, t0 + Duration::from_secs(59)).is_err());
        assert!(g.admit(b, t0).is_ok(), "other addresses are not affected");
        assert!(g.due(t0 + Duration::from_secs(30)).is_empty());
        assert_eq!(
            g.due(t0 + MINUTE),
            vec![(a, MAX_FAILURES_PER_MINUTE - 1)],
            "the rest, a minute later, in one record"
        );
        assert!(g.admit(a, t0 + MINUTE).is_ok(), "a new minute");
        assert!(g.due(t0 + MINUTE * 3).is_empty());
    }
}
