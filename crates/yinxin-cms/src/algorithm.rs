//! The algorithm identifiers this crate reads and writes: content encryption (AES-CBC of RFC
//! 3565, SM4-CBC of GM/T 0006) and RSA key transport (`rsaEncryption` and RSAES-OAEP of RFC
//! 8017 with the parameters of RFC 4055 §4.1).

use std::fmt;

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use const_oid::ObjectIdentifier;
use der::Sequence;
use der::asn1::{Any, Null, OctetString};
use spki::AlgorithmIdentifierOwned;
use yinxin_crypto::symmetric::{CBC_IV_LEN, SymmetricAlgorithm, SymmetricKey};
use yinxin_crypto::{EncryptionScheme, HashAlgorithm};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::oid;

/// A content-encryption algorithm: a block cipher in CBC mode with PKCS#7 padding, its IV
/// carried as the algorithm's parameter.
///
/// ```text
/// AES-IV ::= OCTET STRING (SIZE(16))      -- RFC 3565, for id-aes128-CBC … id-aes256-CBC
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ContentEncryptionAlgorithm {
    /// AES-128-CBC.
    Aes128Cbc,
    /// AES-192-CBC (what OpenSSL writes for `-aes192`).
    Aes192Cbc,
    /// AES-256-CBC, what yinxin writes.
    #[default]
    Aes256Cbc,
    /// SM4-CBC (GM/T 0006 `1.2.156.10197.1.104.2`).
    Sm4Cbc,
}

impl ContentEncryptionAlgorithm {
    /// Every algorithm, in the order of the type.
    pub const ALL: [ContentEncryptionAlgorithm; 4] = [
        ContentEncryptionAlgorithm::Aes128Cbc,
        ContentEncryptionAlgorithm::Aes192Cbc,
        ContentEncryptionAlgorithm::Aes256Cbc,
        ContentEncryptionAlgorithm::Sm4Cbc,
    ];

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            ContentEncryptionAlgorithm::Aes128Cbc => oid::AES128_CBC,
            ContentEncryptionAlgorithm::Aes192Cbc => oid::AES192_CBC,
            ContentEncryptionAlgorithm::Aes256Cbc => oid::AES256_CBC,
            ContentEncryptionAlgorithm::Sm4Cbc => oid::SM4_CBC,
        }
    }

    /// The algorithm with this object identifier, if yinxin implements it.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.oid() == *oid)
    }

    /// The content-encryption key's length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            ContentEncryptionAlgorithm::Aes128Cbc | ContentEncryptionAlgorithm::Sm4Cbc => 16,
            ContentEncryptionAlgorithm::Aes192Cbc => 24,
            ContentEncryptionAlgorithm::Aes256Cbc => 32,
        }
    }

    /// The `AlgorithmIdentifier` with `iv` as its parameter.
    pub fn identifier(self, iv: &[u8; CBC_IV_LEN]) -> Result<AlgorithmIdentifierOwned> {
        let iv = OctetString::new(iv.to_vec()).map_err(|e| Error::decode("IV", e))?;
        Ok(AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: Some(Any::encode_from(&iv).map_err(|e| Error::decode("IV", e))?),
        })
    }

    /// The algorithm and IV of a content-encryption `AlgorithmIdentifier`.
    pub fn from_identifier(
        identifier: &AlgorithmIdentifierOwned,
    ) -> Result<(Self, [u8; CBC_IV_LEN])> {
        let algorithm = Self::from_oid(&identifier.oid).ok_or_else(|| {
            Error::Unsupported(format!(
                "content encryption algorithm {} (yinxin reads AES-128/192/256-CBC and SM4-CBC)",
                identifier.oid
            ))
        })?;
        let iv: OctetString = identifier
            .parameters
            .as_ref()
            .ok_or_else(|| Error::decode("content encryption parameters", "no IV"))?
            .decode_as()
            .map_err(|e| Error::decode("content encryption IV", e))?;
        let iv = <[u8; CBC_IV_LEN]>::try_from(iv.as_bytes()).map_err(|_| {
            Error::decode(
                "content encryption IV",
                format!("{} bytes, CBC needs {CBC_IV_LEN}", iv.as_bytes().len()),
            )
        })?;
        Ok((algorithm, iv))
    }

    /// Encrypt `plaintext` (CBC, PKCS#7 padding).
    pub fn encrypt(self, key: &[u8], iv: &[u8; CBC_IV_LEN], plaintext: &[u8]) -> Result<Vec<u8>> {
        match self.symmetric() {
            Some(alg) => Ok(SymmetricKey::from_bytes(alg, key)?.cbc_encrypt(iv, plaintext)?),
            None => Ok(cbc::Encryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(|_| self.key_length_error(key.len()))?
                .encrypt_padded_vec::<Pkcs7>(plaintext)),
        }
    }

    /// Decrypt `ciphertext` (CBC, PKCS#7 padding). A wrong key or altered data fails as
    /// [`Error::DecryptionFailed`].
    pub fn decrypt(
        self,
        key: &[u8],
        iv: &[u8; CBC_IV_LEN],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        if key.len() != self.key_len() {
            return Err(self.key_length_error(key.len()));
        }
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
            return Err(Error::decode(
                "encrypted content",
                format!(
                    "{} bytes, CBC needs a non-empty multiple of 16",
                    ciphertext.len()
                ),
            ));
        }
        let plain = match self.symmetric() {
            Some(alg) => SymmetricKey::from_bytes(alg, key)?.cbc_decrypt(iv, ciphertext),
            None => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
                .map_err(|_| self.key_length_error(key.len()))?
                .decrypt_padded_vec::<Pkcs7>(ciphertext)
                .map(Zeroizing::new)
                .map_err(|_| yinxin_crypto::Error::DecryptionFailed),
        };
        plain.map_err(|e| match e {
            yinxin_crypto::Error::DecryptionFailed => Error::DecryptionFailed,
            other => Error::Crypto(other),
        })
    }

    /// The cipher in yinxin-crypto's symmetric module, where it has one (not AES-192).
    fn symmetric(self) -> Option<SymmetricAlgorithm> {
        match self {
            ContentEncryptionAlgorithm::Aes128Cbc => Some(SymmetricAlgorithm::Aes128),
            ContentEncryptionAlgorithm::Aes256Cbc => Some(SymmetricAlgorithm::Aes256),
            ContentEncryptionAlgorithm::Sm4Cbc => Some(SymmetricAlgorithm::Sm4),
            ContentEncryptionAlgorithm::Aes192Cbc => None,
        }
    }

    fn key_length_error(self, got: usize) -> Error {
        Error::Crypto(yinxin_crypto::Error::Length {
            what: "content-encryption key",
            expected: match self.key_len() {
                16 => "16",
                24 => "24",
                _ => "32",
            },
            got,
        })
    }
}

impl fmt::Display for ContentEncryptionAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContentEncryptionAlgorithm::Aes128Cbc => "AES-128-CBC",
            ContentEncryptionAlgorithm::Aes192Cbc => "AES-192-CBC",
            ContentEncryptionAlgorithm::Aes256Cbc => "AES-256-CBC",
            ContentEncryptionAlgorithm::Sm4Cbc => "SM4-CBC",
        })
    }
}

/// The parameters of `id-RSAES-OAEP` (RFC 8017 Appendix A.2.1, RFC 4055 §4.1). An absent
/// field takes its default; yinxin writes the hash and mask generation explicitly and leaves
/// out the empty label.
///
/// ```text
/// RSAES-OAEP-params ::= SEQUENCE {
///     hashAlgorithm     [0] HashAlgorithm     DEFAULT sha1,
///     maskGenAlgorithm  [1] MaskGenAlgorithm  DEFAULT mgf1SHA1,
///     pSourceAlgorithm  [2] PSourceAlgorithm  DEFAULT pSpecifiedEmpty }
///
/// HashAlgorithm ::= AlgorithmIdentifier
/// MaskGenAlgorithm ::= AlgorithmIdentifier   -- id-mgf1 with a HashAlgorithm parameter
/// PSourceAlgorithm ::= AlgorithmIdentifier   -- id-pSpecified with an OCTET STRING label
/// ```
#[derive(Clone, Debug, Default, Eq, PartialEq, Sequence)]
pub struct RsaesOaepParams {
    /// `hashAlgorithm`; `None` is SHA-1.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    /// `maskGenAlgorithm`; `None` is MGF1 with SHA-1.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub mask_gen_algorithm: Option<AlgorithmIdentifierOwned>,
    /// `pSourceAlgorithm`; `None` is the empty label.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub p_source_algorithm: Option<AlgorithmIdentifierOwned>,
}

/// The hashes OAEP may use here: SHA-1 (the default) and SHA-2.
fn hash_oid(hash: Option<HashAlgorithm>) -> Result<ObjectIdentifier> {
    match hash {
        None => Ok(oid::SHA1),
        Some(HashAlgorithm::Sm3) => Err(Error::Unsupported("RSAES-OAEP with SM3".into())),
        Some(h) => Ok(h.oid()),
    }
}

/// `None` for SHA-1.
fn hash_from_identifier(identifier: &AlgorithmIdentifierOwned) -> Result<Option<HashAlgorithm>> {
    check_absent_or_null(identifier, "OAEP hash algorithm parameters")?;
    let hash = [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ]
    .into_iter()
    .find(|h| h.oid() == identifier.oid);
    match hash {
        Some(h) => Ok(Some(h)),
        None if identifier.oid == oid::SHA1 => Ok(None),
        None => Err(Error::Unsupported(format!(
            "RSAES-OAEP with hash {}",
            identifier.oid
        ))),
    }
}

/// Parameters that must be absent or `NULL` (RFC 4055 §2.1 lets writers choose).
fn check_absent_or_null(identifier: &AlgorithmIdentifierOwned, what: &'static str) -> Result<()> {
    match &identifier.parameters {
        None => Ok(()),
        Some(p) if p.is_null() => Ok(()),
        Some(_) => Err(Error::decode(what, "must be absent or NULL")),
    }
}

fn hash_identifier(hash: Option<HashAlgorithm>) -> Result<AlgorithmIdentifierOwned> {
    Ok(AlgorithmIdentifierOwned {
        oid: hash_oid(hash)?,
        parameters: None,
    })
}

/// The `keyEncryptionAlgorithm` for RSA key transport under `scheme`: RSAES-OAEP with
/// explicit parameters (an empty parameter SEQUENCE for SHA-1, all defaults), or
/// `rsaEncryption` for PKCS#1 v1.5.
pub fn key_transport_identifier(scheme: &EncryptionScheme) -> Result<AlgorithmIdentifierOwned> {
    let bad = |e: der::Error| Error::decode("key transport algorithm", e);
    let params = match scheme {
        EncryptionScheme::RsaPkcs1v15 => {
            return Ok(AlgorithmIdentifierOwned {
                oid: oid::RSA_ENCRYPTION,
                parameters: Some(Any::encode_from(&Null).map_err(bad)?),
            });
        }
        EncryptionScheme::RsaOaepSha1 => RsaesOaepParams::default(),
        EncryptionScheme::RsaOaep(h) => {
            let hash = hash_identifier(Some(*h))?;
            RsaesOaepParams {
                mask_gen_algorithm: Some(AlgorithmIdentifierOwned {
                    oid: oid::ID_MGF1,
                    parameters: Some(Any::encode_from(&hash).map_err(bad)?),
                }),
                hash_algorithm: Some(hash),
                p_source_algorithm: None,
            }
        }
        EncryptionScheme::Sm2(_) => {
            return Err(Error::Unsupported(
                "SM2 key transport belongs to the GM/T 0010 message syntax".into(),
            ));
        }
    };
    Ok(AlgorithmIdentifierOwned {
        oid: oid::ID_RSAES_OAEP,
        parameters: Some(Any::encode_from(&params).map_err(bad)?),
    })
}

/// The RSA encryption scheme named by a `keyEncryptionAlgorithm`: `rsaEncryption` (PKCS#1
/// v1.5) or RSAES-OAEP with SHA-1 or SHA-2, MGF1 with the same hash and an empty label.
pub fn key_transport_scheme(identifier: &AlgorithmIdentifierOwned) -> Result<EncryptionScheme> {
    if identifier.oid == oid::RSA_ENCRYPTION {
        check_absent_or_null(identifier, "rsaEncryption parameters")?;
        return Ok(EncryptionScheme::RsaPkcs1v15);
    }
    if identifier.oid != oid::ID_RSAES_OAEP {
        return Err(Error::Unsupported(format!(
            "key transport algorithm {} (yinxin reads rsaEncryption and RSAES-OAEP)",
            identifier.oid
        )));
    }
    let params: RsaesOaepParams = match &identifier.parameters {
        None => RsaesOaepParams::default(),
        Some(p) => p
            .decode_as()
            .map_err(|e| Error::decode("RSAES-OAEP-params", e))?,
    };
    let hash = match &params.hash_algorithm {
        None => None,
        Some(h) => hash_from_identifier(h)?,
    };
    let mgf_hash = match &params.mask_gen_algorithm {
        None => None,
        Some(mgf) => {
            if mgf.oid != oid::ID_MGF1 {
                return Err(Error::Unsupported(format!(
                    "RSAES-OAEP mask generation {}",
                    mgf.oid
                )));
            }
            let inner: AlgorithmIdentifierOwned = mgf
                .parameters
                .as_ref()
                .ok_or_else(|| Error::decode("RSAES-OAEP-params", "MGF1 without a hash"))?
                .decode_as()
                .map_err(|e| Error::decode("RSAES-OAEP-params", e))?;
            hash_from_identifier(&inner)?
        }
    };
    if mgf_hash != hash {
        return Err(Error::Unsupported(
            "RSAES-OAEP with different hashes for the label and MGF1".into(),
        ));
    }
    if let Some(p_source) = &params.p_source_algorithm {
        let label: Option<OctetString> = match (&p_source.oid, &p_source.parameters) {
            (o, Some(p)) if *o == oid::ID_P_SPECIFIED => p.decode_as().ok(),
            _ => None,
        };
        if label.is_none_or(|l| !l.as_bytes().is_empty()) {
            return Err(Error::Unsupported("RSAES-OAEP with a label".into()));
        }
    }
    Ok(match hash {
        None => EncryptionScheme::RsaOaepSha1,
        Some(h) => EncryptionScheme::RsaOaep(h),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn oaep_identifiers_round_trip() {
        for scheme in [
            EncryptionScheme::RsaOaep(HashAlgorithm::Sha256),
            EncryptionScheme::RsaOaep(HashAlgorithm::Sha384),
            EncryptionScheme::RsaOaep(HashAlgorithm::Sha512),
            EncryptionScheme::RsaOaepSha1,
            EncryptionScheme::RsaPkcs1v15,
        ] {
            let id = key_transport_identifier(&scheme).unwrap();
            let der = id.to_der().unwrap();
            let back = AlgorithmIdentifierOwned::from_der(&der).unwrap();
            assert_eq!(key_transport_scheme(&back).unwrap(), scheme, "{scheme}");
        }
        // What OpenSSL writes for `-keyopt rsa_oaep_md:sha256` (RFC 4055 §4.1 sha256 form).
        let openssl = hex::decode(
            "303806092a864886f70d010107302ba00d300b0609608648016503040201a11a301806092a864886\
             f70d010108300b0609608648016503040201",
        )
        .unwrap();
        assert_eq!(
            key_transport_identifier(&EncryptionScheme::RsaOaep(HashAlgorithm::Sha256))
                .unwrap()
                .to_der()
                .unwrap(),
            openssl
        );
    }

    #[test]
    fn odd_oaep_parameters_are_refused() {
        let sha256 = hash_identifier(Some(HashAlgorithm::Sha256)).unwrap();
        let sha1 = hash_identifier(None).unwrap();
        let mgf = |h: &AlgorithmIdentifierOwned| AlgorithmIdentifierOwned {
            oid: oid::ID_MGF1,
            parameters: Some(Any::encode_from(h).unwrap()),
        };
        let with = |params: RsaesOaepParams| AlgorithmIdentifierOwned {
            oid: oid::ID_RSAES_OAEP,
            parameters: Some(Any::encode_from(&params).unwrap()),
        };
        let mixed = with(RsaesOaepParams {
            hash_algorithm: Some(sha256.clone()),
            mask_gen_algorithm: Some(mgf(&sha1)),
            p_source_algorithm: None,
        });
        assert!(matches!(
            key_transport_scheme(&mixed),
            Err(Error::Unsupported(_))
        ));
        let label = with(RsaesOaepParams {
            hash_algorithm: Some(sha256.clone()),
            mask_gen_algorithm: Some(mgf(&sha256)),
            p_source_algorithm: Some(AlgorithmIdentifierOwned {
                oid: oid::ID_P_SPECIFIED,
                parameters: Some(
                    Any::encode_from(&OctetString::new(b"x".to_vec()).unwrap()).unwrap(),
                ),
            }),
        });
        assert!(matches!(
            key_transport_scheme(&label),
            Err(Error::Unsupported(_))
        ));
        let empty_label = with(RsaesOaepParams {
            hash_algorithm: Some(sha256.clone()),
            mask_gen_algorithm: Some(mgf(&sha256)),
            p_source_algorithm: Some(AlgorithmIdentifierOwned {
                oid: oid::ID_P_SPECIFIED,
                parameters: Some(Any::encode_from(&OctetString::new(Vec::new()).unwrap()).unwrap()),
            }),
        });
        assert_eq!(
            key_transport_scheme(&empty_label).unwrap(),
            EncryptionScheme::RsaOaep(HashAlgorithm::Sha256)
        );
        let absent = AlgorithmIdentifierOwned {
            oid: oid::ID_RSAES_OAEP,
            parameters: None,
        };
        assert_eq!(
            key_transport_scheme(&absent).unwrap(),
            EncryptionScheme::RsaOaepSha1
        );
    }

    #[test]
    fn every_content_cipher_round_trips_and_detects_a_wrong_key() {
        for alg in ContentEncryptionAlgorithm::ALL {
            let key = vec![7u8; alg.key_len()];
            let iv = [9u8; CBC_IV_LEN];
            let ct = alg.encrypt(&key, &iv, b"escrowed key").unwrap();
            assert_eq!(&alg.decrypt(&key, &iv, &ct).unwrap()[..], b"escrowed key");
            let id = alg.identifier(&iv).unwrap();
            assert_eq!(
                ContentEncryptionAlgorithm::from_identifier(&id).unwrap(),
                (alg, iv)
            );
            assert!(alg.decrypt(&key[1..], &iv, &ct).is_err());
            assert!(alg.decrypt(&key, &iv, &ct[1..]).is_err());
        }
    }
}
