//! `yinxin doctor`: check the client environment, repair what is safe, pack a support
//! bundle. The checks live in `yinxin-doctor`; this is the command line around them.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use yinxin_doctor::config::{self, Home};
use yinxin_doctor::{Doctor, FreshPins, Lang, Options, Status, bundle};

use crate::Outcome;
use crate::args::PinArgs;
use crate::input;

/// `yinxin doctor` options.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Report language: zh or en (default: the locale's, from LC_ALL, LC_MESSAGES or LANG).
    #[arg(long, value_name = "zh|en")]
    lang: Option<String>,
    /// The platform server to check (default: `server` in $YINXIN_HOME/config.toml).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Repair what is safe: move token stores copied from another machine into quarantine
    /// (never deleting them) and create fresh ones; install missing pinned roots.
    #[arg(long, conflicts_with = "undo")]
    fix: bool,
    /// Put a quarantined token store back: the newest, or the one named ID.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
    undo: Option<String>,
    /// Also write a redacted support bundle (.tar.gz) to send to support.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Set the client's log level persistently (error, warn, info, debug, trace, or a filter
    /// such as `info,yinxin_token=trace`), then check.
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
    /// The installation manifest to check the installed files against.
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// The installation directory the manifest describes.
    #[arg(long, value_name = "DIR")]
    install_root: Option<PathBuf>,
    /// Seconds each network request may take.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    timeout: u64,
    #[command(flatten)]
    pins: PinArgs,
}

pub(crate) fn run(args: &DoctorArgs, json_out: bool) -> Result<Outcome> {
    let lang = match &args.lang {
        Some(l) => Lang::parse(l).ok_or_else(|| anyhow!("--lang must be zh or en, not {l:?}"))?,
        None => Lang::from_locale(),
    };
    let home = Home::from_env()?;
    if let Some(level) = &args.log_level {
        config::set_log_level(&home, level)?;
        tracing::info!(level = %level, "log level set by yinxin doctor");
        if !json_out {
            match lang {
                Lang::Zh => eprintln!(
                    "日志级别已设为“{level}”（写入 {}）。",
                    home.config_file().display()
                ),
                Lang::En => eprintln!(
                    "Log level set to \"{level}\" (in {}).",
                    home.config_file().display()
                ),
            }
        }
    }
    let options = Options {
        lang,
        server: args.server.clone(),
        manifest: args.manifest.clone(),
        install_root: args.install_root.clone(),
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
    };
    let doctor = Doctor::new(home, options)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    // PINs given to --fix, remembered so that the bundle can scrub them too.
    let given: std::cell::RefCell<Vec<zeroize::Zeroizing<String>>> = Default::default();
    let ask = || {
        let pins = fresh_pins(&args.pins)?;
        if let Some(p) = &pins {
            given
                .borrow_mut()
                .extend([p.so_pin.clone(), p.user_pin.clone()]);
        }
        Ok(pins)
    };
    let report = runtime.block_on(async {
        if args.fix {
            doctor.fix(&ask).await
        } else if let Some(id) = &args.undo {
            doctor
                .undo(Some(id.as_str()).filter(|i| !i.is_empty()))
                .await
        } else {
            doctor.check().await
        }
    });
    if json_out {
        outln!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        out!("{}", report.to_text());
    }
    if let Some(path) = &args.bundle {
        let given = given.borrow();
        let extra: Vec<&str> = given.iter().map(|p| p.as_str()).collect();
        let redactor = bundle::redactor(&doctor, &report, &extra);
        bundle::write(path, &doctor, &report, redactor)?;
        if !json_out {
            match lang {
                Lang::Zh => eprintln!(
                    "支持信息包已写入 {}（已去除 PIN、密钥和个人信息）。",
                    path.display()
                ),
                Lang::En => eprintln!(
                    "Support bundle written to {} (PINs, keys and personal data removed).",
                    path.display()
                ),
            }
        }
    }
    Ok(
        if report.status() == Status::Problem || report.repair_failed() {
            Outcome::Invalid
        } else {
            Outcome::Done
        },
    )
}

/// New PINs for fresh stores: from the PIN files, else `YINXIN_SO_PIN`/`YINXIN_PIN`, else
/// asked on the terminal; none when none of these is there (the store is still moved aside),
/// an error when PINs given cannot be read (then nothing is moved).
fn fresh_pins(pins: &PinArgs) -> Result<Option<FreshPins>, String> {
    use std::io::IsTerminal;
    let set = |v: &str| std::env::var(v).is_ok_and(|x| !x.is_empty());
    let available = pins.so_pin_file.is_some()
        || pins.pin_file.is_some()
        || (set("YINXIN_SO_PIN") && set("YINXIN_PIN"))
        || std::io::stdin().is_terminal();
    if !available {
        return Ok(None);
    }
    let read =
        |file, var, prompt| input::secret(file, var, prompt, true).map_err(|e| format!("{e:#}"));
    let so = read(
        pins.so_pin_file.as_ref(),
        "YINXIN_SO_PIN",
        "new SO PIN for the fresh token",
    )?;
    let user = read(
        pins.pin_file.as_ref(),
        "YINXIN_PIN",
        "new user PIN for the fresh token",
    )?;
    Ok(Some(FreshPins {
        so_pin: so,
        user_pin: user,
    }))
}

/// Send the client's own log to `$YINXIN_HOME/logs/yinxin.log` (or `[log] dir`) at the
/// configured level, so `yinxin doctor --log-level trace` makes every component's operations
/// traceable. Failing to open the log never stops a command.
pub(crate) fn init_client_log() {
    let Ok(home) = Home::from_env() else {
        return;
    };
    let cfg = config::ClientConfig::load(&home).unwrap_or_default();
    let (level, _) = cfg.log_level();
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(config::DEFAULT_LOG_LEVEL));
    let dir = cfg.log_dir(&home);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let path = dir.join(yinxin_doctor::LOG_FILE);
    rotate(&path);
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let Ok(file) = options.open(&path) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    tracing::debug!(args = ?std::env::args().skip(1).take(2).collect::<Vec<_>>(), "yinxin started");
}

/// Keep one previous log of at most this size.
const LOG_ROTATE_BYTES: u64 = 10 * 1024 * 1024;

fn rotate(path: &std::path::Path) {
    if std::fs::metadata(path).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let _ = std::fs::rename(path, path.with_extension("log.1"));
    }
}
