//! Low-level operations that are easy to misuse. Enabled by the `hazmat` feature.

use crate::scalar::Scalar;
use crate::{Error, Signature, SigningKey};

/// Signs `e` with the caller's nonce `k` (GM/T 0003.2 §6.1 steps A4–A6), for known-answer
/// tests only: reusing or leaking `k` reveals the private key.
///
/// Fails with [`Error::InvalidNonce`] if `k` is not in `[1, n-1]` or gives `r = 0`,
/// `r + k = n` or `s = 0`.
pub fn sign_prehash_with_k(
    key: &SigningKey,
    e: &[u8; 32],
    k: &[u8; 32],
) -> Result<Signature, Error> {
    let k: Option<Scalar> = Scalar::from_bytes(k).into();
    let k = k
        .filter(|k| !bool::from(k.is_zero()))
        .ok_or(Error::InvalidNonce)?;
    key.sign_with_nonce(&Scalar::reduce_bytes(e), &k)
        .ok_or(Error::InvalidNonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    fn h(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }

    /// GM/T 0003.5 Appendix A.2 through the public hazmat entry point.
    #[test]
    fn known_answer() {
        let d = h("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8");
        let key = SigningKey::new(&SecretKey::from_bytes(&d).unwrap());
        let e = h("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640");
        let k = h("59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21");
        let sig = sign_prehash_with_k(&key, &e, &k).unwrap();
        assert_eq!(
            sig.to_bytes()[..32],
            h("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3")
        );
        assert_eq!(
            sig.to_bytes()[32..],
            h("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")
        );
        assert_eq!(
            sign_prehash_with_k(&key, &e, &[0; 32]),
            Err(Error::InvalidNonce)
        );
        assert_eq!(
            sign_prehash_with_k(&key, &e, &[0xFF; 32]),
            Err(Error::InvalidNonce)
        );
    }
}
