//! `yinxin cms …` against OpenSSL, with keys in files and software tokens, and the server's
//! CMS services (verify, sign with the platform's key, seal, open envelopes to the server).

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Db, Env, Http, Server, ca_pem};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A root and a leaf made by OpenSSL: `{alg}-root.pem`, `{alg}-leaf.pem`, `{alg}-leaf.key`.
fn openssl_pki(e: &Env, alg: &str) {
    let newkey: &[&str] = match alg {
        "rsa" => &["-newkey", "rsa:2048"],
        _ => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    };
    let mut root = vec!["req", "-x509", "-nodes", "-days", "3"];
    root.extend_from_slice(newkey);
    let (root_key, root_pem) = (format!("{alg}-root.key"), format!("{alg}-root.pem"));
    root.extend_from_slice(&["-keyout", &root_key, "-out", &root_pem]);
    root.extend_from_slice(&["-subj", "/CN=test root/O=yinxin"]);
    e.openssl_ok(&root);
    let mut req = vec!["req", "-new", "-nodes"];
    req.extend_from_slice(newkey);
    let (leaf_key, leaf_csr) = (format!("{alg}-leaf.key"), format!("{alg}-leaf.csr"));
    req.extend_from_slice(&["-keyout", &leaf_key, "-out", &leaf_csr]);
    req.extend_from_slice(&["-subj", "/CN=test signer/O=yinxin"]);
    e.openssl_ok(&req);
    let usage = if alg == "rsa" {
        "digitalSignature,nonRepudiation,keyEncipherment"
    } else {
        "digitalSignature,nonRepudiation,keyAgreement"
    };
    let ext = format!("{alg}-ext.cnf");
    std::fs::write(
        e.path(&ext),
        format!(
            "basicConstraints=CA:FALSE\nkeyUsage={usage}\nsubjectKeyIdentifier=hash\n\
             authorityKeyIdentifier=keyid\n"
        ),
    )
    .unwrap();
    e.openssl_ok(&[
        "x509",
        "-req",
        "-in",
        &leaf_csr,
        "-CA",
        &root_pem,
        "-CAkey",
        &root_key,
        "-set_serial",
        "7",
        "-days",
        "2",
        "-extfile",
        &ext,
        "-out",
        &format!("{alg}-leaf.pem"),
    ]);
}

fn flip_byte(e: &Env, from: &str, to: &str, at_from_end: usize) {
    let mut data = std::fs::read(e.path(from)).unwrap();
    let i = data.len() - at_from_end;
    data[i] ^= 0x01;
    std::fs::write(e.path(to), data).unwrap();
}

#[test]
fn cms_cli_and_openssl_read_each_other() {
    let e = Env::new();
    std::fs::write(
        e.path("doc.txt"),
        "合同 contract no. 2026-0042: 1,000 boxes",
    )
    .unwrap();
    for alg in ["rsa", "ec"] {
        openssl_pki(&e, alg);
        let (root, leaf, key) = (
            format!("{alg}-root.pem"),
            format!("{alg}-leaf.pem"),
            format!("{alg}-leaf.key"),
        );
        // yinxin signs (attached and detached), OpenSSL verifies.
        for detached in [false, true] {
            let sig = format!("{alg}-{detached}.p7s");
            let mut args = vec![
                "cms", "sign", "--key", &key, "--cert", &leaf, "--in", "doc.txt", "--out", &sig,
            ];
            if detached {
                args.push("--detached");
            }
            e.ok(&args);
            let mut verify = vec![
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                &sig,
                "-CAfile",
                &root,
                "-purpose",
                "any",
                "-out",
                "verified.txt",
            ];
            if detached {
                verify.extend_from_slice(&["-content", "doc.txt"]);
            }
            let out = e.openssl_ok(&verify);
            assert!(out.contains("Verification successful"), "{alg}: {out}");
            assert_eq!(e.read("verified.txt"), e.read("doc.txt"));
            // …and yinxin too, with a precise reason once the content changed.
            let v = e.json(&[
                "cms",
                "verify",
                "--in",
                &sig,
                "--content",
                "doc.txt",
                "--roots",
                &root,
            ]);
            assert_eq!(v["valid"], true, "{v}");
            assert_eq!(v["signers"][0]["subject"], "O=yinxin,CN=test signer", "{v}");
            assert!(v["signers"][0]["signing_time"].is_string(), "{v}");
            if detached {
                std::fs::write(
                    e.path("changed.txt"),
                    "合同 contract no. 2026-0042: 9,000 boxes",
                )
                .unwrap();
                let out = e.run(&[
                    "cms",
                    "verify",
                    "--in",
                    &sig,
                    "--content",
                    "changed.txt",
                    "--roots",
                    &root,
                ]);
                assert_eq!(out.status.code(), Some(1));
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(text.contains("digest does not match"), "{text}");
            }
        }
        // OpenSSL signs, yinxin verifies (attached; and detached with the content).
        e.openssl_ok(&[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-in",
            "doc.txt",
            "-signer",
            &leaf,
            "-inkey",
            &key,
            "-outform",
            "DER",
            "-out",
            "o.p7s",
        ]);
        let v = e.json(&[
            "cms", "verify", "--in", "o.p7s", "--roots", &root, "--out", "o.txt",
        ]);
        assert_eq!(v["valid"], true, "{alg}: {v}");
        assert_eq!(e.read("o.txt"), e.read("doc.txt"));
        flip_byte(&e, "o.p7s", "o-bad.p7s", 3);
        let out = e.run(&["cms", "verify", "--in", "o-bad.p7s", "--roots", &root]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "a changed signature byte is invalid"
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("signature does not verify"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        // A root that is not the signer's is a chain failure, not a signature failure.
        if alg == "ec" {
            let out = e.run(&["cms", "verify", "--in", "o.p7s", "--roots", "rsa-root.pem"]);
            assert_eq!(out.status.code(), Some(1));
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("certificate is not valid"),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }

        // yinxin encrypts (GCM by default, and CBC), OpenSSL decrypts.
        for cipher in ["aes-256-gcm", "aes-256-cbc"] {
            let env = format!("{alg}-{cipher}.p7m");
            e.ok(&[
                "cms", "encrypt", "--to", &leaf, "--in", "doc.txt", "--out", &env, "--cipher",
                cipher,
            ]);
            e.openssl_ok(&[
                "cms",
                "-decrypt",
                "-inform",
                "DER",
                "-in",
                &env,
                "-inkey",
                &key,
                "-recip",
                &leaf,
                "-out",
                "opened.txt",
            ]);
            assert_eq!(e.read("opened.txt"), e.read("doc.txt"), "{alg} {cipher}");
        }
        // OpenSSL encrypts, yinxin decrypts; a changed byte of a GCM envelope is named.
        for cipher in ["-aes-256-gcm", "-aes256"] {
            e.openssl_ok(&[
                "cms", "-encrypt", "-binary", cipher, "-in", "doc.txt", "-outform", "DER", "-out",
                "o.p7m", &leaf,
            ]);
            e.ok(&[
                "cms",
                "decrypt",
                "--key",
                &key,
                "--cert",
                &leaf,
                "--in",
                "o.p7m",
                "--out",
                "o-opened.txt",
            ]);
            assert_eq!(e.read("o-opened.txt"), e.read("doc.txt"), "{alg} {cipher}");
        }
        flip_byte(&e, "o.p7m", "o-bad.p7m", 20);
        let out = e.run(&[
            "cms",
            "decrypt",
            "--key",
            &key,
            "--in",
            "o-bad.p7m",
            "--out",
            "never.txt",
        ]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            !e.path("never.txt").exists(),
            "nothing written from a bad envelope"
        );
    }
    // One envelope to both recipients: each opens it in OpenSSL.
    e.ok(&[
        "cms",
        "encrypt",
        "--to",
        "rsa-leaf.pem",
        "--to",
        "ec-leaf.pem",
        "--in",
        "doc.txt",
        "--out",
        "both.p7m",
    ]);
    for alg in ["rsa", "ec"] {
        e.openssl_ok(&[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-in",
            "both.p7m",
            "-inkey",
            &format!("{alg}-leaf.key"),
            "-recip",
            &format!("{alg}-leaf.pem"),
            "-out",
            "both.txt",
        ]);
        assert_eq!(e.read("both.txt"), e.read("doc.txt"));
    }
}

fn b64_file(e: &Env, name: &str) -> String {
    B64.encode(std::fs::read(e.path(name)).unwrap())
}

pub(crate) fn create_token(e: &Env, url: &str, admin: &str, name: &str, role: &str) -> String {
    let file = format!("{name}.token");
    e.ok(&[
        "admin",
        "create-token",
        "--server",
        url,
        "--token-file",
        admin,
        "--name",
        name,
        "--role",
        role,
        "--out",
        &file,
    ]);
    e.read(&file).trim().to_string()
}

#[test]
fn cms_with_tokens_timestamps_and_the_server() {
    let e = Env::new();
    let http = Http::new();
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    let url = server.url.clone();
    let admin = "data/admin-token.txt";
    let admin_secret = e.read(admin).trim().to_string();
    let sm2_root = ca_pem(&e, &http, &server, "sm2-root");
    let sm2_issuing = ca_pem(&e, &http, &server, "sm2-issuing");
    let rsa_root = ca_pem(&e, &http, &server, "rsa-root");
    let rsa_issuing = ca_pem(&e, &http, &server, "rsa-issuing");
    std::fs::write(e.path("bid.txt"), "投标报价 bid: 1,234,567.00 元").unwrap();

    // Dual SM2 certificates into a software token; sign there, timestamped by the server.
    e.ok(&["token", "init", "--name", "alice"]);
    let enrolled = e.json(&[
        "token",
        "enroll",
        "--name",
        "alice",
        "--server",
        &url,
        "--token-file",
        admin,
        "--container",
        "c1",
        "--alg",
        "sm2",
        "--subject",
        "CN=李四,O=某某医药有限公司,C=CN",
        "--profile",
        "organisation",
    ]);
    let signing_serial = enrolled["signing_serial"].as_str().unwrap().to_string();
    for form in ["rfc5652", "gmt0010"] {
        let sig = format!("alice-{form}.p7s");
        e.ok(&[
            "cms",
            "sign",
            "--token",
            "alice",
            "--container",
            "c1",
            "--in",
            "bid.txt",
            "--out",
            &sig,
            "--form",
            form,
            "--tsa",
            &format!("{url}/tsa"),
            "--chain",
            &sm2_issuing,
        ]);
        let v = e.json(&["cms", "verify", "--in", &sig, "--roots", &sm2_root]);
        assert_eq!(v["valid"], true, "{form}: {v}");
        assert_eq!(
            v["form"],
            if form == "rfc5652" {
                "RFC 5652"
            } else {
                "GM/T 0010"
            }
        );
        let signer = &v["signers"][0];
        assert!(signer["timestamp_time"].is_string(), "{v}");
        assert!(signer["algorithm"].as_str().unwrap().contains("SM2"), "{v}");
        assert_eq!(signer["chain"].as_array().unwrap().len(), 3, "{v}");
    }

    // The server verifies too, and sees revocation.
    let verify = |token: &str, sig: &str| -> (u16, Value) {
        http.post_json(
            &format!("{url}/api/v1/cms/verify"),
            Some(token),
            &json!({"signed": b64_file(&e, sig)}),
        )
    };
    let (s, v) = verify(&admin_secret, "alice-rfc5652.p7s");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert!(v["signers"][0]["timestamp_time"].is_string(), "{v}");
    assert_eq!(
        B64.decode(v["content"].as_str().unwrap()).unwrap(),
        std::fs::read(e.path("bid.txt")).unwrap()
    );
    let (s, v) = http.post_json(
        &format!("{url}/api/v1/cms/verify"),
        None,
        &json!({"signed": b64_file(&e, "alice-rfc5652.p7s")}),
    );
    assert_eq!(s, 401, "{v}");
    let (s, v) = http.post_json(
        &format!("{url}/api/v1/cms/verify"),
        Some(&admin_secret),
        &json!({"signed": B64.encode(b"not a signature")}),
    );
    assert_eq!(
        (s, v["type"].as_str()),
        (400, Some("urn:yinxin:problem:bad-cms")),
        "{v}"
    );
    e.ok(&[
        "ca",
        "revoke",
        "--server",
        &url,
        "--token-file",
        admin,
        "--serial",
        &signing_serial,
        "--reason",
        "keyCompromise",
    ]);
    let (s, v) = verify(&admin_secret, "alice-rfc5652.p7s");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["valid"], false, "{v}");
    assert!(
        v["signers"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{v}"
    );

    // Signing with the platform's key: key operators only (an RA operator manages
    // certificates, not the platform's keys); OpenSSL verifies the RSA one.
    let ra_operator = create_token(&e, &url, admin, "RA desk", "ra-operator");
    let operator = create_token(&e, &url, admin, "signer", "key-operator");
    let key_operator = create_token(&e, &url, admin, "opener", "key-operator");
    let auditor = create_token(&e, &url, admin, "watcher", "auditor");
    let content = B64.encode("采购合同 purchase contract");
    let sign = |token: &str, algorithm: &str| {
        http.post_json(
            &format!("{url}/api/v1/cms/sign"),
            Some(token),
            &json!({"content": content, "algorithm": algorithm, "timestamp": true}),
        )
    };
    for who in [&auditor, &admin_secret, &ra_operator] {
        let (s, v) = sign(who, "rsa");
        assert_eq!(s, 403, "{v}");
    }
    let (s, v) = sign(&operator, "rsa");
    assert_eq!(s, 200, "{v}");
    std::fs::write(
        e.path("platform-rsa.p7s"),
        B64.decode(v["signed"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let out = e.openssl_ok(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "platform-rsa.p7s",
        "-CAfile",
        &rsa_root,
        "-certfile",
        &rsa_issuing,
        "-purpose",
        "any",
        "-out",
        "platform.txt",
    ]);
    assert!(out.contains("Verification successful"), "{out}");
    assert_eq!(e.read("platform.txt"), "采购合同 purchase contract");
    let (s, v) = sign(&operator, "sm2");
    assert_eq!(s, 200, "{v}");
    std::fs::write(
        e.path("platform-sm2.p7s"),
        B64.decode(v["signed"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let v = e.json(&[
        "cms",
        "verify",
        "--in",
        "platform-sm2.p7s",
        "--roots",
        &sm2_root,
    ]);
    assert_eq!(v["valid"], true, "{v}");
    assert!(v["signers"][0]["timestamp_time"].is_string(), "{v}");

    // Envelopes to the server's encryption certificate: sealed here, opened by the server.
    let (s, certs) = http.get_json(&format!("{url}/api/v1/cms/certificates"), None);
    assert_eq!(s, 200, "{certs}");
    for alg in ["sm2", "rsa"] {
        let pem = certs["envelope"][alg]["certificate_pem"].as_str().unwrap();
        std::fs::write(e.path(&format!("server-{alg}.pem")), pem).unwrap();
        let env = format!("to-server-{alg}.p7m");
        e.ok(&[
            "cms",
            "encrypt",
            "--to",
            &format!("server-{alg}.pem"),
            "--in",
            "bid.txt",
            "--out",
            &env,
        ]);
        let open = |token: &str| {
            http.post_json(
                &format!("{url}/api/v1/cms/decrypt"),
                Some(token),
                &json!({"envelope": b64_file(&e, &env)}),
            )
        };
        for who in [&ra_operator, &auditor, &admin_secret] {
            let (s, v) = open(who);
            assert_eq!(s, 403, "{alg}: {v}");
        }
        let (s, v) = open(&key_operator);
        assert_eq!(s, 200, "{alg}: {v}");
        assert_eq!(
            B64.decode(v["content"].as_str().unwrap()).unwrap(),
            std::fs::read(e.path("bid.txt")).unwrap()
        );
    }
    // An envelope for somebody else is refused by name.
    openssl_pki(&e, "rsa");
    e.ok(&[
        "cms",
        "encrypt",
        "--to",
        "rsa-leaf.pem",
        "--in",
        "bid.txt",
        "--out",
        "not-ours.p7m",
    ]);
    let (s, v) = http.post_json(
        &format!("{url}/api/v1/cms/decrypt"),
        Some(&key_operator),
        &json!({"envelope": b64_file(&e, "not-ours.p7m")}),
    );
    assert_eq!(
        (s, v["type"].as_str()),
        (400, Some("urn:yinxin:problem:not-addressed-to-server")),
        "{v}"
    );

    // The server seals to a user's certificate; the user's token opens it.
    let enc_serial = enrolled["encryption_serial"].as_str().unwrap();
    e.ok(&[
        "ca",
        "get",
        "--server",
        &url,
        "--token-file",
        admin,
        "--serial",
        enc_serial,
        "--out",
        "alice-enc.pem",
    ]);
    let (s, v) = http.post_json(
        &format!("{url}/api/v1/cms/encrypt"),
        Some(&auditor),
        &json!({"content": B64.encode("for alice only"), "recipients": [e.read("alice-enc.pem")]}),
    );
    assert_eq!(s, 200, "{v}");
    std::fs::write(
        e.path("for-alice.p7m"),
        B64.decode(v["envelope"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    e.ok(&[
        "cms",
        "decrypt",
        "--token",
        "alice",
        "--container",
        "c1",
        "--in",
        "for-alice.p7m",
        "--out",
        "alice.txt",
    ]);
    assert_eq!(e.read("alice.txt"), "for alice only");

    // Every use of the platform's keys is in the audit log.
    e.ok(&[
        "audit",
        "export",
        "--server",
        &url,
        "--token-file",
        admin,
        "--out",
        "audit.jsonl",
    ]);
    let audit = e.read("audit.jsonl");
    assert!(audit.contains("cms_signed"), "{audit}");
    assert!(audit.contains("envelope_opened"), "{audit}");
    let _ = rsa_issuing;
}
