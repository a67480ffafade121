//! Key handles: the one interface through which every part of yinxin uses a private key.
//!
//! A handle can sign or decrypt but never reveals the key. In-memory keys, the software
//! token, PKCS#11 devices and (later) the server's key vault all hand out handles, so code
//! that signs a certificate or opens an envelope does not know or care where the key lives.

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
}
