//! Cross-checks against RustCrypto's `sm2` crate and edge cases of the public API.

use signature::hazmat::{PrehashSigner, PrehashVerifier, RandomizedPrehashSigner};
use sm2::elliptic_curve::sec1::ToSec1Point;
use yinxin_sm2::{
    Error, PublicKey, SecretKey, Signature, SigningKey, VerifyingKey, verify_prehash,
};

const ID: &str = "1234567812345678";

/// The group order `n`, big-endian.
const N: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 64 {
        let hi = (b[i] as char).to_digit(16);
        let lo = (b[i + 1] as char).to_digit(16);
        let (Some(hi), Some(lo)) = (hi, lo) else {
            panic!("bad hex")
        };
        out[i / 2] = (hi * 16 + lo) as u8;
        i += 2;
    }
    out
}

/// `n - k` for small `k`, big-endian.
fn n_minus(k: u8) -> [u8; 32] {
    let mut out = N;
    let (v, borrow) = out[31].overflowing_sub(k);
    out[31] = v;
    assert!(!borrow || out[30] != 0);
    if borrow {
        out[30] -= 1;
    }
    out
}

fn random32() -> [u8; 32] {
    let mut e = [0u8; 32];
    getrandom::fill(&mut e).expect("OS random generator");
    e
}

fn rustcrypto_uncompressed(pk: &sm2::PublicKey) -> Vec<u8> {
    pk.to_sec1_point(false).as_bytes().to_vec()
}

#[test]
fn public_keys_match_rustcrypto() {
    for _ in 0..200 {
        let ours = SecretKey::generate().unwrap();
        let theirs = sm2::SecretKey::from_slice(ours.to_bytes().as_ref()).unwrap();
        let expected = rustcrypto_uncompressed(&theirs.public_key());
        assert_eq!(
            ours.public_key().to_uncompressed().as_slice(),
            expected.as_slice()
        );
        // Compressed form round-trips and agrees with RustCrypto's.
        let compressed = ours.public_key().to_compressed();
        assert_eq!(
            compressed.as_slice(),
            theirs.public_key().to_sec1_point(true).as_bytes()
        );
        assert_eq!(
            PublicKey::from_sec1_bytes(&compressed).unwrap(),
            ours.public_key()
        );
    }
}

#[test]
fn our_signatures_verify_with_rustcrypto() {
    for _ in 0..300 {
        let secret = SecretKey::generate().unwrap();
        let signer = SigningKey::new(&secret);
        let e = random32();
        let sig = signer.sign_prehash(&e).unwrap();
        let rc_key =
            sm2::dsa::VerifyingKey::from_sec1_bytes(ID, &secret.public_key().to_uncompressed())
                .unwrap();
        let rc_sig = sm2::dsa::Signature::from_slice(&sig.to_bytes()).unwrap();
        rc_key.verify_prehash(&e, &rc_sig).unwrap();
        // DER forms agree.
        let rc_der = sm2::dsa::Signature::from_der(&sig.to_der()).unwrap();
        assert_eq!(rc_der, rc_sig);
        assert_eq!(rc_sig.to_der().as_bytes(), sig.to_der().as_slice());
    }
}

#[test]
fn rustcrypto_signatures_verify_with_ours() {
    for i in 0..300 {
        let rc_secret =
            sm2::SecretKey::from_slice(&SecretKey::generate().unwrap().to_bytes()[..]).unwrap();
        let rc_signer = sm2::dsa::SigningKey::new(ID, &rc_secret).unwrap();
        let e = random32();
        let rc_sig: sm2::dsa::Signature = if i % 2 == 0 {
            rc_signer
                .sign_prehash_with_rng(&mut getrandom::SysRng, &e)
                .unwrap()
        } else {
            rc_signer.sign_prehash(&e).unwrap()
        };
        let public =
            PublicKey::from_sec1_bytes(&rustcrypto_uncompressed(&rc_secret.public_key())).unwrap();
        let der = rc_sig.to_der();
        let sig = Signature::from_der(der.as_bytes()).unwrap();
        assert_eq!(sig.to_bytes().as_slice(), rc_sig.to_bytes().as_slice());
        verify_prehash(&public, &e, &sig).unwrap();
        VerifyingKey::new(public).verify_prehash(&e, &sig).unwrap();
        let mut other = e;
        other[0] ^= 0x80;
        assert_eq!(
            verify_prehash(&public, &other, &sig),
            Err(Error::VerificationFailed)
        );
    }
}

#[test]
fn mul_secret_matches_rustcrypto_product() {
    // (a G) * b == (a b mod n) G, the latter computed by RustCrypto.
    for _ in 0..50 {
        let a = SecretKey::generate().unwrap();
        let b = SecretKey::generate().unwrap();
        let shared = a.public_key().mul_secret(&b);
        assert_eq!(shared, b.public_key().mul_secret(&a));
        let ra = sm2::NonZeroScalar::try_from(&a.to_bytes()[..]).unwrap();
        let rb = sm2::NonZeroScalar::try_from(&b.to_bytes()[..]).unwrap();
        let product = sm2::SecretKey::from(ra * rb);
        assert_eq!(
            shared.to_uncompressed().as_slice(),
            rustcrypto_uncompressed(&product.public_key()).as_slice()
        );
    }
}

#[test]
fn secret_key_range() {
    let mut one = [0u8; 32];
    one[31] = 1;
    let g = SecretKey::from_bytes(&one).unwrap().public_key();
    assert_eq!(
        g.to_uncompressed()[1..33],
        hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7")
    );
    // n - 2 is the largest key: its public key is -2G.
    let top = SecretKey::from_bytes(&n_minus(2)).unwrap();
    let mut two = [0u8; 32];
    two[31] = 2;
    let g2 = SecretKey::from_bytes(&two).unwrap().public_key();
    assert_eq!(top.public_key().x_bytes(), g2.x_bytes());
    assert_ne!(top.public_key().y_bytes(), g2.y_bytes());
    let rc = sm2::SecretKey::from_slice(&n_minus(2)).unwrap();
    assert_eq!(
        top.public_key().to_uncompressed().as_slice(),
        rustcrypto_uncompressed(&rc.public_key()).as_slice()
    );
    for bad in [[0u8; 32], n_minus(1), N, [0xFF; 32]] {
        assert_eq!(
            SecretKey::from_bytes(&bad).unwrap_err(),
            Error::InvalidSecretKey
        );
    }
    assert_eq!(format!("{top:?}"), "SecretKey([REDACTED])");
    assert!(!format!("{:?}", SigningKey::new(&top)).contains("d:"));
}

#[test]
fn invalid_public_keys_rejected() {
    let good = SecretKey::generate()
        .unwrap()
        .public_key()
        .to_uncompressed();
    assert!(PublicKey::from_sec1_bytes(&good).is_ok());
    let mut off_curve = good;
    off_curve[64] ^= 1;
    let mut x_too_big = good;
    x_too_big[1..33].copy_from_slice(&[0xFF; 32]);
    let mut hybrid = good;
    hybrid[0] = 0x06;
    let mut zero_point = [0u8; 65];
    zero_point[0] = 0x04;
    let cases: Vec<&[u8]> = vec![
        &[],
        &[0x00],
        &good[..64],
        &off_curve,
        &x_too_big,
        &hybrid,
        &zero_point,
        &good[..33],
    ];
    for (i, case) in cases.iter().enumerate() {
        assert_eq!(
            PublicKey::from_sec1_bytes(case),
            Err(Error::InvalidPublicKey),
            "case {i}"
        );
    }
    let mut long = good.to_vec();
    long.push(0);
    assert_eq!(
        PublicKey::from_sec1_bytes(&long),
        Err(Error::InvalidPublicKey)
    );
    // Compressed: x with no point on the curve, and x >= p.
    let mut found_non_residue = false;
    for x in 0u8..50 {
        let mut c = [0u8; 33];
        c[0] = 0x02;
        c[32] = x;
        if PublicKey::from_sec1_bytes(&c).is_err() {
            found_non_residue = true;
        }
    }
    assert!(found_non_residue);
    let mut c = [0xFFu8; 33];
    c[0] = 0x03;
    assert_eq!(PublicKey::from_sec1_bytes(&c), Err(Error::InvalidPublicKey));
    // Garbage never panics.
    for len in 0..70 {
        for first in [0u8, 2, 3, 4, 6, 7] {
            let mut data = random32().repeat(3);
            data.truncate(len);
            if let Some(b) = data.first_mut() {
                *b = first;
            }
            let _ = PublicKey::from_sec1_bytes(&data);
        }
    }
}

#[test]
fn out_of_range_signatures_rejected() {
    let mut one = [0u8; 32];
    one[31] = 1;
    for (r, s) in [
        ([0u8; 32], one),
        (one, [0u8; 32]),
        (N, one),
        (one, N),
        ([0xFF; 32], one),
    ] {
        assert_eq!(
            Signature::from_scalars(r, s),
            Err(Error::SignatureOutOfRange)
        );
        let mut raw = [0u8; 64];
        raw[..32].copy_from_slice(&r);
        raw[32..].copy_from_slice(&s);
        assert_eq!(Signature::from_bytes(&raw), Err(Error::SignatureOutOfRange));
    }
    // r + s = n gives t = 0 (GM/T 0003.2 step B5).
    let public = SecretKey::generate().unwrap().public_key();
    let sig = Signature::from_scalars(one, n_minus(1)).unwrap();
    assert_eq!(
        verify_prehash(&public, &random32(), &sig),
        Err(Error::VerificationFailed)
    );
    // Largest valid components are accepted by the parser and fail verification cleanly.
    let sig = Signature::from_scalars(n_minus(1), n_minus(1)).unwrap();
    assert_eq!(
        verify_prehash(&public, &random32(), &sig),
        Err(Error::VerificationFailed)
    );
    assert_eq!(Signature::from_der(&sig.to_der()), Ok(sig));
}

#[test]
fn signing_is_randomised() {
    let secret = SecretKey::generate().unwrap();
    let signer = SigningKey::new(&secret);
    let e = random32();
    let a = signer.sign_prehash(&e).unwrap();
    let b = signer.sign_prehash(&e).unwrap();
    assert_ne!(a, b);
    let verifier = signer.verifying_key();
    assert_eq!(verifier.public_key(), &secret.public_key());
    verifier.verify_prehash(&e, &a).unwrap();
    verifier.verify_prehash(&e, &b).unwrap();
    // e >= n is reduced the same way on both sides.
    let big = [0xFFu8; 32];
    let sig = signer.sign_prehash(&big).unwrap();
    verifier.verify_prehash(&big, &sig).unwrap();
    let rc_key =
        sm2::dsa::VerifyingKey::from_sec1_bytes(ID, &secret.public_key().to_uncompressed())
            .unwrap();
    rc_key
        .verify_prehash(
            &big,
            &sm2::dsa::Signature::from_slice(&sig.to_bytes()).unwrap(),
        )
        .unwrap();
}
