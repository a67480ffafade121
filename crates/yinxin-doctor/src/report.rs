//! What the doctor found: one [`Finding`] per thing checked, gathered in a [`Report`], shown
//! as a table for people or as stable JSON for machines (`docs/doctor.md` documents it).

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::lang::{Lang, Text};
use crate::repair::Repair;

/// The JSON report's format name; it changes only when a field changes meaning or goes.
pub const REPORT_FORMAT: &str = "yinxin-doctor/1";

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Works.
    Ok,
    /// Works now but will not for long, or could not be checked.
    Warning,
    /// Does not work: this is why something fails.
    Problem,
}

impl Status {
    fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Status::Ok, Lang::En) => "ok",
            (Status::Warning, Lang::En) => "WARNING",
            (Status::Problem, Lang::En) => "PROBLEM",
            (Status::Ok, Lang::Zh) => "正常",
            (Status::Warning, Lang::Zh) => "警告",
            (Status::Problem, Lang::Zh) => "问题",
        }
    }
}

/// Which check a finding comes from. The names are part of the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    /// This machine's identity and installation time.
    Machine,
    /// Software token stores under `$YINXIN_HOME/tokens`.
    Token,
    /// PKCS#11 modules (USB-key drivers) and their tokens.
    Pkcs11,
    /// Certificates on the tokens: validity, chain, revocation.
    Certificate,
    /// The platform's root certificates.
    Trust,
    /// The local clock against the server's.
    Clock,
    /// The server answers at all.
    Server,
    /// The server's CRLs.
    Crl,
    /// The server's OCSP responder.
    Ocsp,
    /// The server's time-stamping authority.
    Tsa,
    /// Installed files against the signed manifest.
    Integrity,
    /// Services under the service manager.
    Service,
    /// Log level and log files.
    Logging,
}

impl CheckId {
    /// The name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            CheckId::Machine => "machine",
            CheckId::Token => "token",
            CheckId::Pkcs11 => "pkcs11",
            CheckId::Certificate => "certificate",
            CheckId::Trust => "trust",
            CheckId::Clock => "clock",
            CheckId::Server => "server",
            CheckId::Crl => "crl",
            CheckId::Ocsp => "ocsp",
            CheckId::Tsa => "tsa",
            CheckId::Integrity => "integrity",
            CheckId::Service => "service",
            CheckId::Logging => "logging",
        }
    }

    fn title(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (CheckId::Machine, Lang::En) => "machine",
            (CheckId::Token, Lang::En) => "soft token",
            (CheckId::Pkcs11, Lang::En) => "USB key (PKCS#11)",
            (CheckId::Certificate, Lang::En) => "certificate",
            (CheckId::Trust, Lang::En) => "root certificates",
            (CheckId::Clock, Lang::En) => "clock",
            (CheckId::Server, Lang::En) => "server",
            (CheckId::Crl, Lang::En) => "CRL",
            (CheckId::Ocsp, Lang::En) => "OCSP",
            (CheckId::Tsa, Lang::En) => "timestamps",
            (CheckId::Integrity, Lang::En) => "installed files",
            (CheckId::Service, Lang::En) => "service",
            (CheckId::Logging, Lang::En) => "logging",
            (CheckId::Machine, Lang::Zh) => "本机",
            (CheckId::Token, Lang::Zh) => "软证书库",
            (CheckId::Pkcs11, Lang::Zh) => "USB Key 驱动",
            (CheckId::Certificate, Lang::Zh) => "证书",
            (CheckId::Trust, Lang::Zh) => "根证书",
            (CheckId::Clock, Lang::Zh) => "系统时间",
            (CheckId::Server, Lang::Zh) => "服务器",
            (CheckId::Crl, Lang::Zh) => "证书吊销列表",
            (CheckId::Ocsp, Lang::Zh) => "在线证书状态",
            (CheckId::Tsa, Lang::Zh) => "时间戳服务",
            (CheckId::Integrity, Lang::Zh) => "安装文件",
            (CheckId::Service, Lang::Zh) => "系统服务",
            (CheckId::Logging, Lang::Zh) => "日志",
        }
    }
}

/// One thing checked and what was found.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The check.
    pub check: CheckId,
    /// A stable code naming exactly what was found, e.g. `token.copied` (listed in
    /// `docs/doctor.md`).
    pub code: &'static str,
    /// How bad it is.
    pub status: Status,
    /// What it is about: a file, a URL, a unit, a token label.
    pub subject: String,
    /// What it means for the user, in plain words.
    pub message: Text,
    /// The exact fix, when something is to be done.
    pub fix: Option<Text>,
    /// Machine-readable details; keys are stable per code.
    pub facts: Map<String, Value>,
    /// What `yinxin doctor --fix` would do about it, if it is safe to do.
    pub repair: Option<Repair>,
}

impl Finding {
    /// A finding without a fix, facts or repair.
    pub fn new(
        check: CheckId,
        code: &'static str,
        status: Status,
        subject: impl Into<String>,
        message: Text,
    ) -> Finding {
        Finding {
            check,
            code,
            status,
            subject: subject.into(),
            message,
            fix: None,
            facts: Map::new(),
            repair: None,
        }
    }

    /// With the fix to tell the user.
    pub fn fix(mut self, fix: Text) -> Finding {
        self.fix = Some(fix);
        self
    }

    /// With one more fact.
    pub fn fact(mut self, key: &str, value: impl Into<Value>) -> Finding {
        self.facts.insert(key.to_string(), value.into());
        self
    }

    /// With the repair `--fix` may make.
    pub fn repair(mut self, repair: Repair) -> Finding {
        self.repair = Some(repair);
        self
    }

    fn to_json(&self, lang: Lang) -> Value {
        json!({
            "check": self.check.name(),
            "code": self.code,
            "status": self.status,
            "subject": self.subject,
            "message": self.message.get(lang),
            "fix": self.fix.as_ref().map(|f| f.get(lang)),
            "repairable": self.repair.is_some(),
            "facts": self.facts,
        })
    }
}

/// What `--fix` or `--undo` did, for the report.
#[derive(Debug, Clone)]
pub struct RepairOutcome {
    /// A stable code: `token.quarantined`, `trust.installed`, `undo.restored`, …
    pub code: &'static str,
    /// Whether it was done.
    pub done: bool,
    /// What was done or why not, in plain words.
    pub message: Text,
    /// Details (paths, fingerprints).
    pub facts: Map<String, Value>,
}

/// Everything one doctor run found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The language the report is shown in.
    pub lang: Lang,
    /// When it was made (RFC 3339, UTC).
    pub generated_at: String,
    /// Facts about the run itself: home, server, machine fingerprint, versions.
    pub context: Map<String, Value>,
    /// The findings, in the order checked.
    pub findings: Vec<Finding>,
    /// Repairs made before the checks, with `--fix` or `--undo`.
    pub repairs: Vec<RepairOutcome>,
}

impl Report {
    /// The worst status found (ok when nothing was found).
    pub fn status(&self) -> Status {
        self.findings
            .iter()
            .map(|f| f.status)
            .max()
            .unwrap_or(Status::Ok)
    }

    /// How many findings have each status: (ok, warning, problem).
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |s| self.findings.iter().filter(|f| f.status == s).count();
        (n(Status::Ok), n(Status::Warning), n(Status::Problem))
    }

    /// Whether a repair asked for failed (`--fix` or `--undo` could not do what it set out
    /// to; "nothing to do" is not a failure).
    pub fn repair_failed(&self) -> bool {
        self.repairs.iter().any(|r| {
            !r.done
                && matches!(
                    r.code,
                    "token.quarantine_failed"
                        | "token.fresh_failed"
                        | "trust.install_failed"
                        | "undo.failed"
                        | "undo.changed"
                        | "undo.missing"
                )
        })
    }

    /// Findings `--fix` could repair.
    pub fn repairs_available(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.repair.is_some())
    }

    /// The JSON report (format [`REPORT_FORMAT`]).
    pub fn to_json(&self) -> Value {
        let (ok, warning, problem) = self.counts();
        json!({
            "format": REPORT_FORMAT,
            "yinxin_version": env!("CARGO_PKG_VERSION"),
            "generated_at": self.generated_at,
            "language": self.lang.code(),
            "context": self.context,
            "status": self.status(),
            "summary": {"ok": ok, "warning": warning, "problem": problem},
            "repairs": self.repairs.iter().map(|r| json!({
                "code": r.code,
                "done": r.done,
                "message": r.message.get(self.lang),
                "facts": r.facts,
            })).collect::<Vec<_>>(),
            "checks": self.findings.iter().map(|f| f.to_json(self.lang)).collect::<Vec<_>>(),
        })
    }

    /// The report as a table for people: check, status, subject, what it means and the fix.
    pub fn to_text(&self) -> String {
        let lang = self.lang;
        let mut out = String::new();
        let heading = match lang {
            Lang::En => "yinxin doctor",
            Lang::Zh => "yinxin 环境检测",
        };
        let _ = writeln!(out, "{heading} · {}", self.generated_at);
        for (key, en, zh) in [
            ("home", "home", "用户目录"),
            ("server", "server", "服务器"),
            ("machine", "machine", "本机标识"),
        ] {
            if let Some(v) = self.context.get(key).and_then(Value::as_str) {
                let label = if lang == Lang::Zh { zh } else { en };
                let colon = if lang == Lang::Zh { "：" } else { ": " };
                let _ = writeln!(out, "  {label}{colon}{v}");
            }
        }
        if !self.repairs.is_empty() {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{}",
                if lang == Lang::Zh {
                    "修复操作："
                } else {
                    "Repairs:"
                }
            );
            for r in &self.repairs {
                let mark = if r.done { "✔" } else { "✘" };
                let _ = writeln!(out, "  {mark} {}", r.message.get(lang));
            }
        }
        let _ = writeln!(out);
        let check_w = self
            .findings
            .iter()
            .map(|f| width(f.check.title(lang)))
            .max()
            .unwrap_or(8)
            .max(width(column(lang, 0)));
        let status_w = 8;
        let _ = writeln!(
            out,
            "{}  {}  {}",
            pad(column(lang, 0), check_w),
            pad(column(lang, 1), status_w),
            column(lang, 2)
        );
        let indent = " ".repeat(check_w + status_w + 4);
        for f in &self.findings {
            let _ = writeln!(
                out,
                "{}  {}  {}",
                pad(f.check.title(lang), check_w),
                pad(f.status.label(lang), status_w),
                f.subject
            );
            let _ = writeln!(out, "{indent}{}", f.message.get(lang));
            if let Some(fix) = &f.fix {
                let label = if lang == Lang::Zh {
                    "解决办法："
                } else {
                    "Fix: "
                };
                let _ = writeln!(out, "{indent}→ {label}{}", fix.get(lang));
            }
        }
        let (ok, warning, problem) = self.counts();
        let repairable = self.repairs_available().count();
        let _ = writeln!(out);
        let _ = match lang {
            Lang::En => writeln!(
                out,
                "{ok} ok, {warning} warning(s), {problem} problem(s).{}",
                if repairable > 0 {
                    format!(" `yinxin doctor --fix` can repair {repairable} of them safely.")
                } else {
                    String::new()
                }
            ),
            Lang::Zh => writeln!(
                out,
                "正常 {ok} 项，警告 {warning} 项，问题 {problem} 项。{}",
                if repairable > 0 {
                    format!("运行 `yinxin doctor --fix` 可安全修复其中 {repairable} 项。")
                } else {
                    String::new()
                }
            ),
        };
        out
    }
}

fn column(lang: Lang, i: usize) -> &'static str {
    match (lang, i) {
        (Lang::En, 0) => "CHECK",
        (Lang::En, 1) => "STATUS",
        (Lang::En, _) => "SUBJECT / WHAT IT MEANS / FIX",
        (Lang::Zh, 0) => "检测项",
        (Lang::Zh, 1) => "状态",
        (Lang::Zh, _) => "对象 / 说明 / 解决办法",
    }
}

/// Display width: CJK characters take two columns in a terminal.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}
