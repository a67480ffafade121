//! Fast, constant-time SM2 signatures (GM/T 0003.2, GB/T 32918.2) and the point operations SM2
//! encryption needs, on the recommended 256-bit curve (GM/T 0003.5).
//!
//! ```text
//!   SecretKey ──SigningKey::new──▶ SigningKey ──sign_prehash(e)──▶ Signature ──to_der──▶ DER
//!       │                                                              │
//!       └──public_key──▶ PublicKey ──VerifyingKey::new──▶ verify_prehash(e, &Signature)
//! ```
//!
//! The caller hashes: `e = SM3(Z_A || M)` with the signer's `Z_A` value (identity, curve and
//! public key) is computed outside this crate, which signs and verifies the 32-byte `e`.
//!
//! ```
//! use yinxin_sm2::{SecretKey, SigningKey, VerifyingKey, Signature};
//! let secret = SecretKey::generate()?;
//! let signer = SigningKey::new(&secret);
//! let e = [0x42u8; 32]; // SM3(Z_A || M) in real use
//! let signature = signer.sign_prehash(&e)?;
//! let der = signature.to_der();
//! let verifier = VerifyingKey::new(secret.public_key());
//! verifier.verify_prehash(&e, &Signature::from_der(&der)?)?;
//! # Ok::<(), yinxin_sm2::Error>(())
//! ```
//!
//! # Timing
//!
//! Everything touching secrets runs in constant time: field and scalar arithmetic, inversions
//! (Fermat), the fixed-base multiplication `k G` used for key derivation and signing (a
//! Booth-recoded comb whose table rows are read in full through masks), and the variable-base
//! multiplication [`PublicKey::mul_secret`] (complete additions, full table scans).
//! Verification handles only public data and uses faster variable-time code: interleaved
//! width-5 (public key) and width-8 (generator) NAFs; a [`VerifyingKey`] additionally
//! precomputes multiples of its public key so that verification needs a quarter of the
//! doublings.
//!
//! The generator tables (about 110 KiB) are built on first use in about a millisecond;
//! [`precompute`] builds them ahead of time.
#![forbid(unsafe_code)]

mod arith;
mod field;
#[cfg(feature = "hazmat")]
pub mod hazmat;
mod keys;
mod point;
mod scalar;
mod sign;
mod signature;
#[cfg(test)]
mod test_util;

pub use keys::{PublicKey, SecretKey};
pub use sign::{SigningKey, VerifyingKey, verify_prehash};
pub use signature::Signature;

/// Errors from key parsing, signature parsing, signing and verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A secret key is not an integer in `[1, n-2]`.
    #[error("SM2 secret key out of range [1, n-2]")]
    InvalidSecretKey,
    /// A public key is badly encoded, not on the curve, or the point at infinity.
    #[error("invalid SM2 public key")]
    InvalidPublicKey,
    /// A DER signature is malformed; `position` is the byte offset where parsing failed.
    #[error("malformed DER SM2 signature at byte {position}")]
    MalformedSignature {
        /// Offset of the offending byte (or the input length when input ran out).
        position: usize,
    },
    /// A raw signature does not have 64 bytes.
    #[error("raw SM2 signature must be 64 bytes, got {len}")]
    InvalidSignatureLength {
        /// The length received.
        len: usize,
    },
    /// A signature component `r` or `s` is not in `[1, n-1]`.
    #[error("SM2 signature component out of range [1, n-1]")]
    SignatureOutOfRange,
    /// The signature does not verify.
    #[error("SM2 signature verification failed")]
    VerificationFailed,
    /// A caller-supplied nonce is out of range or gives `r = 0`, `r + k = n` or `s = 0`.
    #[error("unusable SM2 signing nonce")]
    InvalidNonce,
    /// The operating system's random number generator failed.
    #[error("system random number generator failed")]
    Rng,
}

/// Builds the generator tables now (they are otherwise built on the first key derivation,
/// signature or verification).
pub fn precompute() {
    point::precompute();
}
