//! The SM2 key-pair envelope of GB/T 35276 §7.4 / GM/T 0009 §7.4, in which a key-management
//! centre delivers an escrowed SM2 encryption key pair to a user's token (dual certificates).
//!
//! ```text
//! SM2EnvelopedKey ::= SEQUENCE {
//!     symAlgID                AlgorithmIdentifier,  -- SM4-ECB, 1.2.156.10197.1.104.1
//!     symEncryptedKey         SM2Cipher,            -- the SM4 key, SM2-encrypted to the token
//!     sm2PublicKey            SM2PublicKey,         -- BIT STRING 04 || X || Y of the pair
//!     sm2EncryptedPrivateKey  BIT STRING            -- the 32-byte private key, SM4-ECB
//! }
//! ```
//!
//! The SM4 key is encrypted to the token's *signing* public key, as SKF devices
//! (`SKF_ImportECCKeyPair`) expect; opening the envelope needs that key's [`Decrypter`]
//! handle, so the escrowed key can be unwrapped inside the token that owns the signing key.

use der::asn1::{BitString, ObjectIdentifier};
use der::{Decode, Encode, Sequence};
use sm4::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use zeroize::Zeroizing;

use crate::alg::{EncryptionScheme, KeyAlgorithm, Sm2CiphertextFormat};
use crate::error::{Error, Result};
use crate::handle::Decrypter;
use crate::keys::{PrivateKey, PublicKey};
use crate::random;

/// SM4 in ECB mode (GM/T 0006), the symmetric algorithm of the envelope.
pub const SM4_ECB: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.104.1");

/// `AlgorithmIdentifier` with parameters kept as raw DER (absent for SM4-ECB).
#[derive(Sequence)]
struct AlgorithmIdentifier {
    algorithm: ObjectIdentifier,
    parameters: Option<der::asn1::Any>,
}

/// The envelope as it travels. See the module documentation for the ASN.1.
#[derive(Sequence)]
struct Sm2EnvelopedKey {
    sym_alg_id: AlgorithmIdentifier,
    sym_encrypted_key: der::asn1::Any,
    sm2_public_key: BitString,
    sm2_encrypted_private_key: BitString,
}

fn sm4_ecb(key: &[u8], data: &mut [u8], encrypt: bool) -> Result<()> {
    let cipher = sm4::Sm4::new_from_slice(key).map_err(|_| Error::Length {
        what: "SM4 key",
        expected: "16",
        got: key.len(),
    })?;
    for block in data.chunks_exact_mut(16) {
        // chunks_exact_mut yields exactly one block's length, so the conversion holds.
        let Ok(block) = <&mut sm4::cipher::Block<sm4::Sm4>>::try_from(block) else {
            return Err(Error::MessageLength {
                len: data.len(),
                reason: "SM4-ECB data must be whole blocks",
            });
        };
        if encrypt {
            cipher.encrypt_block(block);
        } else {
            cipher.decrypt_block(block);
        }
    }
    Ok(())
}

/// Seal the SM2 key pair `delivered` (its private scalar) for the token whose signing public
/// key is `recipient`. Only a key-management centre calls this, on a key it generated.
pub fn seal_sm2_key_pair(recipient: &PublicKey, delivered: &PrivateKey) -> Result<Vec<u8>> {
    if recipient.algorithm() != KeyAlgorithm::Sm2 || delivered.algorithm() != KeyAlgorithm::Sm2 {
        return Err(Error::Unsupported(
            "the SM2 key-pair envelope carries SM2 keys to SM2 recipients only".into(),
        ));
    }
    let sym = Zeroizing::new(random::bytes(16)?);
    let mut scalar = delivered.sm2_scalar()?;
    sm4_ecb(&sym, &mut scalar[..], true)?;
    let encrypted_key =
        recipient.encrypt(&EncryptionScheme::Sm2(Sm2CiphertextFormat::Asn1), &sym)?;
    let bad = |e: der::Error| Error::decode("SM2 key envelope", e);
    Sm2EnvelopedKey {
        sym_alg_id: AlgorithmIdentifier {
            algorithm: SM4_ECB,
            parameters: None,
        },
        sym_encrypted_key: der::asn1::Any::from_der(&encrypted_key).map_err(bad)?,
        sm2_public_key: BitString::from_bytes(&delivered.public_key().raw_bytes()).map_err(bad)?,
        sm2_encrypted_private_key: BitString::from_bytes(&scalar[..]).map_err(bad)?,
    }
    .to_der()
    .map_err(bad)
}

/// Open an envelope with the recipient's signing key handle, returning the delivered key
/// pair. The private scalar must match the public key in the envelope.
pub fn open_sm2_key_pair(recipient: &dyn Decrypter, envelope: &[u8]) -> Result<PrivateKey> {
    let bad = |e: &dyn std::fmt::Display| Error::decode("SM2 key envelope", e.to_string());
    let env = Sm2EnvelopedKey::from_der(envelope).map_err(|e| bad(&e))?;
    if env.sym_alg_id.algorithm != SM4_ECB {
        return Err(Error::Unsupported(format!(
            "SM2 key envelope with symmetric algorithm {}",
            env.sym_alg_id.algorithm
        )));
    }
    let encrypted_key = env.sym_encrypted_key.to_der().map_err(|e| bad(&e))?;
    let sym = recipient.decrypt(
        &EncryptionScheme::Sm2(Sm2CiphertextFormat::Asn1),
        &encrypted_key,
    )?;
    if sym.len() != 16 {
        return Err(Error::DecryptionFailed);
    }
    let sealed = env
        .sm2_encrypted_private_key
        .as_bytes()
        .ok_or_else(|| bad(&"private key BIT STRING has unused bits"))?;
    // Some middleware left-pads the 32-byte scalar to 64 bytes before encrypting.
    if sealed.is_empty() || !sealed.len().is_multiple_of(16) || sealed.len() > 64 {
        return Err(bad(&"the encrypted private key must be 32 or 64 bytes"));
    }
    let mut scalar = Zeroizing::new(sealed.to_vec());
    sm4_ecb(&sym, &mut scalar, false)?;
    let start = scalar.len().saturating_sub(32);
    if scalar[..start].iter().any(|b| *b != 0) {
        return Err(Error::DecryptionFailed);
    }
    let key = PrivateKey::from_sm2_scalar(&scalar[start..])?;
    let public = env
        .sm2_public_key
        .as_bytes()
        .ok_or_else(|| bad(&"public key BIT STRING has unused bits"))?;
    if key.public_key().raw_bytes() != public {
        return Err(Error::decode(
            "SM2 key envelope",
            "the private key does not match the public key in the envelope",
        ));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeySpec;

    #[test]
    fn a_delivered_pair_opens_only_with_the_recipients_key() {
        let token_signing_key = PrivateKey::generate(KeySpec::Sm2).unwrap();
        let escrowed = PrivateKey::generate(KeySpec::Sm2).unwrap();
        let env = seal_sm2_key_pair(token_signing_key.public_key(), &escrowed).unwrap();
        let opened = open_sm2_key_pair(&token_signing_key, &env).unwrap();
        assert_eq!(opened.public_key(), escrowed.public_key());
        // The scalar is not in the envelope in clear.
        let scalar = escrowed.sm2_scalar().unwrap();
        assert!(!env.windows(32).any(|w| w == &scalar[..]));
        let stranger = PrivateKey::generate(KeySpec::Sm2).unwrap();
        assert!(open_sm2_key_pair(&stranger, &env).is_err());
        for i in 0..env.len() {
            let mut bad = env.clone();
            bad[i] ^= 0x01;
            assert!(
                open_sm2_key_pair(&token_signing_key, &bad).is_err(),
                "byte {i}"
            );
        }
        let rsa = PrivateKey::generate(KeySpec::EcP256).unwrap();
        assert!(seal_sm2_key_pair(rsa.public_key(), &escrowed).is_err());
    }
}
