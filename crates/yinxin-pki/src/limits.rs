//! Bounds on what a certificate request may ask for, and the Chinese identifiers carried in
//! GM/T 0015 identity extensions.
//!
//! * [`IssuanceLimits`] caps the subject alternative names, the subject's attributes and the
//!   identity values of a request, so that an oversized request is refused with a reason
//!   before anything is signed or stored;
//! * [`UnifiedSocialCreditCode`] (统一社会信用代码, GB 32100-2015) and [`ResidentIdNumber`]
//!   (居民身份证号码, GB 11643-1999) check an identifier's form and check character.
//!
//! Nothing here is applied by [`issue`](crate::issue::issue) itself: the caller decides which
//! checks a request goes through. Every refusal is an [`Error::Limit`] or an
//! [`Error::Identifier`] saying what is wrong.

use std::fmt;
use std::str::FromStr;

use const_oid::ObjectIdentifier;
use const_oid::db::DB;
use der::asn1::Any;
use der::{Tag, Tagged};
use x509_cert::name::Name;

use crate::issue::IssueParams;
use crate::profile::{IdentifyCode, IdentityExtension, San};
use crate::{Error, Result};

/// Why a request's input is refused by an [`IssuanceLimits`].
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitError {
    /// More subject alternative names than [`IssuanceLimits::max_sans`].
    #[error("{count} subject alternative names given; at most {max} are allowed")]
    TooManySans {
        /// Names given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A DNS name or e-mail address longer than [`IssuanceLimits::max_san_len`].
    #[error(
        "subject alternative name #{position} ({kind}) is {len} bytes long; at most {max} are allowed"
    )]
    SanTooLong {
        /// Its place in the list, from 1.
        position: usize,
        /// `DNS name` or `e-mail address`.
        kind: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More subject attributes than [`IssuanceLimits::max_subject_attributes`].
    #[error("the subject has {count} attributes; at most {max} are allowed")]
    TooManySubjectAttributes {
        /// Attributes in the subject, over all its RDNs.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A subject attribute value longer than [`IssuanceLimits::max_attribute_len`].
    #[error("the subject's {attribute} is {chars} characters long; at most {max} are allowed")]
    SubjectAttributeTooLong {
        /// The attribute type: `CN`, `O`, … or a dotted OID.
        attribute: String,
        /// The value's length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// An identity value longer than [`IssuanceLimits::max_identity_len`].
    #[error("the {what} is {chars} characters long; at most {max} are allowed")]
    IdentityValueTooLong {
        /// What the value is, e.g. `organisation code`.
        what: String,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// The same GM/T 0015 identity extension twice; a certificate carries each extension at
    /// most once (RFC 5280 §4.2).
    #[error("the GM/T 0015 {extension} extension is given more than once")]
    DuplicateIdentityExtension {
        /// The extension's GM/T 0015 name, e.g. `OrganizationCode`.
        extension: &'static str,
    },
}

/// Upper bounds on a certificate request's inputs. The defaults are lenient ceilings meant to
/// stop abuse (a request with thousands of names or megabyte-long values), not to enforce a
/// profile; [`IssuanceLimits::default`] documents each.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IssuanceLimits {
    /// Subject alternative names of all kinds in one request. Default 100.
    pub max_sans: usize,
    /// Length in bytes of one DNS name or e-mail address (IP addresses are fixed size).
    /// Default 253, the longest DNS name in text form (RFC 1035 §2.3.4 allows 255 octets on
    /// the wire).
    pub max_san_len: usize,
    /// Length in characters of one subject attribute value (CN, O, OU, L, ST, …). Default 128.
    ///
    /// RFC 5280 Appendix A bounds most of them lower (ub-common-name and
    /// ub-organization-name are 64, ub-locality-name and ub-state-name 128), but those bounds
    /// are widely exceeded in practice and a Chinese organisation's full name can run past 64
    /// characters. The limit counts characters, not bytes, so a 64-character Chinese name
    /// (192 bytes of UTF-8) counts as 64.
    pub max_attribute_len: usize,
    /// Attributes in the subject, counting each value of a multi-valued RDN. Default 16.
    pub max_subject_attributes: usize,
    /// Length in characters of one identity value of the GM/T 0015 extensions (organisation
    /// code, resident ID number, passport number, …). Default 64; the longest real ones, the
    /// unified social credit code and the resident ID number, have 18.
    pub max_identity_len: usize,
}

impl Default for IssuanceLimits {
    /// 100 SANs of at most 253 bytes, 16 subject attributes of at most 128 characters,
    /// identity values of at most 64 characters.
    fn default() -> Self {
        IssuanceLimits {
            max_sans: 100,
            max_san_len: 253,
            max_attribute_len: 128,
            max_subject_attributes: 16,
            max_identity_len: 64,
        }
    }
}

impl IssuanceLimits {
    /// Check a request's subject alternative names: their number, then each DNS name's and
    /// e-mail address's length.
    pub fn check_sans(&self, sans: &[San]) -> Result<()> {
        // Count first, so a huge list is refused without walking it.
        if sans.len() > self.max_sans {
            return Err(LimitError::TooManySans {
                count: sans.len(),
                max: self.max_sans,
            }
            .into());
        }
        for (i, san) in sans.iter().enumerate() {
            let (kind, len) = match san {
                San::Dns(d) => ("DNS name", d.len()),
                San::Email(m) => ("e-mail address", m.len()),
                San::Ip(_) => continue,
            };
            if len > self.max_san_len {
                return Err(LimitError::SanTooLong {
                    position: i + 1,
                    kind,
                    len,
                    max: self.max_san_len,
                }
                .into());
            }
        }
        Ok(())
    }

    /// Check a subject name (as decoded from the PKCS#10 request): the number of attributes,
    /// then each value's length in characters.
    pub fn check_subject(&self, name: &Name) -> Result<()> {
        let count = name.iter().count();
        if count > self.max_subject_attributes {
            return Err(LimitError::TooManySubjectAttributes {
                count,
                max: self.max_subject_attributes,
            }
            .into());
        }
        for atv in name.iter() {
            let chars = value_chars(&atv.value);
            if chars > self.max_attribute_len {
                return Err(LimitError::SubjectAttributeTooLong {
                    attribute: attribute_name(&atv.oid),
                    chars,
                    max: self.max_attribute_len,
                }
                .into());
            }
        }
        Ok(())
    }

    /// Check one identity value's length in characters; `what` names it in the error (e.g.
    /// `"organisation code"`).
    pub fn check_identity_value(&self, what: &str, value: &str) -> Result<()> {
        let chars = value.chars().count();
        if chars > self.max_identity_len {
            return Err(LimitError::IdentityValueTooLong {
                what: what.to_string(),
                chars,
                max: self.max_identity_len,
            }
            .into());
        }
        Ok(())
    }

    /// Check a request's GM/T 0015 identity extensions: each extension at most once (which
    /// also bounds their number), and each value with
    /// [`check_identity_value`](Self::check_identity_value). The identifiers' form is not
    /// checked here; see [`UnifiedSocialCreditCode`] and [`ResidentIdNumber`].
    pub fn check_identity(&self, identity: &[IdentityExtension]) -> Result<()> {
        // At most one per OID, so `seen` stays at five entries.
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        for ext in identity {
            let (what, value) = identity_value(ext);
            let oid = ext.oid();
            if seen.contains(&oid) {
                return Err(LimitError::DuplicateIdentityExtension {
                    extension: extension_name(ext),
                }
                .into());
            }
            seen.push(oid);
            self.check_identity_value(what, value)?;
        }
        Ok(())
    }

    /// All of the above on issuance parameters: subject, SANs and identity extensions. The
    /// URLs and policies come from the platform's configuration, not from the request, and
    /// are not checked.
    pub fn check_params(&self, params: &IssueParams) -> Result<()> {
        self.check_subject(&params.subject)?;
        self.check_sans(&params.sans)?;
        self.check_identity(&params.identity)
    }
}

/// The identity value of an extension and what to call it in errors.
fn identity_value(ext: &IdentityExtension) -> (&'static str, &str) {
    match ext {
        IdentityExtension::IdentifyCode(code) => match code {
            IdentifyCode::ResidentCardNumber(s) => ("resident identity card number", s),
            IdentifyCode::MilitaryOfficerCardNumber(s) => ("military officer card number", s),
            IdentifyCode::PassportNumber(s) => ("passport number", s),
        },
        IdentityExtension::InsuranceNumber(s) => ("insurance number", s),
        IdentityExtension::IcRegistrationNumber(s) => ("IC registration number", s),
        IdentityExtension::OrganizationCode(s) => ("organisation code", s),
        IdentityExtension::TaxationNumber(s) => ("taxation number", s),
    }
}

/// The extension's name in GM/T 0015.
fn extension_name(ext: &IdentityExtension) -> &'static str {
    match ext {
        IdentityExtension::IdentifyCode(_) => "IdentifyCode",
        IdentityExtension::InsuranceNumber(_) => "InsuranceNumber",
        IdentityExtension::IcRegistrationNumber(_) => "ICRegistrationNumber",
        IdentityExtension::OrganizationCode(_) => "OrganizationCode",
        IdentityExtension::TaxationNumber(_) => "TaxationNumber",
    }
}

/// The length in characters of an attribute value, from its string type. Values of other
/// types are counted in bytes, an upper bound.
fn value_chars(value: &Any) -> usize {
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String => std::str::from_utf8(bytes).map_or(bytes.len(), |s| s.chars().count()),
        // UCS-2, two bytes a character.
        Tag::BmpString => bytes.len() / 2,
        _ => bytes.len(),
    }
}

/// `CN`, `O`, … as RFC 4514 spells them, or the dotted OID.
fn attribute_name(oid: &ObjectIdentifier) -> String {
    DB.find_names_for_oid(*oid)
        .min_by_key(|n| n.len())
        .map_or_else(|| oid.to_string(), str::to_ascii_uppercase)
}

/// Why a Chinese identifier is malformed.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// Not the identifier's number of characters.
    #[error("a {kind} has {expected} characters, not {found}")]
    WrongLength {
        /// The identifier.
        kind: IdentifierKind,
        /// Characters required.
        expected: usize,
        /// Characters given.
        found: usize,
    },
    /// A character the identifier cannot have at that position.
    #[error("character {character:?} at position {position} is not allowed in a {kind}: {allowed}")]
    BadCharacter {
        /// The identifier.
        kind: IdentifierKind,
        /// The character as given.
        character: char,
        /// Its position, from 1.
        position: usize,
        /// What is allowed there.
        allowed: &'static str,
    },
    /// The last character does not match the check character computed from the others.
    #[error("wrong check character in a {kind}: expected {expected:?}, got {found:?}")]
    WrongCheckCharacter {
        /// The identifier.
        kind: IdentifierKind,
        /// The check character computed from the other characters.
        expected: char,
        /// The check character given.
        found: char,
    },
    /// Positions 7–14 of a resident identity number are not a date.
    #[error(
        "the birth date {date} (positions 7-14) of a resident identity number is invalid: {reason}"
    )]
    BadBirthDate {
        /// The eight digits.
        date: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Which identifier an [`IdentifierError`] is about.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
#[non_exhaustive]
pub enum IdentifierKind {
    /// [`UnifiedSocialCreditCode`].
    UnifiedSocialCreditCode,
    /// [`ResidentIdNumber`].
    ResidentIdNumber,
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdentifierKind::UnifiedSocialCreditCode => "unified social credit code",
            IdentifierKind::ResidentIdNumber => "resident identity number",
        })
    }
}

/// The 31 characters of GB 32100-2015, in value order: digits and capitals without I, O, S,
/// V and Z.
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100-2015 weights of positions 1–17: 3^(i-1) mod 31.
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters of
/// `0123456789ABCDEFGHJKLMNPQRTUWXY`, the last a check character computed from the others.
///
/// Only the alphabet, the length and the check character are checked; the registration
/// authority, organisation type and region code in positions 1–8 are not. Lowercase ASCII
/// letters are accepted and stored in uppercase; surrounding whitespace is refused.
#[derive(Clone, Debug, Eq, PartialEq, Hash)]
pub struct UnifiedSocialCreditCode(String);

impl UnifiedSocialCreditCode {
    /// Check `text` and keep it, in uppercase.
    pub fn parse(text: &str) -> Result<Self> {
        const KIND: IdentifierKind = IdentifierKind::UnifiedSocialCreditCode;
        const ALLOWED: &str = "digits and capital letters other than I, O, S, V and Z";
        let found = text.chars().count();
        if found != 18 {
            return Err(IdentifierError::WrongLength {
                kind: KIND,
                expected: 18,
                found,
            }
            .into());
        }
        let mut code = String::with_capacity(18);
        let mut values = [0u32; 18];
        for (i, c) in text.chars().enumerate() {
            let upper = c.to_ascii_uppercase();
            let value = USCC_ALPHABET
                .iter()
                .position(|a| char::from(*a) == upper)
                .ok_or(IdentifierError::BadCharacter {
                    kind: KIND,
                    character: c,
                    position: i + 1,
                    allowed: ALLOWED,
                })?;
            values[i] = value as u32;
            code.push(upper);
        }
        let sum: u32 = values.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
        // 31 − (sum mod 31), where 31 stands for 0.
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(IdentifierError::WrongCheckCharacter {
                kind: KIND,
                expected: char::from(USCC_ALPHABET[check as usize]),
                found: char::from(USCC_ALPHABET[values[17] as usize]),
            }
            .into());
        }
        Ok(UnifiedSocialCreditCode(code))
    }

    /// The code, in uppercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for UnifiedSocialCreditCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for UnifiedSocialCreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISO 7064 MOD 11-2 weights of positions 1–17 (2^(18-i) mod 11).
const RIN_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each value of the weighted sum mod 11.
const RIN_CHECK: &[u8; 11] = b"10X98765432";

/// A resident identity number (居民身份证号码, GB 11643-1999): 17 digits (region, birth date
/// `YYYYMMDD` in positions 7–14, sequence) and an ISO 7064 MOD 11-2 check character, a digit
/// or `X`.
///
/// The birth date must exist (leap years included) and lie in 1800–2100; the region code is
/// not checked. A lowercase `x` is accepted and stored as `X`; surrounding whitespace is
/// refused.
#[derive(Clone, Debug, Eq, PartialEq, Hash)]
pub struct ResidentIdNumber(String);

impl ResidentIdNumber {
    /// Check `text` and keep it, with an uppercase `X`.
    pub fn parse(text: &str) -> Result<Self> {
        const KIND: IdentifierKind = IdentifierKind::ResidentIdNumber;
        let found = text.chars().count();
        if found != 18 {
            return Err(IdentifierError::WrongLength {
                kind: KIND,
                expected: 18,
                found,
            }
            .into());
        }
        let mut digits = [0u32; 17];
        let mut given_check = 'X';
        for (i, c) in text.chars().enumerate() {
            let bad = |allowed: &'static str| IdentifierError::BadCharacter {
                kind: KIND,
                character: c,
                position: i + 1,
                allowed,
            };
            match (i, c) {
                (17, 'x' | 'X') => given_check = 'X',
                (17, '0'..='9') => given_check = c,
                (17, _) => return Err(bad("the check character is a digit or X").into()),
                (_, '0'..='9') => digits[i] = c as u32 - '0' as u32,
                _ => return Err(bad("positions 1-17 are digits").into()),
            }
        }
        check_birth_date(&digits[6..14])?;
        let sum: u32 = digits.iter().zip(RIN_WEIGHTS).map(|(d, w)| d * w).sum();
        let expected = char::from(RIN_CHECK[(sum % 11) as usize]);
        if given_check != expected {
            return Err(IdentifierError::WrongCheckCharacter {
                kind: KIND,
                expected,
                found: given_check,
            }
            .into());
        }
        // All ASCII, so only the check character can need changing.
        let mut number = text[..17].to_string();
        number.push(given_check);
        Ok(ResidentIdNumber(number))
    }

    /// The number, with an uppercase `X`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ResidentIdNumber {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for ResidentIdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `YYYYMMDD` from eight digits: a real day of a year in 1800–2100.
fn check_birth_date(d: &[u32]) -> Result<()> {
    let number = |ds: &[u32]| ds.iter().fold(0, |n, x| n * 10 + x);
    let (year, month, day) = (number(&d[..4]), number(&d[4..6]), number(&d[6..8]));
    let bad = |reason| -> Error {
        IdentifierError::BadBirthDate {
            date: d.iter().map(|x| x.to_string()).collect(),
            reason,
        }
        .into()
    };
    if !(1800..=2100).contains(&year) {
        return Err(bad("the year must be 1800-2100"));
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad("the month must be 01-12")),
    };
    if !(1..=days).contains(&day) {
        return Err(bad("the month has no such day"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn limit_err(r: Result<()>) -> LimitError {
        match r {
            Err(Error::Limit(e)) => e,
            other => panic!("expected a limit error, got {other:?}"),
        }
    }

    fn id_err<T: fmt::Debug>(r: Result<T>) -> IdentifierError {
        match r {
            Err(Error::Identifier(e)) => e,
            other => panic!("expected an identifier error, got {other:?}"),
        }
    }

    #[test]
    fn uscc_valid_codes() {
        for code in ["91110000600037341L", "91350100M000100Y43"] {
            assert_eq!(UnifiedSocialCreditCode::parse(code).unwrap().as_str(), code);
        }
        let lower = UnifiedSocialCreditCode::parse("91350100m000100y43").unwrap();
        assert_eq!(lower.as_str(), "91350100M000100Y43");
        assert_eq!(
            "91110000600037341L"
                .parse::<UnifiedSocialCreditCode>()
                .unwrap()
                .to_string(),
            "91110000600037341L"
        );
    }

    #[test]
    fn uscc_refusals_say_why() {
        let e = id_err(UnifiedSocialCreditCode::parse("91110000600037341M"));
        assert_eq!(
            e,
            IdentifierError::WrongCheckCharacter {
                kind: IdentifierKind::UnifiedSocialCreditCode,
                expected: 'L',
                found: 'M',
            }
        );
        assert_eq!(
            e.to_string(),
            "wrong check character in a unified social credit code: expected 'L', got 'M'"
        );
        assert!(matches!(
            id_err(UnifiedSocialCreditCode::parse("91350100M000100Y44")),
            IdentifierError::WrongCheckCharacter {
                expected: '3',
                found: '4',
                ..
            }
        ));
        assert!(matches!(
            id_err(UnifiedSocialCreditCode::parse("9111000060003734")),
            IdentifierError::WrongLength {
                expected: 18,
                found: 16,
                ..
            }
        ));
        let e = id_err(UnifiedSocialCreditCode::parse("91110000I00037341L"));
        assert!(matches!(
            e,
            IdentifierError::BadCharacter {
                character: 'I',
                position: 9,
                ..
            }
        ));
        assert!(e.to_string().contains("'I' at position 9"), "{e}");
        // Lowercase letters outside the alphabet are reported as given.
        assert!(matches!(
            id_err(UnifiedSocialCreditCode::parse("91110000o00037341L")),
            IdentifierError::BadCharacter {
                character: 'o',
                position: 9,
                ..
            }
        ));
        // Non-ASCII: 18 characters, but not of the alphabet.
        assert!(matches!(
            id_err(UnifiedSocialCreditCode::parse("９1110000600037341L")),
            IdentifierError::BadCharacter { position: 1, .. }
        ));
        assert!(UnifiedSocialCreditCode::parse(" 91110000600037341L").is_err());
    }

    #[test]
    fn resident_id_numbers() {
        let n = ResidentIdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        let lower = ResidentIdNumber::parse("11010519491231002x").unwrap();
        assert_eq!(lower.as_str(), "11010519491231002X");

        assert!(matches!(
            id_err(ResidentIdNumber::parse("110105194912310021")),
            IdentifierError::WrongCheckCharacter {
                expected: 'X',
                found: '1',
                ..
            }
        ));
        assert!(matches!(
            id_err(ResidentIdNumber::parse("11010519491231002")),
            IdentifierError::WrongLength { found: 17, .. }
        ));
        assert!(matches!(
            id_err(ResidentIdNumber::parse("1101051949123100XX")),
            IdentifierError::BadCharacter {
                character: 'X',
                position: 17,
                ..
            }
        ));
        assert!(matches!(
            id_err(ResidentIdNumber::parse("11010519491231002Y")),
            IdentifierError::BadCharacter { position: 18, .. }
        ));
        for (date, reason) in [
            ("19491331", "the month must be 01-12"),
            ("19490230", "the month has no such day"),
            ("19000229", "the month has no such day"),
            ("17991231", "the year must be 1800-2100"),
            ("19490000", "the month must be 01-12"),
        ] {
            let text = format!("110105{date}002X");
            assert_eq!(
                id_err(ResidentIdNumber::parse(&text)),
                IdentifierError::BadBirthDate {
                    date: date.into(),
                    reason
                },
                "{text}"
            );
        }
        // 29 February of a leap year (2000, divisible by 400) is a date.
        assert!(ResidentIdNumber::parse("110105200002290021").is_ok());
    }

    #[test]
    fn default_limits() {
        let l = IssuanceLimits::default();
        assert_eq!(
            (
                l.max_sans,
                l.max_san_len,
                l.max_attribute_len,
                l.max_subject_attributes,
                l.max_identity_len
            ),
            (100, 253, 128, 16, 64)
        );
    }

    #[test]
    fn san_limits() {
        let l = IssuanceLimits::default();
        let names = |n: usize| {
            (0..n)
                .map(|i| San::Dns(format!("host{i}.example.cn")))
                .collect::<Vec<_>>()
        };
        assert!(l.check_sans(&names(100)).is_ok());
        assert_eq!(
            limit_err(l.check_sans(&names(5_000))),
            LimitError::TooManySans {
                count: 5_000,
                max: 100
            }
        );
        let mut sans = vec![San::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST))];
        sans.push(San::Email(format!("{}@example.cn", "a".repeat(300))));
        assert_eq!(
            limit_err(l.check_sans(&sans)),
            LimitError::SanTooLong {
                position: 2,
                kind: "e-mail address",
                len: 311,
                max: 253
            }
        );
        assert!(l.check_sans(&[San::Dns("a".repeat(253))]).is_ok());
    }

    #[test]
    fn subject_limits() {
        let l = IssuanceLimits::default();
        let cn = |n: usize| crate::name::parse(&format!("CN={},C=CN", "中".repeat(n))).unwrap();
        assert!(l.check_subject(&cn(64)).is_ok());
        assert!(l.check_subject(&cn(128)).is_ok());
        let e = limit_err(l.check_subject(&cn(129)));
        assert_eq!(
            e,
            LimitError::SubjectAttributeTooLong {
                attribute: "CN".into(),
                chars: 129,
                max: 128
            }
        );
        assert_eq!(
            e.to_string(),
            "the subject's CN is 129 characters long; at most 128 are allowed"
        );
        let many = (0..17)
            .map(|i| format!("OU=u{i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            limit_err(l.check_subject(&crate::name::parse(&many).unwrap())),
            LimitError::TooManySubjectAttributes { count: 17, max: 16 }
        );
    }

    #[test]
    fn identity_limits() {
        let l = IssuanceLimits::default();
        let huge = "9".repeat(100_000);
        assert_eq!(
            limit_err(l.check_identity_value("organisation code", &huge)),
            LimitError::IdentityValueTooLong {
                what: "organisation code".into(),
                chars: 100_000,
                max: 64
            }
        );
        assert_eq!(
            limit_err(l.check_identity(&[IdentityExtension::OrganizationCode(huge)])),
            LimitError::IdentityValueTooLong {
                what: "organisation code".into(),
                chars: 100_000,
                max: 64
            }
        );
        let ok = [
            IdentityExtension::OrganizationCode("91110000600037341L".into()),
            IdentityExtension::IdentifyCode(IdentifyCode::ResidentCardNumber(
                "11010519491231002X".into(),
            )),
        ];
        assert!(l.check_identity(&ok).is_ok());
        let twice = [
            IdentityExtension::IdentifyCode(IdentifyCode::ResidentCardNumber("1".into())),
            IdentityExtension::IdentifyCode(IdentifyCode::PassportNumber("2".into())),
        ];
        assert_eq!(
            limit_err(l.check_identity(&twice)),
            LimitError::DuplicateIdentityExtension {
                extension: "IdentifyCode"
            }
        );
    }
}
