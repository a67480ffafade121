//! The algorithm identifiers this crate reads and writes: content encryption (AES-CBC of RFC
//! 3565, SM4-CBC of GM/T 0006; for `AuthEnvelopedData`, AES-GCM of RFC 5084 and SM4-GCM with
//! the same `GCMParameters`, and [`ContentCipher`] naming all of them), key transport (`rsaEncryption` and RSAES-OAEP of RFC 8017
//! with the parameters of RFC 4055 §4.1; SM2 encryption `1.2.156.10197.1.301.3` of GM/T
//! 0010 §6.8) and ECDH key agreement (RFC 5753 §7.1.4: `dhSinglePass-*DH-sha*kdf-scheme`
//! with the X9.63 KDF over `ECC-CMS-SharedInfo`, and AES key wrap of RFC 3394).

use std::fmt;

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use const_oid::ObjectIdentifier;
use der::Sequence;
use der::asn1::{Any, Null, OctetString};
use spki::AlgorithmIdentifierOwned;
use yinxin_crypto::symmetric::{
    CBC_IV_LEN, GCM_NONCE_LEN, GCM_TAG_LEN, SymmetricAlgorithm, SymmetricKey,
};
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

    /// The algorithm with this object identifier, if yinxin implements it. The bare SM4
    /// identifier `1.2.156.10197.1.104` (GM/T 0006's block cipher, without a mode) is read as
    /// SM4-CBC, as some GM/T 0010 writers use it with an IV parameter.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        if *oid == yinxin_crypto::oid::SM4 {
            return Some(ContentEncryptionAlgorithm::Sm4Cbc);
        }
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
            // GM/T 0010 §6.8 and GmSSL: `sm2encrypt` without parameters; the encrypted key is
            // the GM/T 0009 ASN.1 ciphertext.
            return Ok(AlgorithmIdentifierOwned {
                oid: yinxin_crypto::oid::SM2_ENCRYPT,
                parameters: None,
            });
        }
    };
    Ok(AlgorithmIdentifierOwned {
        oid: oid::ID_RSAES_OAEP,
        parameters: Some(Any::encode_from(&params).map_err(bad)?),
    })
}

/// The encryption scheme named by a `keyEncryptionAlgorithm`: `rsaEncryption` (PKCS#1
/// v1.5), RSAES-OAEP with SHA-1 or SHA-2, MGF1 with the same hash and an empty label, or SM2
/// encryption (`1.2.156.10197.1.301.3`, parameters absent or `NULL`; every SM2 ciphertext
/// layout is read).
pub fn key_transport_scheme(identifier: &AlgorithmIdentifierOwned) -> Result<EncryptionScheme> {
    if identifier.oid == yinxin_crypto::oid::SM2_ENCRYPT {
        check_absent_or_null(identifier, "sm2encrypt parameters")?;
        return Ok(EncryptionScheme::Sm2(
            yinxin_crypto::Sm2CiphertextFormat::Asn1,
        ));
    }
    if identifier.oid == oid::RSA_ENCRYPTION {
        check_absent_or_null(identifier, "rsaEncryption parameters")?;
        return Ok(EncryptionScheme::RsaPkcs1v15);
    }
    if identifier.oid != oid::ID_RSAES_OAEP {
        return Err(Error::Unsupported(format!(
            "key transport algorithm {} (yinxin reads rsaEncryption, RSAES-OAEP and sm2encrypt)",
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

/// The hash of the ANSI X9.63 key-derivation function named by a key-agreement algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KdfHash {
    /// SHA-1: what `openssl cms -encrypt` uses for EC recipients unless told otherwise.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl KdfHash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            KdfHash::Sha1 => yinxin_crypto::hash::sha1(data).to_vec(),
            KdfHash::Sha256 => yinxin_crypto::hash::digest(HashAlgorithm::Sha256, data),
            KdfHash::Sha384 => yinxin_crypto::hash::digest(HashAlgorithm::Sha384, data),
            KdfHash::Sha512 => yinxin_crypto::hash::digest(HashAlgorithm::Sha512, data),
        }
    }
}

impl fmt::Display for KdfHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KdfHash::Sha1 => "SHA-1",
            KdfHash::Sha256 => "SHA-256",
            KdfHash::Sha384 => "SHA-384",
            KdfHash::Sha512 => "SHA-512",
        })
    }
}

impl fmt::Display for KeyWrapAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyWrapAlgorithm::Aes128Wrap => "AES-128 key wrap",
            KeyWrapAlgorithm::Aes192Wrap => "AES-192 key wrap",
            KeyWrapAlgorithm::Aes256Wrap => "AES-256 key wrap",
        })
    }
}

impl fmt::Display for KeyAgreementAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ECDH{} (X9.63 KDF with {}), {}",
            if self.cofactor { " cofactor" } else { "" },
            self.kdf,
            self.wrap
        )
    }
}

/// An AES key-wrap algorithm (RFC 3394, identifiers of RFC 3565 §2.3.2, parameters absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyWrapAlgorithm {
    /// `id-aes128-wrap`.
    Aes128Wrap,
    /// `id-aes192-wrap`.
    Aes192Wrap,
    /// `id-aes256-wrap`.
    Aes256Wrap,
}

impl KeyWrapAlgorithm {
    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            KeyWrapAlgorithm::Aes128Wrap => oid::ID_AES128_WRAP,
            KeyWrapAlgorithm::Aes192Wrap => oid::ID_AES192_WRAP,
            KeyWrapAlgorithm::Aes256Wrap => oid::ID_AES256_WRAP,
        }
    }

    /// The key-encryption key's length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            KeyWrapAlgorithm::Aes128Wrap => 16,
            KeyWrapAlgorithm::Aes192Wrap => 24,
            KeyWrapAlgorithm::Aes256Wrap => 32,
        }
    }

    /// The `AlgorithmIdentifier` (parameters absent, RFC 3565 §2.3.2).
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: None,
        }
    }

    /// The key-wrap algorithm of an `AlgorithmIdentifier` (parameters must be absent; `NULL`
    /// is tolerated).
    pub fn from_identifier(identifier: &AlgorithmIdentifierOwned) -> Result<Self> {
        check_absent_or_null(identifier, "key wrap parameters")?;
        [
            KeyWrapAlgorithm::Aes128Wrap,
            KeyWrapAlgorithm::Aes192Wrap,
            KeyWrapAlgorithm::Aes256Wrap,
        ]
        .into_iter()
        .find(|w| w.oid() == identifier.oid)
        .ok_or_else(|| {
            Error::Unsupported(format!(
                "key wrap algorithm {} (yinxin reads id-aes128/192/256-wrap)",
                identifier.oid
            ))
        })
    }

    /// Wrap `key` (a multiple of 8 bytes, at least 16) under `kek` (RFC 3394 §2.2.1, default
    /// IV `A6A6A6A6A6A6A6A6`).
    pub fn wrap(self, kek: &[u8], key: &[u8]) -> Result<Vec<u8>> {
        use aes_kw::KeyInit;
        if key.len() < 16 || !key.len().is_multiple_of(8) {
            return Err(Error::Unsupported(format!(
                "wrapping a {}-byte key (AES key wrap needs a multiple of 8, at least 16)",
                key.len()
            )));
        }
        let mut out = vec![0u8; key.len() + 8];
        let bad_kek = |_| self.kek_length_error(kek.len());
        let wrapped = match self {
            KeyWrapAlgorithm::Aes128Wrap => aes_kw::KwAes128::new_from_slice(kek)
                .map_err(bad_kek)?
                .wrap_key(key, &mut out)
                .map(<[u8]>::len),
            KeyWrapAlgorithm::Aes192Wrap => aes_kw::KwAes192::new_from_slice(kek)
                .map_err(bad_kek)?
                .wrap_key(key, &mut out)
                .map(<[u8]>::len),
            KeyWrapAlgorithm::Aes256Wrap => aes_kw::KwAes256::new_from_slice(kek)
                .map_err(bad_kek)?
                .wrap_key(key, &mut out)
                .map(<[u8]>::len),
        }
        .map_err(|e| Error::Unsupported(format!("AES key wrap: {e}")))?;
        out.truncate(wrapped);
        Ok(out)
    }

    /// Unwrap `wrapped` under `kek` (RFC 3394 §2.2.2). A wrong key-encryption key or altered
    /// data fails the integrity check as [`Error::DecryptionFailed`].
    pub fn unwrap(self, kek: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        use aes_kw::KeyInit;
        if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
            return Err(Error::decode(
                "wrapped key",
                format!(
                    "{} bytes, AES key wrap gives a multiple of 8, at least 24",
                    wrapped.len()
                ),
            ));
        }
        let mut out = Zeroizing::new(vec![0u8; wrapped.len() - 8]);
        let bad_kek = |_| self.kek_length_error(kek.len());
        let len = match self {
            KeyWrapAlgorithm::Aes128Wrap => aes_kw::KwAes128::new_from_slice(kek)
                .map_err(bad_kek)?
                .unwrap_key(wrapped, &mut out)
                .map(<[u8]>::len),
            KeyWrapAlgorithm::Aes192Wrap => aes_kw::KwAes192::new_from_slice(kek)
                .map_err(bad_kek)?
                .unwrap_key(wrapped, &mut out)
                .map(<[u8]>::len),
            KeyWrapAlgorithm::Aes256Wrap => aes_kw::KwAes256::new_from_slice(kek)
                .map_err(bad_kek)?
                .unwrap_key(wrapped, &mut out)
                .map(<[u8]>::len),
        }
        .map_err(|_| Error::DecryptionFailed)?;
        out.truncate(len);
        Ok(out)
    }

    fn kek_length_error(self, got: usize) -> Error {
        Error::Crypto(yinxin_crypto::Error::Length {
            what: "key-encryption key",
            expected: match self.key_len() {
                16 => "16",
                24 => "24",
                _ => "32",
            },
            got,
        })
    }
}

/// `ECC-CMS-SharedInfo` (RFC 5753 §7.2): the X9.63 KDF's shared info when deriving a
/// key-encryption key from an ECDH shared secret.
///
/// ```text
/// ECC-CMS-SharedInfo ::= SEQUENCE {
///     keyInfo         AlgorithmIdentifier,         -- the key-wrap algorithm
///     entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL,  -- the ukm
///     suppPubInfo [2] EXPLICIT OCTET STRING  }     -- KEK length in bits, 32-bit big-endian
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EccCmsSharedInfo {
    /// `keyInfo`: the key-wrap algorithm, parameters absent.
    pub key_info: AlgorithmIdentifierOwned,
    /// `entityUInfo`: the `ukm` of the `KeyAgreeRecipientInfo`, if it has one.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub entity_u_info: Option<OctetString>,
    /// `suppPubInfo`: the key-encryption key's length in bits, four octets big-endian.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    pub supp_pub_info: OctetString,
}

/// An ephemeral-static ECDH key-agreement algorithm of RFC 5753 §7.1.4 (`keyEncryptionAlgorithm`
/// of a `KeyAgreeRecipientInfo`): the X9.63 KDF's hash and the key wrap carried as its
/// parameter. The cofactor variant is the same computation on P-256 and P-384 (cofactor 1).
///
/// ```text
/// keyEncryptionAlgorithm ::= SEQUENCE {
///     algorithm   dhSinglePass-stdDH-sha256kdf-scheme,   -- 1.3.132.1.11.1, etc.
///     parameters  KeyWrapAlgorithm }                     -- e.g. id-aes128-wrap
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyAgreementAlgorithm {
    /// The X9.63 KDF's hash.
    pub kdf: KdfHash,
    /// Whether the identifier is a `cofactorDH` one (read only; yinxin writes `stdDH`).
    pub cofactor: bool,
    /// The key wrap of the content-encryption key.
    pub wrap: KeyWrapAlgorithm,
}

impl KeyAgreementAlgorithm {
    /// What yinxin writes for a recipient key of `algorithm`, as RFC 6318 §2.2 pairs them:
    /// P-256 with the SHA-256 KDF and AES-128 key wrap, P-384 with SHA-384 and AES-256 wrap.
    pub fn for_key(algorithm: yinxin_crypto::KeyAlgorithm) -> Result<Self> {
        use yinxin_crypto::KeyAlgorithm;
        match algorithm {
            KeyAlgorithm::EcP256 => Ok(KeyAgreementAlgorithm {
                kdf: KdfHash::Sha256,
                cofactor: false,
                wrap: KeyWrapAlgorithm::Aes128Wrap,
            }),
            KeyAlgorithm::EcP384 => Ok(KeyAgreementAlgorithm {
                kdf: KdfHash::Sha384,
                cofactor: false,
                wrap: KeyWrapAlgorithm::Aes256Wrap,
            }),
            other => Err(Error::Unsupported(format!(
                "ECDH key agreement with a {other} key"
            ))),
        }
    }

    const OIDS: [(ObjectIdentifier, KdfHash, bool); 8] = [
        (oid::DH_STD_SHA1_KDF, KdfHash::Sha1, false),
        (oid::DH_STD_SHA256_KDF, KdfHash::Sha256, false),
        (oid::DH_STD_SHA384_KDF, KdfHash::Sha384, false),
        (oid::DH_STD_SHA512_KDF, KdfHash::Sha512, false),
        (oid::DH_COFACTOR_SHA1_KDF, KdfHash::Sha1, true),
        (oid::DH_COFACTOR_SHA256_KDF, KdfHash::Sha256, true),
        (oid::DH_COFACTOR_SHA384_KDF, KdfHash::Sha384, true),
        (oid::DH_COFACTOR_SHA512_KDF, KdfHash::Sha512, true),
    ];

    /// The algorithm's object identifier.
    pub fn oid(&self) -> ObjectIdentifier {
        Self::OIDS
            .iter()
            .find(|(_, kdf, cofactor)| *kdf == self.kdf && *cofactor == self.cofactor)
            .map_or(oid::DH_STD_SHA256_KDF, |(o, _, _)| *o)
    }

    /// The `keyEncryptionAlgorithm` identifier, the key wrap as its parameter.
    pub fn identifier(&self) -> Result<AlgorithmIdentifierOwned> {
        Ok(AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: Some(
                Any::encode_from(&self.wrap.identifier())
                    .map_err(|e| Error::decode("key agreement algorithm", e))?,
            ),
        })
    }

    /// The algorithm of a `keyEncryptionAlgorithm` identifier. SHA-224 KDFs are not read.
    pub fn from_identifier(identifier: &AlgorithmIdentifierOwned) -> Result<Self> {
        let (_, kdf, cofactor) = Self::OIDS
            .iter()
            .find(|(o, _, _)| *o == identifier.oid)
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "key agreement algorithm {} (yinxin reads dhSinglePass-stdDH/cofactorDH \
                     with SHA-1, SHA-256, SHA-384 or SHA-512 KDFs)",
                    identifier.oid
                ))
            })?;
        let wrap: AlgorithmIdentifierOwned = identifier
            .parameters
            .as_ref()
            .ok_or_else(|| Error::decode("key agreement algorithm", "no key wrap algorithm"))?
            .decode_as()
            .map_err(|e| Error::decode("key agreement algorithm", e))?;
        Ok(KeyAgreementAlgorithm {
            kdf: *kdf,
            cofactor: *cofactor,
            wrap: KeyWrapAlgorithm::from_identifier(&wrap)?,
        })
    }

    /// The key-encryption key derived from the shared secret `z` (RFC 5753 §7.2: the ANSI
    /// X9.63 KDF, `Hash(Z ‖ counter ‖ ECC-CMS-SharedInfo)` with a 32-bit counter from 1).
    pub fn key_encryption_key(&self, z: &[u8], ukm: Option<&[u8]>) -> Result<Zeroizing<Vec<u8>>> {
        use der::Encode;
        let bad = |e: der::Error| Error::decode("ECC-CMS-SharedInfo", e);
        let kek_len = self.wrap.key_len();
        let bits = u32::try_from(kek_len * 8).unwrap_or(u32::MAX);
        let shared_info = EccCmsSharedInfo {
            key_info: self.wrap.identifier(),
            entity_u_info: ukm
                .map(|u| OctetString::new(u.to_vec()))
                .transpose()
                .map_err(bad)?,
            supp_pub_info: OctetString::new(bits.to_be_bytes().to_vec()).map_err(bad)?,
        }
        .to_der()
        .map_err(bad)?;
        let mut out = Zeroizing::new(Vec::with_capacity(kek_len + 64));
        let mut input = Zeroizing::new(Vec::with_capacity(z.len() + 4 + shared_info.len()));
        let mut counter = 1u32;
        while out.len() < kek_len {
            input.clear();
            input.extend_from_slice(z);
            input.extend_from_slice(&counter.to_be_bytes());
            input.extend_from_slice(&shared_info);
            out.extend_from_slice(&Zeroizing::new(self.kdf.digest(&input)));
            counter += 1;
        }
        out.truncate(kek_len);
        Ok(out)
    }
}

/// An authenticated content-encryption algorithm of `AuthEnvelopedData` (RFC 5083): a block
/// cipher in GCM, a 12-byte nonce and the tag length carried as the algorithm's
/// [`GcmParameters`], the 16-byte tag as the envelope's `mac`. RFC 5084 defines the AES
/// identifiers; SM4-GCM (`1.2.156.10197.1.104.8`, GM/T 0006) takes the same parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthEncryptionAlgorithm {
    /// AES-128-GCM (`id-aes128-GCM`).
    Aes128Gcm,
    /// AES-256-GCM (`id-aes256-GCM`), what yinxin writes unless asked otherwise.
    #[default]
    Aes256Gcm,
    /// SM4-GCM (`1.2.156.10197.1.104.8`).
    Sm4Gcm,
}

impl AuthEncryptionAlgorithm {
    /// Every algorithm, in the order of the type.
    pub const ALL: [AuthEncryptionAlgorithm; 3] = [
        AuthEncryptionAlgorithm::Aes128Gcm,
        AuthEncryptionAlgorithm::Aes256Gcm,
        AuthEncryptionAlgorithm::Sm4Gcm,
    ];

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            AuthEncryptionAlgorithm::Aes128Gcm => oid::AES128_GCM,
            AuthEncryptionAlgorithm::Aes256Gcm => oid::AES256_GCM,
            AuthEncryptionAlgorithm::Sm4Gcm => oid::SM4_GCM,
        }
    }

    /// The algorithm with this object identifier, if yinxin implements it.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.oid() == *oid)
    }

    /// The content-encryption key's length in bytes.
    pub fn key_len(self) -> usize {
        self.symmetric().key_len()
    }

    /// The `AlgorithmIdentifier` with `nonce` and a 16-byte tag as its [`GcmParameters`].
    pub fn identifier(self, nonce: &[u8; GCM_NONCE_LEN]) -> Result<AlgorithmIdentifierOwned> {
        let bad = |e: der::Error| Error::decode("GCMParameters", e);
        let params = GcmParameters {
            nonce: OctetString::new(nonce.to_vec()).map_err(bad)?,
            icv_len: Some(GCM_TAG_LEN as u8),
        };
        Ok(AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: Some(Any::encode_from(&params).map_err(bad)?),
        })
    }

    /// The algorithm and nonce of an authenticated content-encryption `AlgorithmIdentifier`.
    /// Only 12-byte nonces and 16-byte tags are read (what OpenSSL, BouncyCastle and yinxin
    /// write); shorter tags are refused rather than accepted with less integrity.
    pub fn from_identifier(
        identifier: &AlgorithmIdentifierOwned,
    ) -> Result<(Self, [u8; GCM_NONCE_LEN])> {
        let algorithm = Self::from_oid(&identifier.oid).ok_or_else(|| {
            Error::Unsupported(format!(
                "authenticated content encryption algorithm {} (yinxin reads AES-128-GCM, \
                 AES-256-GCM and SM4-GCM)",
                identifier.oid
            ))
        })?;
        let params: GcmParameters = identifier
            .parameters
            .as_ref()
            .ok_or_else(|| Error::decode("GCMParameters", "absent (the nonce is required)"))?
            .decode_as()
            .map_err(|e| Error::decode("GCMParameters", e))?;
        let icv_len = params.icv_len.unwrap_or(12);
        if !(12..=16).contains(&icv_len) {
            return Err(Error::decode(
                "GCMParameters",
                format!("aes-ICVlen {icv_len}, RFC 5084 allows 12 to 16"),
            ));
        }
        if usize::from(icv_len) != GCM_TAG_LEN {
            return Err(Error::Unsupported(format!(
                "a {icv_len}-byte GCM tag (yinxin reads {GCM_TAG_LEN}-byte tags)"
            )));
        }
        let nonce = <[u8; GCM_NONCE_LEN]>::try_from(params.nonce.as_bytes()).map_err(|_| {
            Error::Unsupported(format!(
                "a {}-byte GCM nonce (yinxin reads the recommended {GCM_NONCE_LEN} bytes)",
                params.nonce.as_bytes().len()
            ))
        })?;
        Ok((algorithm, nonce))
    }

    /// Encrypt `plaintext` with `aad` authenticated alongside: the ciphertext and the
    /// 16-byte tag, apart.
    pub fn encrypt(
        self,
        key: &[u8],
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let mut sealed =
            SymmetricKey::from_bytes(self.symmetric(), key)?.gcm_seal(nonce, aad, plaintext)?;
        let tag = sealed.split_off(sealed.len().saturating_sub(GCM_TAG_LEN));
        Ok((sealed, tag))
    }

    /// Decrypt `ciphertext` and check `tag` over it and `aad`. Anything altered fails as
    /// [`Error::IntegrityCheckFailed`].
    pub fn decrypt(
        self,
        key: &[u8],
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        if tag.len() != GCM_TAG_LEN {
            return Err(Error::decode(
                "AuthEnvelopedData mac",
                format!("{} bytes, the GCM tag has {GCM_TAG_LEN}", tag.len()),
            ));
        }
        let key = SymmetricKey::from_bytes(self.symmetric(), key)?;
        let mut sealed = Zeroizing::new(Vec::with_capacity(ciphertext.len() + GCM_TAG_LEN));
        sealed.extend_from_slice(ciphertext);
        sealed.extend_from_slice(tag);
        key.gcm_open(nonce, aad, &sealed).map_err(|e| match e {
            yinxin_crypto::Error::DecryptionFailed => Error::IntegrityCheckFailed,
            other => Error::Crypto(other),
        })
    }

    fn symmetric(self) -> SymmetricAlgorithm {
        match self {
            AuthEncryptionAlgorithm::Aes128Gcm => SymmetricAlgorithm::Aes128,
            AuthEncryptionAlgorithm::Aes256Gcm => SymmetricAlgorithm::Aes256,
            AuthEncryptionAlgorithm::Sm4Gcm => SymmetricAlgorithm::Sm4,
        }
    }
}

impl fmt::Display for AuthEncryptionAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthEncryptionAlgorithm::Aes128Gcm => "AES-128-GCM",
            AuthEncryptionAlgorithm::Aes256Gcm => "AES-256-GCM",
            AuthEncryptionAlgorithm::Sm4Gcm => "SM4-GCM",
        })
    }
}

/// The parameters of the GCM content-encryption algorithms (RFC 5084 §3.2), also used with
/// SM4-GCM. yinxin writes a 12-byte nonce and `aes-ICVlen` 16.
///
/// ```text
/// GCMParameters ::= SEQUENCE {
///     aes-nonce        OCTET STRING, -- recommended size is 12 octets
///     aes-ICVlen       AES-GCM-ICVlen DEFAULT 12 }
///
/// AES-GCM-ICVlen ::= INTEGER (12 | 13 | 14 | 15 | 16)
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct GcmParameters {
    /// `aes-nonce`.
    pub nonce: OctetString,
    /// `aes-ICVlen`, the tag's length in bytes; `None` is the default, 12.
    #[asn1(optional = "true")]
    pub icv_len: Option<u8>,
}

/// Every content cipher yinxin writes, CBC and GCM alike; the cipher decides the envelope's
/// kind ([`ContentCipher::is_authenticated`]): `EnvelopedData` for CBC, `AuthEnvelopedData`
/// (RFC 5083) for GCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentCipher {
    /// AES-128-CBC (`EnvelopedData`).
    Aes128Cbc,
    /// AES-192-CBC (`EnvelopedData`).
    Aes192Cbc,
    /// AES-256-CBC (`EnvelopedData`).
    Aes256Cbc,
    /// SM4-CBC (`EnvelopedData`, either form).
    Sm4Cbc,
    /// AES-128-GCM (`AuthEnvelopedData`).
    Aes128Gcm,
    /// AES-256-GCM (`AuthEnvelopedData`).
    Aes256Gcm,
    /// SM4-GCM (`AuthEnvelopedData`).
    Sm4Gcm,
}

impl ContentCipher {
    /// What yinxin seals with when the caller does not choose: authenticated (GCM) in the
    /// RFC 5652 form, CBC in the GM/T 0010 form (which defines no authenticated envelope);
    /// SM4 when every recipient is SM2, AES-256 otherwise.
    pub fn default_for(form: crate::Form, all_recipients_sm2: bool) -> Self {
        match (form, all_recipients_sm2) {
            (crate::Form::Rfc5652, true) => ContentCipher::Sm4Gcm,
            (crate::Form::Rfc5652, false) => ContentCipher::Aes256Gcm,
            (crate::Form::GmT0010, true) => ContentCipher::Sm4Cbc,
            (crate::Form::GmT0010, false) => ContentCipher::Aes256Cbc,
        }
    }

    /// Every cipher, in the order of the type.
    pub const ALL: [ContentCipher; 7] = [
        ContentCipher::Aes128Cbc,
        ContentCipher::Aes192Cbc,
        ContentCipher::Aes256Cbc,
        ContentCipher::Sm4Cbc,
        ContentCipher::Aes128Gcm,
        ContentCipher::Aes256Gcm,
        ContentCipher::Sm4Gcm,
    ];

    /// Whether the cipher authenticates the content (GCM, in an `AuthEnvelopedData`).
    pub fn is_authenticated(self) -> bool {
        self.authenticated().is_some()
    }

    /// The GCM algorithm, for the authenticated ciphers.
    pub fn authenticated(self) -> Option<AuthEncryptionAlgorithm> {
        match self {
            ContentCipher::Aes128Gcm => Some(AuthEncryptionAlgorithm::Aes128Gcm),
            ContentCipher::Aes256Gcm => Some(AuthEncryptionAlgorithm::Aes256Gcm),
            ContentCipher::Sm4Gcm => Some(AuthEncryptionAlgorithm::Sm4Gcm),
            _ => None,
        }
    }

    /// The CBC algorithm, for the unauthenticated ciphers.
    pub fn unauthenticated(self) -> Option<ContentEncryptionAlgorithm> {
        match self {
            ContentCipher::Aes128Cbc => Some(ContentEncryptionAlgorithm::Aes128Cbc),
            ContentCipher::Aes192Cbc => Some(ContentEncryptionAlgorithm::Aes192Cbc),
            ContentCipher::Aes256Cbc => Some(ContentEncryptionAlgorithm::Aes256Cbc),
            ContentCipher::Sm4Cbc => Some(ContentEncryptionAlgorithm::Sm4Cbc),
            _ => None,
        }
    }

    /// The cipher named like OpenSSL's options without the dash, case-insensitively:
    /// `aes-128-cbc`, `aes-192-cbc`, `aes-256-cbc`, `sm4-cbc`, `aes-128-gcm`, `aes-256-gcm`,
    /// `sm4-gcm` (the [`Display`](fmt::Display) names).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.to_string().eq_ignore_ascii_case(name))
    }
}

impl From<ContentEncryptionAlgorithm> for ContentCipher {
    fn from(algorithm: ContentEncryptionAlgorithm) -> Self {
        match algorithm {
            ContentEncryptionAlgorithm::Aes128Cbc => ContentCipher::Aes128Cbc,
            ContentEncryptionAlgorithm::Aes192Cbc => ContentCipher::Aes192Cbc,
            ContentEncryptionAlgorithm::Aes256Cbc => ContentCipher::Aes256Cbc,
            ContentEncryptionAlgorithm::Sm4Cbc => ContentCipher::Sm4Cbc,
        }
    }
}

impl From<AuthEncryptionAlgorithm> for ContentCipher {
    fn from(algorithm: AuthEncryptionAlgorithm) -> Self {
        match algorithm {
            AuthEncryptionAlgorithm::Aes128Gcm => ContentCipher::Aes128Gcm,
            AuthEncryptionAlgorithm::Aes256Gcm => ContentCipher::Aes256Gcm,
            AuthEncryptionAlgorithm::Sm4Gcm => ContentCipher::Sm4Gcm,
        }
    }
}

impl fmt::Display for ContentCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.unauthenticated(), self.authenticated()) {
            (Some(cbc), _) => cbc.fmt(f),
            (_, Some(gcm)) => gcm.fmt(f),
            (None, None) => Ok(()),
        }
    }
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
    #[test]
    fn every_gcm_cipher_round_trips_and_detects_any_change() {
        for alg in AuthEncryptionAlgorithm::ALL {
            let key = vec![7u8; alg.key_len()];
            let nonce = [9u8; GCM_NONCE_LEN];
            let (ct, tag) = alg.encrypt(&key, &nonce, b"", b"sealed bid").unwrap();
            assert_eq!(tag.len(), GCM_TAG_LEN);
            assert_eq!(
                &alg.decrypt(&key, &nonce, b"", &ct, &tag).unwrap()[..],
                b"sealed bid"
            );
            let id = alg.identifier(&nonce).unwrap();
            let back = AlgorithmIdentifierOwned::from_der(&id.to_der().unwrap()).unwrap();
            assert_eq!(
                AuthEncryptionAlgorithm::from_identifier(&back).unwrap(),
                (alg, nonce)
            );
            let mut bad = ct.clone();
            bad[0] ^= 1;
            assert!(matches!(
                alg.decrypt(&key, &nonce, b"", &bad, &tag),
                Err(Error::IntegrityCheckFailed)
            ));
            assert!(matches!(
                alg.decrypt(&key, &nonce, b"x", &ct, &tag),
                Err(Error::IntegrityCheckFailed)
            ));
            assert!(alg.decrypt(&key, &nonce, b"", &ct, &tag[1..]).is_err());
        }
        // RFC 5084's DEFAULT 12 and out-of-range lengths.
        let with = |icv_len: Option<u8>, nonce_len: usize| AlgorithmIdentifierOwned {
            oid: oid::AES128_GCM,
            parameters: Some(
                Any::encode_from(&GcmParameters {
                    nonce: OctetString::new(vec![0u8; nonce_len]).unwrap(),
                    icv_len,
                })
                .unwrap(),
            ),
        };
        for (icv_len, nonce_len) in [(None, 12), (Some(12), 12), (Some(17), 12), (Some(16), 16)] {
            assert!(
                AuthEncryptionAlgorithm::from_identifier(&with(icv_len, nonce_len)).is_err(),
                "{icv_len:?} {nonce_len}"
            );
        }
        for cipher in ContentCipher::ALL {
            assert_eq!(ContentCipher::from_name(&cipher.to_string()), Some(cipher));
        }
    }

    #[test]
    fn aes_key_wrap_matches_rfc_3394() {
        // RFC 3394 §4.1, §4.3 and §4.6.
        let kek128 = hex::decode("000102030405060708090A0B0C0D0E0F").unwrap();
        let kek256 =
            hex::decode("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
                .unwrap();
        let key128 = hex::decode("00112233445566778899AABBCCDDEEFF").unwrap();
        let key256 =
            hex::decode("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
                .unwrap();
        for (wrap, kek, key, expected) in [
            (
                KeyWrapAlgorithm::Aes128Wrap,
                &kek128,
                &key128,
                "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5",
            ),
            (
                KeyWrapAlgorithm::Aes256Wrap,
                &kek256,
                &key128,
                "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7",
            ),
            (
                KeyWrapAlgorithm::Aes256Wrap,
                &kek256,
                &key256,
                "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
            ),
        ] {
            let wrapped = wrap.wrap(kek, key).unwrap();
            assert_eq!(hex::encode_upper(&wrapped), expected);
            assert_eq!(&wrap.unwrap(kek, &wrapped).unwrap()[..], &key[..]);
            let mut bad = wrapped.clone();
            bad[3] ^= 1;
            assert!(matches!(
                wrap.unwrap(kek, &bad),
                Err(Error::DecryptionFailed)
            ));
            assert!(wrap.unwrap(kek, &wrapped[..16]).is_err());
            assert!(wrap.unwrap(&kek[1..], &wrapped).is_err());
        }
    }

    #[test]
    fn key_agreement_identifiers_round_trip() {
        for alg in [
            KeyAgreementAlgorithm::for_key(yinxin_crypto::KeyAlgorithm::EcP256).unwrap(),
            KeyAgreementAlgorithm::for_key(yinxin_crypto::KeyAlgorithm::EcP384).unwrap(),
            KeyAgreementAlgorithm {
                kdf: KdfHash::Sha1,
                cofactor: true,
                wrap: KeyWrapAlgorithm::Aes192Wrap,
            },
        ] {
            let der = alg.identifier().unwrap().to_der().unwrap();
            let back = AlgorithmIdentifierOwned::from_der(&der).unwrap();
            assert_eq!(KeyAgreementAlgorithm::from_identifier(&back).unwrap(), alg);
        }
        // OpenSSL's default for EC recipients: stdDH-sha1kdf with id-aes256-wrap.
        let openssl = hex::decode("301806092b81051086483f0002300b060960864801650304012d").unwrap();
        let id = AlgorithmIdentifierOwned::from_der(&openssl).unwrap();
        assert_eq!(
            KeyAgreementAlgorithm::from_identifier(&id).unwrap(),
            KeyAgreementAlgorithm {
                kdf: KdfHash::Sha1,
                cofactor: false,
                wrap: KeyWrapAlgorithm::Aes256Wrap
            }
        );
    }

    #[test]
    fn sm2_key_transport_identifier() {
        let id = key_transport_identifier(&EncryptionScheme::Sm2(
            yinxin_crypto::Sm2CiphertextFormat::Asn1,
        ))
        .unwrap();
        assert_eq!(
            hex::encode(id.to_der().unwrap()),
            "300b06092a811ccf5501822d03"
        );
        assert!(matches!(
            key_transport_scheme(&id).unwrap(),
            EncryptionScheme::Sm2(_)
        ));
        let with_null = AlgorithmIdentifierOwned {
            oid: yinxin_crypto::oid::SM2_ENCRYPT,
            parameters: Some(Any::encode_from(&Null).unwrap()),
        };
        assert!(key_transport_scheme(&with_null).is_ok());
        assert_eq!(
            ContentEncryptionAlgorithm::from_oid(&yinxin_crypto::oid::SM4),
            Some(ContentEncryptionAlgorithm::Sm4Cbc)
        );
    }
}
