//! yinxin's services under the service manager: running, not crash-looping; a crashing
//! service whose program was modified after installation is named as such.

use crate::report::{CheckId, Finding, Status};
use crate::services::{ServiceError, ServiceHealth};
use crate::text;

use super::Run;

pub(super) fn check(run: &mut Run<'_>) {
    let units = run.config.services.clone();
    if units.is_empty() {
        return;
    }
    let Some(manager) = run.services else {
        run.push(Finding::new(
            CheckId::Service,
            "service.unchecked",
            Status::Warning,
            units.join(", "),
            text!(en: "The services were not checked: no service manager is available here.";
                      zh: "未检查系统服务：此处没有可用的服务管理器。"),
        ));
        return;
    };
    for unit in units {
        let status = match manager.status(&unit) {
            Ok(s) => s,
            Err(ServiceError::Unavailable { reason }) => {
                run.push(
                    Finding::new(
                        CheckId::Service,
                        "service.unchecked",
                        Status::Warning,
                        unit.clone(),
                        text!(en: "The service was not checked: {reason}.";
                              zh: "未检查该服务：{reason}。"),
                    )
                    .fact("reason", reason),
                );
                continue;
            }
            Err(e) => {
                run.push(
                    Finding::new(
                        CheckId::Service,
                        "service.unchecked",
                        Status::Warning,
                        unit.clone(),
                        text!(en: "The service manager could not be asked about it: {e}.";
                              zh: "无法向服务管理器查询该服务：{e}。"),
                    )
                    .fact("reason", e.to_string()),
                );
                continue;
            }
        };
        // Compare real paths: the unit may name the program through a symbolic link.
        let modified = status.executable.as_ref().is_some_and(|exe| {
            let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.clone());
            run.modified_files.iter().any(|m| m.path == exe)
        });
        let exe = status
            .executable
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "?".into());
        let last_exit = status
            .last_exit
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| status.result.clone());
        let last_exit_zh = status
            .last_exit
            .as_ref()
            .map(|e| match e.code.as_str() {
                "exited" => format!("以状态 {} 退出", e.status),
                "killed" => format!("被信号 {} 终止", e.status),
                "dumped" => format!("被信号 {} 终止（已生成 core 文件）", e.status),
                _ => e.to_string(),
            })
            .unwrap_or_else(|| status.result.clone());
        let because_en = if modified {
            format!(
                " Its program {exe} was modified after installation (see installed files): that is the likely cause."
            )
        } else {
            String::new()
        };
        let because_zh = if modified {
            format!("其程序 {exe} 在安装后被修改（见“安装文件”一项），这很可能就是原因。")
        } else {
            String::new()
        };
        let reinstall = text!(en: "Reinstall yinxin from the platform's official package, then `systemctl restart {unit}`; `journalctl -u {unit}` shows the crashes.";
                              zh: "用平台官方安装包重新安装 yinxin，然后执行 `systemctl restart {unit}`；`journalctl -u {unit}` 可查看崩溃记录。");
        let f = match status.health() {
            ServiceHealth::Running => Finding::new(CheckId::Service, "service.ok", Status::Ok, unit.clone(),
                text!(en: "Running ({} restarts since it was started).", status.restarts;
                      zh: "运行中（启动以来重启 {} 次）。", status.restarts)),
            ServiceHealth::CrashLooping { restarts } => Finding::new(CheckId::Service, "service.crash_loop", Status::Problem, unit.clone(),
                text!(en: "The service keeps crashing: restarted {restarts} times, last exit: {last_exit}.{because_en}";
                      zh: "该服务反复崩溃：已重启 {restarts} 次，最近一次退出：{last_exit_zh}。{because_zh}"))
                .fix(reinstall),
            ServiceHealth::Failed => Finding::new(CheckId::Service, "service.failed", Status::Problem, unit.clone(),
                text!(en: "The service has failed (last exit: {last_exit}).{because_en}";
                      zh: "该服务已失败（最近一次退出：{last_exit_zh}）。{because_zh}"))
                .fix(reinstall),
            ServiceHealth::Stopped => Finding::new(CheckId::Service, "service.stopped", Status::Warning, unit.clone(),
                text!(en: "The service is not running.";
                      zh: "该服务未运行。"))
                .fix(text!(en: "Start it: `systemctl start {unit}` (and `systemctl enable {unit}` to start at boot).";
                           zh: "启动它：`systemctl start {unit}`（`systemctl enable {unit}` 可设为开机启动）。")),
            ServiceHealth::NotInstalled => Finding::new(CheckId::Service, "service.not_installed", Status::Problem, unit.clone(),
                text!(en: "The service is not installed.";
                      zh: "该服务未安装。"))
                .fix(text!(en: "Reinstall yinxin from the platform's package, or remove {unit} from services in {}.", run.home.config_file().display();
                           zh: "用平台安装包重新安装 yinxin，或从 {} 的 services 中删除 {unit}。", run.home.config_file().display())),
        };
        run.push(
            f.fact("manager", manager.name())
                .fact("restarts", status.restarts)
                .fact("result", status.result.clone())
                .fact(
                    "last_exit",
                    status.last_exit.as_ref().map(ToString::to_string),
                )
                .fact(
                    "executable",
                    status.executable.as_ref().map(|p| p.display().to_string()),
                )
                .fact("executable_modified", modified),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::SystemTime;

    use super::*;
    use crate::checks::ModifiedFile;
    use crate::config::{ClientConfig, Home};
    use crate::platform::Platform;
    use crate::services::{ActiveState, ExitReason, ServiceManager, ServiceStatus};

    /// What systemd reported for the licensing service in the field: restarting after
    /// SIGSEGV, its program replaced.
    struct Recorded;

    impl ServiceManager for Recorded {
        fn name(&self) -> &'static str {
            "recorded"
        }
        fn status(&self, unit: &str) -> Result<ServiceStatus, ServiceError> {
            Ok(ServiceStatus {
                unit: unit.into(),
                installed: unit != "gone.service",
                load_state: "loaded".into(),
                active: ActiveState::Activating,
                sub_state: "auto-restart".into(),
                restarts: 7,
                executable: Some(PathBuf::from("/opt/yinxin/bin/yinxin")),
                result: "signal".into(),
                last_exit: ExitReason::from_systemd(2, 11),
                ..ServiceStatus::default()
            })
        }
    }

    #[test]
    fn a_crash_looping_service_with_a_modified_program_is_tied_together() {
        let home = Home::at(PathBuf::from("/nonexistent"));
        let config = ClientConfig {
            services: vec!["yinxin-agent.service".into(), "gone.service".into()],
            ..ClientConfig::default()
        };
        let platform = Platform {
            machine: Err("test".into()),
            os_installed_at: None,
        };
        let manager = Recorded;
        let mut run = Run {
            home: &home,
            config: &config,
            platform: &platform,
            now: SystemTime::now(),
            server: None,
            manifest: None,
            install_root: None,
            services: Some(&manager),
            http: reqwest::Client::new(),
            anchors: Vec::new(),
            server_cas: Vec::new(),
            server_up: false,
            held: Vec::new(),
            modified_files: vec![ModifiedFile {
                path: PathBuf::from("/opt/yinxin/bin/yinxin"),
            }],
            findings: Vec::new(),
        };
        check(&mut run);
        let f = &run.findings[0];
        assert_eq!(f.code, "service.crash_loop");
        let en = f.message.get(crate::Lang::En);
        assert!(en.contains("restarted 7 times"), "{en}");
        assert!(en.contains("SEGV"), "{en}");
        assert!(en.contains("modified after installation"), "{en}");
        assert_eq!(f.facts["executable_modified"], true);
        assert_eq!(run.findings[1].code, "service.not_installed");
    }
}
