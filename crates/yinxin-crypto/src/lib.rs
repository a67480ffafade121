//! yinxin's cryptography core: one algorithm-agile interface for signing, verification,
//! encryption and decryption over SM2/SM3/SM4 and RSA/ECDSA/SHA-2/AES.
//!
//! ```text
//!   KeySpec ──generate──▶ PrivateKey ──(Signer / Decrypter handles)──▶ sign, decrypt
//!   PEM/DER ──decode────▶ PublicKey  ──verify, encrypt
//!   SignatureScheme / EncryptionScheme name *how*; keys check that the scheme fits.
//! ```
//!
//! Callers never branch on the algorithm: they pick a scheme (usually the key's default) and
//! call the key. SM2 signatures always carry the signer's ID explicitly
//! ([`DistinguishingId`], default `1234567812345678`).
//!
//! ```
//! use yinxin_crypto::{KeySpec, PrivateKey, Signer};
//! let key = PrivateKey::generate(KeySpec::Sm2)?;
//! let scheme = key.algorithm().default_signature_scheme();
//! let sig = key.sign(&scheme, b"bid")?;
//! key.public_key().verify(&scheme, b"bid", &sig)?;
//! # Ok::<(), yinxin_crypto::Error>(())
//! ```
#![forbid(unsafe_code)]

mod alg;
pub mod enveloped_key;
mod error;
mod handle;
pub mod hash;
mod keys;
pub mod oid;
pub mod pem;
pub mod random;
pub mod shamir;
mod sm2_ops;
pub mod symmetric;

pub use alg::{
    DistinguishingId, EncryptionScheme, HashAlgorithm, KeyAlgorithm, KeySpec, SignatureScheme,
    Sm2CiphertextFormat,
};
pub use error::{Error, Result};
pub use handle::{Decrypter, KeyHandle, Signer};
pub use keys::{PBKDF2_ITERATIONS, PrivateKey, PublicKey, ec_signature_raw_to_der};
pub use symmetric::{SymmetricAlgorithm, SymmetricKey};
