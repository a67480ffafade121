//! `yinxin verify-chain` end to end on chains made by the openssl 3 CLI
//! (`yinxin-pki/tests/fixtures.sh`): exit 0 valid, 1 invalid with the reason on one line,
//! 2 for unusable input; `--json`.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::process::{Command, Output};

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../yinxin-pki/tests/fixtures.sh");
        let out = Command::new("bash")
            .arg(&script)
            .current_dir(dir.path())
            .output()
            .expect("bash and the openssl 3 CLI are needed for these tests");
        assert!(
            out.status.success(),
            "fixtures.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Pki { dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_yinxin"))
            .arg("verify-chain")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name))
            .unwrap()
            .trim()
            .to_string()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Exit 1 with one line "INVALID: …" containing `why`.
fn assert_invalid(o: &Output, why: &str) {
    let out = stdout(o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("INVALID: ") && out.contains(why), "{out}");
}

const CHAIN: &[&str] = &[
    "--roots",
    "root.pem",
    "--intermediates",
    "ica.pem",
    "--leaf",
    "leaf.pem",
];

#[test]
fn verdicts_and_exit_codes() {
    let pki = Pki::new();
    let with = |extra: &[&str]| pki.run(&[CHAIN, extra].concat());

    // Good, with every option given, or given empty (as test harnesses do).
    let o = with(&["--host", "www.example.com", "--purpose", "serverAuth,any"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(
        stdout(&o).trim(),
        "OK: CN=www.example.com <- CN=Test-ICA <- CN=Test-Root"
    );
    let o = with(&[
        "--host",
        "",
        "--purpose",
        "",
        "--time",
        "",
        "--crls",
        "crl-empty.pem",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = with(&["--host", "127.0.0.1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Invalid: expired, not yet valid, wrong host, wrong purpose, missing intermediate,
    // revoked, name constraints.
    assert_invalid(&with(&["--time", &pki.read("time-expired")]), "has expired");
    assert_invalid(&with(&["--time", &pki.read("time-early")]), "not yet valid");
    assert_invalid(
        &with(&["--host", "mail.example.com"]),
        "not valid for mail.example.com",
    );
    assert_invalid(
        &with(&["--purpose", "clientAuth"]),
        "extKeyUsage does not allow clientAuth",
    );
    assert_invalid(&with(&["--crls", "crl-revoked.pem"]), "revoked");
    assert_invalid(
        &pki.run(&["--roots", "root.pem", "--leaf", "leaf.pem"]),
        "no path to a trust anchor",
    );
    assert_invalid(
        &pki.run(&[
            "--roots",
            "root.pem",
            "--intermediates",
            "icanc.pem",
            "--leaf",
            "leaf-nc.pem",
        ]),
        "name constraints",
    );
    assert_invalid(
        &pki.run(&[
            "--roots",
            "sm2root.pem",
            "--leaf",
            "sm2leaf.pem",
            "--sm2-id",
            "other",
        ]),
        "bad signature",
    );
    let o = pki.run(&["--roots", "sm2root.pem", "--leaf", "sm2leaf.pem"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // --json
    let o = pki.run(&["--json", "--roots", "root.pem", "--leaf", "leaf.pem"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], false);
    assert!(v["reason"].as_str().unwrap().contains("Test-ICA"), "{v}");
    let o = pki.run(&[&["--json"], CHAIN].concat());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["chain"].as_array().unwrap().len(), 3);
    assert!(v["reason"].is_null());
}

#[test]
fn unusable_input_is_exit_2_on_one_line() {
    let pki = Pki::new();
    std::fs::write(
        pki.dir.path().join("garbage.pem"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    std::fs::write(pki.dir.path().join("empty.pem"), "").unwrap();
    std::fs::write(pki.dir.path().join("junk.der"), [0x30, 0x03, 0x02, 0x01]).unwrap();
    let cases: &[&[&str]] = &[
        &["--roots", "missing.pem", "--leaf", "leaf.pem"],
        &["--roots", "root.pem", "--leaf", "garbage.pem"],
        &["--roots", "root.pem", "--leaf", "junk.der"],
        &["--roots", "empty.pem", "--leaf", "leaf.pem"],
        &["--roots", "root.pem", "--leaf", "empty.pem"],
        &[
            "--roots",
            "root.pem",
            "--leaf",
            "leaf.pem",
            "--crls",
            "garbage.pem",
        ],
        &[
            "--roots",
            "root.pem",
            "--leaf",
            "leaf.pem",
            "--time",
            "yesterday",
        ],
        &[
            "--roots",
            "root.pem",
            "--leaf",
            "leaf.pem",
            "--purpose",
            "flying",
        ],
        &[
            "--roots",
            "root.pem",
            "--leaf",
            "leaf.pem",
            "--max-depth",
            "x",
        ],
    ];
    for args in cases {
        let o = pki.run(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.starts_with("yinxin: error: "), "{args:?}: {err}");
    }
    // A usage error (clap's own message).
    assert_eq!(pki.run(&["--leaf", "leaf.pem"]).status.code(), Some(2));
}
