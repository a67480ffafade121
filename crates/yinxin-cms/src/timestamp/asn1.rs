//! The RFC 3161 structures (with RFC 5816's `ESSCertIDv2` in the signing-certificate
//! attribute) as `der` types, named after their ASN.1. The module is `IMPLICIT TAGS`.

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, Int, OctetString};
use der::{DecodeValue, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag, Writer};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;

use crate::signed_data::der_out;

/// ```text
/// MessageImprint ::= SEQUENCE {
///     hashAlgorithm AlgorithmIdentifier,
///     hashedMessage OCTET STRING }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct MessageImprint {
    /// The hash algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash of the data.
    pub hashed_message: OctetString,
}

/// RFC 3161 §2.4.1:
///
/// ```text
/// TimeStampReq ::= SEQUENCE {
///     version        INTEGER { v1(1) },
///     messageImprint MessageImprint,
///     reqPolicy      TSAPolicyId OPTIONAL,
///     nonce          INTEGER OPTIONAL,
///     certReq        BOOLEAN DEFAULT FALSE,
///     extensions     [0] IMPLICIT Extensions OPTIONAL }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampReq {
    /// 1.
    pub version: u32,
    /// What to stamp.
    pub message_imprint: MessageImprint,
    /// The policy asked for.
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    /// The client's nonce.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// Whether the TSA's certificate is to be included.
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    /// Request extensions (none is accepted).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// RFC 3161 §2.4.2 (with RFC 4210's `PKIStatusInfo`):
///
/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///     status       PKIStatus,
///     statusString PKIFreeText OPTIONAL,
///     failInfo     PKIFailureInfo OPTIONAL }
/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PkiStatusInfo {
    /// `PKIStatus`: 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, 4–5 revocation.
    pub status: u32,
    /// Text for a human.
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    /// `PKIFailureInfo` bits.
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// ```text
/// TimeStampResp ::= SEQUENCE {
///     status         PKIStatusInfo,
///     timeStampToken TimeStampToken OPTIONAL }
/// TimeStampToken ::= ContentInfo
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TimeStampResp {
    /// The status.
    pub status: PkiStatusInfo,
    /// The token, a `ContentInfo` holding a `SignedData`.
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<der::asn1::Any>,
}

/// RFC 3161 §2.4.2:
///
/// ```text
/// TSTInfo ::= SEQUENCE {
///     version        INTEGER { v1(1) },
///     policy         TSAPolicyId,
///     messageImprint MessageImprint,
///     serialNumber   INTEGER,
///     genTime        GeneralizedTime,
///     accuracy       Accuracy OPTIONAL,
///     ordering       BOOLEAN DEFAULT FALSE,
///     nonce          INTEGER OPTIONAL,
///     tsa            [0] GeneralName OPTIONAL,
///     extensions     [1] IMPLICIT Extensions OPTIONAL }
/// ```
///
/// `tsa` is explicitly tagged although the module is implicit: `GeneralName` is a CHOICE.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TstInfo {
    /// 1.
    pub version: u32,
    /// The TSA's policy.
    pub policy: ObjectIdentifier,
    /// The request's imprint.
    pub message_imprint: MessageImprint,
    /// The token's serial number.
    pub serial_number: Int,
    /// The time, with an optional fraction.
    pub gen_time: GenTime,
    /// The accuracy of `genTime`.
    #[asn1(optional = "true")]
    pub accuracy: Option<AccuracyAsn1>,
    /// Whether tokens of this TSA are ordered by `genTime` alone.
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    /// The request's nonce.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// The TSA's name.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<GeneralName>,
    /// Extensions.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// ```text
/// Accuracy ::= SEQUENCE {
///     seconds INTEGER OPTIONAL,
///     millis  [0] INTEGER (1..999) OPTIONAL,
///     micros  [1] INTEGER (1..999) OPTIONAL }
/// ```
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq, Sequence)]
pub struct AccuracyAsn1 {
    /// Seconds.
    #[asn1(optional = "true")]
    pub seconds: Option<u32>,
    /// Milliseconds.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    /// Microseconds.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}

/// A `GeneralizedTime` that may carry a fraction of a second (`YYYYMMDDHHMMSS[.f+]Z`), as
/// RFC 3161 §2.4.2 allows for `genTime` (`der`'s own type has whole seconds only).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct GenTime(pub SystemTime);

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for GenTime {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let bytes = reader.read_vec(header.length())?;
        der_out::parse_generalized_time(&bytes)
            .map(GenTime)
            .map_err(|_| der::Error::from(der::ErrorKind::DateTime))
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.text()?.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.text()?)
    }
}

impl GenTime {
    /// The text with up to microseconds, trailing zeros dropped.
    fn text(&self) -> der::Result<Vec<u8>> {
        let der = der_out::generalized_time(self.0, 6)
            .map_err(|_| der::Error::from(der::ErrorKind::DateTime))?;
        Ok(der[2..].to_vec())
    }
}
