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

/// GM/T 0010-2012 §5 `data`: the SM2 message syntax's counterpart of `id-data`.
pub const GMT_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.1");
/// GM/T 0010-2012 `signedData`.
pub const GMT_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.2");
/// GM/T 0010-2012 `envelopedData`.
pub const GMT_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.3");
/// GM/T 0010-2012 `signedAndEnvelopedData`.
pub const GMT_SIGNED_AND_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.4");
/// GM/T 0010-2012 `encryptedData`.
pub const GMT_ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.5");
/// GM/T 0010-2012 `keyAgreementInfo`.
pub const GMT_KEY_AGREEMENT_INFO: Oid = Oid::new_unwrap("1.2.156.10197.6.1.4.2.6");

/// `id-ct-TSTInfo` (RFC 3161 §2.4.2): the content type of a timestamp token.
pub const ID_CT_TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// `id-contentType` signed attribute (RFC 5652 §11.1).
pub const ID_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// `id-messageDigest` signed attribute (RFC 5652 §11.2).
pub const ID_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// `id-signingTime` signed attribute (RFC 5652 §11.3).
pub const ID_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
/// `id-aa-signingCertificate` (RFC 2634 §5.4, ESSCertID with SHA-1).
pub const ID_AA_SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// `id-aa-signingCertificateV2` (RFC 5035 §3, ESSCertIDv2).
pub const ID_AA_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// `id-aa-timeStampToken` unsigned attribute (RFC 3161 Appendix A).
pub const ID_AA_TIME_STAMP_TOKEN: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// `id-kp-timeStamping` extended key usage (RFC 3161 §2.3).
pub const ID_KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");

/// The RFC 5652 content type that a GM/T 0010 content type stands for (the same OID for any
/// other), so that readers accept both spellings.
pub fn rfc5652_equivalent(oid: &Oid) -> Oid {
    [
        (GMT_DATA, ID_DATA),
        (GMT_SIGNED_DATA, ID_SIGNED_DATA),
        (GMT_ENVELOPED_DATA, ID_ENVELOPED_DATA),
        (GMT_ENCRYPTED_DATA, ID_ENCRYPTED_DATA),
    ]
    .into_iter()
    .find(|(gmt, _)| gmt == oid)
    .map_or(*oid, |(_, rfc)| rfc)
}

/// A readable name for a CMS content type, for messages.
pub fn content_type_name(oid: &Oid) -> Option<&'static str> {
    [
        (ID_DATA, "Data"),
        (ID_SIGNED_DATA, "SignedData"),
        (ID_ENVELOPED_DATA, "EnvelopedData"),
        (ID_DIGESTED_DATA, "DigestedData"),
        (ID_ENCRYPTED_DATA, "EncryptedData"),
        (ID_CT_AUTH_DATA, "AuthenticatedData"),
        (ID_CT_TST_INFO, "TSTInfo"),
        (GMT_DATA, "Data (GM/T 0010)"),
        (GMT_SIGNED_DATA, "SignedData (GM/T 0010)"),
        (GMT_ENVELOPED_DATA, "EnvelopedData (GM/T 0010)"),
        (
            GMT_SIGNED_AND_ENVELOPED_DATA,
            "SignedAndEnvelopedData (GM/T 0010)",
        ),
        (GMT_ENCRYPTED_DATA, "EncryptedData (GM/T 0010)"),
    ]
    .into_iter()
    .find(|(o, _)| o == oid)
    .map(|(_, name)| name)
}

// ---- EnvelopedData key agreement (RFC 5753, SEC 1) and key wrap (RFC 3565 §2.3.2) ----

/// `dhSinglePass-stdDH-sha1kdf-scheme` (RFC 5753 §7.1.4): OpenSSL's default for EC recipients.
pub const DH_STD_SHA1_KDF: Oid = Oid::new_unwrap("1.3.133.16.840.63.0.2");
/// `dhSinglePass-stdDH-sha224kdf-scheme` (SEC 1 / RFC 5753).
pub const DH_STD_SHA224_KDF: Oid = Oid::new_unwrap("1.3.132.1.11.0");
/// `dhSinglePass-stdDH-sha256kdf-scheme` (SEC 1 / RFC 5753): what yinxin writes for P-256.
pub const DH_STD_SHA256_KDF: Oid = Oid::new_unwrap("1.3.132.1.11.1");
/// `dhSinglePass-stdDH-sha384kdf-scheme` (SEC 1 / RFC 5753): what yinxin writes for P-384.
pub const DH_STD_SHA384_KDF: Oid = Oid::new_unwrap("1.3.132.1.11.2");
/// `dhSinglePass-stdDH-sha512kdf-scheme` (SEC 1 / RFC 5753).
pub const DH_STD_SHA512_KDF: Oid = Oid::new_unwrap("1.3.132.1.11.3");
/// `dhSinglePass-cofactorDH-sha1kdf-scheme` (RFC 5753 §7.1.4).
pub const DH_COFACTOR_SHA1_KDF: Oid = Oid::new_unwrap("1.3.133.16.840.63.0.3");
/// `dhSinglePass-cofactorDH-sha224kdf-scheme` (SEC 1 / RFC 5753).
pub const DH_COFACTOR_SHA224_KDF: Oid = Oid::new_unwrap("1.3.132.1.14.0");
/// `dhSinglePass-cofactorDH-sha256kdf-scheme` (SEC 1 / RFC 5753).
pub const DH_COFACTOR_SHA256_KDF: Oid = Oid::new_unwrap("1.3.132.1.14.1");
/// `dhSinglePass-cofactorDH-sha384kdf-scheme` (SEC 1 / RFC 5753).
pub const DH_COFACTOR_SHA384_KDF: Oid = Oid::new_unwrap("1.3.132.1.14.2");
/// `dhSinglePass-cofactorDH-sha512kdf-scheme` (SEC 1 / RFC 5753).
pub const DH_COFACTOR_SHA512_KDF: Oid = Oid::new_unwrap("1.3.132.1.14.3");
/// `id-aes128-wrap` (RFC 3565 §2.3.2, RFC 3394).
pub const ID_AES128_WRAP: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.5");
/// `id-aes192-wrap` (RFC 3565 §2.3.2, RFC 3394).
pub const ID_AES192_WRAP: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.25");
/// `id-aes256-wrap` (RFC 3565 §2.3.2, RFC 3394).
pub const ID_AES256_WRAP: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.45");

// ---- AuthEnvelopedData (RFC 5083) and its GCM content ciphers (RFC 5084, GM/T 0006) ----

/// `id-ct-authEnvelopedData` (RFC 5083 §1): the content type of an `AuthEnvelopedData`.
pub const ID_CT_AUTH_ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.23");
/// `id-aes128-GCM` (RFC 5084 §3.2).
pub const AES128_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.6");
/// `id-aes192-GCM` (RFC 5084 §3.2; recognised, not implemented).
pub const AES192_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.26");
/// `id-aes256-GCM` (RFC 5084 §3.2).
pub const AES256_GCM: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.46");
/// SM4-GCM (GM/T 0006 `1.2.156.10197.1.104.8`), with RFC 5084's `GCMParameters`.
pub const SM4_GCM: Oid = yinxin_crypto::oid::SM4_GCM;
