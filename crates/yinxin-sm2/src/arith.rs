//! 64-bit limb helpers shared by the field and scalar modules.
//!
//! Numbers are `[u64; 4]`, least significant limb first. Every helper here is branch-free; the
//! `const fn` ones are also used to compute constants (Montgomery `R^2`, curve parameters) at
//! compile time.

/// `a + b + carry`, returning `(sum, carry_out)` with `carry_out` in `{0, 1}`.
#[inline(always)]
pub(crate) const fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let (s, c1) = a.overflowing_add(b);
    let (s, c2) = s.overflowing_add(carry);
    (s, (c1 | c2) as u64)
}

/// `a - b - borrow`, returning `(difference, borrow_out)` with `borrow_out` in `{0, 1}`.
#[inline(always)]
pub(crate) const fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let (d, b1) = a.overflowing_sub(b);
    let (d, b2) = d.overflowing_sub(borrow);
    (d, (b1 | b2) as u64)
}

/// `acc + a * b + carry`, returning `(low, high)`. Cannot overflow a `u128`.
#[inline(always)]
pub(crate) const fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = acc as u128 + (a as u128) * (b as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// All-ones if `bit == 1`, zero if `bit == 0`.
#[inline(always)]
pub(crate) const fn mask(bit: u64) -> u64 {
    0u64.wrapping_sub(bit)
}

/// `a - b` over 256 bits, returning the difference and the final borrow.
#[inline(always)]
pub(crate) const fn sub4(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], u64) {
    let (d0, bw) = sbb(a[0], b[0], 0);
    let (d1, bw) = sbb(a[1], b[1], bw);
    let (d2, bw) = sbb(a[2], b[2], bw);
    let (d3, bw) = sbb(a[3], b[3], bw);
    ([d0, d1, d2, d3], bw)
}

/// `a + b` over 256 bits, returning the sum and the final carry.
#[inline(always)]
pub(crate) const fn add4(a: &[u64; 4], b: &[u64; 4]) -> ([u64; 4], u64) {
    let (s0, c) = adc(a[0], b[0], 0);
    let (s1, c) = adc(a[1], b[1], c);
    let (s2, c) = adc(a[2], b[2], c);
    let (s3, c) = adc(a[3], b[3], c);
    ([s0, s1, s2, s3], c)
}

/// Given the 257-bit value `carry * 2^256 + s` with value `< 2m`, returns it reduced mod `m`.
#[inline(always)]
pub(crate) const fn sub_if_ge(s: &[u64; 4], carry: u64, m: &[u64; 4]) -> [u64; 4] {
    let (d, bw) = sub4(s, m);
    let (_, bw) = sbb(carry, 0, bw);
    // bw == 1 exactly when the 257-bit value is below m: keep it.
    let keep = mask(bw);
    [
        (s[0] & keep) | (d[0] & !keep),
        (s[1] & keep) | (d[1] & !keep),
        (s[2] & keep) | (d[2] & !keep),
        (s[3] & keep) | (d[3] & !keep),
    ]
}

/// `(a + b) mod m` for `a, b < m`.
#[inline(always)]
pub(crate) const fn add_mod(a: &[u64; 4], b: &[u64; 4], m: &[u64; 4]) -> [u64; 4] {
    let (s, c) = add4(a, b);
    sub_if_ge(&s, c, m)
}

/// `(a - b) mod m` for `a, b < m`.
#[inline(always)]
pub(crate) const fn sub_mod(a: &[u64; 4], b: &[u64; 4], m: &[u64; 4]) -> [u64; 4] {
    let (d, bw) = sub4(a, b);
    let k = mask(bw);
    let (r, _) = add4(&d, &[m[0] & k, m[1] & k, m[2] & k, m[3] & k]);
    r
}

/// The full 512-bit product `a * b`.
#[inline(always)]
pub(crate) const fn mul_wide(a: &[u64; 4], b: &[u64; 4]) -> [u64; 8] {
    let mut t = [0u64; 8];
    let mut i = 0;
    while i < 4 {
        let mut carry = 0;
        let mut j = 0;
        while j < 4 {
            let (lo, hi) = mac(t[i + j], a[i], b[j], carry);
            t[i + j] = lo;
            carry = hi;
            j += 1;
        }
        t[i + 4] = carry;
        i += 1;
    }
    t
}

/// The full 512-bit square `a * a` (off-diagonal products computed once).
#[inline(always)]
pub(crate) const fn square_wide(a: &[u64; 4]) -> [u64; 8] {
    let mut t = [0u64; 8];
    let mut i = 0;
    while i < 3 {
        let mut carry = 0;
        let mut j = i + 1;
        while j < 4 {
            let (lo, hi) = mac(t[i + j], a[i], a[j], carry);
            t[i + j] = lo;
            carry = hi;
            j += 1;
        }
        t[i + 4] = carry;
        i += 1;
    }
    // Double the off-diagonal part (t[0] and the top bit of t[7] are zero here).
    let mut k = 7;
    while k > 0 {
        t[k] = (t[k] << 1) | (t[k - 1] >> 63);
        k -= 1;
    }
    t[0] <<= 1;
    // Add the squares on the diagonal.
    let mut carry = 0;
    i = 0;
    while i < 4 {
        let sq = (a[i] as u128) * (a[i] as u128);
        let (lo, c) = adc(t[2 * i], sq as u64, carry);
        let (hi, c2) = adc(t[2 * i + 1], (sq >> 64) as u64, c);
        t[2 * i] = lo;
        t[2 * i + 1] = hi;
        carry = c2;
        i += 1;
    }
    t
}

/// Montgomery reduction `t / 2^256 mod m` for any odd `m > 2^255` with `m_inv = -m^-1 mod 2^64`,
/// valid for `t < m * 2^256`.
#[inline(always)]
pub(crate) const fn montgomery_reduce(t: &[u64; 8], m: &[u64; 4], m_inv: u64) -> [u64; 4] {
    let mut t = *t;
    let mut carry_hi = 0;
    let mut i = 0;
    while i < 4 {
        let k = t[i].wrapping_mul(m_inv);
        let mut c = 0;
        let mut j = 0;
        while j < 4 {
            let (lo, hi) = mac(t[i + j], k, m[j], c);
            t[i + j] = lo;
            c = hi;
            j += 1;
        }
        let (s, c2) = adc(t[i + 4], c, carry_hi);
        t[i + 4] = s;
        carry_hi = c2;
        i += 1;
    }
    sub_if_ge(&[t[4], t[5], t[6], t[7]], carry_hi, m)
}

/// `-m^-1 mod 2^64` for odd `m0`.
pub(crate) const fn neg_inv64(m0: u64) -> u64 {
    // Newton iteration: each step doubles the number of correct low bits (1 -> 64).
    let mut inv = 1u64;
    let mut i = 0;
    while i < 6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        i += 1;
    }
    inv.wrapping_neg()
}

/// `2^512 mod m` for `2^255 < m < 2^256` (the Montgomery constant `R^2`).
pub(crate) const fn r2_mod(m: &[u64; 4]) -> [u64; 4] {
    // 2^256 mod m = 2^256 - m, then double 256 times.
    let (mut r, _) = sub4(&[0, 0, 0, 0], m);
    let mut i = 0;
    while i < 256 {
        r = add_mod(&r, &r, m);
        i += 1;
    }
    r
}

/// Parses 64 big-endian hex digits at compile time.
pub(crate) const fn hex_limbs(s: &str) -> [u64; 4] {
    let b = s.as_bytes();
    assert!(b.len() == 64, "need 64 hex digits");
    let mut out = [0u64; 4];
    let mut i = 0;
    while i < 64 {
        let c = b[i];
        let v = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("not a hex digit"),
        } as u64;
        let limb = 3 - i / 16;
        out[limb] = (out[limb] << 4) | v;
        i += 1;
    }
    out
}

/// Big-endian 32 bytes to limbs.
#[inline]
pub(crate) fn limbs_from_be(bytes: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, chunk) in bytes.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        out[3 - i] = u64::from_be_bytes(w);
    }
    out
}

/// Limbs to big-endian 32 bytes.
#[inline]
pub(crate) fn limbs_to_be(limbs: &[u64; 4]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
        chunk.copy_from_slice(&limbs[3 - i].to_be_bytes());
    }
    out
}

/// 1 if `a < m`, else 0 (constant time).
#[inline]
pub(crate) const fn lt(a: &[u64; 4], m: &[u64; 4]) -> u64 {
    sub4(a, m).1
}

/// 1 if all limbs are zero, else 0 (constant time).
#[inline]
pub(crate) const fn is_zero(a: &[u64; 4]) -> u64 {
    let x = a[0] | a[1] | a[2] | a[3];
    // x == 0  <=>  (x | -x) has a clear top bit.
    1 ^ ((x | x.wrapping_neg()) >> 63)
}
