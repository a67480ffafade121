//! The object identifiers of CMS content types and of the algorithms this crate reads and
//! writes. Key and hash identifiers shared with the rest of yinxin are in
//! [`yinxin_crypto::oid`].

use const_oid::ObjectIdentifier as Oid;

pub use yinxin_crypto::oid::{
    ID_MGF1, ID_RSAES_OAEP, RSA_ENCRYPTION, SHA256, SHA384, SHA512, SM4_CBC,
};

/// `id-data` (RFC 5652 §4): arbitrary octets.
pub const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// `id-signedData` (RFC 5652 §5).
pub const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// `id-envelopedData` (RFC 5652 §6).
pub const ID_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
/// `id-digestedData` (RFC 5652 §7).
pub const ID_DIGESTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.5");
/// `id-encryptedData` (RFC 5652 §8).
pub const ID_ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");
/// `id-ct-authData` (RFC 5652 §9).
pub const ID_CT_AUTH_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.2");

/// `id-aes128-CBC` (RFC 3565).
pub const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
/// `id-aes192-CBC` (RFC 3565).
pub const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
/// `id-aes256-CBC` (RFC 3565).
pub const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");

/// `id-sha1` (the RSAES-OAEP default hash).
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// `id-pSpecified` (RFC 8017 Appendix A.2.1): the OAEP label source.
pub const ID_P_SPECIFIED: Oid = Oid::new_unwrap("1.2.840.113549.1.1.9");

/// A readable name for a CMS content type, for messages.
pub fn content_type_name(oid: &Oid) -> Option<&'static str> {
    [
        (ID_DATA, "Data"),
        (ID_SIGNED_DATA, "SignedData"),
        (ID_ENVELOPED_DATA, "EnvelopedData"),
        (ID_DIGESTED_DATA, "DigestedData"),
        (ID_ENCRYPTED_DATA, "EncryptedData"),
        (ID_CT_AUTH_DATA, "AuthenticatedData"),
    ]
    .into_iter()
    .find(|(o, _)| o == oid)
    .map(|(_, name)| name)
}
