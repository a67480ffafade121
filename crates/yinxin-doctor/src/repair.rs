//! `yinxin doctor --fix` and `--undo`: the repairs that are safe to make.
//!
//! Safe means: nothing is deleted. A token store that belongs to another machine is moved
//! into `$YINXIN_HOME/quarantine/ID/` with a `repair.json` saying where it came from and its
//! SHA-256, and a fresh store is created in its place when the user gives new PINs;
//! `--undo` moves it back (quarantining the fresh store the same way, since it may hold new
//! keys by then). Missing roots are installed only when they match a pinned fingerprint.
//! Program files are never touched. Every repair is appended to
//! `$YINXIN_HOME/doctor/repairs.jsonl` and logged.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use yinxin_crypto::{HashAlgorithm, hash};
use yinxin_token::soft::{self, InitOptions};
use yinxin_token::{MachineIdentity, SoftToken};
use zeroize::Zeroizing;

use crate::config::Home;
use crate::fsutil;
use crate::platform::{compact_stamp, rfc3339};
use crate::report::RepairOutcome;
use crate::text;

/// A repair `--fix` may make for a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repair {
    /// Move a token store that does not belong to this machine into quarantine and create a
    /// fresh one with the same label.
    QuarantineToken {
        /// The store.
        path: PathBuf,
        /// Its label, for the fresh store.
        label: String,
        /// The finding's code.
        reason: &'static str,
    },
    /// Install the pinned roots that are missing, from the server.
    InstallRoots {
        /// The missing ones' SHA-256 fingerprints (hex).
        fingerprints: Vec<String>,
        /// Every pinned fingerprint (a pinned root already installed is not "refused").
        pinned: Vec<String>,
    },
}

/// New PINs for the fresh token stores `--fix` creates.
pub struct FreshPins {
    /// The SO PIN.
    pub so_pin: Zeroizing<String>,
    /// The user PIN.
    pub user_pin: Zeroizing<String>,
}

impl std::fmt::Debug for FreshPins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FreshPins(..)")
    }
}

/// A quarantined file's record, `repair.json` beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuarantineRecord {
    /// The folder's name under `quarantine/`.
    pub id: String,
    /// Why it was moved: a finding code, or `undo.replaced` for a store moved aside by
    /// `--undo`.
    pub reason: String,
    /// Where it was.
    pub original: PathBuf,
    /// The file's name inside the folder.
    pub file: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// When it was moved (RFC 3339).
    pub quarantined_at: String,
    /// Whether a fresh store was created in its place.
    pub fresh_created: bool,
    /// When `--undo` put it back, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undone_at: Option<String>,
}

/// Append a repair to the journal and the log.
pub(crate) fn journal(home: &Home, action: &str, details: Value) {
    let line = json!({"time": rfc3339(SystemTime::now()), "action": action, "details": details});
    tracing::info!(action, details = %details, "doctor repair");
    if let Err(e) = fsutil::append_line(&home.repair_journal(), &line.to_string()) {
        tracing::warn!(error = %e, "cannot write the repair journal");
    }
}

fn outcome(
    code: &'static str,
    done: bool,
    message: crate::lang::Text,
    facts: Value,
) -> RepairOutcome {
    RepairOutcome {
        code,
        done,
        message,
        facts: match facts {
            Value::Object(m) => m,
            _ => Map::new(),
        },
    }
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    Ok(hex::encode(hash::digest(
        HashAlgorithm::Sha256,
        &std::fs::read(path)?,
    )))
}

/// Move `path` into a new quarantine folder; the record written beside it.
fn quarantine(home: &Home, path: &Path, reason: &str) -> Result<QuarantineRecord, String> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "token".into());
    let file = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "token".into());
    let now = SystemTime::now();
    let base = format!("{}-{name}", compact_stamp(now));
    let qdir = home.quarantine_dir();
    let mut id = base.clone();
    let mut n = 1;
    while qdir.join(&id).exists() {
        n += 1;
        id = format!("{base}-{n}");
    }
    let dir = qdir.join(&id);
    let sha256 = sha256_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    fsutil::create_private_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let record = QuarantineRecord {
        id: id.clone(),
        reason: reason.to_string(),
        original: path.to_path_buf(),
        file: file.clone(),
        sha256,
        quarantined_at: rfc3339(now),
        fresh_created: false,
        undone_at: None,
    };
    // The record goes first: a crash between the two steps leaves a record without a file,
    // never a file nobody can trace back.
    write_record(&dir, &record)?;
    if let Err(e) = fsutil::move_file(path, &dir.join(&file)) {
        // Nothing moved: take the record back so that no quarantine seems to exist.
        let _ = std::fs::remove_file(dir.join("repair.json"));
        let _ = std::fs::remove_dir(&dir);
        return Err(format!("moving {}: {e}", path.display()));
    }
    Ok(record)
}

fn write_record(dir: &Path, record: &QuarantineRecord) -> Result<(), String> {
    let json = serde_json::to_vec_pretty(record).map_err(|e| e.to_string())?;
    fsutil::write_atomic(&dir.join("repair.json"), &json)
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Every quarantine record, oldest first.
pub fn quarantined(home: &Home) -> Vec<QuarantineRecord> {
    let Ok(entries) = std::fs::read_dir(home.quarantine_dir()) else {
        return Vec::new();
    };
    // A record is known by its folder's name, and names a plain file inside that folder:
    // an edited or copied repair.json cannot point undo anywhere else.
    let mut records: Vec<QuarantineRecord> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let id = e.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(e.path().join("repair.json")).ok()?;
            let mut r: QuarantineRecord = serde_json::from_slice(&bytes).ok()?;
            r.id = id;
            let plain = Path::new(&r.file)
                .file_name()
                .is_some_and(|n| n == r.file.as_str());
            plain.then_some(r)
        })
        .collect();
    records.sort_by(|a, b| {
        a.quarantined_at
            .cmp(&b.quarantined_at)
            .then(a.id.cmp(&b.id))
    });
    records
}

/// Quarantine a token store and, with `pins`, create a fresh one in its place bound to
/// `machine`. PINs that cannot be used stop the repair before anything moves.
pub(crate) fn quarantine_token(
    home: &Home,
    machine: Option<&MachineIdentity>,
    path: &Path,
    label: &str,
    reason: &str,
    pins: Result<Option<&FreshPins>, &str>,
) -> Vec<RepairOutcome> {
    let mut out = Vec::new();
    let usable = pins.and_then(|p| match p {
        Some(p) => yinxin_token::check_pin_rules(&p.so_pin)
            .and_then(|()| yinxin_token::check_pin_rules(&p.user_pin))
            .map(|()| Some(p))
            .map_err(|_| "a new PIN does not follow the PIN rules (6 to 64 characters)"),
        None => Ok(None),
    });
    let pins =
        match usable {
            Ok(p) => p,
            Err(e) => {
                out.push(outcome("token.fresh_failed", false,
                text!(en: "The new PINs cannot be used ({e}); {} was not moved.", path.display();
                      zh: "新的 PIN 无法使用（{e}），{} 未被移动。", path.display()),
                json!({"path": path, "error": e})));
                return out;
            }
        };
    let mut record = match quarantine(home, path, reason) {
        Ok(r) => r,
        Err(e) => {
            out.push(outcome(
                "token.quarantine_failed",
                false,
                text!(en: "Could not move {} aside: {e}; nothing was changed.", path.display();
                      zh: "无法移走 {}：{e}；未做任何更改。", path.display()),
                json!({"path": path, "error": e}),
            ));
            return out;
        }
    };
    let qdir = home.quarantine_dir().join(&record.id);
    journal(
        home,
        "token.quarantined",
        json!({"id": record.id, "original": path, "sha256": record.sha256, "reason": reason}),
    );
    out.push(outcome("token.quarantined", true,
        text!(en: "Moved the copied token store {} to {} (kept, not deleted; `yinxin doctor --undo {}` puts it back).", path.display(), qdir.display(), record.id;
              zh: "已将复制来的软证书库 {} 移至 {}（保留，未删除；`yinxin doctor --undo {}` 可恢复）。", path.display(), qdir.display(), record.id),
        json!({"id": record.id, "original": path, "quarantine": qdir, "sha256": record.sha256})));
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match pins {
        None => out.push(outcome("token.fresh_skipped", false,
            text!(en: "No new PINs were given, so no fresh store was created: run `yinxin token init --name {name}`, then enrol again (`yinxin token enroll --name {name} --server URL --container NAME --subject DN`).";
                  zh: "未提供新的 PIN，因此未新建证书库：请运行 `yinxin token init --name {name}`，然后重新申请证书（`yinxin token enroll --name {name} --server URL --container NAME --subject DN`）。"),
            json!({"path": path}))),
        Some(p) => {
            let options = InitOptions { label: label.to_string(), ..InitOptions::default() };
            let made = match machine {
                Some(m) => SoftToken::init_on(m.clone(), path, &p.so_pin, &p.user_pin, &options),
                None => SoftToken::init(path, &p.so_pin, &p.user_pin, &options),
            };
            match made {
                Ok(_) => {
                    record.fresh_created = true;
                    if let Err(e) = write_record(&qdir, &record) {
                        tracing::warn!(error = %e, "updating the quarantine record");
                    }
                    journal(home, "token.fresh_created", json!({"path": path, "label": label}));
                    out.push(outcome("token.fresh_created", true,
                        text!(en: "Created a fresh token store \"{name}\" bound to this machine. It has no keys yet: enrol again (`yinxin token enroll --name {name} --server URL --container NAME --subject DN`) or restore your own backup.";
                              zh: "已新建与本机绑定的软证书库“{name}”。其中还没有密钥：请重新申请证书（`yinxin token enroll --name {name} --server URL --container NAME --subject DN`）或恢复您自己的备份。"),
                        json!({"path": path, "label": label})));
                }
                Err(e) => out.push(outcome("token.fresh_failed", false,
                    text!(en: "The copied store was moved aside, but a fresh one could not be created: {e}. Run `yinxin token init --name {name}`.";
                          zh: "已移走复制来的证书库，但无法新建证书库：{e}。请运行 `yinxin token init --name {name}`。"),
                    json!({"path": path, "error": e.to_string()}))),
            }
        }
    }
    out
}

/// Install the pinned roots the server offers.
pub(crate) async fn install_roots(
    home: &Home,
    http: &reqwest::Client,
    server: &str,
    wanted: &[String],
    pinned: &[String],
) -> Vec<RepairOutcome> {
    let (matched, refused) = match crate::checks::fetch_roots(http, server, wanted, pinned).await {
        Ok(x) => x,
        Err(e) => {
            return vec![outcome(
                "trust.install_failed",
                false,
                text!(en: "Could not fetch the roots from the server: {e}.";
                      zh: "无法从服务器获取根证书：{e}。"),
                json!({"error": e}),
            )];
        }
    };
    let mut out = Vec::new();
    for (name, cert) in matched {
        let fp = crate::checks::trust_fingerprint(&cert);
        let pem = match yinxin_pki::certificate::to_der(&cert) {
            Ok(der) => yinxin_crypto::pem::encode("CERTIFICATE", &der),
            Err(e) => {
                out.push(outcome("trust.install_failed", false,
                    text!(en: "Root {name} cannot be encoded: {e}."; zh: "根证书 {name} 无法编码：{e}。"),
                    json!({"fingerprint": format!("sha256:{fp}")})));
                continue;
            }
        };
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // Never replace a file in the trust folder: the first free name wins.
        let short = fp.get(..12).unwrap_or(&fp);
        let path = (0..100)
            .map(|n| match n {
                0 => home.trust_dir().join(format!("{safe}.pem")),
                n => home.trust_dir().join(format!("{safe}-{short}-{n}.pem")),
            })
            .find(|p| std::fs::symlink_metadata(p).is_err())
            .unwrap_or_else(|| home.trust_dir().join(format!("{safe}-{fp}.pem")));
        match fsutil::write_new(&path, pem.as_bytes()) {
            Ok(()) => {
                journal(home, "trust.installed", json!({"path": path, "fingerprint": format!("sha256:{fp}"), "server": server}));
                out.push(outcome("trust.installed", true,
                    text!(en: "Installed root {name} (sha256:{fp}, matches the pinned fingerprint) as {}.", path.display();
                          zh: "已安装根证书 {name}（sha256:{fp}，与指定指纹一致）到 {}。", path.display()),
                    json!({"path": path, "fingerprint": format!("sha256:{fp}")})));
            }
            Err(e) => out.push(outcome("trust.install_failed", false,
                text!(en: "Could not write {}: {e}.", path.display(); zh: "无法写入 {}：{e}。", path.display()),
                json!({"path": path, "error": e.to_string()}))),
        }
    }
    if !refused.is_empty() {
        out.push(outcome("trust.refused", false,
            text!(en: "Refused {} root(s) from the server whose fingerprint is not pinned: {}.", refused.len(), refused.join(", ");
                  zh: "拒绝了服务器提供的 {} 个未被指定的根证书：{}。", refused.len(), refused.join("、")),
            json!({"fingerprints": refused})));
    }
    out
}

/// Put a quarantined token store back (the newest not yet undone, or `id`).
pub fn undo(home: &Home, id: Option<&str>) -> Vec<RepairOutcome> {
    let records = quarantined(home);
    let pick = match id {
        Some(id) => records.into_iter().find(|r| r.id == id),
        None => records
            .into_iter()
            .rev()
            .find(|r| r.undone_at.is_none() && r.reason != "undo.replaced"),
    };
    let Some(mut record) = pick else {
        return vec![outcome(
            "undo.nothing",
            false,
            text!(en: "There is nothing to undo{}.", id.map(|i| format!(" named {i}")).unwrap_or_default();
                  zh: "没有可撤销的修复{}。", id.map(|i| format!("（{i}）")).unwrap_or_default()),
            json!({"id": id}),
        )];
    };
    if record.undone_at.is_some() {
        return vec![outcome(
            "undo.already",
            false,
            text!(en: "{} was already put back on {}.", record.id, record.undone_at.clone().unwrap_or_default();
                  zh: "{} 已于 {} 恢复。", record.id, record.undone_at.clone().unwrap_or_default()),
            json!({"id": record.id}),
        )];
    }
    let dir = home.quarantine_dir().join(&record.id);
    let stored = dir.join(&record.file);
    let mut out = Vec::new();
    let in_tokens = record.original.parent() == Some(home.tokens_dir().as_path())
        && record
            .original
            .extension()
            .is_some_and(|e| e == soft::FILE_EXTENSION);
    if !in_tokens {
        return vec![outcome(
            "undo.failed",
            false,
            text!(en: "{} would go back to {}, which is not a token store in {}; move it by hand if that is right.", record.id, record.original.display(), home.tokens_dir().display();
                  zh: "{} 将恢复到 {}，但该位置不是 {} 中的证书库；如确需恢复请手工移动。", record.id, record.original.display(), home.tokens_dir().display()),
            json!({"id": record.id, "original": record.original}),
        )];
    }
    match sha256_file(&stored) {
        Ok(h) if h == record.sha256 => {}
        Ok(h) => {
            return vec![outcome(
                "undo.changed",
                false,
                text!(en: "The quarantined file {} changed since it was moved (SHA-256 {h}, recorded {}); it is left where it is.", stored.display(), record.sha256;
                      zh: "隔离的文件 {} 在移走后被修改（SHA-256 {h}，记录为 {}），保持原处不动。", stored.display(), record.sha256),
                json!({"id": record.id}),
            )];
        }
        Err(e) => {
            return vec![outcome(
                "undo.missing",
                false,
                text!(en: "The quarantined file {} cannot be read: {e}.", stored.display();
                      zh: "无法读取隔离的文件 {}：{e}。", stored.display()),
                json!({"id": record.id}),
            )];
        }
    }
    if record.original.exists() {
        match quarantine(home, &record.original, "undo.replaced") {
            Ok(r) => {
                journal(
                    home,
                    "undo.replaced",
                    json!({"id": r.id, "original": r.original, "sha256": r.sha256}),
                );
                out.push(outcome("undo.replaced", true,
                    text!(en: "Moved the store now at {} to {} so that nothing is lost.", record.original.display(), home.quarantine_dir().join(&r.id).display();
                          zh: "已将当前位于 {} 的证书库移至 {}，以免丢失。", record.original.display(), home.quarantine_dir().join(&r.id).display()),
                    json!({"id": r.id, "path": r.original})));
            }
            Err(e) => {
                out.push(outcome("undo.failed", false,
                    text!(en: "Could not move the store now at {} aside: {e}; nothing was put back.", record.original.display();
                          zh: "无法移走当前位于 {} 的证书库：{e}；未做恢复。", record.original.display()),
                    json!({"id": record.id, "error": e})));
                return out;
            }
        }
    }
    match fsutil::move_file(&stored, &record.original) {
        Ok(()) => {
            record.undone_at = Some(rfc3339(SystemTime::now()));
            if let Err(e) = write_record(&dir, &record) {
                tracing::warn!(error = %e, "updating the quarantine record");
            }
            journal(
                home,
                "undo.restored",
                json!({"id": record.id, "original": record.original}),
            );
            out.push(outcome(
                "undo.restored",
                true,
                text!(en: "Put {} back from quarantine {}.", record.original.display(), record.id;
                      zh: "已从隔离区 {} 恢复 {}。", record.id, record.original.display()),
                json!({"id": record.id, "path": record.original}),
            ));
        }
        Err(e) => out.push(outcome(
            "undo.failed",
            false,
            text!(en: "Could not put {} back: {e}.", record.original.display();
                  zh: "无法恢复 {}：{e}。", record.original.display()),
            json!({"id": record.id, "error": e.to_string()}),
        )),
    }
    out
}
