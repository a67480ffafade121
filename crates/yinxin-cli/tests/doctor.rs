//! `yinxin doctor` and `yinxin manifest` against real files, a real `yinxin serve`, the
//! `openssl` CLI, `tar` and `faketime`: the two field failures (cloned image, tampered
//! binary), live reachability/revocation/clock, and a support bundle without secrets.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

#[path = "doctor/bundle.rs"]
mod bundle;
#[path = "doctor/cloned.rs"]
mod cloned;
#[path = "doctor/integrity.rs"]
mod integrity;
#[path = "doctor/live.rs"]
mod live;
#[path = "doctor/manifest.rs"]
mod manifest;
#[path = "doctor/pkcs11.rs"]
mod pkcs11;
#[path = "common/serve.rs"]
mod serve;

/// A scratch user: a home, a machine identity that tests can swap, PINs in the environment.
struct User {
    dir: tempfile::TempDir,
}

impl User {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let u = User { dir };
        u.set_machine("machine-A-0f1e2d3c4b5a69788796a5b4c3d2e1f0");
        u
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn home(&self) -> PathBuf {
        self.path("home")
    }

    /// The identity the next commands see, as a cloned PC would have its own.
    fn set_machine(&self, id: &str) {
        std::fs::write(self.path("machine-id"), format!("{id}\n")).unwrap();
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_yinxin"));
        self.envs(&mut c);
        c
    }

    fn envs(&self, c: &mut Command) {
        c.env("YINXIN_HOME", self.home())
            .env("YINXIN_MACHINE_ID_FILE", self.path("machine-id"))
            .env("YINXIN_PIN", "123456")
            .env("YINXIN_SO_PIN", "87654321")
            .env("LANG", "en_US.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("YINXIN_TOKEN")
            .env_remove("YINXIN_LOG")
            .env_remove("YINXIN_OS_INSTALLED_AT")
            .current_dir(self.dir.path());
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "yinxin {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `yinxin --json doctor ARGS`: the report and the exit code.
    fn doctor(&self, args: &[&str]) -> (Value, i32) {
        let mut c = self.cmd();
        c.args(["--json", "doctor"]).args(args);
        doctor_output(c.output().unwrap())
    }
}

fn doctor_output(out: Output) -> (Value, i32) {
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "doctor printed no JSON report ({e}), exit {code}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(report["format"], "yinxin-doctor/1");
    (report, code)
}

/// The findings with `code`.
fn findings<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["code"] == code)
        .collect()
}

fn problems(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "problem")
        .map(|c| format!("{}: {} {}", c["code"], c["subject"], c["message"]))
        .collect()
}

fn sha256_file(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl 3 CLI is needed for these tests: apt-get install -y openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `yinxin serve` on SQLite, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(user: &User, data: &str) -> Server {
        let mut cmd = user.cmd();
        cmd.args(["serve", "--data", data, "--listen", "127.0.0.1:0"]);
        let (child, url) = serve::spawn(cmd);
        Server { child, url }
    }
}
