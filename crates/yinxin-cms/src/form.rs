//! [`Form`]: which of the two message syntaxes a CMS message follows, shared by signatures and
//! envelopes.

use const_oid::ObjectIdentifier;

use crate::oid;

/// Which message syntax a message follows. The structures are the same; the content types
/// (and for SM2 signatures the signature algorithm identifier) differ.
///
/// * RFC 5652: `id-signedData`, `id-envelopedData`, `id-data`; SM2 as SM3 + `SM2-with-SM3`
///   (what OpenSSL 3 and BouncyCastle read).
/// * GM/T 0010-2012 (GB/T 35275): `1.2.156.10197.6.1.4.2.*` content types; SM2 signatures as
///   SM3 + `sm2-1` (what Chinese CA middleware writes).
///
/// Readers accept both; writers write the one asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Form {
    /// RFC 5652 identifiers.
    #[default]
    Rfc5652,
    /// GM/T 0010-2012 identifiers.
    GmT0010,
}

impl Form {
    /// The `ContentInfo` content type of a `SignedData` in this form.
    pub fn signed_data_oid(self) -> ObjectIdentifier {
        match self {
            Form::Rfc5652 => oid::ID_SIGNED_DATA,
            Form::GmT0010 => oid::GMT_SIGNED_DATA,
        }
    }

    /// The `ContentInfo` content type of an `EnvelopedData` in this form.
    pub fn enveloped_data_type(self) -> ObjectIdentifier {
        match self {
            Form::Rfc5652 => oid::ID_ENVELOPED_DATA,
            Form::GmT0010 => oid::GMT_ENVELOPED_DATA,
        }
    }

    /// The content type of plain data in this form.
    pub fn data_oid(self) -> ObjectIdentifier {
        match self {
            Form::Rfc5652 => oid::ID_DATA,
            Form::GmT0010 => oid::GMT_DATA,
        }
    }

    /// `content_type` in this form's spelling: GM/T 0010 renames `data`, `signedData`,
    /// `envelopedData` and `encryptedData`; other types are the same in both.
    pub fn spell(self, content_type: ObjectIdentifier) -> ObjectIdentifier {
        let rfc = oid::rfc5652_equivalent(&content_type);
        match self {
            Form::Rfc5652 => rfc,
            Form::GmT0010 => [
                oid::GMT_DATA,
                oid::GMT_SIGNED_DATA,
                oid::GMT_ENVELOPED_DATA,
                oid::GMT_ENCRYPTED_DATA,
            ]
            .into_iter()
            .find(|gmt| oid::rfc5652_equivalent(gmt) == rfc)
            .unwrap_or(rfc),
        }
    }

    /// The form whose `ContentInfo` content type is `content_type`, if it is a `SignedData`.
    pub fn of_signed_data_type(content_type: &ObjectIdentifier) -> Option<Form> {
        if *content_type == oid::ID_SIGNED_DATA {
            Some(Form::Rfc5652)
        } else if *content_type == oid::GMT_SIGNED_DATA {
            Some(Form::GmT0010)
        } else {
            None
        }
    }

    /// The form an inner content type is spelled in: GM/T 0010 for one of its content
    /// types, RFC 5652 otherwise.
    pub fn of_inner_content_type(content_type: &ObjectIdentifier) -> Form {
        if oid::rfc5652_equivalent(content_type) != *content_type {
            Form::GmT0010
        } else {
            Form::Rfc5652
        }
    }
}

impl std::fmt::Display for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Form::Rfc5652 => "RFC 5652",
            Form::GmT0010 => "GM/T 0010",
        })
    }
}
