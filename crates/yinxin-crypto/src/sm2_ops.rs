//! SM2 operations on yinxin's fast constant-time arithmetic (`yinxin-sm2`): the Z value from
//! an arbitrary-byte signer ID, signing and verifying over `Z || M`, and encryption in every
//! ciphertext layout that middleware emits.

use ::sm2::PublicKey;
use ::sm2::elliptic_curve::sec1::ToSec1Point;
use sm3::{Digest, Sm3};
use zeroize::Zeroizing;

use crate::alg::{DistinguishingId, Sm2CiphertextFormat};
use crate::error::{Error, Result};

/// Curve coefficients and base point of `sm2p256v1` (GM/T 0003.5), hashed into Z.
const CURVE_A_B_G: [u8; 128] = hex_literal(concat!(
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
));

const fn hex_literal(s: &str) -> [u8; 128] {
    let b = s.as_bytes();
    let mut out = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not a hex digit"),
    }
}

/// `Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)` (GM/T 0003.2 §5.5).
pub(crate) fn z_value(id: &DistinguishingId, public_key: &PublicKey) -> [u8; 32] {
    let id = id.as_bytes();
    // DistinguishingId::new caps the length so that the bit length fits 16 bits.
    let entl = ((id.len() * 8) as u16).to_be_bytes();
    let point = public_key.to_sec1_point(false);
    let mut h = Sm3::new();
    h.update(entl);
    h.update(id);
    h.update(CURVE_A_B_G);
    h.update(&point.as_bytes()[1..]);
    h.finalize().into()
}

/// `e = SM3(Z || M)`, the value that is actually signed.
pub(crate) fn message_hash(id: &DistinguishingId, public_key: &PublicKey, msg: &[u8]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(z_value(id, public_key));
    h.update(msg);
    h.finalize().into()
}

pub(crate) fn sign(
    key: &yinxin_sm2::SigningKey,
    id: &DistinguishingId,
    public_key: &PublicKey,
    msg: &[u8],
) -> Result<Vec<u8>> {
    let e = message_hash(id, public_key, msg);
    // A fresh random nonce from the OS for every signature, in constant time.
    let sig = key.sign_prehash(&e).map_err(|_| Error::Random)?;
    Ok(sig.to_der())
}

pub(crate) fn verify(
    key: &yinxin_sm2::PublicKey,
    id: &DistinguishingId,
    public_key: &PublicKey,
    msg: &[u8],
    sig: &[u8],
) -> Result<()> {
    let sig = parse_signature(sig)?;
    let e = message_hash(id, public_key, msg);
    yinxin_sm2::verify_prehash(key, &e, &sig).map_err(|_| Error::InvalidSignature)
}

/// A signature as DER `SEQUENCE { r, s }` or raw 64-byte `r || s` (what SKF devices return).
fn parse_signature(sig: &[u8]) -> Result<yinxin_sm2::Signature> {
    if let Ok(s) = yinxin_sm2::Signature::from_der(sig) {
        return Ok(s);
    }
    if let Some((r, s)) = lenient_pair(sig) {
        return yinxin_sm2::Signature::from_scalars(r, s).map_err(|_| Error::InvalidSignature);
    }
    if sig.len() == 64 {
        return yinxin_sm2::Signature::from_slice(sig).map_err(|_| Error::InvalidSignature);
    }
    Err(Error::decode(
        "SM2 signature",
        format!(
            "neither DER SEQUENCE {{ r, s }} nor 64 raw bytes ({} bytes)",
            sig.len()
        ),
    ))
}

/// Read an INTEGER's magnitude leniently, as 32 bytes: some middleware writes fixed-width
/// 32-byte INTEGERs (non-minimal, or "negative" without the 0x00 pad). yinxin writes DER.
fn lenient_uint(any: der::asn1::AnyRef<'_>) -> Option<[u8; 32]> {
    if der::Tagged::tag(&any) != der::Tag::Integer {
        return None;
    }
    let bytes = any.value();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let magnitude = &bytes[first..];
    let mut out = [0u8; 32];
    out.get_mut(32usize.checked_sub(magnitude.len())?..)?
        .copy_from_slice(magnitude);
    Some(out)
}

/// `SEQUENCE { INTEGER, INTEGER }` with lenient INTEGERs, for SM2 signatures.
fn lenient_pair(der_bytes: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    use der::Decode;
    #[derive(der::Sequence)]
    struct Pair<'a> {
        r: der::asn1::AnyRef<'a>,
        s: der::asn1::AnyRef<'a>,
    }
    let pair = Pair::from_der(der_bytes).ok()?;
    Some((lenient_uint(pair.r)?, lenient_uint(pair.s)?))
}

/// [`Sm2Cipher`] as read: coordinates as lenient INTEGERs.
#[derive(der::Sequence)]
struct Sm2CipherLenient<'a> {
    x_coordinate: der::asn1::AnyRef<'a>,
    y_coordinate: der::asn1::AnyRef<'a>,
    hash: &'a der::asn1::OctetStringRef,
    cipher_text: &'a der::asn1::OctetStringRef,
}

/// `SM2Cipher ::= SEQUENCE { XCoordinate INTEGER, YCoordinate INTEGER, HASH OCTET STRING,
/// CipherText OCTET STRING }` (GM/T 0009 §7.2), the layout OpenSSL reads and writes.
#[derive(der::Sequence)]
struct Sm2Cipher<'a> {
    x_coordinate: der::asn1::UintRef<'a>,
    y_coordinate: der::asn1::UintRef<'a>,
    hash: &'a der::asn1::OctetStringRef,
    cipher_text: &'a der::asn1::OctetStringRef,
}

/// The KDF of GM/T 0003.4 §5.4.3: SM3(Z || counter) blocks, counter from 1, big-endian.
fn kdf(x2: &[u8; 32], y2: &[u8; 32], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 32));
    let mut counter: u32 = 1;
    while out.len() < len {
        let mut h = Sm3::new();
        h.update(x2);
        h.update(y2);
        h.update(counter.to_be_bytes());
        out.extend_from_slice(&h.finalize());
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

fn c3(x2: &[u8; 32], msg: &[u8], y2: &[u8; 32]) -> [u8; 32] {
    let mut h = Sm3::new();
    h.update(x2);
    h.update(msg);
    h.update(y2);
    h.finalize().into()
}

/// SM2 encryption (GM/T 0003.4 §6.1) with yinxin-sm2's constant-time point arithmetic.
pub(crate) fn encrypt(
    public_key: &yinxin_sm2::PublicKey,
    format: Sm2CiphertextFormat,
    msg: &[u8],
) -> Result<Vec<u8>> {
    if msg.is_empty() {
        // The KDF output for an empty message is empty, which the standard treats as "all
        // zero" and retries forever in some implementations: refuse it outright.
        return Err(Error::MessageLength {
            len: 0,
            reason: "SM2 encryption needs a non-empty message",
        });
    }
    let (c1, x2, y2, t) = loop {
        // A1-A5: k random, C1 = kG, (x2, y2) = k P_B, t = KDF(x2 || y2, klen) not all zero.
        let k = yinxin_sm2::SecretKey::generate().map_err(|_| Error::Random)?;
        let c1 = k.public_key();
        let shared = public_key.mul_secret(&k);
        let (x2, y2) = (
            Zeroizing::new(shared.x_bytes()),
            Zeroizing::new(shared.y_bytes()),
        );
        let t = kdf(&x2, &y2, msg.len());
        if t.iter().any(|b| *b != 0) {
            break (c1, x2, y2, t);
        }
    };
    let c2: Vec<u8> = msg.iter().zip(t.iter()).map(|(m, t)| m ^ t).collect();
    let c3 = c3(&x2, msg, &y2);
    let point = c1.to_uncompressed();
    Ok(match format {
        Sm2CiphertextFormat::Asn1 => {
            use der::Encode;
            let bad = |e: der::Error| Error::decode("SM2 ciphertext", e);
            Sm2Cipher {
                x_coordinate: der::asn1::UintRef::new(&point[1..33]).map_err(bad)?,
                y_coordinate: der::asn1::UintRef::new(&point[33..65]).map_err(bad)?,
                hash: der::asn1::OctetStringRef::new(&c3).map_err(bad)?,
                cipher_text: der::asn1::OctetStringRef::new(&c2).map_err(bad)?,
            }
            .to_der()
            .map_err(bad)?
        }
        Sm2CiphertextFormat::C1C3C2 => [&point[..], &c3, &c2].concat(),
        Sm2CiphertextFormat::C1C2C3 => [&point[..], &c2, &c3].concat(),
    })
}

/// One way to read a ciphertext: C1 as SEC1 bytes, C3, C2.
struct Parts<'a> {
    c1: std::borrow::Cow<'a, [u8]>,
    c3: &'a [u8],
    c2: &'a [u8],
}

/// Every reading of `ct` worth trying: GM/T 0009 ASN.1, and raw C1‖C3‖C2 / C1‖C2‖C3 with C1
/// uncompressed (with or without the `0x04` prefix) or compressed.
fn readings(ct: &[u8]) -> Vec<Parts<'_>> {
    let mut out = Vec::new();
    if let Ok(asn1) = <Sm2CipherLenient<'_> as der::Decode>::from_der(ct)
        && let (Some(x), Some(y)) = (
            lenient_uint(asn1.x_coordinate),
            lenient_uint(asn1.y_coordinate),
        )
    {
        let mut c1 = vec![0x04];
        c1.extend_from_slice(&x);
        c1.extend_from_slice(&y);
        out.push(Parts {
            c1: c1.into(),
            c3: asn1.hash.as_bytes(),
            c2: asn1.cipher_text.as_bytes(),
        });
    }
    match ct.first() {
        Some(0x04) if ct.len() > 65 + 32 => push_raw(&mut out, ct[..65].into(), &ct[65..]),
        Some(0x02 | 0x03) if ct.len() > 33 + 32 => push_raw(&mut out, ct[..33].into(), &ct[33..]),
        _ => {}
    }
    if ct.len() > 64 + 32 {
        let mut c1 = vec![0x04];
        c1.extend_from_slice(&ct[..64]);
        push_raw(&mut out, c1.into(), &ct[64..]);
    }
    out
}

/// Both raw orders after C1: `C3 || C2` and `C2 || C3` (`rest` is longer than C3).
fn push_raw<'a>(out: &mut Vec<Parts<'a>>, c1: std::borrow::Cow<'a, [u8]>, rest: &'a [u8]) {
    let (c3, c2) = rest.split_at(32);
    out.push(Parts {
        c1: c1.clone(),
        c3,
        c2,
    });
    let (c2, c3) = rest.split_at(rest.len() - 32);
    out.push(Parts { c1, c3, c2 });
}

/// Decrypt any layout. C3 authenticates the plaintext, so trying the readings in turn cannot
/// accept a wrong one.
pub(crate) fn decrypt(secret: &yinxin_sm2::SecretKey, ct: &[u8]) -> Result<Vec<u8>> {
    use subtle::ConstantTimeEq;
    for parts in readings(ct) {
        if parts.c2.is_empty() {
            continue;
        }
        // B1: C1 must be a point on the curve (and not infinity).
        let Ok(c1) = yinxin_sm2::PublicKey::from_sec1_bytes(&parts.c1) else {
            continue;
        };
        let shared = c1.mul_secret(secret);
        let (x2, y2) = (
            Zeroizing::new(shared.x_bytes()),
            Zeroizing::new(shared.y_bytes()),
        );
        let t = kdf(&x2, &y2, parts.c2.len());
        if t.iter().all(|b| *b == 0) {
            continue;
        }
        let msg: Zeroizing<Vec<u8>> =
            Zeroizing::new(parts.c2.iter().zip(t.iter()).map(|(c, t)| c ^ t).collect());
        if bool::from(c3(&x2, &msg, &y2).ct_eq(parts.c3)) {
            return Ok(msg.to_vec());
        }
    }
    Err(Error::DecryptionFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_value_matches_gmt0003_example() {
        // GM/T 0003.5-2012 Appendix A.2 (signature example on the recommended curve):
        // ID "1234567812345678" (ENTL 0x0080), public key below, Z_A as printed there.
        let pk_hex = concat!(
            "04",
            "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
            "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
        );
        let pk = PublicKey::from_sec1_bytes(&hex::decode(pk_hex).unwrap()).unwrap();
        let z = z_value(&DistinguishingId::default(), &pk);
        assert_eq!(
            hex::encode_upper(z),
            "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3"
        );
    }
}

#[cfg(test)]
mod lenient_tests {
    use crate::{EncryptionScheme, KeySpec, PrivateKey, Sm2CiphertextFormat};

    /// A fixed-width 32-byte INTEGER as some middleware writes it (no minimal form, no sign pad).
    fn fixed(v: &[u8; 32]) -> Vec<u8> {
        [&[0x02, 0x20][..], v].concat()
    }

    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        let body = parts.concat();
        let mut out = vec![0x30];
        if body.len() < 128 {
            out.push(body.len() as u8);
        } else {
            out.extend_from_slice(&[0x81, body.len() as u8]);
        }
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn fixed_width_integers_are_read() {
        let key = PrivateKey::generate(KeySpec::Sm2).unwrap();
        let scheme = key.algorithm().default_signature_scheme();
        let sig = key.sign(&scheme, b"m").unwrap();
        let parsed = yinxin_sm2::Signature::from_der(&sig).unwrap();
        let odd = seq(&[fixed(parsed.r()), fixed(parsed.s())]);
        key.public_key().verify(&scheme, b"m", &odd).unwrap();

        let es = EncryptionScheme::Sm2(Sm2CiphertextFormat::C1C3C2);
        let raw = key.public_key().encrypt(&es, b"bid").unwrap();
        let (x, y) = (
            <[u8; 32]>::try_from(&raw[1..33]).unwrap(),
            <[u8; 32]>::try_from(&raw[33..65]).unwrap(),
        );
        let asn1 = seq(&[
            fixed(&x),
            fixed(&y),
            [&[0x04, 0x20][..], &raw[65..97]].concat(),
            [&[0x04, 0x03][..], &raw[97..]].concat(),
        ]);
        assert_eq!(&key.decrypt(&es, &asn1).unwrap()[..], b"bid");
    }
}
