//! Parsers never panic: every prefix, single-byte corruption and some garbage of each input
//! format yinxin reads is an error or a valid value, never a crash.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use yinxin_crypto::{EncryptionScheme, KeySpec, PrivateKey, PublicKey, Sm2CiphertextFormat};

/// A cheap deterministic byte stream (no RNG needed to reproduce a failure).
fn garbage(seed: u32, n: usize) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2654435761) >> 19) as u8)
        .collect()
}

fn mutations(valid: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = (0..valid.len()).map(|n| valid[..n].to_vec()).collect();
    for i in 0..valid.len() {
        let mut v = valid.to_vec();
        v[i] ^= 0x80;
        out.push(v);
    }
    let mut longer = valid.to_vec();
    longer.extend_from_slice(&garbage(1, 64));
    out.push(longer);
    for seed in 0..32 {
        out.push(garbage(seed, 1 + seed as usize * 7));
    }
    out
}

#[test]
fn key_decoders_survive_corruption() {
    for spec in [
        KeySpec::Sm2,
        KeySpec::EcP256,
        KeySpec::EcP384,
        KeySpec::Rsa2048,
    ] {
        let key = PrivateKey::generate(spec).unwrap();
        let der = key.to_pkcs8_der().unwrap();
        for m in mutations(&der) {
            let _ = PrivateKey::from_der(&m);
            let _ = PrivateKey::from_pem_or_der(&m, Some(b"pw"));
        }
        let spki = key.public_key().to_der();
        for m in mutations(&spki) {
            let _ = PublicKey::from_der(&m);
        }
        let pem = key.to_pkcs8_pem(None).unwrap();
        for m in mutations(pem.as_bytes()) {
            let _ = PrivateKey::from_pem_or_der(&m, None);
            let _ = PublicKey::from_pem_or_der(&m);
        }
    }
}

#[test]
fn sm2_ciphertext_and_signature_parsers_survive_corruption() {
    let key = PrivateKey::generate(KeySpec::Sm2).unwrap();
    let scheme = key.algorithm().default_signature_scheme();
    let sig = key.sign(&scheme, b"m").unwrap();
    for m in mutations(&sig) {
        assert!(key.public_key().verify(&scheme, b"m", &m).is_err() || m == sig);
    }
    for format in [
        Sm2CiphertextFormat::Asn1,
        Sm2CiphertextFormat::C1C3C2,
        Sm2CiphertextFormat::C1C2C3,
    ] {
        let es = EncryptionScheme::Sm2(format);
        let ct = key.public_key().encrypt(&es, b"secret bid").unwrap();
        for m in mutations(&ct) {
            if let Ok(p) = key.decrypt(&es, &m) {
                // Only a re-encoding of the same ciphertext may decrypt, to the same text.
                assert_eq!(&p[..], b"secret bid");
            }
        }
    }
}

#[path = "robustness/properties.rs"]
mod properties;
