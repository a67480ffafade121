//! `ContentInfo` (RFC 5652 §3), the outer wrapper of every CMS message, read from DER, BER
//! or PEM and written as DER or PEM.
//!
//! ```text
//! ContentInfo ::= SEQUENCE {
//!     contentType ContentType,
//!     content [0] EXPLICIT ANY DEFINED BY contentType }
//!
//! ContentType ::= OBJECT IDENTIFIER
//! ```

use const_oid::ObjectIdentifier;
use der::asn1::Any;
use der::{Choice, Decode, DecodeValue, Encode, EncodingRules};

pub use cms::content_info::{CmsVersion, ContentInfo};

use crate::error::{Error, Result};
use crate::oid;

/// The PEM label yinxin writes, as `openssl cms -outform PEM` does.
pub const PEM_LABEL: &str = "CMS";
/// The PEM labels read as a CMS message: `CMS` and the older `PKCS7`.
pub const PEM_LABELS: [&str; 2] = ["CMS", "PKCS7"];

/// A decoded `ContentInfo` together with the encoding rules its bytes followed, so that the
/// content is decoded under the same rules.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The `ContentInfo`.
    pub content_info: ContentInfo,
    /// DER, or BER (indefinite lengths) as streaming encoders write.
    pub encoding: EncodingRules,
}

/// The DER (or BER) bytes of a message given as PEM (`CMS` or `PKCS7` block) or binary.
pub fn binary(data: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if !yinxin_crypto::pem::is_pem(data) {
        return Ok(std::borrow::Cow::Borrowed(data));
    }
    let text = std::str::from_utf8(data).map_err(|e| Error::decode("CMS PEM", e))?;
    let block = yinxin_crypto::pem::first_of(
        text,
        &PEM_LABELS,
        "CMS message",
        "a CMS message (CMS or PKCS7)",
    )
    .map_err(|e| match e {
        yinxin_crypto::Error::WrongPemLabel { expected, found } => {
            Error::WrongPemLabel { expected, found }
        }
        other => Error::decode("CMS PEM", other),
    })?;
    Ok(std::borrow::Cow::Owned(block.der.to_vec()))
}

/// Decode a `ContentInfo` from DER, BER or PEM.
pub fn decode(data: &[u8]) -> Result<Decoded> {
    let bytes = binary(data)?;
    decode_binary(&bytes)
}

/// Decode a `ContentInfo` from DER, falling back to BER.
pub fn decode_binary(bytes: &[u8]) -> Result<Decoded> {
    match ContentInfo::from_der(bytes) {
        Ok(content_info) => Ok(Decoded {
            content_info,
            encoding: EncodingRules::Der,
        }),
        Err(der_error) => match ContentInfo::from_ber(bytes) {
            Ok(content_info) => Ok(Decoded {
                content_info,
                encoding: EncodingRules::Ber,
            }),
            Err(_) => Err(Error::decode("CMS ContentInfo", der_error)),
        },
    }
}

impl Decoded {
    /// The content, checked to be of `content_type` (named `name` in messages).
    pub fn content<T>(&self, content_type: ObjectIdentifier, name: &'static str) -> Result<T>
    where
        T: for<'a> Choice<'a> + for<'a> DecodeValue<'a, Error = der::Error>,
    {
        let found = &self.content_info.content_type;
        if *found != content_type {
            return Err(Error::WrongContentType {
                expected: name,
                found: describe(found),
            });
        }
        self.content_info
            .content
            .decode_as_encoding(self.encoding)
            .map_err(|e| Error::decode(name, e))
    }
}

/// A content type's name and OID, for messages.
pub fn describe(content_type: &ObjectIdentifier) -> String {
    match oid::content_type_name(content_type) {
        Some(name) => format!("{name} ({content_type})"),
        None => content_type.to_string(),
    }
}

/// Wrap `content` in a `ContentInfo` of `content_type`.
pub fn wrap(content_type: ObjectIdentifier, content: &impl Encode) -> Result<ContentInfo> {
    let bad = |e: der::Error| Error::decode("CMS content", e);
    let content = Any::from_der(&content.to_der().map_err(bad)?).map_err(bad)?;
    Ok(ContentInfo {
        content_type,
        content,
    })
}

/// The DER encoding of a `ContentInfo`.
pub fn to_der(content_info: &ContentInfo) -> Result<Vec<u8>> {
    content_info
        .to_der()
        .map_err(|e| Error::decode("CMS ContentInfo", e))
}

/// The PEM encoding (`-----BEGIN CMS-----`) of a `ContentInfo`.
pub fn to_pem(content_info: &ContentInfo) -> Result<String> {
    Ok(yinxin_crypto::pem::encode(
        PEM_LABEL,
        &to_der(content_info)?,
    ))
}
