//! The GM/T 0010 fixed vector in `tests/vectors/gmt0010/` (see its README): fixed keys,
//! certificates, content and signing time. SM2 signatures are randomised, so the test pins
//! everything but the signature value: re-signing must give the same DER once the signature
//! is blanked, and the stored signature must verify.
//!
//! `YINXIN_WRITE_VECTORS=1 cargo test -p yinxin-cms --test cms gmt0010` rewrites the
//! vector (new certificate and message signatures; the structure stays the same).

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::{Decode, Encode};
use yinxin_cms::oid;
use yinxin_cms::signed_data::{self, Form, SignOptions, SignerSpec, VerifyOptions};
use yinxin_crypto::{KeyHandle, PrivateKey};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::issue::{IssueParams, issue};
use yinxin_pki::name;
use yinxin_pki::profile::{KeyRole, Profile};

/// GM/T 0003.2 (GB/T 32918.2) Annex A's example signing key d_A (Fp-256 SM2 curve).
const SIGNER_SCALAR: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
/// The root CA's key: a fixed scalar chosen for this vector (any value in [1, n-2] works).
const ROOT_SCALAR: &str = "5892F9C6C6A8A5F3E6C4F0B1D8F2D0A3C4B5A6978877665544332211A0B0C0D0";
/// 2025-01-01T00:00:00Z.
const SIGNING_TIME: u64 = 1_735_689_600;
/// 2024-01-01T00:00:00Z and 2044-01-01T00:00:00Z.
const NOT_BEFORE: u64 = 1_704_067_200;
const NOT_AFTER: u64 = 2_335_219_200;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/gmt0010")
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn key(scalar: &str) -> PrivateKey {
    PrivateKey::from_sm2_scalar(&hex::decode(scalar).unwrap()).unwrap()
}

fn options() -> SignOptions {
    SignOptions {
        form: Form::GmT0010,
        ..SignOptions::default()
    }
}

/// Make the certificates and the message anew and store them.
fn write_vector() {
    let root_key = key(ROOT_SCALAR);
    let signer_key = key(SIGNER_SCALAR);
    let scheme = root_key.algorithm().default_signature_scheme();
    let params = |cn: &str, k: &PrivateKey, serial: u8, profile| {
        IssueParams::new(
            name::parse(&format!("CN={cn},O=yinxin GM/T 0010 vector,C=CN")).unwrap(),
            k.public_key().clone(),
            vec![serial],
            at(NOT_BEFORE),
            at(NOT_AFTER),
            profile,
        )
    };
    let root = issue(
        None,
        &root_key,
        &scheme,
        &params("Vector Root", &root_key, 1, Profile::RootCa),
    )
    .unwrap();
    let signer = issue(
        Some(&root),
        &root_key,
        &scheme,
        &params(
            "Vector Signer",
            &signer_key,
            2,
            Profile::Organisation {
                role: KeyRole::Signing,
            },
        ),
    )
    .unwrap();
    let content = std::fs::read(dir().join("content.txt")).unwrap();
    let signed = signed_data::sign_at(
        &content,
        &[SignerSpec::new(&signer_key, &signer)],
        &options(),
        at(SIGNING_TIME),
    )
    .unwrap();
    std::fs::write(dir().join("root.der"), root.to_der().unwrap()).unwrap();
    std::fs::write(dir().join("signer.der"), signer.to_der().unwrap()).unwrap();
    std::fs::write(dir().join("signed.der"), signed).unwrap();
}

/// The `SignedData` DER with the signature values emptied.
fn without_signatures(message: &[u8]) -> Vec<u8> {
    let mut decoded = signed_data::decode(message).unwrap();
    let mut infos = decoded.signed_data.signer_infos.0.into_vec();
    for info in &mut infos {
        info.signature = der::asn1::OctetString::new(Vec::new()).unwrap();
    }
    decoded.signed_data.signer_infos = cms::signed_data::SignerInfos::try_from(infos).unwrap();
    decoded.signed_data.to_der().unwrap()
}

#[test]
fn gmt0010_vector_matches_and_verifies() {
    if std::env::var_os("YINXIN_WRITE_VECTORS").is_some() {
        write_vector();
    }
    let root = Certificate::from_der(&std::fs::read(dir().join("root.der")).unwrap()).unwrap();
    let signer = Certificate::from_der(&std::fs::read(dir().join("signer.der")).unwrap()).unwrap();
    let content = std::fs::read(dir().join("content.txt")).unwrap();
    let stored = std::fs::read(dir().join("signed.der")).unwrap();

    // The stored message verifies (at a fixed time inside the certificates' validity).
    let anchors = [root.clone()];
    let report = signed_data::verify(
        &stored,
        None,
        &VerifyOptions::new(&anchors).at(at(SIGNING_TIME)),
    )
    .unwrap();
    assert!(report.is_valid(), "{:?}", report.first_problem());
    assert_eq!(report.form, Form::GmT0010);
    assert_eq!(report.content_type, oid::GMT_DATA);
    assert_eq!(report.content.as_deref(), Some(content.as_slice()));
    assert_eq!(report.signers[0].signing_time, Some(at(SIGNING_TIME)));

    // The identifiers GM/T 0010 asks for.
    let decoded = signed_data::decode(&stored).unwrap();
    let sd = &decoded.signed_data;
    assert_eq!(sd.version, cms::content_info::CmsVersion::V1);
    let digest_algorithms: Vec<_> = sd.digest_algorithms.iter().map(|a| a.oid).collect();
    assert_eq!(digest_algorithms, [yinxin_crypto::oid::SM3]);
    let si = decoded.signer(0).unwrap();
    assert_eq!(si.digest_alg.oid, yinxin_crypto::oid::SM3);
    assert_eq!(si.digest_alg.parameters, None);
    assert_eq!(si.signature_algorithm.oid, yinxin_crypto::oid::SM2_SIGN);
    assert_eq!(si.signature_algorithm.parameters, None);

    // Re-signing with the same key, certificate, content and time gives the same DER but for
    // the (randomised) signature value.
    let signer_key = KeyHandle::new(std::sync::Arc::new(key(SIGNER_SCALAR)));
    let again = signed_data::sign_at(
        &content,
        &[SignerSpec::new(&signer_key, &signer)],
        &options(),
        at(SIGNING_TIME),
    )
    .unwrap();
    assert_ne!(again, stored, "SM2 signatures are randomised");
    assert_eq!(without_signatures(&again), without_signatures(&stored));
    // And the outer ContentInfo is the GM/T signedData OID around that SignedData.
    let header_len = stored.len() - sd.to_der().unwrap().len();
    assert_eq!(
        hex::encode(&stored[..header_len]),
        format!(
            "3082{:04x}060a2a811ccf550601040202a082{:04x}",
            stored.len() - 4,
            stored.len() - 20
        )
    );
}
