//! Arithmetic modulo the SM2 group order
//! `n = FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF 7203DF6B 21C6052B 53BBF409 39D54123`.
//!
//! Scalars are kept canonical (not in Montgomery form): scalar multiplication reads their bits
//! directly, and signing needs only a couple of products, each done as two Montgomery
//! multiplications. Everything is constant time except functions named `*_vartime`.

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};
use zeroize::Zeroize;

use crate::arith::{
    add_mod, hex_limbs, is_zero, limbs_from_be, limbs_to_be, lt, montgomery_reduce, mul_wide,
    neg_inv64, r2_mod, sub_if_ge, sub_mod, sub4,
};

/// The group order `n`, least significant limb first.
pub(crate) const N: [u64; 4] =
    hex_limbs("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");

/// `-n^-1 mod 2^64`.
const N_INV: u64 = neg_inv64(N[0]);

/// `2^512 mod n`.
const R2: [u64; 4] = r2_mod(&N);

/// An integer modulo `n`, canonical (`< n`).
#[derive(Clone, Copy, Default)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Scalar(pub(crate) [u64; 4]);

impl Scalar {
    /// Zero.
    #[cfg(test)]
    pub(crate) const ZERO: Self = Self([0; 4]);
    /// One.
    pub(crate) const ONE: Self = Self([1, 0, 0, 0]);

    /// Decodes a big-endian integer, `None` unless it is `< n`.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> CtOption<Self> {
        let a = limbs_from_be(bytes);
        CtOption::new(Self(a), Choice::from(lt(&a, &N) as u8))
    }

    /// Reduces a 256-bit big-endian integer (such as a hash value) modulo `n`.
    pub(crate) fn reduce_bytes(bytes: &[u8; 32]) -> Self {
        // Any 256-bit value is < 2n, so one conditional subtraction suffices.
        Self(sub_if_ge(&limbs_from_be(bytes), 0, &N))
    }

    /// Reduces a canonical field element's integer value (`< p < 2n`) modulo `n`.
    pub(crate) fn reduce_limbs(a: &[u64; 4]) -> Self {
        Self(sub_if_ge(a, 0, &N))
    }

    /// The canonical big-endian encoding.
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        limbs_to_be(&self.0)
    }

    /// `self + rhs mod n`.
    pub(crate) fn add(&self, rhs: &Self) -> Self {
        Self(add_mod(&self.0, &rhs.0, &N))
    }

    /// `self - rhs mod n`.
    pub(crate) fn sub(&self, rhs: &Self) -> Self {
        Self(sub_mod(&self.0, &rhs.0, &N))
    }

    /// `-self mod n`.
    #[cfg(test)]
    pub(crate) fn neg(&self) -> Self {
        Self::ZERO.sub(self)
    }

    /// Montgomery product `a b / 2^256 mod n`.
    #[inline]
    fn mont_mul(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
        montgomery_reduce(&mul_wide(a, b), &N, N_INV)
    }

    /// `self * rhs mod n`.
    pub(crate) fn mul(&self, rhs: &Self) -> Self {
        Self(Self::mont_mul(&Self::mont_mul(&self.0, &rhs.0), &R2))
    }

    /// `self^-1 mod n` by Fermat (`self^(n-2)`); zero maps to zero. Constant time in `self`.
    pub(crate) fn invert(&self) -> Self {
        const EXP: [u64; 4] = sub4(&N, &[2, 0, 0, 0]).0;
        let base = Self::mont_mul(&self.0, &R2); // Montgomery form
        // 4-bit fixed window over the public exponent.
        let mut table = [[0u64; 4]; 16];
        table[0] = Self::mont_mul(&[1, 0, 0, 0], &R2);
        for i in 1..16 {
            table[i] = Self::mont_mul(&table[i - 1], &base);
        }
        let mut r = table[0];
        for i in (0..64).rev() {
            for _ in 0..4 {
                r = Self::mont_mul(&r, &r);
            }
            let nibble = ((EXP[i / 16] >> ((i % 16) * 4)) & 0xF) as usize;
            r = Self::mont_mul(&r, &table[nibble]);
        }
        table.zeroize();
        // Leave Montgomery form.
        Self(Self::mont_mul(&r, &[1, 0, 0, 0]))
    }

    /// Whether the scalar is zero.
    pub(crate) fn is_zero(&self) -> Choice {
        Choice::from(is_zero(&self.0) as u8)
    }

    /// Bit `i` (0 for `i >= 256`).
    #[cfg(test)]
    pub(crate) fn bit(&self, i: usize) -> u64 {
        if i >= 256 {
            0
        } else {
            (self.0[i / 64] >> (i % 64)) & 1
        }
    }

    /// Signed Booth digits of width `w` (`2 <= w <= 8`): `count` windows
    /// `d_i in [-2^(w-1), 2^(w-1)]` with `self = sum d_i 2^(w i)`, each returned as
    /// `(|d_i|, sign bit)`. Needs `w * count >= 257`. Constant time.
    pub(crate) fn booth_digits<const COUNT: usize>(&self, w: usize) -> [(u8, u8); COUNT] {
        debug_assert!(w * COUNT >= 257 && (2..=8).contains(&w));
        // Work on 2 * self so that bit -1 (always 0) becomes bit 0; pad with zero limbs.
        let k = &self.0;
        let s = [
            k[0] << 1,
            (k[1] << 1) | (k[0] >> 63),
            (k[2] << 1) | (k[1] >> 63),
            (k[3] << 1) | (k[2] >> 63),
            k[3] >> 63,
            0,
        ];
        let half = 1u64 << (w - 1);
        let mut out = [(0u8, 0u8); COUNT];
        for (i, slot) in out.iter_mut().enumerate() {
            let pos = w * i;
            let limb = pos / 64;
            let off = pos % 64;
            let word = if limb < 5 {
                (s[limb] as u128) | ((s[limb + 1] as u128) << 64)
            } else {
                0
            };
            // Bits b_{wi-1} .. b_{wi+w-1} of self.
            let bits = ((word >> off) as u64) & ((1u64 << (w + 1)) - 1);
            let top = bits >> w;
            let low = (bits & 1) + ((bits >> 1) & (half - 1));
            let neg_mask = top.wrapping_neg();
            let abs = (low & !neg_mask) | (half.wrapping_sub(low) & neg_mask);
            *slot = (abs as u8, top as u8);
        }
        out
    }

    /// Width-`w` non-adjacent form: digit `i` is zero or odd in `(-2^(w-1), 2^(w-1))`, and
    /// `self = sum digit_i 2^i`. Variable time: only for public scalars.
    pub(crate) fn wnaf_vartime(&self, w: u32) -> [i8; 257] {
        let mut digits = [0i8; 257];
        let mut k = [self.0[0], self.0[1], self.0[2], self.0[3], 0u64];
        let window = 1u64 << w;
        let mut i = 0;
        while k.iter().any(|&l| l != 0) {
            if k[0] & 1 == 1 {
                let mut d = (k[0] & (window - 1)) as i64;
                if d >= (window / 2) as i64 {
                    d -= window as i64;
                }
                // k -= d
                if d >= 0 {
                    let (v, mut borrow) = k[0].overflowing_sub(d as u64);
                    k[0] = v;
                    for l in k.iter_mut().skip(1) {
                        if !borrow {
                            break;
                        }
                        let (v, b) = l.overflowing_sub(1);
                        *l = v;
                        borrow = b;
                    }
                } else {
                    let (v, mut carry) = k[0].overflowing_add((-d) as u64);
                    k[0] = v;
                    for l in k.iter_mut().skip(1) {
                        if !carry {
                            break;
                        }
                        let (v, c) = l.overflowing_add(1);
                        *l = v;
                        carry = c;
                    }
                }
                digits[i] = d as i8;
            }
            // k >>= 1
            for j in 0..4 {
                k[j] = (k[j] >> 1) | (k[j + 1] << 63);
            }
            k[4] >>= 1;
            i += 1;
        }
        digits
    }
}

impl ConstantTimeEq for Scalar {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0[0].ct_eq(&other.0[0])
            & self.0[1].ct_eq(&other.0[1])
            & self.0[2].ct_eq(&other.0[2])
            & self.0[3].ct_eq(&other.0[3])
    }
}

impl ConditionallySelectable for Scalar {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self([
            u64::conditional_select(&a.0[0], &b.0[0], choice),
            u64::conditional_select(&a.0[1], &b.0[1], choice),
            u64::conditional_select(&a.0[2], &b.0[2], choice),
            u64::conditional_select(&a.0[3], &b.0[3], choice),
        ])
    }
}

impl Zeroize for Scalar {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{Lcg, mul_mod_slow};

    #[test]
    fn constants() {
        assert_eq!(N_INV.wrapping_mul(N[0]), u64::MAX); // -1 mod 2^64
        assert_eq!(Scalar::ONE.invert().0, [1, 0, 0, 0]);
    }

    #[test]
    fn arithmetic_matches_reference() {
        let mut rng = Lcg::new(3);
        let n_minus_1 = Scalar([N[0] - 1, N[1], N[2], N[3]]);
        for i in 0..1000 {
            let a = if i == 0 {
                n_minus_1
            } else {
                Scalar(rng.below(&N))
            };
            let b = if i == 0 {
                n_minus_1
            } else {
                Scalar(rng.below(&N))
            };
            assert_eq!(a.mul(&b).0, mul_mod_slow(&a.0, &b.0, &N));
            assert_eq!(a.add(&b).sub(&b).0, a.0);
            assert_eq!(a.add(&a.neg()).0, [0; 4]);
            if !bool::from(a.is_zero()) {
                assert_eq!(a.mul(&a.invert()).0, [1, 0, 0, 0]);
            }
        }
        assert_eq!(n_minus_1.mul(&n_minus_1).0, [1, 0, 0, 0]);
        assert_eq!(Scalar::ZERO.invert().0, [0; 4]);
    }

    #[test]
    fn reduce_bytes() {
        assert_eq!(Scalar::reduce_bytes(&limbs_to_be(&N)).0, [0; 4]);
        assert_eq!(
            Scalar::reduce_bytes(&[0xFF; 32]).0,
            sub4(&[u64::MAX; 4], &N).0
        );
        assert!(bool::from(Scalar::from_bytes(&limbs_to_be(&N)).is_none()));
    }

    fn eval_booth(d: &[(u8, u8)], w: usize) -> [u64; 4] {
        // Horner evaluation mod n.
        let mut acc = Scalar::ZERO;
        let base = Scalar([1u64 << w, 0, 0, 0]);
        for &(abs, neg) in d.iter().rev() {
            acc = acc.mul(&base);
            let v = Scalar([abs as u64, 0, 0, 0]);
            acc = if neg == 1 { acc.sub(&v) } else { acc.add(&v) };
        }
        acc.0
    }

    #[test]
    fn booth_and_wnaf_recode() {
        let mut rng = Lcg::new(4);
        for i in 0..300 {
            let k = match i {
                0 => Scalar::ZERO,
                1 => Scalar([N[0] - 1, N[1], N[2], N[3]]),
                2 => Scalar([u64::MAX, u64::MAX, 0, 0]),
                _ => Scalar(rng.below(&N)),
            };
            let d5 = k.booth_digits::<52>(5);
            assert!(d5.iter().all(|&(a, _)| a <= 16));
            assert_eq!(eval_booth(&d5, 5), k.0);
            let d6 = k.booth_digits::<43>(6);
            assert_eq!(eval_booth(&d6, 6), k.0);
            let d7 = k.booth_digits::<37>(7);
            assert_eq!(eval_booth(&d7, 7), k.0);
            for w in [5u32, 8] {
                let naf = k.wnaf_vartime(w);
                let mut acc = Scalar::ZERO;
                let mut last_nonzero: Option<usize> = None;
                for (i, &d) in naf.iter().enumerate().rev() {
                    acc = acc.add(&acc);
                    assert!(d == 0 || (d % 2 != 0 && i32::from(d).abs() < 1 << (w - 1)));
                    if d != 0 {
                        // Non-adjacent: at least w - 1 zeros between non-zero digits.
                        assert!(last_nonzero.is_none_or(|j| j - i >= w as usize));
                        last_nonzero = Some(i);
                    }
                    let v = Scalar([d.unsigned_abs() as u64, 0, 0, 0]);
                    acc = if d < 0 { acc.sub(&v) } else { acc.add(&v) };
                }
                assert_eq!(acc.0, k.0);
            }
        }
    }
}
