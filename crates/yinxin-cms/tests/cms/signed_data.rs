//! `SignedData` and RFC 3161 timestamps against the OpenSSL 3 command line, the GM/T 0010
//! fixed vector, tampering and bad input. BouncyCastle (SM2) is in `yinxin-interop-tests`
//! (`bc_cms.rs`).
//!
//! Certificates come from `yinxin_pki::issue`: one root CA per key type and leaves under it
//! (signers with the organisation profile, TSAs with the time-stamping profile whose EKU is
//! critical). OpenSSL verifies with `-purpose any` because the signers carry clientAuth.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::Encode;
use yinxin_crypto::{KeyHandle, KeySpec, PrivateKey, Signer};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::issue::{IssueParams, issue};
use yinxin_pki::name;
use yinxin_pki::profile::{KeyRole, Profile};

#[path = "signed_data/gmt0010.rs"]
mod gmt0010;
#[path = "signed_data/openssl_cms.rs"]
mod openssl_cms;
#[path = "signed_data/openssl_ts.rs"]
mod openssl_ts;
#[path = "signed_data/properties.rs"]
mod properties;
#[path = "signed_data/tampering.rs"]
mod tampering;

use super::Workdir;

impl Workdir {
    /// Write a certificate as PEM.
    fn write_cert(&self, name: &str, cert: &Certificate) {
        self.write(name, cert_pem(cert));
    }

    /// Write a private key as PKCS#8 PEM.
    fn write_key(&self, name: &str, key: &PrivateKey) {
        self.write(name, key.to_pkcs8_pem(None).unwrap().as_bytes());
    }
}

const DAY: Duration = Duration::from_secs(86_400);

fn cert_pem(cert: &Certificate) -> String {
    yinxin_crypto::pem::encode("CERTIFICATE", &cert.to_der().unwrap())
}

/// Whole seconds, as certificates carry time.
fn now() -> SystemTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A key with its handle.
#[derive(Clone, Debug)]
struct Key {
    private: Arc<PrivateKey>,
    handle: Arc<KeyHandle>,
}

impl Key {
    fn generate(spec: KeySpec) -> Self {
        Self::from(PrivateKey::generate(spec).unwrap())
    }

    fn signer(&self) -> Arc<dyn Signer> {
        self.handle.clone()
    }
}

impl From<PrivateKey> for Key {
    fn from(key: PrivateKey) -> Self {
        let private = Arc::new(key);
        Key {
            handle: Arc::new(KeyHandle::new(private.clone())),
            private,
        }
    }
}

/// A root CA and what it issues.
#[derive(Clone, Debug)]
struct Pki {
    root_key: Key,
    root: Certificate,
}

impl Pki {
    fn new(spec: KeySpec, cn: &str) -> Self {
        let root_key = Key::generate(spec);
        let params = IssueParams::new(
            name::parse(&format!("CN={cn},O=yinxin tests,C=CN")).unwrap(),
            root_key.private.public_key().clone(),
            vec![0x01],
            now() - DAY,
            now() + 3650 * DAY,
            Profile::RootCa,
        );
        let scheme = root_key.private.algorithm().default_signature_scheme();
        let root = issue(None, root_key.handle.as_ref(), &scheme, &params).unwrap();
        Pki { root_key, root }
    }

    /// Issue a certificate of `profile` for `key`.
    fn issue(&self, key: &Key, cn: &str, serial: u64, profile: Profile) -> Certificate {
        self.issue_with(key, cn, serial, profile, now() + 365 * DAY)
    }

    fn issue_with(
        &self,
        key: &Key,
        cn: &str,
        serial: u64,
        profile: Profile,
        not_after: SystemTime,
    ) -> Certificate {
        let params = IssueParams::new(
            name::parse(&format!("CN={cn},O=yinxin tests,C=CN")).unwrap(),
            key.private.public_key().clone(),
            serial.to_be_bytes().to_vec(),
            now() - DAY,
            not_after,
            profile,
        );
        let scheme = self.root_key.private.algorithm().default_signature_scheme();
        issue(
            Some(&self.root),
            self.root_key.handle.as_ref(),
            &scheme,
            &params,
        )
        .unwrap()
    }

    /// A signer (organisation, signing role).
    fn signer(&self, spec: KeySpec, cn: &str, serial: u64) -> (Key, Certificate) {
        let key = Key::generate(spec);
        let cert = self.issue(
            &key,
            cn,
            serial,
            Profile::Organisation {
                role: KeyRole::Signing,
            },
        );
        (key, cert)
    }

    /// A time-stamping authority.
    fn tsa(&self, spec: KeySpec, cn: &str, serial: u64) -> (Key, Certificate) {
        let key = Key::generate(spec);
        let cert = self.issue(&key, cn, serial, Profile::TimeStamping);
        (key, cert)
    }
}

/// One PKI per key type, made once (RSA key generation is slow in debug builds).
fn pki(spec: KeySpec) -> &'static Pki {
    static RSA: OnceLock<Pki> = OnceLock::new();
    static EC: OnceLock<Pki> = OnceLock::new();
    static SM2: OnceLock<Pki> = OnceLock::new();
    match spec {
        KeySpec::Rsa2048 => RSA.get_or_init(|| Pki::new(spec, "RSA Root")),
        KeySpec::EcP256 => EC.get_or_init(|| Pki::new(spec, "EC Root")),
        KeySpec::Sm2 => SM2.get_or_init(|| Pki::new(spec, "SM2 Root")),
        _ => panic!("no PKI for {spec}"),
    }
}

/// A fixed pseudo-random byte stream (xorshift), for the bad-input loops.
struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Where `needle` starts in `haystack` (once).
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    let at: Vec<usize> = haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "expected the bytes exactly once");
    at[0]
}
