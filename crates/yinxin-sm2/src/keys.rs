//! Secret and public keys.

use std::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Error;
use crate::arith::{is_zero, lt};
use crate::field::FieldElement;
use crate::point::{self, Affine, Jacobian};
use crate::scalar::{N, Scalar};

/// `n - 1`: secret keys must be below it so that `1 + d` is invertible.
const N_MINUS_1: [u64; 4] = [N[0] - 1, N[1], N[2], N[3]];

/// An SM2 private key: an integer `d` in `[1, n-2]` (GM/T 0003.1 §6.1).
///
/// Zeroized on drop; `Debug` never shows the value.
#[derive(Clone)]
pub struct SecretKey {
    d: Scalar,
}

impl SecretKey {
    /// Decodes a 32-byte big-endian private key; it must be in `[1, n-2]`.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, Error> {
        let d = Scalar(crate::arith::limbs_from_be(bytes));
        if Self::in_range(&d.0).into() {
            Ok(Self { d })
        } else {
            Err(Error::InvalidSecretKey)
        }
    }

    /// Generates a key uniformly in `[1, n-2]` from the operating system's generator.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self {
            d: random_scalar_below(&N_MINUS_1)?,
        })
    }

    /// The 32-byte big-endian encoding of `d`.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.d.to_bytes())
    }

    /// The public key `P = d G` (constant time in `d`).
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_finite(&point::mul_base(&self.d))
    }

    pub(crate) fn scalar(&self) -> &Scalar {
        &self.d
    }

    /// `1 <= d < n - 1`, in constant time.
    fn in_range(d: &[u64; 4]) -> Choice {
        Choice::from((lt(d, &N_MINUS_1) & (1 ^ is_zero(d))) as u8)
    }
}

/// A uniformly random scalar in `[1, bound)`, by rejection sampling from the OS generator.
pub(crate) fn random_scalar_below(bound: &[u64; 4]) -> Result<Scalar, Error> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    loop {
        getrandom::fill(bytes.as_mut()).map_err(|_| Error::Rng)?;
        let mut k = Scalar(crate::arith::limbs_from_be(&bytes));
        // Rejection happens with probability about 2^-32 and reveals only that a discarded
        // value was out of range.
        if (lt(&k.0, bound) & (1 ^ is_zero(&k.0))) == 1 {
            return Ok(k);
        }
        k.zeroize();
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.d.zeroize();
    }
}

impl ZeroizeOnDrop for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

impl ConstantTimeEq for SecretKey {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.d.ct_eq(&other.d)
    }
}

/// An SM2 public key: a point on the curve other than the point at infinity.
///
/// Also the type of any finite curve point handed out by this crate, such as the `C1 = k G`
/// and `k P_B` points of SM2 encryption.
#[derive(Clone, Copy)]
pub struct PublicKey {
    point: Affine,
}

impl PublicKey {
    /// Decodes an SEC1 point: uncompressed `04 || x || y` (65 bytes) or compressed
    /// `02/03 || x` (33 bytes). The point must lie on the curve; infinity (`00`) and the
    /// hybrid forms (`06/07`) are rejected.
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let coordinate = |range: std::ops::Range<usize>| -> Result<FieldElement, Error> {
            let raw: &[u8; 32] = bytes
                .get(range)
                .and_then(|s| s.try_into().ok())
                .ok_or(Error::InvalidPublicKey)?;
            Option::from(FieldElement::from_bytes(raw)).ok_or(Error::InvalidPublicKey)
        };
        let point = match (bytes.first(), bytes.len()) {
            (Some(0x04), 65) => {
                let p = Affine {
                    x: coordinate(1..33)?,
                    y: coordinate(33..65)?,
                };
                if !bool::from(p.is_on_curve()) {
                    return Err(Error::InvalidPublicKey);
                }
                p
            }
            (Some(&tag @ (0x02 | 0x03)), 33) => {
                let x = coordinate(1..33)?;
                Option::from(Affine::decompress(&x, Choice::from(tag & 1)))
                    .ok_or(Error::InvalidPublicKey)?
            }
            _ => return Err(Error::InvalidPublicKey),
        };
        Ok(Self { point })
    }

    /// The uncompressed SEC1 encoding `04 || x || y`.
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out[0] = 0x04;
        out[1..33].copy_from_slice(&self.point.x.to_bytes());
        out[33..].copy_from_slice(&self.point.y.to_bytes());
        out
    }

    /// The compressed SEC1 encoding `02/03 || x`.
    pub fn to_compressed(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = 0x02 | self.point.y.is_odd().unwrap_u8();
        out[1..].copy_from_slice(&self.point.x.to_bytes());
        out
    }

    /// The big-endian `x` coordinate.
    pub fn x_bytes(&self) -> [u8; 32] {
        self.point.x.to_bytes()
    }

    /// The big-endian `y` coordinate.
    pub fn y_bytes(&self) -> [u8; 32] {
        self.point.y.to_bytes()
    }

    /// `k P` in constant time (the `[k]P_B` of SM2 encryption with an ephemeral `k`, or
    /// `[d_B]C1` of decryption). Never the point at infinity: the group has prime order and
    /// `k` is non-zero modulo `n`.
    pub fn mul_secret(&self, k: &SecretKey) -> PublicKey {
        Self::from_finite(&point::mul_ct(
            k.scalar(),
            &Jacobian::from_affine(&self.point),
        ))
    }

    pub(crate) fn affine(&self) -> &Affine {
        &self.point
    }

    /// Wraps a point known to be finite: `m P` for a finite `P` in the prime-order group and
    /// `m` in `[1, n-1]`.
    pub(crate) fn from_finite(p: &Jacobian) -> Self {
        let affine: Option<Affine> = p.to_affine().into();
        // Invariant (see callers): the point is m P with P finite and 0 < m < n, and the
        // group has prime order n, so it is never the point at infinity.
        Self {
            point: affine.unwrap_or_else(|| unreachable!("m P is finite for 0 < m < n")),
        }
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.point.ct_eq(&other.point).into()
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PublicKey(")?;
        for b in self.to_uncompressed() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}
