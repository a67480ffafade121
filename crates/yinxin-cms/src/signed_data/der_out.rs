//! A few DER writers for the structures this crate builds on hot paths (a timestamp server
//! signs tens of thousands of tokens a second): pieces are concatenated from precomputed
//! encodings instead of building and re-encoding typed trees.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use const_oid::ObjectIdentifier;

use crate::error::{Error, Result};

/// `SEQUENCE`.
pub(crate) const SEQUENCE: u8 = 0x30;
/// `SET`.
pub(crate) const SET: u8 = 0x31;
/// `INTEGER`.
pub(crate) const INTEGER: u8 = 0x02;
/// `BOOLEAN`.
pub(crate) const BOOLEAN: u8 = 0x01;
/// `BIT STRING`.
pub(crate) const BIT_STRING: u8 = 0x03;
/// `OCTET STRING`.
pub(crate) const OCTET_STRING: u8 = 0x04;
/// `OBJECT IDENTIFIER`.
pub(crate) const OID: u8 = 0x06;
/// `UTF8String`.
pub(crate) const UTF8_STRING: u8 = 0x0c;
/// `GeneralizedTime`.
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
/// `[0]` constructed.
pub(crate) const CONTEXT_0: u8 = 0xa0;
/// `[4]` constructed (a `GeneralName`'s `directoryName`).
pub(crate) const CONTEXT_4: u8 = 0xa4;

/// Append a DER length.
pub(crate) fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Append `tag`, the length of the parts together, and the parts.
pub(crate) fn push_tlv(out: &mut Vec<u8>, tag: u8, parts: &[&[u8]]) {
    let len = parts.iter().map(|p| p.len()).sum();
    out.reserve(len + 6);
    out.push(tag);
    push_length(out, len);
    for p in parts {
        out.extend_from_slice(p);
    }
}

/// `tag` around the concatenated parts.
pub(crate) fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    push_tlv(&mut out, tag, parts);
    out
}

/// An `OBJECT IDENTIFIER`.
pub(crate) fn oid(oid: &ObjectIdentifier) -> Vec<u8> {
    tlv(OID, &[oid.as_bytes()])
}

/// An `OCTET STRING`.
pub(crate) fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, &[bytes])
}

/// An `INTEGER` holding the unsigned big-endian number `bytes`.
pub(crate) fn unsigned_integer(bytes: &[u8]) -> Vec<u8> {
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let digits = &bytes[skip..];
    match digits.first() {
        None => tlv(INTEGER, &[&[0]]),
        Some(b) if b & 0x80 != 0 => tlv(INTEGER, &[&[0], digits]),
        Some(_) => tlv(INTEGER, &[digits]),
    }
}

/// The content octets of an unsigned big-endian number as a DER `INTEGER` would carry them.
pub(crate) fn small_integer(n: u64) -> Vec<u8> {
    unsigned_integer(&n.to_be_bytes())
}

/// A DER `SET OF`: the element encodings sorted, as X.690 §11.6 requires.
pub(crate) fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    let parts: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
    tlv(SET, &parts)
}

/// A `GeneralizedTime` with `digits` (0 to 9) fractional digits, trailing zeros dropped
/// (X.690 §11.7: `YYYYMMDDHHMMSS[.f]Z`).
pub(crate) fn generalized_time(time: SystemTime, digits: u32) -> Result<Vec<u8>> {
    let since = time
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::decode("GeneralizedTime", "time before 1970"))?;
    let date = der::DateTime::from_unix_duration(Duration::from_secs(since.as_secs()))
        .map_err(|e| Error::decode("GeneralizedTime", e))?;
    let mut text = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        date.year(),
        date.month(),
        date.day(),
        date.hour(),
        date.minutes(),
        date.seconds()
    );
    let digits = digits.min(9);
    if digits > 0 {
        let fraction = since.subsec_nanos() / 10u32.pow(9 - digits);
        let fraction = format!("{fraction:0width$}", width = digits as usize);
        let fraction = fraction.trim_end_matches('0');
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(fraction);
        }
    }
    text.push('Z');
    Ok(tlv(GENERALIZED_TIME, &[text.as_bytes()]))
}

/// Parse the content of a `GeneralizedTime` (`YYYYMMDDHHMMSS[.f+]Z`, as DER and RFC 3161 write
/// it) into a time.
pub(crate) fn parse_generalized_time(text: &[u8]) -> Result<SystemTime> {
    let bad = || Error::decode("GeneralizedTime", "not YYYYMMDDHHMMSS[.fff]Z");
    let text = std::str::from_utf8(text).map_err(|_| bad())?;
    let body = text.strip_suffix('Z').ok_or_else(bad)?;
    let (whole, fraction) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| whole[r].parse::<u16>().map_err(|_| bad());
    let date = der::DateTime::new(
        num(0..4)?,
        num(4..6)? as u8,
        num(6..8)? as u8,
        num(8..10)? as u8,
        num(10..12)? as u8,
        num(12..14)? as u8,
    )
    .map_err(|e| Error::decode("GeneralizedTime", e))?;
    let mut time = UNIX_EPOCH + date.unix_duration();
    if let Some(f) = fraction {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) || f.ends_with('0')
        {
            return Err(bad());
        }
        let nanos: u32 = f.parse().map_err(|_| bad())?;
        time += Duration::from_nanos(u64::from(nanos) * 10u64.pow(9 - f.len() as u32));
    }
    Ok(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_integers() {
        assert_eq!(tlv(OCTET_STRING, &[&[1; 200]])[..3], [0x04, 0x81, 200]);
        assert_eq!(
            tlv(OCTET_STRING, &[&[1; 300]])[..4],
            [0x04, 0x82, 0x01, 0x2c]
        );
        assert_eq!(unsigned_integer(&[0, 0, 0x80]), [2, 2, 0, 0x80]);
        assert_eq!(unsigned_integer(&[]), [2, 1, 0]);
        assert_eq!(small_integer(1), [2, 1, 1]);
    }

    #[test]
    fn generalized_time_round_trips_with_fractions() {
        let t = UNIX_EPOCH + Duration::from_millis(1_750_000_000_120);
        let der = generalized_time(t, 3).unwrap_or_default();
        assert_eq!(&der[2..], b"20250615150640.12Z");
        assert_eq!(parse_generalized_time(&der[2..]).ok(), Some(t));
        let whole = generalized_time(t, 0).unwrap_or_default();
        assert_eq!(&whole[2..], b"20250615150640Z");
        assert!(parse_generalized_time(b"20250615150640.120Z").is_err());
        assert!(parse_generalized_time(b"2025061515064Z").is_err());
    }
}
