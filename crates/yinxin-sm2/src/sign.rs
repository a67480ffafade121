//! Signing (GM/T 0003.2 §6) and verification (§7) of a prehashed message `e`.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::arith::{add4, lt};
use crate::field::{FieldElement, P};
use crate::keys::{PublicKey, SecretKey, random_scalar_below};
use crate::point::{self, Jacobian, SPLIT_P_ENTRIES, SplitTable};
use crate::scalar::{N, Scalar};
use crate::{Error, Signature};

/// An SM2 signing key: `(1 + d)^-1 mod n`, which is all that signing needs, and `P = d G`.
///
/// Zeroized on drop; `Debug` shows only the public key.
#[derive(Clone)]
pub struct SigningKey {
    /// `(1 + d)^-1 mod n`.
    inv_one_plus_d: Scalar,
    public: PublicKey,
}

impl SigningKey {
    /// Prepares `secret` for signing (one scalar inversion and one base-point multiplication).
    pub fn new(secret: &SecretKey) -> Self {
        let d = *secret.scalar();
        // d <= n - 2, so 1 + d is in [2, n-1] and invertible.
        let inv_one_plus_d = d.add(&Scalar::ONE).invert();
        Self {
            inv_one_plus_d,
            public: secret.public_key(),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// A verifying key for the matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey::new(self.public)
    }

    /// Signs the 32-byte `e = SM3(Z_A || M)` with a fresh random nonce from the operating
    /// system (GM/T 0003.2 §6.1, steps A3–A7). Constant time in `d` and in the nonce.
    pub fn sign_prehash(&self, e: &[u8; 32]) -> Result<Signature, Error> {
        let e = Scalar::reduce_bytes(e);
        loop {
            let mut k = random_scalar_below(&N)?;
            let signature = self.sign_with_nonce(&e, &k);
            k.zeroize();
            if let Some(signature) = signature {
                return Ok(signature);
            }
        }
    }

    /// Steps A4–A6 for nonce `k` in `[1, n-1]`; `None` when `r = 0`, `r + k = n` or `s = 0`
    /// (the caller draws a new nonce).
    pub(crate) fn sign_with_nonce(&self, e: &Scalar, k: &Scalar) -> Option<Signature> {
        // A4: (x1, y1) = k G; finite because 0 < k < n.
        let x1 = PublicKey::from_finite(&point::mul_base(k))
            .affine()
            .x
            .to_canonical();
        // A5: r = (e + x1) mod n.
        let r = e.add(&Scalar::reduce_limbs(&x1));
        let r_plus_k = r.add(k);
        if bool::from(r.is_zero() | r_plus_k.is_zero()) {
            return None;
        }
        // A6: s = (1 + d)^-1 (k - r d) = (1 + d)^-1 (k + r) - r.
        let s = self.inv_one_plus_d.mul(&r_plus_k).sub(&r);
        if bool::from(s.is_zero()) {
            return None;
        }
        Some(
            Signature::from_scalars(r.to_bytes(), s.to_bytes())
                .unwrap_or_else(|_| unreachable!("r and s are non-zero and reduced modulo n")),
        )
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.inv_one_plus_d.zeroize();
    }
}

impl ZeroizeOnDrop for SigningKey {}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl From<&SecretKey> for SigningKey {
    fn from(secret: &SecretKey) -> Self {
        Self::new(secret)
    }
}

/// An SM2 verifying key with precomputed multiples of the public key.
///
/// Building one costs about as much as one verification and about 2 KiB of memory; each
/// verification with it is then roughly twice as fast as [`verify_prehash`]. Keep one for keys
/// that verify many signatures (CA, OCSP and TSA keys, a signer's certificate); use
/// [`verify_prehash`] for a one-off check.
#[derive(Clone)]
pub struct VerifyingKey {
    public: PublicKey,
    table: Box<SplitTable<SPLIT_P_ENTRIES>>,
}

impl VerifyingKey {
    /// Precomputes the tables for `public`.
    pub fn new(public: PublicKey) -> Self {
        Self {
            public,
            table: point::split_table(public.affine()),
        }
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// Verifies `signature` over the 32-byte `e = SM3(Z_A || M)` (GM/T 0003.2 §7.1).
    /// Variable time: every input is public.
    pub fn verify_prehash(&self, e: &[u8; 32], signature: &Signature) -> Result<(), Error> {
        verify_with(e, signature, |s, t| {
            point::lincomb_split_vartime(s, t, &self.table)
        })
    }
}

impl From<PublicKey> for VerifyingKey {
    fn from(public: PublicKey) -> Self {
        Self::new(public)
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}

impl Eq for VerifyingKey {}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// Verifies `signature` over the 32-byte `e = SM3(Z_A || M)` with `public`
/// (GM/T 0003.2 §7.1, steps B1–B7). Variable time: every input is public.
pub fn verify_prehash(
    public: &PublicKey,
    e: &[u8; 32],
    signature: &Signature,
) -> Result<(), Error> {
    verify_with(e, signature, |s, t| {
        point::lincomb_vartime(s, t, public.affine())
    })
}

/// Steps B1–B7 with `lincomb(s, t) = s G + t P`.
fn verify_with(
    e: &[u8; 32],
    signature: &Signature,
    lincomb: impl FnOnce(&Scalar, &Scalar) -> Jacobian,
) -> Result<(), Error> {
    // B1, B2: r, s in [1, n-1].
    let r: Option<Scalar> = Scalar::from_bytes(signature.r()).into();
    let s: Option<Scalar> = Scalar::from_bytes(signature.s()).into();
    let (Some(r), Some(s)) = (r, s) else {
        return Err(Error::SignatureOutOfRange);
    };
    if bool::from(r.is_zero() | s.is_zero()) {
        return Err(Error::SignatureOutOfRange);
    }
    // B4: e as an integer mod n.
    let e = Scalar::reduce_bytes(e);
    // B5: t = r + s mod n, non-zero.
    let t = r.add(&s);
    if bool::from(t.is_zero()) {
        return Err(Error::VerificationFailed);
    }
    // B6: (x1, y1) = s G + t P, which must be finite.
    let point = lincomb(&s, &t);
    // B7: r == (e + x1) mod n, i.e. x1 ≡ r - e (mod n).
    if x_matches(&point, &r.sub(&e)) {
        Ok(())
    } else {
        Err(Error::VerificationFailed)
    }
}

/// Whether the affine `x` of the finite point `p` is congruent to `c` modulo `n`, without an
/// inversion: `x = X / Z^2` is in `[0, p)` and `n < p < 2n`, so `x ≡ c` means `x = c` or
/// `x = c + n` (the latter only if `c + n < p`).
fn x_matches(p: &Jacobian, c: &Scalar) -> bool {
    if bool::from(p.is_identity()) {
        return false;
    }
    let z2 = p.z.square();
    let candidate = FieldElement::from_canonical_const(c.0);
    if bool::from(candidate.mul(&z2).ct_eq(&p.x)) {
        return true;
    }
    let (c_plus_n, carry) = add4(&c.0, &N);
    if carry == 0 && lt(&c_plus_n, &P) == 1 {
        let candidate = FieldElement::from_canonical_const(c_plus_n);
        return bool::from(candidate.mul(&z2).ct_eq(&p.x));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::sub4;

    fn h(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }

    /// GM/T 0003.5-2012 Appendix A.2 (also GB/T 32918.2-2016 Appendix A): the recommended curve,
    /// ID "1234567812345678", message "message digest".
    #[test]
    fn gmt_0003_5_signature_vector() {
        let d = SecretKey::from_bytes(&h(
            "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8",
        ))
        .unwrap();
        let public = d.public_key();
        assert_eq!(
            public.x_bytes(),
            h("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020")
        );
        assert_eq!(
            public.y_bytes(),
            h("CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13")
        );
        // e = SM3(Z_A || M), recomputed here from the identity and the curve.
        let e = h("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640");
        assert_eq!(e, e_value(&public, b"1234567812345678", b"message digest"));
        let k = Scalar::from_bytes(&h(
            "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21",
        ))
        .unwrap();
        // x1 of k G, from the standard's worked example.
        let x1 = PublicKey::from_finite(&point::mul_base(&k)).x_bytes();
        assert_eq!(
            x1,
            h("04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73")
        );
        let signer = SigningKey::new(&d);
        let sig = signer
            .sign_with_nonce(&Scalar::reduce_bytes(&e), &k)
            .unwrap();
        assert_eq!(
            sig.r(),
            &h("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3")
        );
        assert_eq!(
            sig.s(),
            &h("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
        );
        assert_eq!(verify_prehash(&public, &e, &sig), Ok(()));
        let verifier = VerifyingKey::new(public);
        assert_eq!(verifier.verify_prehash(&e, &sig), Ok(()));
        let mut wrong = e;
        wrong[31] ^= 1;
        assert_eq!(
            verify_prehash(&public, &wrong, &sig),
            Err(Error::VerificationFailed)
        );
        assert_eq!(
            verifier.verify_prehash(&wrong, &sig),
            Err(Error::VerificationFailed)
        );
    }

    /// Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA), e = SM3(Z_A || M).
    fn e_value(public: &PublicKey, id: &[u8], msg: &[u8]) -> [u8; 32] {
        use sm3::{Digest, Sm3};
        let mut z = Sm3::new();
        z.update(((id.len() * 8) as u16).to_be_bytes());
        z.update(id);
        z.update(
            FieldElement::ONE
                .double()
                .add(&FieldElement::ONE)
                .neg()
                .to_bytes(),
        );
        z.update(point::B.to_bytes());
        z.update(point::G.x.to_bytes());
        z.update(point::G.y.to_bytes());
        z.update(public.x_bytes());
        z.update(public.y_bytes());
        let z = z.finalize();
        let mut m = Sm3::new();
        m.update(z);
        m.update(msg);
        m.finalize().into()
    }

    #[test]
    fn random_roundtrip_and_tamper() {
        for _ in 0..50 {
            let secret = SecretKey::generate().unwrap();
            let signer = SigningKey::new(&secret);
            let mut e = [0u8; 32];
            getrandom::fill(&mut e).unwrap();
            let sig = signer.sign_prehash(&e).unwrap();
            let vk = signer.verifying_key();
            assert_eq!(vk.verify_prehash(&e, &sig), Ok(()));
            let mut raw = sig.to_bytes();
            raw[5] ^= 0x10;
            if let Ok(bad) = Signature::from_bytes(&raw) {
                assert!(vk.verify_prehash(&e, &bad).is_err());
            }
            let other = SecretKey::generate().unwrap().public_key();
            assert!(verify_prehash(&other, &e, &sig).is_err());
        }
    }

    #[test]
    fn x_matches_wraps_modulo_n() {
        // A curve point with x >= n (x in [n, p) is found quickly by trying x = n, n + 1, ...),
        // in Jacobian form with Z = 5.
        let mut x = N;
        let affine = loop {
            let fx = FieldElement::from_canonical_const(x);
            let candidate: Option<point::Affine> = point::Affine::decompress(&fx, 0.into()).into();
            if let Some(p) = candidate {
                break p;
            }
            x = add4(&x, &[1, 0, 0, 0]).0;
        };
        let z = FieldElement::from_canonical_const([5, 0, 0, 0]);
        let z2 = z.square();
        let p = Jacobian {
            x: affine.x.mul(&z2),
            y: affine.y.mul(&z2).mul(&z),
            z,
        };
        let c = Scalar(sub4(&x, &N).0);
        assert!(x_matches(&p, &c));
        assert!(!x_matches(&p, &Scalar(sub4(&c.0, &[1, 0, 0, 0]).0)));
        assert!(!x_matches(&Jacobian::IDENTITY, &c));
    }
}
