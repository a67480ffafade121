//! The support bundle: everything support needs, none of the secrets planted for it.

use super::*;

#[test]
fn bundle_contains_the_report_and_no_planted_secret() {
    let u = User::new();
    let pin = "739182";
    let so_pin = "55019264";
    let machine = "machine-Z-5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";
    u.set_machine(machine);
    let mut init = u.cmd();
    init.args(["token", "init", "--name", "nurse"])
        .env("YINXIN_PIN", pin)
        .env("YINXIN_SO_PIN", so_pin);
    assert!(init.output().unwrap().status.success());
    // Keys the user keeps beside the tokens, a log a component wrote carelessly, a config
    // with a secret in it.
    let keys = u.home().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    u.ok(&[
        "key",
        "generate",
        "--alg",
        "sm2",
        "--out",
        keys.join("user.key").to_str().unwrap(),
    ]);
    let key_pem = std::fs::read_to_string(keys.join("user.key")).unwrap();
    let key_body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    let logs = u.home().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("yinxin.log"),
        format!(
            "2026-11-22T10:00:00Z INFO login pin={pin} user=张三\n\
             2026-11-22T10:00:01Z DEBUG subject CN=张三,O=某某医院,C=CN id 11010519491231002X\n\
             2026-11-22T10:00:02Z DEBUG contact 13812345678 zhang.san@example.com\n\
             2026-11-22T10:00:03Z DEBUG Authorization: Bearer yx_secret_api_token_0123456789\n\
             {key_pem}"
        ),
    )
    .unwrap();
    std::fs::write(
        u.home().join("config.toml"),
        "server = \"http://127.0.0.1:9\"\n[log]\nlevel = \"info\"\n",
    )
    .unwrap();
    // The token store's own secrets: its wrapped keys and PIN slots.
    let store = std::fs::read_to_string(u.home().join("tokens/nurse.yxtoken")).unwrap();
    let body: Value = serde_json::from_str(store.lines().nth(1).unwrap()).unwrap();
    let token_secrets = [
        body["secrets"]["ciphertext"].as_str().unwrap().to_string(),
        body["user_pin"]["wrapped_dek"]["ciphertext"]
            .as_str()
            .unwrap()
            .to_string(),
        body["so_pin"]["wrapped_dek"]["ciphertext"]
            .as_str()
            .unwrap()
            .to_string(),
        body["user_pin"]["salt"].as_str().unwrap().to_string(),
    ];

    let bundle = u.path("support.tar.gz");
    let out = u
        .cmd()
        .args([
            "doctor",
            "--timeout",
            "2",
            "--bundle",
            bundle.to_str().unwrap(),
        ])
        .env("YINXIN_PIN", pin)
        .env("YINXIN_SO_PIN", so_pin)
        .output()
        .unwrap();
    assert!(bundle.is_file(), "{}", String::from_utf8_lossy(&out.stderr));

    // Unpack with the system's tar and read every byte.
    let unpacked = u.path("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let tar = Command::new("tar")
        .args([
            "xzf",
            bundle.to_str().unwrap(),
            "-C",
            unpacked.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        tar.status.success(),
        "{}",
        String::from_utf8_lossy(&tar.stderr)
    );
    let mut files = Vec::new();
    collect(&unpacked, &mut files);
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "report.json",
        "report.txt",
        "versions.json",
        "config.toml",
        "tokens.json",
        "yinxin.log",
        "README.txt",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with(".yxtoken") || n.ends_with(".key")),
        "{names:?}"
    );
    let all: String = files
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect::<Vec<_>>()
        .join("\n");
    let mut planted: Vec<(&str, String)> = vec![
        ("user PIN", pin.to_string()),
        ("SO PIN", so_pin.to_string()),
        ("machine identity", machine.to_string()),
        ("private key", key_body.chars().take(40).collect()),
        ("personal name", "张三".to_string()),
        ("ID number", "11010519491231002X".to_string()),
        ("mobile number", "13812345678".to_string()),
        ("e-mail", "zhang.san@example.com".to_string()),
        ("API token", "yx_secret_api_token_0123456789".to_string()),
    ];
    for s in &token_secrets {
        planted.push(("token secret", s.chars().take(32).collect()));
    }
    for (what, secret) in &planted {
        assert!(
            !all.contains(secret.as_str()),
            "the bundle contains the {what} {secret:?}"
        );
    }
    // What support needs is there.
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(files.iter().find(|p| p.ends_with("report.json")).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(report["format"], "yinxin-doctor/1");
    assert!(all.contains("某某医院"), "organisations stay");
    assert!(all.contains("nurse"), "the token's name stays");
    assert!(
        all.contains(&body["serial"].as_str().unwrap().to_string()),
        "the token's serial stays"
    );
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}
