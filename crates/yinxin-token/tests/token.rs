//! Token behaviour on every backend: the same code path drives the software token and a
//! PKCS#11 token (SoftHSM2), then backend-specific checks (PIN lock-out, damaged and copied
//! software token files).

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};

use yinxin_cms::key_delivery::{self, DeliveredKey};
use yinxin_crypto::{
    EncryptionScheme, HashAlgorithm, KeySpec, PrivateKey, PublicKey, SignatureScheme,
};
use yinxin_token::soft::{InitOptions, KdfParams};
use yinxin_token::{
    DeliveryFormat, KeyUsage, MachineIdentity, MemoryToken, PinKind, Pkcs11Token, SoftToken, Token,
    TokenError,
};

const SO_PIN: &str = "so-pin-0001";
const USER_PIN: &str = "user-pin-0001";
const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

fn machine(dir: &Path, id: &str) -> MachineIdentity {
    let p = dir.join(format!("machine-id-{id}"));
    std::fs::write(&p, format!("{id}\n")).unwrap();
    MachineIdentity::from_file(&p).unwrap()
}

fn options() -> InitOptions {
    InitOptions {
        label: "test".into(),
        max_user_retries: 3,
        max_so_retries: 3,
        kdf: KdfParams::INSECURE_FOR_TESTS,
    }
}

fn new_soft_token(dir: &Path) -> (SoftToken, PathBuf) {
    let path = dir.join("t.yxtoken");
    let t = SoftToken::init_on(
        machine(dir, "machine-a"),
        &path,
        SO_PIN,
        USER_PIN,
        &options(),
    )
    .unwrap();
    (t, path)
}

/// The one code path every backend must pass: log in, generate, sign, verify, decrypt.
fn exercise(token: &mut dyn Token, specs: &[(KeySpec, KeyUsage)]) {
    assert!(matches!(
        token.signer("c1", KeyUsage::Signing),
        Err(TokenError::NotLoggedIn)
    ));
    token.login(USER_PIN).unwrap();
    for (i, (spec, usage)) in specs.iter().enumerate() {
        let container = format!("c{i}");
        let public = token.generate_key(&container, *usage, *spec).unwrap();
        assert!(matches!(
            token.generate_key(&container, *usage, *spec),
            Err(TokenError::KeyExists { .. })
        ));
        let listed = token.containers().unwrap();
        let c = listed
            .iter()
            .find(|c| c.name == container)
            .expect("container listed");
        assert_eq!(c.keys[0].public_key, public);
        match usage {
            KeyUsage::Signing => {
                let signer = token.signer(&container, *usage).unwrap();
                for scheme in schemes(*spec) {
                    let sig = signer.sign(&scheme, b"procurement contract").unwrap();
                    public
                        .verify(&scheme, b"procurement contract", &sig)
                        .unwrap();
                    assert!(
                        public
                            .verify(&scheme, b"procurement contracT", &sig)
                            .is_err()
                    );
                }
            }
            KeyUsage::Encryption => {
                let d = token.decrypter(&container, *usage).unwrap();
                // OAEP-SHA1 for RSA: the one OAEP that SoftHSM2 implements.
                let scheme = match public.algorithm() {
                    yinxin_crypto::KeyAlgorithm::Rsa { .. } => EncryptionScheme::RsaOaepSha1,
                    other => other.default_encryption_scheme().unwrap(),
                };
                let ct = public.encrypt(&scheme, b"bid: 1,000,000 CNY").unwrap();
                assert_eq!(&d.decrypt(&scheme, &ct).unwrap()[..], b"bid: 1,000,000 CNY");
            }
        }
    }
    assert!(matches!(
        token.signer("nope", KeyUsage::Signing),
        Err(TokenError::NoSuchContainer(_))
    ));
}

fn schemes(spec: KeySpec) -> Vec<SignatureScheme> {
    match spec {
        KeySpec::Sm2 => vec![spec.algorithm().default_signature_scheme()],
        KeySpec::EcP256 | KeySpec::EcP384 => vec![
            SignatureScheme::Ecdsa(HashAlgorithm::Sha256),
            SignatureScheme::Ecdsa(HashAlgorithm::Sha384),
        ],
        _ => vec![
            SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha256),
            SignatureScheme::RsaPss(HashAlgorithm::Sha256),
        ],
    }
}

#[test]
fn software_token_passes_the_common_path() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, _) = new_soft_token(dir.path());
    exercise(
        &mut t,
        &[
            (KeySpec::Sm2, KeyUsage::Signing),
            (KeySpec::Sm2, KeyUsage::Encryption),
            (KeySpec::EcP256, KeyUsage::Signing),
            (KeySpec::Rsa2048, KeyUsage::Encryption),
        ],
    );
}

/// SoftHSM2 reads `$SOFTHSM2_CONF` (set for tests in .cargo/config.toml) when first loaded;
/// point it at a fresh token directory.
fn softhsm() -> Option<PathBuf> {
    let module = PathBuf::from(SOFTHSM_MODULE);
    if !module.exists() {
        panic!("SoftHSM2 is not installed ({SOFTHSM_MODULE} missing): apt-get install -y softhsm2");
    }
    let conf = PathBuf::from(
        std::env::var_os("SOFTHSM2_CONF").expect("SOFTHSM2_CONF set by .cargo/config.toml"),
    );
    let tokens = conf.with_extension("tokens");
    let _ = std::fs::remove_dir_all(&tokens);
    std::fs::create_dir_all(&tokens).unwrap();
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    Some(module)
}

#[test]
fn pkcs11_token_passes_the_common_path_on_softhsm2() {
    let module = softhsm().unwrap();
    let mut t = Pkcs11Token::init(&module, "yinxin-test", SO_PIN, USER_PIN).unwrap();
    let info = t.info().unwrap();
    assert_eq!(info.label, "yinxin-test");
    assert!(info.manufacturer.contains("SoftHSM"), "{info:?}");
    exercise(
        &mut t,
        &[
            (KeySpec::EcP256, KeyUsage::Signing),
            (KeySpec::Rsa2048, KeyUsage::Signing),
            (KeySpec::Rsa2048, KeyUsage::Encryption),
            (KeySpec::EcP384, KeyUsage::Signing),
        ],
    );
    // SoftHSM2 has no SM2 mechanisms: a clear refusal, not a wrong algorithm.
    let err = t
        .generate_key("sm2", KeyUsage::Signing, KeySpec::Sm2)
        .unwrap_err();
    assert!(err.to_string().contains("SM2"), "{err}");
    // The device will not reveal the keys it generated.
    for (container, usage) in [("c0", KeyUsage::Signing), ("c2", KeyUsage::Encryption)] {
        let p = t.key_protection(container, usage).unwrap();
        assert!(
            p.sensitive && !p.extractable && !p.value_readable,
            "{container}: {p:?}"
        );
    }
    drop(t);
    // A second session sees the keys (they are token objects), and PINs work as on the soft token.
    let mut again = Pkcs11Token::open(&module, Some("yinxin-test")).unwrap();
    assert_eq!(again.containers().unwrap().len(), 4);
    assert!(matches!(
        again.login("wrong-pin-1"),
        Err(TokenError::WrongPin { .. })
    ));
    again
        .change_pin(PinKind::User, USER_PIN, "new-user-pin")
        .unwrap();
    again.login("new-user-pin").unwrap();
    let pkcs = again.signer("c0", KeyUsage::Signing).unwrap();
    let sig = pkcs.sign_default(b"x").unwrap();
    pkcs.public_key()
        .verify(&pkcs.algorithm().default_signature_scheme(), b"x", &sig)
        .unwrap();
    again.unlock_user_pin(SO_PIN, USER_PIN).unwrap();
    again.login(USER_PIN).unwrap();
    // Escrowed keys are not unwrapped into PKCS#11 devices yet: a clear refusal.
    let (_, delivered) = kmc_delivers(&again, "c1");
    let err = again
        .import_enveloped_key("c1", delivered.format, &delivered.der)
        .unwrap_err();
    assert!(
        matches!(err, TokenError::Unsupported(ref m) if m.contains("C_UnwrapKey")),
        "{err}"
    );
}

#[test]
fn wrong_pins_lock_and_the_so_pin_unlocks() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, path) = new_soft_token(dir.path());
    for left in [2, 1] {
        match t.login("wrong-pin") {
            Err(TokenError::WrongPin {
                kind: PinKind::User,
                retries_left,
            }) => assert_eq!(retries_left, Some(left)),
            other => panic!("expected a wrong PIN, got {other:?}"),
        }
    }
    assert!(matches!(
        t.login("wrong-pin"),
        Err(TokenError::PinLocked(PinKind::User))
    ));
    // Locked means locked, also for the right PIN and after reopening the file.
    assert!(matches!(
        t.login(USER_PIN),
        Err(TokenError::PinLocked(PinKind::User))
    ));
    let m = machine(dir.path(), "machine-a");
    let mut reopened = SoftToken::open_on(m, &path).unwrap();
    assert!(reopened.info().unwrap().user_pin_locked);
    assert!(matches!(
        reopened.login(USER_PIN),
        Err(TokenError::PinLocked(PinKind::User))
    ));
    // A wrong SO PIN counts too; the right one unlocks and sets a new user PIN.
    assert!(matches!(
        reopened.unlock_user_pin("wrong-so-pin", "fresh-user-pin"),
        Err(TokenError::WrongPin {
            kind: PinKind::So,
            retries_left: Some(2)
        })
    ));
    reopened.unlock_user_pin(SO_PIN, "fresh-user-pin").unwrap();
    assert_eq!(reopened.info().unwrap().user_pin_retries_left, Some(3));
    reopened.login("fresh-user-pin").unwrap();
    // A correct login resets the counter after failures.
    let _ = reopened.login("wrong-pin");
    reopened.login("fresh-user-pin").unwrap();
    assert_eq!(reopened.info().unwrap().user_pin_retries_left, Some(3));
    // Changing the PIN keeps the keys.
    reopened
        .generate_key("k", KeyUsage::Signing, KeySpec::Sm2)
        .unwrap();
    reopened
        .change_pin(PinKind::User, "fresh-user-pin", "third-user-pin")
        .unwrap();
    let mut last = SoftToken::open_on(machine(dir.path(), "machine-a"), &path).unwrap();
    last.login("third-user-pin").unwrap();
    last.signer("k", KeyUsage::Signing)
        .unwrap()
        .sign_default(b"m")
        .unwrap();
    assert!(matches!(
        SoftToken::open_on(machine(dir.path(), "machine-a"), &path)
            .unwrap()
            .login("fresh-user-pin"),
        Err(TokenError::WrongPin { .. })
    ));
}

#[test]
fn so_pin_locks_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, _) = new_soft_token(dir.path());
    for _ in 0..2 {
        assert!(matches!(
            t.unlock_user_pin("bad-so-pin", "whatever-pin"),
            Err(TokenError::WrongPin { .. })
        ));
    }
    assert!(matches!(
        t.unlock_user_pin("bad-so-pin", "whatever-pin"),
        Err(TokenError::PinLocked(PinKind::So))
    ));
    assert!(matches!(
        t.unlock_user_pin(SO_PIN, "whatever-pin"),
        Err(TokenError::PinLocked(PinKind::So))
    ));
    // The user PIN still works.
    t.login(USER_PIN).unwrap();
}

#[test]
fn every_flipped_byte_is_refused_as_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, path) = new_soft_token(dir.path());
    t.login(USER_PIN).unwrap();
    t.generate_key("c", KeyUsage::Signing, KeySpec::Sm2)
        .unwrap();
    let original = std::fs::read(&path).unwrap();
    let m = machine(dir.path(), "machine-a");
    // Every position, including the checksum itself and the machine fingerprint.
    for i in 0..original.len() {
        let mut bad = original.clone();
        bad[i] ^= 0x01;
        std::fs::write(&path, &bad).unwrap();
        match SoftToken::open_on(m.clone(), &path) {
            Err(TokenError::Corrupted { reason, .. }) => assert!(!reason.is_empty()),
            other => panic!("byte {i}: expected Corrupted, got {other:?}"),
        }
    }
    // Truncation and emptiness too.
    for cut in [0, 10, original.len() / 2, original.len() - 1] {
        std::fs::write(&path, &original[..cut]).unwrap();
        assert!(
            matches!(
                SoftToken::open_on(m.clone(), &path),
                Err(TokenError::Corrupted { .. })
            ),
            "cut {cut}"
        );
    }
    // Nothing was lost: the original still opens and signs.
    std::fs::write(&path, &original).unwrap();
    let mut t = SoftToken::open_on(m, &path).unwrap();
    t.login(USER_PIN).unwrap();
    t.signer("c", KeyUsage::Signing)
        .unwrap()
        .sign_default(b"ok")
        .unwrap();
}

#[test]
fn a_token_from_another_machine_is_reported_as_copied() {
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = new_soft_token(dir.path());
    let other = machine(dir.path(), "machine-b");
    match SoftToken::open_on(other.clone(), &path) {
        Err(TokenError::CopiedFromAnotherMachine {
            created_on,
            this_machine,
            ..
        }) => {
            assert_eq!(created_on, machine(dir.path(), "machine-a").fingerprint());
            assert_eq!(this_machine, other.fingerprint());
        }
        other => panic!("expected CopiedFromAnotherMachine, got {other:?}"),
    }
    let msg = SoftToken::open_on(other, &path).unwrap_err().to_string();
    assert!(msg.contains("another machine"), "{msg}");
}

/// An edit that repairs only the checksum is caught by the machine-bound integrity code. (Whoever
/// can also read this machine's identity can recompute that code: the retry counter stops
/// guessing through yinxin, Argon2id slows offline guessing; see README "Tokens".)
#[test]
fn an_edited_file_with_a_recomputed_checksum_is_tampered() {
    use yinxin_crypto::{HashAlgorithm, hash};
    let dir = tempfile::tempdir().unwrap();
    let (_, path) = new_soft_token(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    // Reset the retry counter by hand and fix the checksum, as an attacker would.
    let edited = text.replacen("\"retries_left\":3", "\"retries_left\":99", 1);
    assert_ne!(edited, text);
    let summed = &edited[..edited.rfind("sum:").unwrap()];
    let fixed = format!(
        "{summed}sum:{}\n",
        hex::encode(hash::digest(HashAlgorithm::Sm3, summed.as_bytes()))
    );
    std::fs::write(&path, fixed).unwrap();
    assert!(matches!(
        SoftToken::open_on(machine(dir.path(), "machine-a"), &path),
        Err(TokenError::Tampered(_))
    ));
}

#[test]
fn certificates_must_match_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, _) = new_soft_token(dir.path());
    t.login(USER_PIN).unwrap();
    t.generate_key("c", KeyUsage::Signing, KeySpec::Sm2)
        .unwrap();
    assert!(matches!(
        t.import_certificate("c", KeyUsage::Signing, b"not a cert"),
        Err(TokenError::BadCertificate(_))
    ));
    assert!(matches!(
        t.import_certificate(
            "x",
            KeyUsage::Signing,
            include_bytes!("data/p256-selfsigned.der")
        ),
        Err(TokenError::NoSuchContainer(_))
    ));
    assert!(matches!(
        t.import_certificate(
            "c",
            KeyUsage::Signing,
            include_bytes!("data/p256-selfsigned.der")
        ),
        Err(TokenError::CertificateMismatch { .. })
    ));
}

#[test]
fn pins_and_names_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let m = machine(dir.path(), "machine-a");
    let p = dir.path().join("x.yxtoken");
    assert!(matches!(
        SoftToken::init_on(m.clone(), &p, "123", USER_PIN, &options()),
        Err(TokenError::InvalidPin(_))
    ));
    assert!(!p.exists());
    let (mut t, path) = new_soft_token(dir.path());
    assert!(matches!(
        SoftToken::init_on(m, &path, SO_PIN, USER_PIN, &options()),
        Err(TokenError::AlreadyExists(_))
    ));
    t.login(USER_PIN).unwrap();
    assert!(matches!(
        t.generate_key("a/b", KeyUsage::Signing, KeySpec::Sm2),
        Err(TokenError::InvalidName { .. })
    ));
    assert!(matches!(
        t.generate_key("", KeyUsage::Signing, KeySpec::Sm2),
        Err(TokenError::InvalidName { .. })
    ));
}

/// The key-management centre's side: generate an encryption key of the signing key's type
/// and seal it to the container's signing public key.
fn kmc_delivers(token: &dyn Token, container: &str) -> (PrivateKey, DeliveredKey) {
    let signing = signing_public_key(token, container);
    let spec = match signing.algorithm() {
        yinxin_crypto::KeyAlgorithm::Sm2 => KeySpec::Sm2,
        _ => KeySpec::Rsa2048,
    };
    let escrowed = PrivateKey::generate(spec).unwrap();
    let delivered = key_delivery::seal(&signing, &escrowed).unwrap();
    (escrowed, delivered)
}

fn signing_public_key(token: &dyn Token, container: &str) -> PublicKey {
    token
        .containers()
        .unwrap()
        .into_iter()
        .find(|c| c.name == container)
        .unwrap()
        .keys
        .into_iter()
        .find(|k| k.usage == KeyUsage::Signing)
        .unwrap()
        .public_key
}

/// The container's encryption key decrypts what was encrypted to `public`.
fn decrypts_for(token: &dyn Token, container: &str, public: &PublicKey) {
    let d = token.decrypter(container, KeyUsage::Encryption).unwrap();
    assert_eq!(d.public_key(), public);
    let scheme = public.algorithm().default_encryption_scheme().unwrap();
    let ct = public.encrypt(&scheme, b"sealed bid, lot 3").unwrap();
    assert_eq!(&d.decrypt(&scheme, &ct).unwrap()[..], b"sealed bid, lot 3");
}

/// Generate a signing key in `container`, import a delivered encryption key, use it, and
/// refuse a second delivery. Returns the delivered public key.
fn import_and_use(token: &mut dyn Token, container: &str, spec: KeySpec) -> PublicKey {
    token
        .generate_key(container, KeyUsage::Signing, spec)
        .unwrap();
    let (escrowed, delivered) = kmc_delivers(token, container);
    assert_eq!(
        delivered.format,
        DeliveryFormat::for_algorithm(spec.algorithm()).unwrap()
    );
    let info = token
        .import_enveloped_key(container, delivered.format, &delivered.der)
        .unwrap();
    assert_eq!(info.usage, KeyUsage::Encryption);
    assert_eq!(&info.public_key, escrowed.public_key());
    let listed = token.containers().unwrap();
    let c = listed.iter().find(|c| c.name == container).unwrap();
    assert_eq!(
        c.keys.iter().map(|k| k.usage).collect::<Vec<_>>(),
        [KeyUsage::Signing, KeyUsage::Encryption]
    );
    decrypts_for(token, container, escrowed.public_key());
    // The signing key still signs, and a second delivery does not replace the first.
    token
        .signer(container, KeyUsage::Signing)
        .unwrap()
        .sign_default(b"x")
        .unwrap();
    let (_, again) = kmc_delivers(token, container);
    assert!(matches!(
        token.import_enveloped_key(container, again.format, &again.der),
        Err(TokenError::KeyExists {
            usage: KeyUsage::Encryption,
            ..
        })
    ));
    decrypts_for(token, container, escrowed.public_key());
    escrowed.public_key().clone()
}

/// Envelopes that must not import into `container` (which has a signing key only): for
/// another token, truncated, bit-flipped, of the wrong format, garbage. `check` runs after
/// each refusal.
fn refuses_bad_envelopes(token: &mut dyn Token, container: &str, check: &dyn Fn(&dyn Token)) {
    let (_, good) = kmc_delivers(token, container);
    let signing = signing_public_key(token, container);
    let stranger_spec = match signing.algorithm() {
        yinxin_crypto::KeyAlgorithm::Sm2 => KeySpec::Sm2,
        _ => KeySpec::Rsa2048,
    };
    let stranger = PrivateKey::generate(stranger_spec).unwrap();
    let for_stranger = key_delivery::seal(
        stranger.public_key(),
        &PrivateKey::generate(stranger_spec).unwrap(),
    )
    .unwrap();
    let mut bad: Vec<(String, DeliveryFormat, Vec<u8>)> = vec![(
        "sealed to another token".into(),
        for_stranger.format,
        for_stranger.der.clone(),
    )];
    for cut in (0..good.der.len()).step_by(7).chain([good.der.len() - 1]) {
        bad.push((
            format!("truncated to {cut}"),
            good.format,
            good.der[..cut].to_vec(),
        ));
    }
    for i in 0..good.der.len() {
        let mut flipped = good.der.clone();
        flipped[i] ^= 0x01;
        bad.push((format!("byte {i} flipped"), good.format, flipped));
    }
    let other_format = match good.format {
        DeliveryFormat::Sm2EnvelopedKey => DeliveryFormat::CmsEnvelopedData,
        DeliveryFormat::CmsEnvelopedData => DeliveryFormat::Sm2EnvelopedKey,
    };
    bad.push(("the other format".into(), other_format, good.der.clone()));
    bad.push(("garbage".into(), good.format, b"not an envelope".to_vec()));
    for (what, format, der) in &bad {
        let result = token.import_enveloped_key(container, *format, der);
        assert!(result.is_err(), "{what} was imported");
        check(token);
    }
    // A wrong recipient says so.
    let err = token
        .import_enveloped_key(container, for_stranger.format, &for_stranger.der)
        .unwrap_err();
    assert!(
        matches!(err, TokenError::Envelope(_) | TokenError::Crypto(_)),
        "{err:?}"
    );
    // The good envelope still imports afterwards.
    token
        .import_enveloped_key(container, good.format, &good.der)
        .unwrap();
}

fn has_no_encryption_key(token: &dyn Token, container: &str) {
    let listed = token.containers().unwrap();
    let c = listed.iter().find(|c| c.name == container).unwrap();
    assert_eq!(c.keys.len(), 1, "{container} changed");
    assert!(matches!(
        token.decrypter(container, KeyUsage::Encryption),
        Err(TokenError::NoKey { .. })
    ));
}

#[test]
fn delivered_keys_import_into_a_memory_token() {
    let mut t = MemoryToken::new();
    for (container, spec) in [("sm2", KeySpec::Sm2), ("rsa", KeySpec::Rsa2048)] {
        import_and_use(&mut t, container, spec);
        let bad = format!("{container}-bad");
        t.generate_key(&bad, KeyUsage::Signing, spec).unwrap();
        refuses_bad_envelopes(&mut t, &bad, &|t| {
            // The last refusal is followed by the good import, checked by the caller.
            let listed = t.containers().unwrap();
            let c = listed.iter().find(|c| c.name == bad).unwrap();
            assert_eq!(c.keys.len(), 1);
        });
    }
    let (_, delivered) = kmc_delivers(&t, "sm2");
    assert!(matches!(
        t.import_enveloped_key("nope", delivered.format, &delivered.der),
        Err(TokenError::NoSuchContainer(_))
    ));
    // A container without a signing key has nothing to open the envelope with.
    t.generate_key("enc-only", KeyUsage::Encryption, KeySpec::Sm2)
        .unwrap();
    assert!(matches!(
        t.import_enveloped_key("enc-only", delivered.format, &delivered.der),
        Err(TokenError::NoKey {
            usage: KeyUsage::Signing,
            ..
        })
    ));
    // An ECDSA signing key cannot open envelopes.
    t.generate_key("ec", KeyUsage::Signing, KeySpec::EcP256)
        .unwrap();
    assert!(
        t.import_enveloped_key("ec", delivered.format, &delivered.der)
            .is_err()
    );
}

#[test]
fn delivered_keys_import_into_a_soft_token_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, path) = new_soft_token(dir.path());
    let (_, delivered) = {
        t.login(USER_PIN).unwrap();
        t.generate_key("probe", KeyUsage::Signing, KeySpec::Sm2)
            .unwrap();
        kmc_delivers(&t, "probe")
    };
    t.logout();
    let before = std::fs::read(&path).unwrap();
    assert!(matches!(
        t.import_enveloped_key("probe", delivered.format, &delivered.der),
        Err(TokenError::NotLoggedIn)
    ));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    t.login(USER_PIN).unwrap();
    let sm2 = import_and_use(&mut t, "sm2", KeySpec::Sm2);
    let rsa = import_and_use(&mut t, "rsa", KeySpec::Rsa2048);
    // The delivered keys are in the file, sealed like generated ones.
    let mut reopened = SoftToken::open_on(machine(dir.path(), "machine-a"), &path).unwrap();
    reopened.login(USER_PIN).unwrap();
    decrypts_for(&reopened, "sm2", &sm2);
    decrypts_for(&reopened, "rsa", &rsa);
    reopened
        .import_enveloped_key("probe", delivered.format, &delivered.der)
        .unwrap();
    // The first token object sees the change once it logs in again (it re-reads the file).
    t.login(USER_PIN).unwrap();
    assert!(t.decrypter("probe", KeyUsage::Encryption).is_ok());
}

/// Refused envelopes leave the software token file byte for byte as it was.
#[test]
fn bad_envelopes_leave_the_soft_token_file_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, path) = new_soft_token(dir.path());
    t.login(USER_PIN).unwrap();
    for (container, spec) in [("sm2", KeySpec::Sm2), ("rsa", KeySpec::Rsa2048)] {
        t.generate_key(container, KeyUsage::Signing, spec).unwrap();
        let before = std::fs::read(&path).unwrap();
        refuses_bad_envelopes(&mut t, container, &|t| {
            assert_eq!(std::fs::read(&path).unwrap(), before, "the file changed");
            has_no_encryption_key(t, container);
        });
        assert_ne!(std::fs::read(&path).unwrap(), before);
        let mut reopened = SoftToken::open_on(machine(dir.path(), "machine-a"), &path).unwrap();
        reopened.login(USER_PIN).unwrap();
        assert!(reopened.decrypter(container, KeyUsage::Encryption).is_ok());
    }
}

// ---------------------------------------------------------------------------------------
// probe: what `yinxin doctor` sees in a PKCS#11 module, without a PIN.
//
// SoftHSM2 reads its configuration once per process and `softhsm()` wipes the shared token
// directory, so the probe tests that load SoftHSM2 run in a child process of this test
// binary with their own `SOFTHSM2_CONF`: they neither race the other PKCS#11 test nor
// share its initialised module. The `probe_child_*` tests do nothing outside such a child.

const PROBE_CHILD: &str = "YINXIN_PROBE_CHILD";

fn is_probe_child() -> bool {
    std::env::var_os(PROBE_CHILD).is_some()
}

/// Run the test `name` alone in a child process with `SOFTHSM2_CONF=conf`; it must pass.
fn probe_in_child(name: &str, conf: &Path) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("SOFTHSM2_CONF", conf)
        .env(PROBE_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child test {name} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

/// A certificate for the signer's key: the fixture's TBSCertificate with the key swapped in,
/// signed by the token (ECDSA P-256 with SHA-256, as the fixture).
fn certificate_for(signer: &dyn yinxin_crypto::Signer) -> Vec<u8> {
    use der::asn1::{Any, BitString};
    use der::{Decode, Encode};
    let fixture = Vec::<Any>::from_der(include_bytes!("data/p256-selfsigned.der")).unwrap();
    let mut tbs = Vec::<Any>::from_der(&fixture[0].to_der().unwrap()).unwrap();
    // [0] version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo, …
    tbs[6] = Any::from_der(&signer.public_key().to_der()).unwrap();
    let tbs = tbs.to_der().unwrap();
    let signature = signer
        .sign(&SignatureScheme::Ecdsa(HashAlgorithm::Sha256), &tbs)
        .unwrap();
    vec![
        Any::from_der(&tbs).unwrap(),
        fixture[1].clone(),
        Any::encode_from(&BitString::from_bytes(&signature).unwrap()).unwrap(),
    ]
    .to_der()
    .unwrap()
}

/// Every file under `dir` with its content, to show that a probe wrote nothing.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn probed_token<'a>(
    report: &'a yinxin_token::pkcs11::ModuleReport,
    label: &str,
) -> &'a yinxin_token::pkcs11::TokenReport {
    report
        .slots
        .iter()
        .filter_map(|s| s.token.as_ref())
        .find(|t| t.label == label)
        .unwrap_or_else(|| panic!("no token labelled {label} in {report:#?}"))
}

#[test]
fn probe_lists_softhsm2_slots_tokens_and_certificates() {
    let dir = tempfile::tempdir().unwrap();
    probe_in_child(
        "probe_child_lists_slots_tokens_and_certificates",
        &dir.path().join("softhsm2.conf"),
    );
}

#[test]
fn probe_child_lists_slots_tokens_and_certificates() {
    use yinxin_token::pkcs11::probe;
    if !is_probe_child() {
        return;
    }
    let module = softhsm().unwrap();
    let tokens = PathBuf::from(std::env::var_os("SOFTHSM2_CONF").unwrap()).with_extension("tokens");

    // Nothing initialised yet: one slot with SoftHSM2's blank token. The probe loads the
    // module itself and finalises it, so the token code below can initialise it again.
    let blank = probe(&module).unwrap();
    assert_eq!(blank.module, module);
    assert!(blank.manufacturer.contains("SoftHSM"), "{blank:#?}");
    assert!(blank.cryptoki_version.starts_with("2.") || blank.cryptoki_version.starts_with("3."));
    assert!(!blank.library_version.is_empty());
    assert!(!blank.slots.is_empty());
    assert!(
        blank.slots.iter().all(|s| s.token_error.is_none()),
        "{blank:#?}"
    );
    let spare = blank.slots.iter().find_map(|s| s.token.as_ref()).unwrap();
    assert!(
        !spare.initialized && !spare.user_pin_initialized,
        "{spare:#?}"
    );
    assert!(spare.certificates.is_empty() && spare.certificates_error.is_none());

    let mut t = Pkcs11Token::init(&module, "probe-token", SO_PIN, USER_PIN).unwrap();
    t.login(USER_PIN).unwrap();
    t.generate_key("c0", KeyUsage::Signing, KeySpec::EcP256)
        .unwrap();
    let cert = certificate_for(&*t.signer("c0", KeyUsage::Signing).unwrap());
    t.import_certificate("c0", KeyUsage::Signing, &cert)
        .unwrap();
    t.logout();

    // Probed while this process holds the module: shared, not finalised under the token.
    let before = snapshot(&tokens);
    let report = probe(&module).unwrap();
    assert_eq!(
        snapshot(&tokens),
        before,
        "the probe changed the token's files"
    );
    let token = probed_token(&report, "probe-token");
    assert!(
        token.initialized && token.user_pin_initialized,
        "{token:#?}"
    );
    assert!(
        !token.user_pin_locked
            && !token.user_pin_final_try
            && !token.user_pin_count_low
            && !token.so_pin_locked,
        "{token:#?}"
    );
    assert!(token.manufacturer.contains("SoftHSM") && !token.serial.is_empty());
    assert_eq!(token.certificates_error, None);
    assert_eq!(token.certificates.len(), 1, "{token:#?}");
    let c = &token.certificates[0];
    assert_eq!(c.der, cert);
    assert_eq!(c.label, "c0");
    assert_eq!(c.id, b"c0/sign");
    // SoftHSM2 keeps a blank token in a new slot after each initialisation.
    assert!(
        report
            .slots
            .iter()
            .any(|s| s.token.as_ref().is_some_and(|t| !t.initialized))
    );
    // The token, used after the probe, still works.
    t.login(USER_PIN).unwrap();
    t.signer("c0", KeyUsage::Signing)
        .unwrap()
        .sign_default(b"after the probe")
        .unwrap();
}

/// SoftHSM2 shows a wrong user PIN as `CKF_USER_PIN_COUNT_LOW` until a right one; it never
/// locks a PIN, so `CKF_USER_PIN_FINAL_TRY` and `CKF_USER_PIN_LOCKED` cannot be shown with it.
#[test]
fn probe_shows_softhsm2_wrong_pin_flags() {
    let dir = tempfile::tempdir().unwrap();
    probe_in_child(
        "probe_child_shows_wrong_pin_flags",
        &dir.path().join("softhsm2.conf"),
    );
}

#[test]
fn probe_child_shows_wrong_pin_flags() {
    use yinxin_token::pkcs11::probe;
    if !is_probe_child() {
        return;
    }
    let module = softhsm().unwrap();
    let mut t = Pkcs11Token::init(&module, "pin-token", SO_PIN, USER_PIN).unwrap();
    assert!(matches!(
        t.login("wrong-pin-1"),
        Err(TokenError::WrongPin { .. })
    ));
    let token = probed_token(&probe(&module).unwrap(), "pin-token").clone();
    assert!(token.user_pin_count_low, "{token:#?}");
    assert!(!token.user_pin_final_try && !token.user_pin_locked);
    // Many more wrong PINs: SoftHSM2 has no lock-out.
    for _ in 0..20 {
        assert!(matches!(
            t.login("wrong-pin-1"),
            Err(TokenError::WrongPin { .. })
        ));
    }
    let token = probed_token(&probe(&module).unwrap(), "pin-token").clone();
    assert!(token.user_pin_count_low && !token.user_pin_final_try && !token.user_pin_locked);
    t.login(USER_PIN).unwrap();
    let token = probed_token(&probe(&module).unwrap(), "pin-token").clone();
    assert!(
        !token.user_pin_count_low && !token.user_pin_locked,
        "{token:#?}"
    );
}

/// A module whose `C_Initialize` fails (SoftHSM2 without its configuration file).
#[test]
fn probe_reports_a_failing_c_initialize() {
    let dir = tempfile::tempdir().unwrap();
    probe_in_child(
        "probe_child_reports_a_failing_c_initialize",
        &dir.path().join("missing.conf"),
    );
}

#[test]
fn probe_child_reports_a_failing_c_initialize() {
    if !is_probe_child() {
        return;
    }
    let module = PathBuf::from(SOFTHSM_MODULE);
    match yinxin_token::pkcs11::probe(&module) {
        Err(TokenError::Module { path, reason }) => {
            assert_eq!(path, module);
            assert!(
                reason.starts_with("C_Initialize failed with CKR_"),
                "{reason}"
            );
        }
        other => panic!("expected a Module error, got {other:?}"),
    }
}

#[test]
fn probe_refuses_what_is_not_a_pkcs11_module() {
    use yinxin_token::pkcs11::probe;
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("driver.so");
    std::fs::write(&text, "this is not a library\n".repeat(20)).unwrap();
    let empty = dir.path().join("empty.so");
    std::fs::write(&empty, "").unwrap();
    let mut cases = vec![
        (dir.path().join("missing.so"), "the file does not exist"),
        (dir.path().to_path_buf(), "is a directory"),
        (text, "not a shared library"),
        (empty, "not a shared library"),
    ];
    // A real shared library without C_GetFunctionList (already loaded, so loading is safe).
    if let Some(libc) = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    {
        cases.push((libc, "not a PKCS#11 module (it has no C_GetFunctionList)"));
    }
    for (path, expected) in cases {
        let err = probe(&path).unwrap_err();
        let message = err.to_string();
        match err {
            TokenError::Module { path: p, reason } => {
                assert_eq!(p, path);
                assert!(reason.contains(expected), "{}: {reason}", path.display());
                assert!(message.contains(&*path.to_string_lossy()), "{message}");
            }
            other => panic!("{}: expected a Module error, got {other:?}", path.display()),
        }
    }
}
