//! The cloned-image failure: a token store made on machine A, found on machine B.

use super::*;

#[test]
fn copied_token_store_is_named_quarantined_by_fix_and_restored_by_undo() {
    let u = User::new();
    u.ok(&["token", "init", "--name", "alice"]);
    let store = u.home().join("tokens/alice.yxtoken");
    let original_hash = sha256_file(&store);
    let (report, code) = u.doctor(&[]);
    assert!(findings(&report, "token.copied").is_empty());
    assert_eq!(
        findings(&report, "token.no_certificate").len(),
        1,
        "{report:#}"
    );
    assert_eq!(code, 0, "{:?}", problems(&report));

    // The same home seen from a PC deployed from the image: another machine identity.
    u.set_machine("machine-B-99887766554433221100ffeeddccbbaa");
    let (report, code) = u.doctor(&[]);
    assert_eq!(code, 1);
    let copied = findings(&report, "token.copied");
    assert_eq!(copied.len(), 1, "{report:#}");
    let f = copied[0];
    assert_eq!(f["status"], "problem");
    assert!(f["subject"].as_str().unwrap().ends_with("alice.yxtoken"));
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("copied from another machine or a system image"),
        "{msg}"
    );
    assert!(msg.contains("\"alice\""), "{msg}");
    assert!(f["fix"].as_str().unwrap().contains("yinxin doctor --fix"));
    assert_eq!(f["repairable"], true);
    assert_ne!(f["facts"]["created_on"], f["facts"]["this_machine"]);
    // The text table and the Chinese report name it too.
    let text = String::from_utf8(u.run(&["doctor"]).stdout).unwrap();
    assert!(
        text.contains("PROBLEM") && text.contains("copied from another machine"),
        "{text}"
    );
    let zh = String::from_utf8(u.run(&["doctor", "--lang", "zh"]).stdout).unwrap();
    assert!(
        zh.contains("问题") && zh.contains("复制") && zh.contains("解决办法"),
        "{zh}"
    );

    // --fix: moved aside (never deleted), a fresh store made with the PINs from the
    // environment.
    let (report, code) = u.doctor(&["--fix"]);
    let repairs = report["repairs"].as_array().unwrap();
    let codes: Vec<&str> = repairs
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["token.quarantined", "token.fresh_created"],
        "{report:#}"
    );
    let quarantine = PathBuf::from(repairs[0]["facts"]["quarantine"].as_str().unwrap());
    assert_eq!(
        sha256_file(&quarantine.join("alice.yxtoken")),
        original_hash
    );
    assert!(quarantine.join("repair.json").is_file());
    assert!(findings(&report, "token.copied").is_empty(), "{report:#}");
    assert_eq!(code, 0, "{:?}", problems(&report));
    let journal = std::fs::read_to_string(u.home().join("doctor/repairs.jsonl")).unwrap();
    assert!(journal.contains("token.quarantined") && journal.contains("token.fresh_created"));
    // The fresh store works on this machine.
    u.ok(&["token", "info", "--name", "alice"]);

    // A second run is clean.
    let (report, code) = u.doctor(&[]);
    assert_eq!(code, 0, "{:?}", problems(&report));
    assert!(problems(&report).is_empty());

    // --undo puts the original back, keeping the fresh store in quarantine.
    let (report, _) = u.doctor(&["--undo"]);
    let codes: Vec<&str> = report["repairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["undo.replaced", "undo.restored"], "{report:#}");
    assert_eq!(sha256_file(&store), original_hash);
    assert_eq!(findings(&report, "token.copied").len(), 1);
    let kept = std::fs::read_dir(u.home().join("quarantine"))
        .unwrap()
        .count();
    assert_eq!(kept, 2, "the original's folder and the fresh store's");
    // Back on machine A the original opens again.
    u.set_machine("machine-A-0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    u.ok(&["token", "info", "--name", "alice"]);
}

#[test]
fn store_older_than_the_os_installation_came_with_the_image() {
    let u = User::new();
    u.ok(&["token", "init", "--name", "ward3"]);
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2 * 86_400;
    let out = u
        .cmd()
        .args(["--json", "doctor"])
        .env("YINXIN_OS_INSTALLED_AT", later.to_string())
        .output()
        .unwrap();
    let (report, code) = doctor_output(out);
    assert_eq!(code, 1);
    let f = findings(&report, "token.predates_os");
    assert_eq!(f.len(), 1, "{report:#}");
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("cloned system image")
    );
    assert_eq!(f[0]["repairable"], true);
}

#[test]
fn fix_without_pins_still_quarantines_and_says_how_to_continue() {
    let u = User::new();
    u.ok(&["token", "init", "--name", "bob"]);
    u.set_machine("machine-C-00112233445566778899aabbccddeeff");
    let out = u
        .cmd()
        .args(["--json", "doctor", "--fix"])
        .env_remove("YINXIN_PIN")
        .env_remove("YINXIN_SO_PIN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (report, _) = doctor_output(out);
    let repairs = report["repairs"].as_array().unwrap();
    assert_eq!(repairs[0]["code"], "token.quarantined");
    assert_eq!(repairs[1]["code"], "token.fresh_skipped");
    assert!(
        repairs[1]["message"]
            .as_str()
            .unwrap()
            .contains("yinxin token init --name bob")
    );
    assert!(!u.home().join("tokens/bob.yxtoken").exists());
}

#[test]
fn log_level_is_set_persistently_and_reported() {
    let u = User::new();
    std::fs::create_dir_all(u.home()).unwrap();
    std::fs::write(
        u.home().join("config.toml"),
        "# set up by the hospital's IT\nclock_tolerance_secs = 120\n",
    )
    .unwrap();
    let (report, _) = u.doctor(&["--log-level", "debug,yinxin_token=trace"]);
    let f = findings(&report, "logging.verbose");
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["facts"]["level"], "debug,yinxin_token=trace");
    let config = std::fs::read_to_string(u.home().join("config.toml")).unwrap();
    assert!(
        config.contains("level = \"debug,yinxin_token=trace\""),
        "{config}"
    );
    assert!(
        config.starts_with("# set up by the hospital's IT\nclock_tolerance_secs = 120\n"),
        "{config}"
    );
    // A component's operations now reach the log.
    u.ok(&["token", "init", "--name", "traced"]);
    u.ok(&["token", "info", "--name", "traced"]);
    let log = std::fs::read_to_string(u.home().join("logs/yinxin.log")).unwrap();
    assert!(log.contains("soft token: opened"), "{log}");
    let bad = u.run(&["doctor", "--log-level", "yinxin_token=loud"]);
    assert_eq!(bad.status.code(), Some(2));
    let (report, _) = u.doctor(&["--log-level", "info"]);
    assert_eq!(findings(&report, "logging.ok").len(), 1);
}
