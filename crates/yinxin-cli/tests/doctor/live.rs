//! Doctor against a live `yinxin serve`: roots installed by pinned fingerprint, CRL, OCSP
//! and TSA answering real requests, the token's certificate revoked, and a skewed clock
//! (libfaketime shifts the doctor's clock, not the server's).

use super::*;

fn require_faketime() {
    let ok = Command::new("faketime").arg("--version").output().is_ok();
    assert!(
        ok,
        "faketime is needed for the clock test: apt-get install -y faketime"
    );
}

#[test]
fn live_server_reachability_revocation_and_clock_skew() {
    require_faketime();
    let u = User::new();
    let server = Server::start(&u, "data");
    let url = server.url.clone();
    let admin = "data/admin-token.txt";

    // The platform's roots, fingerprinted by OpenSSL, pinned as an administrator would.
    u.ok(&["ca", "roots", "--server", &url, "--out", "roots.pem"]);
    let roots = std::fs::read_to_string(u.path("roots.pem")).unwrap();
    let mut pins = Vec::new();
    for (i, root) in pem_blocks(&roots).iter().enumerate() {
        let file = u.path(&format!("root{i}.pem"));
        std::fs::write(&file, root).unwrap();
        let fp = openssl(
            u.dir.path(),
            &[
                "x509",
                "-in",
                file.to_str().unwrap(),
                "-noout",
                "-fingerprint",
                "-sha256",
            ],
        );
        let hex = fp
            .trim()
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_lowercase();
        pins.push(format!("\"sha256:{hex}\""));
    }
    assert!(pins.len() >= 2, "an SM2 and an RSA root");
    std::fs::create_dir_all(u.home()).unwrap();
    std::fs::write(
        u.home().join("config.toml"),
        format!(
            "server = \"{url}\"\n\n[trust]\npinned = [{}]\n",
            pins.join(", ")
        ),
    )
    .unwrap();

    // Missing roots: a problem, repaired from the server after checking the pins.
    let (report, code) = u.doctor(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "trust.missing_root").len(),
        1,
        "{report:#}"
    );
    let (report, _) = u.doctor(&["--fix"]);
    let installed: Vec<_> = report["repairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["code"] == "trust.installed")
        .collect();
    assert_eq!(installed.len(), pins.len(), "{report:#}");
    assert!(findings(&report, "trust.missing_root").is_empty());

    // The platform's release: a manifest signed with a code-signing certificate the
    // platform CA issued (an OpenSSL key and request, `yinxin ca issue --profile
    // code-signing`), checked against the pinned roots.
    let d = u.dir.path();
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "cs.key",
            "-out",
            "cs.csr",
            "-subj",
            "/C=CN/O=yinxin/CN=yinxin release signing",
        ],
    );
    u.ok(&[
        "ca",
        "issue",
        "--server",
        &url,
        "--token-file",
        admin,
        "--csr",
        "cs.csr",
        "--profile",
        "code-signing",
        "--out",
        "cs.pem",
        "--chain-out",
        "cs-chain.pem",
    ]);
    let inst = u.path("inst");
    std::fs::create_dir_all(inst.join("bin")).unwrap();
    std::fs::write(inst.join("bin/yinxin-agent"), vec![0x42u8; 8192]).unwrap();
    u.ok(&["manifest", "create", "--root", inst.to_str().unwrap()]);
    u.ok(&[
        "manifest",
        "sign",
        "--manifest",
        inst.join("yinxin-manifest.json").to_str().unwrap(),
        "--cert",
        "cs.pem",
        "--chain",
        "cs-chain.pem",
        "--key",
        "cs.key",
    ]);
    let mut config = std::fs::read_to_string(u.home().join("config.toml")).unwrap();
    config.push_str(&format!("\n[install]\nroot = \"{}\"\n", inst.display()));
    std::fs::write(u.home().join("config.toml"), config).unwrap();

    // A user with an enrolled SM2 token.
    u.ok(&["token", "init", "--name", "alice"]);
    let enrolled: Value = serde_json::from_str(&u.ok(&[
        "--json",
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
        "--subject",
        "CN=Alice,O=Hospital,C=CN",
        "--profile",
        "employee",
    ]))
    .unwrap();
    let serial = enrolled["signing_serial"].as_str().unwrap().to_string();

    let (report, code) = u.doctor(&[]);
    assert_eq!(code, 0, "{:?}", problems(&report));
    for c in [
        "server.ok",
        "ocsp.ok",
        "tsa.ok",
        "clock.ok",
        "token.ok",
        "integrity.ok",
    ] {
        assert_eq!(findings(&report, c).len(), 1, "{c}: {report:#}");
    }
    assert!(findings(&report, "crl.ok").len() >= 2, "{report:#}");
    assert_eq!(
        findings(&report, "certificate.ok").len(),
        2,
        "signing and encryption: {report:#}"
    );
    let clock = findings(&report, "clock.ok")[0];
    assert!(clock["facts"]["offset_seconds"].as_f64().unwrap().abs() < 5.0);
    assert_eq!(clock["facts"]["source"], "tsa");
    let signed = findings(&report, "integrity.manifest_trusted");
    assert!(
        signed[0]["facts"]["signer"]
            .as_str()
            .unwrap()
            .contains("yinxin release signing"),
        "{report:#}"
    );

    // Revoke the signing certificate: the next run says so, by serial.
    u.ok(&[
        "ca",
        "revoke",
        "--server",
        &url,
        "--token-file",
        admin,
        "--serial",
        &serial,
        "--reason",
        "keyCompromise",
    ]);
    let (report, code) = u.doctor(&[]);
    assert_eq!(code, 1);
    let revoked = findings(&report, "certificate.revoked");
    assert_eq!(revoked.len(), 1, "{report:#}");
    assert_eq!(
        revoked[0]["facts"]["serial"]
            .as_str()
            .unwrap()
            .trim_start_matches("00"),
        serial.to_lowercase().trim_start_matches("00")
    );
    assert!(revoked[0]["message"].as_str().unwrap().contains("REVOKED"));
    assert_eq!(
        findings(&report, "certificate.ok").len(),
        1,
        "the encryption certificate: {report:#}"
    );

    // A PC clock ten minutes fast: the doctor (alone) runs under libfaketime.
    let mut c = Command::new("faketime");
    c.args([
        "-f",
        "+600s",
        env!("CARGO_BIN_EXE_yinxin"),
        "--json",
        "doctor",
    ]);
    u.envs(&mut c);
    let (report, code) = doctor_output(c.output().unwrap());
    assert_eq!(code, 1);
    let skew = findings(&report, "clock.skewed");
    assert_eq!(skew.len(), 1, "{report:#}");
    let offset = skew[0]["facts"]["offset_seconds"].as_f64().unwrap();
    assert!((590.0..610.0).contains(&offset), "offset {offset}");
    assert!(
        skew[0]["message"]
            .as_str()
            .unwrap()
            .contains("ahead of the server")
    );

    // The server gone: named as unreachable, not as a broken key.
    drop(server);
    let (report, code) = u.doctor(&["--timeout", "3"]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "server.unreachable").len(),
        1,
        "{report:#}"
    );
}

/// The PEM blocks of a file, one string each.
fn pem_blocks(pem: &str) -> Vec<String> {
    pem.split_inclusive("-----END CERTIFICATE-----")
        .filter(|b| b.contains("BEGIN CERTIFICATE"))
        .map(|b| format!("{}\n", b.trim()))
        .collect()
}
