//! yinxin against BouncyCastle, a second independent SM2 implementation (and GCM), through
//! `peers/Sm2Peer.java`. Keys travel as DER files: BouncyCastle reads yinxin's PKCS#8 and
//! SubjectPublicKeyInfo, and yinxin reads BouncyCastle's.
//!
//! Each test starts one JVM for its whole batch of jobs.

use yinxin_crypto::symmetric::{SymmetricAlgorithm, SymmetricKey};
use yinxin_crypto::{
    DistinguishingId, EncryptionScheme, Error, PrivateKey, PublicKey, SignatureScheme,
    Sm2CiphertextFormat,
};
use yinxin_interop_tests::{DEFAULT_ID, Workdir, random_bytes, run_bouncycastle, sm2_key};

/// Signer IDs: BouncyCastle's default (`-`, which must equal yinxin's default), the explicit
/// default, an e-mail address, and non-ASCII bytes.
const IDS: [&str; 4] = ["-", DEFAULT_ID, "alice@example.cn", "张三"];

fn scheme(id: &str) -> SignatureScheme {
    let bytes = if id == "-" { DEFAULT_ID } else { id };
    SignatureScheme::Sm2WithSm3 {
        id: DistinguishingId::new(bytes.as_bytes()).expect("id"),
    }
}

fn id_arg(id: &str) -> String {
    if id == "-" {
        "-".into()
    } else {
        hex::encode(id.as_bytes())
    }
}

fn write_yinxin_key(dir: &Workdir, stem: &str, key: &PrivateKey) {
    dir.write(
        &format!("{stem}.key"),
        &key.to_pkcs8_der().expect("PKCS#8")[..],
    );
    dir.write(&format!("{stem}.pub"), key.public_key().to_der());
}

#[test]
fn sm2_signatures_both_ways() {
    let dir = Workdir::new();
    let mut jobs = Vec::new();
    // What each job's answer must be, and why.
    let mut expect: Vec<(&str, String)> = Vec::new();
    let messages: Vec<Vec<u8>> = [0usize, 1, 100, 5000]
        .into_iter()
        .map(random_bytes)
        .collect();
    for (i, msg) in messages.iter().enumerate() {
        dir.write(&format!("m{i}"), msg);
    }

    // yinxin signs, BouncyCastle verifies (and rejects a wrong ID).
    let yinxin_keys: Vec<PrivateKey> = (0..3).map(|_| sm2_key()).collect();
    for (k, key) in yinxin_keys.iter().enumerate() {
        write_yinxin_key(&dir, &format!("y{k}"), key);
        for (i, msg) in messages.iter().enumerate() {
            let id = IDS[(k + i) % IDS.len()];
            let sig = key.sign(&scheme(id), msg).expect("sign");
            let name = format!("y{k}m{i}.sig");
            dir.write(&name, &sig);
            jobs.push(format!("verify y{k}.pub {} m{i} {name}", id_arg(id)));
            expect.push((
                "valid",
                format!("BC verifies yinxin key {k}, message {i}, ID {id:?}"),
            ));
            let wrong = hex::encode(b"1234567812345670");
            jobs.push(format!("verify y{k}.pub {wrong} m{i} {name}"));
            expect.push((
                "invalid",
                format!("BC rejects yinxin key {k}, message {i} under a wrong ID"),
            ));
        }
    }

    // BouncyCastle makes keys and signs; yinxin verifies after the run.
    for k in 0..3 {
        jobs.push(format!("keygen b{k}.key b{k}.pub"));
        expect.push(("ok", format!("BC key {k}")));
        for (i, _) in messages.iter().enumerate() {
            let id = IDS[(k + i + 1) % IDS.len()];
            jobs.push(format!("sign b{k}.key {} m{i} b{k}m{i}.sig", id_arg(id)));
            expect.push(("ok", format!("BC signs with key {k}, message {i}")));
        }
    }

    let results = run_bouncycastle(&dir, &jobs);
    for ((result, (want, what)), job) in results.iter().zip(&expect).zip(&jobs) {
        assert_eq!(result, want, "{what} (job `{job}`)");
    }

    for k in 0..3 {
        let private = PrivateKey::from_pem_or_der(&dir.read(&format!("b{k}.key")), None)
            .unwrap_or_else(|e| panic!("yinxin reads BouncyCastle's PKCS#8: {e}"));
        let public = PublicKey::from_pem_or_der(&dir.read(&format!("b{k}.pub")))
            .unwrap_or_else(|e| panic!("yinxin reads BouncyCastle's SPKI: {e}"));
        assert_eq!(
            private.public_key(),
            &public,
            "BC key {k}: the halves match"
        );
        for (i, msg) in messages.iter().enumerate() {
            let id = IDS[(k + i + 1) % IDS.len()];
            let sig = dir.read(&format!("b{k}m{i}.sig"));
            public.verify(&scheme(id), msg, &sig).unwrap_or_else(|e| {
                panic!("yinxin verifies BC key {k}, message {i}, ID {id:?}: {e}")
            });
            let wrong = SignatureScheme::Sm2WithSm3 {
                id: DistinguishingId::new("bob@example.cn").expect("id"),
            };
            assert!(matches!(
                public.verify(&wrong, msg, &sig),
                Err(Error::InvalidSignature)
            ));
            // A signature from the BC key made by yinxin verifies as well: the keys agree.
            let mine = private.sign(&scheme(id), msg).expect("sign");
            public.verify(&scheme(id), msg, &mine).expect("verify");
        }
    }
}

#[test]
fn sm2_encryption_both_ways() {
    let dir = Workdir::new();
    let mut jobs = Vec::new();
    // The files BouncyCastle writes its decryptions to, with the expected plaintexts.
    let mut decrypted: Vec<(String, Vec<u8>)> = Vec::new();
    let plaintexts: Vec<Vec<u8>> = [1usize, 31, 32, 33, 1000]
        .into_iter()
        .map(random_bytes)
        .collect();
    for (i, pt) in plaintexts.iter().enumerate() {
        dir.write(&format!("p{i}"), pt);
    }
    let keys: Vec<PrivateKey> = (0..2).map(|_| sm2_key()).collect();
    let modes = [
        ("c1c3c2", Sm2CiphertextFormat::C1C3C2),
        ("c1c2c3", Sm2CiphertextFormat::C1C2C3),
    ];
    for (k, key) in keys.iter().enumerate() {
        write_yinxin_key(&dir, &format!("y{k}"), key);
        for (i, pt) in plaintexts.iter().enumerate() {
            for (mode, format) in modes {
                // yinxin encrypts, BouncyCastle decrypts (it reads yinxin's PKCS#8).
                let ct = key
                    .public_key()
                    .encrypt(&EncryptionScheme::Sm2(format), pt)
                    .expect("encrypt");
                let name = format!("y{k}p{i}.{mode}");
                dir.write(&name, &ct);
                jobs.push(format!("decrypt y{k}.key {mode} {name} {name}.out"));
                decrypted.push((format!("{name}.out"), pt.clone()));
                // BouncyCastle encrypts to yinxin's public key; yinxin decrypts after the run.
                jobs.push(format!("encrypt y{k}.pub {mode} p{i} b{k}p{i}.{mode}"));
            }
        }
    }
    let results = run_bouncycastle(&dir, &jobs);
    for (result, job) in results.iter().zip(&jobs) {
        assert_eq!(result, "ok", "job `{job}`");
    }
    for (file, pt) in &decrypted {
        assert_eq!(&dir.read(file), pt, "BouncyCastle's decryption of {file}");
    }

    for (k, key) in keys.iter().enumerate() {
        for (i, pt) in plaintexts.iter().enumerate() {
            for (mode, format) in modes {
                let ct = dir.read(&format!("b{k}p{i}.{mode}"));
                assert_eq!(ct[0], 0x04, "BouncyCastle writes C1 with the 04 prefix");
                // The layout named by the scheme does not matter to decryption; try both.
                for scheme_format in [format, Sm2CiphertextFormat::Asn1] {
                    let got = key
                        .decrypt(&EncryptionScheme::Sm2(scheme_format), &ct)
                        .unwrap_or_else(|e| {
                            panic!("yinxin decrypts BC's {mode} (key {k}, plaintext {i}): {e}")
                        });
                    assert_eq!(&got[..], &pt[..]);
                }
                let got = key
                    .decrypt(&EncryptionScheme::Sm2(format), &ct[1..])
                    .expect("and without the 04 prefix");
                assert_eq!(&got[..], &pt[..]);
            }
        }
    }
}

/// AES-GCM and SM4-GCM: a fixed key, nonce, AAD and plaintext give the same sealed bytes in
/// both, and each opens the other's. (The OpenSSL 3.0 `enc` command has no AEAD modes, so
/// BouncyCastle is the GCM peer.)
#[test]
fn gcm_matches_bouncycastle() {
    let dir = Workdir::new();
    let mut jobs = Vec::new();
    let mut cases = Vec::new();
    for (alg, name) in [
        (SymmetricAlgorithm::Aes128, "aes"),
        (SymmetricAlgorithm::Aes256, "aes"),
        (SymmetricAlgorithm::Sm4, "sm4"),
    ] {
        for (c, (len, aad_len)) in [(0usize, 0usize), (1, 13), (16, 0), (1000, 64)]
            .into_iter()
            .enumerate()
        {
            let key_bytes = random_bytes(alg.key_len());
            let nonce = random_bytes(12);
            let aad = random_bytes(aad_len);
            let pt = random_bytes(len);
            let key = SymmetricKey::from_bytes(alg, &key_bytes).expect("key");
            let sealed = key.gcm_seal(&nonce, &aad, &pt).expect("seal");
            let stem = format!("{alg:?}-{c}");
            dir.write(&format!("{stem}.pt"), &pt);
            dir.write(&format!("{stem}.ours"), &sealed);
            let aad_arg = if aad.is_empty() {
                "-".to_string()
            } else {
                hex::encode(&aad)
            };
            let common = format!(
                "{name} {} {} {aad_arg}",
                hex::encode(&key_bytes),
                hex::encode(&nonce)
            );
            jobs.push(format!("gcm-seal {common} {stem}.pt {stem}.theirs"));
            jobs.push(format!("gcm-open {common} {stem}.ours {stem}.opened"));
            cases.push((stem, key, nonce, aad, pt, sealed));
        }
    }
    let results = run_bouncycastle(&dir, &jobs);
    for (result, job) in results.iter().zip(&jobs) {
        assert_eq!(result, "ok", "job `{job}`");
    }
    for (stem, key, nonce, aad, pt, sealed) in cases {
        let theirs = dir.read(&format!("{stem}.theirs"));
        assert_eq!(
            hex::encode(&theirs),
            hex::encode(&sealed),
            "{stem}: same sealed bytes"
        );
        assert_eq!(
            dir.read(&format!("{stem}.opened")),
            pt,
            "{stem}: BC opens yinxin's"
        );
        let opened = key
            .gcm_open(&nonce, &aad, &theirs)
            .expect("yinxin opens BC's");
        assert_eq!(&opened[..], &pt[..]);
    }
}
