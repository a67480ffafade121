//! Starting `yinxin serve` for a test: shared by the test binaries that need a live server.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Spawn a prepared `yinxin serve` command (logging at `warn`) and wait for the URL it
/// prints on its first line of service.
pub(crate) fn spawn(mut cmd: Command) -> (Child, String) {
    cmd.env("YINXIN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("yinxin: serving on ") {
                let _ = tx.send(url.trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(180))
        .expect("the server did not start within 180 s");
    (child, url)
}
