//! Where the client keeps things (`$YINXIN_HOME`) and its configuration file.
//!
//! `$YINXIN_HOME` (default `~/.yinxin`) holds:
//!
//! ```text
//! config.toml          this file's settings (below)
//! tokens/NAME.yxtoken  software token stores
//! trust/*.pem          the platform's root certificates
//! logs/yinxin.log      the client's log
//! quarantine/ID/       token stores `yinxin doctor --fix` moved aside (never deleted)
//! doctor/repairs.jsonl every repair and undo, one JSON object a line
//! ```
//!
//! `config.toml`:
//!
//! ```toml
//! server = "https://ca.example.org"        # the platform; its CRL, OCSP and TSA are checked
//! pkcs11_modules = ["/usr/lib/libxyzkey.so"] # USB-key drivers
//! services = ["yinxin-agent.service"]      # systemd units of yinxin
//! clock_tolerance_secs = 300               # a larger clock offset is a problem
//! [trust]
//! pinned = ["sha256:7f0c…"]                # fingerprints of the platform's roots
//! [install]
//! root = "/opt/yinxin"                     # checked against root/yinxin-manifest.json
//! manifest = "/opt/yinxin/yinxin-manifest.json"
//! [log]
//! level = "info"                           # a tracing filter: "debug", "info,yinxin_token=trace"
//! dir = "/var/log/yinxin"                  # default $YINXIN_HOME/logs
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The environment variable naming the client's home.
pub const HOME_ENV: &str = "YINXIN_HOME";
/// The default log filter.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// The default clock tolerance: a larger offset from the server is a problem.
pub const DEFAULT_CLOCK_TOLERANCE_SECS: u64 = 300;

/// What can go wrong with the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither `$YINXIN_HOME` nor `$HOME` is set.
    #[error("neither YINXIN_HOME nor HOME is set")]
    NoHome,
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path} is not a valid yinxin configuration: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The client's home directory and the paths in it.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// `$YINXIN_HOME`, else `$HOME/.yinxin`.
    pub fn from_env() -> Result<Home, ConfigError> {
        if let Some(h) = std::env::var_os(HOME_ENV).filter(|h| !h.is_empty()) {
            return Ok(Home::at(PathBuf::from(h)));
        }
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or(ConfigError::NoHome)?;
        Ok(Home::at(PathBuf::from(home).join(".yinxin")))
    }

    /// A home at `root`.
    pub fn at(root: PathBuf) -> Home {
        Home { root }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// Software token stores.
    pub fn tokens_dir(&self) -> PathBuf {
        self.root.join("tokens")
    }

    /// The platform's root certificates.
    pub fn trust_dir(&self) -> PathBuf {
        self.root.join("trust")
    }

    /// Token stores moved aside by `--fix`.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join("quarantine")
    }

    /// The repair journal.
    pub fn repair_journal(&self) -> PathBuf {
        self.root.join("doctor").join("repairs.jsonl")
    }

    /// The default log directory.
    pub fn default_log_dir(&self) -> PathBuf {
        self.root.join("logs")
    }
}

/// `config.toml`; every field is optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The platform's base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// PKCS#11 modules (USB-key drivers) to check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pkcs11_modules: Vec<PathBuf>,
    /// systemd units of yinxin to check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// A larger clock offset from the server is a problem (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_tolerance_secs: Option<u64>,
    /// The platform's roots.
    #[serde(default)]
    pub trust: TrustConfig,
    /// The installation to check against its manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<InstallConfig>,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
}

/// `[trust]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustConfig {
    /// SHA-256 fingerprints of the platform's root certificates, `sha256:HEX` or `HEX`
    /// (colons allowed).
    #[serde(default)]
    pub pinned: Vec<String>,
}

impl TrustConfig {
    /// The pinned fingerprints as lowercase hex without separators; malformed ones are
    /// returned as errors to report.
    pub fn pinned_fingerprints(&self) -> Vec<Result<String, String>> {
        self.pinned
            .iter()
            .map(|p| {
                let hex: String = p
                    .trim()
                    .trim_start_matches("sha256:")
                    .chars()
                    .filter(|c| *c != ':')
                    .collect::<String>()
                    .to_ascii_lowercase();
                if hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    Ok(hex)
                } else {
                    Err(p.clone())
                }
            })
            .collect()
    }
}

/// `[install]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallConfig {
    /// The installation directory.
    pub root: PathBuf,
    /// The manifest (default `root/yinxin-manifest.json`); its signature is beside it with
    /// `.p7s` appended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<PathBuf>,
}

/// `[log]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter (`info`, `debug`, `info,yinxin_token=trace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Where the log files go (default `$YINXIN_HOME/logs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
}

impl ClientConfig {
    /// Read `home`'s `config.toml`; a missing file is the default configuration.
    pub fn load(home: &Home) -> Result<ClientConfig, ConfigError> {
        let path = home.config_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path,
            reason: e.message().to_string(),
        })
    }

    /// The log filter in force: `$YINXIN_LOG`, else the file's, else [`DEFAULT_LOG_LEVEL`].
    pub fn log_level(&self) -> (String, &'static str) {
        if let Ok(v) = std::env::var("YINXIN_LOG")
            && !v.trim().is_empty()
        {
            return (v, "YINXIN_LOG");
        }
        match &self.log.level {
            Some(l) => (l.clone(), "config.toml"),
            None => (DEFAULT_LOG_LEVEL.to_string(), "default"),
        }
    }

    /// Where logs go.
    pub fn log_dir(&self, home: &Home) -> PathBuf {
        self.log
            .dir
            .clone()
            .unwrap_or_else(|| home.default_log_dir())
    }

    /// The clock tolerance in seconds.
    pub fn clock_tolerance(&self) -> u64 {
        self.clock_tolerance_secs
            .unwrap_or(DEFAULT_CLOCK_TOLERANCE_SECS)
    }
}

/// Check a log filter the way the logger will read it.
pub fn check_log_level(level: &str) -> Result<(), String> {
    tracing_subscriber::EnvFilter::try_new(level)
        .map(|_| ())
        .map_err(|e| format!("{level:?} is not a log level or filter: {e}"))
}

/// Set `[log] level` in `home`'s `config.toml`, keeping everything else in it as it was,
/// and write the file atomically.
pub fn set_log_level(home: &Home, level: &str) -> Result<(), ConfigError> {
    let path = home.config_file();
    check_log_level(level).map_err(|reason| ConfigError::Invalid {
        path: path.clone(),
        reason,
    })?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ConfigError::Io { path, source }),
    };
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ConfigError::Invalid {
                path: path.clone(),
                reason: e.message().to_string(),
            })?;
    let log = doc
        .entry("log")
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
    let Some(log) = log.as_table_like_mut() else {
        return Err(ConfigError::Invalid {
            path,
            reason: "`log` must be a table".into(),
        });
    };
    log.insert("level", toml_edit::value(level));
    let text = doc.to_string();
    crate::fsutil::write_atomic(&path, text.as_bytes()).map_err(|source| ConfigError::Io {
        path: path.clone(),
        source,
    })
}
