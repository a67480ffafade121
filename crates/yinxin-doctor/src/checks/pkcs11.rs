//! PKCS#11 modules (USB-key drivers): loadable, slots and tokens visible, PIN state, and the
//! certificates on each token (checked by the certificate check).

use yinxin_token::pkcs11::probe::{self, ModuleReport};

use crate::report::{CheckId, Finding, Status};
use crate::text;

use super::{HeldCertificate, Run};

pub(super) fn check(run: &mut Run<'_>) {
    let modules = run.config.pkcs11_modules.clone();
    for module in modules {
        let subject = module.display().to_string();
        match probe::probe(&module) {
            Err(e) => run.push(
                Finding::new(CheckId::Pkcs11, "pkcs11.unloadable", Status::Problem, subject,
                    text!(en: "The USB-key driver cannot be loaded: {e}. Applications will say \"no key inserted\".";
                          zh: "USB Key 驱动无法加载：{e}。应用程序会提示“未插入 Key”。"))
                .fix(text!(en: "Reinstall the USB key's driver from its vendor, or correct the path in pkcs11_modules in {}.", run.home.config_file().display();
                           zh: "从厂商处重新安装 USB Key 驱动，或修正 {} 中 pkcs11_modules 的路径。", run.home.config_file().display()))
                .fact("error", e.to_string()),
            ),
            Ok(report) => module_findings(run, &subject, &report),
        }
    }
}

fn module_findings(run: &mut Run<'_>, subject: &str, report: &ModuleReport) {
    let lib = format!(
        "{} {} ({})",
        report.library_description.trim(),
        report.library_version,
        report.manufacturer.trim()
    );
    let with_token: Vec<_> = report
        .slots
        .iter()
        .filter_map(|s| s.token.as_ref().map(|t| (s, t)))
        .collect();
    if report.slots.is_empty() {
        run.push(
            Finding::new(CheckId::Pkcs11, "pkcs11.no_slot", Status::Problem, subject,
                text!(en: "The driver ({lib}) loads but sees no reader or slot: the USB key is not recognised.";
                      zh: "驱动（{lib}）已加载，但没有发现读卡器或插槽：USB Key 未被识别。"))
            .fix(text!(en: "Plug the key into another USB port; check it is listed by `lsusb`; reinstall the driver.";
                       zh: "将 Key 换一个 USB 口插入；用 `lsusb` 确认能看到设备；重新安装驱动。"))
            .fact("library", lib.clone()),
        );
        return;
    }
    for slot in report.slots.iter().filter(|s| s.token.is_none()) {
        if let Some(err) = &slot.token_error {
            run.push(
                Finding::new(CheckId::Pkcs11, "pkcs11.token_unreadable", Status::Problem, format!("{subject} (slot {})", slot.id),
                    text!(en: "A key is inserted in slot {} ({}) but the driver cannot read it: {err}. This driver may not be the one for this key.", slot.id, slot.description.trim();
                          zh: "插槽 {}（{}）中插有 Key，但驱动无法读取：{err}。可能不是该 Key 对应的驱动。", slot.id, slot.description.trim()))
                .fix(text!(en: "Install the driver from the vendor of this USB key and add it to pkcs11_modules in {}.", run.home.config_file().display();
                           zh: "安装该 USB Key 厂商的驱动，并加入 {} 的 pkcs11_modules。", run.home.config_file().display()))
                .fact("slot", slot.id)
                .fact("error", err.clone()),
            );
        }
    }
    if with_token.is_empty() && report.slots.iter().all(|s| s.token_error.is_none()) {
        run.push(
            Finding::new(CheckId::Pkcs11, "pkcs11.no_token", Status::Problem, subject,
                text!(en: "The driver ({lib}) sees {} slot(s) but no key in any of them.", report.slots.len();
                      zh: "驱动（{lib}）发现 {} 个插槽，但其中都没有 Key。", report.slots.len()))
            .fix(text!(en: "Insert the USB key (or re-insert it) and run `yinxin doctor` again.";
                       zh: "插入（或重新插入）USB Key，然后重新运行 `yinxin doctor`。"))
            .fact("library", lib.clone())
            .fact("slots", report.slots.len()),
        );
        return;
    }
    if with_token.is_empty() {
        return;
    }
    for (slot, token) in with_token {
        let label = token.label.trim().to_string();
        let holder = format!("PKCS#11 {label} (slot {})", slot.id);
        for c in &token.certificates {
            run.held.push(HeldCertificate {
                holder: format!("{holder} / {}", c.label),
                der: c.der.clone(),
            });
        }
        let f = if !token.initialized || !token.user_pin_initialized {
            Finding::new(CheckId::Pkcs11, "pkcs11.uninitialised", Status::Problem, holder.clone(),
                text!(en: "The key \"{label}\" is not initialised (no user PIN set): it holds no usable keys.";
                      zh: "Key“{label}”尚未初始化（未设置用户 PIN），其中没有可用的密钥。"))
            .fix(text!(en: "Have it initialised and enrolled by the registration office.";
                       zh: "请到注册机构初始化并申请证书。"))
        } else if token.user_pin_locked {
            Finding::new(CheckId::Pkcs11, "pkcs11.pin_locked", Status::Problem, holder.clone(),
                text!(en: "The user PIN of key \"{label}\" is locked.";
                      zh: "Key“{label}”的用户 PIN 已被锁定。"))
            .fix(text!(en: "Unlock it with the SO PIN (the vendor's tool or the registration office).";
                       zh: "用管理员 PIN 解锁（厂商工具或注册机构）。"))
        } else if token.user_pin_final_try || token.user_pin_count_low {
            let last = token.user_pin_final_try;
            Finding::new(CheckId::Pkcs11, "pkcs11.pin_retries_low", Status::Warning, holder.clone(),
                text!(en: "Key \"{label}\": {}.", if last { "one more wrong PIN locks it" } else { "wrong PINs were entered; few retries are left" };
                      zh: "Key“{label}”：{}。", if last { "再输错一次 PIN 将被锁定" } else { "PIN 已输错多次，剩余重试次数不多" }))
            .fix(text!(en: "Make sure of the PIN before the next try.";
                       zh: "下次输入前请确认 PIN。"))
        } else if token.certificates.is_empty() {
            Finding::new(CheckId::Pkcs11, "pkcs11.no_certificate", Status::Warning, holder.clone(),
                text!(en: "Key \"{label}\" works but holds no certificate{}.", token.certificates_error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default();
                      zh: "Key“{label}”工作正常，但其中没有证书{}。", token.certificates_error.as_ref().map(|e| format!("（{e}）")).unwrap_or_default()))
            .fix(text!(en: "Enrol: `yinxin token enroll --pkcs11 MODULE`.";
                       zh: "申请证书：`yinxin token enroll --pkcs11 驱动路径`。"))
        } else {
            Finding::new(
                CheckId::Pkcs11,
                "pkcs11.ok",
                Status::Ok,
                holder.clone(),
                text!(en: "Key \"{label}\" is present through {lib}: {} certificate(s), PIN not locked.", token.certificates.len();
                      zh: "通过 {lib} 识别到 Key“{label}”：{} 张证书，PIN 未锁定。", token.certificates.len()),
            )
        };
        run.push(
            f.fact("module", subject)
                .fact("library", lib.clone())
                .fact("slot", slot.id)
                .fact("label", label.clone())
                .fact("serial", token.serial.trim())
                .fact("manufacturer", token.manufacturer.trim())
                .fact("model", token.model.trim())
                .fact("certificates", token.certificates.len()),
        );
    }
}
