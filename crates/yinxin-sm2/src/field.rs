//! Arithmetic in GF(p) for the SM2 prime
//! `p = 2^256 - 2^224 - 2^96 + 2^64 - 1`
//! (`FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 00000000 FFFFFFFF FFFFFFFF`).
//!
//! Elements are kept fully reduced in Montgomery form (`a * 2^256 mod p`) in four 64-bit limbs.
//! Because `p ≡ -1 (mod 2^64)`, the Montgomery factor `-p^-1 mod 2^64` is 1 and each reduction
//! step needs no multiplication: adding `m * p` is a handful of shifts and subtractions. Every
//! operation here is constant time except those named `*_vartime`.

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};

use crate::arith::{
    adc, add4, hex_limbs, is_zero, limbs_from_be, limbs_to_be, lt, mul_wide, r2_mod, sbb,
    square_wide, sub_if_ge,
};

/// The field prime `p`, least significant limb first.
pub(crate) const P: [u64; 4] = [
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFF_0000_0000,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFE_FFFF_FFFF,
];

/// `2^256 - p = 2^224 + 2^96 - 2^64 + 1`.
const TWO_256_MINUS_P: [u64; 4] = [1, 0xFFFF_FFFF, 0, 0x1_0000_0000];

/// `2^512 mod p`, to enter the Montgomery domain.
const R2: [u64; 4] = r2_mod(&P);

/// An element of GF(p) in Montgomery form, fully reduced.
#[derive(Clone, Copy, Default)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct FieldElement(pub(crate) [u64; 4]);

/// One Montgomery reduction step specialised to the shape of `p`: returns `(r + m p) / 2^64`
/// with `m = r[0]`. The value stays below `2^256` for every `r < 2^256`.
#[inline(always)]
const fn reduce_step(r: [u64; 4]) -> [u64; 4] {
    let m = r[0];
    // (m p + m) / 2^64 = m + m 2^192 - m 2^32 - m 2^160, as limbs:
    // [m, 0, 0, m] - [m << 32, m >> 32, m << 32, m >> 32]
    let (a0, b) = sbb(m, m << 32, 0);
    let (a1, b) = sbb(0, m >> 32, b);
    let (a2, b) = sbb(0, m << 32, b);
    let (a3, _) = sbb(m, m >> 32, b);
    // (r - m) / 2^64 = [r1, r2, r3, 0]; the sum is < 2^192 + p + 1 < 2^256.
    let (n0, c) = adc(r[1], a0, 0);
    let (n1, c) = adc(r[2], a1, c);
    let (n2, c) = adc(r[3], a2, c);
    [n0, n1, n2, a3.wrapping_add(c)]
}

/// Montgomery reduction `t / 2^256 mod p` for `t < p^2`.
#[inline(always)]
const fn reduce(t: &[u64; 8]) -> [u64; 4] {
    let mut r = [t[0], t[1], t[2], t[3]];
    r = reduce_step(r);
    r = reduce_step(r);
    r = reduce_step(r);
    r = reduce_step(r);
    // r <= p and the high half is < p, so the sum is < 2p.
    let (s, c) = add4(&r, &[t[4], t[5], t[6], t[7]]);
    sub_if_ge(&s, c, &P)
}

impl FieldElement {
    /// Zero.
    pub(crate) const ZERO: Self = Self([0; 4]);
    /// One (`2^256 mod p` in Montgomery form).
    pub(crate) const ONE: Self = Self::from_canonical_const([1, 0, 0, 0]);

    /// Converts a canonical integer `< p` into Montgomery form.
    pub(crate) const fn from_canonical_const(a: [u64; 4]) -> Self {
        Self(reduce(&mul_wide(&a, &R2)))
    }

    /// Parses 64 big-endian hex digits at compile time (the value must be `< p`).
    pub(crate) const fn from_hex(s: &str) -> Self {
        Self::from_canonical_const(hex_limbs(s))
    }

    /// Decodes a big-endian integer, `None` unless it is `< p`.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> CtOption<Self> {
        let a = limbs_from_be(bytes);
        let ok = Choice::from(lt(&a, &P) as u8);
        CtOption::new(Self::from_canonical_const(a), ok)
    }

    /// The canonical big-endian encoding.
    pub(crate) fn to_bytes(self) -> [u8; 32] {
        limbs_to_be(&self.to_canonical())
    }

    /// The canonical integer (out of Montgomery form).
    #[inline]
    pub(crate) const fn to_canonical(self) -> [u64; 4] {
        let a = self.0;
        reduce(&[a[0], a[1], a[2], a[3], 0, 0, 0, 0])
    }

    /// `self * rhs`.
    #[inline(always)]
    pub(crate) const fn mul(&self, rhs: &Self) -> Self {
        Self(reduce(&mul_wide(&self.0, &rhs.0)))
    }

    /// `self^2`.
    #[inline(always)]
    pub(crate) const fn square(&self) -> Self {
        Self(reduce(&square_wide(&self.0)))
    }

    /// `self^(2^k)`.
    #[inline]
    pub(crate) fn sqn(&self, k: u32) -> Self {
        let mut r = *self;
        for _ in 0..k {
            r = r.square();
        }
        r
    }

    /// `self + rhs`.
    #[inline(always)]
    pub(crate) const fn add(&self, rhs: &Self) -> Self {
        // s = a + b; t = s + (2^256 - p) carries out exactly when s >= p, and then t = s - p.
        let (s, c1) = add4(&self.0, &rhs.0);
        let (t, c2) = add4(&s, &TWO_256_MINUS_P);
        let k = crate::arith::mask(c1 | c2);
        Self([
            (t[0] & k) | (s[0] & !k),
            (t[1] & k) | (s[1] & !k),
            (t[2] & k) | (s[2] & !k),
            (t[3] & k) | (s[3] & !k),
        ])
    }

    /// `self - rhs`.
    #[inline(always)]
    pub(crate) const fn sub(&self, rhs: &Self) -> Self {
        // d = a - b; on borrow, add p, i.e. subtract 2^256 - p modulo 2^256.
        let (d, bw) = crate::arith::sub4(&self.0, &rhs.0);
        let k = crate::arith::mask(bw);
        let c = &TWO_256_MINUS_P;
        Self(crate::arith::sub4(&d, &[c[0] & k, c[1] & k, c[2] & k, c[3] & k]).0)
    }

    /// `2 * self`.
    #[inline(always)]
    pub(crate) const fn double(&self) -> Self {
        self.add(self)
    }

    /// `self / 2`.
    #[inline(always)]
    pub(crate) const fn half(&self) -> Self {
        let a = &self.0;
        let k = crate::arith::mask(a[0] & 1);
        // a + (p if a is odd): even, at most 257 bits.
        let (s, c) = add4(a, &[P[0] & k, P[1] & k, P[2] & k, P[3] & k]);
        Self([
            (s[0] >> 1) | (s[1] << 63),
            (s[1] >> 1) | (s[2] << 63),
            (s[2] >> 1) | (s[3] << 63),
            (s[3] >> 1) | (c << 63),
        ])
    }

    /// `-self`.
    #[inline(always)]
    pub(crate) const fn neg(&self) -> Self {
        Self::ZERO.sub(self)
    }

    /// Whether the element is zero.
    #[inline]
    pub(crate) fn is_zero(&self) -> Choice {
        Choice::from(is_zero(&self.0) as u8)
    }

    /// `self^-1` by Fermat (`self^(p-2)`); zero maps to zero.
    pub(crate) fn invert(&self) -> Self {
        // p - 2 = FFFFFFFE FFFFFFFF FFFFFFFF FFFFFFFF FFFFFFFF 00000000 FFFFFFFF FFFFFFFD:
        // 31 ones, 0, 128 ones, 32 zeros, 62 ones, 0, 1. x_k below is self^(2^k - 1).
        let x1 = *self;
        let x2 = x1.square().mul(&x1);
        let x3 = x2.square().mul(&x1);
        let x6 = x3.sqn(3).mul(&x3);
        let x12 = x6.sqn(6).mul(&x6);
        let x24 = x12.sqn(12).mul(&x12);
        let x30 = x24.sqn(6).mul(&x6);
        let x31 = x30.square().mul(&x1);
        let x32 = x31.square().mul(&x1);
        let mut t = x31.square(); // 31 ones, 0
        t = t.sqn(32).mul(&x32);
        t = t.sqn(32).mul(&x32);
        t = t.sqn(32).mul(&x32);
        t = t.sqn(32).mul(&x32); // 128 ones
        t = t.sqn(32); // 32 zeros
        t = t.sqn(32).mul(&x32); // 32 ones
        t = t.sqn(30).mul(&x30); // 30 ones
        t.sqn(2).mul(&x1) // 0, 1
    }

    /// `self^exp` where the exponent is public (time depends on `exp` only).
    pub(crate) fn pow_vartime(&self, exp: &[u64; 4]) -> Self {
        let mut r = Self::ONE;
        for i in (0..256).rev() {
            r = r.square();
            if (exp[i / 64] >> (i % 64)) & 1 == 1 {
                r = r.mul(self);
            }
        }
        r
    }

    /// A square root, if one exists (`p ≡ 3 mod 4`, so it is `self^((p+1)/4)`).
    pub(crate) fn sqrt(&self) -> CtOption<Self> {
        const EXP: [u64; 4] =
            hex_limbs("3FFFFFFFBFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC00000004000000000000000");
        let r = self.pow_vartime(&EXP);
        CtOption::new(r, r.square().ct_eq(self))
    }

    /// Whether the canonical value is odd.
    pub(crate) fn is_odd(&self) -> Choice {
        Choice::from((self.to_canonical()[0] & 1) as u8)
    }
}

impl ConstantTimeEq for FieldElement {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0[0].ct_eq(&other.0[0])
            & self.0[1].ct_eq(&other.0[1])
            & self.0[2].ct_eq(&other.0[2])
            & self.0[3].ct_eq(&other.0[3])
    }
}

impl ConditionallySelectable for FieldElement {
    #[inline(always)]
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self([
            u64::conditional_select(&a.0[0], &b.0[0], choice),
            u64::conditional_select(&a.0[1], &b.0[1], choice),
            u64::conditional_select(&a.0[2], &b.0[2], choice),
            u64::conditional_select(&a.0[3], &b.0[3], choice),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{Lcg, mul_mod_slow};

    fn canon(a: &FieldElement) -> [u64; 4] {
        a.to_canonical()
    }

    #[test]
    fn constants() {
        assert_eq!(canon(&FieldElement::ONE), [1, 0, 0, 0]);
        // R mod p = 2^224 + 2^96 - 2^64 + 1
        assert_eq!(FieldElement::ONE.0, [1, 0xFFFF_FFFF, 0, 0x1_0000_0000]);
        let minus_one = FieldElement::ONE.neg();
        assert_eq!(canon(&minus_one), [P[0] - 1, P[1], P[2], P[3]]);
    }

    #[test]
    fn arithmetic_matches_reference() {
        let mut rng = Lcg::new(1);
        let edge = [
            [0u64; 4],
            [1, 0, 0, 0],
            [P[0] - 1, P[1], P[2], P[3]],
            [u64::MAX, 0, 0, 0],
        ];
        for i in 0..2000 {
            let a = if i < 4 { edge[i] } else { rng.below(&P) };
            let b = if i < 4 { edge[3 - i] } else { rng.below(&P) };
            let fa = FieldElement::from_canonical_const(a);
            let fb = FieldElement::from_canonical_const(b);
            assert_eq!(canon(&fa), a);
            assert_eq!(canon(&fa.mul(&fb)), mul_mod_slow(&a, &b, &P));
            assert_eq!(canon(&fa.square()), mul_mod_slow(&a, &a, &P));
            assert_eq!(canon(&fa.add(&fb).sub(&fb)), a);
            assert_eq!(canon(&fa.add(&fa.neg())), [0; 4]);
            assert_eq!(canon(&fa.half().double()), a);
            if is_zero(&a) == 0 {
                assert_eq!(canon(&fa.mul(&fa.invert())), [1, 0, 0, 0]);
                let sq = fa.square();
                let root = sq.sqrt().unwrap();
                assert!(bool::from(root.ct_eq(&fa) | root.ct_eq(&fa.neg())));
            }
        }
        assert_eq!(canon(&FieldElement::ZERO.invert()), [0; 4]);
    }

    #[test]
    fn bytes_roundtrip_and_range() {
        let mut rng = Lcg::new(2);
        for _ in 0..100 {
            let a = rng.below(&P);
            let bytes = limbs_to_be(&a);
            let fe = FieldElement::from_bytes(&bytes).unwrap();
            assert_eq!(fe.to_bytes(), bytes);
        }
        assert!(bool::from(
            FieldElement::from_bytes(&limbs_to_be(&P)).is_none()
        ));
        assert!(bool::from(FieldElement::from_bytes(&[0xFF; 32]).is_none()));
    }
}
