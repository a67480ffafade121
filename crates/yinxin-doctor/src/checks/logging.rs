//! The client's log: level in force, where it goes, whether it can be written.

use crate::report::{CheckId, Finding, Status};
use crate::text;

use super::Run;

pub(super) fn check(run: &mut Run<'_>) {
    let (level, source) = run.config.log_level();
    let source_zh = match source {
        "default" => "默认值",
        "config.toml" => "配置文件",
        "YINXIN_LOG" => "环境变量 YINXIN_LOG",
        other => other,
    };
    let dir = run.config.log_dir(run.home);
    let file = dir.join(crate::LOG_FILE);
    let size = std::fs::metadata(&file).map(|m| m.len()).ok();
    let writable = std::fs::create_dir_all(&dir).is_ok()
        && std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .is_ok();
    let verbose = level.contains("trace") || level.contains("debug");
    let f = if let Err(e) = crate::config::check_log_level(&level) {
        Finding::new(CheckId::Logging, "logging.bad_level", Status::Problem, file.display().to_string(),
            text!(en: "The log level from {source} is not valid ({e}); yinxin logs at \"info\" instead.";
                  zh: "来自{source_zh}的日志级别无效（{e}），yinxin 改用“info”。"))
        .fix(if source == "YINXIN_LOG" {
            text!(en: "Unset the YINXIN_LOG environment variable or give it a valid level (e.g. info).";
                  zh: "删除环境变量 YINXIN_LOG 或将其设为有效级别（如 info）。")
        } else {
            text!(en: "Set it again: `yinxin doctor --log-level info`.";
                  zh: "重新设置：`yinxin doctor --log-level info`。")
        })
    } else if !writable {
        Finding::new(CheckId::Logging, "logging.unwritable", Status::Warning, file.display().to_string(),
            text!(en: "The log file cannot be written, so nothing yinxin does is recorded for support.";
                  zh: "无法写入日志文件，yinxin 的操作不会被记录，不利于排查问题。"))
        .fix(text!(en: "Give the user write access to {} or set [log] dir in {}.", dir.display(), run.home.config_file().display();
                   zh: "授予当前用户 {} 的写权限，或在 {} 中设置 [log] dir。", dir.display(), run.home.config_file().display()))
    } else if verbose {
        Finding::new(CheckId::Logging, "logging.verbose", Status::Warning, file.display().to_string(),
            text!(en: "Logging at \"{level}\" (from {source}): every operation is traced; the log grows fast.";
                  zh: "日志级别为“{level}”（来自{source_zh}）：所有操作都被详细记录，日志增长很快。"))
        .fix(text!(en: "When the problem is traced, set it back: `yinxin doctor --log-level info`.";
                   zh: "排查结束后请改回：`yinxin doctor --log-level info`。"))
    } else {
        Finding::new(
            CheckId::Logging,
            "logging.ok",
            Status::Ok,
            file.display().to_string(),
            text!(en: "Logging at \"{level}\" (from {source}). To trace a component: `yinxin doctor --log-level debug,yinxin_token=trace`.";
                  zh: "日志级别为“{level}”（来自{source_zh}）。如需跟踪某个组件：`yinxin doctor --log-level debug,yinxin_token=trace`。"),
        )
    };
    run.push(
        f.fact("level", level)
            .fact("source", source)
            .fact("file", file.display().to_string())
            .fact("size_bytes", size)
            .fact("writable", writable),
    );
}
