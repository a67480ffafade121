//! `SignedData` (RFC 5652 §5) and its GM/T 0010-2012 spelling for SM2: signing through key
//! handles, verification to a per-signer verdict, and RFC 3161 timestamps on signatures.
//!
//! ```text
//! SignedData ::= SEQUENCE {
//!     version CMSVersion,
//!     digestAlgorithms SET OF DigestAlgorithmIdentifier,
//!     encapContentInfo EncapsulatedContentInfo,
//!     certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!     crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!     signerInfos SET OF SignerInfo }
//!
//! SignerInfo ::= SEQUENCE {
//!     version CMSVersion,
//!     sid SignerIdentifier,
//!     digestAlgorithm DigestAlgorithmIdentifier,
//!     signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!     signatureAlgorithm SignatureAlgorithmIdentifier,
//!     signature SignatureValue,
//!     unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//! ```
//!
//! * [`sign`] signs content for one or several [`SignerSpec`]s; [`SignedDataBuilder`] with
//!   [`PreparedSigner`]s is the same thing with everything about the signer (certificate DER,
//!   `IssuerAndSerialNumber`, algorithm identifiers, the `signingCertificateV2` attribute)
//!   encoded once, for servers that sign all day (the timestamp authority);
//! * [`verify`] gives a [`Report`] with one [`SignerReport`] per signer, each with the exact
//!   [`SignerProblem`] if it is not valid; input that cannot be read is an `Err` instead;
//! * [`signature_value`] and [`add_timestamp`] put an RFC 3161 token on a signature
//!   (`id-aa-timeStampToken`, RFC 3161 Appendix A).
//!
//! Signed attributes written: `contentType`, `messageDigest`, `signingTime` (UTCTime until
//! 2049, as RFC 5652 §11.3 asks) and `signingCertificateV2` (RFC 5035: one `ESSCertIDv2`
//! with the default hash SHA-256 — left out of the encoding as DER requires — and
//! `issuerSerial`). SHA-256 is used for SM2 signers too: BouncyCastle and OpenSSL check any
//! hash there, and it keeps one code path. Signers are identified by
//! `IssuerAndSerialNumber` (version 1 `SignerInfo`s), which both forms allow.
//!
//! # The two forms
//!
//! [`Form::Rfc5652`] is what OpenSSL 3 and BouncyCastle read and write: content types
//! `id-signedData` / `id-data` (another `eContentType` makes the `SignedData` version 3, RFC
//! 5652 §5.1), and for SM2 the digest algorithm SM3 (`1.2.156.10197.1.401`, no parameters)
//! with the signature algorithm `SM2-with-SM3` (`1.2.156.10197.1.501`, no parameters).
//!
//! [`Form::GmT0010`] follows GM/T 0010-2012 (national standard GB/T 35275-2017), "SM2
//! cryptographic algorithm encrypted signature message syntax", which takes PKCS#7 v1.5
//! (RFC 2315) and gives it its own identifiers. The choices made, clause by clause:
//!
//! * §5 (object identifiers): `ContentInfo.contentType` is `signedData`
//!   `1.2.156.10197.6.1.4.2.2`, and the inner content type of plain data is `data`
//!   `1.2.156.10197.6.1.4.2.1`. Any other content type (e.g. `id-ct-TSTInfo`) is written as
//!   given.
//! * §8.1 (`signedData`): `version` is 1. The standard's `contentInfo ContentInfo` field is
//!   PKCS#7's `ContentInfo { contentType, content [0] EXPLICIT ANY OPTIONAL }` with the data
//!   as an OCTET STRING — the same octets as RFC 5652's `EncapsulatedContentInfo`, so one
//!   decoder reads both; a detached signature leaves `content` out. `certificates [0]
//!   IMPLICIT` holds the signer's certificate and chain; no CRLs are written.
//! * §8.2 (`signerInfo`): `version` 1, `issuerAndSerialNumber`, `digestAlgorithm` SM3
//!   (`1.2.156.10197.1.401`, parameters absent), `authenticatedAttributes [0] IMPLICIT` (the
//!   same attributes as above; PKCS#9 `contentType` carries the GM/T `data` OID), and
//!   `digestEncryptionAlgorithm` `sm2-1` (`1.2.156.10197.1.301.1`, "SM2 elliptic curve digital
//!   signature algorithm" in GM/T 0006, parameters absent) as GB/T 35275 implementations such
//!   as ofdrw write it. GmSSL 3 writes `sm2sign-with-sm3` (`1.2.156.10197.1.501`) there
//!   instead; both are read. `encryptedDigest` is an OCTET STRING holding the DER
//!   `SM2Signature ::= SEQUENCE { R INTEGER, S INTEGER }` of GM/T 0009 §7.3, computed over
//!   SM3(Z ‖ M) with the signer's ID (default `1234567812345678`, GM/T 0009 §10), where M is
//!   the DER `SET OF` of the authenticated attributes, as in PKCS#7 §9.3.
//!
//! Reading accepts either form with either SM2 signature OID (and the SM2 key OID
//! `1.2.156.10197.1.301`, and `rsaEncryption` / `id-ecPublicKey` as OpenSSL writes them for
//! RSA and ECDSA); writing uses the form asked for. GM/T 0010 is defined for SM2 only, so
//! signing another key in that form is refused.

mod attributes;
mod build;
pub(crate) mod der_out;
mod verify;

use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode};
use x509_cert::attr::Attribute;
use yinxin_crypto::{SignatureScheme, Signer};
use yinxin_pki::certificate::Certificate;

pub(crate) use attributes::hash_algorithm as hash_algorithm_of;
pub use build::{BuildOptions, PreparedSigner, SignedDataBuilder};
pub use cms::signed_data::{SignedData, SignerInfo};
pub use verify::{Report, SignerProblem, SignerReport, VerifyOptions, verify};

/// The message syntax (shared with envelopes).
pub use crate::Form;
pub(crate) use verify::{SignerRules, verify_signer};

use crate::content_info;
use crate::error::{Error, Result};
use crate::oid;

/// One signer for [`sign`]: a key handle, its certificate, more certificates to include (the
/// chain up to, not necessarily including, the root) and the signature scheme.
#[derive(Clone, Debug)]
pub struct SignerSpec<'a> {
    /// The signing key, used only through the handle.
    pub signer: &'a dyn Signer,
    /// The signer's certificate; its key must be the handle's.
    pub certificate: &'a Certificate,
    /// Extra certificates to include (intermediate CAs).
    pub chain: &'a [Certificate],
    /// How to sign; SM2 carries the signer's ID (default `1234567812345678`).
    pub scheme: SignatureScheme,
}

impl<'a> SignerSpec<'a> {
    /// A signer with the key's default scheme and no extra certificates.
    pub fn new(signer: &'a dyn Signer, certificate: &'a Certificate) -> Self {
        SignerSpec {
            signer,
            certificate,
            chain: &[],
            scheme: signer.algorithm().default_signature_scheme(),
        }
    }

    /// Include these certificates too.
    pub fn with_chain(mut self, chain: &'a [Certificate]) -> Self {
        self.chain = chain;
        self
    }

    /// Sign under this scheme.
    pub fn with_scheme(mut self, scheme: SignatureScheme) -> Self {
        self.scheme = scheme;
        self
    }
}

/// How [`sign`] builds the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignOptions {
    /// The identifiers to write (default [`Form::Rfc5652`]).
    pub form: Form,
    /// Leave the content out of the message (default: attached).
    pub detached: bool,
    /// Add the `signingTime` attribute, the current time (default true).
    pub signing_time: bool,
    /// Add the `signingCertificateV2` attribute (default true).
    pub signing_certificate_v2: bool,
    /// Include the signers' certificates and chains (default true).
    pub include_certificates: bool,
    /// The content type (default `id-data`, written as the form spells it).
    pub content_type: ObjectIdentifier,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            form: Form::Rfc5652,
            detached: false,
            signing_time: true,
            signing_certificate_v2: true,
            include_certificates: true,
            content_type: oid::ID_DATA,
        }
    }
}

/// Sign `content` for every signer; the DER `ContentInfo` of the `SignedData`.
pub fn sign(content: &[u8], signers: &[SignerSpec<'_>], options: &SignOptions) -> Result<Vec<u8>> {
    sign_at(content, signers, options, SystemTime::now())
}

/// [`sign`] with a given signing time (used when `options.signing_time` is set), for
/// reproducible messages and tests.
pub fn sign_at(
    content: &[u8],
    signers: &[SignerSpec<'_>],
    options: &SignOptions,
    signing_time: SystemTime,
) -> Result<Vec<u8>> {
    if signers.is_empty() {
        return Err(Error::Unsupported(
            "a SignedData needs at least one signer".into(),
        ));
    }
    let mut parts = Vec::with_capacity(signers.len());
    let mut certificates: Vec<Vec<u8>> = Vec::new();
    for spec in signers {
        let certificate_der = encode("certificate", spec.certificate)?;
        parts.push(build::SignerParts::new(
            spec.signer,
            &spec.scheme,
            spec.certificate,
            &certificate_der,
            options.form,
            options.signing_certificate_v2,
        )?);
        if options.include_certificates {
            certificates.push(certificate_der);
            for c in spec.chain {
                certificates.push(encode("certificate", c)?);
            }
        }
    }
    certificates.sort();
    certificates.dedup();
    let certificate_field = options.include_certificates.then(|| {
        let parts: Vec<&[u8]> = certificates.iter().map(Vec::as_slice).collect();
        der_out::tlv(der_out::CONTEXT_0, &parts)
    });
    let signing: Vec<(&dyn Signer, &build::SignerParts)> =
        signers.iter().map(|s| s.signer).zip(parts.iter()).collect();
    build::assemble(
        options.form,
        &options.form.spell(options.content_type),
        content,
        options.detached,
        &signing,
        certificate_field.as_deref(),
        options.signing_time.then_some(signing_time),
    )
}

/// A decoded `SignedData` message and the form its `ContentInfo` used.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The form of the outer content type.
    pub form: Form,
    /// The `SignedData`.
    pub signed_data: SignedData,
    /// Whether the message was DER or BER (streamed, indefinite lengths).
    pub encoding: der::EncodingRules,
}

/// Decode a `SignedData` `ContentInfo` (DER, BER or PEM) of either form.
pub fn decode(signed: &[u8]) -> Result<Decoded> {
    let decoded = content_info::decode(signed)?;
    let found = &decoded.content_info.content_type;
    let form = Form::of_signed_data_type(found).ok_or_else(|| Error::WrongContentType {
        expected: "SignedData",
        found: content_info::describe(found),
    })?;
    let signed_data = decoded
        .content_info
        .content
        .decode_as_encoding(decoded.encoding)
        .map_err(|e| Error::decode("SignedData", e))?;
    Ok(Decoded {
        form,
        signed_data,
        encoding: decoded.encoding,
    })
}

impl Decoded {
    /// The signer at `index` (in the order of the message's `signerInfos`).
    pub fn signer(&self, index: usize) -> Result<&SignerInfo> {
        let infos = self.signed_data.signer_infos.0.as_slice();
        infos.get(index).ok_or(Error::NoSuchSigner {
            index,
            count: infos.len(),
        })
    }

    /// The encapsulated content, if attached.
    pub fn content(&self) -> Result<Option<Vec<u8>>> {
        self.signed_data
            .encap_content_info
            .econtent
            .as_ref()
            .map(|any| octets(any, self.encoding))
            .transpose()
    }
}

/// The signature value of signer `index`: what a client sends to a timestamp authority (as the
/// data whose hash goes into the request) to timestamp that signature.
pub fn signature_value(signed: &[u8], index: usize) -> Result<Vec<u8>> {
    let decoded = decode(signed)?;
    Ok(decoded.signer(index)?.signature.as_bytes().to_vec())
}

/// Add the RFC 3161 timestamp token `token` (a DER `ContentInfo`) to signer `index` as its
/// `id-aa-timeStampToken` unsigned attribute; the message again as DER.
///
/// The token's message imprint must be the hash of that signer's signature value, so a token
/// cannot land on the wrong signer. Signers are numbered in the order of the message; adding
/// an attribute can change the DER order of several signers, so take the index from the
/// message each time (or match by [`signature_value`]).
pub fn add_timestamp(signed: &[u8], index: usize, token: &[u8]) -> Result<Vec<u8>> {
    let decoded = decode(signed)?;
    let signature = decoded.signer(index)?.signature.as_bytes().to_vec();
    let info = crate::timestamp::token_info(token)?;
    if !info.imprint_matches(&signature) {
        return Err(Error::Timestamp(
            crate::timestamp::TimestampProblem::ImprintMismatch,
        ));
    }
    let token_any = Any::from_der(token).map_err(|e| Error::decode("timestamp token", e))?;
    let mut signed_data = decoded.signed_data;
    let mut infos = signed_data.signer_infos.0.into_vec();
    let count = infos.len();
    let info = infos
        .get_mut(index)
        .ok_or(Error::NoSuchSigner { index, count })?;
    let mut values = SetOfVec::new();
    values
        .insert(token_any)
        .map_err(|e| Error::decode("timestamp attribute", e))?;
    let attribute = Attribute {
        oid: oid::ID_AA_TIME_STAMP_TOKEN,
        values,
    };
    let mut unsigned = info.unsigned_attrs.take().unwrap_or_default();
    unsigned
        .insert(attribute)
        .map_err(|e| Error::decode("unsigned attributes", e))?;
    info.unsigned_attrs = Some(unsigned);
    signed_data.signer_infos = cms::signed_data::SignerInfos::try_from(infos)
        .map_err(|e| Error::decode("SignerInfos", e))?;
    let body = encode("SignedData", &signed_data)?;
    let type_der = der_out::oid(&decoded.form.signed_data_oid());
    let explicit = der_out::tlv(der_out::CONTEXT_0, &[&body]);
    Ok(der_out::tlv(der_out::SEQUENCE, &[&type_der, &explicit]))
}

/// The octets of an `OCTET STRING` content (`eContent`).
///
/// `der` keeps no constructed bit for OCTET STRINGs, so a BER stream's constructed OCTET
/// STRING (`24 80 04 .. 04 .. 00 00`, as `openssl cms -stream` writes) arrives as a value made
/// of `04` segments. In a BER message, a value that is entirely such segments is read as
/// their concatenation; DER messages are never reinterpreted.
pub(crate) fn octets(any: &Any, encoding: der::EncodingRules) -> Result<Vec<u8>> {
    let value = any
        .decode_as::<OctetString>()
        .map_err(|e| Error::decode("eContent", e))?;
    let value = value.as_bytes();
    if encoding == der::EncodingRules::Ber
        && let Some(joined) = segments(value)
    {
        return Ok(joined);
    }
    Ok(value.to_vec())
}

/// The concatenation of `bytes` read as primitive OCTET STRING segments (each `04 len data`,
/// definite lengths), if it is exactly that and not empty.
fn segments(mut bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    while let Some((&tag, rest)) = bytes.split_first() {
        if tag != 0x04 {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, &rest[n..])
        };
        let value = rest.get(..len)?;
        out.extend_from_slice(value);
        bytes = &rest[len..];
    }
    Some(out)
}

/// The DER of `value`, with a decode error naming `what` on failure.
pub(crate) fn encode(what: &'static str, value: &impl Encode) -> Result<Vec<u8>> {
    value.to_der().map_err(|e| Error::decode(what, e))
}
