//! Signatures and verifications per second on one core, for this crate and, for comparison,
//! RustCrypto's `sm2` (as `yinxin-crypto` uses it today), measured the same way in the same run.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/sm2-target cargo run --release -p yinxin-sm2 --example speed [seconds]
//! ```
//!
//! Each operation runs for the given time (default 2.5 s) in batches of about 10 ms. The first
//! column is the overall mean rate; the second is the median batch rate, which is robust
//! against other processes stealing the core for part of the run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};

/// Runs `op` for `secs` seconds; returns (mean, median batch) operations per second.
fn rate(secs: f64, mut op: impl FnMut(usize)) -> (f64, f64) {
    // Warm up (and build lazily initialised tables), then size batches to about 10 ms.
    let start = Instant::now();
    let mut warm = 0;
    while warm < 20 || start.elapsed() < Duration::from_millis(100) {
        op(warm);
        warm += 1;
    }
    let batch = ((warm as f64 / start.elapsed().as_secs_f64()) / 100.0).ceil() as usize;
    let budget = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut count = 0usize;
    let mut batches = Vec::new();
    while start.elapsed() < budget {
        let t = Instant::now();
        for _ in 0..batch {
            op(count);
            count += 1;
        }
        batches.push(batch as f64 / t.elapsed().as_secs_f64());
    }
    batches.sort_by(f64::total_cmp);
    (
        count as f64 / start.elapsed().as_secs_f64(),
        batches[batches.len() / 2],
    )
}

fn line(name: &str, (mean, median): (f64, f64)) {
    println!("{name:<40} {mean:>10.0}/s {median:>10.0}/s");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(2.5);
    let mut messages = vec![[0u8; 32]; 256];
    for m in &mut messages {
        getrandom::fill(m)?;
    }
    // 256 different keys for the verification of fresh (uncached) keys.
    let secrets: Vec<yinxin_sm2::SecretKey> = (0..256)
        .map(|_| yinxin_sm2::SecretKey::generate())
        .collect::<Result<_, _>>()?;
    let publics: Vec<_> = secrets
        .iter()
        .map(yinxin_sm2::SecretKey::public_key)
        .collect();
    let signers: Vec<_> = secrets.iter().map(yinxin_sm2::SigningKey::new).collect();
    let sigs: Vec<_> = signers
        .iter()
        .zip(&messages)
        .map(|(k, e)| k.sign_prehash(e))
        .collect::<Result<_, _>>()?;

    println!("{:<40} {:>12} {:>12}", "", "mean", "median");
    let signer = &signers[0];
    let sign = rate(secs, |i| {
        black_box(signer.sign_prehash(&messages[i % 256]).ok());
    });
    line("yinxin-sm2 sign_prehash", sign);
    let verify = rate(secs, |i| {
        let j = i % 256;
        assert!(yinxin_sm2::verify_prehash(&publics[j], &messages[j], &sigs[j]).is_ok());
    });
    line("yinxin-sm2 verify_prehash (fresh key)", verify);
    let verifier = yinxin_sm2::VerifyingKey::new(publics[0]);
    let own: Vec<_> = messages
        .iter()
        .map(|e| signer.sign_prehash(e))
        .collect::<Result<_, _>>()?;
    let cached = rate(secs, |i| {
        assert!(
            verifier
                .verify_prehash(&messages[i % 256], &own[i % 256])
                .is_ok()
        );
    });
    line("yinxin-sm2 VerifyingKey::verify_prehash", cached);
    line(
        "yinxin-sm2 VerifyingKey::new",
        rate(secs / 2.0, |i| {
            black_box(yinxin_sm2::VerifyingKey::new(publics[i % 256]));
        }),
    );
    line(
        "yinxin-sm2 SecretKey::public_key (d G)",
        rate(secs / 2.0, |i| {
            black_box(secrets[i % 256].public_key());
        }),
    );
    line(
        "yinxin-sm2 PublicKey::mul_secret (k P)",
        rate(secs / 2.0, |i| {
            black_box(publics[i % 256].mul_secret(&secrets[(i + 1) % 256]));
        }),
    );

    // RustCrypto sm2 with the same key, messages and random nonces.
    let rc_secret = sm2::SecretKey::from_slice(secrets[0].to_bytes().as_ref())?;
    let rc_signer = sm2::dsa::SigningKey::new("1234567812345678", &rc_secret)?;
    let rc_verifier = rc_signer.verifying_key().clone();
    let rc_sigs: Vec<sm2::dsa::Signature> = messages
        .iter()
        .map(|e| rc_signer.sign_prehash_with_rng(&mut getrandom::SysRng, e))
        .collect::<Result<_, _>>()?;
    let rc_sign = rate(secs, |i| {
        black_box(
            rc_signer
                .sign_prehash_with_rng(&mut getrandom::SysRng, &messages[i % 256])
                .ok(),
        );
    });
    line("RustCrypto sm2 sign_prehash_with_rng", rc_sign);
    let rc_verify = rate(secs, |i| {
        assert!(
            rc_verifier
                .verify_prehash(&messages[i % 256], &rc_sigs[i % 256])
                .is_ok()
        );
    });
    line("RustCrypto sm2 verify_prehash", rc_verify);
    println!(
        "speed-up (median): sign {:.1}x, verify {:.1}x (fresh key), {:.1}x (VerifyingKey)",
        sign.1 / rc_sign.1,
        verify.1 / rc_verify.1,
        cached.1 / rc_verify.1
    );
    Ok(())
}
