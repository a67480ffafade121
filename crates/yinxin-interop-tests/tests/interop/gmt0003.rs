//! The published SM2 examples on the recommended curve `sm2p256v1`: GM/T 0003.5-2012
//! Appendix A (the same values are in GB/T 32918.5-2017 Appendix A), signature example A.2 and
//! encryption example A.3.
//!
//! The values below were checked against several independent copies of the standard's
//! appendix (OpenSSL's `test/sm2_internal_test.c`, GmSSL's `sm2test.c`, BouncyCastle's and
//! other libraries' test suites). Both examples use the same key pair `d`/`P` and the same
//! "random" `k`, which is why C1 of the encryption example has the x coordinate of `k·G`.

use yinxin_crypto::hash::digest;
use yinxin_crypto::{
    DistinguishingId, EncryptionScheme, Error, HashAlgorithm, PrivateKey, PublicKey,
    SignatureScheme, Sm2CiphertextFormat,
};
use yinxin_interop_tests::der::{self, Sm2Cipher};
use yinxin_interop_tests::{DEFAULT_ID, Workdir, openssl, unhex};

/// The example private key `d_A` (= `d_B`).
const D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
/// The example public key `P_A = d·G`.
const P_X: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
const P_Y: &str = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";

/// Curve parameters hashed into Z (GM/T 0003.5 §2 / the recommended curve).
const CURVE_A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
const CURVE_B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
const G_X: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
const G_Y: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

/// Signature example: message, Z_A (ID 1234567812345678), e = SM3(Z_A || M), r, s.
const SIGN_MESSAGE: &[u8] = b"message digest";
const Z_A: &str = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3";
const E: &str = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640";
const R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
const S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";

/// Encryption example: message, C1 = (x1, y1), C3, C2.
const ENCRYPT_MESSAGE: &[u8] = b"encryption standard";
const C1_X: &str = "04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73";
const C1_Y: &str = "E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0";
const C3: &str = "59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766";
const C2: &str = "21886CA989CA9C7D58087307CA93092D651EFA";

/// The example key, imported through a SEC1 `ECPrivateKey` built by hand from the raw `d`.
fn example_key() -> PrivateKey {
    let mut d = [0u8; 32];
    d.copy_from_slice(&unhex(D));
    let key = PrivateKey::from_pem_or_der(&der::sm2_sec1_private_key(&d), None)
        .expect("yinxin reads a SEC1 SM2 key");
    // The same scalar through PKCS#8 gives the same key.
    let via_pkcs8 = PrivateKey::from_pem_or_der(&der::sm2_pkcs8_private_key(&d), None)
        .expect("yinxin reads a PKCS#8 SM2 key");
    assert_eq!(key.public_key(), via_pkcs8.public_key());
    key
}

fn example_public_point() -> Vec<u8> {
    [vec![0x04], unhex(P_X), unhex(P_Y)].concat()
}

fn example_cipher() -> Sm2Cipher {
    Sm2Cipher {
        x: unhex(C1_X),
        y: unhex(C1_Y),
        x_encoded_len: 32,
        y_encoded_len: 32,
        hash: unhex(C3),
        ciphertext: unhex(C2),
    }
}

fn sm2_default() -> SignatureScheme {
    SignatureScheme::Sm2WithSm3 {
        id: DistinguishingId::default(),
    }
}

#[test]
fn example_key_has_the_published_public_key() {
    let key = example_key();
    assert_eq!(
        hex::encode_upper(key.public_key().raw_bytes()),
        hex::encode_upper(example_public_point())
    );
    let from_point = PublicKey::from_ec_point(key.algorithm(), &example_public_point())
        .expect("the published point is on the curve");
    assert_eq!(&from_point, key.public_key());
}

#[test]
fn z_and_e_follow_the_published_values() {
    // Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A), ENTL_A = 0x0080.
    let mut z_input = vec![0x00, 0x80];
    z_input.extend_from_slice(DEFAULT_ID.as_bytes());
    for part in [CURVE_A, CURVE_B, G_X, G_Y, P_X, P_Y] {
        z_input.extend_from_slice(&unhex(part));
    }
    let z = digest(HashAlgorithm::Sm3, &z_input);
    assert_eq!(hex::encode_upper(&z), Z_A);
    let e = digest(HashAlgorithm::Sm3, &[z.as_slice(), SIGN_MESSAGE].concat());
    assert_eq!(hex::encode_upper(e), E);
    // yinxin's own Z is checked implicitly: the published (r, s) verifies only if yinxin
    // hashes exactly this Z in front of the message (next test).
}

#[test]
fn published_signature_verifies_in_yinxin() {
    let key = example_key();
    let public = key.public_key();
    let (r, s) = (unhex(R), unhex(S));
    let der_sig = der::signature(&r, &s);
    let raw_sig = [r.as_slice(), s.as_slice()].concat();
    let scheme = sm2_default();
    public
        .verify(&scheme, SIGN_MESSAGE, &der_sig)
        .expect("the published (r, s) verifies as DER");
    public
        .verify(&scheme, SIGN_MESSAGE, &raw_sig)
        .expect("the published (r, s) verifies as raw r || s");

    // Anything else must not verify.
    let other_id = SignatureScheme::Sm2WithSm3 {
        id: DistinguishingId::new("1234567812345679").expect("id"),
    };
    let failures = [
        public.verify(&scheme, b"message digesT", &der_sig),
        public.verify(&other_id, SIGN_MESSAGE, &der_sig),
        public.verify(&scheme, SIGN_MESSAGE, &der::signature(&s, &r)),
        public.verify(
            &scheme,
            SIGN_MESSAGE,
            &[&raw_sig[..63], &[raw_sig[63] ^ 1]].concat(),
        ),
    ];
    for (i, result) in failures.into_iter().enumerate() {
        assert!(
            matches!(result, Err(Error::InvalidSignature)),
            "case {i}: {result:?}"
        );
    }

    // A fresh yinxin signature with the example key verifies too (and differs: random k).
    let mine = key.sign(&scheme, SIGN_MESSAGE).expect("sign");
    public.verify(&scheme, SIGN_MESSAGE, &mine).expect("verify");
    assert_ne!(mine, der_sig);
}

#[test]
fn published_signature_verifies_in_openssl() {
    let dir = Workdir::new();
    let key = example_key();
    dir.write("pub.pem", key.public_key().to_pem());
    dir.write("msg", SIGN_MESSAGE);
    dir.write("sig", der::signature(&unhex(R), &unhex(S)));
    openssl(
        &dir,
        [
            "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "pub.pem", "-in",
            "msg", "-sigfile", "sig", "-pkeyopt",
        ]
        .into_iter()
        .chain([format!("distid:{DEFAULT_ID}").as_str()]),
    )
    .expect_ok("OpenSSL verifies the GM/T 0003.5 example signature");
}

#[test]
fn published_ciphertext_decrypts_in_every_layout() {
    let key = example_key();
    let cipher = example_cipher();
    let asn1 = cipher.to_der();
    // The GM/T 0009 encoding of this ciphertext as printed in OpenSSL's sm2_internal_test.c.
    assert_eq!(
        hex::encode_upper(&asn1),
        concat!(
            "307C0220",
            "04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73",
            "022100",
            "E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0",
            "0420",
            "59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766",
            "0413",
            "21886CA989CA9C7D58087307CA93092D651EFA"
        )
    );
    let layouts = [
        ("ASN.1", asn1.clone()),
        ("04 || C1 || C3 || C2", cipher.c1c3c2()),
        ("C1 || C3 || C2 without 04", cipher.c1c3c2()[1..].to_vec()),
        ("04 || C1 || C2 || C3", cipher.c1c2c3()),
        ("C1 || C2 || C3 without 04", cipher.c1c2c3()[1..].to_vec()),
    ];
    for (name, ct) in &layouts {
        // The scheme's format names what encryption writes; decryption takes any layout.
        for format in [
            Sm2CiphertextFormat::Asn1,
            Sm2CiphertextFormat::C1C3C2,
            Sm2CiphertextFormat::C1C2C3,
        ] {
            let pt = key
                .decrypt(&EncryptionScheme::Sm2(format), ct)
                .unwrap_or_else(|e| panic!("{name} with {format:?}: {e}"));
            assert_eq!(&pt[..], ENCRYPT_MESSAGE, "{name}");
        }
    }
    // A flipped bit anywhere in C3 or C2 is detected.
    for (name, ct) in &layouts {
        for pos in [ct.len() - 1, ct.len() - 20] {
            let mut bad = ct.clone();
            bad[pos] ^= 0x01;
            let result = key.decrypt(&EncryptionScheme::Sm2(Sm2CiphertextFormat::Asn1), &bad);
            assert!(
                matches!(result, Err(Error::DecryptionFailed)),
                "{name}, bit flipped at {pos}: {result:?}"
            );
        }
    }
}

#[test]
fn published_ciphertext_decrypts_in_openssl_with_the_key_yinxin_exports() {
    let dir = Workdir::new();
    let key = example_key();
    dir.write(
        "key.pem",
        key.to_pkcs8_pem(None).expect("export").as_bytes(),
    );
    dir.write("ct", example_cipher().to_der());
    let pt = openssl(
        &dir,
        ["pkeyutl", "-decrypt", "-inkey", "key.pem", "-in", "ct"],
    )
    .expect_ok("OpenSSL decrypts the GM/T 0003.5 example ciphertext");
    assert_eq!(pt, ENCRYPT_MESSAGE);
}
