//! `yinxin bench`: operations per second, printed in the layout of `openssl speed` so the two
//! can be compared line by line (see BENCHMARKS.md and scripts/bench-vs-openssl.sh).

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use serde_json::json;
use yinxin_crypto::hash::Hasher;
use yinxin_crypto::{HashAlgorithm, KeySpec, PrivateKey, SymmetricAlgorithm, SymmetricKey};

use crate::Outcome;
use crate::args::BenchArgs;

const ALL: [&str; 13] = [
    "sm2",
    "rsa2048",
    "rsa3072",
    "rsa4096",
    "ecdsap256",
    "ecdsap384",
    "sm3",
    "sha256",
    "sha512",
    "sm4-cbc",
    "sm4-gcm",
    "aes-128-gcm",
    "aes-256-gcm",
];
const BLOCK_SIZES: [usize; 6] = [16, 64, 256, 1024, 8192, 16384];

/// Run `op` repeatedly for `secs`, returning operations per second.
fn rate(secs: f64, mut op: impl FnMut() -> Result<()>) -> Result<f64> {
    let limit = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut n: u64 = 0;
    // Check the clock every few operations only, so that cheap operations are not dominated
    // by reading it.
    loop {
        for _ in 0..8 {
            op()?;
        }
        n += 8;
        if start.elapsed() >= limit {
            break;
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

struct Pkey {
    name: &'static str,
    spec: KeySpec,
    openssl_label: String,
}

fn pkey(name: &str) -> Option<Pkey> {
    let (spec, label) = match name {
        "sm2" => (KeySpec::Sm2, " 256 bits SM2 (CurveSM2)".to_string()),
        "rsa2048" => (KeySpec::Rsa2048, "rsa 2048 bits".to_string()),
        "rsa3072" => (KeySpec::Rsa3072, "rsa 3072 bits".to_string()),
        "rsa4096" => (KeySpec::Rsa4096, "rsa 4096 bits".to_string()),
        "ecdsap256" => (KeySpec::EcP256, " 256 bits ecdsa (nistp256)".to_string()),
        "ecdsap384" => (KeySpec::EcP384, " 384 bits ecdsa (nistp384)".to_string()),
        _ => return None,
    };
    Some(Pkey {
        name: ALL.iter().copied().find(|a| *a == name)?,
        spec,
        openssl_label: label,
    })
}

pub(crate) fn run(args: &BenchArgs, json_out: bool) -> Result<Outcome> {
    let names: Vec<String> = if args.algorithms.is_empty() {
        ALL.iter().map(|s| s.to_string()).collect()
    } else {
        args.algorithms
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect()
    };
    if let Some(bad) = names.iter().find(|n| !ALL.contains(&n.as_str())) {
        bail!(
            "unknown algorithm \"{bad}\"; choose from: {}",
            ALL.join(" ")
        );
    }
    if !(0.05..=60.0).contains(&args.seconds) {
        bail!("--seconds must be between 0.05 and 60");
    }
    let mut records = Vec::new();
    let mut printed_hash_header = false;
    let msg = [0x5au8; 32];
    for name in &names {
        if let Some(p) = pkey(name) {
            let key = PrivateKey::generate(p.spec)?;
            let scheme = key.algorithm().default_signature_scheme();
            let sig = key.sign(&scheme, &msg)?;
            let sign = rate(args.seconds, || Ok(key.sign(&scheme, &msg).map(|_| ())?))?;
            let verify = rate(args.seconds, || {
                Ok(key.public_key().verify(&scheme, &msg, &sig)?)
            })?;
            let mut rec = json!({"algorithm": p.name, "sign_per_s": sign, "verify_per_s": verify});
            let enc = match key.algorithm().default_encryption_scheme() {
                Ok(es) => {
                    let ct = key.public_key().encrypt(&es, &msg)?;
                    let e = rate(args.seconds, || {
                        Ok(key.public_key().encrypt(&es, &msg).map(|_| ())?)
                    })?;
                    let d = rate(args.seconds, || Ok(key.decrypt(&es, &ct).map(|_| ())?))?;
                    rec["encrypt_per_s"] = json!(e);
                    rec["decrypt_per_s"] = json!(d);
                    Some((e, d))
                }
                Err(_) => None,
            };
            if !json_out {
                let width = if p.openssl_label.starts_with("rsa") {
                    18
                } else {
                    30
                };
                outln!("{:w$}sign    verify    sign/s verify/s", "", w = width);
                outln!(
                    "{} {:.6}s {:.6}s {:8.1} {:8.1}",
                    p.openssl_label,
                    1.0 / sign,
                    1.0 / verify,
                    sign,
                    verify
                );
                if let Some((e, d)) = enc {
                    outln!("{:w$}encrypt   decrypt   encr./s decr./s", "", w = width);
                    outln!(
                        "{} {:.6}s {:.6}s {:8.1} {:8.1}",
                        p.openssl_label,
                        1.0 / e,
                        1.0 / d,
                        e,
                        d
                    );
                }
            }
            records.push(rec);
            continue;
        }
        // Hashes and ciphers: thousands of bytes per second for each block size.
        let per_size = (args.seconds / 3.0).max(0.05);
        let mut rates = Vec::new();
        for size in BLOCK_SIZES {
            let data = vec![0xa5u8; size];
            let ops = match name.as_str() {
                "sm3" | "sha256" | "sha512" => {
                    let alg: HashAlgorithm = name.parse()?;
                    rate(per_size, || {
                        let mut h = Hasher::new(alg);
                        h.update(&data);
                        std::hint::black_box(h.finish());
                        Ok(())
                    })?
                }
                _ => {
                    let (alg, gcm) = match name.as_str() {
                        "sm4-cbc" => (SymmetricAlgorithm::Sm4, false),
                        "sm4-gcm" => (SymmetricAlgorithm::Sm4, true),
                        "aes-128-gcm" => (SymmetricAlgorithm::Aes128, true),
                        _ => (SymmetricAlgorithm::Aes256, true),
                    };
                    let key = SymmetricKey::generate(alg)?;
                    if gcm {
                        rate(per_size, || {
                            Ok(key.gcm_seal(&[0u8; 12], b"", &data).map(|_| ())?)
                        })?
                    } else {
                        rate(per_size, || {
                            Ok(key.cbc_encrypt(&[0u8; 16], &data).map(|_| ())?)
                        })?
                    }
                }
            };
            rates.push(ops * size as f64 / 1000.0);
        }
        if !json_out {
            if !printed_hash_header {
                outln!("The 'numbers' are in 1000s of bytes per second processed.");
                outln!(
                    "type             16 bytes     64 bytes    256 bytes   1024 bytes   8192 bytes  16384 bytes"
                );
                printed_hash_header = true;
            }
            let cells: String = rates.iter().map(|r| format!("{:>12.2}k", r)).collect();
            outln!("{:<12}{cells}", name);
        }
        records.push(json!({"algorithm": name, "kilobytes_per_s": BLOCK_SIZES.iter().zip(&rates).map(|(s, r)| json!({"block": s, "k_per_s": r})).collect::<Vec<_>>()}));
    }
    if json_out {
        outln!("{}", serde_json::Value::Array(records));
    }
    Ok(Outcome::Done)
}
