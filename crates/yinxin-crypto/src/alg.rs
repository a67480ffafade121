//! The vocabulary of algorithms: key types, hashes, signature and encryption schemes.
//!
//! Callers name *what* they want (a [`SignatureScheme`], an [`EncryptionScheme`]) and hand it to
//! a key; they never branch on the algorithm themselves.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The algorithm of an asymmetric key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// SM2 on the curve `sm2p256v1` (GM/T 0003).
    Sm2,
    /// RSA with a modulus of this many bits (2048 to 4096).
    Rsa {
        /// Modulus size in bits.
        bits: u32,
    },
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
}

impl KeyAlgorithm {
    /// The signature scheme used when the caller names none: SM2 with SM3 and the default ID,
    /// RSA PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256 (P-256) or SHA-384 (P-384).
    pub fn default_signature_scheme(self) -> SignatureScheme {
        match self {
            KeyAlgorithm::Sm2 => SignatureScheme::Sm2WithSm3 {
                id: DistinguishingId::default(),
            },
            KeyAlgorithm::Rsa { .. } => SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha256),
            KeyAlgorithm::EcP256 => SignatureScheme::Ecdsa(HashAlgorithm::Sha256),
            KeyAlgorithm::EcP384 => SignatureScheme::Ecdsa(HashAlgorithm::Sha384),
        }
    }

    /// The encryption scheme used when the caller names none: SM2 with the GM/T 0009 ASN.1
    /// ciphertext, RSA-OAEP with SHA-256. ECDSA keys cannot encrypt.
    pub fn default_encryption_scheme(self) -> Result<EncryptionScheme> {
        match self {
            KeyAlgorithm::Sm2 => Ok(EncryptionScheme::Sm2(Sm2CiphertextFormat::Asn1)),
            KeyAlgorithm::Rsa { .. } => Ok(EncryptionScheme::RsaOaep(HashAlgorithm::Sha256)),
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => Err(Error::Unsupported(format!(
                "{self} keys sign only; use an SM2 or RSA key to encrypt"
            ))),
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Sm2 => f.write_str("SM2"),
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyAlgorithm::EcP256 => f.write_str("ECDSA P-256"),
            KeyAlgorithm::EcP384 => f.write_str("ECDSA P-384"),
        }
    }
}

/// What to generate: the key types yinxin creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySpec {
    /// SM2.
    Sm2,
    /// RSA-2048.
    Rsa2048,
    /// RSA-3072.
    Rsa3072,
    /// RSA-4096.
    Rsa4096,
    /// ECDSA P-256.
    EcP256,
    /// ECDSA P-384.
    EcP384,
}

impl KeySpec {
    /// Every key type, in the order the CLI lists them.
    pub const ALL: [KeySpec; 6] = [
        KeySpec::Sm2,
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::EcP256,
        KeySpec::EcP384,
    ];

    /// The algorithm of keys made from this spec.
    pub fn algorithm(self) -> KeyAlgorithm {
        match self {
            KeySpec::Sm2 => KeyAlgorithm::Sm2,
            KeySpec::Rsa2048 => KeyAlgorithm::Rsa { bits: 2048 },
            KeySpec::Rsa3072 => KeyAlgorithm::Rsa { bits: 3072 },
            KeySpec::Rsa4096 => KeyAlgorithm::Rsa { bits: 4096 },
            KeySpec::EcP256 => KeyAlgorithm::EcP256,
            KeySpec::EcP384 => KeyAlgorithm::EcP384,
        }
    }

    /// The name used on the command line and in token files.
    pub fn name(self) -> &'static str {
        match self {
            KeySpec::Sm2 => "sm2",
            KeySpec::Rsa2048 => "rsa2048",
            KeySpec::Rsa3072 => "rsa3072",
            KeySpec::Rsa4096 => "rsa4096",
            KeySpec::EcP256 => "ec-p256",
            KeySpec::EcP384 => "ec-p384",
        }
    }
}

impl FromStr for KeySpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        KeySpec::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "key type \"{s}\" (choose sm2, rsa2048, rsa3072, rsa4096, ec-p256 or ec-p384)"
                ))
            })
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A message digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SM3 (GM/T 0004), 256 bits.
    Sm3,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Every hash, in the order the CLI lists them.
    pub const ALL: [HashAlgorithm; 4] = [
        HashAlgorithm::Sm3,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sm3 | HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// The name used on the command line (and by `openssl dgst`).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sm3 => "sm3",
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }

    /// The canonical object identifier.
    pub fn oid(self) -> const_oid::ObjectIdentifier {
        match self {
            HashAlgorithm::Sm3 => crate::oid::SM3,
            HashAlgorithm::Sha256 => crate::oid::SHA256,
            HashAlgorithm::Sha384 => crate::oid::SHA384,
            HashAlgorithm::Sha512 => crate::oid::SHA512,
        }
    }
}

impl FromStr for HashAlgorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let normalized = s.to_ascii_lowercase().replace('-', "");
        HashAlgorithm::ALL
            .into_iter()
            .find(|h| h.name() == normalized)
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "hash \"{s}\" (choose sm3, sha256, sha384 or sha512)"
                ))
            })
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HashAlgorithm::Sm3 => "SM3",
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        })
    }
}

/// The SM2 signer's distinguishing identifier, hashed into the Z value (GM/T 0003.2 §5.5).
///
/// It is part of every SM2 signature: a signature made under one ID does not verify under
/// another. The default is the GM/T 0009 default `1234567812345678`; note that OpenSSL 3.0
/// uses an *empty* ID wherever it is not told one (`-pkeyopt distid:…`, `-vfyopt distid:…`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DistinguishingId(Vec<u8>);

impl DistinguishingId {
    /// The GM/T 0009 default ID, `1234567812345678`.
    pub const DEFAULT: &'static [u8] = b"1234567812345678";

    /// An ID of arbitrary bytes. Its bit length must fit the 16-bit ENTL field.
    pub fn new(id: impl Into<Vec<u8>>) -> Result<Self> {
        let id = id.into();
        if id.len() > 8191 {
            return Err(Error::Length {
                what: "SM2 distinguishing ID",
                expected: "at most 8191",
                got: id.len(),
            });
        }
        Ok(DistinguishingId(id))
    }

    /// The ID's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Default for DistinguishingId {
    fn default() -> Self {
        DistinguishingId(Self::DEFAULT.to_vec())
    }
}

impl fmt::Debug for DistinguishingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) => write!(f, "DistinguishingId({s:?})"),
            Err(_) => write!(f, "DistinguishingId(0x{})", hex::encode(&self.0)),
        }
    }
}

/// How to sign: algorithm, hash, padding and (for SM2) the signer's ID.
///
/// Signatures are encoded as OpenSSL does: SM2 and ECDSA as DER `SEQUENCE { r, s }`, RSA as
/// the big-endian integer of the modulus length. Verification also accepts raw `r || s`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignatureScheme {
    /// SM2 with SM3 over `Z || M`, `Z` computed from the signer's ID and public key.
    Sm2WithSm3 {
        /// The signer's distinguishing identifier.
        id: DistinguishingId,
    },
    /// RSASSA-PKCS1-v1_5 with this hash.
    RsaPkcs1v15(HashAlgorithm),
    /// RSASSA-PSS with this hash, MGF1 with the same hash, salt as long as the hash.
    RsaPss(HashAlgorithm),
    /// ECDSA with this hash.
    Ecdsa(HashAlgorithm),
}

impl SignatureScheme {
    /// The scheme for a key of `algorithm`, taking the caller's optional hash and SM2 ID.
    ///
    /// An ID given for a non-SM2 key, or a hash other than SM3 for SM2, is an error rather
    /// than being dropped silently.
    pub fn for_key(
        algorithm: KeyAlgorithm,
        hash: Option<HashAlgorithm>,
        id: Option<DistinguishingId>,
        pss: bool,
    ) -> Result<Self> {
        match algorithm {
            KeyAlgorithm::Sm2 => {
                if let Some(h) = hash.filter(|h| *h != HashAlgorithm::Sm3) {
                    return Err(Error::Unsupported(format!(
                        "SM2 signatures use SM3, not {h}"
                    )));
                }
                if pss {
                    return Err(Error::Unsupported("PSS applies to RSA keys only".into()));
                }
                Ok(SignatureScheme::Sm2WithSm3 {
                    id: id.unwrap_or_default(),
                })
            }
            _ if id.is_some() => Err(Error::Unsupported(format!(
                "a signer ID applies to SM2 keys only, this is a {algorithm} key"
            ))),
            KeyAlgorithm::Rsa { .. } => {
                let h = hash.unwrap_or(HashAlgorithm::Sha256);
                Ok(if pss {
                    SignatureScheme::RsaPss(h)
                } else {
                    SignatureScheme::RsaPkcs1v15(h)
                })
            }
            KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => {
                if pss {
                    return Err(Error::Unsupported("PSS applies to RSA keys only".into()));
                }
                Ok(SignatureScheme::Ecdsa(
                    hash.unwrap_or(algorithm.default_signature_scheme().hash()),
                ))
            }
        }
    }

    /// The hash the scheme applies to the message.
    pub fn hash(&self) -> HashAlgorithm {
        match self {
            SignatureScheme::Sm2WithSm3 { .. } => HashAlgorithm::Sm3,
            SignatureScheme::RsaPkcs1v15(h)
            | SignatureScheme::RsaPss(h)
            | SignatureScheme::Ecdsa(h) => *h,
        }
    }

    /// Whether keys of `algorithm` can use this scheme.
    pub fn fits(&self, algorithm: KeyAlgorithm) -> bool {
        matches!(
            (self, algorithm),
            (SignatureScheme::Sm2WithSm3 { .. }, KeyAlgorithm::Sm2)
                | (
                    SignatureScheme::RsaPkcs1v15(_) | SignatureScheme::RsaPss(_),
                    KeyAlgorithm::Rsa { .. }
                )
                | (
                    SignatureScheme::Ecdsa(_),
                    KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384
                )
        )
    }

    /// [`Self::fits`] as a result, for key backends.
    pub fn check_fits(&self, algorithm: KeyAlgorithm) -> Result<()> {
        check_fits(self.fits(algorithm), self, algorithm)
    }
}

impl fmt::Display for SignatureScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureScheme::Sm2WithSm3 { id } => match std::str::from_utf8(id.as_bytes()) {
                Ok(text) => write!(f, "SM2-with-SM3 (ID \"{text}\")"),
                Err(_) => write!(f, "SM2-with-SM3 (ID 0x{})", hex::encode(id.as_bytes())),
            },
            SignatureScheme::RsaPkcs1v15(h) => write!(f, "RSA PKCS#1 v1.5 with {h}"),
            SignatureScheme::RsaPss(h) => write!(f, "RSA-PSS with {h}"),
            SignatureScheme::Ecdsa(h) => write!(f, "ECDSA with {h}"),
        }
    }
}

fn check_fits(fits: bool, scheme: &impl fmt::Display, algorithm: KeyAlgorithm) -> Result<()> {
    if fits {
        Ok(())
    } else {
        Err(Error::SchemeMismatch {
            scheme: scheme.to_string(),
            key: algorithm.to_string(),
        })
    }
}

/// The layout of an SM2 ciphertext.
///
/// Decryption accepts every layout (and raw forms with or without the `0x04` point prefix);
/// this only chooses what encryption writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sm2CiphertextFormat {
    /// GM/T 0009 ASN.1 `SEQUENCE { x, y, hash, ciphertext }`, as OpenSSL writes it.
    #[default]
    Asn1,
    /// Raw `04 || C1 || C3 || C2` (GM/T 0003-2012 order).
    C1C3C2,
    /// Raw `04 || C1 || C2 || C3` (the 2010 draft order, still used by old middleware).
    C1C2C3,
}

/// How to encrypt to (or decrypt with) an asymmetric key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EncryptionScheme {
    /// SM2 public-key encryption (GM/T 0003.4) with SM3, written in this layout.
    Sm2(Sm2CiphertextFormat),
    /// RSAES-OAEP with this hash for both the label hash and MGF1.
    RsaOaep(HashAlgorithm),
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1: OpenSSL's OAEP default and the only OAEP that
    /// many PKCS#11 modules (SoftHSM2 among them) implement. SHA-1's collisions do not weaken
    /// OAEP.
    RsaOaepSha1,
    /// RSAES-PKCS1-v1_5: decryption of legacy envelopes only.
    RsaPkcs1v15,
}

impl EncryptionScheme {
    /// Whether keys of `algorithm` can use this scheme.
    pub fn fits(&self, algorithm: KeyAlgorithm) -> bool {
        matches!(
            (self, algorithm),
            (EncryptionScheme::Sm2(_), KeyAlgorithm::Sm2)
                | (
                    EncryptionScheme::RsaOaep(_)
                        | EncryptionScheme::RsaOaepSha1
                        | EncryptionScheme::RsaPkcs1v15,
                    KeyAlgorithm::Rsa { .. }
                )
        )
    }

    /// [`Self::fits`] as a result, for key backends.
    pub fn check_fits(&self, algorithm: KeyAlgorithm) -> Result<()> {
        check_fits(self.fits(algorithm), self, algorithm)
    }
}

impl fmt::Display for EncryptionScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncryptionScheme::Sm2(_) => f.write_str("SM2 encryption"),
            EncryptionScheme::RsaOaep(h) => write!(f, "RSA-OAEP with {h}"),
            EncryptionScheme::RsaOaepSha1 => f.write_str("RSA-OAEP with SHA-1"),
            EncryptionScheme::RsaPkcs1v15 => f.write_str("RSA PKCS#1 v1.5 encryption"),
        }
    }
}
