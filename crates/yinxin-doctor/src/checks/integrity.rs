//! Installed files against the signed manifest.
//!
//! The field failure behind this check: a service's executable was replaced by other
//! software, its SHA-256 and size no longer the vendor's, and the service kept crashing. A
//! mismatch names the file and both hashes and says it was modified after installation; the
//! doctor never repairs it (a reinstall from the vendor's package does).

use std::path::{Path, PathBuf};

use crate::manifest::{self, FileCheck, Manifest, SignatureVerdict};
use crate::report::{CheckId, Finding, Status};
use crate::text;

use super::{ModifiedFile, Run};

/// Where the installation and its manifest are: the command line, else `[install]`, else
/// the directory of the running program or the one above it, if it holds a manifest.
fn locate(run: &Run<'_>) -> Option<(PathBuf, PathBuf)> {
    let config_root = run.config.install.as_ref().map(|i| i.root.clone());
    let config_manifest = run.config.install.as_ref().and_then(|i| i.manifest.clone());
    if let Some(root) = run.install_root.clone().or(config_root) {
        let m = run
            .manifest
            .clone()
            .or(config_manifest)
            .unwrap_or_else(|| root.join(manifest::MANIFEST_FILE));
        return Some((root, m));
    }
    if let Some(m) = run.manifest.clone() {
        let root = m.parent().map(Path::to_path_buf).unwrap_or_default();
        return Some((root, m));
    }
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?;
    [Some(bin), bin.parent()]
        .into_iter()
        .flatten()
        .map(|d| (d.to_path_buf(), d.join(manifest::MANIFEST_FILE)))
        .find(|(_, m)| m.is_file())
}

/// The manifest and its signature, when they sit inside the installation under other names
/// than the defaults (which `compare` already skips).
fn own_files(root: &Path, manifest: &Path) -> Vec<String> {
    [manifest.to_path_buf(), manifest::signature_path(manifest)]
        .iter()
        .filter_map(|p| p.strip_prefix(root).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .collect()
}

pub(super) fn check(run: &mut Run<'_>) {
    let Some((root, manifest_path)) = locate(run) else {
        run.push(
            Finding::new(CheckId::Integrity, "integrity.no_manifest", Status::Warning, "-",
                text!(en: "No installation manifest was found, so the installed files were not checked (a development build has none).";
                      zh: "未找到安装清单，未检查安装文件（开发版本没有清单）。"))
            .fix(text!(en: "Install yinxin from the platform's package, or name the manifest with --manifest FILE / [install] in {}.", run.home.config_file().display();
                       zh: "请使用平台提供的安装包安装，或用 --manifest 文件 / {} 中的 [install] 指定清单。", run.home.config_file().display())),
        );
        return;
    };
    let subject = manifest_path.display().to_string();
    let parsed = manifest::read_limited(&manifest_path, manifest::MAX_MANIFEST_BYTES)
        .map_err(|e| e.to_string())
        .and_then(|b| {
            Manifest::from_json(&b)
                .map(|m| (b, m))
                .map_err(|e| e.to_string())
        });
    let (json, manifest) = match parsed {
        Ok(x) => x,
        Err(e) => {
            run.push(
                Finding::new(CheckId::Integrity, "integrity.bad_manifest", Status::Problem, subject,
                    text!(en: "The installation manifest cannot be read: {e}. The installed files cannot be checked.";
                          zh: "无法读取安装清单：{e}。无法检查安装文件。"))
                .fix(text!(en: "Reinstall yinxin from the platform's package.";
                           zh: "请用平台提供的安装包重新安装 yinxin。"))
                .fact("error", e),
            );
            return;
        }
    };
    let sig_path = manifest::signature_path(&manifest_path);
    let verdict = match manifest::read_limited(&sig_path, manifest::MAX_MANIFEST_BYTES) {
        Ok(sig) => manifest::verify_signature(&json, &sig, &run.anchors, run.now),
        Err(e) => SignatureVerdict::Untrusted {
            reason: format!("no signature ({}: {e})", sig_path.display()),
        },
    };
    let exclude = own_files(&root, &manifest_path);
    let exclude: Vec<&str> = exclude.iter().map(String::as_str).collect();
    let checks = manifest::compare_excluding(&manifest, &root, &exclude);
    let failures = checks.iter().filter(|c| c.is_failure()).count();
    let (mut intact, mut unexpected) = (0usize, Vec::new());
    let version = manifest.version.clone();
    match &verdict {
        SignatureVerdict::Trusted { signer, serial } => run.push(
            Finding::new(CheckId::Integrity, "integrity.manifest_trusted", Status::Ok, subject.clone(),
                text!(en: "The manifest of yinxin {version} is signed by {signer}, a code-signing certificate of the platform.";
                      zh: "yinxin {version} 的安装清单由平台代码签名证书 {signer} 签名。"))
            .fact("signer", signer.clone())
            .fact("serial", serial.clone())
            .fact("version", version.clone()),
        ),
        SignatureVerdict::Untrusted { reason } => run.push(
            Finding::new(CheckId::Integrity, "integrity.manifest_untrusted", Status::Problem, subject.clone(),
                text!(en: "The installation manifest is NOT trustworthy ({reason}): it may have been altered together with the files, so the installation cannot be shown intact.";
                      zh: "安装清单不可信（{reason}）：它可能与文件一起被篡改，无法证明安装完好。"))
            .fix(text!(en: "Reinstall yinxin from the platform's official package; if the roots are missing, install them first (see the root certificate check).";
                       zh: "请用平台官方安装包重新安装 yinxin；如缺少根证书，请先安装（见“根证书”一项）。"))
            .fact("reason", reason.clone()),
        ),
    }
    for c in checks {
        match c {
            FileCheck::Intact { .. } => intact += 1,
            FileCheck::Modified {
                path,
                expected_sha256,
                actual_sha256,
                expected_size,
                actual_size,
            } => {
                let full = root.join(&path);
                run.modified_files.push(ModifiedFile {
                    path: std::fs::canonicalize(&full).unwrap_or(full),
                });
                run.push(
                    Finding::new(CheckId::Integrity, "integrity.modified", Status::Problem, root.join(&path).display().to_string(),
                        text!(en: "{path} was modified after installation: its SHA-256 is {actual_sha256} ({actual_size} bytes), the signed manifest says {expected_sha256} ({expected_size} bytes). Another program may have replaced it; services using it can crash.";
                              zh: "{path} 在安装后被修改：其 SHA-256 为 {actual_sha256}（{actual_size} 字节），而签名清单记录的是 {expected_sha256}（{expected_size} 字节）。可能被其他软件替换，使用它的服务可能反复崩溃。"))
                    .fix(text!(en: "Do not run it. Reinstall yinxin {version} from the platform's official package (the doctor never repairs program files itself), then find out which software replaced it.";
                               zh: "请勿运行该文件。用平台官方安装包重新安装 yinxin {version}（环境检测不会自行修复程序文件），并查明是哪个软件替换了它。"))
                    .fact("path", path)
                    .fact("expected_sha256", expected_sha256)
                    .fact("actual_sha256", actual_sha256)
                    .fact("expected_size", expected_size)
                    .fact("actual_size", actual_size),
                );
            }
            FileCheck::Missing { path } => run.push(
                Finding::new(
                    CheckId::Integrity,
                    "integrity.missing",
                    Status::Problem,
                    root.join(&path).display().to_string(),
                    text!(en: "{path} is missing from the installation.";
                          zh: "安装目录中缺少 {path}。"),
                )
                .fix(
                    text!(en: "Reinstall yinxin {version} from the platform's official package.";
                           zh: "请用平台官方安装包重新安装 yinxin {version}。"),
                )
                .fact("path", path),
            ),
            FileCheck::Unreadable { path, reason } => run.push(
                Finding::new(
                    CheckId::Integrity,
                    "integrity.unreadable",
                    Status::Problem,
                    root.join(&path).display().to_string(),
                    text!(en: "{path} cannot be read to be checked: {reason}.";
                          zh: "无法读取 {path} 进行检查：{reason}。"),
                )
                .fact("path", path)
                .fact("reason", reason),
            ),
            FileCheck::Unexpected { path, .. } => unexpected.push(path),
        }
    }
    if !unexpected.is_empty() {
        run.push(
            Finding::new(CheckId::Integrity, "integrity.unexpected", Status::Warning, root.display().to_string(),
                text!(en: "{} file(s) in the installation are not in the manifest: {}.", unexpected.len(), unexpected.join(", ");
                      zh: "安装目录中有 {} 个文件不在清单中：{}。", unexpected.len(), unexpected.join("、")))
            .fix(text!(en: "If you did not add them, another program did; reinstalling removes nothing, so check them.";
                       zh: "如果不是您添加的，说明其他程序写入了安装目录，请检查这些文件。"))
            .fact("paths", unexpected),
        );
    }
    if failures == 0 && matches!(verdict, SignatureVerdict::Trusted { .. }) {
        run.push(
            Finding::new(
                CheckId::Integrity,
                "integrity.ok",
                Status::Ok,
                root.display().to_string(),
                text!(en: "All {intact} installed files match the signed manifest.";
                      zh: "全部 {intact} 个安装文件与签名清单一致。"),
            )
            .fact("files", intact),
        );
    }
}
