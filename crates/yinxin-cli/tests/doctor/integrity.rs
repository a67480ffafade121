//! The tampered-binary failure: an installed file changed after the signed manifest was made.

use super::*;

/// An RSA root and a code-signing certificate under it, made by OpenSSL.
fn code_signing_chain(dir: &Path) {
    std::fs::write(
        dir.join("cs.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=critical,codeSigning\nsubjectKeyIdentifier=hash\n\
         authorityKeyIdentifier=keyid\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-subj",
            "/C=CN/O=Platform/CN=Platform Code Root",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    openssl(
        dir,
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
            "/C=CN/O=Platform/CN=yinxin release signing",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "cs.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "cs.pem",
            "-days",
            "30",
            "-extfile",
            "cs.ext",
        ],
    );
}

#[test]
fn modified_installed_file_is_named_with_both_hashes() {
    let u = User::new();
    let dir = u.dir.path();
    code_signing_chain(dir);
    // An installation: the real yinxin binary and a library beside it.
    let inst = u.path("inst");
    std::fs::create_dir_all(inst.join("bin")).unwrap();
    std::fs::create_dir_all(inst.join("lib")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_yinxin"), inst.join("bin/yinxin")).unwrap();
    std::fs::write(inst.join("lib/libyinxin-pkcs11.so"), vec![0x7fu8; 4096]).unwrap();
    u.ok(&["manifest", "create", "--root", inst.to_str().unwrap()]);
    let manifest = inst.join("yinxin-manifest.json");
    u.ok(&[
        "manifest",
        "sign",
        "--manifest",
        manifest.to_str().unwrap(),
        "--cert",
        "cs.pem",
        "--key",
        "cs.key",
    ]);
    // The platform's root installed and pinned on this PC.
    let fp = openssl(
        dir,
        &[
            "x509",
            "-in",
            "root.pem",
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
    );
    let fp = fp
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase();
    std::fs::create_dir_all(u.home().join("trust")).unwrap();
    std::fs::copy(u.path("root.pem"), u.home().join("trust/platform-root.pem")).unwrap();
    std::fs::write(
        u.home().join("config.toml"),
        format!(
            "[trust]\npinned = [\"sha256:{fp}\"]\n\n[install]\nroot = \"{}\"\n",
            inst.display()
        ),
    )
    .unwrap();

    let (report, code) = u.doctor(&[]);
    assert_eq!(code, 0, "{:?}", problems(&report));
    assert_eq!(
        findings(&report, "integrity.manifest_trusted").len(),
        1,
        "{report:#}"
    );
    assert_eq!(findings(&report, "integrity.ok")[0]["facts"]["files"], 2);

    // One byte of the installed program changes.
    let exe = inst.join("bin/yinxin");
    let expected = sha256_file(&exe);
    let mut bytes = std::fs::read(&exe).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&exe, &bytes).unwrap();
    let actual = sha256_file(&exe);
    let (report, code) = u.doctor(&[]);
    assert_eq!(code, 1);
    let modified = findings(&report, "integrity.modified");
    assert_eq!(modified.len(), 1, "{report:#}");
    let f = modified[0];
    assert_eq!(f["facts"]["path"], "bin/yinxin");
    assert_eq!(f["facts"]["expected_sha256"], expected.as_str());
    assert_eq!(f["facts"]["actual_sha256"], actual.as_str());
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("modified after installation")
            && msg.contains(&expected)
            && msg.contains(&actual),
        "{msg}"
    );
    assert!(f["fix"].as_str().unwrap().contains("Reinstall"));
    assert_eq!(
        f["repairable"], false,
        "program files are never repaired by the doctor"
    );
    // --fix leaves it alone.
    let (_, _) = u.doctor(&["--fix"]);
    assert_eq!(sha256_file(&exe), actual);

    // Someone "fixes" the manifest to match: its signature no longer holds → untrusted.
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace(&expected, &actual);
    std::fs::write(&manifest, text).unwrap();
    let (report, code) = u.doctor(&[]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report, "integrity.manifest_untrusted").len(),
        1,
        "{report:#}"
    );
    assert!(
        findings(&report, "integrity.ok").is_empty(),
        "not reported clean: {report:#}"
    );
}
