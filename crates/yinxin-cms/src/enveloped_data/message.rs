//! Both envelope kinds alike: `EnvelopedData` (CBC content, either form) and
//! `AuthEnvelopedData` (GCM content), chosen on sealing by the content cipher and found on
//! opening by the `ContentInfo`'s content type.

use std::fmt;

use const_oid::ObjectIdentifier;
use der::Decode;
use yinxin_crypto::Decrypter;
use zeroize::Zeroizing;

use super::authenticated::{self, AuthEnvelopedData};
use super::recipient::Matcher;
use super::{
    EncryptedContentInfo, EnvelopedData, Form, KeyAgreeRecipientIdentifier, Recipient,
    RecipientIdentifier, RecipientInfo, RecipientInfos, SealOptions,
};
use crate::algorithm::{ContentCipher, KeyAgreementAlgorithm, key_transport_scheme};
use crate::content_info;
use crate::error::{Error, Result};
use crate::oid;

/// The two kinds of envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvelopeKind {
    /// `EnvelopedData` (RFC 5652 §6, GM/T 0010 §9): CBC content, not authenticated.
    Enveloped,
    /// `AuthEnvelopedData` (RFC 5083): GCM content, authenticated.
    AuthEnveloped,
}

impl fmt::Display for EnvelopeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnvelopeKind::Enveloped => "EnvelopedData",
            EnvelopeKind::AuthEnveloped => "AuthEnvelopedData",
        })
    }
}

/// An envelope of either kind.
#[derive(Debug, Clone)]
pub enum Envelope {
    /// An `EnvelopedData`, in either [`Form`].
    Enveloped(EnvelopedData),
    /// An `AuthEnvelopedData` (RFC 5652 form).
    AuthEnveloped(AuthEnvelopedData),
}

impl Envelope {
    /// Seal `content` for `recipients`: an `AuthEnvelopedData` when `options` ask for
    /// authenticated encryption ([`SealOptions::cipher`] is GCM), else an `EnvelopedData`.
    /// GCM in the GM/T 0010 form is refused ([`Error::Unsupported`]).
    pub fn seal(content: &[u8], recipients: &[Recipient], options: &SealOptions) -> Result<Self> {
        match options.authenticated_encryption {
            Some(_) if options.form == Form::GmT0010 => Err(authenticated::gmt0010_refusal()),
            Some(_) => Ok(Envelope::AuthEnveloped(authenticated::seal(
                content, recipients, options,
            )?)),
            None => Ok(Envelope::Enveloped(super::seal(
                content, recipients, options,
            )?)),
        }
    }

    /// Decode an envelope of either kind and either form from DER, BER or PEM: a
    /// `ContentInfo` of type `id-envelopedData`, GM/T 0010 `envelopedData` or
    /// `id-ct-authEnvelopedData`, or a bare `EnvelopedData` or `AuthEnvelopedData`.
    pub fn decode(data: &[u8]) -> Result<Self> {
        let bytes = content_info::binary(data)?;
        match content_info::decode_binary(&bytes) {
            Ok(decoded) => {
                let found = decoded.content_info.content_type;
                if found == oid::ID_CT_AUTH_ENVELOPED_DATA {
                    Ok(Envelope::AuthEnveloped(authenticated::decode(&bytes)?))
                } else if found == oid::ID_ENVELOPED_DATA || found == oid::GMT_ENVELOPED_DATA {
                    Ok(Envelope::Enveloped(super::decode(&bytes)?))
                } else {
                    Err(Error::WrongContentType {
                        expected: "EnvelopedData or AuthEnvelopedData",
                        found: content_info::describe(&found),
                    })
                }
            }
            // Bare structures: an AuthEnvelopedData has a `mac` after the encrypted content,
            // so at most one of the two reads the bytes.
            Err(wrapped_error) => {
                let auth = AuthEnvelopedData::from_der(&bytes)
                    .or_else(|_| AuthEnvelopedData::from_ber(&bytes));
                match auth {
                    Ok(_) => Ok(Envelope::AuthEnveloped(authenticated::decode(&bytes)?)),
                    Err(_) => super::decode(&bytes)
                        .map(Envelope::Enveloped)
                        .map_err(|_| wrapped_error),
                }
            }
        }
    }

    /// The envelope's kind.
    pub fn kind(&self) -> EnvelopeKind {
        match self {
            Envelope::Enveloped(_) => EnvelopeKind::Enveloped,
            Envelope::AuthEnveloped(_) => EnvelopeKind::AuthEnveloped,
        }
    }

    /// The envelope's form ([`Form::Rfc5652`] for every `AuthEnvelopedData`).
    pub fn form(&self) -> Form {
        match self {
            Envelope::Enveloped(e) => super::form_of(e),
            Envelope::AuthEnveloped(_) => Form::Rfc5652,
        }
    }

    /// The envelope's content cipher, if yinxin implements it.
    pub fn content_cipher(&self) -> Result<ContentCipher> {
        match self {
            Envelope::Enveloped(e) => super::content_encryption(e).map(ContentCipher::from),
            Envelope::AuthEnveloped(e) => {
                authenticated::content_encryption(e).map(ContentCipher::from)
            }
        }
    }

    /// The recipient infos.
    pub fn recipient_infos(&self) -> &RecipientInfos {
        match self {
            Envelope::Enveloped(e) => &e.recip_infos,
            Envelope::AuthEnveloped(e) => &e.recip_infos,
        }
    }

    fn encrypted_content_info(&self) -> &EncryptedContentInfo {
        match self {
            Envelope::Enveloped(e) => &e.encrypted_content,
            Envelope::AuthEnveloped(e) => &e.auth_encrypted_content_info,
        }
    }

    /// Open the envelope with `recipient`'s key. With `certificate` (DER, the key's
    /// certificate) recipients named by issuer and serial number are matched exactly;
    /// without, they are tried (see [`super::open`]). An authenticated envelope whose
    /// content, nonce or tag was changed fails as [`Error::IntegrityCheckFailed`].
    pub fn open(
        &self,
        recipient: &dyn Decrypter,
        certificate: Option<&[u8]>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let matcher = match certificate {
            Some(der) => Matcher::for_certificate(recipient.public_key(), der)?,
            None => Matcher::for_key(recipient.public_key())?,
        };
        match self {
            Envelope::Enveloped(e) => super::open_matching(e, recipient, &matcher),
            Envelope::AuthEnveloped(e) => authenticated::open_matching(e, recipient, &matcher),
        }
    }

    /// A description of the envelope (kind, form, content cipher, recipients) for display;
    /// nothing is decrypted.
    pub fn summary(&self) -> EnvelopeSummary {
        let info = self.encrypted_content_info();
        EnvelopeSummary {
            kind: self.kind(),
            form: self.form(),
            content_type: oid::rfc5652_equivalent(&info.content_type),
            content_cipher: self.content_cipher().ok(),
            content_cipher_oid: info.content_enc_alg.oid,
            content_len: info.encrypted_content.as_ref().map(|c| c.as_bytes().len()),
            recipients: self
                .recipient_infos()
                .0
                .iter()
                .flat_map(RecipientDescription::of)
                .collect(),
        }
    }

    /// The DER `ContentInfo` holding the envelope, of the content type of its kind and form.
    pub fn to_der(&self) -> Result<Vec<u8>> {
        match self {
            Envelope::Enveloped(e) => super::to_der(e),
            Envelope::AuthEnveloped(e) => authenticated::to_der(e),
        }
    }

    /// The PEM (`-----BEGIN CMS-----`) `ContentInfo` holding the envelope.
    pub fn to_pem(&self) -> Result<String> {
        match self {
            Envelope::Enveloped(e) => super::to_pem(e),
            Envelope::AuthEnveloped(e) => authenticated::to_pem(e),
        }
    }
}

/// Seal `content` for `recipients` and encode it: the DER `ContentInfo` of an
/// `AuthEnvelopedData` when `options` ask for a GCM cipher ([`SealOptions::with_cipher`]),
/// else of an `EnvelopedData` in `options.form`.
pub fn seal_message(
    content: &[u8],
    recipients: &[Recipient],
    options: &SealOptions,
) -> Result<Vec<u8>> {
    Envelope::seal(content, recipients, options)?.to_der()
}

/// Open an envelope of either kind and either form (`ContentInfo` in DER, BER or PEM, or a
/// bare structure) with `recipient`'s key, `certificate` (DER) naming it if given.
pub fn open_message(
    data: &[u8],
    recipient: &dyn Decrypter,
    certificate: Option<&[u8]>,
) -> Result<Zeroizing<Vec<u8>>> {
    Envelope::decode(data)?.open(recipient, certificate)
}

/// Describe an envelope of either kind without opening it (for `--json` output).
pub fn describe_message(data: &[u8]) -> Result<EnvelopeSummary> {
    Ok(Envelope::decode(data)?.summary())
}

/// What an envelope is, read without a key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvelopeSummary {
    /// `EnvelopedData` or `AuthEnvelopedData`.
    pub kind: EnvelopeKind,
    /// RFC 5652 or GM/T 0010.
    pub form: Form,
    /// The encrypted content's type, in RFC 5652's spelling (usually `id-data`).
    pub content_type: ObjectIdentifier,
    /// The content cipher, `None` if yinxin does not implement it.
    pub content_cipher: Option<ContentCipher>,
    /// The content cipher's object identifier.
    pub content_cipher_oid: ObjectIdentifier,
    /// The encrypted content's length in bytes (`None` if detached).
    pub content_len: Option<usize>,
    /// One description per recipient (per `RecipientEncryptedKey` of a key agreement).
    pub recipients: Vec<RecipientDescription>,
}

/// How a recipient receives the content-encryption key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientKind {
    /// `KeyTransRecipientInfo` (RSA, SM2).
    KeyTransport,
    /// `KeyAgreeRecipientInfo` (ECDH).
    KeyAgreement,
    /// Another kind (`KEKRecipientInfo`, `PasswordRecipientInfo`, `OtherRecipientInfo`),
    /// which yinxin does not open.
    Other,
}

impl fmt::Display for RecipientKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecipientKind::KeyTransport => "key transport",
            RecipientKind::KeyAgreement => "key agreement",
            RecipientKind::Other => "other",
        })
    }
}

/// How an envelope names a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientName {
    /// By certificate: the issuer (RFC 4514) and the serial number (hex).
    IssuerAndSerialNumber {
        /// The certificate issuer's name.
        issuer: String,
        /// The certificate's serial number, lowercase hex.
        serial_number: String,
    },
    /// By subject key identifier (lowercase hex).
    SubjectKeyIdentifier(String),
    /// Not by certificate or key (a recipient kind yinxin does not open).
    Unnamed,
}

impl fmt::Display for RecipientName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecipientName::IssuerAndSerialNumber {
                issuer,
                serial_number,
            } => write!(f, "issuer \"{issuer}\", serial {serial_number}"),
            RecipientName::SubjectKeyIdentifier(ski) => write!(f, "key identifier {ski}"),
            RecipientName::Unnamed => f.write_str("unnamed"),
        }
    }
}

/// One recipient of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecipientDescription {
    /// Key transport or key agreement.
    pub kind: RecipientKind,
    /// How the recipient is named.
    pub name: RecipientName,
    /// The key-encryption algorithm, readable (e.g. "RSA-OAEP with SHA-256", "SM2
    /// encryption", "ECDH (X9.63 KDF with SHA-256), AES-128 key wrap"), or its OID.
    pub key_encryption: String,
    /// The key-encryption algorithm's object identifier.
    pub key_encryption_oid: ObjectIdentifier,
}

impl RecipientDescription {
    fn of(info: &RecipientInfo) -> Vec<Self> {
        match info {
            RecipientInfo::Ktri(k) => vec![RecipientDescription {
                kind: RecipientKind::KeyTransport,
                name: rid_name(&k.rid),
                key_encryption: key_transport_scheme(&k.key_enc_alg)
                    .map_or_else(|_| k.key_enc_alg.oid.to_string(), |s| s.to_string()),
                key_encryption_oid: k.key_enc_alg.oid,
            }],
            RecipientInfo::Kari(k) => {
                let algorithm = KeyAgreementAlgorithm::from_identifier(&k.key_enc_alg)
                    .map_or_else(|_| k.key_enc_alg.oid.to_string(), |a| a.to_string());
                k.recipient_enc_keys
                    .iter()
                    .map(|rek| RecipientDescription {
                        kind: RecipientKind::KeyAgreement,
                        name: match &rek.rid {
                            KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => {
                                rid_name(&RecipientIdentifier::IssuerAndSerialNumber(ias.clone()))
                            }
                            KeyAgreeRecipientIdentifier::RKeyId(r) => {
                                RecipientName::SubjectKeyIdentifier(hex(r
                                    .subject_key_identifier
                                    .0
                                    .as_bytes()))
                            }
                        },
                        key_encryption: algorithm.clone(),
                        key_encryption_oid: k.key_enc_alg.oid,
                    })
                    .collect()
            }
            RecipientInfo::Kekri(k) => vec![other(k.key_enc_alg.oid)],
            RecipientInfo::Pwri(p) => vec![other(p.key_enc_alg.oid)],
            RecipientInfo::Ori(o) => vec![other(o.ori_type)],
        }
    }
}

fn other(oid: ObjectIdentifier) -> RecipientDescription {
    RecipientDescription {
        kind: RecipientKind::Other,
        name: RecipientName::Unnamed,
        key_encryption: oid.to_string(),
        key_encryption_oid: oid,
    }
}

fn rid_name(rid: &RecipientIdentifier) -> RecipientName {
    match rid {
        RecipientIdentifier::IssuerAndSerialNumber(ias) => RecipientName::IssuerAndSerialNumber {
            issuer: ias.issuer.to_string(),
            serial_number: hex(ias.serial_number.as_bytes()),
        },
        RecipientIdentifier::SubjectKeyIdentifier(ski) => {
            RecipientName::SubjectKeyIdentifier(hex(ski.0.as_bytes()))
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
