//! `yinxin cms bench`: throughput of CMS signing and verification (attached SignedData) and of
//! digital envelopes (EnvelopedData seal and open) for 1 KB and 10 MB payloads, per key type.
//! `scripts/bench-cms.sh` runs it beside `openssl cms` on the same payloads (BENCHMARKS.md).

use std::time::{Duration, Instant, SystemTime};

use anyhow::{Result, bail};
use serde_json::json;
use yinxin_cms::algorithm::ContentCipher;
use yinxin_cms::enveloped_data::{self, Recipient, SealOptions};
use yinxin_cms::signed_data::{self, SignOptions, SignerSpec, VerifyOptions};
use yinxin_crypto::{KeyAlgorithm, KeySpec, PrivateKey};
use yinxin_pki::certificate::{self, Certificate};
use yinxin_pki::issue::{IssueParams, issue};
use yinxin_pki::profile::{KeyRole, Profile};

use crate::Outcome;
use crate::cms_commands::CmsBenchArgs;

const KEYS: [(&str, KeySpec); 3] = [
    ("sm2", KeySpec::Sm2),
    ("rsa2048", KeySpec::Rsa2048),
    ("ecdsap256", KeySpec::EcP256),
];
const SIZES: [(&str, usize); 2] = [("1KB", 1024), ("10MB", 10 * 1024 * 1024)];

/// A root, a signing certificate and an encryption certificate for one key type.
struct Identity {
    root: Certificate,
    signing_key: PrivateKey,
    signing_cert: Certificate,
    encryption_key: PrivateKey,
    encryption_cert_der: Vec<u8>,
}

fn identity(spec: KeySpec) -> Result<Identity> {
    let now = SystemTime::now();
    let year = Duration::from_secs(365 * 86_400);
    let root_key = PrivateKey::generate(spec)?;
    let scheme = root_key.algorithm().default_signature_scheme();
    let root = issue(
        None,
        &root_key,
        &scheme,
        &IssueParams::new(
            yinxin_pki::name::parse("CN=yinxin bench root,O=yinxin,C=CN")?,
            root_key.public_key().clone(),
            vec![1],
            now - Duration::from_secs(60),
            now + year,
            Profile::RootCa,
        ),
    )?;
    let leaf = |serial: u8, role: KeyRole, cn: &str| -> Result<(PrivateKey, Certificate)> {
        // EC keys cannot be encryption keys of a dual pair; they sign only and receive
        // envelopes by ECDH, so both certificates are issued under the signing role.
        let role = match spec.algorithm() {
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => KeyRole::Signing,
            _ => role,
        };
        let key = PrivateKey::generate(spec)?;
        let cert = issue(
            Some(&root),
            &root_key,
            &scheme,
            &IssueParams::new(
                yinxin_pki::name::parse(&format!("CN={cn},O=yinxin,C=CN"))?,
                key.public_key().clone(),
                vec![serial],
                now - Duration::from_secs(60),
                now + year / 2,
                Profile::Organisation { role },
            ),
        )?;
        Ok((key, cert))
    };
    let (signing_key, signing_cert) = leaf(2, KeyRole::Signing, "bench signer")?;
    let (encryption_key, encryption_cert) = leaf(3, KeyRole::Encryption, "bench recipient")?;
    Ok(Identity {
        root,
        signing_key,
        signing_cert,
        encryption_key,
        encryption_cert_der: certificate::to_der(&encryption_cert)?,
    })
}

/// Run `op` for about `secs` (at least twice), returning operations per second.
fn rate(secs: f64, mut op: impl FnMut() -> Result<()>) -> Result<f64> {
    let limit = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut n: u64 = 0;
    while n < 2 || start.elapsed() < limit {
        op()?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub(crate) fn run(args: &CmsBenchArgs, json_out: bool) -> Result<Outcome> {
    if !(0.05..=60.0).contains(&args.seconds) {
        bail!("--seconds must be between 0.05 and 60");
    }
    let wanted: Vec<String> = args
        .algorithms
        .iter()
        .map(|a| a.to_ascii_lowercase())
        .collect();
    if let Some(bad) = wanted.iter().find(|w| !KEYS.iter().any(|(n, _)| n == w)) {
        bail!("unknown key type \"{bad}\"; choose from: sm2 rsa2048 ecdsap256");
    }
    let mut records = Vec::new();
    if !json_out {
        outln!(
            "{:<10} {:>6} {:>12} {:>12} {:>12} {:>12}   (operations/s; MB/s for 10MB)",
            "key",
            "size",
            "sign",
            "verify",
            "encrypt",
            "decrypt"
        );
    }
    for (name, spec) in KEYS {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == name) {
            continue;
        }
        let id = identity(spec)?;
        let roots = [id.root.clone()];
        let verify_options = VerifyOptions::new(&roots);
        let recipient = Recipient::by_certificate(&id.encryption_cert_der)?;
        // What `yinxin cms encrypt` writes by default: an AuthEnvelopedData, SM4-GCM for SM2
        // recipients and AES-256-GCM otherwise (OpenSSL's side runs -aes-256-gcm).
        let seal_options = SealOptions::default().with_cipher(match spec.algorithm() {
            KeyAlgorithm::Sm2 => ContentCipher::Sm4Gcm,
            _ => ContentCipher::Aes256Gcm,
        });
        for (size_name, size) in SIZES {
            let content = vec![0x5au8; size];
            let spec_ = SignerSpec::new(&id.signing_key, &id.signing_cert);
            let sign_options = SignOptions::default();
            let signed = signed_data::sign(&content, std::slice::from_ref(&spec_), &sign_options)?;
            let report = signed_data::verify(&signed, None, &verify_options)?;
            if !report.is_valid() {
                bail!(
                    "{name}: the benchmark's own signature does not verify: {:?}",
                    report.first_problem()
                );
            }
            let sign = rate(args.seconds, || {
                signed_data::sign(&content, std::slice::from_ref(&spec_), &sign_options)?;
                Ok(())
            })?;
            let verify = rate(args.seconds, || {
                signed_data::verify(&signed, None, &verify_options)?;
                Ok(())
            })?;
            let recipients = std::slice::from_ref(&recipient);
            let envelope = enveloped_data::seal_message(&content, recipients, &seal_options)?;
            let encrypt = rate(args.seconds, || {
                enveloped_data::seal_message(&content, recipients, &seal_options)?;
                Ok(())
            })?;
            let decrypt = rate(args.seconds, || {
                enveloped_data::open_message(&envelope, &id.encryption_key, None)?;
                Ok(())
            })?;
            let mb = size as f64 / 1e6;
            records.push(json!({
                "key": name, "size": size, "sign_per_s": sign, "verify_per_s": verify,
                "encrypt_per_s": encrypt, "decrypt_per_s": decrypt,
                "sign_mb_per_s": sign * mb, "verify_mb_per_s": verify * mb,
                "encrypt_mb_per_s": encrypt * mb, "decrypt_mb_per_s": decrypt * mb,
            }));
            if !json_out {
                let cell = |r: f64| {
                    if size >= 1 << 20 {
                        format!("{:.1} MB/s", r * mb)
                    } else {
                        format!("{r:.0}")
                    }
                };
                outln!(
                    "{:<10} {:>6} {:>12} {:>12} {:>12} {:>12}",
                    name,
                    size_name,
                    cell(sign),
                    cell(verify),
                    cell(encrypt),
                    cell(decrypt)
                );
            }
        }
    }
    if json_out {
        outln!("{}", json!({"cms": records}));
    }
    Ok(Outcome::Done)
}
