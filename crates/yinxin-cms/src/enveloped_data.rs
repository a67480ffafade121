//! `EnvelopedData` (RFC 5652 §6, and GM/T 0010-2012 §9 for SM2): content encrypted under a
//! random content-encryption key, which reaches each recipient by key transport
//! (`KeyTransRecipientInfo`: RSA, SM2) or key agreement (`KeyAgreeRecipientInfo`: ECDH on
//! P-256 and P-384). One envelope may have recipients of every kind.
//!
//! # What yinxin writes
//!
//! * Content: AES-256-CBC by default, a random IV as the algorithm's parameter (RFC 3565);
//!   SM4-CBC (`1.2.156.10197.1.104.2`, the IV as an OCTET STRING parameter) with
//!   [`SealOptions::sm2`]. AES-128/192 on request.
//! * RSA recipients: RSAES-OAEP, SHA-256 and MGF1-SHA-256 with explicit `RSAES-OAEP-params`
//!   ([`KEY_TRANSPORT`]). [`SealOptions::rsa_key_transport`] may ask for RSAES-PKCS1-v1_5
//!   (`rsaEncryption`) for legacy readers only: it is open to padding-oracle attacks on the
//!   reader's side and yinxin never picks it itself.
//! * EC recipients (P-256, P-384): one `KeyAgreeRecipientInfo` each, with a fresh ephemeral
//!   key, `dhSinglePass-stdDH-sha256kdf-scheme` + `id-aes128-wrap` for P-256 and
//!   `dhSinglePass-stdDH-sha384kdf-scheme` + `id-aes256-wrap` for P-384 (RFC 5753, paired as
//!   in RFC 6318), `ECC-CMS-SharedInfo` without `ukm`. OpenSSL 3 reads it.
//! * SM2 recipients: `KeyTransRecipientInfo` with `keyEncryptionAlgorithm` `sm2encrypt`
//!   (`1.2.156.10197.1.301.3`, parameters absent) and the GM/T 0009 ASN.1 SM2 ciphertext
//!   (`SEQUENCE { x, y, hash, ciphertext }`) of the content-encryption key as `encryptedKey`.
//! * [`Form::Rfc5652`] (default): `id-envelopedData`, `id-data`, versions of RFC 5652 §6.1
//!   and §6.2 (0 for issuer-and-serial key transport, 2 for a key identifier, 3 for key
//!   agreement; the envelope 0 when every recipient is version 0, else 2).
//! * [`Form::GmT0010`]: the GM/T 0010 content types (`envelopedData`
//!   `1.2.156.10197.6.1.4.2.3` outside, `data` `1.2.156.10197.6.1.4.2.1` as the encrypted
//!   content's type), versions 1 (GM/T 0010 §6.9 `Version`; `RecipientInfo` and
//!   `EnvelopedData` are 1 in GmSSL 3 and gmsm, which follow the standard), and 2 where a
//!   recipient is named by key identifier (a CMS extension that gmsm also writes for CFCA);
//!   no `sharedInfo1`/`sharedInfo2`.
//!
//! # GM/T 0010-2012 choices
//!
//! GM/T 0010 §9 copies PKCS#7's `EnvelopedData` (version, recipientInfos,
//! encryptedContentInfo) with its own OIDs; its `RecipientInfo` is PKCS#7's (version,
//! issuerAndSerialNumber, keyEncryptionAlgorithm, encryptedKey) and reads as a
//! `KeyTransRecipientInfo`. Its `EncryptedContentInfo` adds two optional fields,
//! `sharedInfo1 [1]` and `sharedInfo2 [2]` (OCTET STRING), which yinxin never writes and does
//! not read (an envelope carrying them fails to decode). Checked against GmSSL 3 (`cms.c`:
//! version 1 everywhere, `sm2encrypt` without parameters, `sm4-cbc` `.104.2` with the IV as
//! an OCTET STRING) and gmsm (`pkcs7/envelope.go`: versions 1, or 2 with key identifiers;
//! `sm2encrypt` with `NULL` parameters). yinxin reads both parameter spellings, both SM4
//! identifiers (`1.2.156.10197.1.104.2`, and the bare `1.2.156.10197.1.104` as SM4-CBC),
//! versions 0 or 1 for issuer-and-serial recipients and 0, 1 or 2 for the envelope when the
//! envelope is in the GM/T form (outer or inner content type), and RFC 5652's versions
//! exactly otherwise.
//!
//! # Opening
//!
//! [`open`] takes the recipient's key as a [`Decrypter`] handle: RSA and SM2 keys decrypt
//! inside their token, EC keys agree inside it ([`Decrypter::agree`]). Recipients are found
//! by the handle's public key: a subject key identifier (RFC 5280 method 1) is matched
//! exactly; recipients named by issuer and serial number are *tried* when none matches
//! (RSA ones only if their ciphertext is as long as the key's modulus, SM2 ones only if
//! their algorithm is SM2, EC ones only through the key wrap's integrity check). Give the
//! certificate to [`open_with_certificate`] to match issuer and serial number exactly.
//! A wrong key fails as [`Error::NoMatchingRecipient`] or [`Error::DecryptionFailed`].
//!
//! It opens what OpenSSL and other toolkits write: AES-128/192/256-CBC or SM4-CBC content,
//! RSAES-OAEP (SHA-1 or SHA-2) or `rsaEncryption` (PKCS#1 v1.5) key transport, SM2 key
//! transport in any ciphertext layout, ECDH with the SHA-1/256/384/512 X9.63 KDFs
//! (`stdDH` and `cofactorDH`) and AES-128/192/256 key wrap, inside a `ContentInfo` or bare,
//! DER, BER or PEM.
//!
//! CBC content has no integrity protection (RFC 5652 §6 does not authenticate it): a
//! changed IV or ciphertext byte is detected only when it breaks the padding, otherwise the
//! content comes out altered. Use an authenticated envelope (below), or a signature over the
//! content (SignedData inside), where that matters.
//!
//! # Authenticated envelopes, and both kinds alike
//!
//! [`authenticated`] holds `AuthEnvelopedData` (RFC 5083) with AES-128/256-GCM (RFC 5084) or
//! SM4-GCM, whose recipient infos are sealed and opened by the same code as here: a changed
//! byte of its ciphertext, tag or nonce fails as [`Error::IntegrityCheckFailed`] (a
//! verdict, told apart from [`Error::DecryptionFailed`], a key that does not open, and
//! [`Error::NoMatchingRecipient`]). GM/T 0010 defines no authenticated envelope, so GCM in
//! [`Form::GmT0010`] is refused ([`Error::Unsupported`]): sign, then envelope, there.
//!
//! Callers that handle both kinds use one cipher choice and three functions:
//!
//! * [`SealOptions::with_cipher`] takes a [`ContentCipher`] (`Aes128Cbc` … `Sm4Cbc`,
//!   `Aes128Gcm`, `Aes256Gcm`, `Sm4Gcm`; [`ContentCipher::from_name`] reads `aes-256-gcm`
//!   etc.); [`seal_message`] seals and encodes the `ContentInfo` of the kind the cipher
//!   implies (GCM: `id-ct-authEnvelopedData`; CBC: `id-envelopedData` or GM/T 0010
//!   `envelopedData`);
//! * [`open_message`] opens a `ContentInfo` (DER, BER or PEM) or bare structure of either
//!   kind and form with a [`Decrypter`], the certificate optional;
//! * [`describe_message`] reads an [`EnvelopeSummary`] (kind, form, content cipher,
//!   recipients as [`RecipientDescription`]s) without a key, for `--json` output.
//!
//! [`Envelope`] is the decoded envelope of either kind, for callers that try several keys.
//! The functions for `EnvelopedData` alone ([`seal`], [`open`], [`open_with_certificate`],
//! [`decode`], [`to_der`], [`to_pem`]) are unchanged; [`seal`] refuses options that ask for
//! GCM rather than drop the integrity the caller asked for.
//!
//! ```
//! use yinxin_cms::algorithm::ContentCipher;
//! use yinxin_cms::enveloped_data::{self, EnvelopeKind, Recipient, SealOptions};
//! use yinxin_crypto::{KeySpec, PrivateKey};
//! let key = PrivateKey::generate(KeySpec::EcP256)?;
//! let recipient = Recipient::by_key_identifier(key.public_key())?;
//! let options = SealOptions::default().with_cipher(ContentCipher::Aes256Gcm);
//! let der = enveloped_data::seal_message(b"bid", &[recipient], &options)?;
//! assert_eq!(enveloped_data::describe_message(&der)?.kind, EnvelopeKind::AuthEnveloped);
//! assert_eq!(&enveloped_data::open_message(&der, &key, None)?[..], b"bid");
//! # Ok::<(), yinxin_cms::Error>(())
//! ```
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
//!     -- GM/T 0010 adds sharedInfo1 [1] IMPLICIT OCTET STRING OPTIONAL,
//!     --                sharedInfo2 [2] IMPLICIT OCTET STRING OPTIONAL
//!
//! KeyTransRecipientInfo ::= SEQUENCE {
//!     version CMSVersion,  -- always set to 0 or 2 (GM/T 0010: 1)
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

mod agreement;
pub mod authenticated;
mod message;
mod recipient;

use cms::content_info::CmsVersion;
use const_oid::ObjectIdentifier;
use der::Decode;
use der::asn1::OctetString;
use yinxin_crypto::symmetric::CBC_IV_LEN;
use yinxin_crypto::{
    Decrypter, EncryptionScheme, HashAlgorithm, KeyAlgorithm, Sm2CiphertextFormat, random,
};
use zeroize::Zeroizing;

pub use authenticated::AuthEnvelopedData;
pub use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo,
    KeyTransRecipientInfo, OriginatorIdentifierOrKey, RecipientEncryptedKey, RecipientIdentifier,
    RecipientInfo, RecipientInfos,
};
pub use message::{
    Envelope, EnvelopeKind, EnvelopeSummary, RecipientDescription, RecipientKind, RecipientName,
    describe_message, open_message, seal_message,
};
pub use recipient::{Recipient, subject_key_identifier};

/// The message syntax (shared with signatures).
pub use crate::Form;

use crate::algorithm::{
    AuthEncryptionAlgorithm, ContentCipher, ContentEncryptionAlgorithm, key_transport_identifier,
    key_transport_scheme,
};
use crate::content_info;
use crate::error::{Error, Result};
use crate::oid;
use recipient::{KeyManagement, Match, Matcher, key_management};

/// The key transport yinxin writes to RSA keys: RSAES-OAEP with SHA-256 and MGF1-SHA-256.
pub const KEY_TRANSPORT: EncryptionScheme = EncryptionScheme::RsaOaep(HashAlgorithm::Sha256);

/// The key transport yinxin writes to SM2 keys: SM2 encryption, GM/T 0009 ASN.1 ciphertext.
pub const SM2_KEY_TRANSPORT: EncryptionScheme = EncryptionScheme::Sm2(Sm2CiphertextFormat::Asn1);

/// The form of an envelope: GM/T 0010 when its encrypted content's type is one of GM/T
/// 0010's, RFC 5652 otherwise.
pub fn form_of(envelope: &EnvelopedData) -> Form {
    Form::of_inner_content_type(&envelope.encrypted_content.content_type)
}

/// How to seal.
///
/// The content cipher is `content_encryption` (CBC, an `EnvelopedData`) unless
/// `authenticated_encryption` names a GCM cipher (an `AuthEnvelopedData`); set both at once
/// from one [`ContentCipher`] with [`SealOptions::with_cipher`], read the effective one with
/// [`SealOptions::cipher`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealOptions {
    /// The CBC content cipher of an `EnvelopedData` (default AES-256-CBC;
    /// [`SealOptions::sm2`] picks SM4-CBC). Not used when `authenticated_encryption` is set.
    pub content_encryption: ContentEncryptionAlgorithm,
    /// The GCM content cipher of an `AuthEnvelopedData` (RFC 5083), if the content is to be
    /// authenticated (default `None`: an `EnvelopedData`). [`seal_message`] and
    /// [`authenticated::seal`] use it; [`seal`] refuses it. RFC 5652 form only.
    pub authenticated_encryption: Option<AuthEncryptionAlgorithm>,
    /// The type of the content that is encrypted (default `id-data`), written in the form's
    /// spelling (see [`Form::spell`]).
    pub content_type: ObjectIdentifier,
    /// The message syntax (default [`Form::Rfc5652`]).
    pub form: Form,
    /// The key transport to RSA recipients (default [`KEY_TRANSPORT`], RSAES-OAEP-SHA-256).
    /// [`EncryptionScheme::RsaOaepSha1`] suits readers that know only OAEP's defaults, and
    /// [`EncryptionScheme::RsaPkcs1v15`] legacy readers without OAEP: ask for it only for
    /// those (it invites padding-oracle attacks against the reader).
    pub rsa_key_transport: EncryptionScheme,
}

impl Default for SealOptions {
    fn default() -> Self {
        SealOptions {
            content_encryption: ContentEncryptionAlgorithm::default(),
            authenticated_encryption: None,
            content_type: oid::ID_DATA,
            form: Form::Rfc5652,
            rsa_key_transport: KEY_TRANSPORT,
        }
    }
}

impl SealOptions {
    /// Options for SM2 recipients: SM4-CBC content in `form` (GM/T 0010 or RFC 5652).
    pub fn sm2(form: Form) -> Self {
        SealOptions {
            content_encryption: ContentEncryptionAlgorithm::Sm4Cbc,
            form,
            ..SealOptions::default()
        }
    }

    /// Options for an authenticated envelope (`AuthEnvelopedData`, RFC 5652 form) with
    /// `cipher`: AES-GCM for any recipients, SM4-GCM typically for SM2 ones.
    pub fn authenticated(cipher: AuthEncryptionAlgorithm) -> Self {
        SealOptions {
            authenticated_encryption: Some(cipher),
            ..SealOptions::default()
        }
    }

    /// These options with `cipher` as the content cipher: a CBC cipher clears
    /// `authenticated_encryption`, a GCM one sets it.
    #[must_use]
    pub fn with_cipher(self, cipher: ContentCipher) -> Self {
        match (cipher.unauthenticated(), cipher.authenticated()) {
            (Some(cbc), _) => SealOptions {
                content_encryption: cbc,
                authenticated_encryption: None,
                ..self
            },
            (_, gcm) => SealOptions {
                authenticated_encryption: gcm,
                ..self
            },
        }
    }

    /// The content cipher these options seal with: `authenticated_encryption` if set, else
    /// `content_encryption`.
    pub fn cipher(&self) -> ContentCipher {
        match self.authenticated_encryption {
            Some(gcm) => gcm.into(),
            None => self.content_encryption.into(),
        }
    }
}

/// Seal `content` for `recipients` (at least one; RSA, SM2, P-256 and P-384 keys in any mix)
/// in an `EnvelopedData` with the CBC cipher `options.content_encryption`. Options that ask
/// for authenticated encryption are refused here: use [`seal_message`] or
/// [`authenticated::seal`] for those.
pub fn seal(
    content: &[u8],
    recipients: &[Recipient],
    options: &SealOptions,
) -> Result<EnvelopedData> {
    if let Some(gcm) = options.authenticated_encryption {
        return Err(Error::Unsupported(format!(
            "{gcm} in an EnvelopedData (GCM content goes in an AuthEnvelopedData: use \
             seal_message or enveloped_data::authenticated::seal)"
        )));
    }
    let algorithm = options.content_encryption;
    let cek = Zeroizing::new(random::bytes(algorithm.key_len())?);
    let recip_infos = seal_recipients(&cek, recipients, options)?;
    let mut iv = [0u8; CBC_IV_LEN];
    random::fill(&mut iv)?;
    let encrypted = algorithm.encrypt(&cek, &iv, content)?;
    let bad = |e: der::Error| Error::decode("EnvelopedData", e);
    let version = expected_version(&recip_infos, options.form);
    Ok(EnvelopedData {
        version,
        originator_info: None,
        recip_infos,
        encrypted_content: EncryptedContentInfo {
            content_type: options.form.spell(options.content_type),
            content_enc_alg: algorithm.identifier(&iv)?,
            encrypted_content: Some(OctetString::new(encrypted).map_err(bad)?),
        },
        unprotected_attrs: None,
    })
}

/// The `RecipientInfos` that deliver `cek` to each of `recipients` in `options.form`: RSA
/// and SM2 keys by key transport, EC keys by key agreement. Shared by `EnvelopedData` and
/// `AuthEnvelopedData`.
fn seal_recipients(
    cek: &[u8],
    recipients: &[Recipient],
    options: &SealOptions,
) -> Result<RecipientInfos> {
    if recipients.is_empty() {
        return Err(Error::Unsupported(
            "an envelope without recipients (RecipientInfos is SIZE (1..MAX))".into(),
        ));
    }
    if !matches!(
        options.rsa_key_transport,
        EncryptionScheme::RsaOaep(_)
            | EncryptionScheme::RsaOaepSha1
            | EncryptionScheme::RsaPkcs1v15
    ) {
        return Err(Error::Unsupported(format!(
            "{} as the key transport to RSA recipients",
            options.rsa_key_transport
        )));
    }
    let bad = |e: der::Error| Error::decode("RecipientInfos", e);
    let mut infos = Vec::with_capacity(recipients.len());
    for r in recipients {
        let scheme = match key_management(r.public_key())? {
            KeyManagement::EcdhAgreement => {
                infos.push(RecipientInfo::Kari(agreement::seal(r, cek)?));
                continue;
            }
            KeyManagement::RsaTransport => options.rsa_key_transport,
            KeyManagement::Sm2Transport => SM2_KEY_TRANSPORT,
        };
        let encrypted_key = r.public_key().encrypt(&scheme, cek)?;
        infos.push(RecipientInfo::Ktri(KeyTransRecipientInfo {
            version: ktri_version(r.identifier(), options.form),
            rid: r.identifier().clone(),
            key_enc_alg: key_transport_identifier(&scheme)?,
            enc_key: OctetString::new(encrypted_key).map_err(bad)?,
        }));
    }
    RecipientInfos::try_from(infos).map_err(bad)
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
/// `ContentInfo` of type `id-envelopedData` or GM/T 0010 `envelopedData`, or bare.
pub fn decode(data: &[u8]) -> Result<EnvelopedData> {
    let bytes = content_info::binary(data)?;
    let wrapped = content_info::decode_binary(&bytes);
    let (envelope, outer) = match wrapped {
        Ok(decoded) => {
            let outer = decoded.content_info.content_type;
            let expected = if outer == oid::GMT_ENVELOPED_DATA {
                oid::GMT_ENVELOPED_DATA
            } else {
                oid::ID_ENVELOPED_DATA
            };
            (decoded.content(expected, "EnvelopedData")?, Some(outer))
        }
        // A bare EnvelopedData, as some toolkits hand it over.
        Err(wrapped_error) => (
            EnvelopedData::from_der(&bytes)
                .or_else(|_| EnvelopedData::from_ber(&bytes))
                .map_err(|_| wrapped_error)?,
            None,
        ),
    };
    let form = match outer {
        Some(o) if o == oid::GMT_ENVELOPED_DATA => Form::GmT0010,
        _ => form_of(&envelope),
    };
    check_versions(&envelope, form)?;
    Ok(envelope)
}

/// The DER `ContentInfo` holding `envelope`, of the content type of its [`Form`].
pub fn to_der(envelope: &EnvelopedData) -> Result<Vec<u8>> {
    content_info::to_der(&content_info::wrap(
        form_of(envelope).enveloped_data_type(),
        envelope,
    )?)
}

/// The PEM (`-----BEGIN CMS-----`) `ContentInfo` holding `envelope`, of the content type of
/// its [`Form`].
pub fn to_pem(envelope: &EnvelopedData) -> Result<String> {
    content_info::to_pem(&content_info::wrap(
        form_of(envelope).enveloped_data_type(),
        envelope,
    )?)
}

/// RFC 5652 §6.2.1: 0 for issuerAndSerialNumber, 2 for subjectKeyIdentifier. GM/T 0010
/// writes 1 for issuerAndSerialNumber.
fn ktri_version(rid: &RecipientIdentifier, form: Form) -> CmsVersion {
    match (rid, form) {
        (RecipientIdentifier::IssuerAndSerialNumber(_), Form::Rfc5652) => CmsVersion::V0,
        (RecipientIdentifier::IssuerAndSerialNumber(_), Form::GmT0010) => CmsVersion::V1,
        (RecipientIdentifier::SubjectKeyIdentifier(_), _) => CmsVersion::V2,
    }
}

/// RFC 5652 §6.1 for an envelope without originator information or attributes: 0 when every
/// recipient is a version-0 `KeyTransRecipientInfo`, else 2. GM/T 0010: 1 when every
/// recipient is a version-1 `KeyTransRecipientInfo` (issuer and serial number), else 2.
fn expected_version(infos: &RecipientInfos, form: Form) -> CmsVersion {
    let simple = match form {
        Form::Rfc5652 => CmsVersion::V0,
        Form::GmT0010 => CmsVersion::V1,
    };
    let all_simple = infos
        .0
        .iter()
        .all(|ri| matches!(ri, RecipientInfo::Ktri(k) if k.version == simple));
    if all_simple { simple } else { CmsVersion::V2 }
}

/// Check the version numbers RFC 5652 derives from the structure, so that an envelope is
/// read one way only; in the GM/T 0010 form, also the versions GM/T 0010 writers use.
fn check_versions(envelope: &EnvelopedData, form: Form) -> Result<()> {
    check_recipient_versions(&envelope.recip_infos, form)?;
    let simple = envelope.originator_info.is_none()
        && envelope.unprotected_attrs.is_none()
        && envelope.recip_infos.0.iter().all(|ri| {
            matches!(
                ri,
                RecipientInfo::Ktri(_) | RecipientInfo::Kari(_) | RecipientInfo::Kekri(_)
            )
        });
    if !simple {
        return Ok(());
    }
    let fits = match form {
        Form::Rfc5652 => envelope.version == expected_version(&envelope.recip_infos, form),
        Form::GmT0010 => matches!(
            envelope.version,
            CmsVersion::V0 | CmsVersion::V1 | CmsVersion::V2
        ),
    };
    if !fits {
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

/// Check the versions RFC 5652 §6.2 derives from each recipient info (GM/T 0010's too in
/// that form).
fn check_recipient_versions(infos: &RecipientInfos, form: Form) -> Result<()> {
    for ri in infos.0.iter() {
        match ri {
            RecipientInfo::Ktri(k) => {
                let fits = k.version == ktri_version(&k.rid, Form::Rfc5652)
                    || (form == Form::GmT0010 && k.version == ktri_version(&k.rid, form));
                if !fits {
                    return Err(Error::decode(
                        "KeyTransRecipientInfo",
                        format!(
                            "version {} does not fit its recipient identifier (RFC 5652 §6.2.1)",
                            k.version as u8
                        ),
                    ));
                }
            }
            RecipientInfo::Kari(k) if k.version != CmsVersion::V3 => {
                return Err(Error::decode(
                    "KeyAgreeRecipientInfo",
                    format!("version {}, RFC 5652 §6.2.2 says 3", k.version as u8),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// One way to the content-encryption key that the decryption key may have.
enum Attempt<'a> {
    Transport(&'a KeyTransRecipientInfo),
    Agreement(&'a KeyAgreeRecipientInfo, &'a RecipientEncryptedKey),
}

/// The recipient infos `recipient` may open, those named for it first.
fn candidates<'a>(
    infos: &'a RecipientInfos,
    management: KeyManagement,
    key: &yinxin_crypto::PublicKey,
    matcher: &Matcher,
) -> (Vec<Attempt<'a>>, Vec<Attempt<'a>>) {
    let modulus_len = match key.algorithm() {
        KeyAlgorithm::Rsa { bits } => (bits as usize).div_ceil(8),
        _ => 0,
    };
    let point_len = match management {
        KeyManagement::EcdhAgreement => key.raw_bytes().len(),
        _ => 0,
    };
    let mut exact = Vec::new();
    let mut maybe = Vec::new();
    for ri in infos.0.iter() {
        match (ri, management) {
            (
                RecipientInfo::Ktri(ktri),
                KeyManagement::RsaTransport | KeyManagement::Sm2Transport,
            ) => {
                match matcher.check(&ktri.rid) {
                    Match::Yes => exact.push(Attempt::Transport(ktri)),
                    // A recipient known only by a certificate the caller lacks is tried only
                    // if it can be this key's: an RSA ciphertext is as long as the modulus,
                    // an SM2 one says SM2.
                    Match::Maybe => {
                        let plausible = match management {
                            KeyManagement::RsaTransport => {
                                ktri.enc_key.as_bytes().len() == modulus_len
                                    && ktri.key_enc_alg.oid != yinxin_crypto::oid::SM2_ENCRYPT
                            }
                            _ => ktri.key_enc_alg.oid == yinxin_crypto::oid::SM2_ENCRYPT,
                        };
                        if plausible {
                            maybe.push(Attempt::Transport(ktri));
                        }
                    }
                    Match::No => {}
                }
            }
            (RecipientInfo::Kari(kari), KeyManagement::EcdhAgreement) => {
                // An ephemeral key on another curve is not for this key.
                let same_curve = match &kari.originator {
                    OriginatorIdentifierOrKey::OriginatorKey(k) => {
                        k.public_key.raw_bytes().len() == point_len
                    }
                    _ => true,
                };
                for rek in &kari.recipient_enc_keys {
                    match matcher.check_agree(&rek.rid) {
                        Match::Yes => exact.push(Attempt::Agreement(kari, rek)),
                        Match::Maybe if same_curve => maybe.push(Attempt::Agreement(kari, rek)),
                        Match::Maybe | Match::No => {}
                    }
                }
            }
            _ => {}
        }
    }
    (exact, maybe)
}

fn open_matching(
    envelope: &EnvelopedData,
    recipient: &dyn Decrypter,
    matcher: &Matcher,
) -> Result<Zeroizing<Vec<u8>>> {
    check_versions(envelope, form_of(envelope))?;
    let (algorithm, iv) =
        ContentEncryptionAlgorithm::from_identifier(&envelope.encrypted_content.content_enc_alg)?;
    let ciphertext = envelope
        .encrypted_content
        .encrypted_content
        .as_ref()
        .ok_or(Error::NoContent)?
        .as_bytes();
    open_recipients(
        &envelope.recip_infos,
        recipient,
        matcher,
        algorithm.key_len(),
        &|cek| algorithm.decrypt(cek, &iv, ciphertext),
    )
}

/// Decrypts (and for GCM, authenticates) an envelope's content under a recovered
/// content-encryption key.
type ContentDecryption<'a> = dyn Fn(&[u8]) -> Result<Zeroizing<Vec<u8>>> + 'a;

/// Recover the content-encryption key (`key_len` bytes) from the recipient infos that
/// `recipient` may open, those named for it first, and decrypt the content with
/// `decrypt_content`. The most telling failure is reported: an altered authenticated content
/// ([`Error::IntegrityCheckFailed`]) over a key that does not decrypt, over no match.
fn open_recipients(
    infos: &RecipientInfos,
    recipient: &dyn Decrypter,
    matcher: &Matcher,
    key_len: usize,
    decrypt_content: &ContentDecryption<'_>,
) -> Result<Zeroizing<Vec<u8>>> {
    let key = recipient.public_key();
    let management = key_management(key)?;
    let (exact, maybe) = candidates(infos, management, key, matcher);
    let exact_count = exact.len();
    let single = exact_count + maybe.len() == 1;
    let mut outcome = Err(Error::NoMatchingRecipient);
    for (index, attempt) in exact.into_iter().chain(maybe).enumerate() {
        let named = index < exact_count;
        // Remember the first reason a recipient info could not be used, over "no match"; a
        // content that failed its integrity check stays the verdict.
        let note = |e: Error, outcome: &mut Result<Zeroizing<Vec<u8>>>| {
            let keep = matches!(outcome, Err(Error::IntegrityCheckFailed));
            if !keep && (matches!(outcome, Err(Error::NoMatchingRecipient)) || e.is_verdict()) {
                *outcome = Err(e);
            }
        };
        let recovered = match attempt {
            Attempt::Transport(ktri) => {
                let scheme = match key_transport_scheme(&ktri.key_enc_alg) {
                    Ok(s) if s.fits(key.algorithm()) => s,
                    Ok(s) => {
                        note(
                            Error::Unsupported(format!(
                                "a recipient named for this key uses {s}, which a {} key \
                                 cannot decrypt",
                                key.algorithm()
                            )),
                            &mut outcome,
                        );
                        continue;
                    }
                    Err(e) => {
                        note(e, &mut outcome);
                        continue;
                    }
                };
                match recipient.decrypt(&scheme, ktri.enc_key.as_bytes()) {
                    Ok(k) if k.len() == key_len => Ok(k),
                    Ok(_) | Err(yinxin_crypto::Error::DecryptionFailed) => {
                        if single && scheme == EncryptionScheme::RsaPkcs1v15 {
                            // RFC 3218 §2.3.2: carry on with a random key, failing at the
                            // content.
                            Ok(Zeroizing::new(random::bytes(key_len)?))
                        } else {
                            Err(Error::DecryptionFailed)
                        }
                    }
                    Err(other) => Err(Error::Crypto(other)),
                }
            }
            Attempt::Agreement(kari, rek) => match agreement::open(kari, rek, recipient) {
                Ok(k) if k.len() == key_len => Ok(k),
                Ok(_) => Err(Error::DecryptionFailed),
                Err(e) => Err(e),
            },
        };
        let cek = match recovered {
            Ok(cek) => cek,
            Err(e) if e.is_verdict() => {
                note(e, &mut outcome);
                continue;
            }
            // The key's owner failed (a token error) or a recipient named for this key is
            // malformed: say so. A merely possible recipient that does not fit is skipped.
            Err(e) if named || matches!(e, Error::Crypto(yinxin_crypto::Error::Backend(_))) => {
                return Err(e);
            }
            Err(_) => continue,
        };
        match decrypt_content(&cek) {
            Ok(content) => return Ok(content),
            Err(e) => {
                if !matches!(outcome, Err(Error::IntegrityCheckFailed)) {
                    outcome = Err(e);
                }
            }
        }
    }
    outcome
}
