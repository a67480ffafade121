//! The RFC 3161 time-stamping authority of `yinxin serve`: OpenSSL's `ts` and `yinxin ts`
//! against real servers, bad input, the clock, a sealed vault, serials across restarts, and
//! 50,000 timestamps from two nodes on one PostgreSQL with no serial twice.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use der::Decode as _;
use serde_json::{Value, json};
use yinxin_cms::timestamp::{FailureInfo, PkiStatus, TimestampResponse, TstInfo};

use super::{Db, Env, Http, Server, ca_pem};

const QUERY: &str = "application/timestamp-query";

/// POST a request body to a TSA URL: (status, content type, body).
fn post_tsa(http: &Http, url: &str, body: Vec<u8>, content_type: &str) -> (u16, String, Vec<u8>) {
    http.call(
        reqwest::Method::POST,
        url,
        None,
        Some(body.into()),
        content_type,
    )
}

/// The TSTInfo of a granted response (read, not verified: the tests verify elsewhere).
fn tst_of(response: &[u8]) -> TstInfo {
    let r = TimestampResponse::decode(response).unwrap();
    assert_eq!(r.status, PkiStatus::Granted, "not granted: {:?}", r.text);
    let token = r.token.unwrap();
    let content = yinxin_cms::signed_data::decode(&token)
        .unwrap()
        .content()
        .unwrap()
        .unwrap();
    TstInfo::from_der(&content).unwrap()
}

fn serial_of(response: &[u8]) -> Vec<u8> {
    let tst = tst_of(response);
    let bytes = tst.serial_number.as_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    bytes[skip..].to_vec()
}

/// A rejection's failure and text.
fn rejection_of(response: &[u8]) -> (Option<FailureInfo>, String) {
    let r = TimestampResponse::decode(response).unwrap();
    assert_eq!(r.status, PkiStatus::Rejection, "granted unexpectedly");
    assert!(r.token.is_none());
    (r.failure, r.text.unwrap_or_default())
}

/// A TimeStampReq for a hash algorithm nobody knows (OID 1.2.3.4.5): OpenSSL cannot make one.
fn request_with_unknown_hash() -> Vec<u8> {
    let mut imprint = vec![0x30, 0x2c, 0x30, 0x08, 0x06, 0x04, 0x2a, 0x03, 0x04, 0x05];
    imprint.extend_from_slice(&[0x05, 0x00, 0x04, 0x20]);
    imprint.extend_from_slice(&[0x11; 32]);
    let mut der = vec![0x30, 0x34, 0x02, 0x01, 0x01];
    der.extend_from_slice(&imprint);
    der.extend_from_slice(&[0x01, 0x01, 0xff]);
    der
}

/// Write the TSA description's PEMs: `tsa-KEY.pem` and `tsa-KEY-chain.pem` (issuing CA).
fn tsa_files(e: &Env, http: &Http, server: &Server) -> Value {
    let (s, info) = http.get_json(&format!("{}/api/v1/tsa", server.url), None);
    assert_eq!(s, 200, "{info}");
    for k in info["keys"].as_array().unwrap() {
        let key = k["key"].as_str().unwrap();
        std::fs::write(
            e.path(&format!("tsa-{key}.pem")),
            k["certificate_pem"].as_str().unwrap(),
        )
        .unwrap();
        std::fs::write(
            e.path(&format!("tsa-{key}-chain.pem")),
            k["chain_pem"][0].as_str().unwrap(),
        )
        .unwrap();
    }
    info
}

#[test]
fn openssl_and_the_cli_get_and_verify_timestamps() {
    let e = Env::new();
    let http = Http::new();
    let server = Server::start(&e, "data", &Db::Sqlite, &["--tsa-accuracy", "0.5"]);
    let info = tsa_files(&e, &http, &server);
    assert_eq!(info["policy"], "1.3.6.1.4.1.32473.3161.1");
    assert_eq!(
        info["accuracy"],
        json!({"seconds": 0, "millis": 500, "micros": 0})
    );
    assert_eq!(info["clock"]["healthy"], true);
    let keys: Vec<&str> = info["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["sm2", "rsa", "ecdsa"]);
    let rsa_root = ca_pem(&e, &http, &server, "rsa-root");
    let sm2_root = ca_pem(&e, &http, &server, "sm2-root");
    std::fs::write(e.path("doc.txt"), "the bid of 某某医药有限公司, 2026").unwrap();

    // OpenSSL asks, OpenSSL verifies: RSA (the default for SHA-256) and ECDSA.
    e.openssl_ok(&[
        "ts", "-query", "-data", "doc.txt", "-sha256", "-cert", "-out", "q.tsq",
    ]);
    let query = std::fs::read(e.path("q.tsq")).unwrap();
    for (path, key) in [("/tsa", "rsa"), ("/tsa/ecdsa", "ecdsa")] {
        let (s, ct, body) = post_tsa(
            &http,
            &format!("{}{path}", server.url),
            query.clone(),
            QUERY,
        );
        assert_eq!((s, ct.as_str()), (200, "application/timestamp-reply"));
        let resp = format!("{key}.tsr");
        std::fs::write(e.path(&resp), &body).unwrap();
        let out = e.openssl_ok(&[
            "ts",
            "-verify",
            "-data",
            "doc.txt",
            "-in",
            &resp,
            "-CAfile",
            &rsa_root,
            "-untrusted",
            &format!("tsa-{key}-chain.pem"),
        ]);
        assert!(out.contains("Verification: OK"), "{key}: {out}");
        let text = e.openssl_ok(&["ts", "-reply", "-in", &resp, "-text"]);
        assert!(text.contains("Status: Granted"), "{text}");
        assert!(text.contains("1.3.6.1.4.1.32473.3161.1"), "{text}");
        assert!(text.contains("0x01F4 millis"), "{text}");
        let v = e.json(&[
            "ts", "verify", "--in", &resp, "--data", "doc.txt", "--roots", &rsa_root,
        ]);
        assert!(
            v["tsa"]
                .as_str()
                .unwrap()
                .contains(&format!("Time-Stamping Authority ({})", key.to_uppercase())),
            "signed by the {key} key: {v}"
        );
        // The nonce openssl sent is echoed.
        let sent = e.openssl_ok(&["ts", "-query", "-in", "q.tsq", "-text"]);
        let nonce = |t: &str| {
            t.lines()
                .find(|l| l.trim_start().starts_with("Nonce:"))
                .map(|l| l.trim().to_string())
        };
        assert!(nonce(&sent).is_some(), "{sent}");
        assert_eq!(nonce(&sent), nonce(&text));
    }
    // OpenSSL parses the SM2 token (SM3 imprint → the SM2 key by default).
    e.openssl_ok(&[
        "ts",
        "-query",
        "-data",
        "doc.txt",
        "-sm3",
        "-cert",
        "-out",
        "q-sm3.tsq",
    ]);
    let (s, _, body) = post_tsa(
        &http,
        &format!("{}/tsa", server.url),
        std::fs::read(e.path("q-sm3.tsq")).unwrap(),
        QUERY,
    );
    assert_eq!(s, 200);
    std::fs::write(e.path("sm2.tsr"), &body).unwrap();
    let text = e.openssl_ok(&["ts", "-reply", "-in", "sm2.tsr", "-text"]);
    assert!(text.contains("Status: Granted"), "{text}");
    assert!(text.contains("sm3"), "{text}");
    let v = e.json(&[
        "ts", "verify", "--in", "sm2.tsr", "--data", "doc.txt", "--roots", &sm2_root,
    ]);
    assert!(
        v["tsa"]
            .as_str()
            .unwrap()
            .contains("Time-Stamping Authority (SM2)"),
        "{v}"
    );

    // yinxin ts query + verify with each key.
    for (key, root) in [("sm2", &sm2_root), ("rsa", &rsa_root), ("ecdsa", &rsa_root)] {
        let resp = format!("y-{key}.tsr");
        let req = format!("y-{key}.tsq");
        let q = e.json(&[
            "ts",
            "query",
            "--server",
            &server.url,
            "--in",
            "doc.txt",
            "--key",
            key,
            "--out",
            &resp,
            "--request-out",
            &req,
        ]);
        assert_eq!(q["granted"], true, "{q}");
        assert_eq!(q["hash"], if key == "sm2" { "sm3" } else { "sha256" });
        let v = e.json(&[
            "ts", "verify", "--in", &resp, "--data", "doc.txt", "--roots", root, "--query", &req,
        ]);
        assert_eq!(v["valid"], true, "{key}: {v}");
        assert_eq!(v["serial"], q["serial"]);
        assert!(v["nonce"].as_str().is_some_and(|n| !n.is_empty()), "{v}");
        assert!(
            v["tsa"]
                .as_str()
                .unwrap()
                .contains("Time-Stamping Authority"),
            "{v}"
        );
        // The digest alone, and the untrusted chain given separately, verify too.
        let digest = e.ok(&[
            "digest",
            "--alg",
            if key == "sm2" { "sm3" } else { "sha256" },
            "doc.txt",
        ]);
        let digest = digest.split_whitespace().last().unwrap().to_string();
        let out = e.run(&[
            "ts",
            "verify",
            "--in",
            &resp,
            "--digest",
            &digest,
            "--roots",
            root,
            "--untrusted",
            &format!("tsa-{key}-chain.pem"),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Tampered data: exit 1 with the reason.
        std::fs::write(e.path("tampered.txt"), "the bid of 某某医药有限公司, 2027").unwrap();
        let out = e.run(&[
            "ts",
            "verify",
            "--in",
            &resp,
            "--data",
            "tampered.txt",
            "--roots",
            root,
        ]);
        assert_eq!(out.status.code(), Some(1));
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.contains("INVALID") && said.contains("imprint"),
            "{said}"
        );
        // The wrong roots: exit 1, not 0.
        let other = if root == &sm2_root {
            &rsa_root
        } else {
            &sm2_root
        };
        let out = e.run(&[
            "ts", "verify", "--in", &resp, "--data", "doc.txt", "--roots", other,
        ]);
        assert_eq!(out.status.code(), Some(1), "{key} with the wrong roots");
    }
    // Unusable input: exit 2.
    std::fs::write(e.path("junk.tsr"), b"not a response").unwrap();
    let out = e.run(&[
        "ts", "verify", "--in", "junk.tsr", "--data", "doc.txt", "--roots", &rsa_root,
    ]);
    assert_eq!(out.status.code(), Some(2));
    // Without a nonce and certificates: still valid with the chain given.
    let q = e.json(&[
        "ts",
        "query",
        "--server",
        &server.url,
        "--in",
        "doc.txt",
        "--alg",
        "sha512",
        "--no-nonce",
        "--no-cert-req",
        "--out",
        "bare.tsr",
    ]);
    assert_eq!(q["granted"], true, "{q}");
    let out = e.run(&[
        "ts", "verify", "--in", "bare.tsr", "--data", "doc.txt", "--roots", &rsa_root,
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "no certificates in the token, none given"
    );
    std::fs::write(
        e.path("rsa-bundle.pem"),
        format!("{}{}", e.read("tsa-rsa.pem"), e.read("tsa-rsa-chain.pem")),
    )
    .unwrap();
    let v = e.json(&[
        "ts",
        "verify",
        "--in",
        "bare.tsr",
        "--data",
        "doc.txt",
        "--roots",
        &rsa_root,
        "--untrusted",
        "rsa-bundle.pem",
    ]);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["nonce"], Value::Null);
    // Another policy asked for: unacceptedPolicy, exit 1.
    let out = e.run(&[
        "ts",
        "query",
        "--server",
        &server.url,
        "--in",
        "doc.txt",
        "--policy",
        "1.2.3.4",
        "--out",
        "pol.tsr",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("unacceptedPolicy"));
}

#[test]
fn bad_input_gets_a_rejection_or_a_4xx_never_a_5xx() {
    let e = Env::new();
    let http = Http::new();
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    let url = format!("{}/tsa", server.url);
    // Garbage: a protocol-level rejection, 200.
    for garbage in [
        b"hello".to_vec(),
        vec![],
        vec![0x30, 0x80, 0x00],
        vec![0x30, 0x03, 0x02, 0x01, 0x01],
        vec![0xff; 4000],
    ] {
        let (s, ct, body) = post_tsa(&http, &url, garbage.clone(), QUERY);
        assert_eq!(
            (s, ct.as_str()),
            (200, "application/timestamp-reply"),
            "{garbage:?}"
        );
        let (failure, text) = rejection_of(&body);
        assert!(
            matches!(
                failure,
                Some(FailureInfo::BadRequest | FailureInfo::BadDataFormat)
            ),
            "{garbage:?}: {failure:?} {text}"
        );
    }
    // An unknown hash algorithm: badAlg.
    let (s, _, body) = post_tsa(&http, &url, request_with_unknown_hash(), QUERY);
    assert_eq!(s, 200);
    assert_eq!(rejection_of(&body).0, Some(FailureInfo::BadAlg));
    // Wrong media type: 415 problem JSON.
    e.openssl_ok(&[
        "ts",
        "-query",
        "-digest",
        &"ab".repeat(32),
        "-sha256",
        "-out",
        "q.tsq",
    ]);
    let good = std::fs::read(e.path("q.tsq")).unwrap();
    for ct in ["application/json", "application/octet-stream", "text/plain"] {
        let (s, rct, body) = post_tsa(&http, &url, good.clone(), ct);
        assert_eq!(s, 415, "{ct}");
        assert_eq!(rct, "application/problem+json");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["type"], "urn:yinxin:problem:bad-media-type");
    }
    // 1 MiB: 413 (on its own connection: the server answers before reading the body and
    // closes it).
    let (s, _, body) = post_tsa(&Http::new(), &url, vec![0x30; 1 << 20], QUERY);
    assert_eq!(s, 413);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["type"], "urn:yinxin:problem:too-large");
    // An unknown key: 404; GET: 405.
    let (s, _, _) = post_tsa(&http, &format!("{url}/dsa"), good.clone(), QUERY);
    assert_eq!(s, 404);
    let (s, _) = http.get_json(&url, None);
    assert_eq!(s, 405);
    // The clock endpoint needs an administrator and a JSON body.
    let (s, _) = http.post_json(
        &format!("{}/api/v1/tsa/clock", server.url),
        None,
        &json!({}),
    );
    assert_eq!(s, 405);
    let (s, _, _) = http.call(
        reqwest::Method::PUT,
        &format!("{}/api/v1/tsa/clock", server.url),
        None,
        Some(json!({"healthy": false}).to_string().into()),
        "application/json",
    );
    assert_eq!(s, 401);
    // And it still grants.
    let (s, _, body) = post_tsa(&http, &url, good, QUERY);
    assert_eq!(s, 200);
    assert!(!serial_of(&body).is_empty());
}

#[test]
fn an_unhealthy_clock_refuses_with_time_not_available() {
    let e = Env::new();
    let http = Http::new();
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    let admin = e.read("data/admin-token.txt").trim().to_string();
    std::fs::write(e.path("doc.txt"), "contract").unwrap();
    let query = |out: &str| {
        e.run(&[
            "ts",
            "query",
            "--server",
            &server.url,
            "--in",
            "doc.txt",
            "--out",
            out,
        ])
    };
    assert_eq!(query("a.tsr").status.code(), Some(0));
    let c = e.json(&[
        "tsa",
        "clock",
        "--server",
        &server.url,
        "--token-file",
        "data/admin-token.txt",
        "--unhealthy",
        "--reason",
        "GPS receiver lost its fix",
    ]);
    assert_eq!(c["healthy"], false, "{c}");
    let (_, info) = http.get_json(&format!("{}/api/v1/tsa", server.url), None);
    assert_eq!(info["clock"]["healthy"], false);
    assert_eq!(info["clock"]["reason"], "GPS receiver lost its fix");
    let out = query("b.tsr");
    assert_eq!(out.status.code(), Some(1));
    let (failure, text) = rejection_of(&std::fs::read(e.path("b.tsr")).unwrap());
    assert_eq!(failure, Some(FailureInfo::TimeNotAvailable));
    assert!(text.contains("GPS receiver lost its fix"), "{text}");
    // Other roles may not touch the clock.
    let (s, t) = http.post_json(
        &format!("{}/api/v1/tokens", server.url),
        Some(&admin),
        &json!({"name": "RA desk", "role": "ra-operator"}),
    );
    assert_eq!(s, 201);
    let (s, _, _) = http.call(
        reqwest::Method::PUT,
        &format!("{}/api/v1/tsa/clock", server.url),
        Some(t["token"].as_str().unwrap()),
        Some(json!({"healthy": true}).to_string().into()),
        "application/json",
    );
    assert_eq!(s, 403);
    e.ok(&[
        "tsa",
        "clock",
        "--server",
        &server.url,
        "--token-file",
        "data/admin-token.txt",
        "--healthy",
        "--reason",
        "fix regained, checked against NTP",
    ]);
    assert_eq!(query("c.tsr").status.code(), Some(0));
    let (_, log) = http.get_json(
        &format!("{}/api/v1/audit?from=0&limit=5000", server.url),
        Some(&admin),
    );
    let marks: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "tsa_clock_marked")
        .collect();
    assert_eq!(marks.len(), 2, "{marks:?}");
    assert_eq!(marks[0]["details"]["healthy"], "false");
    assert_eq!(
        marks[1]["details"]["reason"],
        "fix regained, checked against NTP"
    );
}

#[test]
fn a_sealed_vault_refuses_with_system_failure() {
    let e = Env::new();
    let http = Http::new();
    {
        let _first = Server::start(&e, "data", &Db::Sqlite, &["--shares", "2-of-3"]);
    }
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    e.openssl_ok(&[
        "ts",
        "-query",
        "-digest",
        &"cd".repeat(32),
        "-sha256",
        "-out",
        "q.tsq",
    ]);
    let q = std::fs::read(e.path("q.tsq")).unwrap();
    let (s, ct, body) = post_tsa(&http, &format!("{}/tsa", server.url), q.clone(), QUERY);
    assert_eq!((s, ct.as_str()), (200, "application/timestamp-reply"));
    let (failure, text) = rejection_of(&body);
    assert_eq!(failure, Some(FailureInfo::SystemFailure));
    assert!(text.contains("sealed"), "{text}");
    // The description works while sealed.
    let (s, info) = http.get_json(&format!("{}/api/v1/tsa", server.url), None);
    assert_eq!(s, 200);
    assert_eq!(info["sealed"], true);
    assert_eq!(info["keys"].as_array().unwrap().len(), 3);
    for share in [1, 3] {
        e.ok(&[
            "vault",
            "unseal",
            "--server",
            &server.url,
            "--share-file",
            &format!("data/init-shares/share-{share}.txt"),
        ]);
    }
    let (_, _, body) = post_tsa(&http, &format!("{}/tsa", server.url), q, QUERY);
    assert!(!serial_of(&body).is_empty());
}

#[test]
fn serials_after_a_restart_are_new() {
    let e = Env::new();
    let http = Http::new();
    e.openssl_ok(&[
        "ts",
        "-query",
        "-digest",
        &"ef".repeat(32),
        "-sha256",
        "-out",
        "q.tsq",
    ]);
    let q = std::fs::read(e.path("q.tsq")).unwrap();
    let mut seen = HashSet::new();
    let mut last_max = Vec::new();
    for round in 0..3 {
        let server = Server::start(&e, "data", &Db::Sqlite, &[]);
        let mut serials = Vec::new();
        for i in 0..20 {
            let key = ["sm2", "rsa", "ecdsa"][i % 3];
            let (s, _, body) = post_tsa(
                &http,
                &format!("{}/tsa/{key}", server.url),
                q.clone(),
                QUERY,
            );
            assert_eq!(s, 200);
            serials.push(serial_of(&body));
        }
        for s in &serials {
            assert!(
                seen.insert(s.clone()),
                "round {round}: serial {s:02x?} repeats"
            );
            // Big-endian magnitudes: longer is larger, then bytewise.
            assert!(
                (s.len(), s) > (last_max.len(), &last_max),
                "round {round}: serial {s:02x?} is not beyond the last run's"
            );
        }
        last_max = serials
            .iter()
            .max_by_key(|s| (s.len(), (*s).clone()))
            .unwrap()
            .clone();
        server.kill9();
    }
    // Each start leased one block, and each lease is audited; no timestamp is.
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    let admin = e.read("data/admin-token.txt").trim().to_string();
    let (_, log) = http.get_json(
        &format!("{}/api/v1/audit?from=0&limit=5000", server.url),
        Some(&admin),
    );
    let leases: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "tsa_serials_leased")
        .collect();
    assert_eq!(leases.len(), 3, "{leases:?}");
    assert_eq!(leases[0]["details"]["first"], "1");
}

/// The acceptance test: 50,000 timestamps from concurrent clients spread over two nodes on
/// one PostgreSQL database, every serial distinct.
#[test]
fn fifty_thousand_timestamps_from_two_nodes_have_distinct_serials() {
    let Some(db) = Db::postgres("tsa50k") else {
        return;
    };
    const TOTAL: usize = 50_000;
    const CLIENTS: usize = 16;
    let e = Env::new();
    let a = Server::start(&e, "node-a", &db, &[]);
    std::fs::create_dir_all(e.path("node-b")).unwrap();
    std::fs::copy(
        e.path("node-a/unseal-share.txt"),
        e.path("node-b/unseal-share.txt"),
    )
    .unwrap();
    let b = Server::start(&e, "node-b", &db, &[]);
    e.openssl_ok(&[
        "ts",
        "-query",
        "-digest",
        &"12".repeat(32),
        "-sha256",
        "-out",
        "q.tsq",
    ]);
    let query = std::fs::read(e.path("q.tsq")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    let started = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            // Both nodes; mostly the ECDSA key, a quarter RSA (SHA-256's default): one
            // serial space whatever the key.
            let node = if i % 2 == 0 { &a.url } else { &b.url };
            let url = if i % 4 < 2 {
                format!("{node}/tsa/ecdsa")
            } else if i % 8 < 4 {
                format!("{node}/tsa")
            } else {
                format!("{node}/tsa/ecdsa")
            };
            let (client, query, next) = (client.clone(), query.clone(), next.clone());
            rt.spawn(async move {
                let mut bodies = Vec::new();
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < TOTAL {
                    let r = client
                        .post(&url)
                        .header("content-type", QUERY)
                        .body(query.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status().as_u16(), 200);
                    bodies.push(r.bytes().await.unwrap());
                }
                bodies
            })
        })
        .collect();
    let bodies: Vec<_> = handles
        .into_iter()
        .flat_map(|h| rt.block_on(h).unwrap())
        .collect();
    let elapsed = started.elapsed();
    assert_eq!(bodies.len(), TOTAL);
    let mut serials = HashSet::with_capacity(TOTAL);
    for body in &bodies {
        assert!(
            serials.insert(serial_of(body)),
            "a serial was handed out twice"
        );
    }
    assert_eq!(serials.len(), TOTAL);
    eprintln!(
        "{TOTAL} timestamps from 2 nodes in {:.1} s ({:.0}/s), all serials distinct",
        elapsed.as_secs_f64(),
        TOTAL as f64 / elapsed.as_secs_f64()
    );
    assert!(
        elapsed < Duration::from_secs(240),
        "50,000 timestamps took {elapsed:?}"
    );
}

#[test]
fn the_config_file_sets_policy_and_accuracy_and_flags_win() {
    let e = Env::new();
    let http = Http::new();
    std::fs::write(
        e.path("yinxin.toml"),
        "tsa_policy = \"1.2.156.9999.1\"\ntsa_accuracy = \"0.000250\"\ntsa_clock_tolerance_ms = 250\n",
    )
    .unwrap();
    let server = Server::start(&e, "data", &Db::Sqlite, &["--config", "yinxin.toml"]);
    let (_, info) = http.get_json(&format!("{}/api/v1/tsa", server.url), None);
    assert_eq!(info["policy"], "1.2.156.9999.1");
    assert_eq!(
        info["accuracy"],
        json!({"seconds": 0, "millis": 0, "micros": 250})
    );
    e.openssl_ok(&[
        "ts",
        "-query",
        "-digest",
        &"34".repeat(32),
        "-sha256",
        "-out",
        "q.tsq",
    ]);
    let (_, _, body) = post_tsa(
        &http,
        &format!("{}/tsa", server.url),
        std::fs::read(e.path("q.tsq")).unwrap(),
        QUERY,
    );
    assert_eq!(tst_of(&body).policy.to_string(), "1.2.156.9999.1");
    drop(server);
    let server = Server::start(
        &e,
        "data",
        &Db::Sqlite,
        &[
            "--config",
            "yinxin.toml",
            "--tsa-policy",
            "1.2.156.9999.2",
            "--tsa-accuracy",
            "0",
        ],
    );
    let (_, info) = http.get_json(&format!("{}/api/v1/tsa", server.url), None);
    assert_eq!(info["policy"], "1.2.156.9999.2");
    assert_eq!(info["accuracy"], Value::Null);
    // A bad value stops the server before it starts.
    let out = e.run(&["serve", "--data", "data2", "--tsa-accuracy", "fast"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("accuracy"));
}
