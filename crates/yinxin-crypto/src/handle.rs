//! Key handles: the one interface through which every part of yinxin uses a private key.
//!
//! A handle can sign or decrypt but never reveals the key. In-memory keys, the software
//! token, PKCS#11 devices and (later) the server's key vault all hand out handles, so code
//! that signs a certificate or opens an envelope does not know or care where the key lives.
//! A [`Decrypter`] also agrees on a shared secret (ECDH, [`Decrypter::agree`]) for CMS
//! key-agreement recipients; the key stays in its owner for that too.

use std::fmt::Debug;

use zeroize::Zeroizing;

use crate::alg::{EncryptionScheme, KeyAlgorithm, SignatureScheme};
use crate::error::Result;
use crate::keys::{PrivateKey, PublicKey};

/// A private key that signs.
pub trait Signer: Send + Sync + Debug {
    /// The public half, for building certificates and requests.
    fn public_key(&self) -> &PublicKey;

    /// Sign `message` (not a digest: SM2 hashes `Z || M` itself) under `scheme`.
    fn sign(&self, scheme: &SignatureScheme, message: &[u8]) -> Result<Vec<u8>>;

    /// The key's algorithm.
    fn algorithm(&self) -> KeyAlgorithm {
        self.public_key().algorithm()
    }

    /// Sign with the algorithm's default scheme (see [`KeyAlgorithm::default_signature_scheme`]).
    fn sign_default(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.sign(&self.algorithm().default_signature_scheme(), message)
    }
}

/// A private key that decrypts.
pub trait Decrypter: Send + Sync + Debug {
    /// The public half, to which others encrypt.
    fn public_key(&self) -> &PublicKey;

    /// Decrypt `ciphertext` made under `scheme`.
    fn decrypt(&self, scheme: &EncryptionScheme, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>>;

    /// Key agreement inside the key's owner: elliptic-curve Diffie-Hellman of this key with
    /// `peer` (an ephemeral key of the same curve), returning the raw shared secret `Z` (the
    /// x-coordinate of the shared point, as many octets as the field; SEC 1 §3.3.1). CMS
    /// `KeyAgreeRecipientInfo` (RFC 5753) derives its key-encryption key from it.
    ///
    /// Handles whose key cannot agree (RSA, SM2, or a backend without ECDH) keep this default,
    /// which refuses with [`Error::Unsupported`](crate::Error::Unsupported).
    fn agree(&self, peer: &PublicKey) -> Result<Zeroizing<Vec<u8>>> {
        Err(crate::Error::Unsupported(format!(
            "key agreement with a {} key through this handle (peer: {})",
            self.public_key().algorithm(),
            peer.algorithm()
        )))
    }
}

impl Signer for PrivateKey {
    fn public_key(&self) -> &PublicKey {
        PrivateKey::public_key(self)
    }

    fn sign(&self, scheme: &SignatureScheme, message: &[u8]) -> Result<Vec<u8>> {
        PrivateKey::sign(self, scheme, message)
    }
}

impl Decrypter for PrivateKey {
    fn public_key(&self) -> &PublicKey {
        PrivateKey::public_key(self)
    }

    fn decrypt(&self, scheme: &EncryptionScheme, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        PrivateKey::decrypt(self, scheme, ciphertext)
    }

    fn agree(&self, peer: &PublicKey) -> Result<Zeroizing<Vec<u8>>> {
        PrivateKey::agree(self, peer)
    }
}

/// A handle on a shared in-memory key: it signs and decrypts, and gives nothing else (no
/// `to_pkcs8_*`). Key stores that hold keys in memory (the software token, the vault) hand
/// these out.
#[derive(Debug, Clone)]
pub struct KeyHandle(std::sync::Arc<PrivateKey>);

impl KeyHandle {
    /// A handle on `key`.
    pub fn new(key: std::sync::Arc<PrivateKey>) -> Self {
        KeyHandle(key)
    }
}

impl Signer for KeyHandle {
    fn public_key(&self) -> &PublicKey {
        self.0.public_key()
    }

    fn sign(&self, scheme: &SignatureScheme, message: &[u8]) -> Result<Vec<u8>> {
        self.0.sign(scheme, message)
    }
}

impl Decrypter for KeyHandle {
    fn public_key(&self) -> &PublicKey {
        self.0.public_key()
    }

    fn decrypt(&self, scheme: &EncryptionScheme, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.0.decrypt(scheme, ciphertext)
    }

    fn agree(&self, peer: &PublicKey) -> Result<Zeroizing<Vec<u8>>> {
        self.0.agree(peer)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::KeySpec;

    #[test]
    fn ecdh_agrees_both_ways_and_refuses_other_keys() {
        for spec in [KeySpec::EcP256, KeySpec::EcP384] {
            let a = PrivateKey::generate(spec).unwrap();
            let b = KeyHandle::new(std::sync::Arc::new(PrivateKey::generate(spec).unwrap()));
            let ab = Decrypter::agree(&a, Decrypter::public_key(&b)).unwrap();
            let ba = b.agree(a.public_key()).unwrap();
            assert_eq!(ab, ba);
            assert_eq!(ab.len(), if spec == KeySpec::EcP256 { 32 } else { 48 });
        }
        let p256 = PrivateKey::generate(KeySpec::EcP256).unwrap();
        let p384 = PrivateKey::generate(KeySpec::EcP384).unwrap();
        assert!(matches!(
            Decrypter::agree(&p256, p384.public_key()),
            Err(crate::Error::SchemeMismatch { .. })
        ));
        let sm2 = PrivateKey::generate(KeySpec::Sm2).unwrap();
        assert!(matches!(
            Decrypter::agree(&sm2, p256.public_key()),
            Err(crate::Error::Unsupported(_))
        ));
    }
}
