//! `KeyAgreeRecipientInfo` (RFC 5652 §6.2.2) for P-256 and P-384 recipients, as RFC 5753
//! defines it for elliptic curves and OpenSSL 3 writes and reads it: ephemeral-static ECDH,
//! the ANSI X9.63 KDF over `ECC-CMS-SharedInfo`, and the content-encryption key wrapped with
//! AES key wrap (RFC 3394).
//!
//! ```text
//! KeyAgreeRecipientInfo ::= SEQUENCE {
//!     version CMSVersion,  -- always set to 3
//!     originator [0] EXPLICIT OriginatorIdentifierOrKey,   -- originatorKey: ephemeral point
//!     ukm [1] EXPLICIT UserKeyingMaterial OPTIONAL,
//!     keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
//!     recipientEncryptedKeys RecipientEncryptedKeys }
//!
//! RecipientEncryptedKey ::= SEQUENCE {
//!     rid KeyAgreeRecipientIdentifier,   -- issuerAndSerialNumber | rKeyId [0]
//!     encryptedKey EncryptedKey }        -- AES-KW(KEK, CEK)
//! ```
//!
//! Sealing makes one `KeyAgreeRecipientInfo` per recipient with its own ephemeral key (as
//! OpenSSL does), `originatorKey` as `id-ecPublicKey` with absent parameters and the
//! uncompressed point, no `ukm`, and the algorithms of
//! [`KeyAgreementAlgorithm::for_key`]. Opening computes the shared secret inside the
//! recipient's key owner ([`Decrypter::agree`]): the private key never leaves its token.

use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo, OriginatorIdentifierOrKey,
    OriginatorPublicKey, RecipientEncryptedKey, RecipientIdentifier, RecipientKeyIdentifier,
};
use der::asn1::{BitString, OctetString};
use spki::AlgorithmIdentifierOwned;
use yinxin_crypto::{Decrypter, KeyAlgorithm, KeySpec, PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::algorithm::KeyAgreementAlgorithm;
use crate::error::{Error, Result};

use super::Recipient;

/// The `KeyAgreeRecipientInfo` that delivers `cek` to `recipient` (a P-256 or P-384 key).
pub(crate) fn seal(recipient: &Recipient, cek: &[u8]) -> Result<KeyAgreeRecipientInfo> {
    let key = recipient.public_key();
    let algorithm = KeyAgreementAlgorithm::for_key(key.algorithm())?;
    let spec = match key.algorithm() {
        KeyAlgorithm::EcP256 => KeySpec::EcP256,
        KeyAlgorithm::EcP384 => KeySpec::EcP384,
        other => {
            return Err(Error::Unsupported(format!(
                "ECDH key agreement with a {other} key"
            )));
        }
    };
    let ephemeral = PrivateKey::generate(spec)?;
    let z = ephemeral.agree(key)?;
    let kek = algorithm.key_encryption_key(&z, None)?;
    let wrapped = algorithm.wrap.wrap(&kek, cek)?;
    let bad = |e: der::Error| Error::decode("KeyAgreeRecipientInfo", e);
    let rid = match recipient.identifier() {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => {
            KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias.clone())
        }
        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
            KeyAgreeRecipientIdentifier::RKeyId(RecipientKeyIdentifier {
                subject_key_identifier: ski.clone(),
                date: None,
                other: None,
            })
        }
    };
    Ok(KeyAgreeRecipientInfo {
        version: CmsVersion::V3,
        originator: OriginatorIdentifierOrKey::OriginatorKey(OriginatorPublicKey {
            algorithm: AlgorithmIdentifierOwned {
                oid: yinxin_crypto::oid::ID_EC_PUBLIC_KEY,
                parameters: None,
            },
            public_key: BitString::from_bytes(&ephemeral.public_key().raw_bytes()).map_err(bad)?,
        }),
        ukm: None,
        key_enc_alg: algorithm.identifier()?,
        recipient_enc_keys: vec![RecipientEncryptedKey {
            rid,
            enc_key: OctetString::new(wrapped).map_err(bad)?,
        }],
    })
}

/// The content-encryption key of `encrypted` (one of `kari`'s `RecipientEncryptedKey`s),
/// recovered with `recipient`'s key by ECDH with the originator's ephemeral key. A wrong
/// key or altered data fails the key wrap's integrity check ([`Error::DecryptionFailed`]).
pub(crate) fn open(
    kari: &KeyAgreeRecipientInfo,
    encrypted: &RecipientEncryptedKey,
    recipient: &dyn Decrypter,
) -> Result<Zeroizing<Vec<u8>>> {
    if kari.version != CmsVersion::V3 {
        return Err(Error::decode(
            "KeyAgreeRecipientInfo",
            format!("version {}, RFC 5652 §6.2.2 says 3", kari.version as u8),
        ));
    }
    let algorithm = KeyAgreementAlgorithm::from_identifier(&kari.key_enc_alg)?;
    let originator = originator_key(kari, recipient.public_key().algorithm())?;
    let z = recipient.agree(&originator)?;
    let ukm = kari.ukm.as_ref().map(OctetString::as_bytes);
    let kek = algorithm.key_encryption_key(&z, ukm)?;
    algorithm.wrap.unwrap(&kek, encrypted.enc_key.as_bytes())
}

/// The originator's ephemeral public key, on the recipient's curve. Static-static agreement
/// (an originator named by certificate or key identifier) is not implemented.
fn originator_key(kari: &KeyAgreeRecipientInfo, curve: KeyAlgorithm) -> Result<PublicKey> {
    let OriginatorIdentifierOrKey::OriginatorKey(key) = &kari.originator else {
        return Err(Error::Unsupported(
            "key agreement with a static originator key (only ephemeral-static ECDH)".into(),
        ));
    };
    if key.algorithm.oid != yinxin_crypto::oid::ID_EC_PUBLIC_KEY {
        return Err(Error::Unsupported(format!(
            "originator key of algorithm {} (yinxin reads id-ecPublicKey)",
            key.algorithm.oid
        )));
    }
    let point = key
        .public_key
        .as_bytes()
        .ok_or_else(|| Error::decode("originator key", "a BIT STRING with unused bits"))?;
    if !matches!(curve, KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384) {
        return Err(Error::NoMatchingRecipient);
    }
    // RFC 5753 §7.1.4: parameters absent, NULL or the curve's; the recipient's curve decides.
    PublicKey::from_ec_point(curve, point).map_err(|e| match e {
        yinxin_crypto::Error::Decode { reason, .. } => Error::decode("originator key", reason),
        other => Error::Crypto(other),
    })
}
