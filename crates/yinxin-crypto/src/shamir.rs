//! Shamir's k-of-n secret sharing over GF(2⁸), for the key vault's master key: the key is
//! split among administrators and only k of them together can rebuild it.
//!
//! Each byte of the secret is the constant term of its own random polynomial of degree k−1;
//! share `i` holds the polynomials' values at `x = i`. Field arithmetic is branch-free (no
//! log tables), so the time taken does not depend on secret bytes.
//!
//! Shamir sharing has no integrity of its own: k−1 shares, or a wrong share, combine into a
//! wrong secret without any error. Whoever stores the secret must also store a check value
//! (the vault keeps an authentication tag made with the master key).

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::random;

/// One administrator's share.
#[derive(Clone, PartialEq, Eq)]
pub struct Share {
    threshold: u8,
    index: u8,
    value: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Share({} of k={}, <redacted>)",
            self.index, self.threshold
        )
    }
}

const TEXT_PREFIX: &str = "yinxin-share-v1";

impl Share {
    /// The share's x coordinate, 1 to 255.
    pub fn index(&self) -> u8 {
        self.index
    }

    /// How many shares rebuild the secret.
    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// The length of the share's value in bytes (the secret's length).
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether the value is empty (never, for a share read by [`Share::from_text`]).
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// A commitment to this share: SM3 of `domain`, k, the index and the value, each length-
    /// prefixed. Kept beside a split, it lets each share be checked on its own when it
    /// arrives (a forged or foreign share is refused at once) without revealing anything: the
    /// value is as long as the secret and uniformly random.
    pub fn commitment(&self, domain: &[u8]) -> [u8; 32] {
        let mut data = Zeroizing::new(Vec::with_capacity(domain.len() + self.value.len() + 16));
        for part in [domain, &[self.threshold], &[self.index], &self.value[..]] {
            data.extend_from_slice(&(part.len() as u32).to_be_bytes());
            data.extend_from_slice(part);
        }
        let digest = crate::hash::digest(crate::HashAlgorithm::Sm3, &data);
        let mut out = [0u8; 32];
        out.copy_from_slice(&digest[..32]);
        out
    }

    /// The share as one line of text for an administrator to keep:
    /// `yinxin-share-v1:<k>:<index>:<hex value>:<hex SM3 check of the rest>`.
    /// The check catches typing errors, not forgery.
    pub fn to_text(&self) -> Zeroizing<String> {
        let body = Zeroizing::new(format!(
            "{TEXT_PREFIX}:{}:{}:{}",
            self.threshold,
            self.index,
            hex::encode(&self.value[..])
        ));
        let check = crate::hash::digest(crate::HashAlgorithm::Sm3, body.as_bytes());
        Zeroizing::new(format!("{}:{}", *body, hex::encode(&check[..4])))
    }

    /// Read a share written by [`Share::to_text`].
    pub fn from_text(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::decode("key share", reason);
        let text = text.trim();
        let (body, check) = text
            .rsplit_once(':')
            .ok_or_else(|| bad("not a yinxin share"))?;
        let expected = crate::hash::digest(crate::HashAlgorithm::Sm3, body.as_bytes());
        if hex::encode(&expected[..4]) != check {
            return Err(bad(
                "check digits do not match: the share was mistyped or damaged",
            ));
        }
        let mut parts = body.split(':');
        if parts.next() != Some(TEXT_PREFIX) {
            return Err(bad("not a yinxin share (or an unsupported version)"));
        }
        let threshold = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| bad("bad threshold"))?;
        let index: u8 = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| bad("bad index"))?;
        let value = Zeroizing::new(
            parts
                .next()
                .and_then(|p| hex::decode(p).ok())
                .ok_or_else(|| bad("bad value"))?,
        );
        if parts.next().is_some() || index == 0 || threshold == 0 || value.is_empty() {
            return Err(bad("malformed share"));
        }
        Ok(Share {
            threshold,
            index,
            value,
        })
    }
}

/// Multiplication in GF(2⁸) with the AES polynomial x⁸+x⁴+x³+x+1, without branches on data.
fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut product = 0u8;
    for _ in 0..8 {
        product ^= a & 0u8.wrapping_sub(b & 1);
        let carry = 0u8.wrapping_sub(a >> 7);
        a = (a << 1) ^ (0x1b & carry);
        b >>= 1;
    }
    product
}

/// Inverse in GF(2⁸) as a²⁵⁴ (a fixed sequence of multiplications).
fn gf_inv(a: u8) -> u8 {
    let mut result = 1u8;
    let mut base = a;
    let mut exp = 254u8;
    for _ in 0..8 {
        let factor = gf_mul(result, base);
        let take = 0u8.wrapping_sub(exp & 1);
        result = (factor & take) | (result & !take);
        base = gf_mul(base, base);
        exp >>= 1;
    }
    result
}

/// Split `secret` into `n` shares of which any `k` rebuild it (2 ≤ k ≤ n ≤ 255; k = n = 1 is
/// allowed for single-machine trials).
pub fn split(secret: &[u8], k: u8, n: u8) -> Result<Vec<Share>> {
    if secret.is_empty() {
        return Err(Error::MessageLength {
            len: 0,
            reason: "the secret to split is empty",
        });
    }
    if k == 0 || k > n || (k == 1 && n > 1) {
        return Err(Error::Unsupported(format!(
            "a {k}-of-{n} split (need 2 <= k <= n <= 255, or 1-of-1)"
        )));
    }
    // coefficients[j][i]: coefficient of x^j for byte i; coefficient 0 is the secret.
    let mut coefficients: Vec<Zeroizing<Vec<u8>>> = vec![Zeroizing::new(secret.to_vec())];
    for _ in 1..k {
        coefficients.push(Zeroizing::new(random::bytes(secret.len())?));
    }
    Ok((1..=n)
        .map(|x| {
            let mut value = Zeroizing::new(vec![0u8; secret.len()]);
            for (i, v) in value.iter_mut().enumerate() {
                // Horner's rule from the highest coefficient down.
                let mut acc = 0u8;
                for c in coefficients.iter().rev() {
                    acc = gf_mul(acc, x) ^ c[i];
                }
                *v = acc;
            }
            Share {
                threshold: k,
                index: x,
                value,
            }
        })
        .collect())
}

/// Rebuild the secret from at least `threshold` distinct shares (extra shares are ignored).
pub fn combine(shares: &[Share]) -> Result<Zeroizing<Vec<u8>>> {
    interpolate(shares, 0)
}

/// The share with index `index` of the split that `shares` (at least `threshold` of them)
/// come from: what that share holder holds, rebuilt without them (to compute commitments to
/// every share of a split made before commitments existed).
pub fn share_at(shares: &[Share], index: u8) -> Result<Share> {
    let first = shares
        .first()
        .ok_or_else(|| Error::decode("key shares", "no shares given"))?;
    if index == 0 {
        return Err(Error::decode("key shares", "share index 0 is the secret"));
    }
    Ok(Share {
        threshold: first.threshold,
        index,
        value: interpolate(shares, index)?,
    })
}

/// The split's polynomial at `x` by Lagrange interpolation.
fn interpolate(shares: &[Share], x: u8) -> Result<Zeroizing<Vec<u8>>> {
    let first = shares
        .first()
        .ok_or_else(|| Error::decode("key shares", "no shares given"))?;
    let k = usize::from(first.threshold);
    let len = first.value.len();
    let mut chosen: Vec<&Share> = Vec::with_capacity(k);
    for s in shares {
        if s.threshold != first.threshold || s.value.len() != len {
            return Err(Error::decode(
                "key shares",
                "the shares come from different splits",
            ));
        }
        if chosen.iter().any(|c| c.index == s.index) {
            if chosen
                .iter()
                .any(|c| c.index == s.index && c.value != s.value)
            {
                return Err(Error::decode(
                    "key shares",
                    "two different shares have the same index",
                ));
            }
            continue;
        }
        if chosen.len() < k {
            chosen.push(s);
        }
    }
    if chosen.len() < k {
        return Err(Error::decode(
            "key shares",
            format!("{} of {k} shares given", chosen.len()),
        ));
    }
    // Lagrange interpolation: f(x) = Σ y_j · Π_{m≠j} (x − x_m) / (x_j − x_m); in GF(2⁸)
    // subtraction is XOR, so at x = 0 this is Π x_m / (x_m ⊕ x_j).
    let mut secret = Zeroizing::new(vec![0u8; len]);
    for (j, sj) in chosen.iter().enumerate() {
        let mut basis = 1u8;
        for (m, sm) in chosen.iter().enumerate() {
            if m != j {
                basis = gf_mul(basis, gf_mul(x ^ sm.index, gf_inv(sm.index ^ sj.index)));
            }
        }
        for (out, y) in secret.iter_mut().zip(sj.value.iter()) {
            *out ^= gf_mul(*y, basis);
        }
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_k_shares_rebuild_every_other_share() {
        let shares = split(b"0123456789abcdef0123456789abcdef", 3, 5).unwrap();
        for missing in 1..=5u8 {
            let rebuilt = share_at(&shares[2..5], missing).unwrap();
            assert_eq!(rebuilt, shares[usize::from(missing) - 1]);
            assert_eq!(
                rebuilt.commitment(b"d"),
                shares[usize::from(missing) - 1].commitment(b"d")
            );
        }
        assert_ne!(shares[0].commitment(b"d"), shares[0].commitment(b"e"));
        assert_ne!(shares[0].commitment(b"d"), shares[1].commitment(b"d"));
    }

    #[test]
    fn field_arithmetic() {
        // FIPS-197 §4.2: {57} · {83} = {c1}.
        assert_eq!(gf_mul(0x57, 0x83), 0xc1);
        for a in 1..=255u8 {
            assert_eq!(gf_mul(a, gf_inv(a)), 1, "{a}");
        }
    }

    #[test]
    fn any_k_shares_rebuild_and_fewer_do_not() {
        let secret = b"32-byte master key of the vault!";
        let shares = split(secret, 3, 5).unwrap();
        for a in 0..5 {
            for b in 0..5 {
                for c in 0..5 {
                    if a != b && b != c && a != c {
                        let got =
                            combine(&[shares[a].clone(), shares[b].clone(), shares[c].clone()])
                                .unwrap();
                        assert_eq!(&got[..], secret);
                    }
                }
            }
        }
        assert!(combine(&shares[..2]).is_err());
        assert!(combine(&[shares[0].clone(), shares[0].clone(), shares[1].clone()]).is_err());
        let single = split(secret, 1, 1).unwrap();
        assert_eq!(&combine(&single).unwrap()[..], secret);
        assert!(split(secret, 1, 3).is_err());
        assert!(split(secret, 4, 3).is_err());
        assert!(split(b"", 2, 3).is_err());
    }

    #[test]
    fn text_round_trip_and_typos() {
        let shares = split(b"secret", 2, 3).unwrap();
        let text = shares[1].to_text();
        assert_eq!(Share::from_text(&text).unwrap(), shares[1]);
        let mut typo = text.to_string();
        let pos = typo.len() - 12;
        let c = if &typo[pos..pos + 1] == "0" { "1" } else { "0" };
        typo.replace_range(pos..pos + 1, c);
        assert!(Share::from_text(&typo).is_err());
        assert!(Share::from_text("").is_err());
        assert!(Share::from_text("yinxin-share-v1:2:0:00:00000000").is_err());
        assert!(!format!("{:?}", shares[0]).contains(&hex::encode(&shares[0].value[..])));
    }
}
