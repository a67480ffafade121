//! SM2 operations: the Z value from an arbitrary-byte signer ID, signing and verifying over
//! `Z || M` with yinxin's fast constant-time arithmetic (`yinxin-sm2`), and encryption with
//! every ciphertext layout that middleware emits (RustCrypto `sm2`).

use ::sm2::elliptic_curve::sec1::ToSec1Point;
use ::sm2::pke::{Cipher, DecryptingKey, EncryptingKey, Mode};
use ::sm2::{PublicKey, SecretKey};
use sm3::{Digest, Sm3};

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

pub(crate) fn encrypt(
    public_key: &PublicKey,
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
    let mode = match format {
        Sm2CiphertextFormat::C1C2C3 => Mode::C1C2C3,
        Sm2CiphertextFormat::Asn1 | Sm2CiphertextFormat::C1C3C2 => Mode::C1C3C2,
    };
    let key = EncryptingKey::new_with_mode(*public_key, mode);
    let mut rng = getrandom::SysRng;
    let out = match format {
        Sm2CiphertextFormat::Asn1 => key.encrypt_der(&mut rng, msg),
        _ => key.encrypt(&mut rng, msg),
    };
    out.map_err(|_| Error::Random)
}

/// Decrypt any layout: GM/T 0009 ASN.1, or raw C1‖C3‖C2 / C1‖C2‖C3 with or without the
/// `0x04` prefix on C1. C3 authenticates the plaintext, so trying the layouts in turn cannot
/// accept a wrong one.
pub(crate) fn decrypt(secret: &SecretKey, ct: &[u8]) -> Result<Vec<u8>> {
    let key = DecryptingKey::new(secret.clone());
    if ct.first() == Some(&0x30)
        && let Ok(pt) = key.decrypt_der(ct)
    {
        return Ok(pt);
    }
    let mut prefixed = Vec::with_capacity(ct.len() + 1);
    prefixed.push(0x04);
    prefixed.extend_from_slice(ct);
    let candidates: [&[u8]; 2] = [ct, &prefixed];
    for raw in candidates {
        for mode in [Mode::C1C3C2, Mode::C1C2C3] {
            if let Ok(cipher) = Cipher::<::sm2::Sm2, Sm3>::from_slice(raw, mode)
                && let Ok(pt) = key.decrypt_cipher(&cipher)
            {
                return Ok(pt);
            }
        }
    }
    Err(Error::DecryptionFailed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::sm2::elliptic_curve::sec1::FromSec1Point;

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
        let _ = ::sm2::AffinePoint::from_sec1_point;
    }
}
