//! Object identifiers, and the table of equivalent ones that are read but written in one
//! canonical form.
//!
//! Chinese middleware does not agree on SM2 identifiers: some write an SM2 public key with the
//! algorithm `1.2.156.10197.1.301` instead of `id-ecPublicKey` plus the SM2 curve, some label
//! SM2 encryption `sm2-3` (`.301.3`), some `sm2-2` (`.301.2`) or the bare curve. yinxin reads
//! all of them and writes what GM/T 0006 / GB/T 33560 and OpenSSL write. See [`canonical`].

use const_oid::ObjectIdentifier as Oid;

/// `id-ecPublicKey` (RFC 5480).
pub const ID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// `rsaEncryption` (RFC 8017).
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// `id-RSASSA-PSS` (RFC 8017).
pub const ID_RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
/// `id-RSAES-OAEP` (RFC 8017).
pub const ID_RSAES_OAEP: Oid = Oid::new_unwrap("1.2.840.113549.1.1.7");
/// `id-mgf1` (RFC 8017).
pub const ID_MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
/// `sha256WithRSAEncryption`.
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// `sha384WithRSAEncryption`.
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
/// `sha512WithRSAEncryption`.
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
/// `sm3WithRSAEncryption` (GM/T 0006).
pub const SM3_WITH_RSA: Oid = Oid::new_unwrap("1.2.156.10197.1.504");
/// `ecdsa-with-SHA256`.
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// `ecdsa-with-SHA384`.
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// `ecdsa-with-SHA512`.
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
/// `secp256r1` / NIST P-256.
pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// `secp384r1` / NIST P-384.
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
/// `id-sha256`.
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// `id-sha384`.
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// `id-sha512`.
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

/// The SM2 curve, `sm2p256v1` (GM/T 0006: `1.2.156.10197.1.301`). Also seen as the key
/// algorithm itself in place of `id-ecPublicKey`.
pub const SM2: Oid = Oid::new_unwrap("1.2.156.10197.1.301");
/// `sm2-1`, the SM2 signature algorithm (GM/T 0006), used in GM/T 0010 SignerInfos.
pub const SM2_SIGN: Oid = Oid::new_unwrap("1.2.156.10197.1.301.1");
/// `sm2-2`, the SM2 key exchange protocol; some middleware labels SM2 encryption with it.
pub const SM2_KEY_EXCHANGE: Oid = Oid::new_unwrap("1.2.156.10197.1.301.2");
/// `sm2-3`, SM2 public-key encryption (GM/T 0006).
pub const SM2_ENCRYPT: Oid = Oid::new_unwrap("1.2.156.10197.1.301.3");
/// `SM2-with-SM3` signature (GM/T 0006), used in certificates and by OpenSSL.
pub const SM2_WITH_SM3: Oid = Oid::new_unwrap("1.2.156.10197.1.501");
/// SM3 (GM/T 0006).
pub const SM3: Oid = Oid::new_unwrap("1.2.156.10197.1.401");
/// `sm3` written with a trailing `.1` by some middleware.
pub const SM3_ALT: Oid = Oid::new_unwrap("1.2.156.10197.1.401.1");
/// SM4 (GM/T 0006), also called SMS4.
pub const SM4: Oid = Oid::new_unwrap("1.2.156.10197.1.104");
/// SM4 in CBC mode.
pub const SM4_CBC: Oid = Oid::new_unwrap("1.2.156.10197.1.104.2");
/// SM4 in GCM mode.
pub const SM4_GCM: Oid = Oid::new_unwrap("1.2.156.10197.1.104.8");

/// What an identifier means once equivalent spellings are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Meaning {
    /// An SM2 public key.
    Sm2PublicKey,
    /// The SM2-with-SM3 signature algorithm.
    Sm2Signature,
    /// SM2 public-key encryption.
    Sm2Encryption,
    /// The SM3 hash.
    Sm3,
}

/// The equivalence table: every identifier read as each meaning, canonical one first.
pub const EQUIVALENTS: &[(Meaning, &[Oid])] = &[
    (Meaning::Sm2PublicKey, &[SM2, SM2_SIGN, SM2_ENCRYPT]),
    (Meaning::Sm2Signature, &[SM2_WITH_SM3, SM2_SIGN]),
    (
        Meaning::Sm2Encryption,
        &[SM2_ENCRYPT, SM2_KEY_EXCHANGE, SM2],
    ),
    (Meaning::Sm3, &[SM3, SM3_ALT]),
];

/// Whether `oid` is read as `meaning`.
pub fn means(oid: &Oid, meaning: Meaning) -> bool {
    EQUIVALENTS
        .iter()
        .any(|(m, oids)| *m == meaning && oids.contains(oid))
}

/// The one identifier yinxin writes for `meaning`.
///
/// An SM2 public key is written as `id-ecPublicKey` with the SM2 curve as parameter; this
/// returns the curve, which is the part that differs between spellings.
pub fn canonical(meaning: Meaning) -> Oid {
    EQUIVALENTS
        .iter()
        .find(|(m, _)| *m == meaning)
        .map(|(_, oids)| oids[0])
        .unwrap_or(SM2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_maps_to_one_canonical_form() {
        assert!(means(&SM2_KEY_EXCHANGE, Meaning::Sm2Encryption));
        assert!(means(&SM2_ENCRYPT, Meaning::Sm2Encryption));
        assert_eq!(canonical(Meaning::Sm2Encryption), SM2_ENCRYPT);
        assert_eq!(canonical(Meaning::Sm2Signature), SM2_WITH_SM3);
        assert!(means(&SM2_SIGN, Meaning::Sm2Signature));
        assert!(means(&SM3_ALT, Meaning::Sm3));
        assert!(!means(&SHA256, Meaning::Sm3));
    }
}
