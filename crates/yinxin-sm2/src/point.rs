//! Points on the SM2 curve `y^2 = x^3 - 3x + b` over GF(p).
//!
//! * [`Affine`] is a finite point `(x, y)`; the point at infinity is never an `Affine`.
//! * [`Jacobian`] is `(X, Y, Z)` standing for `(X/Z^2, Y/Z^3)`; `Z = 0` is the point at
//!   infinity.
//!
//! Three multiplication strategies:
//!
//! * [`mul_base`] (`k G`, secret `k`, constant time): a table of `j 2^(W i) G` for every window
//!   `i` and `1 <= j <= 2^(W-1)` (signed Booth digits), so no doublings at all: one full table
//!   row scan with masks and one mixed addition per window.
//! * [`mul_ct`] (`k P`, secret `k`, constant time): signed 5-bit windows over 16 multiples of
//!   `P`, complete additions, full table scans.
//! * [`lincomb_vartime`] and [`lincomb_split_vartime`] (`s G + t P` for verification, public
//!   inputs): interleaved NAFs sharing the doublings, either over the whole 256 bits or, with a
//!   precomputed table for `P`, over four 64-bit parts.

use std::sync::OnceLock;

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq, CtOption};

use crate::field::FieldElement;
use crate::scalar::Scalar;

/// The curve coefficient `b`.
pub(crate) const B: FieldElement =
    FieldElement::from_hex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");

/// The base point `G`.
pub(crate) const G: Affine = Affine {
    x: FieldElement::from_hex("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"),
    y: FieldElement::from_hex("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"),
};

/// Booth window width of the fixed-base table.
const W: usize = 6;
/// Table entries per window: multiples `1 ..= 2^(W-1)`.
const HALF: usize = 1 << (W - 1);
/// Number of windows: `W * WINDOWS >= 257` (256 bits plus the final Booth carry).
const WINDOWS: usize = 257_usize.div_ceil(W);

/// A finite curve point in affine coordinates.
#[derive(Clone, Copy, Default)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Affine {
    pub(crate) x: FieldElement,
    pub(crate) y: FieldElement,
}

impl Affine {
    /// Whether `(x, y)` satisfies the curve equation.
    pub(crate) fn is_on_curve(&self) -> Choice {
        let x2 = self.x.square();
        // x^3 - 3x + b = (x^2 - 3) x + b
        let three = FieldElement::ONE.double().add(&FieldElement::ONE);
        let rhs = x2.sub(&three).mul(&self.x).add(&B);
        self.y.square().ct_eq(&rhs)
    }

    /// `-self`.
    pub(crate) fn neg(&self) -> Self {
        Self {
            x: self.x,
            y: self.y.neg(),
        }
    }

    /// The point with the given `x` and the `y` whose parity is `y_is_odd`, if any.
    pub(crate) fn decompress(x: &FieldElement, y_is_odd: Choice) -> CtOption<Self> {
        let three = FieldElement::ONE.double().add(&FieldElement::ONE);
        let rhs = x.square().sub(&three).mul(x).add(&B);
        rhs.sqrt().map(|y| {
            let flip = y.is_odd() ^ y_is_odd;
            Self {
                x: *x,
                y: FieldElement::conditional_select(&y, &y.neg(), flip),
            }
        })
    }
}

impl ConditionallySelectable for Affine {
    #[inline(always)]
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self {
            x: FieldElement::conditional_select(&a.x, &b.x, choice),
            y: FieldElement::conditional_select(&a.y, &b.y, choice),
        }
    }
}

impl ConstantTimeEq for Affine {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.x.ct_eq(&other.x) & self.y.ct_eq(&other.y)
    }
}

/// A curve point in Jacobian coordinates; `Z = 0` is the point at infinity.
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug))]
pub(crate) struct Jacobian {
    pub(crate) x: FieldElement,
    pub(crate) y: FieldElement,
    pub(crate) z: FieldElement,
}

impl Jacobian {
    /// The point at infinity.
    pub(crate) const IDENTITY: Self = Self {
        x: FieldElement::ONE,
        y: FieldElement::ONE,
        z: FieldElement::ZERO,
    };

    /// `(x, y, 1)`.
    pub(crate) const fn from_affine(p: &Affine) -> Self {
        Self {
            x: p.x,
            y: p.y,
            z: FieldElement::ONE,
        }
    }

    /// Whether this is the point at infinity.
    pub(crate) fn is_identity(&self) -> Choice {
        self.z.is_zero()
    }

    /// `-self`.
    pub(crate) fn neg(&self) -> Self {
        Self {
            x: self.x,
            y: self.y.neg(),
            z: self.z,
        }
    }

    /// `2 self` for `a = -3` (4M + 4S, few additions): with `alpha = 3 (X - Z^2)(X + Z^2)` and
    /// `beta' = 4 X Y^2`, `X3 = alpha^2 - 2 beta'`, `Y3 = alpha (beta' - X3) - 8 Y^4`,
    /// `Z3 = 2 Y Z`. Infinity maps to infinity; there are no points of order 2 on the curve, so
    /// this is complete.
    #[inline]
    pub(crate) fn double(&self) -> Self {
        let y2 = self.y.double();
        let delta = self.z.square();
        let gamma4 = y2.square(); // 4 Y^2
        let beta4 = self.x.mul(&gamma4); // 4 X Y^2
        let t = self.x.sub(&delta).mul(&self.x.add(&delta));
        let alpha = t.double().add(&t);
        let x3 = alpha.square().sub(&beta4.double());
        let z3 = y2.mul(&self.z);
        let y3 = alpha.mul(&beta4.sub(&x3)).sub(&gamma4.square().half()); // 16 Y^4 / 2
        Self {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// `self + q` by madd-2007-bl (7M + 4S), valid when `self` is finite and `self != q`.
    /// Also returns whether `H = 0` and `r = 0` (that is, `self == q`: the formula fails).
    /// For `self == -q` it correctly gives `Z = 0`.
    #[inline]
    fn add_mixed_formula(&self, q: &Affine) -> (Self, Choice) {
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let r = s2.sub(&self.y).double();
        let v = self.x.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&self.y.mul(&j).double());
        let z3 = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        (
            Self {
                x: x3,
                y: y3,
                z: z3,
            },
            h.is_zero() & r.is_zero(),
        )
    }

    /// `self + q` (or `self` if `q_is_identity`) in constant time, for the fixed-base comb.
    ///
    /// Handles `self` at infinity and `self == -q`. It does not handle `self == q`: the callers
    /// guarantee that case cannot occur (see [`mul_base`]).
    #[inline]
    fn add_mixed_ct(&self, q: &Affine, q_is_identity: Choice) -> Self {
        let (sum, _) = self.add_mixed_formula(q);
        let sum = Self::conditional_select(&sum, &Self::from_affine(q), self.is_identity());
        Self::conditional_select(&sum, self, q_is_identity)
    }

    /// `self + q` by add-2007-bl (11M + 5S), valid when both are finite and `self != q`. Also
    /// returns whether `self == q` (the formula fails there).
    #[inline]
    fn add_formula(&self, q: &Self) -> (Self, Choice) {
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = q.x.mul(&z1z1);
        let s1 = self.y.mul(&q.z).mul(&z2z2);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let i = h.double().square();
        let j = h.mul(&i);
        let r = s2.sub(&s1).double();
        let v = u1.mul(&i);
        let x3 = r.square().sub(&j).sub(&v.double());
        let y3 = r.mul(&v.sub(&x3)).sub(&s1.mul(&j).double());
        let z3 = self.z.add(&q.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
        (
            Self {
                x: x3,
                y: y3,
                z: z3,
            },
            h.is_zero() & r.is_zero(),
        )
    }

    /// `self + q` for any two points, in constant time (computes the doubling too and selects).
    pub(crate) fn add_complete_ct(&self, q: &Self) -> Self {
        let (sum, same) = self.add_formula(q);
        let dbl = self.double();
        let mut out = Self::conditional_select(&sum, &dbl, same);
        out = Self::conditional_select(&out, q, self.is_identity());
        Self::conditional_select(&out, self, q.is_identity())
    }

    /// `self + q` for any two points, variable time (public points only).
    pub(crate) fn add_vartime(&self, q: &Self) -> Self {
        if bool::from(self.is_identity()) {
            return *q;
        }
        if bool::from(q.is_identity()) {
            return *self;
        }
        let (sum, same) = self.add_formula(q);
        if bool::from(same) { self.double() } else { sum }
    }

    /// `self + q` for a finite affine `q`, variable time (public points only).
    pub(crate) fn add_mixed_vartime(&self, q: &Affine) -> Self {
        if bool::from(self.is_identity()) {
            return Self::from_affine(q);
        }
        let (sum, same) = self.add_mixed_formula(q);
        if bool::from(same) { self.double() } else { sum }
    }

    /// The affine point, or `None` at infinity. One field inversion.
    pub(crate) fn to_affine(self) -> CtOption<Affine> {
        let zinv = self.z.invert();
        let zinv2 = zinv.square();
        let x = self.x.mul(&zinv2);
        let y = self.y.mul(&zinv2).mul(&zinv);
        CtOption::new(Affine { x, y }, !self.is_identity())
    }

    /// Converts many finite points to affine with a single inversion (variable time in the
    /// number of points only; the points must be finite).
    fn batch_to_affine(points: &[Self]) -> Vec<Affine> {
        let mut prefix = Vec::with_capacity(points.len());
        let mut acc = FieldElement::ONE;
        for p in points {
            prefix.push(acc);
            acc = acc.mul(&p.z);
        }
        let mut inv = acc.invert();
        let mut out = vec![Affine::default(); points.len()];
        for (i, p) in points.iter().enumerate().rev() {
            let zinv = inv.mul(&prefix[i]);
            inv = inv.mul(&p.z);
            let zinv2 = zinv.square();
            out[i] = Affine {
                x: p.x.mul(&zinv2),
                y: p.y.mul(&zinv2).mul(&zinv),
            };
        }
        out
    }
}

impl ConditionallySelectable for Jacobian {
    #[inline(always)]
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self {
            x: FieldElement::conditional_select(&a.x, &b.x, choice),
            y: FieldElement::conditional_select(&a.y, &b.y, choice),
            z: FieldElement::conditional_select(&a.z, &b.z, choice),
        }
    }
}

/// `table[i][j] = (j + 1) 2^(W i) G`.
type BaseTable = [[Affine; HALF]; WINDOWS];

/// The fixed-base table, built on first use (about a millisecond).
fn base_table() -> &'static BaseTable {
    static TABLE: OnceLock<Box<BaseTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut points = Vec::with_capacity(WINDOWS * HALF);
        let mut base = Jacobian::from_affine(&G);
        for _ in 0..WINDOWS {
            let mut acc = base;
            points.push(acc);
            for _ in 1..HALF {
                acc = acc.add_vartime(&base);
                points.push(acc);
            }
            for _ in 0..W {
                base = base.double();
            }
        }
        let affine = Jacobian::batch_to_affine(&points);
        let mut table: Box<BaseTable> = vec![[Affine::default(); HALF]; WINDOWS]
            .into_boxed_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!("the vector has exactly WINDOWS rows"));
        for (i, row) in table.iter_mut().enumerate() {
            row.copy_from_slice(&affine[i * HALF..(i + 1) * HALF]);
        }
        table
    })
}

/// `row[index - 1]`, or all zeros for `index == 0`, reading every entry (constant time).
#[inline(always)]
fn lookup(row: &[Affine; HALF], index: u8) -> Affine {
    let mut acc = [0u64; 8];
    for (j, candidate) in row.iter().enumerate() {
        // All-ones exactly when index == j + 1, computed without comparisons. The barrier stops
        // the optimiser from turning the masked loads into a branch on the secret index (which
        // it otherwise does).
        let diff = u64::from(index ^ (j as u8 + 1));
        let m = std::hint::black_box((diff.wrapping_sub(1) >> 63).wrapping_neg());
        let words = [candidate.x.0, candidate.y.0];
        for (k, w) in words.iter().flatten().enumerate() {
            acc[k] |= w & m;
        }
    }
    Affine {
        x: FieldElement([acc[0], acc[1], acc[2], acc[3]]),
        y: FieldElement([acc[4], acc[5], acc[6], acc[7]]),
    }
}

/// Builds the generator tables now rather than on first use.
pub(crate) fn precompute() {
    let _ = base_table();
    let _ = g_odd_multiples();
    let _ = g_split_table();
}

/// `k G` in constant time.
///
/// With Booth digits `d_i`, the accumulator before window `i` is `a G` with
/// `|a| < 2^(W i)` while the added point is `d_i 2^(W i) G` with `|d_i| >= 1`; for `k < n`
/// these are never equal modulo `n` (the only candidate, in the top window, would need
/// `k >= n`), so the mixed addition never meets the doubling case. The accumulator may be at
/// infinity (all lower digits zero) or the sum may be infinity only for `k = 0`; both are
/// handled by conditional selects.
pub(crate) fn mul_base(k: &Scalar) -> Jacobian {
    let table = base_table();
    let digits = k.booth_digits::<WINDOWS>(W);
    let mut acc = Jacobian::IDENTITY;
    for (row, &(abs, neg)) in table.iter().zip(digits.iter()) {
        let mut entry = lookup(row, abs);
        let neg_y = entry.y.neg();
        entry.y.conditional_assign(&neg_y, Choice::from(neg));
        acc = acc.add_mixed_ct(&entry, abs.ct_eq(&0));
    }
    acc
}

/// `k P` in constant time for any point `P` (signed 5-bit windows over a 16-entry table,
/// complete additions).
pub(crate) fn mul_ct(k: &Scalar, p: &Jacobian) -> Jacobian {
    const PW: usize = 5;
    const PWINDOWS: usize = 257_usize.div_ceil(PW);
    let mut table = [*p; 16];
    for i in 1..16 {
        table[i] = if i % 2 == 1 {
            table[i / 2].double()
        } else {
            table[i - 1].add_complete_ct(p)
        };
    }
    let digits = k.booth_digits::<PWINDOWS>(PW);
    let mut acc = Jacobian::IDENTITY;
    for (i, &(abs, neg)) in digits.iter().enumerate().rev() {
        if i != PWINDOWS - 1 {
            for _ in 0..PW {
                acc = acc.double();
            }
        }
        let mut entry = Jacobian::IDENTITY;
        for (j, candidate) in table.iter().enumerate() {
            entry.conditional_assign(candidate, abs.ct_eq(&(j as u8 + 1)));
        }
        let neg_entry = entry.neg();
        entry.conditional_assign(&neg_entry, Choice::from(neg));
        acc = acc.add_complete_ct(&entry);
    }
    acc
}

/// Width of the NAF used for `G` in verification.
const G_NAF_WIDTH: u32 = 8;

/// `G, 3G, 5G, ..., (2^(G_NAF_WIDTH-1) - 1) G` in affine form, built on first use.
fn g_odd_multiples() -> &'static [Affine] {
    static TABLE: OnceLock<Vec<Affine>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let g = Jacobian::from_affine(&G);
        let g2 = g.double();
        let mut points = vec![g];
        for i in 1..1usize << (G_NAF_WIDTH - 2) {
            points.push(points[i - 1].add_vartime(&g2));
        }
        Jacobian::batch_to_affine(&points)
    })
}

/// `s G + t P`, variable time (verification: all inputs public).
///
/// Interleaved (Straus) evaluation sharing 256 doublings: `t` as a width-5 NAF over
/// `P, 3P, ..., 15P` (Jacobian, computed here), `s` as a width-8 NAF over a static affine table
/// of odd multiples of `G`.
pub(crate) fn lincomb_vartime(s: &Scalar, t: &Scalar, p: &Affine) -> Jacobian {
    let pj = Jacobian::from_affine(p);
    let p2 = pj.double();
    let mut odd_p = [pj; 8];
    for i in 1..8 {
        odd_p[i] = odd_p[i - 1].add_vartime(&p2);
    }
    let odd_g = g_odd_multiples();
    let naf_t = t.wnaf_vartime(5);
    let naf_s = s.wnaf_vartime(G_NAF_WIDTH);
    let top = (0..257).rev().find(|&i| naf_t[i] != 0 || naf_s[i] != 0);
    let Some(top) = top else {
        return Jacobian::IDENTITY;
    };
    let mut acc = Jacobian::IDENTITY;
    for i in (0..=top).rev() {
        acc = acc.double();
        let d = naf_t[i];
        if d != 0 {
            let e = odd_p[(d.unsigned_abs() / 2) as usize];
            acc = acc.add_vartime(&if d < 0 { e.neg() } else { e });
        }
        let d = naf_s[i];
        if d != 0 {
            let e = odd_g[(d.unsigned_abs() / 2) as usize];
            acc = acc.add_mixed_vartime(&if d < 0 { e.neg() } else { e });
        }
    }
    acc
}

/// NAF width for the public key's split tables in [`lincomb_split_vartime`].
pub(crate) const SPLIT_P_WIDTH: u32 = 5;
/// Odd multiples per part of a public key's split table.
pub(crate) const SPLIT_P_ENTRIES: usize = 1 << (SPLIT_P_WIDTH - 2);
/// Odd multiples per part of the generator's split table.
const SPLIT_G_ENTRIES: usize = 1 << (G_NAF_WIDTH - 2);

/// For `i = 0..4`, the odd multiples `Q_i, 3 Q_i, ...` of `Q_i = 2^(64 i) Q`, in affine form.
pub(crate) type SplitTable<const M: usize> = [[Affine; M]; 4];

/// Builds a [`SplitTable`] for a finite point of the prime-order group (variable time).
pub(crate) fn split_table<const M: usize>(q: &Affine) -> Box<SplitTable<M>> {
    let mut points = Vec::with_capacity(4 * M);
    let mut base = Jacobian::from_affine(q);
    for part in 0..4 {
        let twice = base.double();
        let mut acc = base;
        points.push(acc);
        for _ in 1..M {
            acc = acc.add_vartime(&twice);
            points.push(acc);
        }
        if part < 3 {
            for _ in 0..64 {
                base = base.double();
            }
        }
    }
    let affine = Jacobian::batch_to_affine(&points);
    let mut table: Box<SplitTable<M>> = Box::new([[Affine::default(); M]; 4]);
    for (i, part) in table.iter_mut().enumerate() {
        part.copy_from_slice(&affine[i * M..(i + 1) * M]);
    }
    table
}

/// The generator's [`SplitTable`], built on first use.
fn g_split_table() -> &'static SplitTable<SPLIT_G_ENTRIES> {
    static TABLE: OnceLock<Box<SplitTable<SPLIT_G_ENTRIES>>> = OnceLock::new();
    TABLE.get_or_init(|| split_table(&G))
}

/// `s G + t P` with precomputed split tables for `P`, variable time.
///
/// Both scalars are cut into four 64-bit limbs, each recoded as a NAF, so the four parts share
/// only 65 doublings; all additions are mixed (affine tables).
pub(crate) fn lincomb_split_vartime(
    s: &Scalar,
    t: &Scalar,
    p_table: &SplitTable<SPLIT_P_ENTRIES>,
) -> Jacobian {
    let g_table = g_split_table();
    let naf_t = [0, 1, 2, 3].map(|i| Scalar([t.0[i], 0, 0, 0]).wnaf_vartime(SPLIT_P_WIDTH));
    let naf_s = [0, 1, 2, 3].map(|i| Scalar([s.0[i], 0, 0, 0]).wnaf_vartime(G_NAF_WIDTH));
    let mut acc = Jacobian::IDENTITY;
    let mut started = false;
    for pos in (0..=64).rev() {
        if started {
            acc = acc.double();
        }
        for part in 0..4 {
            let d = naf_t[part][pos];
            if d != 0 {
                let e = p_table[part][(d.unsigned_abs() / 2) as usize];
                acc = acc.add_mixed_vartime(&if d < 0 { e.neg() } else { e });
                started = true;
            }
            let d = naf_s[part][pos];
            if d != 0 {
                let e = g_table[part][(d.unsigned_abs() / 2) as usize];
                acc = acc.add_mixed_vartime(&if d < 0 { e.neg() } else { e });
                started = true;
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::N;
    use crate::test_util::Lcg;

    fn affine(p: &Jacobian) -> Affine {
        p.to_affine().unwrap()
    }

    fn same(a: &Jacobian, b: &Jacobian) -> bool {
        match (bool::from(a.is_identity()), bool::from(b.is_identity())) {
            (true, true) => true,
            (false, false) => bool::from(affine(a).ct_eq(&affine(b))),
            _ => false,
        }
    }

    /// Double-and-add with the vartime addition: the slow reference.
    fn mul_reference(k: &Scalar, p: &Jacobian) -> Jacobian {
        let mut acc = Jacobian::IDENTITY;
        for i in (0..256).rev() {
            acc = acc.double();
            if k.bit(i) == 1 {
                acc = acc.add_vartime(p);
            }
        }
        acc
    }

    #[test]
    fn generator_and_b_on_curve() {
        assert!(bool::from(G.is_on_curve()));
        assert!(!bool::from(
            Affine {
                x: G.x,
                y: G.y.add(&FieldElement::ONE)
            }
            .is_on_curve()
        ));
        let g = Jacobian::from_affine(&G);
        let n_minus_1 = Scalar([N[0] - 1, N[1], N[2], N[3]]);
        // (n-1) G = -G, and n G = infinity.
        assert!(bool::from(affine(&mul_base(&n_minus_1)).ct_eq(&G.neg())));
        assert!(bool::from(
            mul_base(&n_minus_1).add_vartime(&g).is_identity()
        ));
        assert!(bool::from(affine(&mul_base(&Scalar::ONE)).ct_eq(&G)));
        assert!(bool::from(mul_base(&Scalar::ZERO).is_identity()));
        assert!(bool::from(mul_ct(&Scalar::ZERO, &g).is_identity()));
        assert!(bool::from(
            mul_ct(&n_minus_1, &g).add_complete_ct(&g).is_identity()
        ));
    }

    #[test]
    fn addition_edge_cases() {
        let g = Jacobian::from_affine(&G);
        let g2 = g.double();
        assert!(same(&g.add_vartime(&g), &g2));
        assert!(same(&g.add_complete_ct(&g), &g2));
        assert!(same(&g.add_complete_ct(&Jacobian::IDENTITY), &g));
        assert!(same(&Jacobian::IDENTITY.add_complete_ct(&g), &g));
        assert!(bool::from(g.add_complete_ct(&g.neg()).is_identity()));
        assert!(bool::from(g.add_vartime(&g.neg()).is_identity()));
        assert!(bool::from(g.add_mixed_vartime(&G.neg()).is_identity()));
        assert!(bool::from(
            g.add_mixed_ct(&G.neg(), Choice::from(0)).is_identity()
        ));
        assert!(same(&g.add_mixed_vartime(&G), &g2));
        assert!(bool::from(Jacobian::IDENTITY.double().is_identity()));
        // A non-normalised Z.
        let g3 = g2.add_vartime(&g);
        assert!(same(&g3.add_vartime(&g3), &g3.double()));
        assert!(same(&g3.add_complete_ct(&g3), &g3.double()));
        assert!(bool::from(g3.add_complete_ct(&g3.neg()).is_identity()));
        let on = affine(&g3);
        assert!(bool::from(on.is_on_curve()));
        let dec = Affine::decompress(&on.x, on.y.is_odd()).unwrap();
        assert!(bool::from(dec.ct_eq(&on)));
    }

    #[test]
    fn multiplications_agree() {
        let mut rng = Lcg::new(5);
        let g = Jacobian::from_affine(&G);
        for i in 0..40 {
            let k = Scalar(rng.below(&N));
            let t = Scalar(rng.below(&N));
            let reference = mul_reference(&k, &g);
            assert!(same(&mul_base(&k), &reference), "mul_base {i}");
            assert!(same(&mul_ct(&k, &g), &reference), "mul_ct {i}");
            let p = affine(&mul_base(&t));
            let tp = mul_reference(&t, &Jacobian::from_affine(&p));
            let lc = lincomb_vartime(&k, &t, &p);
            let expect = reference.add_vartime(&tp);
            assert!(same(&lc, &expect), "lincomb {i}");
            let table = split_table::<SPLIT_P_ENTRIES>(&p);
            assert!(
                same(&lincomb_split_vartime(&k, &t, &table), &expect),
                "split {i}"
            );
        }
        // Small and special scalars.
        for k in 0u64..40 {
            let k = Scalar([k, 0, 0, 0]);
            assert!(same(&mul_base(&k), &mul_reference(&k, &g)));
            assert!(same(&mul_ct(&k, &g), &mul_reference(&k, &g)));
            assert!(same(
                &lincomb_vartime(&k, &k, &G),
                &mul_reference(&k.add(&k), &g)
            ));
            let table = split_table::<SPLIT_P_ENTRIES>(&G);
            let split = lincomb_split_vartime(&k, &k, &table);
            assert!(same(&split, &mul_reference(&k.add(&k), &g)));
        }
        // s G + t G where the halves cancel: t = -s.
        let s = Scalar(rng.below(&N));
        assert!(bool::from(lincomb_vartime(&s, &s.neg(), &G).is_identity()));
        let table = split_table::<SPLIT_P_ENTRIES>(&G);
        assert!(bool::from(
            lincomb_split_vartime(&s, &s.neg(), &table).is_identity()
        ));
        // Scalars with all-ones limbs (NAF carries into position 64 of every part).
        let ones = Scalar([u64::MAX, u64::MAX, u64::MAX, 0x7FFF_FFFF_FFFF_FFFF]);
        let p = affine(&mul_base(&s));
        let expect =
            mul_reference(&ones, &g).add_vartime(&mul_reference(&ones, &Jacobian::from_affine(&p)));
        let table = split_table::<SPLIT_P_ENTRIES>(&p);
        assert!(same(&lincomb_split_vartime(&ones, &ones, &table), &expect));
        assert!(same(&lincomb_vartime(&ones, &ones, &p), &expect));
    }
}
