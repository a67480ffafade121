//! The `yinxin` binary end to end: exit codes, one-line errors on bad input, tokens driven
//! from the command line (software and SoftHSM2), and requests/signatures that OpenSSL checks.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A scratch home with its own machine identity, so tests never touch the user's tokens.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("machine-id"), "cli-test-machine\n").unwrap();
        Env { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_yinxin"));
        c.env("YINXIN_HOME", self.path("home"))
            .env("YINXIN_MACHINE_ID_FILE", self.path("machine-id"))
            .env_remove("YINXIN_PIN")
            .env_remove("YINXIN_SO_PIN")
            .env_remove("YINXIN_NEW_PIN")
            .current_dir(self.dir.path());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "yinxin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 2 with exactly one line on stderr starting "yinxin: error:", and no panic.
fn assert_input_error(out: &Output, context: &str) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{context}: expected exit 2, stderr: {err}"
    );
    assert!(err.starts_with("yinxin: error: "), "{context}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{context}: not one line: {err}"
    );
    assert!(!err.contains("panicked"), "{context}: {err}");
}

fn openssl(args: &[&str], dir: &Path) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl 3 CLI is needed for these tests: apt-get install -y openssl")
}

#[test]
fn sign_and_verify_exit_codes() {
    let e = Env::new();
    for alg in ["sm2", "ec-p256", "rsa2048"] {
        e.ok(&["key", "generate", "--alg", alg, "--out", "k.pem", "--force"]);
        e.ok(&["key", "public", "k.pem", "--out", "p.pem"]);
        e.write("m", "contract #1");
        e.ok(&["sign", "--key", "k.pem", "--in", "m", "--out", "s"]);
        assert_eq!(
            e.run(&["verify", "--pubkey", "p.pem", "--in", "m", "--sig", "s"])
                .status
                .code(),
            Some(0)
        );
        e.write("m2", "contract #2");
        let bad = e.run(&["verify", "--pubkey", "p.pem", "--in", "m2", "--sig", "s"]);
        assert_eq!(
            bad.status.code(),
            Some(1),
            "{alg}: a wrong message is invalid (1)"
        );
        let json = e.ok(&[
            "--json", "verify", "--pubkey", "p.pem", "--in", "m", "--sig", "s",
        ]);
        assert!(json.contains("\"valid\":true"), "{json}");
    }
    // An existing key file is never overwritten by accident.
    let before = std::fs::read(e.path("k.pem")).unwrap();
    assert_input_error(
        &e.run(&["key", "generate", "--alg", "sm2", "--out", "k.pem"]),
        "overwrite",
    );
    assert_eq!(std::fs::read(e.path("k.pem")).unwrap(), before);
    // SM2 with another ID: valid only under that ID.
    e.ok(&[
        "key", "generate", "--alg", "sm2", "--out", "k.pem", "--force",
    ]);
    e.ok(&["key", "public", "k.pem", "--out", "p.pem"]);
    e.ok(&[
        "sign",
        "--key",
        "k.pem",
        "--in",
        "m",
        "--out",
        "s",
        "--id",
        "alice@example.cn",
    ]);
    assert_eq!(
        e.run(&["verify", "--pubkey", "p.pem", "--in", "m", "--sig", "s"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        e.run(&[
            "verify",
            "--pubkey",
            "p.pem",
            "--in",
            "m",
            "--sig",
            "s",
            "--id",
            "alice@example.cn"
        ])
        .status
        .code(),
        Some(0)
    );
    // An ID for an RSA key or a hash for SM2 is refused, not dropped.
    e.ok(&["key", "generate", "--alg", "rsa2048", "--out", "r.pem"]);
    assert_input_error(
        &e.run(&[
            "sign", "--key", "r.pem", "--in", "m", "--out", "s", "--id", "x",
        ]),
        "id on RSA",
    );
    assert_input_error(
        &e.run(&[
            "sign", "--key", "k.pem", "--in", "m", "--out", "s", "--hash", "sha256",
        ]),
        "sha256 on SM2",
    );
}

#[test]
fn bad_input_gets_one_line_and_exit_2() {
    let e = Env::new();
    e.ok(&["key", "generate", "--alg", "sm2", "--out", "k.pem"]);
    e.ok(&["key", "public", "k.pem", "--out", "p.pem"]);
    let good_pem = std::fs::read_to_string(e.path("k.pem")).unwrap();
    let der = openssl(&["pkey", "-in", "k.pem", "-outform", "DER"], e.dir.path()).stdout;
    e.write("m", "data");
    e.ok(&["sign", "--key", "k.pem", "--in", "m", "--out", "s"]);
    e.write("empty", "");
    e.write("truncated.der", &der[..der.len() / 2]);
    e.write("truncated.pem", &good_pem[..good_pem.len() / 2]);
    e.write(
        "cert-label.pem",
        good_pem.replace("PRIVATE KEY", "CERTIFICATE"),
    );
    e.write(
        "garbage.bin",
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect::<Vec<_>>(),
    );
    // 100 MB of garbage.
    let big: Vec<u8> = (0..100 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    e.write("big.bin", &big);
    for bad in [
        "empty",
        "truncated.der",
        "truncated.pem",
        "cert-label.pem",
        "garbage.bin",
        "big.bin",
        "p.pem",
        "missing",
    ] {
        assert_input_error(
            &e.run(&["sign", "--key", bad, "--in", "m", "--out", "s2"]),
            &format!("sign --key {bad}"),
        );
        assert_input_error(
            &e.run(&["decrypt", "--key", bad, "--in", "m", "--out", "o"]),
            &format!("decrypt --key {bad}"),
        );
        assert_input_error(
            &e.run(&["key", "public", bad]),
            &format!("key public {bad}"),
        );
        if bad != "p.pem" {
            assert_input_error(
                &e.run(&["verify", "--pubkey", bad, "--in", "m", "--sig", "s"]),
                &format!("verify --pubkey {bad}"),
            );
            assert_input_error(
                &e.run(&["encrypt", "--pubkey", bad, "--in", "m", "--out", "c"]),
                &format!("encrypt --pubkey {bad}"),
            );
        }
    }
    // Garbage as ciphertext: a clear failure. As a signature: a well-sized file that is not a
    // valid signature is a "no" (1); an empty or oversized one cannot be a signature (2).
    for bad in ["empty", "garbage.bin", "big.bin"] {
        let out = e.run(&["decrypt", "--key", "k.pem", "--in", bad, "--out", "o"]);
        assert_input_error(&out, &format!("decrypt --in {bad}"));
    }
    let verify_sig = |sig: &str| e.run(&["verify", "--pubkey", "p.pem", "--in", "m", "--sig", sig]);
    assert_eq!(verify_sig("garbage.bin").status.code(), Some(1));
    assert_input_error(&verify_sig("empty"), "empty signature");
    assert_input_error(&verify_sig("big.bin"), "100 MB signature");
    // RSA and EC key files, truncated; an encrypted key whose body is garbage; legacy PEM.
    for alg in ["rsa2048", "ec-p384"] {
        let name = format!("{alg}.pem");
        e.ok(&["key", "generate", "--alg", alg, "--out", &name]);
        let der = openssl(&["pkey", "-in", &name, "-outform", "DER"], e.dir.path()).stdout;
        let cut = format!("{alg}-cut.der");
        e.write(&cut, &der[..der.len() - 9]);
        assert_input_error(
            &e.run(&["sign", "--key", &cut, "--in", "m", "--out", "s2"]),
            &cut,
        );
    }
    e.write("pw", "pw\n");
    e.write(
        "enc-garbage.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBAAAAAAAAAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let args = [
        "sign",
        "--key",
        "enc-garbage.pem",
        "--password-file",
        "pw",
        "--in",
        "m",
        "--out",
        "s2",
    ];
    assert_input_error(&e.run(&args), "garbage encrypted key");
    e.write(
        "legacy.pem",
        "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00000000000000000000000000000000\n\nAAAA\n-----END EC PRIVATE KEY-----\n",
    );
    let out = e.run(&["sign", "--key", "legacy.pem", "--in", "m", "--out", "s2"]);
    assert_input_error(&out, "legacy PEM encryption");
    assert!(
        stderr(&out).contains("openssl pkcs8 -topk8"),
        "{}",
        stderr(&out)
    );
    assert!(
        !e.path("o").exists(),
        "no output is written when decryption fails"
    );
    // 100 MB of data still verifies as a "no", not a crash.
    assert_eq!(
        e.run(&[
            "verify", "--pubkey", "p.pem", "--in", "big.bin", "--sig", "s"
        ])
        .status
        .code(),
        Some(1)
    );
    assert!(
        e.ok(&["digest", "--alg", "sha256", "big.bin"])
            .contains("= ")
    );
    // Usage errors are 2 as well.
    assert_eq!(
        e.run(&["key", "generate", "--alg", "dsa", "--out", "x"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(e.run(&["sign"]).status.code(), Some(2));
}

#[test]
fn encrypt_and_decrypt_round_trip_in_every_layout() {
    let e = Env::new();
    e.write("m", "sealed bid: 42");
    e.ok(&["key", "generate", "--alg", "sm2", "--out", "k.pem"]);
    e.ok(&["key", "public", "k.pem", "--out", "p.pem"]);
    for format in ["asn1", "c1c3c2", "c1c2c3"] {
        e.ok(&[
            "encrypt", "--pubkey", "p.pem", "--in", "m", "--out", "c", "--format", format,
        ]);
        e.ok(&["decrypt", "--key", "k.pem", "--in", "c", "--out", "o"]);
        assert_eq!(std::fs::read(e.path("o")).unwrap(), b"sealed bid: 42");
    }
    e.ok(&["key", "generate", "--alg", "rsa2048", "--out", "r.pem"]);
    e.ok(&["key", "public", "r.pem", "--out", "rp.pem"]);
    for padding in ["oaep-sha256", "oaep-sha1"] {
        e.ok(&[
            "encrypt",
            "--pubkey",
            "rp.pem",
            "--in",
            "m",
            "--out",
            "c",
            "--padding",
            padding,
        ]);
        e.ok(&[
            "decrypt",
            "--key",
            "r.pem",
            "--in",
            "c",
            "--out",
            "o",
            "--padding",
            padding,
        ]);
        assert_eq!(std::fs::read(e.path("o")).unwrap(), b"sealed bid: 42");
    }
    // Encrypted key files: password from a file.
    e.write("pw", "correct horse\n");
    e.ok(&[
        "key",
        "generate",
        "--alg",
        "sm2",
        "--out",
        "ek.pem",
        "--password-file",
        "pw",
    ]);
    assert!(
        std::fs::read_to_string(e.path("ek.pem"))
            .unwrap()
            .contains("ENCRYPTED PRIVATE KEY")
    );
    e.ok(&[
        "key",
        "public",
        "ek.pem",
        "--password-file",
        "pw",
        "--out",
        "ep.pem",
    ]);
    e.write("badpw", "wrong\n");
    assert_input_error(
        &e.run(&["key", "public", "ek.pem", "--password-file", "badpw"]),
        "wrong password",
    );
    assert_input_error(
        &e.run(&["key", "public", "ek.pem"]),
        "no password and no terminal",
    );
}

fn token_env(e: &Env) {
    e.write("so", "so-pin-123456\n");
    e.write("pin", "user-pin-123456\n");
    e.write("wrong", "wrong-pin-0000\n");
    e.write("newpin", "user-pin-654321\n");
}

#[test]
fn software_token_from_the_command_line() {
    let e = Env::new();
    token_env(&e);
    let pins = ["--so-pin-file", "so", "--pin-file", "pin"];
    let out = e.ok(&[
        &["token", "init", "--label", "alice", "--max-retries", "3"][..],
        &pins,
    ]
    .concat());
    assert!(out.contains("alice"), "{out}");
    assert!(e.path("home/tokens/default.yxtoken").exists());
    assert_input_error(
        &e.run(&[&["token", "init"][..], &pins].concat()),
        "init twice",
    );
    e.ok(&[
        "token",
        "keygen",
        "--container",
        "alice",
        "--usage",
        "sign",
        "--alg",
        "sm2",
        "--pin-file",
        "pin",
    ]);
    e.ok(&[
        "token",
        "keygen",
        "--container",
        "alice",
        "--usage",
        "enc",
        "--alg",
        "sm2",
        "--pin-file",
        "pin",
    ]);
    let list = e.ok(&["--json", "token", "list"]);
    assert!(
        list.contains("\"container\":\"alice\"") && list.contains("\"usage\":\"enc\""),
        "{list}"
    );
    // A request that OpenSSL verifies under the SM2 default ID.
    e.ok(&[
        "token",
        "csr",
        "--container",
        "alice",
        "--subject",
        "/C=CN/O=某某医药有限公司/CN=张三",
        "--out",
        "req.pem",
        "--pin-file",
        "pin",
    ]);
    let v = openssl(
        &[
            "req",
            "-in",
            "req.pem",
            "-verify",
            "-noout",
            "-vfyopt",
            "distid:1234567812345678",
        ],
        e.dir.path(),
    );
    assert!(
        v.status.success(),
        "openssl req -verify: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    let subj = openssl(
        &[
            "req", "-in", "req.pem", "-noout", "-subject", "-nameopt", "utf8",
        ],
        e.dir.path(),
    );
    assert!(
        String::from_utf8_lossy(&subj.stdout).contains("CN=张三"),
        "{subj:?}"
    );
    // A certificate for the token's key, issued by an OpenSSL CA, goes onto the token.
    let ca = |args: &str| {
        let words: Vec<&str> = args.split(' ').collect();
        let out = openssl(&words, e.dir.path());
        assert!(
            out.status.success(),
            "openssl {args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ca(
        "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -subj /CN=Test-CA -days 2 -out ca.pem",
    );
    ca(
        "x509 -req -in req.pem -vfyopt distid:1234567812345678 -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out alice.crt",
    );
    e.ok(&[
        "token",
        "import-cert",
        "--container",
        "alice",
        "--usage",
        "sign",
        "--cert",
        "alice.crt",
        "--pin-file",
        "pin",
    ]);
    let out = e.run(&[
        "token",
        "import-cert",
        "--container",
        "alice",
        "--usage",
        "enc",
        "--cert",
        "alice.crt",
        "--pin-file",
        "pin",
    ]);
    let listed = serde_json_value(&e.ok(&["--json", "token", "list"]));
    assert_eq!(
        listed[0]["keys"][0]["has_certificate"],
        serde_json::Value::Bool(true)
    );
    assert_input_error(&out, "certificate for another key");
    assert!(stderr(&out).contains("does not match"), "{}", stderr(&out));
    e.write(
        "not-a-cert.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    assert_input_error(
        &e.run(&[
            "token",
            "import-cert",
            "--container",
            "alice",
            "--cert",
            "not-a-cert.pem",
            "--pin-file",
            "pin",
        ]),
        "bad certificate",
    );
    // Sign on the token, verify in OpenSSL with the public key the token lists.
    e.write("m", "award notice");
    e.ok(&[
        "token",
        "sign",
        "--container",
        "alice",
        "--in",
        "m",
        "--out",
        "s",
        "--pin-file",
        "pin",
    ]);
    let pem = serde_json_value(&list)[0]["keys"][0]["public_key_pem"]
        .as_str()
        .unwrap()
        .to_string();
    e.write("alice.pub", pem);
    let v = openssl(
        &[
            "pkeyutl",
            "-verify",
            "-rawin",
            "-digest",
            "sm3",
            "-pubin",
            "-inkey",
            "alice.pub",
            "-in",
            "m",
            "-sigfile",
            "s",
            "-pkeyopt",
            "distid:1234567812345678",
        ],
        e.dir.path(),
    );
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    // Encrypt to the token's encryption key; only the token decrypts.
    let enc_pem = serde_json_value(&list)[0]["keys"][1]["public_key_pem"]
        .as_str()
        .unwrap()
        .to_string();
    e.write("alice-enc.pub", enc_pem);
    e.ok(&[
        "encrypt",
        "--pubkey",
        "alice-enc.pub",
        "--in",
        "m",
        "--out",
        "c",
    ]);
    e.ok(&[
        "token",
        "decrypt",
        "--container",
        "alice",
        "--in",
        "c",
        "--out",
        "o",
        "--pin-file",
        "pin",
    ]);
    assert_eq!(std::fs::read(e.path("o")).unwrap(), b"award notice");
    // Three wrong PINs lock it; the SO PIN unlocks with a new user PIN.
    for left in ["2 attempt", "1 attempt"] {
        let out = e.run(&[
            "token",
            "sign",
            "--container",
            "alice",
            "--in",
            "m",
            "--out",
            "s",
            "--pin-file",
            "wrong",
        ]);
        assert_input_error(&out, "wrong PIN");
        assert!(stderr(&out).contains(left), "{}", stderr(&out));
    }
    let out = e.run(&[
        "token",
        "sign",
        "--container",
        "alice",
        "--in",
        "m",
        "--out",
        "s",
        "--pin-file",
        "wrong",
    ]);
    assert!(stderr(&out).contains("locked"), "{}", stderr(&out));
    let out = e.run(&[
        "token",
        "sign",
        "--container",
        "alice",
        "--in",
        "m",
        "--out",
        "s",
        "--pin-file",
        "pin",
    ]);
    assert!(
        stderr(&out).contains("locked"),
        "the right PIN does not help once locked: {}",
        stderr(&out)
    );
    assert!(e.ok(&["token", "info"]).contains("LOCKED"));
    e.ok(&[
        "token",
        "unlock",
        "--so-pin-file",
        "so",
        "--new-pin-file",
        "newpin",
    ]);
    e.ok(&[
        "token",
        "sign",
        "--container",
        "alice",
        "--in",
        "m",
        "--out",
        "s",
        "--pin-file",
        "newpin",
    ]);
    e.ok(&[
        "token",
        "change-pin",
        "--pin-file",
        "newpin",
        "--new-pin-file",
        "pin",
    ]);
    e.ok(&[
        "token",
        "sign",
        "--container",
        "alice",
        "--in",
        "m",
        "--out",
        "s",
        "--pin-file",
        "pin",
    ]);
    // The same file on a machine with another identity (a cloned OS image).
    std::fs::write(e.path("machine-id"), "another-machine\n").unwrap();
    let out = e.run(&["token", "list"]);
    assert_input_error(&out, "copied token");
    assert!(stderr(&out).contains("another machine"), "{}", stderr(&out));
    // PINs come from env too, never only from the command line.
    std::fs::write(e.path("machine-id"), "cli-test-machine\n").unwrap();
    let out = e
        .cmd()
        .args([
            "token",
            "sign",
            "--container",
            "alice",
            "--in",
            "m",
            "--out",
            "s",
        ])
        .env("YINXIN_PIN", "user-pin-123456")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_input_error(
        &e.run(&[
            "token",
            "sign",
            "--container",
            "alice",
            "--in",
            "m",
            "--out",
            "s",
        ]),
        "no PIN",
    );
}

fn serde_json_value(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn pkcs11_token_from_the_command_line_on_softhsm2() {
    assert!(
        Path::new(SOFTHSM_MODULE).exists(),
        "SoftHSM2 is needed: apt-get install -y softhsm2"
    );
    let e = Env::new();
    token_env(&e);
    let tokens = e.path("softhsm-tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = e.write(
        "softhsm2.conf",
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    );
    let hsm = |args: &[&str]| {
        let out = e
            .cmd()
            .args(args)
            .args(["--pkcs11", SOFTHSM_MODULE])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .unwrap();
        assert!(out.status.success(), "yinxin {args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    hsm(&[
        "token",
        "init",
        "--label",
        "usbkey",
        "--so-pin-file",
        "so",
        "--pin-file",
        "pin",
    ]);
    hsm(&[
        "token",
        "keygen",
        "--container",
        "bidder",
        "--alg",
        "ec-p256",
        "--pin-file",
        "pin",
    ]);
    let info = hsm(&["token", "info"]);
    assert!(info.contains("SoftHSM"), "{info}");
    e.write("m", "bid");
    hsm(&[
        "token",
        "sign",
        "--container",
        "bidder",
        "--in",
        "m",
        "--out",
        "s",
        "--pin-file",
        "pin",
    ]);
    let list = hsm(&["--json", "token", "list"]);
    e.write(
        "bidder.pub",
        serde_json_value(&list)[0]["keys"][0]["public_key_pem"]
            .as_str()
            .unwrap(),
    );
    let v = openssl(
        &[
            "dgst",
            "-sha256",
            "-verify",
            "bidder.pub",
            "-signature",
            "s",
            "m",
        ],
        e.dir.path(),
    );
    assert!(
        v.status.success(),
        "OpenSSL verifies the HSM's signature: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    hsm(&[
        "token",
        "csr",
        "--container",
        "bidder",
        "--subject",
        "CN=bidder,O=Example,C=CN",
        "--out",
        "req.pem",
        "--pin-file",
        "pin",
    ]);
    let v = openssl(
        &["req", "-in", "req.pem", "-verify", "-noout"],
        e.dir.path(),
    );
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    let e = Env::new();
    let mut child = e
        .cmd()
        .args(["--json", "bench", "sm3", "--seconds", "0.05"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn bench_prints_like_openssl_speed() {
    let e = Env::new();
    let out = e.ok(&["bench", "sm2", "sm3", "--seconds", "0.05"]);
    assert!(out.contains("sign    verify    sign/s verify/s"), "{out}");
    assert!(out.contains("256 bits SM2 (CurveSM2)"), "{out}");
    assert!(out.contains("type             16 bytes"), "{out}");
    assert_eq!(e.run(&["bench", "md5"]).status.code(), Some(2));
    let json = e.ok(&["--json", "bench", "ecdsap256", "--seconds", "0.05"]);
    assert!(json.contains("sign_per_s"), "{json}");
}

/// Finding 5 of the probe: the CLI sent tokens and unseal shares to any `http://` URL. It now
/// refuses before connecting (the hosts below are never contacted), unless told
/// `--insecure-http`.
#[test]
fn credentials_are_not_sent_over_plain_http_to_other_machines() {
    let e = Env::new();
    e.write("share.txt", "yinxin-share-v1:1:1:00:00000000\n");
    for server in ["http://192.0.2.1:8700", "http://tender.example.invalid"] {
        let out = e
            .cmd()
            .env("YINXIN_TOKEN", "yx1.00.00")
            .args(["ca", "search", "--server", server])
            .output()
            .unwrap();
        assert_input_error(&out, server);
        assert!(
            stderr(&out).contains("refusing to send the API token over plain HTTP"),
            "{}",
            stderr(&out)
        );
        let out = e.run(&[
            "vault",
            "unseal",
            "--server",
            server,
            "--share-file",
            "share.txt",
        ]);
        assert_input_error(&out, server);
        assert!(stderr(&out).contains("an unseal share"), "{}", stderr(&out));
    }
    // Loopback is fine (nothing listens: a connection error, not a refusal). That
    // --insecure-http lifts the refusal is a unit test (it would connect).
    for args in [
        vec!["ca", "search", "--server", "http://127.0.0.1:9"],
        vec!["ca", "search", "--server", "http://[::1]:9"],
        vec!["ca", "search", "--server", "http://localhost:9"],
    ] {
        let out = e
            .cmd()
            .env("YINXIN_TOKEN", "yx1.00.00")
            .args(&args)
            .output()
            .unwrap();
        assert!(
            !stderr(&out).contains("refusing"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
