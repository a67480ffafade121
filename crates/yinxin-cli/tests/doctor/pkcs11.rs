//! USB keys through PKCS#11, with SoftHSM2 standing in for the vendor's driver.

use super::*;

const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

#[test]
fn usb_key_driver_slots_and_token_are_reported() {
    assert!(
        Path::new(SOFTHSM_MODULE).exists(),
        "SoftHSM2 is needed: apt-get install -y softhsm2"
    );
    let u = User::new();
    let tokens = u.path("softhsm-tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = u.path("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all(u.home()).unwrap();
    std::fs::write(
        u.home().join("config.toml"),
        format!(
            "pkcs11_modules = [\"{SOFTHSM_MODULE}\", \"{}\"]\n",
            u.path("no-such-driver.so").display()
        ),
    )
    .unwrap();
    let doctor = |args: &[&str]| {
        let mut c = u.cmd();
        c.args(["--json", "doctor"])
            .args(args)
            .env("SOFTHSM2_CONF", &conf);
        doctor_output(c.output().unwrap())
    };
    // Before any key is initialised: the driver loads, the empty slot holds no usable key.
    let (report, code) = doctor(&[]);
    assert_eq!(code, 1);
    let missing = findings(&report, "pkcs11.unloadable");
    assert_eq!(missing.len(), 1, "{report:#}");
    assert!(
        missing[0]["subject"]
            .as_str()
            .unwrap()
            .ends_with("no-such-driver.so")
    );
    assert_eq!(
        findings(&report, "pkcs11.uninitialised").len(),
        1,
        "{report:#}"
    );

    // An initialised key with a key pair but no certificate yet.
    let mut init = u.cmd();
    init.args([
        "token",
        "init",
        "--pkcs11",
        SOFTHSM_MODULE,
        "--label",
        "usbkey",
    ])
    .env("SOFTHSM2_CONF", &conf);
    let out = init.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (report, _) = doctor(&[]);
    let f = findings(&report, "pkcs11.no_certificate");
    assert_eq!(f.len(), 1, "{report:#}");
    assert_eq!(f[0]["facts"]["label"], "usbkey");
    let lib = f[0]["facts"]["library"].as_str().unwrap();
    assert!(lib.contains("SoftHSM"), "{lib}");
}
