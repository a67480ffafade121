//! Asymmetric keys: [`PublicKey`] and the in-memory [`PrivateKey`], their PKCS#8 / SPKI /
//! PKCS#1 / SEC1 encodings in PEM and DER, generation, signing, verification, encryption and
//! decryption.
//!
//! RSA and NIST-curve ECDSA signing, verification and RSA decryption run on `aws-lc-rs`
//! (AWS-LC's assembly, which also cleanses key memory when it is freed) where it covers the
//! combination of curve, hash and padding; RustCrypto does the rest. SM2 runs on `yinxin-sm2`
//! with yinxin's own Z value (see `sm2_ops`); RustCrypto's `sm2` types carry its encodings.

use std::fmt;

use ::sm2::elliptic_curve::Generate;
use der::Decode;
use pkcs8::EncodePrivateKey;
use rsa::pkcs1::{
    DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey,
};
use rsa::traits::PublicKeyParts;
use signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
use spki::{EncodePublicKey, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use crate::alg::{EncryptionScheme, HashAlgorithm, KeyAlgorithm, KeySpec, SignatureScheme};
use crate::error::{Error, Result};
use crate::oid::{self, Meaning};
use crate::{hash, pem, sm2_ops};

/// Refuse password-based encryption parameters that would cost more than a few seconds or a
/// gigabyte to try: a crafted key file must fail fast, not exhaust the machine.
fn check_pbe_cost(scheme: &pkcs8::pkcs5::EncryptionScheme) -> Result<()> {
    use pkcs8::pkcs5::pbes2::Kdf;
    const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;
    const MAX_SCRYPT_MEMORY: u64 = 1 << 30;
    let pkcs8::pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        return Err(Error::Unsupported(
            "PBES1-encrypted keys (DES, RC2, SHA-1); re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into(),
        ));
    };
    match &params.kdf {
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => {
            Err(Error::Unsupported(format!(
                "PBKDF2 with {} iterations (at most {MAX_PBKDF2_ITERATIONS})",
                p.iteration_count
            )))
        }
        Kdf::Scrypt(p) => {
            let memory = 128u64
                .saturating_mul(p.cost_parameter)
                .saturating_mul(u64::from(p.block_size))
                .saturating_mul(u64::from(p.parallelization.max(1)));
            if memory > MAX_SCRYPT_MEMORY {
                Err(Error::Unsupported(format!(
                    "scrypt needing {memory} bytes of memory (at most {MAX_SCRYPT_MEMORY})"
                )))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// Whether a PEM or DER input is a private or public key, for error messages.
const PRIVATE_KEY: &str = "a private key (PKCS#8, PKCS#1 or SEC1)";
const PUBLIC_KEY: &str = "a public key (SubjectPublicKeyInfo or PKCS#1)";

/// A public key of any supported algorithm.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey(PublicKeyInner);

#[derive(Clone, PartialEq, Eq)]
enum PublicKeyInner {
    /// RustCrypto's type for encodings and encryption, yinxin-sm2's for signatures.
    Sm2(::sm2::PublicKey, yinxin_sm2::PublicKey),
    Rsa(rsa::RsaPublicKey),
    EcP256(p256::PublicKey),
    EcP384(p384::PublicKey),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.algorithm())
    }
}

impl PublicKey {
    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.0 {
            PublicKeyInner::Sm2(..) => KeyAlgorithm::Sm2,
            PublicKeyInner::Rsa(k) => KeyAlgorithm::Rsa { bits: k.n().bits() },
            PublicKeyInner::EcP256(_) => KeyAlgorithm::EcP256,
            PublicKeyInner::EcP384(_) => KeyAlgorithm::EcP384,
        }
    }

    /// Decode a DER `SubjectPublicKeyInfo` (any equivalent SM2 spelling) or PKCS#1
    /// `RSAPublicKey`.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        match SubjectPublicKeyInfoRef::from_der(der) {
            Ok(spki) => Self::from_spki(&spki),
            Err(spki_err) => match rsa::RsaPublicKey::from_pkcs1_der(der) {
                Ok(k) => Self::from_rsa(k),
                Err(_) => Err(Error::decode("public key", spki_err)),
            },
        }
    }

    /// Decode a PEM `PUBLIC KEY` or `RSA PUBLIC KEY` block.
    pub fn from_pem(pem: &str) -> Result<Self> {
        let block = pem::first_of(
            pem,
            &["PUBLIC KEY", "RSA PUBLIC KEY"],
            "public key",
            PUBLIC_KEY,
        )?;
        Self::from_der(&block.der)
    }

    /// Decode PEM or DER, whichever `data` is.
    pub fn from_pem_or_der(data: &[u8]) -> Result<Self> {
        match std::str::from_utf8(data).ok().filter(|_| pem::is_pem(data)) {
            Some(text) => Self::from_pem(text),
            None => Self::from_der(data),
        }
    }

    fn from_spki(spki: &SubjectPublicKeyInfoRef<'_>) -> Result<Self> {
        let alg = &spki.algorithm;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::decode("public key", "unused bits in the key BIT STRING"))?;
        let curve = ec_curve(alg.oid, alg.parameters.as_ref().map(|p| p.value()))?;
        match curve {
            Some(Curve::Sm2) => Self::sm2_from_sec1(bits),
            Some(Curve::P256) => p256::PublicKey::from_sec1_bytes(bits)
                .map(|k| PublicKey(PublicKeyInner::EcP256(k)))
                .map_err(|_| Error::decode("P-256 public key", "not a point on P-256")),
            Some(Curve::P384) => p384::PublicKey::from_sec1_bytes(bits)
                .map(|k| PublicKey(PublicKeyInner::EcP384(k)))
                .map_err(|_| Error::decode("P-384 public key", "not a point on P-384")),
            None if alg.oid == oid::RSA_ENCRYPTION => rsa::RsaPublicKey::from_pkcs1_der(bits)
                .map_err(|e| Error::decode("RSA public key", e))
                .and_then(Self::from_rsa),
            None => Err(Error::Unsupported(format!(
                "public key algorithm {}",
                alg.oid
            ))),
        }
    }

    fn sm2_from_sec1(bytes: &[u8]) -> Result<Self> {
        let bad = |_| Error::decode("SM2 public key", "not a point on the SM2 curve");
        let rc = ::sm2::PublicKey::from_sec1_bytes(bytes).map_err(bad)?;
        Self::from_sm2(rc)
    }

    fn from_sm2(rc: ::sm2::PublicKey) -> Result<Self> {
        use ::sm2::elliptic_curve::sec1::ToSec1Point;
        let point = rc.to_sec1_point(false);
        let fast = yinxin_sm2::PublicKey::from_sec1_bytes(point.as_bytes())
            .map_err(|_| Error::decode("SM2 public key", "not a point on the SM2 curve"))?;
        Ok(PublicKey(PublicKeyInner::Sm2(rc, fast)))
    }

    fn from_rsa(key: rsa::RsaPublicKey) -> Result<Self> {
        check_rsa_bits(key.n().bits() as usize)?;
        Ok(PublicKey(PublicKeyInner::Rsa(key)))
    }

    /// The DER `SubjectPublicKeyInfo`, in canonical form (SM2 as `id-ecPublicKey` with the
    /// SM2 curve, as OpenSSL writes it).
    pub fn to_der(&self) -> Vec<u8> {
        let doc = match &self.0 {
            PublicKeyInner::Sm2(k, _) => k.to_public_key_der(),
            PublicKeyInner::Rsa(k) => k.to_public_key_der(),
            PublicKeyInner::EcP256(k) => k.to_public_key_der(),
            PublicKeyInner::EcP384(k) => k.to_public_key_der(),
        };
        // Encoding a key we hold in memory cannot fail: it was decoded or generated valid.
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The PEM `PUBLIC KEY` block.
    pub fn to_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.to_der())
    }

    /// The raw key: the uncompressed SEC1 point for EC keys, PKCS#1 `RSAPublicKey` for RSA.
    pub fn raw_bytes(&self) -> Vec<u8> {
        use ::sm2::elliptic_curve::sec1::ToSec1Point;
        match &self.0 {
            PublicKeyInner::Sm2(_, k) => k.to_uncompressed().to_vec(),
            PublicKeyInner::EcP256(k) => k.to_sec1_point(false).as_bytes().to_vec(),
            PublicKeyInner::EcP384(k) => k.to_sec1_point(false).as_bytes().to_vec(),
            PublicKeyInner::Rsa(k) => k
                .to_pkcs1_der()
                .map(|d| d.as_bytes().to_vec())
                .unwrap_or_default(),
        }
    }

    /// An EC public key from its SEC1 point (as PKCS#11 and SKF devices return it).
    pub fn from_ec_point(algorithm: KeyAlgorithm, point: &[u8]) -> Result<Self> {
        let bad = |what| move |_| Error::decode(what, "not a valid point");
        Ok(PublicKey(match algorithm {
            KeyAlgorithm::Sm2 => return Self::sm2_from_sec1(point),
            KeyAlgorithm::EcP256 => PublicKeyInner::EcP256(
                p256::PublicKey::from_sec1_bytes(point).map_err(bad("P-256 point"))?,
            ),
            KeyAlgorithm::EcP384 => PublicKeyInner::EcP384(
                p384::PublicKey::from_sec1_bytes(point).map_err(bad("P-384 point"))?,
            ),
            KeyAlgorithm::Rsa { .. } => {
                return Err(Error::Unsupported("an RSA key is not an EC point".into()));
            }
        }))
    }

    /// An RSA public key from its big-endian modulus and exponent.
    pub fn from_rsa_components(modulus: &[u8], exponent: &[u8]) -> Result<Self> {
        let n = rsa::BoxedUint::from_be_slice_vartime(modulus);
        let e = rsa::BoxedUint::from_be_slice_vartime(exponent);
        let key = rsa::RsaPublicKey::new(n, e).map_err(|e| Error::decode("RSA public key", e))?;
        Self::from_rsa(key)
    }

    /// Verify `signature` over `message`. `Err(InvalidSignature)` means it does not verify.
    pub fn verify(&self, scheme: &SignatureScheme, message: &[u8], signature: &[u8]) -> Result<()> {
        scheme.check_fits(self.algorithm())?;
        match (&self.0, scheme) {
            (PublicKeyInner::Sm2(k, fast), SignatureScheme::Sm2WithSm3 { id }) => {
                sm2_ops::verify(fast, id, k, message, signature)
            }
            (PublicKeyInner::Rsa(_), _) => {
                let params: &dyn aws_lc_rs::signature::VerificationAlgorithm = match scheme {
                    SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha256) => {
                        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256
                    }
                    SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha384) => {
                        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA384
                    }
                    SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha512) => {
                        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA512
                    }
                    SignatureScheme::RsaPss(HashAlgorithm::Sha256) => {
                        &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA256
                    }
                    SignatureScheme::RsaPss(HashAlgorithm::Sha384) => {
                        &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA384
                    }
                    SignatureScheme::RsaPss(HashAlgorithm::Sha512) => {
                        &aws_lc_rs::signature::RSA_PSS_2048_8192_SHA512
                    }
                    _ => return Err(Error::Unsupported(format!("{scheme}"))),
                };
                let fast = aws_lc_rs::signature::UnparsedPublicKey::new(params, self.raw_bytes())
                    .verify(message, signature);
                match (fast, scheme, &self.0) {
                    (Ok(()), _, _) => Ok(()),
                    // AWS-LC wants salt = hash length; OpenSSL signs PSS with the longest salt
                    // by default. Accept any salt length, as OpenSSL's verifier does.
                    (Err(_), SignatureScheme::RsaPss(h), PublicKeyInner::Rsa(k)) => {
                        pss_verify_any_salt(k, *h, message, signature)
                    }
                    (Err(_), _, _) => Err(Error::InvalidSignature),
                }
            }
            (PublicKeyInner::EcP256(k), SignatureScheme::Ecdsa(h)) => {
                let fast: Option<&'static aws_lc_rs::signature::EcdsaVerificationAlgorithm> =
                    match h {
                        HashAlgorithm::Sha256 => {
                            Some(&aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1)
                        }
                        HashAlgorithm::Sha384 => {
                            Some(&aws_lc_rs::signature::ECDSA_P256_SHA384_ASN1)
                        }
                        _ => None,
                    };
                let vk = p256::ecdsa::VerifyingKey::from(k);
                ecdsa_verify(fast, &self.raw_bytes(), *h, message, signature, |d, s| {
                    let sig = p256::ecdsa::Signature::from_der(s)
                        .or_else(|_| p256::ecdsa::Signature::from_slice(s))
                        .map_err(|_| Error::InvalidSignature)?;
                    vk.verify_prehash(d, &sig)
                        .map_err(|_| Error::InvalidSignature)
                })
            }
            (PublicKeyInner::EcP384(k), SignatureScheme::Ecdsa(h)) => {
                let fast: Option<&'static aws_lc_rs::signature::EcdsaVerificationAlgorithm> =
                    match h {
                        HashAlgorithm::Sha256 => {
                            Some(&aws_lc_rs::signature::ECDSA_P384_SHA256_ASN1)
                        }
                        HashAlgorithm::Sha384 => {
                            Some(&aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1)
                        }
                        _ => None,
                    };
                let vk = p384::ecdsa::VerifyingKey::from(k);
                ecdsa_verify(fast, &self.raw_bytes(), *h, message, signature, |d, s| {
                    let sig = p384::ecdsa::Signature::from_der(s)
                        .or_else(|_| p384::ecdsa::Signature::from_slice(s))
                        .map_err(|_| Error::InvalidSignature)?;
                    vk.verify_prehash(d, &sig)
                        .map_err(|_| Error::InvalidSignature)
                })
            }
            _ => Err(Error::SchemeMismatch {
                scheme: scheme.to_string(),
                key: self.algorithm().to_string(),
            }),
        }
    }

    /// Encrypt `message` to this key.
    pub fn encrypt(&self, scheme: &EncryptionScheme, message: &[u8]) -> Result<Vec<u8>> {
        scheme.check_fits(self.algorithm())?;
        match (&self.0, scheme) {
            (PublicKeyInner::Sm2(_, fast), EncryptionScheme::Sm2(format)) => {
                sm2_ops::encrypt(fast, *format, message)
            }
            (
                PublicKeyInner::Rsa(k),
                EncryptionScheme::RsaOaep(_) | EncryptionScheme::RsaOaepSha1,
            ) => {
                let h = match scheme {
                    EncryptionScheme::RsaOaep(h) => Some(*h),
                    _ => None,
                };
                let max = k.size() - 2 * h.map_or(20, |h| h.output_len()) - 2;
                if message.len() > max {
                    return Err(Error::MessageLength {
                        len: message.len(),
                        reason: "longer than RSA-OAEP allows for this key and hash",
                    });
                }
                oaep_encrypt(k, h, message)
            }
            // For legacy peers only (CMS envelopes to readers without OAEP), when the caller
            // asks for it by name; yinxin's defaults are OAEP.
            (PublicKeyInner::Rsa(k), EncryptionScheme::RsaPkcs1v15) => {
                if message.len() > k.size().saturating_sub(11) {
                    return Err(Error::MessageLength {
                        len: message.len(),
                        reason: "longer than RSAES-PKCS1-v1_5 allows for this key",
                    });
                }
                let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
                k.encrypt(&mut rng, rsa::Pkcs1v15Encrypt, message)
                    .map_err(|e| Error::Backend(Box::new(e)))
            }
            _ => Err(Error::Unsupported(format!(
                "encrypting with {scheme}: yinxin decrypts PKCS#1 v1.5 envelopes but writes OAEP"
            ))),
        }
    }
}

fn ecdsa_verify(
    fast: Option<&'static aws_lc_rs::signature::EcdsaVerificationAlgorithm>,
    point: &[u8],
    hash_alg: HashAlgorithm,
    message: &[u8],
    signature: &[u8],
    slow: impl FnOnce(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    // aws-lc-rs takes DER only; raw r||s and other hashes go through RustCrypto.
    if let Some(alg) = fast.filter(|_| signature.first() == Some(&0x30)) {
        let ok = aws_lc_rs::signature::UnparsedPublicKey::new(alg, point)
            .verify(message, signature)
            .is_ok();
        // A raw r || s may start with 0x30 too (1 in 256): only a raw-length signature gets
        // a second reading.
        if ok || signature.len() != point.len() - 1 {
            return if ok {
                Ok(())
            } else {
                Err(Error::InvalidSignature)
            };
        }
    }
    slow(&hash::digest(hash_alg, message), signature)
}

fn pss_verify_any_salt(
    key: &rsa::RsaPublicKey,
    h: HashAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    use signature::Verifier;
    let sig = rsa::pss::Signature::try_from(signature).map_err(|_| Error::InvalidSignature)?;
    let result = match h {
        HashAlgorithm::Sha256 => {
            rsa::pss::VerifyingKey::<sha2::Sha256>::new_with_auto_salt_len(key.clone())
                .verify(message, &sig)
        }
        HashAlgorithm::Sha384 => {
            rsa::pss::VerifyingKey::<sha2::Sha384>::new_with_auto_salt_len(key.clone())
                .verify(message, &sig)
        }
        HashAlgorithm::Sha512 => {
            rsa::pss::VerifyingKey::<sha2::Sha512>::new_with_auto_salt_len(key.clone())
                .verify(message, &sig)
        }
        HashAlgorithm::Sm3 => return Err(Error::Unsupported("RSA-PSS with SM3".into())),
    };
    result.map_err(|_| Error::InvalidSignature)
}

fn oaep_encrypt(key: &rsa::RsaPublicKey, h: Option<HashAlgorithm>, msg: &[u8]) -> Result<Vec<u8>> {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let Some(h) = h else {
        return key
            .encrypt(&mut rng, rsa::Oaep::<sha1::Sha1>::new(), msg)
            .map_err(|e| Error::Backend(Box::new(e)));
    };
    let out = match h {
        HashAlgorithm::Sha256 => key.encrypt(&mut rng, rsa::Oaep::<sha2::Sha256>::new(), msg),
        HashAlgorithm::Sha384 => key.encrypt(&mut rng, rsa::Oaep::<sha2::Sha384>::new(), msg),
        HashAlgorithm::Sha512 => key.encrypt(&mut rng, rsa::Oaep::<sha2::Sha512>::new(), msg),
        HashAlgorithm::Sm3 => key.encrypt(&mut rng, rsa::Oaep::<sm3::Sm3>::new(), msg),
    };
    out.map_err(|e| Error::Backend(Box::new(e)))
}

/// OAEP with SM3, which AWS-LC lacks (RustCrypto, blinded).
fn oaep_sm3_decrypt(key: &rsa::RsaPrivateKey, ct: &[u8]) -> Result<Vec<u8>> {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    key.decrypt_blinded(&mut rng, rsa::Oaep::<sm3::Sm3>::new(), ct)
        .map_err(|_| Error::DecryptionFailed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    Sm2,
    P256,
    P384,
}

/// The EC curve named by an algorithm identifier, or `None` for a non-EC algorithm.
fn ec_curve(alg: der::asn1::ObjectIdentifier, params: Option<&[u8]>) -> Result<Option<Curve>> {
    if oid::means(&alg, Meaning::Sm2PublicKey) {
        return Ok(Some(Curve::Sm2));
    }
    if alg != oid::ID_EC_PUBLIC_KEY {
        return Ok(None);
    }
    let curve = params
        .and_then(|p| der::asn1::ObjectIdentifier::from_bytes(p).ok())
        .ok_or_else(|| {
            Error::decode(
                "EC key",
                "no named curve (explicit parameters are not supported)",
            )
        })?;
    curve_from_oid(curve).map(Some)
}

fn curve_from_oid(curve: der::asn1::ObjectIdentifier) -> Result<Curve> {
    if curve == oid::SM2 {
        Ok(Curve::Sm2)
    } else if curve == oid::SECP256R1 {
        Ok(Curve::P256)
    } else if curve == oid::SECP384R1 {
        Ok(Curve::P384)
    } else {
        Err(Error::Unsupported(format!("elliptic curve {curve}")))
    }
}

fn check_rsa_bits(bits: usize) -> Result<()> {
    if (2048..=4096).contains(&bits) {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "RSA-{bits}: yinxin accepts RSA keys of 2048 to 4096 bits"
        )))
    }
}

/// PBKDF2 rounds for keys yinxin encrypts (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// A private key held in this process's memory.
///
/// Used for keys that live in files (`yinxin key generate`) and inside the software token.
/// Key material is zeroized on drop by the RustCrypto types; `Debug` never prints it.
pub struct PrivateKey {
    inner: PrivateKeyInner,
    public: PublicKey,
}

enum PrivateKeyInner {
    Sm2 {
        /// RustCrypto's type, for the PKCS#8 encoding.
        secret: ::sm2::SecretKey,
        /// yinxin-sm2's key (decryption) and signer, with (1 + d)^-1 precomputed.
        fast: yinxin_sm2::SecretKey,
        signing: yinxin_sm2::SigningKey,
    },
    Rsa {
        key: Box<rsa::RsaPrivateKey>,
        fast: aws_lc_rs::signature::RsaKeyPair,
        oaep: aws_lc_rs::rsa::OaepPrivateDecryptingKey,
        pkcs1: aws_lc_rs::rsa::Pkcs1PrivateDecryptingKey,
    },
    EcP256 {
        key: p256::SecretKey,
        fast: aws_lc_rs::signature::EcdsaKeyPair,
    },
    EcP384 {
        key: p384::SecretKey,
        fast: aws_lc_rs::signature::EcdsaKeyPair,
    },
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.public.algorithm())
    }
}

impl PrivateKey {
    /// Generate a fresh key from the operating system's random generator.
    pub fn generate(spec: KeySpec) -> Result<Self> {
        match spec {
            KeySpec::Sm2 => Self::from_sm2(
                ::sm2::SecretKey::try_generate_from_rng(&mut getrandom::SysRng)
                    .map_err(|_| Error::Random)?,
            ),
            KeySpec::EcP256 => Self::from_p256(
                p256::SecretKey::try_generate_from_rng(&mut getrandom::SysRng)
                    .map_err(|_| Error::Random)?,
            ),
            KeySpec::EcP384 => Self::from_p384(
                p384::SecretKey::try_generate_from_rng(&mut getrandom::SysRng)
                    .map_err(|_| Error::Random)?,
            ),
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let KeyAlgorithm::Rsa { bits } = spec.algorithm() else {
                    return Err(Error::Unsupported(spec.to_string()));
                };
                let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
                let key = rsa::RsaPrivateKey::new(&mut rng, bits as usize)
                    .map_err(|e| Error::Backend(Box::new(e)))?;
                Self::from_rsa(key)
            }
        }
    }

    fn from_sm2(secret: ::sm2::SecretKey) -> Result<Self> {
        let bytes = Zeroizing::new(secret.to_bytes());
        let scalar = Zeroizing::new(<[u8; 32]>::from(*bytes));
        // yinxin-sm2 refuses d = n - 1, for which (1 + d) has no inverse and SM2 cannot sign.
        let fast = yinxin_sm2::SecretKey::from_bytes(&scalar)
            .map_err(|_| Error::decode("SM2 private key", "scalar out of range for SM2"))?;
        let signing = yinxin_sm2::SigningKey::new(&fast);
        let public = PublicKey::from_sm2(secret.public_key())?;
        Ok(PrivateKey {
            inner: PrivateKeyInner::Sm2 {
                secret,
                fast,
                signing,
            },
            public,
        })
    }

    fn from_p256(key: p256::SecretKey) -> Result<Self> {
        let public = PublicKey(PublicKeyInner::EcP256(key.public_key()));
        let fast = aws_lc_rs::signature::EcdsaKeyPair::from_private_key_and_public_key(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &Zeroizing::new(key.to_bytes())[..],
            &public.raw_bytes(),
        )
        .map_err(|e| Error::decode("P-256 private key", e))?;
        Ok(PrivateKey {
            inner: PrivateKeyInner::EcP256 { key, fast },
            public,
        })
    }

    fn from_p384(key: p384::SecretKey) -> Result<Self> {
        let public = PublicKey(PublicKeyInner::EcP384(key.public_key()));
        let fast = aws_lc_rs::signature::EcdsaKeyPair::from_private_key_and_public_key(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &Zeroizing::new(key.to_bytes())[..],
            &public.raw_bytes(),
        )
        .map_err(|e| Error::decode("P-384 private key", e))?;
        Ok(PrivateKey {
            inner: PrivateKeyInner::EcP384 { key, fast },
            public,
        })
    }

    fn from_rsa(key: rsa::RsaPrivateKey) -> Result<Self> {
        check_rsa_bits(key.n().bits() as usize)?;
        let pkcs1 = key
            .to_pkcs1_der()
            .map_err(|e| Error::decode("RSA private key", e))?;
        let fast = aws_lc_rs::signature::RsaKeyPair::from_der(pkcs1.as_bytes())
            .map_err(|e| Error::decode("RSA private key", e))?;
        let pkcs8 = Zeroizing::new(
            key.to_pkcs8_der()
                .map_err(|e| Error::decode("RSA private key", e))?
                .as_bytes()
                .to_vec(),
        );
        let decrypting = aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(&pkcs8)
            .map_err(|e| Error::decode("RSA private key", e))?;
        let reject = |_| Error::decode("RSA private key", "rejected for decryption");
        let oaep =
            aws_lc_rs::rsa::OaepPrivateDecryptingKey::new(decrypting.clone()).map_err(reject)?;
        let pkcs1_decrypting =
            aws_lc_rs::rsa::Pkcs1PrivateDecryptingKey::new(decrypting).map_err(reject)?;
        let public = PublicKey(PublicKeyInner::Rsa(key.to_public_key()));
        Ok(PrivateKey {
            inner: PrivateKeyInner::Rsa {
                key: Box::new(key),
                fast,
                oaep,
                pkcs1: pkcs1_decrypting,
            },
            public,
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.public.algorithm()
    }

    /// The SM2 private scalar, for sealing it into an SM2 key envelope inside this crate.
    pub(crate) fn sm2_scalar(&self) -> Result<Zeroizing<[u8; 32]>> {
        match &self.inner {
            PrivateKeyInner::Sm2 { fast, .. } => Ok(Zeroizing::new(*fast.to_bytes())),
            _ => Err(Error::Unsupported("not an SM2 key".into())),
        }
    }

    /// An SM2 key from its 32-byte private scalar (as SKF devices and envelopes carry it).
    pub fn from_sm2_scalar(scalar: &[u8]) -> Result<Self> {
        let secret = ::sm2::SecretKey::from_slice(scalar)
            .map_err(|_| Error::decode("SM2 private key", "scalar out of range"))?;
        Self::from_sm2(secret)
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Decode a DER private key: PKCS#8 (any equivalent SM2 spelling), PKCS#1 or SEC1.
    /// An encrypted PKCS#8 key needs [`PrivateKey::from_encrypted_der`].
    pub fn from_der(der: &[u8]) -> Result<Self> {
        if let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(der) {
            return Self::from_pkcs8(&info);
        }
        if pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).is_ok() {
            return Err(Error::WrongPassword);
        }
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs1_der(der) {
            return Self::from_rsa(k);
        }
        Self::from_sec1_der(der)
    }

    /// Decode an encrypted PKCS#8 key (PBES2: PBKDF2 or scrypt with AES-CBC, as OpenSSL writes).
    pub fn from_encrypted_der(der: &[u8], password: &[u8]) -> Result<Self> {
        let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der)
            .map_err(|e| Error::decode("encrypted private key", e))?;
        check_pbe_cost(&info.encryption_algorithm)?;
        let plain = info.decrypt(password).map_err(|_| Error::WrongPassword)?;
        Self::from_der(plain.as_bytes())
    }

    fn from_pkcs8(info: &pkcs8::PrivateKeyInfoRef<'_>) -> Result<Self> {
        let alg = &info.algorithm;
        let params = alg.parameters.as_ref().map(|p| p.value());
        let key_bytes = info.private_key.as_bytes();
        match ec_curve(alg.oid, params)? {
            Some(curve) => Self::from_sec1_with_curve(key_bytes, Some(curve)),
            None if alg.oid == oid::RSA_ENCRYPTION => rsa::RsaPrivateKey::from_pkcs1_der(key_bytes)
                .map_err(|e| Error::decode("RSA private key", e))
                .and_then(Self::from_rsa),
            None => Err(Error::Unsupported(format!(
                "private key algorithm {}",
                alg.oid
            ))),
        }
    }

    fn from_sec1_der(der: &[u8]) -> Result<Self> {
        Self::from_sec1_with_curve(der, None)
    }

    /// An `ECPrivateKey` (RFC 5915); the curve comes from the outer PKCS#8 or the key itself.
    fn from_sec1_with_curve(der: &[u8], outer: Option<Curve>) -> Result<Self> {
        let ec = sec1::EcPrivateKey::from_der(der).map_err(|e| Error::decode("private key", e))?;
        let inner = match &ec.parameters {
            Some(sec1::EcParameters::NamedCurve(c)) => Some(curve_from_oid(*c)?),
            None => None,
        };
        let curve = match (outer, inner) {
            (Some(a), Some(b)) if a != b => {
                return Err(Error::decode(
                    "EC private key",
                    "curve in key differs from the algorithm's",
                ));
            }
            (Some(c), _) | (None, Some(c)) => c,
            (None, None) => return Err(Error::decode("EC private key", "no curve named")),
        };
        let scalar = Zeroizing::new(ec.private_key.to_vec());
        let bad = |_| Error::decode("EC private key", "scalar out of range");
        match curve {
            Curve::Sm2 => Self::from_sm2(::sm2::SecretKey::from_slice(&scalar).map_err(bad)?),
            Curve::P256 => Self::from_p256(p256::SecretKey::from_slice(&scalar).map_err(bad)?),
            Curve::P384 => Self::from_p384(p384::SecretKey::from_slice(&scalar).map_err(bad)?),
        }
    }

    /// Decode a PEM private key (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, or
    /// `ENCRYPTED PRIVATE KEY` when a password is given).
    pub fn from_pem(pem: &str, password: Option<&[u8]>) -> Result<Self> {
        // OpenSSL 3.0 `openssl ec` labels SEC1 SM2 keys "SM2 PRIVATE KEY".
        const LABELS: [&str; 5] = [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "SM2 PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
        ];
        let block = pem::first_of(pem, &LABELS, "private key", PRIVATE_KEY)?;
        match (block.label.as_str(), password) {
            ("ENCRYPTED PRIVATE KEY", Some(pw)) => Self::from_encrypted_der(&block.der, pw),
            ("ENCRYPTED PRIVATE KEY", None) => Err(Error::WrongPassword),
            _ => Self::from_der(&block.der),
        }
    }

    /// Decode PEM or DER, whichever `data` is; `password` for encrypted PKCS#8.
    pub fn from_pem_or_der(data: &[u8], password: Option<&[u8]>) -> Result<Self> {
        match (
            std::str::from_utf8(data).ok().filter(|_| pem::is_pem(data)),
            password,
        ) {
            (Some(text), _) => Self::from_pem(text, password),
            (None, Some(pw)) if pkcs8::EncryptedPrivateKeyInfoRef::from_der(data).is_ok() => {
                Self::from_encrypted_der(data, pw)
            }
            (None, _) => Self::from_der(data),
        }
    }

    /// The unencrypted PKCS#8 DER. Only for writing the key where the caller asked for it
    /// (a key file); key stores never hand this out.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let doc = match &self.inner {
            PrivateKeyInner::Sm2 { secret, .. } => secret.to_pkcs8_der(),
            PrivateKeyInner::Rsa { key, .. } => key.to_pkcs8_der(),
            PrivateKeyInner::EcP256 { key, .. } => key.to_pkcs8_der(),
            PrivateKeyInner::EcP384 { key, .. } => key.to_pkcs8_der(),
        }
        .map_err(|e| Error::decode("private key", e))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// The PKCS#8 PEM (`PRIVATE KEY`), or `ENCRYPTED PRIVATE KEY` (PBES2 with
    /// PBKDF2-HMAC-SHA256, [`PBKDF2_ITERATIONS`] rounds, and AES-256-CBC) when a password is
    /// given.
    pub fn to_pkcs8_pem(&self, password: Option<&[u8]>) -> Result<Zeroizing<String>> {
        let der = self.to_pkcs8_der()?;
        match password {
            None => Ok(Zeroizing::new(pem::encode("PRIVATE KEY", &der))),
            Some(pw) => {
                let info = pkcs8::PrivateKeyInfoRef::from_der(&der)
                    .map_err(|e| Error::decode("private key", e))?;
                // PBKDF2-HMAC-SHA256 with AES-256-CBC: OpenSSL's default, and readable by Java,
                // Windows and CA middleware, which mostly lack scrypt.
                let mut salt = [0u8; 16];
                let mut iv = [0u8; 16];
                crate::random::fill(&mut salt)?;
                crate::random::fill(&mut iv)?;
                let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
                    PBKDF2_ITERATIONS,
                    &salt,
                    iv,
                )
                .map_err(|e| Error::decode("private key", e))?;
                let enc = info
                    .encrypt_with_params(params, pw)
                    .map_err(|e| Error::decode("private key", e))?;
                Ok(Zeroizing::new(pem::encode(
                    "ENCRYPTED PRIVATE KEY",
                    enc.as_bytes(),
                )))
            }
        }
    }

    /// Sign `message` under `scheme`.
    pub fn sign(&self, scheme: &SignatureScheme, message: &[u8]) -> Result<Vec<u8>> {
        scheme.check_fits(self.algorithm())?;
        match (&self.inner, scheme) {
            (PrivateKeyInner::Sm2 { signing, .. }, SignatureScheme::Sm2WithSm3 { id }) => {
                let PublicKeyInner::Sm2(public, _) = &self.public.0 else {
                    unreachable!("an SM2 private key has an SM2 public key")
                };
                sm2_ops::sign(signing, id, public, message)
            }
            (PrivateKeyInner::Rsa { fast, .. }, _) => {
                let padding: &'static dyn aws_lc_rs::signature::RsaEncoding = match scheme {
                    SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha256) => {
                        &aws_lc_rs::signature::RSA_PKCS1_SHA256
                    }
                    SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha384) => {
                        &aws_lc_rs::signature::RSA_PKCS1_SHA384
                    }
                    SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha512) => {
                        &aws_lc_rs::signature::RSA_PKCS1_SHA512
                    }
                    SignatureScheme::RsaPss(HashAlgorithm::Sha256) => {
                        &aws_lc_rs::signature::RSA_PSS_SHA256
                    }
                    SignatureScheme::RsaPss(HashAlgorithm::Sha384) => {
                        &aws_lc_rs::signature::RSA_PSS_SHA384
                    }
                    SignatureScheme::RsaPss(HashAlgorithm::Sha512) => {
                        &aws_lc_rs::signature::RSA_PSS_SHA512
                    }
                    _ => return Err(Error::Unsupported(format!("{scheme}"))),
                };
                let mut sig = vec![0u8; fast.public_modulus_len()];
                fast.sign(
                    padding,
                    &aws_lc_rs::rand::SystemRandom::new(),
                    message,
                    &mut sig,
                )
                .map_err(|_| Error::Signing)?;
                Ok(sig)
            }
            (PrivateKeyInner::EcP256 { key, fast }, SignatureScheme::Ecdsa(h)) => {
                if *h == HashAlgorithm::Sha256 {
                    return fast_ecdsa_sign(fast, message);
                }
                let sk = p256::ecdsa::SigningKey::from(key);
                let sig: p256::ecdsa::Signature = sk
                    .sign_prehash_with_rng(&mut getrandom::SysRng, &hash::digest(*h, message))
                    .map_err(|_| Error::Signing)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            (PrivateKeyInner::EcP384 { key, fast }, SignatureScheme::Ecdsa(h)) => {
                if *h == HashAlgorithm::Sha384 {
                    return fast_ecdsa_sign(fast, message);
                }
                let sk = p384::ecdsa::SigningKey::from(key);
                let sig: p384::ecdsa::Signature = sk
                    .sign_prehash_with_rng(&mut getrandom::SysRng, &hash::digest(*h, message))
                    .map_err(|_| Error::Signing)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            _ => Err(Error::SchemeMismatch {
                scheme: scheme.to_string(),
                key: self.algorithm().to_string(),
            }),
        }
    }

    /// Elliptic-curve Diffie-Hellman with `peer` (SEC 1 §3.3.1, "standard" DH; P-256 and
    /// P-384 have cofactor 1, so the cofactor variant is the same): the shared secret `Z`,
    /// the x-coordinate of `d·Q` as many octets as the field. Used for CMS key agreement
    /// (RFC 5753); only NIST-curve keys agree, and `peer` must be on the same curve.
    pub fn agree(&self, peer: &PublicKey) -> Result<Zeroizing<Vec<u8>>> {
        match (&self.inner, &peer.0) {
            (PrivateKeyInner::EcP256 { key, .. }, PublicKeyInner::EcP256(q)) => {
                let z = p256::ecdh::diffie_hellman(key.to_nonzero_scalar(), q.as_affine());
                Ok(Zeroizing::new(z.raw_secret_bytes().to_vec()))
            }
            (PrivateKeyInner::EcP384 { key, .. }, PublicKeyInner::EcP384(q)) => {
                let z = p384::ecdh::diffie_hellman(key.to_nonzero_scalar(), q.as_affine());
                Ok(Zeroizing::new(z.raw_secret_bytes().to_vec()))
            }
            (PrivateKeyInner::EcP256 { .. } | PrivateKeyInner::EcP384 { .. }, _) => {
                Err(Error::SchemeMismatch {
                    scheme: format!("ECDH with a {} key", peer.algorithm()),
                    key: self.algorithm().to_string(),
                })
            }
            _ => Err(Error::Unsupported(format!(
                "key agreement (ECDH) with a {} key",
                self.algorithm()
            ))),
        }
    }

    /// Decrypt `ciphertext`. SM2 accepts every ciphertext layout; RSA takes OAEP or, for
    /// legacy envelopes, PKCS#1 v1.5 (with blinding).
    pub fn decrypt(
        &self,
        scheme: &EncryptionScheme,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        scheme.check_fits(self.algorithm())?;
        match (&self.inner, scheme) {
            (PrivateKeyInner::Sm2 { fast, .. }, EncryptionScheme::Sm2(_)) => {
                sm2_ops::decrypt(fast, ciphertext).map(Zeroizing::new)
            }
            (
                PrivateKeyInner::Rsa {
                    key, oaep, pkcs1, ..
                },
                _,
            ) => {
                use aws_lc_rs::rsa::{
                    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
                    OAEP_SHA512_MGF1SHA512,
                };
                let mut buf = Zeroizing::new(vec![0u8; key.size()]);
                let fast = match scheme {
                    EncryptionScheme::RsaOaep(HashAlgorithm::Sha256) => {
                        oaep.decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut buf, None)
                    }
                    EncryptionScheme::RsaOaep(HashAlgorithm::Sha384) => {
                        oaep.decrypt(&OAEP_SHA384_MGF1SHA384, ciphertext, &mut buf, None)
                    }
                    EncryptionScheme::RsaOaep(HashAlgorithm::Sha512) => {
                        oaep.decrypt(&OAEP_SHA512_MGF1SHA512, ciphertext, &mut buf, None)
                    }
                    EncryptionScheme::RsaOaepSha1 => {
                        oaep.decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut buf, None)
                    }
                    EncryptionScheme::RsaPkcs1v15 => pkcs1.decrypt(ciphertext, &mut buf),
                    // OAEP with SM3 is not in AWS-LC.
                    _ => {
                        return oaep_sm3_decrypt(key, ciphertext).map(Zeroizing::new);
                    }
                };
                let out: Result<Vec<u8>> = fast
                    .map(|plain| plain.to_vec())
                    .map_err(|_| Error::DecryptionFailed);
                out.map(Zeroizing::new)
            }
            _ => Err(Error::SchemeMismatch {
                scheme: scheme.to_string(),
                key: self.algorithm().to_string(),
            }),
        }
    }
}

fn fast_ecdsa_sign(key: &aws_lc_rs::signature::EcdsaKeyPair, message: &[u8]) -> Result<Vec<u8>> {
    key.sign(&aws_lc_rs::rand::SystemRandom::new(), message)
        .map(|s| s.as_ref().to_vec())
        .map_err(|_| Error::Signing)
}

/// `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` (RFC 3279), also SM2's layout.
#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: der::asn1::UintRef<'a>,
    s: der::asn1::UintRef<'a>,
}

/// Convert a raw `r || s` EC signature (as PKCS#11 `CKM_ECDSA` and SKF devices return it) to
/// the DER form that X.509, CMS and OpenSSL use.
pub fn ec_signature_raw_to_der(raw: &[u8]) -> Result<Vec<u8>> {
    use der::Encode;
    if raw.is_empty() || !raw.len().is_multiple_of(2) || raw.len() > 132 {
        return Err(Error::decode(
            "EC signature",
            "raw r || s must be two equal halves",
        ));
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let value = EcdsaSigValue {
        r: der::asn1::UintRef::new(r).map_err(|e| Error::decode("EC signature", e))?,
        s: der::asn1::UintRef::new(s).map_err(|e| Error::decode("EC signature", e))?,
    };
    value.to_der().map_err(|e| Error::decode("EC signature", e))
}
