//! Helpers for the unit tests: a deterministic generator and a slow, obviously correct modular
//! multiplication to check the fast code against.

use crate::arith::{add_mod, lt};

/// xorshift64* — deterministic test inputs, not for cryptographic use.
pub(crate) struct Lcg(u64);

impl Lcg {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn limbs(&mut self) -> [u64; 4] {
        [
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
        ]
    }

    /// Uniform below `m` (rejection sampling).
    pub(crate) fn below(&mut self, m: &[u64; 4]) -> [u64; 4] {
        loop {
            let a = self.limbs();
            if lt(&a, m) == 1 {
                return a;
            }
        }
    }
}

/// `a * b mod m` by double-and-add, for `a, b < m`.
pub(crate) fn mul_mod_slow(a: &[u64; 4], b: &[u64; 4], m: &[u64; 4]) -> [u64; 4] {
    let mut r = [0u64; 4];
    for i in (0..256).rev() {
        r = add_mod(&r, &r, m);
        if (b[i / 64] >> (i % 64)) & 1 == 1 {
            r = add_mod(&r, a, m);
        }
    }
    r
}
