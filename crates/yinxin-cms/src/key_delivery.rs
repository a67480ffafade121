//! Delivery of an escrowed encryption key pair from the key-management centre (KMC) to the
//! token that owns the user's signing key (dual certificates).
//!
//! The KMC generates the user's encryption key pair, escrows it, and seals it to the token's
//! *signing* public key; the token opens the envelope with its signing key, inside the token,
//! and keeps the delivered key as its encryption key. The envelope's format follows the
//! algorithm:
//!
//! | keys | format |
//! |---|---|
//! | SM2 | GB/T 35276 `SM2EnvelopedKey` ([`yinxin_crypto::enveloped_key`]) |
//! | RSA | CMS `EnvelopedData` ([`crate::enveloped_data`]) of the key's PKCS#8 `PrivateKeyInfo`, content type `id-data` |
//!
//! ```
//! use yinxin_cms::key_delivery;
//! use yinxin_crypto::{KeySpec, PrivateKey};
//! let token_signing_key = PrivateKey::generate(KeySpec::Sm2)?;
//! let escrowed = PrivateKey::generate(KeySpec::Sm2)?;
//! let delivered = key_delivery::seal(token_signing_key.public_key(), &escrowed)?;
//! let opened = key_delivery::open(&token_signing_key, delivered.format, &delivered.der)?;
//! assert_eq!(opened.public_key(), escrowed.public_key());
//! # Ok::<(), yinxin_cms::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use der::{Decode, Header, SliceReader, Tag};
use yinxin_crypto::{Decrypter, KeyAlgorithm, PrivateKey, PublicKey, enveloped_key, random};

use crate::enveloped_data::{self, Recipient, SealOptions};
use crate::error::{Error, Result};
use crate::oid;

/// The envelope format of a delivered key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryFormat {
    /// GB/T 35276 §7.4 `SM2EnvelopedKey`, for SM2 keys.
    Sm2EnvelopedKey,
    /// RFC 5652 `EnvelopedData` (in a `ContentInfo`) of a PKCS#8 `PrivateKeyInfo`, for RSA
    /// keys.
    CmsEnvelopedData,
}

impl DeliveryFormat {
    /// Both formats.
    pub const ALL: [DeliveryFormat; 2] = [
        DeliveryFormat::Sm2EnvelopedKey,
        DeliveryFormat::CmsEnvelopedData,
    ];

    /// The name used in files, APIs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryFormat::Sm2EnvelopedKey => "sm2-enveloped-key",
            DeliveryFormat::CmsEnvelopedData => "cms-enveloped-data",
        }
    }

    /// The format for delivering a key of `algorithm` (SM2 or RSA).
    pub fn for_algorithm(algorithm: KeyAlgorithm) -> Result<Self> {
        match algorithm {
            KeyAlgorithm::Sm2 => Ok(DeliveryFormat::Sm2EnvelopedKey),
            KeyAlgorithm::Rsa { .. } => Ok(DeliveryFormat::CmsEnvelopedData),
            other => Err(Error::Unsupported(format!(
                "key delivery of a {other} key: encryption keys are SM2 or RSA"
            ))),
        }
    }

    /// The format of an envelope, from its structure: a `ContentInfo` (or bare
    /// `EnvelopedData`, or PEM) is CMS; a SEQUENCE opening with an `AlgorithmIdentifier` is an
    /// `SM2EnvelopedKey`.
    pub fn detect(envelope: &[u8]) -> Result<Self> {
        if yinxin_crypto::pem::is_pem(envelope) {
            return Ok(DeliveryFormat::CmsEnvelopedData);
        }
        let unknown = |reason: &dyn fmt::Display| {
            Error::decode(
                "delivered key envelope",
                format!("unknown format: {reason}"),
            )
        };
        let mut reader = SliceReader::new(envelope).map_err(|e| unknown(&e))?;
        let outer = Header::decode(&mut reader).map_err(|e| unknown(&e))?;
        if outer.tag() != Tag::Sequence {
            return Err(unknown(&"not a SEQUENCE"));
        }
        match Tag::peek(&reader).map_err(|e| unknown(&e))? {
            // ContentInfo's contentType, or a bare EnvelopedData's version.
            Tag::ObjectIdentifier | Tag::Integer => Ok(DeliveryFormat::CmsEnvelopedData),
            // SM2EnvelopedKey's symAlgID.
            Tag::Sequence => Ok(DeliveryFormat::Sm2EnvelopedKey),
            other => Err(unknown(&format!("a SEQUENCE opening with {other}"))),
        }
    }
}

impl fmt::Display for DeliveryFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DeliveryFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::Unsupported(format!(
                    "key delivery format \"{s}\" (choose sm2-enveloped-key or cms-enveloped-data)"
                ))
            })
    }
}

/// A sealed key on its way to a token.
#[derive(Clone, PartialEq, Eq)]
pub struct DeliveredKey {
    /// The envelope's format.
    pub format: DeliveryFormat,
    /// The envelope, DER.
    pub der: Vec<u8>,
}

impl fmt::Debug for DeliveredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeliveredKey({}, {} bytes)", self.format, self.der.len())
    }
}

/// Seal `delivered` (the escrowed encryption key) for the token whose signing public key is
/// `recipient_signing_key`. Both keys are SM2, or both RSA.
pub fn seal(recipient_signing_key: &PublicKey, delivered: &PrivateKey) -> Result<DeliveredKey> {
    let format = DeliveryFormat::for_algorithm(delivered.algorithm())?;
    check_recipient(format, recipient_signing_key)?;
    let der = match format {
        DeliveryFormat::Sm2EnvelopedKey => {
            enveloped_key::seal_sm2_key_pair(recipient_signing_key, delivered)?
        }
        DeliveryFormat::CmsEnvelopedData => {
            let pkcs8 = delivered.to_pkcs8_der()?;
            let recipient = Recipient::by_key_identifier(recipient_signing_key)?;
            let envelope = enveloped_data::seal(&pkcs8, &[recipient], &SealOptions::default())?;
            enveloped_data::to_der(&envelope)?
        }
    };
    Ok(DeliveredKey { format, der })
}

/// Open an envelope of `format` with the recipient token's signing key handle, returning the
/// delivered key, checked to be a valid key pair of the format's algorithm.
pub fn open(recipient: &dyn Decrypter, format: DeliveryFormat, der: &[u8]) -> Result<PrivateKey> {
    check_recipient(format, recipient.public_key())?;
    match format {
        DeliveryFormat::Sm2EnvelopedKey => {
            // The scalar is checked against the public key in the envelope.
            let key = enveloped_key::open_sm2_key_pair(recipient, der).map_err(|e| match e {
                yinxin_crypto::Error::DecryptionFailed => Error::DecryptionFailed,
                other => Error::Crypto(other),
            })?;
            expect_algorithm(&key, format)?;
            Ok(key)
        }
        DeliveryFormat::CmsEnvelopedData => {
            let envelope = enveloped_data::decode(der)?;
            let content_type = &envelope.encrypted_content.content_type;
            if *content_type != oid::ID_DATA {
                return Err(Error::UnexpectedContent {
                    expected: "a PKCS#8 private key as id-data".into(),
                    found: format!(
                        "content type {}",
                        crate::content_info::describe(content_type)
                    ),
                });
            }
            let content = enveloped_data::open(&envelope, recipient)?;
            let key = private_key_info(&content)?;
            expect_algorithm(&key, format)?;
            check_as_delivered(&key, &content)?;
            check_pair(&key)?;
            Ok(key)
        }
    }
}

/// [`open`], with the format detected from the envelope ([`DeliveryFormat::detect`]).
pub fn open_detected(recipient: &dyn Decrypter, der: &[u8]) -> Result<PrivateKey> {
    open(recipient, DeliveryFormat::detect(der)?, der)
}

fn check_recipient(format: DeliveryFormat, recipient: &PublicKey) -> Result<()> {
    let ok = match format {
        DeliveryFormat::Sm2EnvelopedKey => recipient.algorithm() == KeyAlgorithm::Sm2,
        DeliveryFormat::CmsEnvelopedData => {
            matches!(recipient.algorithm(), KeyAlgorithm::Rsa { .. })
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "{format} envelopes go to {} signing keys, not to a {} key",
            match format {
                DeliveryFormat::Sm2EnvelopedKey => "SM2",
                DeliveryFormat::CmsEnvelopedData => "RSA",
            },
            recipient.algorithm()
        )))
    }
}

/// The content must be an unencrypted PKCS#8 `PrivateKeyInfo`, nothing else.
fn private_key_info(content: &[u8]) -> Result<PrivateKey> {
    let not_pkcs8 = |reason: &dyn fmt::Display| Error::UnexpectedContent {
        expected: "a PKCS#8 PrivateKeyInfo".into(),
        found: format!("something else ({reason})"),
    };
    pkcs8::PrivateKeyInfoRef::from_der(content).map_err(|e| not_pkcs8(&e))?;
    PrivateKey::from_der(content).map_err(|e| not_pkcs8(&e))
}

fn expect_algorithm(key: &PrivateKey, format: DeliveryFormat) -> Result<()> {
    let ok = match format {
        DeliveryFormat::Sm2EnvelopedKey => key.algorithm() == KeyAlgorithm::Sm2,
        DeliveryFormat::CmsEnvelopedData => matches!(key.algorithm(), KeyAlgorithm::Rsa { .. }),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::UnexpectedContent {
            expected: format!(
                "an {} private key",
                match format {
                    DeliveryFormat::Sm2EnvelopedKey => "SM2",
                    DeliveryFormat::CmsEnvelopedData => "RSA",
                }
            ),
            found: format!("a {} key", key.algorithm()),
        })
    }
}

/// The key as loaded must be the key as delivered: loading recomputes an RSA key's CRT
/// values from its primes and exponent, so wrong ones (damage, tampering) would otherwise go
/// unnoticed.
fn check_as_delivered(key: &PrivateKey, content: &[u8]) -> Result<()> {
    let inner = |der: &[u8]| {
        pkcs8::PrivateKeyInfoRef::from_der(der)
            .map(|info| info.private_key.as_bytes().to_vec())
            .map(zeroize::Zeroizing::new)
            .map_err(|e| Error::decode("delivered private key", e))
    };
    let reencoded = key.to_pkcs8_der()?;
    if inner(content)? == inner(&reencoded)? {
        Ok(())
    } else {
        Err(Error::UnexpectedContent {
            expected: "a consistent private key".into(),
            found: "a key whose redundant (CRT) values do not match the rest".into(),
        })
    }
}

/// A pairwise consistency test: the private key decrypts what is encrypted to its public key.
fn check_pair(key: &PrivateKey) -> Result<()> {
    let scheme = key.algorithm().default_encryption_scheme()?;
    let probe = random::bytes(32)?;
    let ciphertext = key.public_key().encrypt(&scheme, &probe)?;
    match key.decrypt(&scheme, &ciphertext) {
        Ok(plain) if plain[..] == probe[..] => Ok(()),
        _ => Err(Error::UnexpectedContent {
            expected: "a consistent key pair".into(),
            found: "a private key that does not match its public key".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use yinxin_crypto::KeySpec;

    #[test]
    fn formats_follow_the_algorithm_and_are_detected() {
        let sm2 = PrivateKey::generate(KeySpec::Sm2).unwrap();
        let rsa = PrivateKey::generate(KeySpec::Rsa2048).unwrap();
        let ec = PrivateKey::generate(KeySpec::EcP256).unwrap();
        let to_sm2 = seal(
            sm2.public_key(),
            &PrivateKey::generate(KeySpec::Sm2).unwrap(),
        )
        .unwrap();
        assert_eq!(to_sm2.format, DeliveryFormat::Sm2EnvelopedKey);
        assert_eq!(
            DeliveryFormat::detect(&to_sm2.der).unwrap(),
            DeliveryFormat::Sm2EnvelopedKey
        );
        let to_rsa = seal(rsa.public_key(), &rsa).unwrap();
        assert_eq!(to_rsa.format, DeliveryFormat::CmsEnvelopedData);
        assert_eq!(
            DeliveryFormat::detect(&to_rsa.der).unwrap(),
            DeliveryFormat::CmsEnvelopedData
        );
        assert_eq!(
            open_detected(&rsa, &to_rsa.der).unwrap().public_key(),
            rsa.public_key()
        );
        for (recipient, delivered) in [
            (sm2.public_key(), &rsa),
            (rsa.public_key(), &sm2),
            (ec.public_key(), &ec),
            (sm2.public_key(), &ec),
        ] {
            assert!(matches!(
                seal(recipient, delivered),
                Err(Error::Unsupported(_))
            ));
        }
        // The format must fit the opener's key.
        assert!(matches!(
            open(&sm2, DeliveryFormat::CmsEnvelopedData, &to_rsa.der),
            Err(Error::Unsupported(_))
        ));
        assert!(matches!(
            open(&rsa, DeliveryFormat::Sm2EnvelopedKey, &to_sm2.der),
            Err(Error::Unsupported(_))
        ));
        assert!(DeliveryFormat::detect(b"").is_err());
        assert!(DeliveryFormat::detect(&[0x04, 0x00]).is_err());
        for f in DeliveryFormat::ALL {
            assert_eq!(f.name().parse::<DeliveryFormat>().unwrap(), f);
        }
    }

    #[test]
    fn an_envelope_of_something_else_than_a_key_is_refused() {
        let rsa = PrivateKey::generate(KeySpec::Rsa2048).unwrap();
        let recipient = Recipient::by_key_identifier(rsa.public_key()).unwrap();
        let not_a_key = enveloped_data::seal(
            b"not a key",
            std::slice::from_ref(&recipient),
            &SealOptions::default(),
        )
        .unwrap();
        let der = enveloped_data::to_der(&not_a_key).unwrap();
        assert!(matches!(
            open(&rsa, DeliveryFormat::CmsEnvelopedData, &der),
            Err(Error::UnexpectedContent { .. })
        ));
        // An SM2 key in PKCS#8, delivered in CMS to an RSA key, is not what CMS delivers.
        let sm2 = PrivateKey::generate(KeySpec::Sm2).unwrap();
        let sm2_in_cms = enveloped_data::seal(
            &sm2.to_pkcs8_der().unwrap(),
            std::slice::from_ref(&recipient),
            &SealOptions::default(),
        )
        .unwrap();
        let der = enveloped_data::to_der(&sm2_in_cms).unwrap();
        assert!(matches!(
            open(&rsa, DeliveryFormat::CmsEnvelopedData, &der),
            Err(Error::UnexpectedContent { .. })
        ));
        // Another content type than id-data.
        let typed = enveloped_data::seal(
            &rsa.to_pkcs8_der().unwrap(),
            &[recipient],
            &SealOptions {
                content_type: oid::ID_SIGNED_DATA,
                ..SealOptions::default()
            },
        )
        .unwrap();
        let der = enveloped_data::to_der(&typed).unwrap();
        assert!(matches!(
            open(&rsa, DeliveryFormat::CmsEnvelopedData, &der),
            Err(Error::UnexpectedContent { .. })
        ));
    }
}
