//! The key vault's core (证书密码服务器): a master key that no single administrator holds,
//! and server-side keys kept wrapped under it, used only through handles.
//!
//! ```text
//!   UnsealedVault::initialise(k, n) ──▶ (UnsealedVault, n × Share, VaultConfig)
//!   SealedVault::new(config) ──add_share × k──▶ Unsealed(UnsealedVault)  (k−1 ⇒ NeedMore)
//!   UnsealedVault::generate_key(label, spec) ──▶ WrappedKey (store it) + PublicKey
//!   UnsealedVault::signer(&WrappedKey) ──▶ Arc<dyn Signer>  (the CA, OCSP, TSA sign with it)
//!   UnsealedVault::seal() ──▶ SealedVault  (the master key is zeroized)
//! ```
//!
//! The states are types: a [`SealedVault`] has no method that touches keys, so a sealed
//! server cannot sign. The master key is 32 random bytes split with Shamir k-of-n
//! ([`yinxin_crypto::shamir`]); the [`VaultConfig`] kept beside the wrapped keys holds only k,
//! n and a check value (HMAC-SM3 of a fixed label under the master key) that tells a right set
//! of shares from a wrong or short one. Keys are wrapped with SM4-GCM under a key derived from
//! the master key, with the key's label and algorithm as associated data, so a wrapped key
//! cannot be swapped for another label's. Persistence is the store's job: this crate turns
//! keys into [`WrappedKey`] values and back, and does no IO.
#![forbid(unsafe_code)]

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use yinxin_crypto::shamir::{self, Share};
use yinxin_crypto::{
    Decrypter, HashAlgorithm, KeyHandle, KeySpec, PrivateKey, PublicKey, Signer,
    SymmetricAlgorithm, SymmetricKey, hash, random,
};
use zeroize::Zeroizing;

const MASTER_KEY_LEN: usize = 32;
const CHECK_LABEL: &[u8] = b"yinxin-vault/check/v1";
const WRAP_LABEL: &[u8] = b"yinxin-vault/wrap/v1";
const COMMITMENT_DOMAIN: &[u8] = b"yinxin-share-commitment-v1";

/// What can go wrong in the vault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The shares given rebuild a key that is not this vault's master key: a share is wrong,
    /// mistyped, or from another vault.
    #[error("these shares do not unseal this vault (a share is wrong or belongs to another vault)")]
    WrongShares,
    /// A share was given twice.
    #[error("share {0} was already given")]
    DuplicateShare(u8),
    /// A share made for another threshold.
    #[error("the share is for a {got}-of-n vault; this vault needs {need}")]
    ThresholdMismatch {
        /// The share's threshold.
        got: u8,
        /// The vault's threshold.
        need: u8,
    },
    /// The share's index is not one of this vault's (1 to n), or its value has the wrong
    /// length: it cannot belong.
    #[error(
        "this is not a share of this vault (index {index} of {shares}, or a value of the wrong length)"
    )]
    ShareOutOfRange {
        /// The share's index.
        index: u8,
        /// The vault's number of shares.
        shares: u8,
    },
    /// The share does not match the commitment stored for its index: forged, mistyped past
    /// its check digits, or from another vault. It was not taken.
    #[error("this share does not belong to this vault (it matches no share made for it)")]
    ForeignShare,
    /// A k-of-n choice outside 1-of-1 or 2 ≤ k ≤ n ≤ 255.
    #[error("a {k}-of-{n} vault is not allowed (use 1-of-1 for trials, else 2 <= k <= n <= 255)")]
    BadThreshold {
        /// k.
        k: u8,
        /// n.
        n: u8,
    },
    /// A wrapped key does not open under this vault's master key (corrupted, or another
    /// vault's, or its label was changed).
    #[error("wrapped key \"{0}\" does not open with this vault's master key")]
    Unwrap(String),
    /// A key label breaks the rules.
    #[error("invalid key label: {0}")]
    Label(&'static str),
    /// A key could not be sealed for delivery.
    #[error("cannot deliver the key: {0}")]
    Delivery(String),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(#[from] yinxin_crypto::Error),
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, VaultError>;

/// What a vault keeps in clear about itself: enough to check shares, nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultConfig {
    /// Shares needed to unseal.
    pub threshold: u8,
    /// Shares made.
    pub shares: u8,
    /// HMAC-SM3 under the master key of a fixed label, hex.
    pub check: String,
    /// Commitments to each share, so each is checked on its own when it arrives. Absent in
    /// vaults made before they existed: [`SealedVault::add_share`] adds them at the next
    /// successful unseal (the caller stores the new configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitments: Option<ShareCommitments>,
}

/// Per-share commitments of a vault: `SM3("yinxin-share-commitment-v1" ‖ vault id ‖ k ‖ index
/// ‖ value)` (length-prefixed, [`Share::commitment`]) for each index 1..=n. The vault id is
/// random, so a share of another vault never matches even with the same index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareCommitments {
    /// 16 random bytes, hex.
    pub vault_id: String,
    /// The commitment to share i+1, hex.
    pub values: Vec<String>,
}

impl ShareCommitments {
    fn domain(vault_id: &str) -> Vec<u8> {
        let mut d = COMMITMENT_DOMAIN.to_vec();
        d.extend_from_slice(vault_id.as_bytes());
        d
    }

    fn of(shares: &[Share]) -> Result<ShareCommitments> {
        let vault_id = hex::encode(random::bytes(16)?);
        let domain = Self::domain(&vault_id);
        Ok(ShareCommitments {
            values: shares
                .iter()
                .map(|s| hex::encode(s.commitment(&domain)))
                .collect(),
            vault_id,
        })
    }

    fn matches(&self, share: &Share) -> bool {
        let Some(expected) = self
            .values
            .get(usize::from(share.index()).wrapping_sub(1))
            .and_then(|h| hex::decode(h).ok())
        else {
            return false;
        };
        bool::from(share.commitment(&Self::domain(&self.vault_id))[..].ct_eq(&expected))
    }
}

/// A vault whose master key is not in memory. It can collect shares and nothing else.
#[derive(Debug)]
pub struct SealedVault {
    config: VaultConfig,
    given: Vec<Share>,
}

/// The outcome of giving a share to a sealed vault.
#[derive(Debug)]
pub enum UnsealProgress {
    /// More shares are needed.
    NeedMore {
        /// The vault, still sealed, holding the shares so far.
        vault: SealedVault,
        /// Shares given so far.
        have: u8,
        /// Shares needed.
        need: u8,
    },
    /// The vault is open.
    Unsealed(UnsealedVault),
}

impl SealedVault {
    /// A sealed vault for a stored configuration.
    pub fn new(config: VaultConfig) -> Self {
        SealedVault {
            config,
            given: Vec::new(),
        }
    }

    /// The vault's configuration.
    pub fn config(&self) -> &VaultConfig {
        &self.config
    }

    /// Shares given so far.
    pub fn shares_given(&self) -> u8 {
        self.given.len() as u8
    }

    /// Whether `share` could be given now: made for this vault's threshold and not given
    /// already. Checking first lets a caller refuse a bad share without losing the shares
    /// collected so far.
    pub fn check_share(&self, share: &Share) -> Result<()> {
        if share.index() == 0 || share.index() > self.config.shares || share.len() != MASTER_KEY_LEN
        {
            return Err(VaultError::ShareOutOfRange {
                index: share.index(),
                shares: self.config.shares,
            });
        }
        if share.threshold() != self.config.threshold {
            return Err(VaultError::ThresholdMismatch {
                got: share.threshold(),
                need: self.config.threshold,
            });
        }
        if let Some(c) = &self.config.commitments
            && !c.matches(share)
        {
            return Err(VaultError::ForeignShare);
        }
        if self.given.iter().any(|s| s.index() == share.index()) {
            return Err(VaultError::DuplicateShare(share.index()));
        }
        Ok(())
    }

    /// Whether `share` is one of this vault's, by its commitment (`None` when this vault has
    /// no commitments yet). Used on an unsealed server, where a share changes nothing but
    /// its caller should still learn that it is not this vault's.
    pub fn share_belongs(config: &VaultConfig, share: &Share) -> Option<bool> {
        config.commitments.as_ref().map(|c| {
            share.index() >= 1
                && share.index() <= config.shares
                && share.threshold() == config.threshold
                && c.matches(share)
        })
    }

    /// Give one administrator's share. With the k-th share the master key is rebuilt and
    /// checked; a wrong set of shares is refused and forgotten, so unsealing starts over.
    pub fn add_share(mut self, share: Share) -> Result<UnsealProgress> {
        self.check_share(&share)?;
        self.given.push(share);
        let have = self.given.len() as u8;
        if have < self.config.threshold {
            return Ok(UnsealProgress::NeedMore {
                need: self.config.threshold,
                have,
                vault: self,
            });
        }
        let master = shamir::combine(&self.given)?;
        if master.len() != MASTER_KEY_LEN
            || !bool::from(
                check_value(&master)
                    .as_bytes()
                    .ct_eq(self.config.check.as_bytes()),
            )
        {
            return Err(VaultError::WrongShares);
        }
        let mut config = self.config;
        if config.commitments.is_none() {
            // A vault from before commitments: the k right shares rebuild all n.
            let all = (1..=config.shares)
                .map(|i| shamir::share_at(&self.given, i))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            config.commitments = Some(ShareCommitments::of(&all)?);
        }
        Ok(UnsealProgress::Unsealed(UnsealedVault {
            wrapping: wrapping_key(&master)?,
            config,
        }))
    }
}

/// An open vault: it wraps new keys and hands out handles for wrapped ones.
pub struct UnsealedVault {
    config: VaultConfig,
    wrapping: SymmetricKey,
}

impl std::fmt::Debug for UnsealedVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "UnsealedVault({}-of-{}, <redacted>)",
            self.config.threshold, self.config.shares
        )
    }
}

fn check_value(master: &[u8]) -> String {
    hex::encode(hash::hmac(HashAlgorithm::Sm3, master, CHECK_LABEL))
}

fn wrapping_key(master: &[u8]) -> Result<SymmetricKey> {
    let derived = Zeroizing::new(hash::hmac(HashAlgorithm::Sm3, master, WRAP_LABEL));
    Ok(SymmetricKey::from_bytes(
        SymmetricAlgorithm::Sm4,
        &derived[..16],
    )?)
}

/// A key as the store keeps it: its label, algorithm and public key in clear, the private
/// key (PKCS#8) or secret sealed with SM4-GCM under the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// The key's name in the vault (e.g. "ca/sm2-issuing", "ocsp/rsa-issuing").
    pub label: String,
    /// What kind of key: a [`KeySpec`] name ("sm2", "rsa2048", …) or "sm4"/"aes256".
    pub kind: String,
    /// The public key (SPKI DER, hex); empty for symmetric keys.
    pub public_key: String,
    /// The GCM nonce, hex.
    pub nonce: String,
    /// The sealed key, hex.
    pub sealed: String,
}

impl WrappedKey {
    /// The public key of an asymmetric wrapped key.
    pub fn public_key(&self) -> Result<PublicKey> {
        let der =
            hex::decode(&self.public_key).map_err(|_| VaultError::Unwrap(self.label.clone()))?;
        Ok(PublicKey::from_der(&der)?)
    }

    fn aad(&self) -> Vec<u8> {
        format!("yinxin-vault/key/{}/{}", self.label, self.kind).into_bytes()
    }
}

fn check_label(label: &str) -> Result<()> {
    if label.is_empty() || label.len() > 128 {
        return Err(VaultError::Label("1 to 128 bytes"));
    }
    if label.chars().any(|c| c.is_control()) {
        return Err(VaultError::Label("no control characters"));
    }
    Ok(())
}

impl UnsealedVault {
    /// Create a vault: a fresh master key split into `n` shares, any `k` of which unseal it.
    /// Returns the open vault, the shares (hand one to each administrator, then forget them)
    /// and the configuration to store.
    pub fn initialise(k: u8, n: u8) -> Result<(UnsealedVault, Vec<Share>)> {
        if k == 0 || k > n || (k == 1 && n > 1) {
            return Err(VaultError::BadThreshold { k, n });
        }
        let master = Zeroizing::new(random::bytes(MASTER_KEY_LEN)?);
        let shares = shamir::split(&master, k, n)?;
        let config = VaultConfig {
            threshold: k,
            shares: n,
            check: check_value(&master),
            commitments: Some(ShareCommitments::of(&shares)?),
        };
        Ok((
            UnsealedVault {
                wrapping: wrapping_key(&master)?,
                config,
            },
            shares,
        ))
    }

    /// The configuration to store beside the wrapped keys.
    pub fn config(&self) -> &VaultConfig {
        &self.config
    }

    /// Seal: the master key leaves memory (zeroized on drop).
    pub fn seal(self) -> SealedVault {
        SealedVault::new(self.config.clone())
    }

    fn wrap(
        &self,
        label: &str,
        kind: &str,
        public_key: String,
        secret: &[u8],
    ) -> Result<WrappedKey> {
        check_label(label)?;
        let nonce = random::bytes(12)?;
        let mut w = WrappedKey {
            label: label.to_string(),
            kind: kind.to_string(),
            public_key,
            nonce: hex::encode(&nonce),
            sealed: String::new(),
        };
        w.sealed = hex::encode(self.wrapping.gcm_seal(&nonce, &w.aad(), secret)?);
        Ok(w)
    }

    fn unwrap(&self, w: &WrappedKey) -> Result<Zeroizing<Vec<u8>>> {
        let bad = || VaultError::Unwrap(w.label.clone());
        let nonce = hex::decode(&w.nonce).map_err(|_| bad())?;
        let sealed = hex::decode(&w.sealed).map_err(|_| bad())?;
        self.wrapping
            .gcm_open(&nonce, &w.aad(), &sealed)
            .map_err(|_| bad())
    }

    /// Generate an asymmetric key inside the vault. The private key exists in clear only in
    /// this process's memory; callers store the returned [`WrappedKey`].
    pub fn generate_key(&self, label: &str, spec: KeySpec) -> Result<WrappedKey> {
        let key = PrivateKey::generate(spec)?;
        let pkcs8 = key.to_pkcs8_der()?;
        self.wrap(
            label,
            spec.name(),
            hex::encode(key.public_key().to_der()),
            &pkcs8,
        )
    }

    /// Generate a symmetric key (SM4 or AES-256) inside the vault.
    pub fn generate_symmetric(
        &self,
        label: &str,
        algorithm: SymmetricAlgorithm,
    ) -> Result<WrappedKey> {
        let key = SymmetricKey::generate(algorithm)?;
        let kind = match algorithm {
            SymmetricAlgorithm::Sm4 => "sm4",
            SymmetricAlgorithm::Aes128 => "aes128",
            SymmetricAlgorithm::Aes256 => "aes256",
        };
        self.wrap(label, kind, String::new(), key.expose_secret())
    }

    fn private_key(&self, w: &WrappedKey) -> Result<Arc<PrivateKey>> {
        let der = self.unwrap(w)?;
        let key = PrivateKey::from_der(&der)?;
        if hex::encode(key.public_key().to_der()) != w.public_key {
            return Err(VaultError::Unwrap(w.label.clone()));
        }
        Ok(Arc::new(key))
    }

    /// A signing handle for a wrapped key.
    pub fn signer(&self, w: &WrappedKey) -> Result<Arc<dyn Signer>> {
        Ok(Arc::new(KeyHandle::new(self.private_key(w)?)))
    }

    /// A decryption handle for a wrapped key.
    pub fn decrypter(&self, w: &WrappedKey) -> Result<Arc<dyn Decrypter>> {
        Ok(Arc::new(KeyHandle::new(self.private_key(w)?)))
    }

    /// Seal the wrapped key `w` for delivery to the holder of `recipient` (the signing key of
    /// a user's token): GB/T 35276 SM2EnvelopedKey for SM2, CMS EnvelopedData for RSA. The
    /// key is in clear only inside this call; this is how escrowed encryption keys of dual
    /// certificates reach tokens and how recovered keys leave the vault.
    pub fn deliver_key(
        &self,
        w: &WrappedKey,
        recipient: &PublicKey,
    ) -> Result<yinxin_cms::key_delivery::DeliveredKey> {
        let key = self.private_key(w)?;
        yinxin_cms::key_delivery::seal(recipient, &key)
            .map_err(|e| VaultError::Delivery(e.to_string()))
    }

    /// Open a wrapped symmetric key for use in this process.
    pub fn symmetric(&self, w: &WrappedKey) -> Result<SymmetricKey> {
        let algorithm = match w.kind.as_str() {
            "sm4" => SymmetricAlgorithm::Sm4,
            "aes128" => SymmetricAlgorithm::Aes128,
            "aes256" => SymmetricAlgorithm::Aes256,
            _ => return Err(VaultError::Unwrap(w.label.clone())),
        };
        Ok(SymmetricKey::from_bytes(algorithm, &self.unwrap(w)?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unseal(config: &VaultConfig, shares: &[Share]) -> Result<UnsealProgress> {
        let mut progress = UnsealProgress::NeedMore {
            vault: SealedVault::new(config.clone()),
            have: 0,
            need: config.threshold,
        };
        for s in shares {
            progress = match progress {
                UnsealProgress::NeedMore { vault, .. } => vault.add_share(s.clone())?,
                done => return Ok(done),
            };
        }
        Ok(progress)
    }

    #[test]
    fn k_shares_unseal_and_k_minus_1_do_not() {
        let (open, shares) = UnsealedVault::initialise(3, 5).unwrap();
        let config = open.config().clone();
        let key = open.generate_key("ca/sm2", KeySpec::Sm2).unwrap();
        let sealed = open.seal();
        assert_eq!(sealed.shares_given(), 0);
        match unseal(&config, &shares[..2]).unwrap() {
            UnsealProgress::NeedMore {
                have: 2, need: 3, ..
            } => {}
            other => panic!("k-1 shares must not unseal: {other:?}"),
        }
        let UnsealProgress::Unsealed(open) = unseal(&config, &shares[2..5]).unwrap() else {
            panic!("3 shares unseal")
        };
        let signer = open.signer(&key).unwrap();
        let sig = signer.sign_default(b"tbs").unwrap();
        key.public_key()
            .unwrap()
            .verify(&signer.algorithm().default_signature_scheme(), b"tbs", &sig)
            .unwrap();
    }

    #[test]
    fn wrong_or_foreign_shares_are_refused() {
        let (a, shares_a) = UnsealedVault::initialise(2, 3).unwrap();
        let (_, shares_b) = UnsealedVault::initialise(2, 3).unwrap();
        let config = a.config().clone();
        // Another vault's (or a stranger's well-formed) share is refused on arrival, and
        // the real shares given so far stay.
        let sealed = SealedVault::new(config.clone());
        let UnsealProgress::NeedMore { vault, .. } = sealed.add_share(shares_a[0].clone()).unwrap()
        else {
            panic!("1 of 2")
        };
        for foreign in &shares_b {
            assert!(matches!(
                vault.check_share(foreign),
                Err(VaultError::ForeignShare)
            ));
        }
        assert_eq!(vault.shares_given(), 1);
        assert!(matches!(
            vault.add_share(shares_a[2].clone()).unwrap(),
            UnsealProgress::Unsealed(_)
        ));
        // Before commitments existed, a foreign share was only caught at the k-th.
        let mut legacy = config.clone();
        legacy.commitments = None;
        assert!(matches!(
            unseal(&legacy, &[shares_a[0].clone(), shares_b[1].clone()]),
            Err(VaultError::WrongShares)
        ));
        assert!(matches!(
            unseal(&config, &[shares_a[0].clone(), shares_a[0].clone()]),
            Err(VaultError::DuplicateShare(1))
        ));
        let (_, three) = UnsealedVault::initialise(3, 3).unwrap();
        assert!(matches!(
            SealedVault::new(config).add_share(three[0].clone()),
            Err(VaultError::ThresholdMismatch { got: 3, need: 2 })
        ));
        assert!(UnsealedVault::initialise(1, 2).is_err());
        assert!(UnsealedVault::initialise(3, 2).is_err());
        assert!(UnsealedVault::initialise(1, 1).is_ok());
    }

    #[test]
    fn wrapped_keys_are_bound_to_vault_and_label() {
        let (a, _) = UnsealedVault::initialise(1, 1).unwrap();
        let (b, _) = UnsealedVault::initialise(1, 1).unwrap();
        let key = a.generate_key("ocsp/rsa", KeySpec::EcP256).unwrap();
        assert!(a.signer(&key).is_ok());
        assert!(matches!(b.signer(&key), Err(VaultError::Unwrap(_))));
        let mut relabelled = key.clone();
        relabelled.label = "ca/rsa".into();
        assert!(matches!(a.signer(&relabelled), Err(VaultError::Unwrap(_))));
        let mut flipped = key.clone();
        flipped.sealed.replace_range(
            0..1,
            if flipped.sealed.starts_with('0') {
                "1"
            } else {
                "0"
            },
        );
        assert!(a.signer(&flipped).is_err());
        // The stored form is plain JSON and holds no key in clear.
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(serde_json::from_str::<WrappedKey>(&json).unwrap(), key);
        let sym = a
            .generate_symmetric("envelope/sm4", SymmetricAlgorithm::Sm4)
            .unwrap();
        let k = a.symmetric(&sym).unwrap();
        assert!(!sym.sealed.contains(&hex::encode(k.expose_secret())));
        assert!(a.generate_key("", KeySpec::Sm2).is_err());
    }

    #[test]
    fn a_vault_without_commitments_gets_them_at_its_next_unseal() {
        let (a, shares) = UnsealedVault::initialise(3, 5).unwrap();
        let (_, foreign) = UnsealedVault::initialise(3, 5).unwrap();
        let mut legacy = a.config().clone();
        legacy.commitments = None;
        let UnsealProgress::Unsealed(open) = unseal(&legacy, &shares[1..4]).unwrap() else {
            panic!("3 of 5")
        };
        let config = open.config().clone();
        assert!(config.commitments.is_some());
        for s in &shares {
            assert_eq!(SealedVault::share_belongs(&config, s), Some(true));
        }
        for s in &foreign {
            assert_eq!(SealedVault::share_belongs(&config, s), Some(false));
        }
        assert_eq!(SealedVault::share_belongs(&legacy, &shares[0]), None);
        // Out of range or oversized: refused before anything else.
        let (_, seven) = UnsealedVault::initialise(3, 7).unwrap();
        assert!(matches!(
            SealedVault::new(config).check_share(&seven[6]),
            Err(VaultError::ShareOutOfRange {
                index: 7,
                shares: 5
            })
        ));
    }

    #[test]
    fn shares_survive_their_text_form() {
        let (open, shares) = UnsealedVault::initialise(2, 2).unwrap();
        let texts: Vec<_> = shares.iter().map(|s| s.to_text()).collect();
        let back: Vec<Share> = texts.iter().map(|t| Share::from_text(t).unwrap()).collect();
        assert!(matches!(
            unseal(open.config(), &back).unwrap(),
            UnsealProgress::Unsealed(_)
        ));
    }
}
