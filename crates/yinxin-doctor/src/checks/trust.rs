//! The platform's root certificates in `$YINXIN_HOME/trust`: present, pinned, valid.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use yinxin_crypto::{HashAlgorithm, hash};
use yinxin_pki::certificate::{self, Certificate};

use crate::platform::rfc3339;
use crate::repair::Repair;
use crate::report::{CheckId, Finding, Status};
use crate::text;

use super::Run;

/// Roots expiring sooner than this are a warning.
const ROOT_EXPIRY_WARNING: std::time::Duration = std::time::Duration::from_secs(90 * 86_400);

/// SHA-256 of a certificate's DER, lowercase hex.
pub(crate) fn fingerprint(cert: &Certificate) -> String {
    let der = certificate::to_der(cert).unwrap_or_default();
    hex::encode(hash::digest(HashAlgorithm::Sha256, &der))
}

/// Every certificate in the trust directory's `.pem`, `.crt`, `.cer` and `.der` files.
pub(crate) fn read_trust_dir(dir: &Path) -> Vec<(PathBuf, Result<Vec<Certificate>, String>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "pem" | "crt" | "cer" | "der"))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let certs = std::fs::read(&p)
                .map_err(|e| e.to_string())
                .and_then(|b| certificate::all_from_pem_or_der(&b).map_err(|e| e.to_string()));
            (p, certs)
        })
        .collect()
}

fn self_signed_ok(cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    tbs.subject() == tbs.issuer()
        && super::signed_by(cert, cert.signature_algorithm(), tbs, cert.signature())
}

pub(super) fn check(run: &mut Run<'_>) {
    let dir = run.home.trust_dir();
    let pinned: Vec<_> = run.config.trust.pinned_fingerprints();
    for bad in pinned.iter().filter_map(|p| p.as_ref().err()) {
        run.push(
            Finding::new(CheckId::Trust, "trust.bad_pin", Status::Problem, run.home.config_file().display().to_string(),
                text!(en: "The pinned fingerprint {bad:?} in the configuration is not a SHA-256 fingerprint.";
                      zh: "配置中的根证书指纹 {bad:?} 不是 SHA-256 指纹。"))
            .fix(text!(en: "Write it as sha256: followed by 64 hex digits, as your administrator gave it.";
                       zh: "按管理员提供的格式填写：sha256: 加 64 位十六进制数。")),
        );
    }
    let pinned: Vec<String> = pinned.into_iter().filter_map(Result::ok).collect();
    let mut found: Vec<String> = Vec::new();
    for (path, certs) in read_trust_dir(&dir) {
        let subject = path.display().to_string();
        let certs = match certs {
            Ok(c) => c,
            Err(e) => {
                run.push(
                    Finding::new(CheckId::Trust, "trust.unreadable", Status::Warning, subject,
                        text!(en: "This file in the trust folder is not a certificate: {e}.";
                              zh: "根证书目录中的此文件不是证书：{e}。"))
                    .fix(text!(en: "Remove it from {} or replace it with the platform's root certificate.", dir.display();
                               zh: "将其从 {} 移除，或换成平台的根证书。", dir.display())),
                );
                continue;
            }
        };
        for cert in certs {
            let fp = fingerprint(&cert);
            let name = cert.tbs_certificate().subject().to_string();
            let validity = cert.tbs_certificate().validity();
            let not_after = validity.not_after.to_system_time();
            let not_before = validity.not_before.to_system_time();
            let pinned_ok = pinned.is_empty() || pinned.contains(&fp);
            let base = |f: Finding| {
                f.fact("fingerprint", format!("sha256:{fp}"))
                    .fact("name", name.clone())
                    .fact("not_after", rfc3339(not_after))
            };
            let f = if !self_signed_ok(&cert) {
                Finding::new(CheckId::Trust, "trust.not_a_root", Status::Problem, subject.clone(),
                    text!(en: "{name} is not a valid self-signed root certificate; it is ignored.";
                          zh: "{name} 不是有效的自签名根证书，已忽略。"))
                .fix(text!(en: "Replace it with the platform's root certificate from your administrator or the server's /api/v1/cas.";
                           zh: "用管理员提供的或服务器 /api/v1/cas 上的平台根证书替换。"))
            } else if !pinned_ok {
                Finding::new(CheckId::Trust, "trust.unpinned", Status::Warning, subject.clone(),
                    text!(en: "{name} (sha256:{fp}) is in the trust folder but is not one of the platform's pinned roots; it is not trusted.";
                          zh: "{name}（sha256:{fp}）在根证书目录中，但不是平台指定的根证书，不予信任。"))
                .fix(text!(en: "If you did not put it there, remove it from {}.", dir.display();
                           zh: "如果不是您放入的，请将其从 {} 移除。", dir.display()))
            } else if run.now > not_after || run.now < not_before {
                Finding::new(CheckId::Trust, "trust.expired", Status::Problem, subject.clone(),
                    text!(en: "Root certificate {name} is not valid now (valid {} to {}); nothing issued under it can be verified.", rfc3339(not_before), rfc3339(not_after);
                          zh: "根证书 {name} 当前不在有效期内（{} 至 {}），其下签发的证书都无法验证。", rfc3339(not_before), rfc3339(not_after)))
                .fix(text!(en: "Check the system clock first; if it is right, install the platform's new root (`yinxin doctor --fix` fetches pinned roots from the server).";
                           zh: "先检查系统时间；若时间正确，请安装平台的新根证书（`yinxin doctor --fix` 会从服务器获取指定的根证书）。"))
            } else {
                found.push(fp.clone());
                run.anchors.push(cert.clone());
                if not_after < run.now + ROOT_EXPIRY_WARNING {
                    Finding::new(CheckId::Trust, "trust.expiring", Status::Warning, subject.clone(),
                        text!(en: "Root certificate {name} expires on {}.", rfc3339(not_after);
                              zh: "根证书 {name} 将于 {} 到期。", rfc3339(not_after)))
                    .fix(text!(en: "Ask your administrator for the platform's next root before then.";
                               zh: "请在此之前向管理员索取平台的新根证书。"))
                } else {
                    Finding::new(
                        CheckId::Trust,
                        "trust.ok",
                        Status::Ok,
                        subject.clone(),
                        text!(en: "Root certificate {name} is present and valid until {}.", rfc3339(not_after);
                              zh: "根证书 {name} 已安装，有效期至 {}。", rfc3339(not_after)),
                    )
                }
            };
            run.push(base(f));
        }
    }
    let missing: Vec<String> = pinned
        .iter()
        .filter(|p| !found.contains(p))
        .cloned()
        .collect();
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("sha256:{m}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut f = Finding::new(CheckId::Trust, "trust.missing_root", Status::Problem, dir.display().to_string(),
            text!(en: "The platform's root certificate(s) {list} are not installed: certificates, signatures and timestamps from the platform cannot be verified.";
                  zh: "未安装平台根证书 {list}：平台的证书、签名和时间戳都无法验证。"))
            .fact("missing", missing.iter().map(|m| format!("sha256:{m}")).collect::<Vec<_>>());
        if run.server.is_some() {
            f = f
                .fix(text!(en: "Run `yinxin doctor --fix`: it downloads the roots from the server and installs only those matching the pinned fingerprints.";
                           zh: "运行 `yinxin doctor --fix`：从服务器下载根证书，只安装与指定指纹一致的证书。"))
                .repair(Repair::InstallRoots {
                    fingerprints: missing,
                    pinned: pinned.clone(),
                });
        } else {
            f = f.fix(text!(en: "Copy the platform's root certificate into {}, or set `server` in {} and run `yinxin doctor --fix`.", dir.display(), run.home.config_file().display();
                            zh: "将平台根证书复制到 {}，或在 {} 中设置 server 后运行 `yinxin doctor --fix`。", dir.display(), run.home.config_file().display()));
        }
        run.push(f);
    } else if pinned.is_empty() && run.anchors.is_empty() {
        run.push(
            Finding::new(CheckId::Trust, "trust.none", Status::Warning, dir.display().to_string(),
                text!(en: "No platform is set up here: no root certificate is installed or pinned, so nothing the platform signs can be verified.";
                      zh: "尚未配置平台：未安装也未指定根证书，平台签发的任何内容都无法验证。"))
            .fix(text!(en: "Add the platform's root fingerprint under [trust] pinned in {} (from your administrator), then run `yinxin doctor --fix`.", run.home.config_file().display();
                       zh: "在 {} 的 [trust] pinned 中填入管理员提供的根证书指纹，然后运行 `yinxin doctor --fix`。", run.home.config_file().display())),
        );
    }
}

#[derive(Deserialize)]
struct CaEntry {
    name: String,
    root: bool,
    certificate_pem: String,
}

/// The server's CA certificates (`GET /api/v1/cas`): (name, is root, certificate).
pub(crate) async fn fetch_cas(
    http: &reqwest::Client,
    server: &str,
) -> Result<Vec<(String, bool, Certificate)>, String> {
    let url = format!("{}/api/v1/cas", server.trim_end_matches('/'));
    let resp = http
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let entries: Vec<CaEntry> = resp.json().await.map_err(|e| format!("{url}: {e}"))?;
    entries
        .into_iter()
        .map(
            |e| match certificate::from_pem_or_der(e.certificate_pem.as_bytes()) {
                Ok(c) => Ok((e.name, e.root, c)),
                Err(err) => Err(format!("{url}: CA {}: {err}", e.name)),
            },
        )
        .collect()
}

/// The server's roots whose fingerprints are in `wanted`, and the fingerprints of the roots
/// it offered that are not `pinned` at all.
pub(crate) async fn fetch_roots(
    http: &reqwest::Client,
    server: &str,
    wanted: &[String],
    pinned: &[String],
) -> Result<(Vec<(String, Certificate)>, Vec<String>), String> {
    let mut matched = Vec::new();
    let mut refused = Vec::new();
    for (name, root, cert) in fetch_cas(http, server).await? {
        if !root {
            continue;
        }
        let fp = fingerprint(&cert);
        if wanted.contains(&fp) && self_signed_ok(&cert) {
            matched.push((name, cert));
        } else if !pinned.contains(&fp) {
            refused.push(fp);
        }
    }
    Ok((matched, refused))
}
