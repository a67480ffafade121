//! `yinxin doctor`: finds out why the client does not work and says so in plain words.
//!
//! Named after the field failures it exists for: a soft-token store baked into a cloned OS
//! image (every PC says "no key inserted"), and a service binary replaced by other software
//! (the service keeps crashing). `docs/doctor.md` lists every check, finding code and the
//! JSON report.
//!
//! A run: [`Doctor::new`] reads `$YINXIN_HOME/config.toml` and the platform facts
//! ([`platform`]), [`Doctor::check`] runs the checks (`checks.rs`: machine, logging, trust,
//! server with CRL/OCSP/TSA/clock, software tokens, PKCS#11, certificates, installed files,
//! services) into a [`Report`]; [`Doctor::fix`] applies the safe [`Repair`]s the findings
//! offer and checks again; [`Doctor::undo`] reverts a quarantine; [`bundle::write`] packs a
//! redacted support bundle.

mod checks;
mod fsutil;

pub mod bundle;
pub mod config;
pub mod lang;
pub mod manifest;
pub mod platform;
pub mod redact;
pub mod repair;
pub mod report;
pub mod services;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

pub use crate::config::{ClientConfig, ConfigError, Home};
pub use crate::lang::{Lang, Text};
pub use crate::platform::Platform;
pub use crate::repair::{FreshPins, Repair};
pub use crate::report::{CheckId, Finding, Report, Status};

use crate::services::ServiceManager;

/// The client's log file name, in the log directory.
pub const LOG_FILE: &str = "yinxin.log";

/// How one run is asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The report's language.
    pub lang: Lang,
    /// The server to check, instead of the configured one.
    pub server: Option<String>,
    /// The installation manifest, instead of the configured or found one.
    pub manifest: Option<PathBuf>,
    /// The installation directory, instead of the configured or found one.
    pub install_root: Option<PathBuf>,
    /// Time-out of each network request.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lang: Lang::from_locale(),
            server: None,
            manifest: None,
            install_root: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What can stop the doctor before it checks anything.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    /// The configuration cannot be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The HTTP client cannot start.
    #[error("cannot start the HTTP client: {0}")]
    Http(String),
}

/// One doctor: the home, its configuration and this machine's facts.
pub struct Doctor {
    home: Home,
    config: ClientConfig,
    platform: Platform,
    options: Options,
    services: Option<Box<dyn ServiceManager>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Doctor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doctor")
            .field("home", &self.home)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Doctor {
    /// A doctor for `home` on this machine, with the platform's service manager (systemd)
    /// when there is one.
    pub fn new(home: Home, options: Options) -> Result<Doctor, DoctorError> {
        let services = services::Systemd::detect()
            .ok()
            .map(|s| Box::new(s) as Box<dyn ServiceManager>);
        Self::with_platform(home, options, Platform::current(), services)
    }

    /// A doctor with given platform facts and service manager.
    pub fn with_platform(
        home: Home,
        options: Options,
        platform: Platform,
        services: Option<Box<dyn ServiceManager>>,
    ) -> Result<Doctor, DoctorError> {
        let config = ClientConfig::load(&home)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("yinxin-doctor/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .build()
            .map_err(|e| DoctorError::Http(e.to_string()))?;
        Ok(Doctor {
            home,
            config,
            platform,
            options,
            services,
            http,
        })
    }

    /// The home checked.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// Its configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The platform facts.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    fn server(&self) -> Option<String> {
        self.options
            .server
            .clone()
            .or_else(|| self.config.server.clone())
            .map(|s| s.trim_end_matches('/').to_string())
    }

    /// Run every check.
    pub async fn check(&self) -> Report {
        let now = SystemTime::now();
        let mut run = checks::Run {
            home: &self.home,
            config: &self.config,
            platform: &self.platform,
            now,
            server: self.server(),
            manifest: self.options.manifest.clone(),
            install_root: self.options.install_root.clone(),
            services: self.services.as_deref(),
            http: self.http.clone(),
            anchors: Vec::new(),
            server_cas: Vec::new(),
            server_up: false,
            held: Vec::new(),
            modified_files: Vec::new(),
            findings: Vec::new(),
        };
        run.all().await;
        let mut context = Map::new();
        context.insert("home".into(), self.home.root().display().to_string().into());
        context.insert(
            "server".into(),
            self.server().map(Value::from).unwrap_or(Value::Null),
        );
        context.insert(
            "machine".into(),
            match &self.platform.machine {
                Ok(m) => m.fingerprint().into(),
                Err(_) => Value::Null,
            },
        );
        context.insert(
            "os_installed_at".into(),
            self.platform
                .os_installed_at
                .as_ref()
                .map(|t| Value::from(platform::rfc3339(t.at)))
                .unwrap_or(Value::Null),
        );
        Report {
            lang: self.options.lang,
            generated_at: platform::rfc3339(now),
            context,
            findings: run.findings,
            repairs: Vec::new(),
        }
    }

    /// Check, make every safe repair the findings offer, and check again; the new report
    /// lists the repairs. `pins` is asked once, and only when a store is to be replaced:
    /// `Ok(None)` when the user gives none (the store is still moved aside), `Err` when the
    /// PINs given cannot be read (nothing is moved).
    pub async fn fix(&self, pins: &dyn Fn() -> Result<Option<FreshPins>, String>) -> Report {
        let before = self.check().await;
        let replaces_store = before
            .repairs_available()
            .any(|f| matches!(f.repair, Some(Repair::QuarantineToken { .. })));
        let pins = if replaces_store { pins() } else { Ok(None) };
        let machine = self.platform.machine.as_ref().ok();
        let mut repairs = Vec::new();
        for finding in before.repairs_available() {
            match &finding.repair {
                Some(Repair::QuarantineToken {
                    path,
                    label,
                    reason,
                }) => repairs.extend(repair::quarantine_token(
                    &self.home,
                    machine,
                    path,
                    label,
                    reason,
                    pins.as_ref().map(Option::as_ref).map_err(String::as_str),
                )),
                Some(Repair::InstallRoots {
                    fingerprints,
                    pinned,
                }) => {
                    if let Some(server) = self.server() {
                        repairs.extend(
                            repair::install_roots(
                                &self.home,
                                &self.http,
                                &server,
                                fingerprints,
                                pinned,
                            )
                            .await,
                        );
                    }
                }
                None => {}
            }
        }
        let mut after = self.check().await;
        if repairs.is_empty() {
            repairs.push(report::RepairOutcome {
                code: "fix.nothing",
                done: false,
                message: text!(en: "Nothing that is safe to repair automatically was found.";
                               zh: "未发现可以安全自动修复的项目。"),
                facts: Map::new(),
            });
        }
        after.repairs = repairs;
        after
    }

    /// Put back a quarantined store (`id`, else the newest), then check.
    pub async fn undo(&self, id: Option<&str>) -> Report {
        let repairs = repair::undo(&self.home, id);
        let mut after = self.check().await;
        after.repairs = repairs;
        after
    }
}

#[cfg(test)]
mod tests {
    /// Every finding and repair code the checks can emit is documented in `docs/doctor.md`,
    /// since integrators match on them.
    #[test]
    fn every_code_is_documented() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let docs = std::fs::read_to_string(root.join("../../docs/doctor.md")).unwrap_or_default();
        let finding = regex::Regex::new(r#"CheckId::\w+,\s*"([a-z0-9_]+\.[a-z0-9_]+)""#)
            .unwrap_or_else(|e| panic!("{e}"));
        let repair = regex::Regex::new(r#"(?:outcome\(|code: )\s*"([a-z0-9_]+\.[a-z0-9_]+)""#)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut sources = Vec::new();
        let mut dirs = vec![root.join("src")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    sources.push(std::fs::read_to_string(p).unwrap_or_default());
                }
            }
        }
        let mut codes: Vec<String> = sources
            .iter()
            .flat_map(|s| {
                finding
                    .captures_iter(s)
                    .chain(repair.captures_iter(s))
                    .map(|c| c[1].to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        codes.sort();
        codes.dedup();
        assert!(codes.len() > 60, "found only {} codes", codes.len());
        let missing: Vec<_> = codes
            .iter()
            .filter(|c| !docs.contains(&format!("`{c}`")))
            .collect();
        assert!(missing.is_empty(), "not in docs/doctor.md: {missing:?}");
    }
}
