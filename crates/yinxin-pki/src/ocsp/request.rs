//! OCSP requests: parsing (DER from POST, the base64 path of GET) and building.

use der::asn1::OctetString;
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extension;

use super::asn1::{CertId, OcspRequest, Request, TbsRequest};
use super::{CertIdHash, ID_PKIX_OCSP_NONCE, MAX_NONCE_LEN, OcspError, Result, base64};

/// The largest DER request accepted.
pub const MAX_REQUEST_LEN: usize = 16 * 1024;
/// The longest GET path accepted (base64 of [`MAX_REQUEST_LEN`] with escapes).
pub const MAX_GET_PATH_LEN: usize = 3 * (MAX_REQUEST_LEN * 4 / 3 + 4);
/// The most certificates one request may ask about.
pub const MAX_REQUESTED_CERTS: usize = 64;

/// One certificate a request asks about.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RequestedCert {
    /// The `CertID` exactly as sent (echoed in the response).
    pub cert_id: CertId,
    /// Its hash algorithm, if yinxin supports it.
    pub hash: Option<CertIdHash>,
    /// issuerNameHash.
    pub issuer_name_hash: Vec<u8>,
    /// issuerKeyHash.
    pub issuer_key_hash: Vec<u8>,
    /// The serial number, unsigned big-endian without leading zero octets (as
    /// [`RevokedEntry::serial`](crate::crl::RevokedEntry::serial) and issuance take it).
    pub serial: Vec<u8>,
}

/// A decoded OCSP request.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ParsedRequest {
    /// The certificates asked about, in request order (at least one).
    pub certs: Vec<RequestedCert>,
    /// The nonce extension's `extnValue` exactly as sent (echoed byte for byte), if any.
    pub nonce: Option<Vec<u8>>,
    /// Whether the request carried a signature (parsed, not verified).
    pub signed: bool,
}

fn malformed(e: impl std::fmt::Display) -> OcspError {
    OcspError::MalformedRequest(e.to_string())
}

/// The nonce octets in an `extnValue`: RFC 8954 `Nonce ::= OCTET STRING (SIZE(1..32))`; old
/// clients put the octets there directly, which is read too.
pub(crate) fn nonce_octets(extn_value: &[u8]) -> &[u8] {
    match OctetString::from_der(extn_value) {
        // The octets are the tail of the encoding, after the tag and length.
        Ok(o) => &extn_value[extn_value.len() - o.as_bytes().len()..],
        Err(_) => extn_value,
    }
}

/// Decode a DER `OCSPRequest` (at most [`MAX_REQUEST_LEN`] bytes and
/// [`MAX_REQUESTED_CERTS`] certificates; a nonce of 1 to 32 octets; no critical extension
/// other than the nonce).
pub fn parse_request(der: &[u8]) -> Result<ParsedRequest> {
    if der.len() > MAX_REQUEST_LEN {
        return Err(OcspError::TooLarge {
            what: "request",
            len: der.len(),
            max: MAX_REQUEST_LEN,
        });
    }
    let req = OcspRequest::from_der(der).map_err(malformed)?;
    let tbs = &req.tbs_request;
    if tbs.request_list.is_empty() {
        return Err(malformed("empty requestList"));
    }
    if tbs.request_list.len() > MAX_REQUESTED_CERTS {
        return Err(OcspError::TooLarge {
            what: "requestList",
            len: tbs.request_list.len(),
            max: MAX_REQUESTED_CERTS,
        });
    }
    let mut nonce = None;
    for ext in tbs.request_extensions.as_deref().unwrap_or(&[]) {
        if ext.extn_id == ID_PKIX_OCSP_NONCE {
            if nonce.is_some() {
                return Err(malformed("two nonce extensions"));
            }
            let raw = ext.extn_value.as_bytes();
            let octets = nonce_octets(raw);
            if octets.is_empty() || octets.len() > MAX_NONCE_LEN {
                return Err(OcspError::BadNonce(octets.len()));
            }
            nonce = Some(raw.to_vec());
        } else if ext.critical {
            return Err(malformed(format!(
                "unsupported critical extension {}",
                ext.extn_id
            )));
        }
    }
    let certs = tbs
        .request_list
        .iter()
        .map(|r| {
            if let Some(e) = r
                .single_request_extensions
                .as_deref()
                .unwrap_or(&[])
                .iter()
                .find(|e| e.critical)
            {
                return Err(malformed(format!(
                    "unsupported critical extension {}",
                    e.extn_id
                )));
            }
            let id = &r.req_cert;
            Ok(RequestedCert {
                hash: CertIdHash::from_oid(&id.hash_algorithm.oid),
                issuer_name_hash: id.issuer_name_hash.as_bytes().to_vec(),
                issuer_key_hash: id.issuer_key_hash.as_bytes().to_vec(),
                serial: unsigned(id.serial_number.as_bytes()).to_vec(),
                cert_id: id.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ParsedRequest {
        certs,
        nonce,
        signed: req.optional_signature.is_some(),
    })
}

/// Decode the path of an OCSP GET (RFC 6960 Appendix A.1): the URL-encoded base64 of the
/// DER request — the part of the path after the responder's base URL, leading `/`s
/// ignored. Both base64 alphabets are accepted, `%2F`, `%2B` and `%3D` escapes (any `%XX`
/// escape, in fact) as well as the unescaped characters, since many clients send a bare
/// `/`: so the caller must not split the path at `/`.
pub fn parse_get_path(path: &str) -> Result<ParsedRequest> {
    if path.len() > MAX_GET_PATH_LEN {
        return Err(OcspError::TooLarge {
            what: "GET path",
            len: path.len(),
            max: MAX_GET_PATH_LEN,
        });
    }
    let path = path.trim_start_matches('/');
    let bytes = path.as_bytes();
    let mut text = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| malformed("bad %-escape in the GET path"))?;
            text.push(hex);
            i += 3;
        } else {
            text.push(bytes[i]);
            i += 1;
        }
    }
    let der = base64::decode(&text).ok_or_else(|| malformed("the GET path is not base64"))?;
    parse_request(&der)
}

/// The GET path of a DER request (RFC 6960 Appendix A.1): standard base64 with `+`, `/`
/// and `=` escaped as `%2B`, `%2F` and `%3D`, without the leading `/`.
pub fn get_path(der: &[u8]) -> String {
    base64::encode(der)
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// Build an unsigned DER `OCSPRequest` for certificates of `issuer` with the given serials
/// (unsigned big-endian), `CertID`s hashed with `hash`, and an optional nonce (1 to 32
/// octets, written as RFC 8954 `OCTET STRING`). For clients and tests.
pub fn build_request(
    issuer: &Certificate,
    serials: &[&[u8]],
    hash: CertIdHash,
    nonce: Option<&[u8]>,
) -> Result<Vec<u8>> {
    if serials.is_empty() || serials.len() > MAX_REQUESTED_CERTS {
        return Err(OcspError::TooLarge {
            what: "requestList",
            len: serials.len(),
            max: MAX_REQUESTED_CERTS,
        });
    }
    let request_list = serials
        .iter()
        .map(|s| {
            Ok(Request {
                req_cert: cert_id(issuer, hash, s)?,
                single_request_extensions: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let request_extensions = match nonce {
        None => None,
        Some(n) => {
            if n.is_empty() || n.len() > MAX_NONCE_LEN {
                return Err(OcspError::BadNonce(n.len()));
            }
            let value = OctetString::new(n)
                .and_then(|o| o.to_der())
                .and_then(OctetString::new)
                .map_err(|e| crate::Error::decode("nonce", e))?;
            Some(vec![Extension {
                extn_id: ID_PKIX_OCSP_NONCE,
                critical: false,
                extn_value: value,
            }])
        }
    };
    let req = OcspRequest {
        tbs_request: TbsRequest {
            version: Default::default(),
            requestor_name: None,
            request_list,
            request_extensions,
        },
        optional_signature: None,
    };
    req.to_der()
        .map_err(|e| crate::Error::decode("OCSP request", e).into())
}

/// The `CertID` of the certificate with `serial` (unsigned big-endian) issued by `issuer`.
pub(crate) fn cert_id(issuer: &Certificate, hash: CertIdHash, serial: &[u8]) -> Result<CertId> {
    let (name_hash, key_hash) = super::issuer_hashes(issuer, hash)?;
    let enc = |e: der::Error| crate::Error::decode("CertID", e);
    let serial_number = crate::issue::serial(serial)?;
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: hash.oid(),
            parameters: Some(der::asn1::Any::from(der::asn1::Null)),
        },
        issuer_name_hash: OctetString::new(name_hash).map_err(enc)?,
        issuer_key_hash: OctetString::new(key_hash).map_err(enc)?,
        serial_number,
    })
}

/// Big-endian octets without leading zero octets (at least one octet).
pub(crate) fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    if start == bytes.len() && !bytes.is_empty() {
        &bytes[bytes.len() - 1..]
    } else {
        &bytes[start..]
    }
}
