//! yinxin against `sm-crypto`, the SM2 library most Chinese web front-ends use, through
//! `peers/sm_crypto_peer.js`.
//!
//! sm-crypto holds keys as hex (the private scalar; the public key as `04 || x || y`) and
//! writes SM2 ciphertexts as hex **without** the `04` prefix on C1, in C1C3C2 (`cipherMode`
//! 1, its default) or C1C2C3 (`cipherMode` 0). It also reads them only without the prefix, so
//! a server answering a front-end must strip it. Its signer ID is a string hashed as UTF-8.

use serde_json::{Value, json};
use yinxin_crypto::{
    DistinguishingId, EncryptionScheme, Error, KeyAlgorithm, PrivateKey, PublicKey,
    SignatureScheme, Sm2CiphertextFormat,
};
use yinxin_interop_tests::{
    DEFAULT_ID, Workdir, der, ec_scalar, random_bytes, run_sm_crypto, sm2_key, unhex,
};

/// Signer IDs: `None` lets sm-crypto use its default (which must equal yinxin's).
const IDS: [Option<&str>; 3] = [None, Some("alice@example.cn"), Some("张三@例子.中国")];

fn scheme(id: Option<&str>) -> SignatureScheme {
    SignatureScheme::Sm2WithSm3 {
        id: DistinguishingId::new(id.unwrap_or(DEFAULT_ID).as_bytes()).expect("id"),
    }
}

/// A job with `userId` set only when an ID is given.
fn with_id(mut job: Value, id: Option<&str>) -> Value {
    if let Some(id) = id {
        job["userId"] = json!(id);
    }
    job
}

fn sign_job(private_key: &Value, msg: &[u8], der: bool, id: Option<&str>) -> Value {
    with_id(
        json!({"op": "sign", "privateKey": private_key, "msg": hex::encode(msg), "der": der}),
        id,
    )
}

fn verify_job(public_key: &Value, msg: &[u8], signature: &[u8], id: Option<&str>) -> Value {
    let job = json!({"op": "verify", "publicKey": public_key, "msg": hex::encode(msg),
        "signature": hex::encode(signature), "der": true});
    with_id(job, id)
}

fn encrypt_job(public_key: &Value, msg: &[u8], cipher_mode: u8) -> Value {
    json!({"op": "encrypt", "publicKey": public_key, "msg": hex::encode(msg),
        "cipherMode": cipher_mode})
}

/// Decrypt a ciphertext yinxin wrote, as a front-end receives it: without the 04 prefix.
fn decrypt_job(private_key: &Value, yinxin_ciphertext: &[u8], cipher_mode: u8) -> Value {
    assert_eq!(
        yinxin_ciphertext[0], 0x04,
        "yinxin writes C1 with the 04 prefix"
    );
    json!({"op": "decrypt", "privateKey": private_key,
        "ciphertext": hex::encode(&yinxin_ciphertext[1..]), "cipherMode": cipher_mode})
}

fn field<'a>(result: &'a Value, name: &str, what: &str) -> &'a Value {
    assert!(
        result.get("error").is_none(),
        "{what}: sm-crypto failed: {}",
        result["error"]
    );
    result
        .get(name)
        .unwrap_or_else(|| panic!("{what}: no {name} in {result}"))
}

fn hex_field(result: &Value, name: &str, what: &str) -> Vec<u8> {
    unhex(
        field(result, name, what)
            .as_str()
            .unwrap_or_else(|| panic!("{what}: {name} not text")),
    )
}

/// Import a key sm-crypto generated: the scalar through a SEC1 `ECPrivateKey` built by hand,
/// the public key from its point.
fn import_sm_crypto_key(pair: &Value) -> (PrivateKey, PublicKey) {
    let scalar_hex = field(pair, "privateKey", "keygen").as_str().expect("text");
    let scalar = der::left_pad(&unhex(scalar_hex), 32).expect("a 32-byte scalar");
    let mut d = [0u8; 32];
    d.copy_from_slice(&scalar);
    let private = PrivateKey::from_pem_or_der(&der::sm2_sec1_private_key(&d), None)
        .expect("yinxin reads the SEC1 key built from sm-crypto's scalar");
    let public =
        PublicKey::from_ec_point(KeyAlgorithm::Sm2, &hex_field(pair, "publicKey", "keygen"))
            .expect("sm-crypto's public key is a valid SM2 point");
    assert_eq!(
        private.public_key(),
        &public,
        "sm-crypto's key halves agree with yinxin's"
    );
    (private, public)
}

#[test]
fn sm2_signatures_both_ways() {
    let dir = Workdir::new();
    let messages: Vec<Vec<u8>> = [0usize, 1, 64, 3000]
        .into_iter()
        .map(random_bytes)
        .collect();
    let yinxin_keys: Vec<PrivateKey> = (0..3).map(|_| sm2_key()).collect();

    // Run 1: sm-crypto makes keys; verifies yinxin's signatures; signs with yinxin's scalars.
    let mut jobs = vec![json!({"op": "keygen"}); 3];
    let mut public_checks = Vec::new(); // (job index, key)
    let mut checks = Vec::new(); // (job index, expected validity, what)
    let mut their_sigs = Vec::new(); // (job index, key, message, id, der)
    for (k, key) in yinxin_keys.iter().enumerate() {
        let scalar = json!(hex::encode(ec_scalar(key)));
        let public = json!(hex::encode(key.public_key().raw_bytes()));
        jobs.push(json!({"op": "publicKey", "privateKey": scalar}));
        public_checks.push((jobs.len() - 1, k));
        for (m, msg) in messages.iter().enumerate() {
            let id = IDS[(k + m) % IDS.len()];
            let sig = key.sign(&scheme(id), msg).expect("sign");
            jobs.push(verify_job(&public, msg, &sig, id));
            checks.push((
                jobs.len() - 1,
                true,
                format!("sm-crypto verifies yinxin key {k}, message {m}, ID {id:?}"),
            ));
            jobs.push(verify_job(&public, msg, &sig, Some("1234567812345670")));
            checks.push((
                jobs.len() - 1,
                false,
                format!("sm-crypto rejects key {k}, message {m} under a wrong ID"),
            ));
            for der_form in [true, false] {
                jobs.push(sign_job(&scalar, msg, der_form, id));
                their_sigs.push((jobs.len() - 1, k, m, id, der_form));
            }
        }
    }
    let results = run_sm_crypto(&dir, &Value::Array(jobs));
    for (i, k) in public_checks {
        let what = format!("sm-crypto derives yinxin key {k}'s public key from its scalar");
        assert_eq!(
            hex_field(&results[i], "publicKey", &what),
            yinxin_keys[k].public_key().raw_bytes(),
            "{what}"
        );
    }
    for (i, valid, what) in &checks {
        assert_eq!(field(&results[*i], "valid", what), &json!(valid), "{what}");
    }
    for (i, k, m, id, der_form) in &their_sigs {
        let what = format!(
            "yinxin verifies sm-crypto's signature: key {k}, message {m}, ID {id:?}, DER {der_form}"
        );
        let sig = hex_field(&results[*i], "signature", &what);
        if *der_form {
            der::signature_parts(&sig).unwrap_or_else(|e| panic!("{what}: sm-crypto's DER: {e}"));
        } else {
            assert_eq!(sig.len(), 64, "{what}: raw r || s");
        }
        let public = yinxin_keys[*k].public_key();
        public
            .verify(&scheme(*id), &messages[*m], &sig)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            matches!(
                public.verify(&scheme(Some("bob")), &messages[*m], &sig),
                Err(Error::InvalidSignature)
            ),
            "{what}: a wrong ID must fail"
        );
    }

    // Run 2: sm-crypto signs with its own keys; yinxin signs with them once imported.
    let imported: Vec<(PrivateKey, PublicKey)> =
        results[..3].iter().map(import_sm_crypto_key).collect();
    let mut jobs = Vec::new();
    for (k, pair) in results[..3].iter().enumerate() {
        let (private, _) = &imported[k];
        for (m, msg) in messages.iter().enumerate() {
            let id = IDS[(k + m + 1) % IDS.len()];
            jobs.push(sign_job(&pair["privateKey"], msg, true, id));
            let sig = private.sign(&scheme(id), msg).expect("sign");
            jobs.push(verify_job(&pair["publicKey"], msg, &sig, id));
        }
    }
    let results = run_sm_crypto(&dir, &Value::Array(jobs));
    for (k, (_, public)) in imported.iter().enumerate() {
        for (m, msg) in messages.iter().enumerate() {
            let id = IDS[(k + m + 1) % IDS.len()];
            let base = 2 * (k * messages.len() + m);
            let what = format!("sm-crypto key {k}, message {m}, ID {id:?}");
            let sig = hex_field(&results[base], "signature", &what);
            public
                .verify(&scheme(id), msg, &sig)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                field(&results[base + 1], "valid", &what),
                &json!(true),
                "{what}: yinxin's signature"
            );
        }
    }
}

#[test]
fn sm2_encryption_both_ways() {
    let dir = Workdir::new();
    let plaintexts: Vec<Vec<u8>> = [1usize, 19, 32, 33, 1000]
        .into_iter()
        .map(random_bytes)
        .collect();
    let keys: Vec<PrivateKey> = (0..2).map(|_| sm2_key()).collect();
    // sm-crypto cipherMode: 1 = C1C3C2, 0 = C1C2C3.
    let modes = [
        (1, Sm2CiphertextFormat::C1C3C2),
        (0, Sm2CiphertextFormat::C1C2C3),
    ];

    let mut jobs = vec![json!({"op": "keygen"}); 2];
    let mut their_cts = Vec::new(); // (job, key, plaintext, mode)
    let mut decryptions = Vec::new(); // (job, plaintext, what)
    for (k, key) in keys.iter().enumerate() {
        let scalar = json!(hex::encode(ec_scalar(key)));
        let public = json!(hex::encode(key.public_key().raw_bytes()));
        for (p, pt) in plaintexts.iter().enumerate() {
            for (mode, format) in modes {
                jobs.push(encrypt_job(&public, pt, mode));
                their_cts.push((jobs.len() - 1, k, p, mode));
                let ct = key
                    .public_key()
                    .encrypt(&EncryptionScheme::Sm2(format), pt)
                    .expect("encrypt");
                jobs.push(decrypt_job(&scalar, &ct, mode));
                decryptions.push((
                    jobs.len() - 1,
                    pt.clone(),
                    format!("sm-crypto decrypts yinxin's {format:?}, key {k}, plaintext {p}"),
                ));
                // The wrong mode must fail (sm-crypto answers with an empty plaintext).
                jobs.push(decrypt_job(&scalar, &ct, 1 - mode));
                decryptions.push((
                    jobs.len() - 1,
                    Vec::new(),
                    format!("sm-crypto rejects yinxin's {format:?} read in the other mode"),
                ));
            }
        }
    }
    let results = run_sm_crypto(&dir, &Value::Array(jobs));
    for (i, pt, what) in &decryptions {
        assert_eq!(&hex_field(&results[*i], "plaintext", what), pt, "{what}");
    }
    for (i, k, p, mode) in &their_cts {
        let what = format!("yinxin decrypts sm-crypto's cipherMode {mode}, key {k}, plaintext {p}");
        let ct = hex_field(&results[*i], "ciphertext", &what);
        assert_eq!(
            ct.len(),
            64 + 32 + plaintexts[*p].len(),
            "{what}: no 04 prefix"
        );
        for candidate in [ct.clone(), [&[0x04][..], &ct].concat()] {
            let got = keys[*k]
                .decrypt(
                    &EncryptionScheme::Sm2(Sm2CiphertextFormat::Asn1),
                    &candidate,
                )
                .unwrap_or_else(|e| panic!("{what} ({} bytes): {e}", candidate.len()));
            assert_eq!(&got[..], &plaintexts[*p][..], "{what}");
        }
    }

    // sm-crypto's own keys: it encrypts to itself, yinxin decrypts with the imported scalar,
    // and yinxin encrypts to the imported public key for sm-crypto to decrypt.
    let mut jobs = Vec::new();
    let imported: Vec<(PrivateKey, PublicKey)> =
        results[..2].iter().map(import_sm_crypto_key).collect();
    for (k, pair) in results[..2].iter().enumerate() {
        for (mode, format) in modes {
            jobs.push(encrypt_job(&pair["publicKey"], &plaintexts[4], mode));
            let ct = imported[k]
                .1
                .encrypt(&EncryptionScheme::Sm2(format), &plaintexts[3])
                .expect("encrypt");
            jobs.push(decrypt_job(&pair["privateKey"], &ct, mode));
        }
    }
    let results = run_sm_crypto(&dir, &Value::Array(jobs));
    for (k, (private, _)) in imported.iter().enumerate() {
        for (j, (mode, _)) in modes.iter().enumerate() {
            let base = 2 * (k * modes.len() + j);
            let what = format!("sm-crypto key {k}, cipherMode {mode}");
            let ct = hex_field(&results[base], "ciphertext", &what);
            let got = private
                .decrypt(&EncryptionScheme::Sm2(Sm2CiphertextFormat::C1C3C2), &ct)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(&got[..], &plaintexts[4][..], "{what}");
            assert_eq!(
                hex_field(&results[base + 1], "plaintext", &what),
                plaintexts[3],
                "{what}"
            );
        }
    }
}
