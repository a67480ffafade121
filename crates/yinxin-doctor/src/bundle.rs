//! `yinxin doctor --bundle FILE.tar.gz`: what support needs, with every secret left out.
//!
//! Contents (under one folder `yinxin-support-STAMP/`): `README.txt`, `report.json`,
//! `report.txt`, `versions.json`, `integrity.json` (the manifest comparison), `config.toml`,
//! `tokens.json` (public facts of each store: label, serial, machine binding, certificate
//! serials and validity — never the file), `environment.txt`, `quarantine.json`,
//! `repairs.jsonl` and `logs/` (the last [`LOG_TAIL`] bytes of each log file).
//!
//! What never goes in: token files, key files, PINs (the values of `YINXIN_PIN`,
//! `YINXIN_SO_PIN`, `YINXIN_NEW_PIN` and PIN files are scrubbed wherever they appear), the
//! machine identity itself (its fingerprint only), API tokens, personal names and numbers in
//! certificate subjects and logs ([`Redactor`]).

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use yinxin_token::soft;

use crate::Doctor;
use crate::platform::{compact_stamp, rfc3339};
use crate::redact::Redactor;
use crate::report::Report;

/// How much of each log file goes in (its end).
pub const LOG_TAIL: u64 = 1024 * 1024;

/// Environment variables whose values are secrets wherever they turn up.
pub const SECRET_VARIABLES: [&str; 4] = [
    "YINXIN_PIN",
    "YINXIN_SO_PIN",
    "YINXIN_NEW_PIN",
    "YINXIN_TOKEN",
];

/// What can go wrong writing a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The bundle.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Personal names learned from X.509 names (`CN=张三`, `/CN=张三`, `SN=…`, `GN=…`) in the
/// given texts: once seen in a subject, a name is scrubbed wherever else it appears (a log
/// line `user=张三` says nothing a pattern could recognise).
fn learn_names(texts: &[String]) -> Vec<String> {
    let Ok(re) = regex::Regex::new(
        r"(?:^|[,/\s;])(?:CN|SN|GN|commonName|surname|givenName)\s*=\s*([^,/;\n\r+=]+)",
    ) else {
        return Vec::new();
    };
    let mut names: Vec<String> = texts
        .iter()
        .flat_map(|t| {
            re.captures_iter(t)
                .filter_map(|c| c.get(1))
                .map(|m| m.as_str().trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|n| n.chars().count() >= 2 && !is_service_name(n))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Names of CAs, responders and hosts are not personal: support needs to see them.
fn is_service_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.contains('.')
        || lower.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
            matches!(
                w,
                "ca" | "root" | "ocsp" | "tsa" | "timestamp" | "server" | "signing"
            )
        })
}

/// The texts a bundle takes from the home (log tails, the journal) and the subjects of the
/// certificates on its tokens, for [`learn_names`].
fn personal_sources(doctor: &Doctor) -> Vec<String> {
    let home = doctor.home();
    let mut texts = Vec::new();
    if let Ok(entries) = std::fs::read_dir(doctor.config().log_dir(home)) {
        for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if p.is_file() {
                texts.push(tail(&p, LOG_TAIL));
            }
        }
    }
    for p in crate::checks::token_files(&home.tokens_dir()) {
        if let Ok(s) = soft::inspect(&p) {
            for (_, _, der) in s.certificates {
                if let Ok(c) = <yinxin_pki::certificate::Certificate as der::Decode>::from_der(&der)
                {
                    texts.push(c.tbs_certificate().subject().to_string());
                }
            }
        }
    }
    texts
}

/// The redactor for a bundle: the patterns, plus the secrets this process knows of and the
/// personal names found in certificate subjects.
pub fn redactor(doctor: &Doctor, report: &Report, extra_secrets: &[&str]) -> Redactor {
    let mut r = Redactor::new();
    let mut sources = personal_sources(doctor);
    // Subjects of every certificate the run found, on USB keys as well as soft tokens.
    sources.extend(report.findings.iter().filter_map(|f| {
        f.facts
            .get("subject")
            .and_then(Value::as_str)
            .map(str::to_string)
    }));
    for name in learn_names(&sources) {
        r = r.with_secret(&name);
    }
    for var in SECRET_VARIABLES {
        if let Ok(v) = std::env::var(var) {
            r = r.with_secret(&v);
        }
    }
    if let Ok(m) = &doctor.platform().machine
        && let Ok(raw) = std::fs::read_to_string(m.source())
    {
        r = r.with_secret(raw.trim());
    }
    for s in extra_secrets {
        r = r.with_secret(s);
    }
    r
}

struct Builder<W: Write> {
    tar: tar::Builder<W>,
    root: String,
    redactor: Redactor,
}

impl<W: Write> Builder<W> {
    fn add(&mut self, name: &str, data: &[u8]) -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(crate::platform::unix(SystemTime::now()).max(0) as u64);
        header.set_cksum();
        self.tar
            .append_data(&mut header, format!("{}/{name}", self.root), data)
    }

    fn add_text(&mut self, name: &str, text: &str) -> std::io::Result<()> {
        let clean = self.redactor.text(text);
        self.add(name, clean.as_bytes())
    }

    fn add_json(&mut self, name: &str, mut value: Value) -> std::io::Result<()> {
        self.redactor.json(&mut value);
        let mut bytes = serde_json::to_vec_pretty(&value).unwrap_or_default();
        bytes.push(b'\n');
        self.add(name, &bytes)
    }
}

/// Write the bundle for `report` to `path` (a `.tar.gz`).
pub fn write(
    path: &Path,
    doctor: &Doctor,
    report: &Report,
    redactor: Redactor,
) -> Result<(), BundleError> {
    let io = |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Readable by its owner only until the user decides to send it.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(io)?;
    let gz = GzEncoder::new(file, Compression::default());
    let stamp = compact_stamp(SystemTime::now());
    let mut b = Builder {
        tar: tar::Builder::new(gz),
        root: format!("yinxin-support-{stamp}"),
        redactor,
    };
    contents(&mut b, doctor, report).map_err(io)?;
    let gz = b.tar.into_inner().map_err(io)?;
    let file = gz.finish().map_err(io)?;
    file.sync_all().map_err(io)
}

fn contents<W: Write>(b: &mut Builder<W>, doctor: &Doctor, report: &Report) -> std::io::Result<()> {
    let home = doctor.home();
    b.add_text(
        "README.txt",
        &format!(
            "yinxin support bundle, made {} by `yinxin doctor --bundle`.\n\n\
         report.json / report.txt   what the doctor found (report.json: format {})\n\
         versions.json              yinxin, the OS and the PKCS#11 drivers\n\
         integrity.json             installed files against the signed manifest\n\
         config.toml                the client configuration\n\
         tokens.json                public facts of each software token store (never the store)\n\
         environment.txt            locale and yinxin variables\n\
         quarantine.json            stores moved aside by `yinxin doctor --fix`\n\
         repairs.jsonl              every repair and undo\n\
         logs/                      the end of each log file\n\n\
         Left out or redacted: token stores, key files, PINs, API tokens, the machine identity\n\
         (its fingerprint stays), personal names, ID, phone and e-mail in names and logs.\n",
            rfc3339(SystemTime::now()),
            crate::report::REPORT_FORMAT
        ),
    )?;
    b.add_json("report.json", report.to_json())?;
    b.add_text("report.txt", &report.to_text())?;
    b.add_json("versions.json", versions(doctor))?;
    let integrity: Vec<Value> = report
        .findings
        .iter()
        .filter(|f| f.check == crate::report::CheckId::Integrity)
        .map(
            |f| json!({"code": f.code, "status": f.status, "subject": f.subject, "facts": f.facts}),
        )
        .collect();
    b.add_json("integrity.json", Value::Array(integrity))?;
    match std::fs::read_to_string(home.config_file()) {
        Ok(text) => {
            let clean = match text.parse::<toml::Table>() {
                Ok(t) => {
                    let mut v = toml::Value::Table(t);
                    b.redactor.toml(&mut v);
                    toml::to_string_pretty(&v).unwrap_or_default()
                }
                Err(_) => b.redactor.text(&text),
            };
            b.add("config.toml", clean.as_bytes())?;
        }
        Err(_) => b.add("config.toml", b"# no config.toml\n")?,
    }
    b.add_json("tokens.json", tokens(home))?;
    b.add_text("environment.txt", &environment())?;
    let quarantine: Vec<Value> = crate::repair::quarantined(home)
        .into_iter()
        .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
        .collect();
    b.add_json("quarantine.json", Value::Array(quarantine))?;
    if let Ok(j) = std::fs::read_to_string(home.repair_journal()) {
        b.add_text("repairs.jsonl", &j)?;
    }
    let log_dir = doctor.config().log_dir(home);
    if let Ok(entries) = std::fs::read_dir(&log_dir) {
        let mut logs: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().contains(".log"))
            })
            .collect();
        logs.sort();
        for p in logs {
            if let Some(name) = p.file_name().map(|n| n.to_string_lossy().into_owned()) {
                b.add_text(&format!("logs/{name}"), &tail(&p, LOG_TAIL))?;
            }
        }
    }
    Ok(())
}

/// The last `max` bytes of a file, from the first whole line.
fn tail(path: &Path, max: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(max);
    if f.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    let _ = f.take(max).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    if start > 0 {
        text.split_once('\n')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default()
    } else {
        text
    }
}

fn versions(doctor: &Doctor) -> Value {
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        });
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_string());
    let drivers: Vec<Value> = doctor
        .config()
        .pkcs11_modules
        .iter()
        .map(|m| match yinxin_token::pkcs11::probe::probe(m) {
            Ok(r) => json!({"module": m, "library": r.library_description.trim(), "manufacturer": r.manufacturer.trim(), "version": r.library_version, "cryptoki": r.cryptoki_version}),
            Err(e) => json!({"module": m, "error": e.to_string()}),
        })
        .collect();
    json!({
        "yinxin": env!("CARGO_PKG_VERSION"),
        "executable": std::env::current_exe().ok(),
        "os": os,
        "kernel": kernel,
        "arch": std::env::consts::ARCH,
        "pkcs11_drivers": drivers,
    })
}

fn tokens(home: &crate::config::Home) -> Value {
    let stores: Vec<Value> = crate::checks::token_files(&home.tokens_dir())
        .into_iter()
        .map(|p| match soft::inspect(&p) {
            Ok(s) => {
                let certs: Vec<Value> = s
                    .certificates
                    .iter()
                    .map(|(container, usage, der)| {
                        let parsed: Option<yinxin_pki::certificate::Certificate> = der::Decode::from_der(der).ok();
                        json!({
                            "container": container,
                            "usage": usage.name(),
                            "subject": parsed.as_ref().map(|c| c.tbs_certificate().subject().to_string()),
                            "issuer": parsed.as_ref().map(|c| c.tbs_certificate().issuer().to_string()),
                            "serial": parsed.as_ref().map(|c| hex::encode(c.tbs_certificate().serial_number().as_bytes())),
                            "not_after": parsed.as_ref().map(|c| rfc3339(c.tbs_certificate().validity().not_after.to_system_time())),
                        })
                    })
                    .collect();
                json!({
                    "file": p.file_name().map(|n| n.to_string_lossy().into_owned()),
                    "size": std::fs::metadata(&p).map(|m| m.len()).ok(),
                    "label": s.label,
                    "serial": s.serial,
                    "created_at": std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(s.created_at)).map(rfc3339),
                    "created_on": s.created_on,
                    "pin_retries_left": s.user_pin_retries_left,
                    "certificates": certs,
                })
            }
            Err(e) => json!({"file": p.file_name().map(|n| n.to_string_lossy().into_owned()), "error": e.to_string()}),
        })
        .collect();
    Value::Array(stores)
}

fn environment() -> String {
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| {
            k.starts_with("YINXIN_")
                || k.starts_with("LC_")
                || matches!(k.as_str(), "LANG" | "LANGUAGE" | "TZ" | "SOFTHSM2_CONF")
        })
        .map(|(k, v)| {
            let shown =
                if SECRET_VARIABLES.contains(&k.as_str()) || crate::redact::is_secret_key(&k) {
                    "[REDACTED]".to_string()
                } else {
                    v
                };
            (k, shown)
        })
        .collect();
    vars.sort();
    vars.into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect()
}
