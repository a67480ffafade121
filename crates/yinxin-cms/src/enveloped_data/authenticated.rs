//! `AuthEnvelopedData` (RFC 5083): an envelope whose content is encrypted *and
//! authenticated*, with AES-GCM (RFC 5084) or SM4-GCM, so that a changed byte of the
//! ciphertext, the tag or the nonce is detected ([`Error::IntegrityCheckFailed`]) instead of
//! opening to altered content as CBC may. The recipient infos are those of `EnvelopedData`
//! (the same code seals and opens them): RSA and SM2 key transport, ECDH key agreement.
//!
//! ```text
//! AuthEnvelopedData ::= SEQUENCE {
//!     version CMSVersion,                       -- always 0
//!     originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//!     recipientInfos RecipientInfos,
//!     authEncryptedContentInfo EncryptedContentInfo,
//!     authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,
//!     mac MessageAuthenticationCode,            -- the GCM tag
//!     unauthAttrs [2] IMPLICIT UnauthAttributes OPTIONAL }
//! ```
//!
//! # What yinxin writes
//!
//! * `id-ct-authEnvelopedData` (`1.2.840.113549.1.9.16.1.23`), version 0, content type
//!   `id-data`, the content cipher's [`GcmParameters`](crate::algorithm::GcmParameters) with
//!   a fresh random 12-byte nonce and `aes-ICVlen` 16, the 16-byte tag as `mac`, no
//!   `authAttrs` (so the associated data is empty), as `openssl cms -encrypt -aes-256-gcm`
//!   does. A content type other than `id-data` is authenticated as RFC 5083 §2.1 requires: a
//!   `content-type` attribute in `authAttrs`, whose DER is the associated data.
//! * The cipher: `SealOptions::authenticated_encryption`, or else the counterpart of
//!   `SealOptions::content_encryption` (SM4-GCM for SM4-CBC, AES-128-GCM for AES-128-CBC,
//!   AES-256-GCM otherwise).
//! * GM/T 0010 defines no authenticated envelope: [`Form::GmT0010`] is refused. For
//!   integrity in that form, sign the content and envelope the `SignedData`.
//!
//! # Reading
//!
//! AES-128/256-GCM and SM4-GCM with 12-byte nonces and 16-byte tags (shorter tags are
//! refused, not accepted with less integrity), `authAttrs` as associated data when present
//! (their `content-type` attribute, required for content other than `id-data`, must be the
//! encrypted content's type). What is *not* authenticated without `authAttrs` is the
//! recipient infos and the `id-data` content type; a changed recipient info fails to give
//! the content-encryption key instead ([`Error::DecryptionFailed`] or
//! [`Error::NoMatchingRecipient`]).

use cms::content_info::CmsVersion;
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode};
use x509_cert::attr::Attribute;
use yinxin_crypto::symmetric::GCM_NONCE_LEN;
use yinxin_crypto::{Decrypter, random};
use zeroize::Zeroizing;

pub use cms::authenveloped_data::AuthEnvelopedData;

use super::recipient::Matcher;
use super::{Form, Recipient, SealOptions, check_recipient_versions, seal_recipients};
use crate::algorithm::{AuthEncryptionAlgorithm, ContentEncryptionAlgorithm};
use crate::content_info;
use crate::error::{Error, Result};
use crate::oid;

/// The refusal of GCM in the GM/T 0010 form.
pub(super) fn gmt0010_refusal() -> Error {
    Error::Unsupported(
        "an authenticated envelope (AuthEnvelopedData, GCM) in the GM/T 0010 form: GM/T 0010 \
         defines none. For integrity in that form, sign the content, then envelope the \
         SignedData (SM4-CBC); or use the RFC 5652 form with SM4-GCM"
            .into(),
    )
}

/// The GCM cipher `options` ask for (see the module documentation).
pub(super) fn cipher_of(options: &SealOptions) -> AuthEncryptionAlgorithm {
    options
        .authenticated_encryption
        .unwrap_or(match options.content_encryption {
            ContentEncryptionAlgorithm::Sm4Cbc => AuthEncryptionAlgorithm::Sm4Gcm,
            ContentEncryptionAlgorithm::Aes128Cbc => AuthEncryptionAlgorithm::Aes128Gcm,
            _ => AuthEncryptionAlgorithm::Aes256Gcm,
        })
}

/// Seal `content` for `recipients` (at least one; RSA, SM2, P-256 and P-384 keys in any
/// mix) in an `AuthEnvelopedData`. The RFC 5652 form only.
pub fn seal(
    content: &[u8],
    recipients: &[Recipient],
    options: &SealOptions,
) -> Result<AuthEnvelopedData> {
    if options.form == Form::GmT0010 {
        return Err(gmt0010_refusal());
    }
    let algorithm = cipher_of(options);
    let cek = Zeroizing::new(random::bytes(algorithm.key_len())?);
    let recip_infos = seal_recipients(&cek, recipients, options)?;
    let content_type = oid::rfc5652_equivalent(&options.content_type);
    let auth_attrs = if content_type == oid::ID_DATA {
        None
    } else {
        Some(content_type_attributes(content_type)?)
    };
    let aad = associated_data(auth_attrs.as_ref())?;
    let mut nonce = [0u8; GCM_NONCE_LEN];
    random::fill(&mut nonce)?;
    let (encrypted, tag) = algorithm.encrypt(&cek, &nonce, &aad, content)?;
    let bad = |e: der::Error| Error::decode("AuthEnvelopedData", e);
    Ok(AuthEnvelopedData {
        version: CmsVersion::V0,
        originator_info: None,
        recip_infos,
        auth_encrypted_content_info: super::EncryptedContentInfo {
            content_type,
            content_enc_alg: algorithm.identifier(&nonce)?,
            encrypted_content: Some(OctetString::new(encrypted).map_err(bad)?),
        },
        auth_attrs,
        mac: OctetString::new(tag).map_err(bad)?,
        unauth_attrs: None,
    })
}

/// Open `envelope` with `recipient`'s key, matched as [`super::open`] matches it.
pub fn open(envelope: &AuthEnvelopedData, recipient: &dyn Decrypter) -> Result<Zeroizing<Vec<u8>>> {
    open_matching(
        envelope,
        recipient,
        &Matcher::for_key(recipient.public_key())?,
    )
}

/// Open `envelope` with `recipient`'s key, whose certificate (DER) names the recipient.
pub fn open_with_certificate(
    envelope: &AuthEnvelopedData,
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
pub fn content_encryption(envelope: &AuthEnvelopedData) -> Result<AuthEncryptionAlgorithm> {
    AuthEncryptionAlgorithm::from_identifier(&envelope.auth_encrypted_content_info.content_enc_alg)
        .map(|(alg, _)| alg)
}

/// Decode an `AuthEnvelopedData` from DER, BER or PEM (`CMS` or `PKCS7`), inside a
/// `ContentInfo` of type `id-ct-authEnvelopedData`, or bare.
pub fn decode(data: &[u8]) -> Result<AuthEnvelopedData> {
    let bytes = content_info::binary(data)?;
    let envelope = match content_info::decode_binary(&bytes) {
        Ok(decoded) => decoded.content(oid::ID_CT_AUTH_ENVELOPED_DATA, "AuthEnvelopedData")?,
        Err(wrapped_error) => AuthEnvelopedData::from_der(&bytes)
            .or_else(|_| AuthEnvelopedData::from_ber(&bytes))
            .map_err(|_| wrapped_error)?,
    };
    check(&envelope)?;
    Ok(envelope)
}

/// The DER `ContentInfo` (`id-ct-authEnvelopedData`) holding `envelope`.
pub fn to_der(envelope: &AuthEnvelopedData) -> Result<Vec<u8>> {
    content_info::to_der(&content_info::wrap(
        oid::ID_CT_AUTH_ENVELOPED_DATA,
        envelope,
    )?)
}

/// The PEM (`-----BEGIN CMS-----`) `ContentInfo` holding `envelope`.
pub fn to_pem(envelope: &AuthEnvelopedData) -> Result<String> {
    content_info::to_pem(&content_info::wrap(
        oid::ID_CT_AUTH_ENVELOPED_DATA,
        envelope,
    )?)
}

/// RFC 5083 §2.1: version 0; recipient versions as RFC 5652 §6.2 derives them.
fn check(envelope: &AuthEnvelopedData) -> Result<()> {
    if envelope.version != CmsVersion::V0 {
        return Err(Error::decode(
            "AuthEnvelopedData",
            format!("version {}, RFC 5083 §2.1 says 0", envelope.version as u8),
        ));
    }
    check_recipient_versions(&envelope.recip_infos, Form::Rfc5652)
}

pub(super) fn open_matching(
    envelope: &AuthEnvelopedData,
    recipient: &dyn Decrypter,
    matcher: &Matcher,
) -> Result<Zeroizing<Vec<u8>>> {
    check(envelope)?;
    let info = &envelope.auth_encrypted_content_info;
    let (algorithm, nonce) = AuthEncryptionAlgorithm::from_identifier(&info.content_enc_alg)?;
    let ciphertext = info
        .encrypted_content
        .as_ref()
        .ok_or(Error::NoContent)?
        .as_bytes();
    check_content_type(envelope)?;
    let aad = associated_data(envelope.auth_attrs.as_ref())?;
    let tag = envelope.mac.as_bytes();
    super::open_recipients(
        &envelope.recip_infos,
        recipient,
        matcher,
        algorithm.key_len(),
        &|cek| algorithm.decrypt(cek, &nonce, &aad, ciphertext, tag),
    )
}

/// `authAttrs` holding the `content-type` attribute (RFC 5652 §11.1) for `content_type`.
fn content_type_attributes(
    content_type: const_oid::ObjectIdentifier,
) -> Result<SetOfVec<Attribute>> {
    let bad = |e: der::Error| Error::decode("AuthAttributes", e);
    let value = Any::encode_from(&content_type).map_err(bad)?;
    let attribute = Attribute {
        oid: oid::ID_CONTENT_TYPE,
        values: SetOfVec::try_from(vec![value]).map_err(bad)?,
    };
    SetOfVec::try_from(vec![attribute]).map_err(bad)
}

/// RFC 5083 §2.2: the associated data is the DER of `authAttrs` with the SET OF tag, or
/// empty without them.
fn associated_data(auth_attrs: Option<&SetOfVec<Attribute>>) -> Result<Vec<u8>> {
    match auth_attrs {
        None => Ok(Vec::new()),
        Some(attrs) => attrs
            .to_der()
            .map_err(|e| Error::decode("AuthAttributes", e)),
    }
}

/// RFC 5083 §2.1: content other than `id-data` needs `authAttrs` with a `content-type`
/// attribute, which must name the encrypted content's type.
fn check_content_type(envelope: &AuthEnvelopedData) -> Result<()> {
    let content_type = envelope.auth_encrypted_content_info.content_type;
    let attribute = envelope
        .auth_attrs
        .iter()
        .flat_map(|attrs| attrs.iter())
        .find(|a| a.oid == oid::ID_CONTENT_TYPE);
    let Some(attribute) = attribute else {
        if oid::rfc5652_equivalent(&content_type) == oid::ID_DATA {
            return Ok(());
        }
        return Err(Error::decode(
            "AuthEnvelopedData",
            format!(
                "content of type {content_type} without an authenticated content-type \
                 attribute (RFC 5083 §2.1)"
            ),
        ));
    };
    let mut values = attribute.values.iter();
    let named = match (values.next(), values.next()) {
        (Some(v), None) => v
            .decode_as::<const_oid::ObjectIdentifier>()
            .map_err(|e| Error::decode("content-type attribute", e))?,
        _ => {
            return Err(Error::decode(
                "content-type attribute",
                "must have exactly one value (RFC 5652 §11.1)",
            ));
        }
    };
    if named != content_type {
        return Err(Error::decode(
            "AuthEnvelopedData",
            format!(
                "the content-type attribute says {named}, the encrypted content is {content_type}"
            ),
        ));
    }
    Ok(())
}
