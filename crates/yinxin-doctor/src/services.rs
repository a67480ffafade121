//! Is a yinxin service running, crash-looping, failed, stopped or missing, and why.
//!
//! Field failure behind this module: a service kept stopping after every reboot because other
//! software had replaced its binary; the only trace was in the service manager's crash events.
//! So the doctor asks the service manager, per configured unit, for its state, its restart
//! count, the last exit of its main process and the executable it starts (which the doctor
//! cross-checks against the signed install manifest).
//!
//! The platform sits behind [`ServiceManager`]; [`Systemd`] is the Linux implementation. It runs
//! `systemctl show UNIT --property=…` and parses the `KEY=VALUE` lines ([`parse_show`]).
//!
//! # How a Windows implementation maps onto these types
//!
//! A Service Control Manager implementation would fill the same [`ServiceStatus`]:
//!
//! * `OpenServiceW` failing with `ERROR_SERVICE_DOES_NOT_EXIST` (1060) → `installed: false`,
//!   `load_state: "not-found"`; a service whose start type is `SERVICE_DISABLED` →
//!   `load_state: "disabled"`.
//! * `QueryServiceStatusEx` → [`ActiveState`]: `SERVICE_RUNNING` → `Active`,
//!   `SERVICE_START_PENDING` → `Activating`, `SERVICE_STOP_PENDING` → `Deactivating`,
//!   `SERVICE_STOPPED` → `Inactive`, or `Failed` when `dwWin32ExitCode` is non-zero;
//!   `SERVICE_PAUSED`/`*_PENDING` others → `Other("paused")` etc. `sub_state` carries the SCM
//!   state name (`"running"`, `"stopped"`, …), `main_pid` is `dwProcessId` (0 → `None`).
//! * `QueryServiceConfigW` → `description` (with `QueryServiceConfig2W`) and `executable` (the
//!   program part of `lpBinaryPathName`, unquoted).
//! * The System event log, source "Service Control Manager": events 7031 ("terminated
//!   unexpectedly … has done this N time(s)", a recovery action follows) and 7034 ("terminated
//!   unexpectedly", no recovery action) for this service since the last boot give `restarts`
//!   (7031's count, or the number of events), `since` (the newest event's time), and
//!   `result: "exit-code"`; `last_exit` is `ExitReason { code: "exited", status }` with the
//!   service-specific or Win32 exit code from `SERVICE_STATUS_PROCESS`. While the SCM waits
//!   out a recovery delay the state is `Activating` with `sub_state: "auto-restart"`; a
//!   service whose recovery actions are exhausted gets `result: "start-limit-hit"`.
//!
//! [`ServiceStatus::health`] then needs no change, and the checks stay platform-free.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// Restart count at and above which a unit counts as crash-looping.
pub const CRASH_LOOP_RESTARTS: u32 = 3;

/// The properties [`Systemd`] asks `systemctl show` for.
pub const SHOW_PROPERTIES: &str = "Id,Description,LoadState,ActiveState,SubState,NRestarts,\
MainPID,ExecMainCode,ExecMainStatus,Result,ExecStart,StateChangeTimestamp";

/// How long one `systemctl` call may take before the doctor gives up on it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// First systemd version whose `systemctl` knows `--timestamp=unix`.
const TIMESTAMP_UNIX_SINCE: u32 = 251;

/// A platform's service manager, asked about one unit at a time.
pub trait ServiceManager: Send + Sync {
    /// Short name for reports: `"systemd"`.
    fn name(&self) -> &'static str;

    /// The state of `unit`. A unit that does not exist is `Ok` with `installed: false`.
    fn status(&self, unit: &str) -> Result<ServiceStatus, ServiceError>;
}

/// What the service manager says about one unit.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ServiceStatus {
    /// The unit's full name (`yinxin-agent.service`).
    pub unit: String,
    /// Its description, when the unit file gives one.
    pub description: Option<String>,
    /// Whether the service manager knows the unit (systemd `LoadState` other than `not-found`).
    pub installed: bool,
    /// systemd `LoadState`: `loaded`, `not-found`, `masked`, `error`, `bad-setting`, ….
    pub load_state: String,
    /// The high-level state.
    pub active: ActiveState,
    /// The manager's finer state: systemd `SubState` (`running`, `auto-restart`, `dead`, …).
    pub sub_state: String,
    /// Automatic restarts since the unit was last started by hand (systemd `NRestarts`).
    pub restarts: u32,
    /// The main process, when there is one.
    pub main_pid: Option<u32>,
    /// The program the unit starts (first `ExecStart=`).
    pub executable: Option<PathBuf>,
    /// systemd `Result`: `success`, `exit-code`, `signal`, `core-dump`, `timeout`,
    /// `start-limit-hit`, `watchdog`, `oom-kill`, `resources`, ….
    pub result: String,
    /// How the main process last ended, when it has.
    pub last_exit: Option<ExitReason>,
    /// When the unit last changed state.
    pub since: Option<SystemTime>,
}

/// The high-level state of a unit (systemd `ActiveState`); serialised as systemd spells it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ActiveState {
    /// Started and running.
    Active,
    /// Re-reading its configuration.
    Reloading,
    /// Not running.
    #[default]
    Inactive,
    /// Stopped after a failure (exit code, signal, timeout, start limit, …).
    Failed,
    /// Starting, or waiting out the delay before an automatic restart.
    Activating,
    /// Stopping.
    Deactivating,
    /// A state this code does not know (`maintenance`, `refreshing`, …).
    Other(String),
}

impl ActiveState {
    /// The state named by systemd's `ActiveState=` value.
    pub fn from_systemd(value: &str) -> Self {
        match value {
            "active" => Self::Active,
            "reloading" => Self::Reloading,
            "inactive" => Self::Inactive,
            "failed" => Self::Failed,
            "activating" => Self::Activating,
            "deactivating" => Self::Deactivating,
            other => Self::Other(other.to_string()),
        }
    }

    /// systemd's spelling of the state.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "active",
            Self::Reloading => "reloading",
            Self::Inactive => "inactive",
            Self::Failed => "failed",
            Self::Activating => "activating",
            Self::Deactivating => "deactivating",
            Self::Other(s) => s,
        }
    }
}

impl serde::Serialize for ActiveState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for ActiveState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a main process ended: systemd's `ExecMainCode` and `ExecMainStatus` in words.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExitReason {
    /// `exited`, `killed` or `dumped` (the `CLD_*` codes of `waitid(2)`), or `trapped`,
    /// `stopped`, `continued`, or the raw number for anything else.
    pub code: String,
    /// The exit status (`"1"`) for `exited`, the signal name (`"SEGV"`) otherwise.
    pub status: String,
}

impl ExitReason {
    /// From systemd's `ExecMainCode` (a `CLD_*` number) and `ExecMainStatus`; `None` when
    /// the main process has not ended (`ExecMainCode=0`).
    pub fn from_systemd(code: u32, status: i32) -> Option<Self> {
        let code = match code {
            0 => return None,
            1 => "exited".to_string(),
            2 => "killed".to_string(),
            3 => "dumped".to_string(),
            4 => "trapped".to_string(),
            5 => "stopped".to_string(),
            6 => "continued".to_string(),
            n => n.to_string(),
        };
        let status = if code == "exited" {
            status.to_string()
        } else {
            signal_name(status).map_or_else(|| status.to_string(), str::to_string)
        };
        Some(Self { code, status })
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code.as_str() {
            "exited" => write!(f, "exited with status {}", self.status),
            "killed" => write!(f, "killed by signal {}", self.status),
            "dumped" => write!(f, "killed by signal {} (core dumped)", self.status),
            "trapped" => write!(f, "trapped by signal {}", self.status),
            "stopped" => write!(f, "stopped by signal {}", self.status),
            "continued" => write!(f, "continued by signal {}", self.status),
            other => write!(f, "ended ({other}) with status {}", self.status),
        }
    }
}

/// Linux signal names, without the `SIG` prefix.
fn signal_name(signal: i32) -> Option<&'static str> {
    const NAMES: [&str; 31] = [
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    let index = usize::try_from(signal).ok()?.checked_sub(1)?;
    NAMES.get(index).copied()
}

/// The doctor's verdict on a unit.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "health")]
pub enum ServiceHealth {
    /// Running (or starting, or reloading) and not crash-looping.
    Running,
    /// Restarting over and over, or stopped by the start limit after doing so.
    CrashLooping {
        /// Automatic restarts so far.
        restarts: u32,
    },
    /// Stopped after a failure; [`ServiceStatus::last_exit`] and `result` say which.
    Failed,
    /// Not running, without a failure.
    Stopped,
    /// The service manager does not know the unit.
    NotInstalled,
}

impl ServiceStatus {
    /// The verdict, by the first rule that applies:
    ///
    /// 1. not installed → [`ServiceHealth::NotInstalled`];
    /// 2. `restarts ≥` [`CRASH_LOOP_RESTARTS`], or sub-state `auto-restart` (waiting to be
    ///    restarted after a crash), or result `start-limit-hit` (systemd gave up restarting)
    ///    → [`ServiceHealth::CrashLooping`], even if the unit is up right now: it was up
    ///    between the earlier crashes too;
    /// 3. state `failed` → [`ServiceHealth::Failed`];
    /// 4. `active`, `reloading` or `activating` → [`ServiceHealth::Running`];
    /// 5. `inactive` or `deactivating` → [`ServiceHealth::Stopped`];
    /// 6. any other state → `Running` if there is a main process, else `Stopped`.
    pub fn health(&self) -> ServiceHealth {
        if !self.installed {
            return ServiceHealth::NotInstalled;
        }
        if self.restarts >= CRASH_LOOP_RESTARTS
            || self.sub_state == "auto-restart"
            || self.result == "start-limit-hit"
        {
            return ServiceHealth::CrashLooping {
                restarts: self.restarts,
            };
        }
        match &self.active {
            ActiveState::Failed => ServiceHealth::Failed,
            ActiveState::Active | ActiveState::Reloading | ActiveState::Activating => {
                ServiceHealth::Running
            }
            ActiveState::Inactive | ActiveState::Deactivating => ServiceHealth::Stopped,
            ActiveState::Other(_) if self.main_pid.is_some() => ServiceHealth::Running,
            ActiveState::Other(_) => ServiceHealth::Stopped,
        }
    }
}

/// Why a service's state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// There is no service manager to ask (not booted with systemd, no `systemctl`).
    #[error("not checked: {reason}")]
    Unavailable {
        /// In plain words: "systemd is not running".
        reason: String,
    },
    /// The unit name is not one the service manager could accept.
    #[error("{unit:?} is not a valid unit name")]
    InvalidUnit {
        /// The name given.
        unit: String,
    },
    /// Running the service manager's tool failed.
    #[error("{program} failed: {reason}")]
    Command {
        /// The program run.
        program: PathBuf,
        /// What went wrong (its error output's first line, a timeout, …).
        reason: String,
    },
    /// The tool's output was not what it prints.
    #[error("unexpected output for {unit}: {reason}")]
    Parse {
        /// The unit asked about.
        unit: String,
        /// What was wrong.
        reason: String,
    },
}

/// systemd, asked through `systemctl show`.
#[derive(Clone, Debug)]
pub struct Systemd {
    program: PathBuf,
    timestamp_unix: bool,
}

impl Systemd {
    /// systemd on this machine: `Unavailable` when it is not the init system (no
    /// `/run/systemd/system`, as in containers) or `systemctl` cannot be run.
    pub fn detect() -> Result<Self, ServiceError> {
        if !Path::new("/run/systemd/system").is_dir() {
            return Err(ServiceError::Unavailable {
                reason: "systemd is not running".into(),
            });
        }
        let mut systemd = Self::with_program(PathBuf::from("systemctl"));
        let version = systemd.version().map_err(|e| ServiceError::Unavailable {
            reason: format!("systemctl cannot be run: {e}"),
        })?;
        systemd.timestamp_unix = version >= TIMESTAMP_UNIX_SINCE;
        Ok(systemd)
    }

    /// Another `systemctl` (support staff's choice), used as is: no check that systemd runs.
    /// Timestamps are then read in the human form, which runs under `TZ=UTC` so that any
    /// systemd version prints them in a zone this code can parse.
    pub fn with_program(program: PathBuf) -> Self {
        Self {
            program,
            timestamp_unix: false,
        }
    }

    /// The program run.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// systemd's version number, from the first line of `systemctl --version`
    /// (`systemd 252 (252.38-1~deb12u1)`).
    pub fn version(&self) -> Result<u32, ServiceError> {
        let out = self.run(&["--version"])?;
        let text = String::from_utf8_lossy(&out);
        text.lines()
            .next()
            .and_then(|l| l.strip_prefix("systemd "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ServiceError::Command {
                program: self.program.clone(),
                reason: format!("unexpected --version output {:?}", first_line(&text)),
            })
    }

    /// Runs the program with `args` (no pager, UTC timestamps, bounded in time) and returns
    /// its standard output, or its error output's first line when it fails.
    fn run(&self, args: &[&str]) -> Result<Vec<u8>, ServiceError> {
        let command_error = |reason: String| ServiceError::Command {
            program: self.program.clone(),
            reason,
        };
        let mut child = Command::new(&self.program)
            .args(args)
            .env("TZ", "UTC")
            .env("SYSTEMD_PAGER", "")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| command_error(e.to_string()))?;
        // Read both pipes on their own threads so a full pipe cannot stall the child.
        let stdout = child.stdout.take().map(spawn_reader);
        let stderr = child.stderr.take().map(spawn_reader);
        let deadline = Instant::now() + COMMAND_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(None) => {
                    // Killing can only fail if it has just exited; either way it is done.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(command_error(format!(
                        "no answer within {} s",
                        COMMAND_TIMEOUT.as_secs()
                    )));
                }
                Err(e) => return Err(command_error(e.to_string())),
            }
        };
        let stdout = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
        let stderr = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
        if !status.success() {
            let text = String::from_utf8_lossy(&stderr);
            let line = first_line(&text);
            return Err(command_error(if line.is_empty() {
                status.to_string()
            } else {
                line.to_string()
            }));
        }
        Ok(stdout)
    }
}

impl ServiceManager for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }

    fn status(&self, unit: &str) -> Result<ServiceStatus, ServiceError> {
        if !is_valid_unit_name(unit) {
            return Err(ServiceError::InvalidUnit {
                unit: unit.to_string(),
            });
        }
        let property = format!("--property={SHOW_PROPERTIES}");
        let mut args = vec!["show", "--no-pager", property.as_str()];
        if self.timestamp_unix {
            args.push("--timestamp=unix");
        }
        args.extend(["--", unit]);
        let out = self.run(&args)?;
        let text = String::from_utf8(out).map_err(|_| ServiceError::Parse {
            unit: unit.to_string(),
            reason: "output is not UTF-8".into(),
        })?;
        parse_show(unit, &text)
    }
}

fn spawn_reader<R: Read + Send + 'static>(mut pipe: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        // A read error leaves what was read so far; the exit status tells the rest.
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// systemd's unit-name alphabet (`unit_name_is_valid`): ASCII letters, digits and `:-_.\@`,
/// at most 255 bytes; a leading `-` is refused so the name can never read as an option.
fn is_valid_unit_name(unit: &str) -> bool {
    !unit.is_empty()
        && unit.len() <= 255
        && !unit.starts_with('-')
        && unit
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":-_.\\@".contains(&b))
}

/// Parses `systemctl show --property=…` output for `unit` (`KEY=VALUE` lines; a key given
/// twice, as `ExecStart` is for several commands, keeps its first value). Timestamps may be
/// in the `--timestamp=unix` form (`@1700000000`) or the default form in UTC
/// (`Sun 2024-01-07 10:00:00 UTC`, with or without microseconds); anything else, and
/// `n/a` or empty, gives `since: None`.
pub fn parse_show(unit: &str, output: &str) -> Result<ServiceStatus, ServiceError> {
    let parse_error = |reason: String| ServiceError::Parse {
        unit: unit.to_string(),
        reason,
    };
    let mut props: BTreeMap<&str, &str> = BTreeMap::new();
    for line in output.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| parse_error(format!("line without '=': {line:?}")))?;
        props.entry(key).or_insert(value);
    }
    let load_state = *props
        .get("LoadState")
        .ok_or_else(|| parse_error("no LoadState".into()))?;
    let active = props
        .get("ActiveState")
        .ok_or_else(|| parse_error("no ActiveState".into()))?;
    let number = |key: &str| -> Result<u64, ServiceError> {
        match props.get(key).copied() {
            None | Some("" | "[not set]") => Ok(0),
            Some(v) => v
                .parse()
                .map_err(|_| parse_error(format!("{key}={v} is not a number"))),
        }
    };
    let restarts = u32::try_from(number("NRestarts")?).unwrap_or(u32::MAX);
    let main_pid = u32::try_from(number("MainPID")?).ok().filter(|&p| p != 0);
    let code = u32::try_from(number("ExecMainCode")?)
        .map_err(|_| parse_error("ExecMainCode out of range".into()))?;
    let status = match props.get("ExecMainStatus").copied() {
        None | Some("") => 0,
        Some(v) => v
            .parse()
            .map_err(|_| parse_error(format!("ExecMainStatus={v} is not a number")))?,
    };
    let non_empty = |key: &str| {
        props
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    Ok(ServiceStatus {
        unit: non_empty("Id").unwrap_or_else(|| unit.to_string()),
        description: non_empty("Description"),
        installed: load_state != "not-found",
        load_state: load_state.to_string(),
        active: ActiveState::from_systemd(active),
        sub_state: props.get("SubState").copied().unwrap_or_default().into(),
        restarts,
        main_pid,
        executable: props.get("ExecStart").and_then(|v| exec_path(v)),
        result: props.get("Result").copied().unwrap_or_default().into(),
        last_exit: ExitReason::from_systemd(code, status),
        since: props.get("StateChangeTimestamp").and_then(|v| timestamp(v)),
    })
}

/// The `path=` of an `ExecStart={ path=/usr/bin/x ; argv[]=/usr/bin/x -a ; … }` value.
fn exec_path(value: &str) -> Option<PathBuf> {
    let inner = value.trim().strip_prefix('{')?.trim_start();
    let rest = inner.strip_prefix("path=")?;
    let path = rest.split(" ;").next()?.trim();
    (!path.is_empty()).then(|| PathBuf::from(path))
}

/// `@1700000000` or `Sun 2024-01-07 10:00:00[.123456] UTC`.
fn timestamp(value: &str) -> Option<SystemTime> {
    let value = value.trim();
    if let Some(secs) = value.strip_prefix('@') {
        let secs: u64 = secs.split('.').next()?.parse().ok()?;
        return SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs));
    }
    let mut parts = value.split_whitespace();
    let (_weekday, date, time, zone) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if zone != "UTC" || parts.next().is_some() {
        return None;
    }
    let mut d = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, micros) = match time.split_once('.') {
        Some((hms, frac)) => (hms, frac.parse::<u32>().ok()?),
        None => (time, 0),
    };
    let mut t = hms.splitn(3, ':').map(str::parse::<i64>);
    let (h, m, s) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s;
    let secs = u64::try_from(secs).ok()?;
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(secs))?
        .checked_add(Duration::from_micros(u64::from(micros)))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    // As systemd 252 prints them (`systemctl show UNIT --property=…`): the Service
    // interface's properties come first and the Unit interface's after, in systemd's order,
    // not in the order asked for.
    const ACTIVE: &str = "\
MainPID=1234
Result=success
NRestarts=0
ExecMainCode=0
ExecMainStatus=0
ExecStart={ path=/usr/lib/yinxin/yinxin-agent ; argv[]=/usr/lib/yinxin/yinxin-agent --config /etc/yinxin/agent.toml ; ignore_errors=no ; start_time=[@1704621600] ; stop_time=[n/a] ; pid=1234 ; code=(null) ; status=0/0 }
Id=yinxin-agent.service
Description=yinxin browser agent
LoadState=loaded
ActiveState=active
SubState=running
StateChangeTimestamp=@1704621600
";

    // Without --timestamp=unix, under TZ=UTC.
    const CRASH_LOOP: &str = "\
MainPID=0
Result=signal
NRestarts=5
ExecMainCode=2
ExecMainStatus=11
ExecStart={ path=/usr/lib/yinxin/yinxin-agent ; argv[]=/usr/lib/yinxin/yinxin-agent ; ignore_errors=no ; start_time=[Sun 2024-01-07 10:00:00 UTC] ; stop_time=[Sun 2024-01-07 10:00:01 UTC] ; pid=4321 ; code=killed ; status=11/SEGV }
Id=yinxin-agent.service
Description=yinxin browser agent
LoadState=loaded
ActiveState=activating
SubState=auto-restart
StateChangeTimestamp=Sun 2024-01-07 10:00:01 UTC
";

    const START_LIMIT: &str = "\
MainPID=0
Result=start-limit-hit
NRestarts=2
ExecMainCode=1
ExecMainStatus=1
ExecStart={ path=/usr/lib/yinxin/yinxin-agent ; argv[]=/usr/lib/yinxin/yinxin-agent ; ignore_errors=no ; start_time=[@1704621600] ; stop_time=[@1704621601] ; pid=99 ; code=exited ; status=1 }
Id=yinxin-agent.service
Description=yinxin browser agent
LoadState=loaded
ActiveState=failed
SubState=failed
StateChangeTimestamp=@1704621601
";

    // `--timestamp=us`, and a unit with two ExecStart= commands: the first one counts.
    const FAILED: &str = "\
MainPID=0
Result=core-dump
NRestarts=0
ExecMainCode=3
ExecMainStatus=6
ExecStart={ path=/opt/yinxin/bin/yinxin ; argv[]=/opt/yinxin/bin/yinxin serve ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }
ExecStart={ path=/usr/bin/true ; argv[]=/usr/bin/true ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }
Id=yinxin-tsa.service
Description=yinxin timestamp authority
LoadState=loaded
ActiveState=failed
SubState=failed
StateChangeTimestamp=Sun 2024-01-07 10:00:01.250000 UTC
";

    const NOT_FOUND: &str = "\
MainPID=0
Result=success
NRestarts=0
ExecMainCode=0
ExecMainStatus=0
Id=nosuch.service
Description=nosuch.service
LoadState=not-found
ActiveState=inactive
SubState=dead
StateChangeTimestamp=
";

    const STOPPED: &str = "\
MainPID=0
Result=success
NRestarts=0
ExecMainCode=1
ExecMainStatus=0
Id=yinxin-agent.service
Description=
LoadState=masked
ActiveState=inactive
SubState=dead
StateChangeTimestamp=n/a
";

    const JAN_7_10H: u64 = 1_704_621_600;

    fn at(secs: u64) -> Option<SystemTime> {
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
    }

    #[test]
    fn active_service() {
        let s = parse_show("yinxin-agent", ACTIVE).unwrap();
        assert_eq!(s.unit, "yinxin-agent.service");
        assert_eq!(s.description.as_deref(), Some("yinxin browser agent"));
        assert!(s.installed);
        assert_eq!(s.active, ActiveState::Active);
        assert_eq!(s.sub_state, "running");
        assert_eq!(s.main_pid, Some(1234));
        assert_eq!(
            s.executable.as_deref(),
            Some(Path::new("/usr/lib/yinxin/yinxin-agent"))
        );
        assert_eq!(s.result, "success");
        assert_eq!(s.last_exit, None);
        assert_eq!(s.since, at(JAN_7_10H));
        assert_eq!(s.health(), ServiceHealth::Running);
    }

    #[test]
    fn crash_looping_service() {
        let s = parse_show("yinxin-agent.service", CRASH_LOOP).unwrap();
        assert_eq!(s.active, ActiveState::Activating);
        assert_eq!(s.restarts, 5);
        assert_eq!(s.main_pid, None);
        let exit = s.last_exit.clone().unwrap();
        assert_eq!(
            (exit.code.as_str(), exit.status.as_str()),
            ("killed", "SEGV")
        );
        assert_eq!(exit.to_string(), "killed by signal SEGV");
        assert_eq!(s.since, at(JAN_7_10H + 1));
        assert_eq!(s.health(), ServiceHealth::CrashLooping { restarts: 5 });
        // Waiting to restart counts even before the third restart.
        let first = ServiceStatus {
            restarts: 1,
            ..s.clone()
        };
        assert_eq!(first.health(), ServiceHealth::CrashLooping { restarts: 1 });
        // Up right now, but restarted three times: still crash-looping.
        let up = ServiceStatus {
            restarts: CRASH_LOOP_RESTARTS,
            active: ActiveState::Active,
            sub_state: "running".into(),
            ..s
        };
        assert_eq!(up.health(), ServiceHealth::CrashLooping { restarts: 3 });
    }

    #[test]
    fn start_limit_hit_is_a_crash_loop() {
        let s = parse_show("yinxin-agent.service", START_LIMIT).unwrap();
        assert_eq!(s.active, ActiveState::Failed);
        assert_eq!(s.result, "start-limit-hit");
        assert_eq!(
            s.last_exit.as_ref().unwrap().to_string(),
            "exited with status 1"
        );
        assert_eq!(s.health(), ServiceHealth::CrashLooping { restarts: 2 });
    }

    #[test]
    fn failed_service() {
        let s = parse_show("yinxin-tsa.service", FAILED).unwrap();
        assert_eq!(s.health(), ServiceHealth::Failed);
        assert_eq!(
            s.executable.as_deref(),
            Some(Path::new("/opt/yinxin/bin/yinxin"))
        );
        assert_eq!(
            s.last_exit.unwrap().to_string(),
            "killed by signal ABRT (core dumped)"
        );
        assert_eq!(
            s.since,
            at(JAN_7_10H + 1).map(|t| t + Duration::from_millis(250))
        );
    }

    #[test]
    fn unit_not_found() {
        let s = parse_show("nosuch", NOT_FOUND).unwrap();
        assert!(!s.installed);
        assert_eq!(s.load_state, "not-found");
        assert_eq!(s.unit, "nosuch.service");
        assert_eq!(s.since, None);
        assert_eq!(s.health(), ServiceHealth::NotInstalled);
    }

    #[test]
    fn stopped_and_masked() {
        let s = parse_show("yinxin-agent.service", STOPPED).unwrap();
        assert!(s.installed);
        assert_eq!(s.load_state, "masked");
        assert_eq!(s.description, None);
        assert_eq!(
            s.last_exit.as_ref().unwrap().to_string(),
            "exited with status 0"
        );
        assert_eq!(s.since, None);
        assert_eq!(s.health(), ServiceHealth::Stopped);
        let other = ServiceStatus {
            active: ActiveState::Other("refreshing".into()),
            main_pid: Some(7),
            ..s
        };
        assert_eq!(other.health(), ServiceHealth::Running);
    }

    #[test]
    fn bad_output_is_a_parse_error() {
        for bad in [
            "",
            "garbage\n",
            "LoadState=loaded\n",
            "LoadState=loaded\nActiveState=active\nNRestarts=many\n",
            "LoadState=loaded\nActiveState=active\nExecMainStatus=x\n",
        ] {
            assert!(
                matches!(parse_show("u", bad), Err(ServiceError::Parse { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn exit_reasons_in_words() {
        let r = |c, s| ExitReason::from_systemd(c, s).unwrap().to_string();
        assert_eq!(r(1, 203), "exited with status 203");
        assert_eq!(r(2, 15), "killed by signal TERM");
        assert_eq!(r(3, 11), "killed by signal SEGV (core dumped)");
        assert_eq!(r(2, 64), "killed by signal 64");
        assert_eq!(ExitReason::from_systemd(0, 0), None);
    }

    #[test]
    fn timestamps_in_both_forms() {
        assert_eq!(timestamp("@1704621600"), at(JAN_7_10H));
        assert_eq!(timestamp("Sun 2024-01-07 10:00:00 UTC"), at(JAN_7_10H));
        assert_eq!(timestamp("Thu 1970-01-01 00:00:00 UTC"), at(0));
        assert_eq!(timestamp("Tue 2024-02-29 00:00:00 UTC"), at(1_709_164_800));
        assert_eq!(timestamp("Sun 2024-01-07 18:00:00 CST"), None);
        assert_eq!(timestamp("n/a"), None);
        assert_eq!(timestamp(""), None);
    }

    #[test]
    fn unit_names() {
        assert!(is_valid_unit_name("yinxin-agent@user.service"));
        assert!(!is_valid_unit_name("--all"));
        assert!(!is_valid_unit_name("a b"));
        assert!(!is_valid_unit_name(""));
        let systemd = Systemd::with_program(PathBuf::from("/nonexistent/systemctl"));
        assert!(matches!(
            systemd.status("--all"),
            Err(ServiceError::InvalidUnit { .. })
        ));
        assert!(matches!(
            systemd.status("yinxin-agent"),
            Err(ServiceError::Command { .. })
        ));
    }

    /// A stand-in `systemctl`: prints its arguments' answer like systemd 252 does.
    #[cfg(unix)]
    fn fake_systemctl(dir: &Path, name: &str, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Runs `f`, again if another test's fork briefly held the new script open (ETXTBSY).
    #[cfg(unix)]
    fn retry<T>(f: impl Fn() -> Result<T, ServiceError>) -> Result<T, ServiceError> {
        for _ in 0..5 {
            match f() {
                Err(ServiceError::Command { reason, .. }) if reason.contains("busy") => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => return other,
            }
        }
        f()
    }

    #[cfg(unix)]
    #[test]
    fn runs_systemctl() {
        let dir = tempfile::tempdir().unwrap();
        let good = fake_systemctl(
            dir.path(),
            "systemctl",
            &format!(
                "#!/bin/sh\n\
                 [ \"$1\" = --version ] && {{ echo 'systemd 252 (252.38-1~deb12u1)'; echo '+PAM'; exit 0; }}\n\
                 [ \"$1\" = show ] && [ \"$TZ\" = UTC ] && [ \"$5\" = yinxin-agent ] || exit 3\n\
                 cat <<'EOF'\n{ACTIVE}EOF\n"
            ),
        );
        let bad = fake_systemctl(
            dir.path(),
            "broken",
            "#!/bin/sh\necho 'Failed to connect to bus: Host is down' >&2\nexit 1\n",
        );
        let systemd = Systemd::with_program(good);
        assert_eq!(retry(|| systemd.version()).unwrap(), 252);
        let status = retry(|| systemd.status("yinxin-agent")).unwrap();
        assert_eq!(status.health(), ServiceHealth::Running);
        assert_eq!(status.main_pid, Some(1234));
        let broken = Systemd::with_program(bad);
        match retry(|| broken.status("yinxin-agent")) {
            Err(ServiceError::Command { reason, .. }) => {
                assert_eq!(reason, "Failed to connect to bus: Host is down");
            }
            other => panic!("{other:?}"),
        }
        let json = serde_json::to_value(ServiceHealth::CrashLooping { restarts: 5 }).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"health": "crash-looping", "restarts": 5})
        );
        assert_eq!(serde_json::to_value(&status.active).unwrap(), "active");
    }

    #[test]
    fn detect_without_systemd() {
        // Containers and CI have no systemd as init; on a systemd host detect() works.
        if Path::new("/run/systemd/system").is_dir() {
            assert_eq!(Systemd::detect().unwrap().name(), "systemd");
        } else {
            let err = Systemd::detect().unwrap_err();
            assert!(matches!(err, ServiceError::Unavailable { .. }));
            assert_eq!(err.to_string(), "not checked: systemd is not running");
        }
    }
}
