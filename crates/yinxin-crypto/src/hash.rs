//! Message digests (SM3, SHA-2) and HMAC over them.

use digest::{Digest, KeyInit, Mac};
use hmac::Hmac;
use sha2::{Sha256, Sha384, Sha512};
use sm3::Sm3;

use crate::alg::HashAlgorithm;
use crate::error::{Error, Result};

/// An incremental hash of any supported algorithm, for data that arrives in pieces.
///
/// SHA-2 runs on AWS-LC (twice RustCrypto's SHA-512 rate here, see BENCHMARKS.md); SM3 on
/// RustCrypto, which is faster than OpenSSL's.
#[derive(Clone)]
pub struct Hasher(HasherInner);

#[derive(Clone)]
enum HasherInner {
    Sm3(Sm3),
    Sha2(aws_lc_rs::digest::Context),
}

impl Hasher {
    /// A fresh hash state.
    pub fn new(algorithm: HashAlgorithm) -> Self {
        use aws_lc_rs::digest;
        Hasher(match algorithm {
            HashAlgorithm::Sm3 => HasherInner::Sm3(Sm3::new()),
            HashAlgorithm::Sha256 => HasherInner::Sha2(digest::Context::new(&digest::SHA256)),
            HashAlgorithm::Sha384 => HasherInner::Sha2(digest::Context::new(&digest::SHA384)),
            HashAlgorithm::Sha512 => HasherInner::Sha2(digest::Context::new(&digest::SHA512)),
        })
    }

    /// Feed more data.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            HasherInner::Sm3(h) => h.update(data),
            HasherInner::Sha2(h) => h.update(data),
        }
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Vec<u8> {
        match self.0 {
            HasherInner::Sm3(h) => h.finalize().to_vec(),
            HasherInner::Sha2(h) => h.finish().as_ref().to_vec(),
        }
    }
}

/// The digest of `data` in one call.
pub fn digest(algorithm: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(algorithm);
    h.update(data);
    h.finish()
}

/// SHA-1, for the legacy identifiers that standards still define with it (OCSP CertIDs,
/// key identifiers). Not a [`HashAlgorithm`]: yinxin never signs with it.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0u8; 20];
    out.copy_from_slice(d.as_ref());
    out
}

/// HMAC (RFC 2104) of `data` under `key` with the given hash; HMAC-SM3 per GB/T 15852.2.
pub fn hmac(algorithm: HashAlgorithm, key: &[u8], data: &[u8]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of every length (longer ones are hashed), so this cannot fail.
        match <M as KeyInit>::new_from_slice(key) {
            Ok(mut mac) => {
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
    match algorithm {
        HashAlgorithm::Sm3 => run::<Hmac<Sm3>>(key, data),
        HashAlgorithm::Sha256 => run::<Hmac<Sha256>>(key, data),
        HashAlgorithm::Sha384 => run::<Hmac<Sha384>>(key, data),
        HashAlgorithm::Sha512 => run::<Hmac<Sha512>>(key, data),
    }
}

/// Check an HMAC tag in constant time.
pub fn hmac_verify(algorithm: HashAlgorithm, key: &[u8], data: &[u8], tag: &[u8]) -> Result<()> {
    use subtle::ConstantTimeEq;
    let expected = hmac(algorithm, key, data);
    if expected.len() == tag.len() && bool::from(expected.ct_eq(tag)) {
        Ok(())
    } else {
        Err(Error::InvalidSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        hex::encode(b)
    }

    #[test]
    fn sm3_gmt0004_vectors() {
        // GM/T 0004-2012 Appendix A, examples 1 and 2.
        assert_eq!(
            hex(&digest(HashAlgorithm::Sm3, b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            hex(&digest(HashAlgorithm::Sm3, &b"abcd".repeat(16))),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    #[test]
    fn sha1_fips180_vector() {
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data = vec![7u8; 10_000];
        for alg in HashAlgorithm::ALL {
            let mut h = Hasher::new(alg);
            for chunk in data.chunks(333) {
                h.update(chunk);
            }
            assert_eq!(h.finish(), digest(alg, &data), "{alg}");
            assert_eq!(digest(alg, b"").len(), alg.output_len());
        }
    }

    #[test]
    fn hmac_sha256_rfc4231_case2() {
        let tag = hmac(
            HashAlgorithm::Sha256,
            b"Jefe",
            b"what do ya want for nothing?",
        );
        assert_eq!(
            hex(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(
            hmac_verify(
                HashAlgorithm::Sha256,
                b"Jefe",
                b"what do ya want for nothing?",
                &tag
            )
            .is_ok()
        );
        assert!(
            hmac_verify(
                HashAlgorithm::Sha256,
                b"Jeff",
                b"what do ya want for nothing?",
                &tag
            )
            .is_err()
        );
    }
}
