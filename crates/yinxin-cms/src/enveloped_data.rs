//! `EnvelopedData` (RFC 5652 §6): content encrypted under a random content-encryption key,
//! which is encrypted to each recipient's RSA key (`KeyTransRecipientInfo`).
//!
//! yinxin seals with AES-256-CBC and a random IV, and transports the key with RSAES-OAEP,
//! SHA-256 and MGF1-SHA-256 with explicit `RSAES-OAEP-params`. It opens what OpenSSL and other
//! toolkits write: AES-128/192/256-CBC or SM4-CBC content, RSAES-OAEP (SHA-1 or SHA-2) or
//! `rsaEncryption` (PKCS#1 v1.5) key transport, recipients named by subject key identifier or
//! by issuer and serial number, inside a `ContentInfo` or bare, DER, BER or PEM. The private
//! key is used only through a [`Decrypter`] handle.
//!
//! ```text
//! EnvelopedData ::= SEQUENCE {
//!     version CMSVersion,
//!     originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//!     recipientInfos RecipientInfos,
//!     encryptedContentInfo EncryptedContentInfo,
//!     unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
//!
//! RecipientInfos ::= SET SIZE (1..MAX) OF RecipientInfo
//!
//! EncryptedContentInfo ::= SEQUENCE {
//!     contentType ContentType,
//!     contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
//!     encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
//!
//! KeyTransRecipientInfo ::= SEQUENCE {
//!     version CMSVersion,  -- always set to 0 or 2
//!     rid RecipientIdentifier,
//!     keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
//!     encryptedKey EncryptedKey }
//!
//! RecipientIdentifier ::= CHOICE {
//!     issuerAndSerialNumber IssuerAndSerialNumber,
//!     subjectKeyIdentifier [0] SubjectKeyIdentifier }
//! ```
//!
//! Opening a PKCS#1 v1.5 key transport addressed to one recipient follows RFC 3218 §2.3.2:
//! a key that does not decrypt is replaced by a random one, so that a forged envelope fails
//! the same way whether its key transport or its content was wrong.

mod recipient;

use cms::content_info::CmsVersion;
use der::Decode;
use der::asn1::OctetString;
use yinxin_crypto::symmetric::CBC_IV_LEN;
use yinxin_crypto::{Decrypter, EncryptionScheme, HashAlgorithm, KeyAlgorithm, random};
use zeroize::Zeroizing;

pub use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo,
    RecipientInfos,
};
pub use recipient::{Recipient, subject_key_identifier};

use crate::algorithm::{
    ContentEncryptionAlgorithm, key_transport_identifier, key_transport_scheme,
};
use crate::content_info;
use crate::error::{Error, Result};
use crate::oid;
use recipient::{Match, Matcher};

/// The key transport yinxin writes: RSAES-OAEP with SHA-256 and MGF1-SHA-256.
pub const KEY_TRANSPORT: EncryptionScheme = EncryptionScheme::RsaOaep(HashAlgorithm::Sha256);

/// How to seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealOptions {
    /// The content cipher (default AES-256-CBC).
    pub content_encryption: ContentEncryptionAlgorithm,
    /// The type of the content that is encrypted (default `id-data`).
    pub content_type: const_oid::ObjectIdentifier,
}

impl Default for SealOptions {
    fn default() -> Self {
        SealOptions {
            content_encryption: ContentEncryptionAlgorithm::default(),
            content_type: oid::ID_DATA,
        }
    }
}

/// Seal `content` for `recipients` (at least one; RSA keys).
pub fn seal(
    content: &[u8],
    recipients: &[Recipient],
    options: &SealOptions,
) -> Result<EnvelopedData> {
    if recipients.is_empty() {
        return Err(Error::Unsupported(
            "an envelope without recipients (RecipientInfos is SIZE (1..MAX))".into(),
        ));
    }
    let algorithm = options.content_encryption;
    let cek = Zeroizing::new(random::bytes(algorithm.key_len())?);
    let mut iv = [0u8; CBC_IV_LEN];
    random::fill(&mut iv)?;
    let encrypted = algorithm.encrypt(&cek, &iv, content)?;
    let bad = |e: der::Error| Error::decode("EnvelopedData", e);
    let mut infos = Vec::with_capacity(recipients.len());
    for r in recipients {
        let encrypted_key = r.public_key().encrypt(&KEY_TRANSPORT, &cek)?;
        infos.push(RecipientInfo::Ktri(KeyTransRecipientInfo {
            version: ktri_version(r.identifier()),
            rid: r.identifier().clone(),
            key_enc_alg: key_transport_identifier(&KEY_TRANSPORT)?,
            enc_key: OctetString::new(encrypted_key).map_err(bad)?,
        }));
    }
    let recip_infos = RecipientInfos::try_from(infos).map_err(bad)?;
    let version = expected_version(&recip_infos);
    Ok(EnvelopedData {
        version,
        originator_info: None,
        recip_infos,
        encrypted_content: EncryptedContentInfo {
            content_type: options.content_type,
            content_enc_alg: algorithm.identifier(&iv)?,
            encrypted_content: Some(OctetString::new(encrypted).map_err(bad)?),
        },
        unprotected_attrs: None,
    })
}

/// Open `envelope` with `recipient`'s key. Recipients named by subject key identifier are
/// matched against the key's; recipients named by issuer and serial number are tried when
/// no identifier matches (use [`open_with_certificate`] to match them exactly).
pub fn open(envelope: &EnvelopedData, recipient: &dyn Decrypter) -> Result<Zeroizing<Vec<u8>>> {
    open_matching(
        envelope,
        recipient,
        &Matcher::for_key(recipient.public_key())?,
    )
}

/// Open `envelope` with `recipient`'s key, whose certificate (DER) names the recipient.
pub fn open_with_certificate(
    envelope: &EnvelopedData,
    recipient: &dyn Decrypter,
    certificate_der: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    open_matching(
        envelope,
        recipient,
        &Matcher::for_certificate(recipient.public_key(), certificate_der)?,
    )
}

/// The content cipher of an envelope.
pub fn content_encryption(envelope: &EnvelopedData) -> Result<ContentEncryptionAlgorithm> {
    ContentEncryptionAlgorithm::from_identifier(&envelope.encrypted_content.content_enc_alg)
        .map(|(alg, _)| alg)
}

/// Decode an `EnvelopedData` from DER, BER or PEM (`CMS` or `PKCS7`), inside a
/// `ContentInfo` or bare.
pub fn decode(data: &[u8]) -> Result<EnvelopedData> {
    let bytes = content_info::binary(data)?;
    let wrapped = content_info::decode_binary(&bytes);
    let envelope = match wrapped {
        Ok(decoded) => decoded.content(oid::ID_ENVELOPED_DATA, "EnvelopedData")?,
        // A bare EnvelopedData, as some toolkits hand it over.
        Err(wrapped_error) => EnvelopedData::from_der(&bytes)
            .or_else(|_| EnvelopedData::from_ber(&bytes))
            .map_err(|_| wrapped_error)?,
    };
    check_versions(&envelope)?;
    Ok(envelope)
}

/// The DER `ContentInfo` holding `envelope`.
pub fn to_der(envelope: &EnvelopedData) -> Result<Vec<u8>> {
    content_info::to_der(&content_info::wrap(oid::ID_ENVELOPED_DATA, envelope)?)
}

/// The PEM (`-----BEGIN CMS-----`) `ContentInfo` holding `envelope`.
pub fn to_pem(envelope: &EnvelopedData) -> Result<String> {
    content_info::to_pem(&content_info::wrap(oid::ID_ENVELOPED_DATA, envelope)?)
}

/// RFC 5652 §6.2.1: 0 for issuerAndSerialNumber, 2 for subjectKeyIdentifier.
fn ktri_version(rid: &RecipientIdentifier) -> CmsVersion {
    match rid {
        RecipientIdentifier::IssuerAndSerialNumber(_) => CmsVersion::V0,
        RecipientIdentifier::SubjectKeyIdentifier(_) => CmsVersion::V2,
    }
}

/// RFC 5652 §6.1 for an envelope without originator information or attributes: 0 when every
/// recipient is a version-0 `KeyTransRecipientInfo`, else 2.
fn expected_version(infos: &RecipientInfos) -> CmsVersion {
    let all_v0 = infos
        .0
        .iter()
        .all(|ri| matches!(ri, RecipientInfo::Ktri(k) if k.version == CmsVersion::V0));
    if all_v0 {
        CmsVersion::V0
    } else {
        CmsVersion::V2
    }
}

/// Check the version numbers RFC 5652 derives from the structure, so that an envelope is
/// read one way only.
fn check_versions(envelope: &EnvelopedData) -> Result<()> {
    for ri in envelope.recip_infos.0.iter() {
        if let RecipientInfo::Ktri(k) = ri
            && k.version != ktri_version(&k.rid)
        {
            return Err(Error::decode(
                "KeyTransRecipientInfo",
                format!(
                    "version {} does not fit its recipient identifier (RFC 5652 §6.2.1)",
                    k.version as u8
                ),
            ));
        }
    }
    let simple = envelope.originator_info.is_none()
        && envelope.unprotected_attrs.is_none()
        && envelope.recip_infos.0.iter().all(|ri| {
            matches!(
                ri,
                RecipientInfo::Ktri(_) | RecipientInfo::Kari(_) | RecipientInfo::Kekri(_)
            )
        });
    if simple && envelope.version != expected_version(&envelope.recip_infos) {
        return Err(Error::decode(
            "EnvelopedData",
            format!(
                "version {} does not fit its recipients (RFC 5652 §6.1)",
                envelope.version as u8
            ),
        ));
    }
    Ok(())
}

fn open_matching(
    envelope: &EnvelopedData,
    recipient: &dyn Decrypter,
    matcher: &Matcher,
) -> Result<Zeroizing<Vec<u8>>> {
    check_versions(envelope)?;
    let key = recipient.public_key();
    recipient::check_key_transport(key)?;
    let KeyAlgorithm::Rsa { bits } = key.algorithm() else {
        return Err(Error::NoMatchingRecipient);
    };
    let modulus_len = (bits as usize).div_ceil(8);
    let (algorithm, iv) =
        ContentEncryptionAlgorithm::from_identifier(&envelope.encrypted_content.content_enc_alg)?;
    let ciphertext = envelope
        .encrypted_content
        .encrypted_content
        .as_ref()
        .ok_or(Error::NoContent)?
        .as_bytes();

    let mut exact = Vec::new();
    let mut maybe = Vec::new();
    for ri in envelope.recip_infos.0.iter() {
        let RecipientInfo::Ktri(ktri) = ri else {
            continue;
        };
        match matcher.check(&ktri.rid) {
            Match::Yes => exact.push(ktri),
            // An RSA ciphertext is as long as the modulus: a recipient known only by a
            // certificate the caller lacks is tried only if its key has this key's size.
            Match::Maybe if ktri.enc_key.as_bytes().len() == modulus_len => maybe.push(ktri),
            Match::Maybe | Match::No => {}
        }
    }
    let candidates: Vec<&KeyTransRecipientInfo> = exact.into_iter().chain(maybe).collect();
    let single = candidates.len() == 1;
    let mut outcome = Err(Error::NoMatchingRecipient);
    for ktri in candidates {
        let scheme = match key_transport_scheme(&ktri.key_enc_alg) {
            Ok(s) => s,
            Err(e) => {
                if matches!(outcome, Err(Error::NoMatchingRecipient)) {
                    outcome = Err(e);
                }
                continue;
            }
        };
        let cek = match recipient.decrypt(&scheme, ktri.enc_key.as_bytes()) {
            Ok(k) if k.len() == algorithm.key_len() => k,
            Ok(_) | Err(yinxin_crypto::Error::DecryptionFailed) => {
                if single && scheme == EncryptionScheme::RsaPkcs1v15 {
                    // RFC 3218 §2.3.2: carry on with a random key, failing at the content.
                    Zeroizing::new(random::bytes(algorithm.key_len())?)
                } else {
                    outcome = Err(Error::DecryptionFailed);
                    continue;
                }
            }
            Err(other) => return Err(other.into()),
        };
        match algorithm.decrypt(&cek, &iv, ciphertext) {
            Ok(content) => return Ok(content),
            Err(e) => outcome = Err(e),
        }
    }
    outcome
}
