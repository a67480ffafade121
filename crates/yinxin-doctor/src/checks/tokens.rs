//! Software token stores: found, readable, intact, and made on this machine.
//!
//! The field failure behind this check: a customised OS image carried a soft-token store
//! from the machine it was built on into every PC deployed from it; the middleware refused
//! the foreign store and applications said "no key inserted". A store whose machine
//! fingerprint is not this machine's, or that is older than this OS installation, is named
//! as copied, with the fix, never as a missing key.

use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use yinxin_token::soft::{self, FILE_EXTENSION, FileSummary};
use yinxin_token::{SoftToken, Token, TokenError};

use crate::platform::{rfc3339, unix};
use crate::repair::Repair;
use crate::report::{CheckId, Finding, Status};
use crate::text;

use super::{HeldCertificate, Run};

/// A store created more than this long before the OS was installed came with the image
/// (the margin absorbs a first-boot clock that was set late).
const BEFORE_INSTALL_MARGIN: Duration = Duration::from_secs(3600);

/// Fewer retries left than this is a warning.
const LOW_RETRIES: u32 = 3;

/// The token stores under `dir`, sorted.
pub(crate) fn token_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == FILE_EXTENSION) && p.is_file())
        .collect();
    files.sort();
    files
}

pub(super) fn check(run: &mut Run<'_>) {
    let dir = run.home.tokens_dir();
    let files = token_files(&dir);
    if files.is_empty() {
        let status = if run.config.pkcs11_modules.is_empty() {
            Status::Warning
        } else {
            Status::Ok
        };
        run.push(
            Finding::new(
                CheckId::Token,
                "token.none",
                status,
                dir.display().to_string(),
                text!(en: "No software token here{}.", if status == Status::Ok { " (USB keys are checked below)" } else { " and no USB-key driver configured: there is no key to sign with" };
                      zh: "此处没有软证书库{}。", if status == Status::Ok { "（USB Key 见下文）" } else { "，也未配置 USB Key 驱动：没有可用于签名的密钥" }),
            )
            .fix(text!(en: "Create one with `yinxin token init --name NAME` and enrol with `yinxin token enroll`, or add your USB key's PKCS#11 driver to pkcs11_modules in {}.", run.home.config_file().display();
                       zh: "用 `yinxin token init --name 名称` 创建并用 `yinxin token enroll` 申请证书，或在 {} 的 pkcs11_modules 中添加 USB Key 的 PKCS#11 驱动。", run.home.config_file().display())),
        );
        return;
    }
    for path in files {
        check_one(run, &path);
    }
}

fn name_of(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn check_one(run: &mut Run<'_>, path: &Path) {
    let subject = path.display().to_string();
    let name = name_of(path);
    let summary = match soft::inspect(path) {
        Ok(s) => s,
        Err(TokenError::Corrupted { reason, .. }) => {
            run.push(
                Finding::new(CheckId::Token, "token.corrupted", Status::Problem, subject,
                    text!(en: "Token store \"{name}\" is damaged ({reason}); its keys cannot be used.";
                          zh: "软证书库“{name}”已损坏（{reason}），其中的密钥无法使用。"))
                .fix(text!(en: "Restore the file from a backup, or enrol a new token (`yinxin token init --name {name}-new`, then `yinxin token enroll`).";
                           zh: "从备份恢复该文件，或重新申请（`yinxin token init --name {name}-new`，然后 `yinxin token enroll`）。"))
                .fact("name", name)
                .fact("reason", reason),
            );
            return;
        }
        Err(e) => {
            run.push(
                Finding::new(CheckId::Token, "token.unreadable", Status::Problem, subject,
                    text!(en: "Token store \"{name}\" cannot be read: {e}.";
                          zh: "软证书库“{name}”无法读取：{e}。"))
                .fix(text!(en: "Check the file's owner and permissions (it must belong to the user running yinxin).";
                           zh: "检查该文件的属主和权限（应属于运行 yinxin 的用户）。"))
                .fact("name", name)
                .fact("reason", e.to_string()),
            );
            return;
        }
    };
    let machine = match &run.platform.machine {
        Ok(m) => m.clone(),
        Err(_) => {
            run.push(
                Finding::new(CheckId::Token, "token.unverified", Status::Warning, subject,
                    text!(en: "Token store \"{name}\" cannot be checked: this machine's identity is unknown (see the machine check).";
                          zh: "无法检查软证书库“{name}”：本机标识未知（见“本机”一项）。"))
                .fact("name", name),
            );
            return;
        }
    };
    let Some(created_at) = UNIX_EPOCH.checked_add(Duration::from_secs(summary.created_at)) else {
        run.push(
            Finding::new(CheckId::Token, "token.corrupted", Status::Problem, subject,
                text!(en: "Token store \"{name}\" is damaged (its creation time is impossible); its keys cannot be used.";
                      zh: "软证书库“{name}”已损坏（创建时间不可能），其中的密钥无法使用。"))
            .fact("name", name)
            .fact("reason", "creation time out of range"),
        );
        return;
    };
    let base_facts = |f: Finding, s: &FileSummary| {
        f.fact("name", name.clone())
            .fact("label", s.label.clone())
            .fact("serial", s.serial.clone())
            .fact("created_at", rfc3339(created_at))
            .fact("created_on", s.created_on.clone())
            .fact("this_machine", machine.fingerprint())
    };
    if summary.created_on != machine.fingerprint() {
        let f = Finding::new(CheckId::Token, "token.copied", Status::Problem, subject,
            text!(en: "Token store \"{name}\" was copied from another machine or a system image: it was created on machine {} on {}, this is machine {}. Its keys are bound to that machine, so applications will say \"no key inserted\" although nothing is wrong with your key.",
                      summary.created_on, rfc3339(created_at), machine.fingerprint();
                  zh: "软证书库“{name}”是从其他电脑或系统镜像中复制来的：它于 {} 在电脑 {} 上创建，本机为 {}。其中的密钥与原电脑绑定，因此应用程序会提示“未插入 Key”，而您的 Key 本身没有问题。",
                      rfc3339(created_at), summary.created_on, machine.fingerprint()))
            .fix(text!(en: "Run `yinxin doctor --fix`: it moves the copied store to {} (nothing is deleted) and creates a fresh one; then enrol again (`yinxin token enroll --name {name} --server URL --container NAME --subject DN`) or restore your own backup. `yinxin doctor --undo` puts it back.", run.home.quarantine_dir().display();
                       zh: "运行 `yinxin doctor --fix`：将复制来的证书库移至 {}（不删除任何文件）并新建一个；然后重新申请证书（`yinxin token enroll --name {name} --server URL --container NAME --subject DN`）或恢复您自己的备份。`yinxin doctor --undo` 可撤销。", run.home.quarantine_dir().display()))
            .repair(Repair::QuarantineToken { path: path.to_path_buf(), label: summary.label.clone(), reason: "token.copied" });
        run.push(base_facts(f, &summary));
        return;
    }
    if let Some(installed) = &run.platform.os_installed_at
        && created_at
            .checked_add(BEFORE_INSTALL_MARGIN)
            .is_some_and(|t| t < installed.at)
    {
        let f = Finding::new(CheckId::Token, "token.predates_os", Status::Problem, subject,
            text!(en: "Token store \"{name}\" was created on {}, before this operating system was installed on {} ({}): it came with a cloned system image, together with the machine identity it is bound to. Every PC from that image shares it.",
                      rfc3339(created_at), rfc3339(installed.at), installed.source;
                  zh: "软证书库“{name}”创建于 {}，早于本操作系统的安装时间 {}（{}）：它随克隆的系统镜像一起被复制过来，所有用该镜像安装的电脑都带有同一个证书库。",
                      rfc3339(created_at), rfc3339(installed.at), installed.source))
            .fix(text!(en: "Run `yinxin doctor --fix` to move it to {} and create a fresh store, then enrol again; also give this machine its own identity (`rm /etc/machine-id && systemd-machine-id-setup` as root) so later stores are bound to it.", run.home.quarantine_dir().display();
                       zh: "运行 `yinxin doctor --fix` 将其移至 {} 并新建证书库，然后重新申请证书；并为本机生成独立标识（以 root 运行 `rm /etc/machine-id && systemd-machine-id-setup`）。", run.home.quarantine_dir().display()))
            .fact("os_installed_at", rfc3339(installed.at))
            .fact("os_installed_at_unix", unix(installed.at))
            .repair(Repair::QuarantineToken { path: path.to_path_buf(), label: summary.label.clone(), reason: "token.predates_os" });
        run.push(base_facts(f, &summary));
        return;
    }
    let token = match SoftToken::open_on(machine.clone(), path) {
        Ok(t) => t,
        Err(TokenError::Tampered(_)) => {
            let f = Finding::new(CheckId::Token, "token.tampered", Status::Problem, subject,
                text!(en: "Token store \"{name}\" was modified by something other than yinxin (its integrity code does not match); it is not used.";
                      zh: "软证书库“{name}”被 yinxin 以外的程序修改过（完整性校验失败），已停止使用。"))
                .fix(text!(en: "Do not edit token files. Restore it from a backup, or enrol a new token; keep this file for your security officer.";
                           zh: "请勿手工修改证书库文件。从备份恢复或重新申请证书；保留该文件交安全管理员检查。"));
            run.push(base_facts(f, &summary));
            return;
        }
        Err(e) => {
            let f = Finding::new(
                CheckId::Token,
                "token.unreadable",
                Status::Problem,
                subject,
                text!(en: "Token store \"{name}\" cannot be opened: {e}.";
                      zh: "软证书库“{name}”无法打开：{e}。"),
            )
            .fact("reason", e.to_string());
            run.push(base_facts(f, &summary));
            return;
        }
    };
    let retries = summary.user_pin_retries_left;
    let containers = token.containers().map(|c| c.len()).unwrap_or(0);
    for (container, usage, der) in &summary.certificates {
        run.held.push(HeldCertificate {
            holder: format!("{name} / {container} / {}", usage.name()),
            der: der.clone(),
        });
    }
    let f = if retries == 0 {
        Finding::new(CheckId::Token, "token.pin_locked", Status::Problem, subject.clone(),
            text!(en: "The user PIN of token \"{name}\" is locked after too many wrong attempts.";
                  zh: "软证书库“{name}”的用户 PIN 因输错次数过多已被锁定。"))
            .fix(text!(en: "Unlock it with the SO PIN: `yinxin token unlock --name {name}` (your administrator has the SO PIN).";
                       zh: "用管理员 PIN 解锁：`yinxin token unlock --name {name}`（管理员 PIN 由管理员保管）。"))
    } else if retries < LOW_RETRIES {
        Finding::new(CheckId::Token, "token.pin_retries_low", Status::Warning, subject.clone(),
            text!(en: "Token \"{name}\" allows only {retries} more wrong user PIN(s) before it locks.";
                  zh: "软证书库“{name}”的用户 PIN 再输错 {retries} 次将被锁定。"))
            .fix(text!(en: "Make sure of the PIN before the next try; a correct PIN resets the counter.";
                       zh: "下次输入前请确认 PIN；输入正确后计数会复位。"))
    } else if summary.certificates.is_empty() {
        Finding::new(CheckId::Token, "token.no_certificate", Status::Warning, subject.clone(),
            text!(en: "Token \"{name}\" is fine but holds no certificate ({containers} key container(s)).";
                  zh: "软证书库“{name}”正常，但没有证书（{containers} 个密钥容器）。"))
            .fix(text!(en: "Enrol: `yinxin token enroll --name {name} --server URL --container NAME --subject DN`.";
                       zh: "申请证书：`yinxin token enroll --name {name} --server URL --container NAME --subject DN`。"))
    } else {
        Finding::new(
            CheckId::Token,
            "token.ok",
            Status::Ok,
            subject.clone(),
            text!(en: "Token \"{name}\" was created on this machine and is intact: {} certificate(s), {retries} PIN retries left.", summary.certificates.len();
                  zh: "软证书库“{name}”在本机创建且完好：{} 张证书，PIN 剩余重试 {retries} 次。", summary.certificates.len()),
        )
    };
    let f = f
        .fact("pin_retries_left", retries)
        .fact("containers", containers)
        .fact("certificates", summary.certificates.len());
    run.push(base_facts(f, &summary));
}
