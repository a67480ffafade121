//! `yinxin manifest create|sign|verify` against a fake installation, with code-signing
//! certificates made by the OpenSSL 3 CLI, signatures OpenSSL checks (and makes), and hashes
//! checked with `sha256sum`.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A temporary directory with a fake installation under `install/`.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let e = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        for (path, len, seed) in [
            ("install/bin/yinxin", 300_000, 1u32),
            ("install/lib/libyinxin.so.1", 70_000, 2),
            ("install/share/doc/README", 100, 3),
            ("install/share/empty", 0, 4),
        ] {
            let full = e.path(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, noise(len, seed)).unwrap();
        }
        e
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_yinxin"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("YINXIN_TOKEN")
            .output()
            .unwrap()
    }

    /// Run and expect exit `code`; stdout.
    fn expect(&self, code: i32, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "yinxin {args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `--json` run expecting exit `code`; the JSON printed.
    fn json(&self, code: i32, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        serde_json::from_str(self.expect(code, &full).trim()).unwrap()
    }

    /// Run expecting exit 2; stderr.
    fn input_error(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(2), "yinxin {args:?}: {out:?}");
        String::from_utf8(out.stderr).unwrap()
    }

    fn openssl(&self, args: &[&str]) -> String {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("the openssl 3 CLI is needed for these tests: apt-get install -y openssl");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "openssl {args:?} failed: {text}");
        text
    }

    fn sha256sum(&self, name: &str) -> String {
        let out = Command::new("sha256sum")
            .arg(self.path(name))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()[..64].to_string()
    }

    /// A root CA `{name}.pem`/`.key` (RSA, or SM2 with `sm2`).
    fn root(&self, name: &str, sm2: bool) {
        self.key(name, sm2);
        let (key, pem, subj) = (
            format!("{name}.key"),
            format!("{name}.pem"),
            format!("/CN={name}/O=yinxin test"),
        );
        let mut args = vec!["req", "-x509", "-new", "-key", &key, "-days", "3"];
        args.extend_from_slice(&["-subj", &subj, "-out", &pem]);
        args.extend_from_slice(sm2_opts(sm2, false));
        self.openssl(&args);
    }

    /// A leaf `{name}.pem`/`.key` issued by `ca`, with extended key usage `eku` (or none).
    fn leaf(&self, name: &str, ca: &str, eku: Option<&str>, sm2: bool) {
        self.key(name, sm2);
        let (key, csr, pem, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.cnf"),
        );
        let subj = format!("/CN={name}/O=yinxin test");
        let mut args = vec!["req", "-new", "-key", &key, "-subj", &subj, "-out", &csr];
        args.extend_from_slice(sm2_opts(sm2, false));
        self.openssl(&args);
        let eku = eku
            .map(|e| format!("extendedKeyUsage={e}\n"))
            .unwrap_or_default();
        std::fs::write(
            self.path(&ext),
            format!(
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n{eku}\
                 subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
            ),
        )
        .unwrap();
        let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-set_serial",
            "4660",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ];
        args.extend_from_slice(sm2_opts(sm2, true));
        self.openssl(&args);
    }

    fn key(&self, name: &str, sm2: bool) {
        let key = format!("{name}.key");
        if sm2 {
            self.openssl(&["genpkey", "-algorithm", "SM2", "-out", &key]);
        } else {
            self.openssl(&[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                &key,
            ]);
        }
    }

    /// `manifest create` then `manifest sign` with `{signer}.pem`/`.key`, default file names.
    fn create_and_sign(&self, signer: &str) {
        let made = self.json(0, &["manifest", "create", "--root", "install"]);
        assert_eq!(made["files"], 4, "{made}");
        assert_eq!(made["bytes"], 370_100, "{made}");
        let (cert, key) = (format!("{signer}.pem"), format!("{signer}.key"));
        self.expect(
            0,
            &[
                "manifest",
                "sign",
                "--manifest",
                "install/yinxin-manifest.json",
                "--cert",
                &cert,
                "--key",
                &key,
            ],
        );
    }

    fn verify(&self, code: i32) -> Value {
        self.json(
            code,
            &[
                "manifest", "verify", "--root", "install", "--trust", "root.pem",
            ],
        )
    }
}

/// OpenSSL's options for SM2 with the default ID (`verify` also for the CSR's signature).
fn sm2_opts(sm2: bool, verify: bool) -> &'static [&'static str] {
    match (sm2, verify) {
        (false, _) => &[],
        (true, false) => &["-sm3", "-sigopt", "distid:1234567812345678"],
        (true, true) => &[
            "-sm3",
            "-sigopt",
            "distid:1234567812345678",
            "-vfyopt",
            "distid:1234567812345678",
        ],
    }
}

/// Deterministic bytes that look like a binary.
fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn flip_byte(path: &Path, at: usize) {
    let mut data = std::fs::read(path).unwrap();
    data[at] ^= 0x01;
    std::fs::write(path, data).unwrap();
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn create_sign_verify_and_openssl_agrees() {
    let e = Env::new();
    e.root("root", false);
    e.leaf("signer", "root", Some("codeSigning"), false);
    e.create_and_sign("signer");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(e.path("install/yinxin-manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["format"], "yinxin-manifest/1");
    assert_eq!(manifest["product"], "yinxin");
    assert_eq!(manifest["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["files"][0]["path"], "bin/yinxin");
    assert_eq!(manifest["files"][0]["size"], 300_000);
    assert_eq!(
        manifest["files"][0]["sha256"],
        e.sha256sum("install/bin/yinxin")
    );
    let report = e.verify(0);
    assert_eq!(report["signature"]["trusted"], true, "{report}");
    assert_eq!(
        report["signature"]["signer"], "O=yinxin test,CN=signer",
        "{report}"
    );
    assert_eq!(report["signature"]["serial"], "1234", "{report}");
    assert_eq!(report["summary"]["intact"], 4, "{report}");
    assert_eq!(report["summary"]["clean"], true, "{report}");
    assert!(statuses(&report).iter().all(|(_, s)| s == "intact"));
    let text = e.expect(
        0,
        &[
            "manifest", "verify", "--root", "install", "--trust", "root.pem",
        ],
    );
    assert!(text.contains("signature: trusted"), "{text}");
    assert!(text.contains("clean:"), "{text}");
    // OpenSSL accepts the signature with the manifest as detached content.
    let out = e.openssl(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "install/yinxin-manifest.json.p7s",
        "-content",
        "install/yinxin-manifest.json",
        "-CAfile",
        "root.pem",
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ]);
    assert!(out.contains("Verification successful"), "{out}");
}

#[test]
fn a_changed_byte_is_named_with_both_hashes() {
    let e = Env::new();
    e.root("root", false);
    e.leaf("signer", "root", Some("codeSigning"), false);
    e.create_and_sign("signer");
    let before = e.sha256sum("install/bin/yinxin");
    flip_byte(&e.path("install/bin/yinxin"), 123_456);
    let after = e.sha256sum("install/bin/yinxin");
    assert_ne!(before, after);
    let text = e.expect(
        1,
        &[
            "manifest", "verify", "--root", "install", "--trust", "root.pem",
        ],
    );
    assert!(
        text.contains("bin/yinxin: it was modified after installation"),
        "{text}"
    );
    assert!(
        text.contains(&format!("expected: sha256 {before}, 300000 bytes")),
        "{text}"
    );
    assert!(
        text.contains(&format!("actual:   sha256 {after}, 300000 bytes")),
        "{text}"
    );
    assert!(text.contains("signature: trusted"), "{text}");
    assert!(!text.contains("clean:"), "{text}");
    let report = e.verify(1);
    let modified = &report["files"][0];
    assert_eq!(modified["path"], "bin/yinxin", "{report}");
    assert_eq!(modified["status"], "modified", "{report}");
    assert_eq!(modified["expected_sha256"], before.as_str());
    assert_eq!(modified["actual_sha256"], after.as_str());
    assert_eq!(modified["expected_size"], 300_000);
    assert_eq!(modified["actual_size"], 300_000);
    assert_eq!(report["summary"]["modified"], 1, "{report}");
    assert_eq!(report["summary"]["intact"], 3, "{report}");
    assert_eq!(report["summary"]["clean"], false, "{report}");
}

#[test]
fn a_manifest_edited_after_signing_is_untrusted() {
    let e = Env::new();
    e.root("root", false);
    e.leaf("signer", "root", Some("codeSigning"), false);
    e.create_and_sign("signer");
    // Replace the binary and "fix" the manifest to match it: every file looks intact.
    let before = e.sha256sum("install/bin/yinxin");
    flip_byte(&e.path("install/bin/yinxin"), 0);
    let after = e.sha256sum("install/bin/yinxin");
    let manifest = e.path("install/yinxin-manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace(&before, &after)).unwrap();
    let report = e.verify(1);
    assert_eq!(report["signature"]["trusted"], false, "{report}");
    let reason = report["signature"]["reason"].as_str().unwrap();
    assert!(reason.contains("changed after signing"), "{reason}");
    assert_eq!(report["summary"]["intact"], 4, "{report}");
    assert_eq!(report["summary"]["clean"], false, "{report}");
    let text = e.expect(
        1,
        &[
            "manifest", "verify", "--root", "install", "--trust", "root.pem",
        ],
    );
    assert!(text.contains("signature: NOT TRUSTED"), "{text}");
    assert!(text.contains("FAILED"), "{text}");
    assert!(!text.contains("clean:"), "{text}");
    // Deleting the signature does not help either.
    std::fs::remove_file(e.path("install/yinxin-manifest.json.p7s")).unwrap();
    let report = e.verify(1);
    let reason = report["signature"]["reason"].as_str().unwrap();
    assert!(reason.contains("no signature file"), "{reason}");
    assert!(reason.contains("not signed"), "{reason}");
}

#[test]
fn foreign_and_non_code_signing_certificates_are_untrusted() {
    let e = Env::new();
    e.root("root", false);
    e.root("other-root", false);
    e.leaf("foreign", "other-root", Some("codeSigning"), false);
    e.leaf("plain", "root", None, false);
    e.leaf("tls", "root", Some("serverAuth"), false);
    // A code-signing certificate from another CA: untrusted for --trust root.pem.
    e.create_and_sign("foreign");
    let report = e.verify(1);
    assert_eq!(report["signature"]["trusted"], false, "{report}");
    let reason = report["signature"]["reason"].as_str().unwrap();
    assert!(reason.contains("not trusted"), "{reason}");
    // …but trusted for its own root.
    let own = e.json(
        0,
        &[
            "manifest",
            "verify",
            "--root",
            "install",
            "--trust",
            "other-root.pem",
        ],
    );
    assert_eq!(own["signature"]["trusted"], true, "{own}");
    // `sign` refuses certificates without codeSigning, with or without an EKU extension.
    for cert in ["plain", "tls"] {
        let stderr = e.input_error(&[
            "manifest",
            "sign",
            "--manifest",
            "install/yinxin-manifest.json",
            "--cert",
            &format!("{cert}.pem"),
            "--key",
            &format!("{cert}.key"),
            "--out",
            "refused.p7s",
        ]);
        assert!(
            stderr.contains("not a code-signing certificate"),
            "{stderr}"
        );
        assert!(!e.path("refused.p7s").exists());
    }
    // OpenSSL signs with them anyway: verify does not trust that signature.
    for cert in ["plain", "tls"] {
        e.openssl(&[
            "cms",
            "-sign",
            "-binary",
            "-in",
            "install/yinxin-manifest.json",
            "-signer",
            &format!("{cert}.pem"),
            "-inkey",
            &format!("{cert}.key"),
            "-outform",
            "DER",
            "-out",
            "install/yinxin-manifest.json.p7s",
        ]);
        let report = e.verify(1);
        assert_eq!(report["signature"]["trusted"], false, "{cert}: {report}");
        let reason = report["signature"]["reason"].as_str().unwrap();
        assert!(
            reason.contains("code-signing") || reason.contains("codeSigning"),
            "{cert}: {reason}"
        );
    }
    // A signature that is not CMS at all.
    std::fs::write(e.path("install/yinxin-manifest.json.p7s"), b"garbage").unwrap();
    let report = e.verify(1);
    let reason = report["signature"]["reason"].as_str().unwrap();
    assert!(reason.contains("not a usable CMS signature"), "{reason}");
}

#[test]
fn deleted_files_are_missing_added_files_unexpected() {
    let e = Env::new();
    e.root("root", false);
    e.leaf("signer", "root", Some("codeSigning"), false);
    e.create_and_sign("signer");
    std::fs::write(e.path("install/share/added.txt"), b"hello").unwrap();
    let report = e.verify(0);
    assert!(
        statuses(&report).contains(&("share/added.txt".into(), "unexpected".into())),
        "{report}"
    );
    let added = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "share/added.txt")
        .unwrap();
    assert_eq!(added["size"], 5);
    assert_eq!(added["sha256"], e.sha256sum("install/share/added.txt"));
    assert_eq!(report["summary"]["unexpected"], 1, "{report}");
    assert_eq!(report["summary"]["clean"], true, "{report}");
    std::fs::remove_file(e.path("install/lib/libyinxin.so.1")).unwrap();
    let report = e.verify(1);
    assert!(
        statuses(&report).contains(&("lib/libyinxin.so.1".into(), "missing".into())),
        "{report}"
    );
    assert_eq!(report["summary"]["missing"], 1, "{report}");
    let text = e.expect(
        1,
        &[
            "manifest", "verify", "--root", "install", "--trust", "root.pem",
        ],
    );
    assert!(text.contains("MISSING lib/libyinxin.so.1"), "{text}");
    assert!(text.contains("unexpected share/added.txt"), "{text}");
}

#[test]
fn a_manifest_kept_elsewhere_in_the_root_is_not_unexpected() {
    let e = Env::new();
    e.root("root", false);
    e.leaf("signer", "root", Some("codeSigning"), false);
    let made = e.json(
        0,
        &[
            "manifest",
            "create",
            "--root",
            "install",
            "--out",
            "install/share/m.json",
            "--product",
            "yinxin-client",
            "--version",
            "9.8.7",
        ],
    );
    assert_eq!(made["files"], 4, "{made}");
    assert_eq!(made["version"], "9.8.7", "{made}");
    e.expect(
        0,
        &[
            "manifest",
            "sign",
            "--manifest",
            "install/share/m.json",
            "--cert",
            "signer.pem",
            "--key",
            "signer.key",
        ],
    );
    let report = e.json(
        0,
        &[
            "manifest",
            "verify",
            "--root",
            "install",
            "--manifest",
            "install/share/m.json",
            "--trust",
            "root.pem",
        ],
    );
    assert_eq!(report["summary"]["unexpected"], 0, "{report}");
    assert_eq!(report["manifest"]["product"], "yinxin-client", "{report}");
}

#[test]
fn bad_input_is_an_input_error() {
    let e = Env::new();
    e.root("root", false);
    e.leaf("signer", "root", Some("codeSigning"), false);
    e.create_and_sign("signer");
    let verify_with = |manifest: &str| {
        e.input_error(&[
            "manifest",
            "verify",
            "--root",
            "install",
            "--manifest",
            manifest,
            "--trust",
            "root.pem",
        ])
    };
    // A path that climbs out of the installation.
    let text = std::fs::read_to_string(e.path("install/yinxin-manifest.json")).unwrap();
    std::fs::write(
        e.path("climb.json"),
        text.replace("\"bin/yinxin\"", "\"../etc/passwd\""),
    )
    .unwrap();
    let stderr = verify_with("climb.json");
    assert!(stderr.contains("bad path \"../etc/passwd\""), "{stderr}");
    // Not JSON, another format, no manifest at all.
    std::fs::write(e.path("not.json"), b"\x00\x01 not json").unwrap();
    let stderr = verify_with("not.json");
    assert!(stderr.contains("the manifest is not valid"), "{stderr}");
    std::fs::write(
        e.path("v2.json"),
        text.replace("yinxin-manifest/1", "yinxin-manifest/2"),
    )
    .unwrap();
    let stderr = verify_with("v2.json");
    assert!(stderr.contains("unknown manifest format"), "{stderr}");
    let stderr = verify_with("absent.json");
    assert!(stderr.contains("cannot read"), "{stderr}");
    // `sign` refuses to sign something that is not a manifest.
    let stderr = e.input_error(&[
        "manifest",
        "sign",
        "--manifest",
        "climb.json",
        "--cert",
        "signer.pem",
        "--key",
        "signer.key",
    ]);
    assert!(stderr.contains("bad path"), "{stderr}");
    // A trust file without certificates, a root that is not a directory.
    std::fs::write(e.path("empty.pem"), b"").unwrap();
    e.input_error(&[
        "manifest",
        "verify",
        "--root",
        "install",
        "--trust",
        "empty.pem",
    ]);
    let stderr = e.input_error(&[
        "manifest", "verify", "--root", "root.pem", "--trust", "root.pem",
    ]);
    assert!(stderr.contains("not a directory"), "{stderr}");
    let stderr = e.input_error(&["manifest", "create", "--root", "nowhere"]);
    assert!(stderr.contains("nowhere"), "{stderr}");
}

#[test]
fn sm2_code_signing() {
    let e = Env::new();
    e.root("root", true);
    e.leaf("signer", "root", Some("codeSigning"), true);
    e.create_and_sign("signer");
    let report = e.verify(0);
    assert_eq!(report["signature"]["trusted"], true, "{report}");
    assert_eq!(report["summary"]["clean"], true, "{report}");
    let manifest = e.path("install/yinxin-manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\"size\": 100,", "\"size\": 101,")).unwrap();
    let report = e.verify(1);
    assert_eq!(report["signature"]["trusted"], false, "{report}");
    let reason = report["signature"]["reason"].as_str().unwrap();
    assert!(reason.contains("changed after signing"), "{reason}");
}
