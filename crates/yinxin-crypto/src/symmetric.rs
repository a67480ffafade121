//! Symmetric ciphers: SM4 and AES in CBC mode with PKCS#7 padding, and in GCM (authenticated).
//!
//! GCM is the authenticated mode for both ciphers (SM4-GCM per RFC 8998 / GB/T 36624); CBC is
//! there for interoperability with envelopes and files that other middleware writes.

use aes_gcm::AesGcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A block cipher yinxin offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymmetricAlgorithm {
    /// SM4 (GB/T 32907), 128-bit key.
    Sm4,
    /// AES-128.
    Aes128,
    /// AES-256.
    Aes256,
}

impl SymmetricAlgorithm {
    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            SymmetricAlgorithm::Sm4 | SymmetricAlgorithm::Aes128 => 16,
            SymmetricAlgorithm::Aes256 => 32,
        }
    }
}

/// The length of a GCM nonce.
pub const GCM_NONCE_LEN: usize = 12;
/// The length of a GCM tag, appended to the ciphertext.
pub const GCM_TAG_LEN: usize = 16;
/// The length of a CBC initialisation vector (the block size).
pub const CBC_IV_LEN: usize = 16;

type Sm4Gcm = AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// A symmetric key; its bytes are zeroized on drop and never printed.
#[derive(Clone)]
pub struct SymmetricKey {
    algorithm: SymmetricAlgorithm,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SymmetricKey({:?}, <redacted>)", self.algorithm)
    }
}

impl SymmetricKey {
    /// A fresh random key.
    pub fn generate(algorithm: SymmetricAlgorithm) -> Result<Self> {
        let mut bytes = Zeroizing::new(vec![0u8; algorithm.key_len()]);
        crate::random::fill(&mut bytes)?;
        Ok(SymmetricKey { algorithm, bytes })
    }

    /// A key from its bytes, which must be exactly the algorithm's key length.
    pub fn from_bytes(algorithm: SymmetricAlgorithm, bytes: &[u8]) -> Result<Self> {
        if bytes.len() != algorithm.key_len() {
            return Err(Error::Length {
                what: "symmetric key",
                expected: if algorithm.key_len() == 16 {
                    "16"
                } else {
                    "32"
                },
                got: bytes.len(),
            });
        }
        Ok(SymmetricKey {
            algorithm,
            bytes: Zeroizing::new(bytes.to_vec()),
        })
    }

    /// The cipher this key is for.
    pub fn algorithm(&self) -> SymmetricAlgorithm {
        self.algorithm
    }

    /// The raw key bytes, for wrapping into an envelope. Callers must not log them.
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// CBC encryption with PKCS#7 padding.
    pub fn cbc_encrypt(&self, iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        check_iv(iv)?;
        let key = &self.bytes[..];
        let out = match self.algorithm {
            SymmetricAlgorithm::Sm4 => cbc::Encryptor::<sm4::Sm4>::new_from_slices(key, iv)
                .map_err(|_| key_len_error(self.algorithm))?
                .encrypt_padded_vec::<Pkcs7>(plaintext),
            SymmetricAlgorithm::Aes128 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(|_| key_len_error(self.algorithm))?
                .encrypt_padded_vec::<Pkcs7>(plaintext),
            SymmetricAlgorithm::Aes256 => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(|_| key_len_error(self.algorithm))?
                .encrypt_padded_vec::<Pkcs7>(plaintext),
        };
        Ok(out)
    }

    /// CBC decryption with PKCS#7 padding. Fails on a bad length or bad padding.
    ///
    /// CBC is not authenticated: padding errors are an oracle, so use it only for data whose
    /// integrity is checked otherwise (a signature over it, an outer MAC).
    pub fn cbc_decrypt(&self, iv: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        check_iv(iv)?;
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
            return Err(Error::MessageLength {
                len: ciphertext.len(),
                reason: "CBC ciphertext must be a non-empty multiple of 16 bytes",
            });
        }
        let key = &self.bytes[..];
        let out = match self.algorithm {
            SymmetricAlgorithm::Sm4 => cbc::Decryptor::<sm4::Sm4>::new_from_slices(key, iv)
                .map_err(|_| key_len_error(self.algorithm))?
                .decrypt_padded_vec::<Pkcs7>(ciphertext),
            SymmetricAlgorithm::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
                .map_err(|_| key_len_error(self.algorithm))?
                .decrypt_padded_vec::<Pkcs7>(ciphertext),
            SymmetricAlgorithm::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
                .map_err(|_| key_len_error(self.algorithm))?
                .decrypt_padded_vec::<Pkcs7>(ciphertext),
        };
        out.map(Zeroizing::new).map_err(|_| Error::DecryptionFailed)
    }

    /// GCM encryption: returns `ciphertext || tag`. The nonce must never repeat under one key.
    /// AES runs on AWS-LC (AES-NI and CLMUL), SM4 on RustCrypto.
    pub fn gcm_seal(&self, nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let nonce = gcm_nonce(nonce)?;
        let key = &self.bytes[..];
        match self.algorithm {
            SymmetricAlgorithm::Sm4 => Sm4Gcm::new_from_slice(key)
                .map_err(|_| key_len_error(self.algorithm))?
                .encrypt(
                    nonce,
                    Payload {
                        msg: plaintext,
                        aad,
                    },
                )
                .map_err(|_| Error::MessageLength {
                    len: plaintext.len(),
                    reason: "too long for GCM",
                }),
            SymmetricAlgorithm::Aes128 | SymmetricAlgorithm::Aes256 => {
                let aes = self.aws_lc_key()?;
                let mut in_out = plaintext.to_vec();
                aes.seal_in_place_append_tag(
                    aws_lc_nonce(nonce),
                    aws_lc_rs::aead::Aad::from(aad),
                    &mut in_out,
                )
                .map_err(|_| Error::MessageLength {
                    len: plaintext.len(),
                    reason: "too long for GCM",
                })?;
                Ok(in_out)
            }
        }
    }

    /// GCM decryption of `ciphertext || tag`; fails if anything was altered.
    pub fn gcm_open(&self, nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let nonce = gcm_nonce(nonce)?;
        if sealed.len() < GCM_TAG_LEN {
            return Err(Error::DecryptionFailed);
        }
        let key = &self.bytes[..];
        match self.algorithm {
            SymmetricAlgorithm::Sm4 => Sm4Gcm::new_from_slice(key)
                .map_err(|_| key_len_error(self.algorithm))?
                .decrypt(nonce, Payload { msg: sealed, aad })
                .map(Zeroizing::new)
                .map_err(|_| Error::DecryptionFailed),
            SymmetricAlgorithm::Aes128 | SymmetricAlgorithm::Aes256 => {
                let aes = self.aws_lc_key()?;
                let mut in_out = Zeroizing::new(sealed.to_vec());
                let len = aes
                    .open_in_place(
                        aws_lc_nonce(nonce),
                        aws_lc_rs::aead::Aad::from(aad),
                        &mut in_out,
                    )
                    .map_err(|_| Error::DecryptionFailed)?
                    .len();
                in_out.truncate(len);
                Ok(in_out)
            }
        }
    }

    fn aws_lc_key(&self) -> Result<aws_lc_rs::aead::LessSafeKey> {
        let alg = match self.algorithm {
            SymmetricAlgorithm::Aes128 => &aws_lc_rs::aead::AES_128_GCM,
            _ => &aws_lc_rs::aead::AES_256_GCM,
        };
        aws_lc_rs::aead::UnboundKey::new(alg, &self.bytes)
            .map(aws_lc_rs::aead::LessSafeKey::new)
            .map_err(|_| key_len_error(self.algorithm))
    }
}

fn aws_lc_nonce(nonce: &aes_gcm::Nonce<aes_gcm::aead::consts::U12>) -> aws_lc_rs::aead::Nonce {
    let mut n = [0u8; GCM_NONCE_LEN];
    n.copy_from_slice(nonce);
    aws_lc_rs::aead::Nonce::assume_unique_for_key(n)
}

fn check_iv(iv: &[u8]) -> Result<()> {
    if iv.len() != CBC_IV_LEN {
        return Err(Error::Length {
            what: "CBC IV",
            expected: "16",
            got: iv.len(),
        });
    }
    Ok(())
}

fn gcm_nonce(nonce: &[u8]) -> Result<&aes_gcm::Nonce<aes_gcm::aead::consts::U12>> {
    <&aes_gcm::Nonce<aes_gcm::aead::consts::U12>>::try_from(nonce).map_err(|_| Error::Length {
        what: "GCM nonce",
        expected: "12",
        got: nonce.len(),
    })
}

fn key_len_error(algorithm: SymmetricAlgorithm) -> Error {
    Error::Length {
        what: "symmetric key",
        expected: if algorithm.key_len() == 16 {
            "16"
        } else {
            "32"
        },
        got: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm4_gbt32907_example_1() {
        // GB/T 32907-2016 Appendix A example 1: one block, no padding. CBC with a zero IV on
        // one block equals ECB, so the first ciphertext block is the standard's value.
        let key = hex::decode("0123456789abcdeffedcba9876543210").unwrap();
        let k = SymmetricKey::from_bytes(SymmetricAlgorithm::Sm4, &key).unwrap();
        let ct = k.cbc_encrypt(&[0u8; 16], &key).unwrap();
        assert_eq!(hex::encode(&ct[..16]), "681edf34d206965e86b3e94f536e4246");
        assert_eq!(&k.cbc_decrypt(&[0u8; 16], &ct).unwrap()[..], &key[..]);
    }

    #[test]
    fn gcm_detects_tampering_for_every_cipher() {
        for alg in [
            SymmetricAlgorithm::Sm4,
            SymmetricAlgorithm::Aes128,
            SymmetricAlgorithm::Aes256,
        ] {
            let k = SymmetricKey::generate(alg).unwrap();
            let nonce = [9u8; 12];
            let mut sealed = k.gcm_seal(&nonce, b"aad", b"hello").unwrap();
            assert_eq!(&k.gcm_open(&nonce, b"aad", &sealed).unwrap()[..], b"hello");
            assert!(k.gcm_open(&nonce, b"other", &sealed).is_err());
            sealed[0] ^= 1;
            assert!(k.gcm_open(&nonce, b"aad", &sealed).is_err());
            assert!(k.gcm_open(&nonce, b"aad", &sealed[..3]).is_err());
        }
    }

    #[test]
    fn cbc_rejects_bad_lengths_and_padding() {
        let k = SymmetricKey::generate(SymmetricAlgorithm::Sm4).unwrap();
        assert!(k.cbc_decrypt(&[0; 16], &[1; 15]).is_err());
        assert!(k.cbc_decrypt(&[0; 15], &[1; 16]).is_err());
        assert!(k.cbc_decrypt(&[0; 16], &[]).is_err());
        assert!(SymmetricKey::from_bytes(SymmetricAlgorithm::Aes256, &[0; 16]).is_err());
    }
}
