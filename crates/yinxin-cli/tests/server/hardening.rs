//! The outside probe's findings replayed against a real `yinxin serve` (issue 12): memory
//! under a flood of large bodies, file modes, what anonymous callers see.

use super::*;

fn vm_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Finding 4: 8 concurrent ~85 MB CMS bodies took the server to 2.15 GB. Now the bytes of
/// bodies in flight are bounded server-wide, CMS operations are limited in number, and large
/// content goes to the raw-body endpoints without base64.
#[test]
fn a_flood_of_large_cms_bodies_stays_within_the_memory_bound() {
    const MIB: u64 = 1024 * 1024;
    const BUDGET: u64 = 256 * MIB;
    let e = Env::new();
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    let url = server.url.clone();
    let pid = server.child.id();
    let admin = e.path("data/admin-token.txt").display().to_string();
    let operator = cms::create_token(&e, &url, &admin, "signer", "key-operator");
    let http = Http::new();
    // Warm up every path once, then take the baseline.
    let small = bytes::Bytes::from(vec![7u8; 1024]);
    let sign_url = format!("{url}/api/v1/cms/sign/raw?algorithm=sm2&detached=true");
    // OpenSSL 3.0 verifies the RSA signature (its CMS code has no SM2 signer ID).
    let (s, ct, signed) = http.call(
        reqwest::Method::POST,
        &format!("{url}/api/v1/cms/sign/raw?algorithm=rsa&detached=true"),
        Some(&operator),
        Some(small.clone().into()),
        "application/octet-stream",
    );
    assert_eq!((s, ct.as_str()), (200, "application/pkcs7-signature"));
    std::fs::write(e.path("small.bin"), &small).unwrap();
    std::fs::write(e.path("small.p7s"), &signed).unwrap();
    e.openssl_ok(&[
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "small.p7s",
        "-content",
        "small.bin",
        "-noverify",
        "-out",
        "/dev/null",
    ]);
    let baseline = vm_kib(pid, "VmRSS:") * 1024;

    // 200 clients each stream the same 64 MiB content at once.
    let content = bytes::Bytes::from(vec![0x5au8; 64 * MIB as usize]);
    let client = reqwest::Client::new();
    let (statuses, status_latency) = http.rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let (client, url, token, body) = (
                client.clone(),
                sign_url.clone(),
                operator.clone(),
                content.clone(),
            );
            tasks.push(tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .header("content-type", "application/octet-stream")
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }));
        }
        // A small request during the flood.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let status = client
            .get(format!("{url}/api/v1/status"))
            .send()
            .await
            .unwrap()
            .status();
        let latency = started.elapsed();
        assert_eq!(status, 200);
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        (statuses, latency)
    });
    let mut counts = std::collections::BTreeMap::new();
    for s in &statuses {
        let key = match s {
            Ok(code) => code.to_string(),
            Err(_) => "closed".to_string(),
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    let hwm = vm_kib(pid, "VmHWM:") * 1024;
    eprintln!(
        "flood: {counts:?}; status answered in {status_latency:?}; baseline RSS {} MiB, peak {} MiB",
        baseline / MIB,
        hwm / MIB
    );
    for s in statuses.iter().flatten() {
        assert!([200, 413, 429, 503].contains(s), "{counts:?}");
    }
    assert!(counts.get("200").copied().unwrap_or(0) >= 1, "{counts:?}");
    assert!(
        hwm <= baseline + BUDGET + 256 * MIB,
        "peak {} MiB > baseline {} MiB + 256 MiB in flight + 256 MiB",
        hwm / MIB,
        baseline / MIB
    );
    assert!(
        status_latency < Duration::from_secs(1),
        "a small request waited {status_latency:?} during the flood"
    );
    assert_eq!(server.child.id(), pid);
    let (s, _, _) = http.call(
        reqwest::Method::GET,
        &format!("{url}/health"),
        None,
        None,
        "",
    );
    assert_eq!(s, 200, "the server is still up");

    // Limits by route, answered from the headers before any body byte is read: JSON CMS
    // content over 8 MiB is 413 (use raw), raw over 64 MiB too; a small JSON one passes.
    let authority = url.trim_start_matches("http://");
    for (path, content_type, length, expected) in [
        ("/api/v1/cms/sign", "application/json", 12 * MIB, "413"),
        (
            "/api/v1/cms/sign/raw",
            "application/octet-stream",
            64 * MIB + 1,
            "413",
        ),
        ("/api/v1/certificates", "application/json", MIB, "413"),
    ] {
        let status = status_for_headers(authority, path, &operator, content_type, length);
        assert_eq!(status, expected, "{path} with {length} bytes");
    }
}

/// Send only the head of a POST announcing `length` body bytes; the status line's code.
fn status_for_headers(
    authority: &str,
    path: &str,
    token: &str,
    content_type: &str,
    length: u64,
) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).unwrap();
    let line = String::from_utf8_lossy(&head[..n]).into_owned();
    line.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Finding 8: the store was 0644 and `init-shares/` 0755; `/api/v1/tsa` named an
/// administrator and a token id to anyone. Finding 7: the served OpenAPI document typed a
/// null as a string, refused the server's own problem codes and missed `key-operator`.
#[test]
fn files_are_private_and_anonymous_callers_learn_no_names() {
    let e = Env::new();
    let server = Server::start(&e, "data", &Db::Sqlite, &["--shares", "2-of-3"]);
    let url = server.url.clone();
    let http = Http::new();
    let data = e.path("data");
    let check_modes = || {
        assert_eq!(mode_of(&data), 0o700, "data directory");
        let mut seen = Vec::new();
        for entry in std::fs::read_dir(&data).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let expected = if path.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(mode_of(&path), expected, "{name}");
            if path.is_dir() {
                for inner in std::fs::read_dir(&path).unwrap().flatten() {
                    assert_eq!(
                        mode_of(&inner.path()),
                        0o600,
                        "{name}/{:?}",
                        inner.file_name()
                    );
                }
            }
            seen.push(name);
        }
        seen
    };
    let seen = check_modes();
    for name in [
        "yinxin.db",
        "yinxin.db-wal",
        "yinxin.db-shm",
        "admin-token.txt",
        "init-shares",
    ] {
        assert!(seen.iter().any(|s| s == name), "{name} in {seen:?}");
    }
    // The clock marked by an administrator: anonymous callers see "operator", not who.
    let admin = e.read("data/admin-token.txt").trim().to_string();
    let (s, _, _) = http.call(
        reqwest::Method::PUT,
        &format!("{url}/api/v1/tsa/clock"),
        Some(&admin),
        Some(json!({"healthy": true}).to_string().into()),
        "application/json",
    );
    assert_eq!(s, 200);
    let (s, info) = http.get_json(&format!("{url}/api/v1/tsa"), None);
    assert_eq!(s, 200);
    assert_eq!(info["clock"]["marked_by"], "operator", "{info}");
    assert!(info["clock"]["reason"].is_null());
    let token_id = admin.split('.').nth(1).unwrap();
    assert!(!info.to_string().contains(token_id), "{info}");

    // The served document: null allowed where the server sends null, its own codes match
    // the Problem pattern, key-operator everywhere roles are listed.
    let (s, doc) = http.get_json(&format!("{url}/api/openapi.json"), None);
    assert_eq!(s, 200);
    let schemas = &doc["components"]["schemas"];
    let reason_type = &schemas["ClockResponse"]["properties"]["reason"]["type"];
    assert!(
        reason_type.as_array().unwrap().contains(&json!("null")),
        "{reason_type}"
    );
    let pattern = schemas["Problem"]["properties"]["type"]["pattern"]
        .as_str()
        .unwrap();
    assert_eq!(pattern, "^urn:yinxin:problem:[a-z0-9-]+$");
    for code in [
        "bad-base64",
        "bad-pkcs11",
        "insecure-transport",
        "ca-revoked",
    ] {
        let documented = schemas["Problem"]["properties"]["type"]["examples"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("urn:yinxin:problem:{code}")));
        assert!(documented, "{code}");
    }
    for schema in ["TokenRequest", "TokenResponse", "WhoAmI"] {
        let roles = &schemas[schema]["properties"]["role"]["enum"];
        assert!(
            roles.as_array().unwrap().contains(&json!("key-operator")),
            "{schema}: {roles}"
        );
    }
    drop(server);

    // An older data directory with open modes is made private at the next start.
    use std::os::unix::fs::PermissionsExt;
    for name in ["yinxin.db", "admin-token.txt"] {
        std::fs::set_permissions(data.join(name), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::set_permissions(
        data.join("init-shares"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    check_modes();
    drop(server);
}

/// A network namespace with a veth pair: the host side `PREFIX.1/30`, the namespace side
/// `PREFIX.2`, in a documentation range (RFC 5737) that this machine does not already use —
/// another "machine" that only this test talks to. Removed on drop.
struct Netns {
    name: String,
    host_if: String,
    /// The host side's address, where the server listens.
    host_ip: String,
}

impl Netns {
    /// `Err` (with the reason) where namespaces cannot be made (not root, no `ip`, no free
    /// range).
    fn create() -> Result<Netns, String> {
        let used = Command::new("ip")
            .args(["-4", "addr"])
            .output()
            .map_err(|e| format!("ip: {e}"))?;
        let routes = Command::new("ip")
            .args(["-4", "route"])
            .output()
            .map_err(|e| format!("ip: {e}"))?;
        let used = format!(
            "{}{}",
            String::from_utf8_lossy(&used.stdout),
            String::from_utf8_lossy(&routes.stdout)
        );
        let prefix = ["198.51.100", "203.0.113"]
            .into_iter()
            .find(|p| !used.contains(&format!("{p}.")))
            .ok_or("both RFC 5737 test ranges are in use on this machine")?;
        let id = std::process::id();
        let ns = Netns {
            name: format!("yxt{id}"),
            host_if: format!("yxh{id}"),
            host_ip: format!("{prefix}.1"),
        };
        let peer_if = format!("yxn{id}");
        let (host_cidr, peer_cidr) = (format!("{prefix}.1/30"), format!("{prefix}.2/30"));
        let steps: Vec<Vec<&str>> = vec![
            vec!["netns", "add", &ns.name],
            vec![
                "link",
                "add",
                &ns.host_if,
                "type",
                "veth",
                "peer",
                "name",
                &peer_if,
            ],
            vec!["link", "set", &peer_if, "netns", &ns.name],
            vec!["addr", "add", &host_cidr, "dev", &ns.host_if],
            vec!["link", "set", &ns.host_if, "up"],
            vec![
                "netns", "exec", &ns.name, "ip", "addr", "add", &peer_cidr, "dev", &peer_if,
            ],
            vec![
                "netns", "exec", &ns.name, "ip", "link", "set", &peer_if, "up",
            ],
        ];
        for step in steps {
            let out = Command::new("ip")
                .args(&step)
                .output()
                .map_err(|e| format!("ip {step:?}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "ip {step:?}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        Ok(ns)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
    }
}

/// Finding 5 over a real socket: from another host (a network namespace this test makes),
/// an API token and an unseal share over plain HTTP are refused, while the public endpoints
/// answer. (The in-process tests of yinxin-server inject addresses; this one does not.)
#[test]
fn credentials_over_plain_http_from_another_host_are_refused() {
    let ns = match Netns::create() {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("SKIPPED: cannot make a network namespace ({why}); needs root and iproute2");
            return;
        }
    };
    let e = Env::new();
    let mut cmd = e.cmd();
    let listen = format!("{}:0", ns.host_ip);
    cmd.args(["serve", "--data", "data", "--listen", &listen]);
    let server = Server::spawn(cmd);
    let url = server.url.clone();
    assert!(url.starts_with(&format!("http://{}:", ns.host_ip)), "{url}");
    // The CLI in the namespace, told --insecure-http so that it sends at all.
    let remote = |args: &[&str]| {
        let mut c = Command::new("ip");
        c.args([
            "netns",
            "exec",
            &ns.name,
            env!("CARGO_BIN_EXE_yinxin"),
            "--insecure-http",
        ])
        .args(args)
        .env("YINXIN_HOME", e.path("home"))
        .current_dir(e.path(""));
        c.output().unwrap()
    };
    let out = remote(&["--json", "vault", "status", "--server", &url]);
    assert!(
        out.status.success(),
        "public endpoints answer: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for args in [
        vec![
            "admin",
            "members",
            "--server",
            &url,
            "--token-file",
            "data/admin-token.txt",
        ],
        vec![
            "vault",
            "unseal",
            "--server",
            &url,
            "--share-file",
            "data/unseal-share.txt",
        ],
    ] {
        let out = remote(&args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("403") && err.contains("HTTPS"),
            "{args:?}: {err}"
        );
    }
    // Without --insecure-http the CLI does not even send it.
    let mut c = Command::new("ip");
    let out = c
        .args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_yinxin")])
        .args([
            "admin",
            "members",
            "--server",
            &url,
            "--token-file",
            "data/admin-token.txt",
        ])
        .current_dir(e.path(""))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to send the API token"));
    drop(server);
}

/// `--share-recipients`: whoever runs the first start never sees the shares in clear; each
/// holder opens theirs with their own key (OpenSSL too) and unseals with it.
#[test]
fn shares_sealed_to_their_holders_unseal_the_vault() {
    let e = Env::new();
    for holder in ["h1", "h2", "h3"] {
        e.openssl_ok(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &format!("{holder}.key"),
            "-out",
            &format!("{holder}.pem"),
            "-subj",
            &format!("/CN={holder}/O=yinxin Ops"),
            "-days",
            "30",
        ]);
    }
    // Two certificates for three shares: refused before anything is made.
    let out = e.run(&[
        "serve",
        "--data",
        "bad",
        "--listen",
        "127.0.0.1:0",
        "--shares",
        "2-of-3",
        "--share-recipients",
        "h1.pem,h2.pem",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs exactly 3"));
    assert!(!e.path("bad/yinxin.db").exists() || !e.path("bad/init-shares").exists());

    let server = Server::start(
        &e,
        "data",
        &Db::Sqlite,
        &[
            "--shares",
            "2-of-3",
            "--share-recipients",
            "h1.pem,h2.pem,h3.pem",
        ],
    );
    drop(server);
    let dir = e.path("data/init-shares");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["share-1.p7m", "share-2.p7m", "share-3.p7m"]);
    let sealed = std::fs::read(dir.join("share-1.p7m")).unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("yinxin-share-v1"));
    // OpenSSL opens a share with its holder's key.
    let text = e.openssl_ok(&[
        "cms",
        "-decrypt",
        "-inform",
        "DER",
        "-in",
        "data/init-shares/share-2.p7m",
        "-inkey",
        "h2.key",
        "-recip",
        "h2.pem",
    ]);
    assert!(text.contains("yinxin-share-v1:2:2:"), "{text}");
    // The server starts sealed; holders 1 and 3 unseal with their keys.
    let server = Server::start(&e, "data", &Db::Sqlite, &[]);
    let unseal = |share: &str, key: &str| {
        e.run(&[
            "--json",
            "vault",
            "unseal",
            "--server",
            &server.url,
            "--share-file",
            &format!("data/init-shares/{share}"),
            "--key",
            key,
        ])
    };
    let wrong = unseal("share-1.p7m", "h2.key");
    assert_eq!(
        wrong.status.code(),
        Some(2),
        "another holder's key does not open it"
    );
    let first = unseal("share-1.p7m", "h1.key");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let done = unseal("share-3.p7m", "h3.key");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let status: Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(status["sealed"], false, "{status}");
}
