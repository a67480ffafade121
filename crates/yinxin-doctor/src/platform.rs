//! What the doctor reads from the operating system: the machine identity and when this OS
//! was installed.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use yinxin_token::MachineIdentity;

/// Environment variable overriding the OS installation time (seconds since the Unix epoch),
/// for tests and for support staff on systems where it cannot be read.
pub const OS_INSTALLED_AT_ENV: &str = "YINXIN_OS_INSTALLED_AT";

/// When this OS was installed, and how that was found out.
#[derive(Debug, Clone)]
pub struct InstallTime {
    /// The time.
    pub at: SystemTime,
    /// Where it came from, e.g. `birth time of /`.
    pub source: String,
}

/// The platform facts a doctor run uses.
#[derive(Debug)]
pub struct Platform {
    /// This machine's identity, or why it cannot be read.
    pub machine: Result<MachineIdentity, String>,
    /// When this OS was installed, if it can be told.
    pub os_installed_at: Option<InstallTime>,
}

impl Platform {
    /// Read them from this machine (honouring `YINXIN_MACHINE_ID_FILE` and
    /// [`OS_INSTALLED_AT_ENV`]).
    pub fn current() -> Platform {
        Platform {
            machine: MachineIdentity::current().map_err(|e| e.to_string()),
            os_installed_at: os_installed_at(),
        }
    }
}

/// The OS installation time: the override, else the root file system's birth time (statx),
/// else the Debian/Ubuntu installer's log, else the machine-id file's modification time
/// (written at first boot).
pub fn os_installed_at() -> Option<InstallTime> {
    if let Ok(v) = std::env::var(OS_INSTALLED_AT_ENV) {
        return v
            .trim()
            .parse::<u64>()
            .ok()
            .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
            .map(|at| InstallTime {
                at,
                source: OS_INSTALLED_AT_ENV.to_string(),
            });
    }
    if let Ok(t) = std::fs::metadata("/").and_then(|m| m.created())
        && t > UNIX_EPOCH
    {
        return Some(InstallTime {
            at: t,
            source: "birth time of /".into(),
        });
    }
    let candidates: [(PathBuf, &str); 3] = [
        ("/var/log/installer/syslog".into(), "installer log"),
        ("/var/log/anaconda/anaconda.log".into(), "installer log"),
        ("/etc/machine-id".into(), "first boot (/etc/machine-id)"),
    ];
    candidates.into_iter().find_map(|(p, what)| {
        let m = std::fs::metadata(&p).ok()?;
        let t = m.created().or_else(|_| m.modified()).ok()?;
        Some(InstallTime {
            at: t,
            source: format!("{what}: {}", p.display()),
        })
    })
}

/// Seconds since the Unix epoch.
pub fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// RFC 3339 UTC, to the second.
pub fn rfc3339(t: SystemTime) -> String {
    der::DateTime::from_system_time(t)
        .map(|d| d.to_string())
        .unwrap_or_else(|_| format!("@{}", unix(t)))
}

/// A compact UTC stamp for folder names: `20261122T104500Z`.
pub fn compact_stamp(t: SystemTime) -> String {
    rfc3339(t).replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_349_100)),
            "2026-11-22T12:05:00Z"
        );
        assert_eq!(
            compact_stamp(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229T000000Z"
        );
    }
}
