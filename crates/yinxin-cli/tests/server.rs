//! `yinxin serve` end to end, driven through the `yinxin` CLI, raw HTTP and the `openssl` CLI:
//! issuance and chains OpenSSL verifies, CRLs and OCSP from the running server, dual
//! certificates into a software token, sealing, bad input, escrow recovery under dual
//! control, SIGKILL during a burst of issuance, and two nodes on one PostgreSQL.
//!
//! The PostgreSQL variants use `postgres://postgres@127.0.0.1:5432/test` (or
//! `YINXIN_TEST_PG_URL`) with a fresh schema per test; without a reachable server they print
//! `SKIPPED: …` and pass.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "server/cms.rs"]
mod cms;
#[path = "server/hardening.rs"]
mod hardening;
#[path = "common/serve.rs"]
mod serve;
#[path = "server/tsa.rs"]
mod tsa;

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A scratch directory with its own machine identity and token home.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("machine-id"), "server-test-machine\n").unwrap();
        Env { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_yinxin"));
        c.env("YINXIN_HOME", self.path("home"))
            .env("YINXIN_MACHINE_ID_FILE", self.path("machine-id"))
            .env("YINXIN_PIN", "123456")
            .env("YINXIN_SO_PIN", "87654321")
            .env_remove("YINXIN_TOKEN")
            .env_remove("YINXIN_SERVER")
            .env_remove("YINXIN_DATABASE")
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

    fn json(&self, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        serde_json::from_str(self.ok(&full).trim()).unwrap()
    }

    fn openssl(&self, args: &[&str]) -> Output {
        Command::new("openssl")
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("the openssl 3 CLI is needed for these tests: apt-get install -y openssl")
    }

    fn openssl_ok(&self, args: &[&str]) -> String {
        let out = self.openssl(args);
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

/// Which store a server runs on.
#[derive(Clone)]
enum Db {
    Sqlite,
    Postgres { url: String },
}

impl Db {
    /// A fresh PostgreSQL schema, or `None` after printing SKIPPED.
    fn postgres(test: &str) -> Option<Db> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let base = std::env::var("YINXIN_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into());
        let schema = format!(
            "yxs_{}_{}_{test}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let rt = tokio::runtime::Runtime::new().unwrap();
        let created = rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::postgres::PgConnection::connect(&base).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut conn)
                .await?;
            conn.close().await
        });
        if let Err(e) = created {
            eprintln!("SKIPPED: PostgreSQL not reachable at {base} ({e}); test {test}");
            return None;
        }
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(Db::Postgres {
            url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        })
    }
}

/// A running `yinxin serve`, killed on drop.
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
    fn start(env: &Env, data: &str, db: &Db, extra: &[&str]) -> Server {
        let mut cmd = env.cmd();
        cmd.args(["serve", "--data", data, "--listen", "127.0.0.1:0"])
            .args(extra);
        if let Db::Postgres { url } = db {
            cmd.args(["--database", url]);
        }
        Server::spawn(cmd)
    }

    /// Run a prepared `yinxin serve` command and wait for the URL it prints.
    fn spawn(cmd: Command) -> Server {
        let (child, url) = serve::spawn(cmd);
        Server { child, url }
    }

    fn kill9(mut self) {
        // SIGKILL: no graceful shutdown, no flush.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP helper over reqwest for raw API calls.
struct Http {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new() -> Http {
        Http {
            rt: tokio::runtime::Runtime::new().unwrap(),
            client: reqwest::Client::new(),
        }
    }

    fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        token: Option<&str>,
        body: Option<reqwest::Body>,
        content_type: &str,
    ) -> (u16, String, Vec<u8>) {
        self.rt.block_on(async {
            let mut r = self.client.request(method, url);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            if let Some(b) = body {
                r = r.header("content-type", content_type).body(b);
            }
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            let ct = resp
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap_or("").to_string())
                .unwrap_or_default();
            (status, ct, resp.bytes().await.unwrap().to_vec())
        })
    }

    fn post_json(&self, url: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let (s, _, b) = self.call(
            reqwest::Method::POST,
            url,
            token,
            Some(body.to_string().into()),
            "application/json",
        );
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }

    fn get_json(&self, url: &str, token: Option<&str>) -> (u16, Value) {
        let (s, _, b) = self.call(reqwest::Method::GET, url, token, None, "");
        (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
    }
}

fn serials(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["serial"].as_str().unwrap().to_string())
        .collect()
}

/// Split a PEM bundle into files `prefix-0.pem`, `prefix-1.pem`, …
fn split_pem(env: &Env, bundle: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (i, block) in bundle
        .split_inclusive("-----END CERTIFICATE-----\n")
        .filter(|b| b.contains("BEGIN"))
        .enumerate()
    {
        let name = format!("{prefix}-{i}.pem");
        std::fs::write(env.path(&name), block.trim_start()).unwrap();
        names.push(name);
    }
    names
}

fn ca_pem(env: &Env, http: &Http, server: &Server, name: &str) -> String {
    let (s, cas) = http.get_json(&format!("{}/api/v1/cas", server.url), None);
    assert_eq!(s, 200);
    let pem = cas
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()["certificate_pem"]
        .as_str()
        .unwrap()
        .to_string();
    let file = format!("{name}.pem");
    std::fs::write(env.path(&file), &pem).unwrap();
    file
}

// ---------------------------------------------------------------------------------- tests

fn end_to_end(db: Db) {
    let e = Env::new();
    let server = Server::start(&e, "data", &db, &[]);
    let url = server.url.clone();
    let token = "data/admin-token.txt";
    assert!(e.path("data/unseal-share.txt").exists(), "trial share file");
    let http = Http::new();

    // Roots and the OpenAPI document are public.
    e.ok(&["ca", "roots", "--server", &url, "--out", "roots.pem"]);
    assert_eq!(e.read("roots.pem").matches("BEGIN CERTIFICATE").count(), 2);
    let (s, doc) = http.get_json(&format!("{url}/api/openapi.json"), None);
    assert_eq!(s, 200);
    assert!(doc["paths"].is_object() || doc == json!({}), "{doc}");

    // RSA: an OpenSSL request → certificate → `openssl verify` of the whole chain.
    e.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "rsa.key",
        "-subj",
        "/C=CN/O=Acme Pharma/CN=portal.acme.test",
        "-out",
        "rsa.csr",
    ]);
    let issued = e.json(&[
        "ca",
        "issue",
        "--server",
        &url,
        "--token-file",
        token,
        "--csr",
        "rsa.csr",
        "--profile",
        "server",
        "--san",
        "dns:portal.acme.test",
        "--out",
        "rsa.pem",
        "--chain-out",
        "rsa-chain.pem",
    ]);
    let rsa_serial = issued["serial"].as_str().unwrap().to_string();
    assert_eq!(rsa_serial.len(), 32, "128-bit serials");
    let rsa_root = ca_pem(&e, &http, &server, "rsa-root");
    let out = e.openssl_ok(&[
        "verify",
        "-CAfile",
        &rsa_root,
        "-untrusted",
        "rsa-chain.pem",
        "-purpose",
        "sslserver",
        "rsa.pem",
    ]);
    assert!(out.contains("rsa.pem: OK"), "{out}");
    let text = e.openssl_ok(&["x509", "-in", "rsa.pem", "-noout", "-text"]);
    assert!(
        text.contains(&format!("URI:{url}/crl/rsa-issuing.crl")),
        "{text}"
    );
    assert!(text.contains(&format!("OCSP - URI:{url}/ocsp")), "{text}");
    assert!(
        text.contains(&format!("CA Issuers - URI:{url}/ca/rsa-issuing.crt")),
        "{text}"
    );

    // SM2: an OpenSSL SM2 request (default ID) for an organisation with GM/T 0015 codes.
    e.openssl_ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:SM2",
        "-out",
        "sm2.key",
    ]);
    e.openssl_ok(&[
        "req",
        "-new",
        "-utf8",
        "-key",
        "sm2.key",
        "-sm3",
        "-sigopt",
        "distid:1234567812345678",
        "-subj",
        "/C=CN/O=某某医药有限公司/CN=某某医药有限公司",
        "-out",
        "sm2.csr",
    ]);
    let sm2 = e.json(&[
        "ca",
        "issue",
        "--server",
        &url,
        "--token-file",
        token,
        "--csr",
        "sm2.csr",
        "--profile",
        "organisation",
        "--org-code",
        "91110000600037341L",
        "--out",
        "sm2.pem",
        "--chain-out",
        "sm2-chain.pem",
    ]);
    assert_eq!(sm2["ca"], "sm2-issuing");
    let sm2_root = ca_pem(&e, &http, &server, "sm2-root");
    let sm2_issuing = ca_pem(&e, &http, &server, "sm2-issuing");
    // OpenSSL 3.0 applies -vfyopt distid to the certificate being verified only, so the SM2
    // chain is checked link by link.
    let out = e.openssl_ok(&[
        "verify",
        "-vfyopt",
        "distid:1234567812345678",
        "-CAfile",
        &sm2_root,
        &sm2_issuing,
    ]);
    assert!(out.contains(": OK"), "{out}");
    let out = e.openssl_ok(&[
        "verify",
        "-vfyopt",
        "distid:1234567812345678",
        "-partial_chain",
        "-CAfile",
        &sm2_issuing,
        "sm2.pem",
    ]);
    assert!(out.contains("sm2.pem: OK"), "{out}");
    // Our own validator accepts the whole SM2 chain in one go.
    e.ok(&[
        "verify-chain",
        "--roots",
        &sm2_root,
        "--intermediates",
        &sm2_issuing,
        "--leaf",
        "sm2.pem",
    ]);

    // OCSP from the running server, through `openssl ocsp -url`: good.
    let ocsp = |cert: &str| {
        e.openssl_ok(&[
            "ocsp",
            "-issuer",
            "rsa-chain-issuer.pem",
            "-cert",
            cert,
            "-url",
            &format!("{url}/ocsp"),
            "-CAfile",
            &rsa_root,
            "-resp_text",
        ])
    };
    let chain = split_pem(&e, &e.read("rsa-chain.pem"), "rsa-chain");
    std::fs::copy(e.path(&chain[0]), e.path("rsa-chain-issuer.pem")).unwrap();
    let out = ocsp("rsa.pem");
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("rsa.pem: good"), "{out}");
    // unknown: a serial this CA never issued.
    let out = e.openssl_ok(&[
        "ocsp",
        "-issuer",
        "rsa-chain-issuer.pem",
        "-serial",
        "0x0123456789abcdef",
        "-url",
        &format!("{url}/ocsp"),
        "-CAfile",
        &rsa_root,
    ]);
    assert!(
        out.contains("Response verify OK") && out.contains(": unknown"),
        "{out}"
    );

    // Revoke → CRL lists it and verifies → OCSP says revoked.
    e.ok(&[
        "ca",
        "revoke",
        "--server",
        &url,
        "--token-file",
        token,
        "--serial",
        &rsa_serial,
        "--reason",
        "keyCompromise",
    ]);
    e.ok(&[
        "ca",
        "crl",
        "--server",
        &url,
        "--ca",
        "rsa-issuing",
        "--out",
        "rsa.crl",
    ]);
    let out = e.openssl_ok(&[
        "crl",
        "-inform",
        "DER",
        "-in",
        "rsa.crl",
        "-CAfile",
        "rsa-chain-issuer.pem",
        "-noout",
        "-text",
    ]);
    assert!(out.contains("verify OK"), "{out}");
    assert!(out.contains(&rsa_serial.to_uppercase()), "{out}");
    assert!(out.contains("Key Compromise"), "{out}");
    let out = ocsp("rsa.pem");
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("rsa.pem: revoked"), "{out}");
    // GET form of OCSP answers too (RFC 6960 Appendix A).
    e.openssl_ok(&[
        "ocsp",
        "-issuer",
        "rsa-chain-issuer.pem",
        "-cert",
        "rsa.pem",
        "-no_nonce",
        "-reqout",
        "req.der",
    ]);
    let req = std::fs::read(e.path("req.der")).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&req);
    let enc: String = b64
        .chars()
        .map(|c| match c {
            '+' => "%2B".into(),
            '/' => "%2F".into(),
            '=' => "%3D".into(),
            c => c.to_string(),
        })
        .collect();
    let (s, ct, body) = http.call(
        reqwest::Method::GET,
        &format!("{url}/ocsp/{enc}"),
        None,
        None,
        "",
    );
    assert_eq!((s, ct.as_str()), (200, "application/ocsp-response"));
    std::fs::write(e.path("get.resp"), body).unwrap();
    let out = e.openssl_ok(&[
        "ocsp",
        "-respin",
        "get.resp",
        "-issuer",
        "rsa-chain-issuer.pem",
        "-cert",
        "rsa.pem",
        "-CAfile",
        &rsa_root,
    ]);
    assert!(out.contains("rsa.pem: revoked"), "{out}");

    // Dual certificates into software tokens, SM2 and RSA; OpenSSL parses both certificates
    // and encrypts to the encryption certificate; the token decrypts.
    for (alg, name) in [("sm2", "t-sm2"), ("rsa2048", "t-rsa")] {
        e.ok(&["token", "init", "--name", name]);
        let enrolled = e.json(&[
            "token",
            "enroll",
            "--name",
            name,
            "--server",
            &url,
            "--token-file",
            token,
            "--container",
            "c1",
            "--alg",
            alg,
            "--subject",
            "CN=张三,O=某某医药有限公司,C=CN",
            "--profile",
            "employee",
            "--id-number",
            "11010519491231002X",
        ]);
        let sign_serial = enrolled["signing_serial"].as_str().unwrap();
        let enc_serial = enrolled["encryption_serial"].as_str().unwrap();
        for (serial, file) in [(sign_serial, "sign.pem"), (enc_serial, "enc.pem")] {
            e.ok(&[
                "ca",
                "get",
                "--server",
                &url,
                "--token-file",
                token,
                "--serial",
                serial,
                "--out",
                file,
            ]);
        }
        let sign_text = e.openssl_ok(&["x509", "-in", "sign.pem", "-noout", "-text"]);
        let enc_text = e.openssl_ok(&["x509", "-in", "enc.pem", "-noout", "-text"]);
        assert!(
            sign_text.contains("Digital Signature, Non Repudiation"),
            "{sign_text}"
        );
        assert!(enc_text.contains("Key Encipherment"), "{enc_text}");
        assert!(!enc_text.contains("Digital Signature"), "{enc_text}");
        e.openssl_ok(&[
            "x509", "-in", "enc.pem", "-pubkey", "-noout", "-out", "enc.pub",
        ]);
        std::fs::write(e.path("secret.txt"), "bid price: 1,234,567.00 元").unwrap();
        let mut args = vec![
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            "enc.pub",
            "-in",
            "secret.txt",
            "-out",
            "secret.ct",
        ];
        if alg.starts_with("rsa") {
            args.extend([
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                "rsa_oaep_md:sha256",
                "-pkeyopt",
                "rsa_mgf1_md:sha256",
            ]);
        }
        e.openssl_ok(&args);
        e.ok(&[
            "token",
            "decrypt",
            "--name",
            name,
            "--container",
            "c1",
            "--in",
            "secret.ct",
            "--out",
            "secret.out",
        ]);
        assert_eq!(e.read("secret.out"), "bid price: 1,234,567.00 元");
    }

    // Search, hold/release, renew, re-key.
    let found = e.ok(&[
        "--json",
        "ca",
        "search",
        "--server",
        &url,
        "--token-file",
        token,
        "--organisation",
        "某某医药有限公司",
    ]);
    let found: Vec<Value> = found
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        found.len(),
        5,
        "the organisation and two dual pairs: {found:?}"
    );
    let sm2_serial = sm2["serial"].as_str().unwrap();
    e.ok(&[
        "ca",
        "hold",
        "--server",
        &url,
        "--token-file",
        token,
        "--serial",
        sm2_serial,
    ]);
    e.ok(&[
        "ca",
        "release",
        "--server",
        &url,
        "--token-file",
        token,
        "--serial",
        sm2_serial,
    ]);
    let renewed = e.json(&[
        "ca",
        "renew",
        "--server",
        &url,
        "--token-file",
        token,
        "--serial",
        sm2_serial,
        "--out",
        "sm2-renewed.pem",
    ]);
    assert_ne!(renewed["serial"], sm2["serial"]);
    let a = e.openssl_ok(&["x509", "-in", "sm2.pem", "-noout", "-pubkey", "-subject"]);
    let b = e.openssl_ok(&[
        "x509",
        "-in",
        "sm2-renewed.pem",
        "-noout",
        "-pubkey",
        "-subject",
    ]);
    assert_eq!(a, b, "renewal keeps key and subject");

    // The audit log is intact and holds every issuance.
    let v = e.json(&["audit", "verify", "--server", &url, "--token-file", token]);
    assert_eq!(v["intact"], true, "{v}");
    e.ok(&[
        "audit",
        "export",
        "--server",
        &url,
        "--token-file",
        token,
        "--out",
        "audit.jsonl",
    ]);
    let lines = e.read("audit.jsonl");
    assert!(lines.contains("certificate_issued") && lines.contains("certificate_revoked"));
    drop(server);

    // A restart reuses everything (trial mode unseals itself) and keeps serving.
    let server = Server::start(&e, "data", &db, &[]);
    let (s, st) = http.get_json(&format!("{}/api/v1/status", server.url), None);
    assert_eq!(s, 200);
    assert_eq!(st["sealed"], false, "{st}");
    assert_eq!(st["cas"].as_array().unwrap().len(), 4);
}

#[test]
fn ca_end_to_end_on_sqlite() {
    end_to_end(Db::Sqlite);
}

#[test]
fn ca_end_to_end_on_postgres() {
    if let Some(db) = Db::postgres("e2e") {
        end_to_end(db);
    }
}

/// Every endpoint refuses bad input with a 4xx problem JSON and changes nothing.
#[test]
fn bad_input_gets_a_4xx_problem_and_changes_nothing() {
    let e = Env::new();
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    let url = &server.url;
    let admin = e.read("data/admin-token.txt").trim().to_string();
    let http = Http::new();
    let auditor = {
        let (s, v) = http.post_json(
            &format!("{url}/api/v1/tokens"),
            Some(&admin),
            &json!({"name": "audit office", "role": "auditor"}),
        );
        assert_eq!(s, 201, "{v}");
        v["token"].as_str().unwrap().to_string()
    };
    let ra = {
        let (s, v) = http.post_json(
            &format!("{url}/api/v1/tokens"),
            Some(&admin),
            &json!({"name": "RA desk", "role": "ra-operator"}),
        );
        assert_eq!(s, 201, "{v}");
        v["token"].as_str().unwrap().to_string()
    };
    let count = |http: &Http| {
        let (_, v) = http.get_json(
            &format!("{url}/api/v1/audit?from=0&limit=5000"),
            Some(&admin),
        );
        let (_, c) = http.get_json(&format!("{url}/api/v1/certificates"), Some(&admin));
        (v.as_array().unwrap().len(), c.as_array().unwrap().len())
    };
    let before = count(&http);

    e.openssl_ok(&[
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "k", "-subj", "/CN=x", "-out",
        "ok.csr",
    ]);
    let good_csr = e.read("ok.csr");
    // The same request with one byte of its signature changed.
    e.openssl_ok(&["req", "-in", "ok.csr", "-outform", "DER", "-out", "ok.der"]);
    let mut bytes = std::fs::read(e.path("ok.der")).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x40;
    let bad_sig = yinxin_crypto::pem::encode("CERTIFICATE REQUEST", &bytes);
    let issue = format!("{url}/api/v1/certificates");
    let cases: Vec<(&str, Option<&str>, Value, u16, &str)> = vec![
        (
            "no token",
            None,
            json!({"csr": good_csr, "profile": "server"}),
            401,
            "unauthenticated",
        ),
        (
            "bad token",
            Some("yx1.00.00"),
            json!({"csr": good_csr, "profile": "server"}),
            401,
            "unauthenticated",
        ),
        (
            "RA asks for an OCSP signer",
            Some(ra.as_str()),
            json!({"csr": good_csr, "profile": "ocsp-signer"}),
            403,
            "forbidden",
        ),
        (
            "RA asks for a TSA certificate",
            Some(ra.as_str()),
            json!({"csr": good_csr, "profile": "timestamping"}),
            403,
            "forbidden",
        ),
        (
            "wrong role",
            Some(&auditor),
            json!({"csr": good_csr, "profile": "server", "sans": ["dns:x"]}),
            403,
            "forbidden",
        ),
        (
            "malformed csr",
            Some(&admin),
            json!({"csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "profile": "server"}),
            400,
            "bad-csr",
        ),
        (
            "garbage csr",
            Some(&admin),
            json!({"csr": "hello", "profile": "server"}),
            400,
            "bad-csr",
        ),
        (
            "bad csr signature",
            Some(&admin),
            json!({"csr": bad_sig, "profile": "server", "sans": ["dns:x"]}),
            400,
            "bad-csr-signature",
        ),
        (
            "unknown profile",
            Some(&admin),
            json!({"csr": good_csr, "profile": "wizard"}),
            400,
            "unknown-profile",
        ),
        (
            "server without names",
            Some(&admin),
            json!({"csr": good_csr, "profile": "server"}),
            400,
            "not-issuable",
        ),
        (
            "bad san",
            Some(&admin),
            json!({"csr": good_csr, "profile": "server", "sans": ["dns"]}),
            400,
            "bad-san",
        ),
        (
            "root CA asked",
            Some(&admin),
            json!({"csr": good_csr, "profile": "server", "sans": ["dns:x"], "ca": "rsa-root"}),
            400,
            "bad-ca",
        ),
        (
            "unknown CA",
            Some(&admin),
            json!({"csr": good_csr, "profile": "server", "sans": ["dns:x"], "ca": "nope"}),
            404,
            "not-found",
        ),
        (
            "validity 0",
            Some(&admin),
            json!({"csr": good_csr, "profile": "server", "sans": ["dns:x"], "validity_days": 0}),
            400,
            "bad-validity",
        ),
        (
            "missing field",
            Some(&admin),
            json!({"profile": "server"}),
            422,
            "bad-json",
        ),
        (
            "employee without O",
            Some(&admin),
            json!({"csr": good_csr, "profile": "employee"}),
            400,
            "bad-subject",
        ),
    ];
    for (what, token, body, status, code) in cases {
        let (s, v) = http.post_json(&issue, token, &body);
        assert_eq!(s, status, "{what}: {v}");
        assert_eq!(
            v["type"],
            format!("urn:yinxin:problem:{code}"),
            "{what}: {v}"
        );
        assert!(
            v["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{what}: {v}"
        );
    }
    // Not JSON at all, and a body over the limit.
    let (s, ct, _) = http.call(
        reqwest::Method::POST,
        &issue,
        Some(&admin),
        Some("{{{".into()),
        "application/json",
    );
    assert_eq!((s, ct.as_str()), (400, "application/problem+json"));
    let big = format!(
        "{{\"csr\": \"{}\", \"profile\": \"server\"}}",
        "A".repeat(2 << 20)
    );
    // On its own connection: the server answers 413 before reading the body and closes it.
    let (s, ct, _) = Http::new().call(
        reqwest::Method::POST,
        &issue,
        Some(&admin),
        Some(big.into()),
        "application/json",
    );
    assert_eq!((s, ct.as_str()), (413, "application/problem+json"));
    // Other endpoints.
    for (what, method, path, token, body, status) in [
        (
            "revoke unknown serial",
            "POST",
            "/api/v1/certificates/0abc/revoke",
            Some(admin.as_str()),
            json!({}),
            404,
        ),
        (
            "revoke bad reason",
            "POST",
            "/api/v1/certificates/0abc/revoke",
            Some(admin.as_str()),
            json!({"reason": "boredom"}),
            400,
        ),
        (
            "revoke by auditor",
            "POST",
            "/api/v1/certificates/0abc/revoke",
            Some(auditor.as_str()),
            json!({}),
            403,
        ),
        (
            "serial not hex",
            "POST",
            "/api/v1/certificates/xyz/hold",
            Some(admin.as_str()),
            json!({}),
            400,
        ),
        (
            "token by auditor",
            "POST",
            "/api/v1/tokens",
            Some(auditor.as_str()),
            json!({"name": "x", "role": "admin"}),
            403,
        ),
        (
            "unknown role",
            "POST",
            "/api/v1/tokens",
            Some(admin.as_str()),
            json!({"name": "x", "role": "king"}),
            400,
        ),
        (
            "bad share",
            "POST",
            "/api/v1/vault/unseal",
            None,
            json!({"share": "not a share"}),
            400,
        ),
        (
            "unknown CRL CA",
            "POST",
            "/api/v1/crls/nope",
            Some(admin.as_str()),
            json!({}),
            404,
        ),
        (
            "recover unknown",
            "POST",
            "/api/v1/escrow/0abc/recoveries",
            Some(admin.as_str()),
            json!({}),
            404,
        ),
        (
            "approve unknown",
            "POST",
            "/api/v1/escrow/recoveries/nope/approve",
            Some(admin.as_str()),
            json!({"csr": good_csr}),
            404,
        ),
    ] {
        assert_eq!(method, "POST");
        let (s, v) = http.post_json(&format!("{url}{path}"), token, &body);
        assert_eq!(s, status, "{what}: {v}");
        assert!(
            v["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:yinxin:problem:"),
            "{what}: {v}"
        );
    }
    for (what, path, token, status) in [
        ("search by nobody", "/api/v1/certificates", None, 401),
        (
            "bad status filter",
            "/api/v1/certificates?status=weird",
            Some(admin.as_str()),
            400,
        ),
        ("audit by RA-less nobody", "/api/v1/audit", None, 401),
        ("unknown endpoint", "/api/v1/nothing", None, 404),
        ("unknown CA cert", "/ca/nope.crt", None, 404),
        ("unknown CRL", "/crl/nope.crl", None, 404),
    ] {
        let (s, v) = http.get_json(&format!("{url}{path}"), token);
        assert_eq!(s, status, "{what}: {v}");
    }
    // A known path with a wrong method, and an optional body left out.
    let (s, ct, _) = http.call(reqwest::Method::DELETE, &issue, Some(&admin), None, "");
    assert_eq!((s, ct.as_str()), (405, "application/problem+json"));
    let (s, ct, _) = http.call(
        reqwest::Method::POST,
        &format!("{url}/api/v1/certificates/0abc/hold"),
        Some(&admin),
        None,
        "",
    );
    assert_eq!(
        (s, ct.as_str()),
        (404, "application/problem+json"),
        "no body means {{}}"
    );
    // An OCSP GET path that does not even decode is malformedRequest.
    let (s, _, body) = http.call(
        reqwest::Method::GET,
        &format!("{url}/ocsp/%FF%FE"),
        None,
        None,
        "",
    );
    assert_eq!((s, body), (200, vec![0x30, 0x03, 0x0a, 0x01, 0x01]));
    // A garbage OCSP request is an OCSP malformedRequest, not an HTTP error.
    let (s, ct, body) = http.call(
        reqwest::Method::POST,
        &format!("{url}/ocsp"),
        None,
        Some(vec![0x30, 0x03, 1, 2, 3].into()),
        "application/ocsp-request",
    );
    assert_eq!((s, ct.as_str()), (200, "application/ocsp-response"));
    assert_eq!(body, vec![0x30, 0x03, 0x0a, 0x01, 0x01], "malformedRequest");

    // A disabled token stops working at once; a token cannot disable itself.
    let (s, v) = http.post_json(
        &format!("{url}/api/v1/tokens"),
        Some(&admin),
        &json!({"name": "temp", "role": "auditor"}),
    );
    assert_eq!(s, 201, "{v}");
    let (temp, temp_id) = (
        v["token"].as_str().unwrap().to_string(),
        v["id"].as_str().unwrap().to_string(),
    );
    let whoami = |t: &str| http.get_json(&format!("{url}/api/v1/whoami"), Some(t)).0;
    assert_eq!(whoami(&temp), 200);
    let (s, _) = http.post_json(
        &format!("{url}/api/v1/tokens/{temp_id}/disable"),
        Some(&temp),
        &json!({}),
    );
    assert_eq!(s, 403, "an auditor cannot disable tokens");
    let admin_id = admin.split('.').nth(1).unwrap();
    let (s, v) = http.post_json(
        &format!("{url}/api/v1/tokens/{admin_id}/disable"),
        Some(&admin),
        &json!({}),
    );
    assert_eq!(
        (s, v["type"].as_str()),
        (400, Some("urn:yinxin:problem:own-token"))
    );
    let (s, _, _) = http.call(
        reqwest::Method::POST,
        &format!("{url}/api/v1/tokens/{temp_id}/disable"),
        Some(&admin),
        None,
        "",
    );
    assert_eq!(s, 204);
    assert_eq!(whoami(&temp), 401, "disabled");
    let (s, _) = http.post_json(
        &format!("{url}/api/v1/tokens/{temp_id}/disable"),
        Some(&admin),
        &json!({}),
    );
    assert_eq!(s, 404, "already disabled");
    let (_, log) = http.get_json(
        &format!("{url}/api/v1/audit?from=0&limit=5000"),
        Some(&admin),
    );
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "token_disabled" && r["target"] == temp_id.as_str())
    );
    // The temp token's creation and its disabling, and one `unseal_refused` record for the
    // bad share (refusals of unseal shares are audited, once a minute per address).
    let before = (before.0 + 3, before.1);
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "unseal_refused" && r["details"]["address"] == "127.0.0.1")
    );

    let after = count(&http);
    // Creating the auditor token is the only change (one audit record).
    assert_eq!(after.1, before.1, "no certificate was issued");
    assert_eq!(
        after.0, before.0,
        "no audit record was written by refused requests"
    );
}

/// A k-of-n server starts sealed after a restart; k−1 shares do not unseal it, k do.
#[test]
fn sealed_server_needs_k_shares() {
    let e = Env::new();
    let http = Http::new();
    {
        let server = Server::start(&e, "data", &Db::Sqlite, &["--shares", "2-of-3"]);
        let (_, st) = http.get_json(&format!("{}/api/v1/status", server.url), None);
        assert_eq!(
            st["sealed"], false,
            "a first start is unsealed until it stops"
        );
    }
    assert!(!e.path("data/unseal-share.txt").exists());
    for i in 1..=3 {
        assert!(e.path(&format!("data/init-shares/share-{i}.txt")).exists());
    }
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    let url = server.url.clone();
    let admin = e.read("data/admin-token.txt").trim().to_string();
    e.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "k",
        "-subj",
        "/CN=a.test",
        "-out",
        "a.csr",
    ]);
    let body = json!({"csr": e.read("a.csr"), "profile": "server", "sans": ["dns:a.test"]});
    let issue = || http.post_json(&format!("{url}/api/v1/certificates"), Some(&admin), &body);

    let (s, v) = issue();
    assert_eq!(s, 503, "sealed: {v}");
    assert_eq!(v["type"], "urn:yinxin:problem:sealed");
    let (s, _) = http.get_json(&format!("{url}/health"), None);
    assert_eq!(s, 200, "health answers while sealed");
    // OCSP says tryLater while sealed.
    let (_, _, body_ocsp) = http.call(
        reqwest::Method::POST,
        &format!("{url}/ocsp"),
        None,
        Some(vec![0x30, 0x00].into()),
        "application/ocsp-request",
    );
    assert!(
        body_ocsp == vec![0x30, 0x03, 0x0a, 0x01, 0x01]
            || body_ocsp == vec![0x30, 0x03, 0x0a, 0x01, 0x03]
    );

    let st = e.json(&[
        "vault",
        "unseal",
        "--server",
        &url,
        "--share-file",
        "data/init-shares/share-2.txt",
    ]);
    assert_eq!(st["sealed"], true, "k-1 shares: {st}");
    assert_eq!(st["shares_given"], 1);
    // The same share again is refused and does not cost the one given.
    let again = e.run(&[
        "vault",
        "unseal",
        "--server",
        &url,
        "--share-file",
        "data/init-shares/share-2.txt",
    ]);
    assert_eq!(again.status.code(), Some(2));
    let (_, st) = http.get_json(&format!("{url}/api/v1/status"), None);
    assert_eq!(st["shares_given"], 1, "{st}");
    let (s, _) = issue();
    assert_eq!(s, 503, "still sealed with k-1 shares");
    let st = e.json(&[
        "vault",
        "unseal",
        "--server",
        &url,
        "--share-file",
        "data/init-shares/share-3.txt",
    ]);
    assert_eq!(st["sealed"], false, "k shares: {st}");
    let (s, v) = issue();
    assert_eq!(s, 201, "unsealed: {v}");
    // The unseal is in the audit log.
    let (_, log) = http.get_json(
        &format!("{url}/api/v1/audit?from=0&limit=5000"),
        Some(&admin),
    );
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "vault_unsealed")
    );
}

/// SIGKILL in the middle of a burst of issuance: every certificate a client received is in
/// the store after a restart, and the audit chain has no gap or duplicate.
fn sigkill_during_issuance(db: Db) {
    let e = Env::new();
    let server = Server::start(&e, "data", &db, &[]);
    let url = server.url.clone();
    let admin = e.read("data/admin-token.txt").trim().to_string();
    e.openssl_ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:SM2",
        "-out",
        "k.pem",
    ]);
    e.openssl_ok(&[
        "req",
        "-new",
        "-key",
        "k.pem",
        "-sm3",
        "-sigopt",
        "distid:1234567812345678",
        "-subj",
        "/C=CN/O=Burst/CN=burst",
        "-out",
        "b.csr",
    ]);
    let body = json!({"csr": e.read("b.csr"), "profile": "organisation"}).to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    let received: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            let url = url.clone();
            let admin = admin.clone();
            let body = body.clone();
            let received = received.clone();
            rt.spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(20);
                while Instant::now() < deadline {
                    let r = client
                        .post(format!("{url}/api/v1/certificates"))
                        .bearer_auth(&admin)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    let Ok(r) = r else { break };
                    if r.status().as_u16() != 201 {
                        break;
                    }
                    let Ok(v) = r.json::<Value>().await else {
                        break;
                    };
                    received
                        .lock()
                        .unwrap()
                        .push(v["serial"].as_str().unwrap().to_string());
                }
            })
        })
        .collect();
    // Let the burst run, then kill the server without warning.
    let start = Instant::now();
    while received.lock().unwrap().len() < 40 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill9();
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    let got = received.lock().unwrap().clone();
    assert!(got.len() >= 40, "the burst issued only {}", got.len());

    let server = Server::start(&e, "data", &db, &[]);
    let http = Http::new();
    let (_, stored) = http.get_json(
        &format!(
            "{}/api/v1/certificates?organisation=Burst&limit=1000",
            server.url
        ),
        Some(&admin),
    );
    let stored = serials(&stored);
    for s in &got {
        assert!(
            stored.contains(s),
            "certificate {s} was handed out but is not stored"
        );
    }
    let v = e.json(&[
        "audit",
        "verify",
        "--server",
        &server.url,
        "--token-file",
        "data/admin-token.txt",
    ]);
    assert_eq!(v["intact"], true, "{v}");
    let (_, log) = http.get_json(
        &format!("{}/api/v1/audit?from=0&limit=5000", server.url),
        Some(&admin),
    );
    let log = log.as_array().unwrap();
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r["seq"].as_u64().unwrap(), i as u64, "no gap or duplicate");
    }
    let issued_events = log
        .iter()
        .filter(|r| {
            r["action"] == "certificate_issued"
                && r["details"]["subject"]
                    .as_str()
                    .is_some_and(|s| s.contains("Burst"))
        })
        .count();
    assert_eq!(
        issued_events,
        stored.len(),
        "one audit record per stored certificate"
    );
    eprintln!(
        "sigkill: {} handed out before the kill, {} stored, {} audit records",
        got.len(),
        stored.len(),
        log.len()
    );
}

#[test]
fn sigkill_during_issuance_loses_nothing_on_sqlite() {
    sigkill_during_issuance(Db::Sqlite);
}

#[test]
fn sigkill_during_issuance_loses_nothing_on_postgres() {
    if let Some(db) = Db::postgres("kill") {
        sigkill_during_issuance(db);
    }
}

/// An escrowed key is recovered only by two different administrators, sealed to a key the
/// recipient proves to hold, and the recovered key opens in a token.
#[test]
fn escrow_recovery_needs_two_formed_administrators() {
    let e = Env::new();
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    let url = server.url.clone();
    let admin_a = "data/admin-token.txt";
    e.ok(&["token", "init", "--name", "alice"]);
    let enrolled = e.json(&[
        "token",
        "enroll",
        "--name",
        "alice",
        "--server",
        &url,
        "--token-file",
        admin_a,
        "--container",
        "c1",
        "--subject",
        "CN=Alice,O=Hospital,C=CN",
        "--profile",
        "employee",
    ]);
    let enc_serial = enrolled["encryption_serial"].as_str().unwrap().to_string();
    e.ok(&[
        "ca",
        "get",
        "--server",
        &url,
        "--token-file",
        admin_a,
        "--serial",
        &enc_serial,
        "--out",
        "enc.pem",
    ]);
    let sign_serial = enrolled["signing_serial"].as_str().unwrap();
    // The administrators Bob and Carol: keys on their own tokens, employee certificates.
    for name in ["bob", "carol"] {
        e.ok(&["token", "init", "--name", name]);
        e.json(&[
            "token",
            "enroll",
            "--name",
            name,
            "--server",
            &url,
            "--token-file",
            admin_a,
            "--container",
            "c1",
            "--subject",
            &format!("CN={name},O=yinxin Operations,C=CN"),
            "--profile",
            "employee",
        ]);
    }
    // Tokens minted by one administrator for "others": the probe's three-token chain and
    // two siblings.
    let mint = |by: &str, name: &str| {
        e.ok(&[
            "admin",
            "create-token",
            "--server",
            &url,
            "--token-file",
            by,
            "--name",
            name,
            "--role",
            "admin",
            "--out",
            &format!("{name}.token"),
        ]);
        format!("{name}.token")
    };
    let a2 = mint(admin_a, "a2");
    let a3 = mint(&a2, "a3");
    let siblings = [mint(admin_a, "s1"), mint(admin_a, "s2")];
    // An encryption certificate of a dual pair is not renewed on its own.
    let out = e.run(&[
        "ca",
        "renew",
        "--server",
        &url,
        "--token-file",
        admin_a,
        "--serial",
        &enc_serial,
        "--out",
        "x.pem",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dual pair"));
    // A new token (Alice's replacement) whose signing key receives the recovered key.
    e.ok(&["token", "init", "--name", "alice2"]);
    e.ok(&[
        "token",
        "keygen",
        "--name",
        "alice2",
        "--container",
        "c1",
        "--alg",
        "sm2",
    ]);
    e.ok(&[
        "token",
        "csr",
        "--name",
        "alice2",
        "--container",
        "c1",
        "--subject",
        "CN=Alice,O=Hospital,C=CN",
        "--out",
        "new.csr",
    ]);
    let recover = |token_file: &str, key_token: &str, serial: &str| {
        e.run(&[
            "--json",
            "ca",
            "recover",
            "--server",
            &url,
            "--token-file",
            token_file,
            "--serial",
            serial,
            "--csr",
            "new.csr",
            "--token",
            key_token,
            "--container",
            "c1",
        ])
    };
    // Before the list is formed nobody recovers anything (a trial installation cannot).
    let out = recover(admin_a, "bob", &enc_serial);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("administrator list is not formed"), "{err}");
    // The ceremony: two administrators, two approvals; each signs its nonce with their key.
    e.ok(&[
        "admin",
        "form",
        "--server",
        &url,
        "--token-file",
        admin_a,
        "--members",
        "2",
        "--approvals",
        "2",
    ]);
    for name in ["bob", "carol"] {
        e.ok(&[
            "admin",
            "join",
            "--server",
            &url,
            "--token-file",
            admin_a,
            "--name",
            name,
            "--token",
            name,
            "--container",
            "c1",
            "--out",
            &format!("{name}.token"),
        ]);
    }
    let members = e.json(&[
        "admin",
        "members",
        "--server",
        &url,
        "--token-file",
        "bob.token",
    ]);
    assert_eq!(members["formed"], true, "{members}");
    assert_eq!(members["members"].as_array().unwrap().len(), 2);
    // The list is formed: the first start's token and everything minted around it stop.
    for t in [
        admin_a,
        a2.as_str(),
        a3.as_str(),
        &siblings[0],
        &siblings[1],
    ] {
        let out = e.run(&["admin", "members", "--server", &url, "--token-file", t]);
        assert_eq!(out.status.code(), Some(2), "{t}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("401"), "{t}");
    }
    // The signing certificate has no escrowed key.
    let out = recover("bob.token", "bob", sign_serial);
    assert_eq!(out.status.code(), Some(2));
    // Bob asks and approves first.
    let out = recover("bob.token", "bob", &enc_serial);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let req: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = req["id"].as_str().unwrap().to_string();
    assert_eq!(
        (req["status"].as_str(), req["needed"].as_u64()),
        (Some("open"), Some(2))
    );
    let approve = |token_file: &str, key_token: &str, out: &str| {
        e.run(&[
            "ca",
            "approve-recovery",
            "--server",
            &url,
            "--token-file",
            token_file,
            "--id",
            &id,
            "--token",
            key_token,
            "--container",
            "c1",
            "--out",
            out,
        ])
    };
    // Bob again, or a token Bob mints (it is Bob's), cannot be the second person.
    let bob2 = mint("bob.token", "bob2");
    for token_file in ["bob.token", bob2.as_str()] {
        let out = approve(token_file, "bob", "env.der");
        assert_eq!(out.status.code(), Some(2), "{token_file}");
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            err.contains("approved this request already"),
            "{token_file}: {err}"
        );
        assert!(!e.path("env.der").exists());
    }
    // Carol's token with Bob's key: the signature is not hers.
    let out = approve("carol.token", "bob", "env.der");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));
    // Carol, with her own key: executed, once.
    let done = approve("carol.token", "carol", "env.der");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let again = approve("carol.token", "carol", "env2.der");
    assert_eq!(again.status.code(), Some(2), "approved once only");
    e.ok(&[
        "token",
        "import-key",
        "--name",
        "alice2",
        "--container",
        "c1",
        "--envelope",
        "env.der",
        "--cert",
        "enc.pem",
    ]);
    // Something encrypted to Alice's encryption certificate opens in the new token.
    e.openssl_ok(&[
        "x509", "-in", "enc.pem", "-pubkey", "-noout", "-out", "enc.pub",
    ]);
    std::fs::write(e.path("m"), "old mail").unwrap();
    e.openssl_ok(&[
        "pkeyutl", "-encrypt", "-pubin", "-inkey", "enc.pub", "-in", "m", "-out", "m.ct",
    ]);
    e.ok(&[
        "token",
        "decrypt",
        "--name",
        "alice2",
        "--container",
        "c1",
        "--in",
        "m.ct",
        "--out",
        "m.out",
    ]);
    assert_eq!(e.read("m.out"), "old mail");
    // Every step is audited.
    let http = Http::new();
    let admin = e.read("carol.token").trim().to_string();
    let (_, log) = http.get_json(
        &format!("{url}/api/v1/audit?from=0&limit=5000"),
        Some(&admin),
    );
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    // The first start's token file goes at the next start: that token no longer works.
    drop(server);
    let _server = Server::start(&e, "data", &Db::Sqlite, &[]);
    assert!(!e.path(admin_a).exists());
    for action in [
        "admin_formation_opened",
        "admin_registered",
        "admin_list_formed",
        "approval_requested",
        "approval_given",
        "key_recovered",
    ] {
        assert!(actions.contains(&action), "{action}");
    }
}

/// Two server processes on one PostgreSQL database: serials stay unique, the audit chain
/// stays gap-free, and a revocation on one node reaches the other's OCSP answers.
#[test]
fn two_nodes_share_one_postgres() {
    let Some(db) = Db::postgres("nodes") else {
        return;
    };
    let e = Env::new();
    let a = Server::start(&e, "node-a", &db, &[]);
    // Node B shares the database; it is given the trial share and token of node A's first start.
    std::fs::create_dir_all(e.path("node-b")).unwrap();
    std::fs::copy(
        e.path("node-a/unseal-share.txt"),
        e.path("node-b/unseal-share.txt"),
    )
    .unwrap();
    let b = Server::start(&e, "node-b", &db, &[]);
    let admin = e.read("node-a/admin-token.txt").trim().to_string();
    e.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "k",
        "-subj",
        "/CN=n.test",
        "-out",
        "n.csr",
    ]);
    let body =
        json!({"csr": e.read("n.csr"), "profile": "server", "sans": ["dns:n.test"]}).to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = reqwest::Client::new();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let url = if i % 2 == 0 {
                a.url.clone()
            } else {
                b.url.clone()
            };
            let (client, admin, body) = (client.clone(), admin.clone(), body.clone());
            rt.spawn(async move {
                let mut serials = Vec::new();
                for _ in 0..10 {
                    let r = client
                        .post(format!("{url}/api/v1/certificates"))
                        .bearer_auth(&admin)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 201);
                    let v: Value = r.json().await.unwrap();
                    serials.push(v["serial"].as_str().unwrap().to_string());
                }
                serials
            })
        })
        .collect();
    let mut all: Vec<String> = handles
        .into_iter()
        .flat_map(|h| rt.block_on(h).unwrap())
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "serials are unique across nodes");
    let v = e.json(&[
        "audit",
        "verify",
        "--server",
        &b.url,
        "--token-file",
        "node-a/admin-token.txt",
    ]);
    assert_eq!(v["intact"], true, "{v}");

    // Issue on A, ask B's OCSP (cached "good"), revoke on A, B says revoked within seconds.
    let issued = e.json(&[
        "ca",
        "issue",
        "--server",
        &a.url,
        "--token-file",
        "node-a/admin-token.txt",
        "--csr",
        "n.csr",
        "--profile",
        "server",
        "--san",
        "dns:n.test",
        "--out",
        "n.pem",
        "--chain-out",
        "n-chain.pem",
    ]);
    let chain = split_pem(&e, &e.read("n-chain.pem"), "n-chain");
    let rsa_root = chain[1].clone();
    let ask_b = || {
        e.openssl_ok(&[
            "ocsp",
            "-issuer",
            &chain[0],
            "-cert",
            "n.pem",
            "-url",
            &format!("{}/ocsp", b.url),
            "-CAfile",
            &rsa_root,
            "-no_nonce",
        ])
    };
    assert!(ask_b().contains("n.pem: good"));
    e.ok(&[
        "ca",
        "revoke",
        "--server",
        &a.url,
        "--token-file",
        "node-a/admin-token.txt",
        "--serial",
        issued["serial"].as_str().unwrap(),
    ]);
    let start = Instant::now();
    loop {
        let out = ask_b();
        if out.contains("n.pem: revoked") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "node B still says: {out}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The RSA issuing CA's key generated on a PKCS#11 token (SoftHSM2) instead of the vault:
/// issuance signs there, OpenSSL verifies the chain, and the key never appears in the store.
#[test]
fn rsa_issuing_ca_key_on_softhsm2() {
    const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
    assert!(
        Path::new(MODULE).exists(),
        "SoftHSM2 is needed: apt-get install -y softhsm2"
    );
    let e = Env::new();
    let tokens = e.path("softhsm-tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = e.path("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let out = e
        .cmd()
        .args(["token", "init", "--pkcs11", MODULE, "--label", "ca-hsm"])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(e.path("hsm.pin"), "123456\n").unwrap();
    let mut cmd = e.cmd();
    cmd.env("SOFTHSM2_CONF", &conf).args([
        "serve",
        "--data",
        "data",
        "--listen",
        "127.0.0.1:0",
        "--pkcs11-module",
        MODULE,
        "--pkcs11-token-label",
        "ca-hsm",
        "--pkcs11-pin-file",
        "hsm.pin",
        "--pkcs11-ca",
        "rsa-issuing",
    ]);
    let server = Server::spawn(cmd);
    let url = server.url.clone();
    e.openssl_ok(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "k",
        "-subj",
        "/CN=hsm.test",
        "-out",
        "h.csr",
    ]);
    e.ok(&[
        "ca",
        "issue",
        "--server",
        &url,
        "--token-file",
        "data/admin-token.txt",
        "--csr",
        "h.csr",
        "--profile",
        "server",
        "--san",
        "dns:hsm.test",
        "--out",
        "h.pem",
        "--chain-out",
        "h-chain.pem",
    ]);
    let http = Http::new();
    let root = ca_pem(&e, &http, &server, "rsa-root");
    let out = e.openssl_ok(&[
        "verify",
        "-CAfile",
        &root,
        "-untrusted",
        "h-chain.pem",
        "h.pem",
    ]);
    assert!(out.contains("h.pem: OK"), "{out}");
    // The CRL is signed on the token too.
    e.ok(&[
        "ca",
        "crl",
        "--server",
        &url,
        "--ca",
        "rsa-issuing",
        "--out",
        "h.crl",
    ]);
    let chain = split_pem(&e, &e.read("h-chain.pem"), "h-chain");
    let out = e.openssl_ok(&[
        "crl", "-inform", "DER", "-in", "h.crl", "-CAfile", &chain[0], "-noout",
    ]);
    assert!(out.contains("verify OK"), "{out}");
    // The vault holds no key for rsa-issuing; the token lists the CA's container.
    let admin = e.read("data/admin-token.txt").trim().to_string();
    let (_, log) = http.get_json(
        &format!("{url}/api/v1/audit?from=0&limit=100"),
        Some(&admin),
    );
    let created: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "ca_created")
        .map(|r| {
            (
                r["target"].as_str().unwrap().to_string(),
                r["details"]["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        created.contains(&("rsa-issuing".into(), "pkcs11".into())),
        "{created:?}"
    );
    assert!(
        created.contains(&("rsa-root".into(), "vault".into())),
        "{created:?}"
    );
    let out = e
        .cmd()
        .args([
            "token",
            "list",
            "--pkcs11",
            MODULE,
            "--token-label",
            "ca-hsm",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("ca-rsa-issuing"));
    drop(server);
    // Without the PIN the server cannot unseal that key, and says so.
    let out = e
        .cmd()
        .args(["serve", "--data", "data", "--listen", "127.0.0.1:0"])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("PKCS#11"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `serve --config FILE` takes its settings from TOML; unknown keys are refused.
#[test]
fn config_file_sets_up_the_server() {
    let e = Env::new();
    std::fs::write(
        e.path("yinxin.toml"),
        "data = \"cfg-data\"\nlisten = \"127.0.0.1:0\"\nca_organisation = \"Provincial Procurement Centre\"\ncrl_interval = 600\n",
    )
    .unwrap();
    let mut cmd = e.cmd();
    cmd.args(["serve", "--config", "yinxin.toml"]);
    let server = Server::spawn(cmd);
    assert!(e.path("cfg-data/admin-token.txt").exists());
    let http = Http::new();
    let (_, cas) = http.get_json(&format!("{}/api/v1/cas", server.url), None);
    assert!(
        cas[0]["subject"]
            .as_str()
            .unwrap()
            .contains("O=Provincial Procurement Centre"),
        "{cas}"
    );
    drop(server);
    std::fs::write(e.path("bad.toml"), "lissen = \"127.0.0.1:0\"\n").unwrap();
    let out = e.run(&["serve", "--config", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.lines().count() == 1,
        "{err}"
    );
}

/// A first start that cannot keep its shares and token does not leave a store that looks
/// initialised: the next start refuses clearly instead of opening a vault nobody can unseal.
#[test]
fn first_start_that_cannot_keep_its_secrets_is_not_finished() {
    let e = Env::new();
    // A directory where the admin token file must go makes writing it fail.
    std::fs::create_dir_all(e.path("data/admin-token.txt")).unwrap();
    let out = e.run(&["serve", "--data", "data", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("keeping the first start's shares and token"),
        "{err}"
    );
    std::fs::remove_dir(e.path("data/admin-token.txt")).unwrap();
    let out = e.run(&["serve", "--data", "data", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("earlier first start did not finish"), "{err}");
}
