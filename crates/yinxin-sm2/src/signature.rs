//! The SM2 signature value `(r, s)` and its encodings.

use crate::Error;
use crate::scalar::Scalar;

/// An SM2 signature `(r, s)` with both components in `[1, n-1]`.
///
/// DER form (GM/T 0009 §7.3, GM/T 0010):
///
/// ```text
/// SM2Signature ::= SEQUENCE {
///     R   INTEGER,
///     S   INTEGER
/// }
/// ```
///
/// Raw form: `r || s`, 32 bytes each, big-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signature {
    r: [u8; 32],
    s: [u8; 32],
}

impl Signature {
    /// Builds a signature from big-endian `r` and `s`; each must be in `[1, n-1]`.
    pub fn from_scalars(r: [u8; 32], s: [u8; 32]) -> Result<Self, Error> {
        for component in [&r, &s] {
            let v: Option<Scalar> = Scalar::from_bytes(component).into();
            match v {
                Some(v) if !bool::from(v.is_zero()) => {}
                _ => return Err(Error::SignatureOutOfRange),
            }
        }
        Ok(Self { r, s })
    }

    /// `r`, big-endian.
    pub fn r(&self) -> &[u8; 32] {
        &self.r
    }

    /// `s`, big-endian.
    pub fn s(&self) -> &[u8; 32] {
        &self.s
    }

    /// Decodes the raw 64-byte form `r || s`.
    pub fn from_bytes(bytes: &[u8; 64]) -> Result<Self, Error> {
        let mut r = [0u8; 32];
        let mut s = [0u8; 32];
        r.copy_from_slice(&bytes[..32]);
        s.copy_from_slice(&bytes[32..]);
        Self::from_scalars(r, s)
    }

    /// Decodes the raw form from a slice, which must be exactly 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let raw: &[u8; 64] = bytes
            .try_into()
            .map_err(|_| Error::InvalidSignatureLength { len: bytes.len() })?;
        Self::from_bytes(raw)
    }

    /// The raw 64-byte form `r || s`.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.r);
        out[32..].copy_from_slice(&self.s);
        out
    }

    /// Decodes strict DER `SEQUENCE { INTEGER r, INTEGER s }`: definite short-form lengths,
    /// minimal positive integers, no trailing data.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let bad = |position: usize| Error::MalformedSignature { position };
        if der.first() != Some(&0x30) {
            return Err(bad(0));
        }
        // The content is at most 2 * (2 + 33) = 70 bytes, so the length is short-form.
        let len = *der.get(1).ok_or(bad(1))? as usize;
        if len >= 0x80 {
            return Err(bad(1));
        }
        if der.len() != 2 + len {
            return Err(bad(der.len().min(2 + len)));
        }
        let (r, next) = parse_integer(der, 2)?;
        let (s, next) = parse_integer(der, next)?;
        if next != der.len() {
            return Err(bad(next));
        }
        Self::from_scalars(r, s)
    }

    /// The DER encoding `SEQUENCE { INTEGER r, INTEGER s }` (at most 72 bytes).
    pub fn to_der(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(70);
        encode_integer(&self.r, &mut body);
        encode_integer(&self.s, &mut body);
        let mut out = Vec::with_capacity(body.len() + 2);
        out.push(0x30);
        out.push(body.len() as u8); // <= 70
        out.extend_from_slice(&body);
        out
    }
}

/// Parses a DER INTEGER at `pos` holding a non-negative value below `2^256`; returns it
/// right-aligned and the offset after it.
fn parse_integer(der: &[u8], pos: usize) -> Result<([u8; 32], usize), Error> {
    let bad = |position: usize| Error::MalformedSignature { position };
    if der.get(pos) != Some(&0x02) {
        return Err(bad(pos));
    }
    let len = *der.get(pos + 1).ok_or(bad(pos + 1))? as usize;
    if len == 0 || len >= 0x80 {
        return Err(bad(pos + 1));
    }
    let start = pos + 2;
    let content = der.get(start..start + len).ok_or(bad(der.len()))?;
    if content[0] & 0x80 != 0 {
        return Err(bad(start)); // negative
    }
    let digits = if content[0] == 0 && len > 1 {
        if content[1] & 0x80 == 0 {
            return Err(bad(start)); // non-minimal leading zero
        }
        &content[1..]
    } else {
        content
    };
    if digits.len() > 32 {
        return Err(bad(start));
    }
    let mut out = [0u8; 32];
    out[32 - digits.len()..].copy_from_slice(digits);
    Ok((out, start + len))
}

/// Appends the minimal DER INTEGER for the non-negative big-endian `value`.
fn encode_integer(value: &[u8; 32], out: &mut Vec<u8>) {
    let first = value.iter().position(|&b| b != 0).unwrap_or(31);
    let digits = &value[first..];
    let pad = digits[0] & 0x80 != 0;
    out.push(0x02);
    out.push((digits.len() + usize::from(pad)) as u8);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(digits);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_and_max() -> Signature {
        let mut r = [0u8; 32];
        r[31] = 1;
        let s = crate::arith::limbs_to_be(&crate::arith::sub4(&crate::scalar::N, &[1, 0, 0, 0]).0);
        Signature::from_scalars(r, s).unwrap()
    }

    #[test]
    fn der_roundtrip() {
        let sig = one_and_max();
        let der = sig.to_der();
        assert_eq!(&der[..5], &[0x30, 3 + 35, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
        assert_eq!(Signature::from_der(&der).unwrap(), sig);
        assert_eq!(Signature::from_bytes(&sig.to_bytes()).unwrap(), sig);
        assert_eq!(Signature::from_slice(&sig.to_bytes()).unwrap(), sig);
        // A 31-byte value with the top bit clear needs no pad.
        let mut r = [0x11u8; 32];
        r[0] = 0;
        let sig = Signature::from_scalars(r, r).unwrap();
        let der = sig.to_der();
        assert_eq!(der.len(), 2 + 2 * 33);
        assert_eq!(Signature::from_der(&der).unwrap(), sig);
    }

    #[test]
    fn ranges_rejected() {
        let zero = [0u8; 32];
        let n = crate::arith::limbs_to_be(&crate::scalar::N);
        let ok = *one_and_max().r();
        assert_eq!(
            Signature::from_scalars(zero, ok),
            Err(Error::SignatureOutOfRange)
        );
        assert_eq!(
            Signature::from_scalars(ok, zero),
            Err(Error::SignatureOutOfRange)
        );
        assert_eq!(
            Signature::from_scalars(n, ok),
            Err(Error::SignatureOutOfRange)
        );
        assert_eq!(
            Signature::from_scalars(ok, [0xFF; 32]),
            Err(Error::SignatureOutOfRange)
        );
        assert_eq!(
            Signature::from_slice(&[1u8; 63]),
            Err(Error::InvalidSignatureLength { len: 63 })
        );
        // INTEGER 0 in DER.
        assert_eq!(
            Signature::from_der(&[0x30, 6, 2, 1, 0, 2, 1, 1]),
            Err(Error::SignatureOutOfRange)
        );
    }

    #[test]
    fn malformed_der_rejected() {
        let good = one_and_max().to_der();
        // Every truncation and every trailing byte fails without panicking.
        for cut in 0..good.len() {
            assert!(
                Signature::from_der(&good[..cut]).is_err(),
                "truncated at {cut}"
            );
        }
        let mut long = good.clone();
        long.push(0);
        assert!(Signature::from_der(&long).is_err());
        let cases: &[&[u8]] = &[
            &[],
            &[0x31, 6, 2, 1, 1, 2, 1, 1],          // SET, not SEQUENCE
            &[0x30, 0x81, 6, 2, 1, 1, 2, 1, 1],    // long-form length
            &[0x30, 6, 2, 1, 1, 2, 1, 1, 0],       // trailing byte after the SEQUENCE
            &[0x30, 7, 2, 1, 1, 2, 1, 1, 0],       // trailing byte inside the SEQUENCE
            &[0x30, 6, 2, 1, 0x81, 2, 1, 1],       // negative r
            &[0x30, 7, 2, 2, 0, 1, 2, 1, 1],       // non-minimal r
            &[0x30, 7, 2, 1, 1, 2, 2, 0xFF, 0x80], // negative s
            &[0x30, 5, 2, 0, 2, 1, 1],             // empty r
            &[0x30, 3, 2, 1, 1],                   // missing s
            &[0x30, 6, 4, 1, 1, 2, 1, 1],          // OCTET STRING r
            &[0x30, 6, 2, 1, 1, 2, 5, 1],          // s runs past the end
        ];
        for (i, case) in cases.iter().enumerate() {
            assert!(
                matches!(
                    Signature::from_der(case),
                    Err(Error::MalformedSignature { .. })
                ),
                "case {i}"
            );
        }
        // 33 value bytes without a sign pad: too large.
        let mut big = vec![0x30, 39, 0x02, 34, 0x00];
        big.extend_from_slice(&[0x80; 33]);
        big.extend_from_slice(&[2, 1, 1]);
        assert!(Signature::from_der(&big).is_err());
        // Garbage never panics.
        let mut state = 7u32;
        for len in 0..200 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (state >> 16) as u8
                })
                .collect();
            let _ = Signature::from_der(&data);
            let mut framed = vec![0x30, data.len().min(127) as u8];
            framed.extend_from_slice(&data);
            let _ = Signature::from_der(&framed);
        }
    }
}
