//! Tampering gives the precise reason; bad input is an `Err`, never a panic.

use der::Encode;
use yinxin_cms::signed_data::{self, SignOptions, SignerProblem, SignerSpec, VerifyOptions};
use yinxin_cms::timestamp::{
    self, Imprint, TimestampProblem, TimestampRequest, TimestampResponse, TimestampSigner,
    TsaPolicy,
};
use yinxin_crypto::{HashAlgorithm, KeySpec};
use yinxin_pki::profile::{KeyRole, Profile};

use super::{DAY, Xorshift, find, now, pki};

const CONTENT: &[u8] = b"bid: 1 000 000 CNY, delivery in 30 days";

fn problem(
    signed: &[u8],
    content: Option<&[u8]>,
    anchors: &[yinxin_pki::certificate::Certificate],
) -> Option<SignerProblem> {
    let report = signed_data::verify(signed, content, &VerifyOptions::new(anchors)).unwrap();
    report.first_problem().cloned()
}

/// (unstamped, stamped, token)
fn stamped_message() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let spec = KeySpec::EcP256;
    let (key, cert) = pki(spec).signer(spec, "tamper signer", 0x7a01);
    let signed = signed_data::sign(
        CONTENT,
        &[SignerSpec::new(key.handle.as_ref(), &cert)],
        &SignOptions::default(),
    )
    .unwrap();
    let (tsa_key, tsa_cert) = pki(spec).tsa(spec, "tamper TSA", 0x7a02);
    let tsa = TimestampSigner::new(
        tsa_key.signer(),
        tsa_key.private.algorithm().default_signature_scheme(),
        tsa_cert,
        Vec::new(),
        TsaPolicy::new(const_oid::ObjectIdentifier::new_unwrap("1.2.156.999.7")),
    )
    .unwrap();
    let signature = signed_data::signature_value(&signed, 0).unwrap();
    let request = TimestampRequest::for_data(HashAlgorithm::Sha256, &signature).with_cert_req(true);
    let token = tsa.token(&request, 5, now()).unwrap();
    let stamped = signed_data::add_timestamp(&signed, 0, &token).unwrap();
    (signed, stamped, token)
}

#[test]
fn tampering_is_named_precisely() {
    let anchors = [pki(KeySpec::EcP256).root.clone()];
    let (plain, stamped, token) = stamped_message();
    assert_eq!(
        problem(&stamped, None, &anchors).map(|p| p.to_string()),
        None
    );

    // One byte of the content.
    let mut m = stamped.clone();
    let at = find(&m, CONTENT);
    m[at] ^= 0x20;
    assert!(matches!(
        problem(&m, None, &anchors),
        Some(SignerProblem::ContentDigestMismatch)
    ));

    // One byte of the signature value.
    let signature = signed_data::signature_value(&stamped, 0).unwrap();
    let mut m = stamped.clone();
    let at = find(&m, &signature);
    m[at + signature.len() - 1] ^= 0x01;
    assert!(matches!(
        problem(&m, None, &anchors),
        Some(SignerProblem::SignatureInvalid)
    ));

    // One digit of the signed signingTime (UTCTime 17 0d YYMMDDHHMMSSZ).
    let mut m = stamped.clone();
    let signing_time = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05,
    ];
    let at = find(&m, &signing_time) + signing_time.len() + 2 + 2 + 2; // SET, UTCTime headers, YY
    m[at] = if m[at] == b'0' { b'1' } else { b'0' };
    assert!(
        matches!(
            problem(&m, None, &anchors),
            Some(SignerProblem::SignatureInvalid)
        ),
        "{:?}",
        problem(&m, None, &anchors)
    );

    // One byte of the timestamp token's signature.
    let token_signature = signed_data::signature_value(&token, 0).unwrap();
    let mut m = stamped.clone();
    let at = find(&m, &token_signature);
    m[at + token_signature.len() - 1] ^= 0x01;
    match problem(&m, None, &anchors) {
        Some(SignerProblem::TimestampInvalid(p)) => assert!(
            matches!(*p, TimestampProblem::Signer(ref s) if matches!(**s, SignerProblem::SignatureInvalid)),
            "{p}"
        ),
        other => panic!("{other:?}"),
    }

    // One byte of the token's TSTInfo (its serial number) breaks its messageDigest.
    let mut m = stamped.clone();
    let tst = find(&m, &[0x02, 0x01, 0x05, 0x18]); // serialNumber 5, then genTime
    m[tst + 2] = 6;
    match problem(&m, None, &anchors) {
        Some(SignerProblem::TimestampInvalid(p)) => assert!(
            matches!(*p, TimestampProblem::Signer(ref s) if matches!(**s, SignerProblem::ContentDigestMismatch)),
            "{p}"
        ),
        other => panic!("{other:?}"),
    }

    // Without trust, or later than the certificate's life: the chain.
    assert!(matches!(
        problem(&plain, None, &[]),
        Some(SignerProblem::Chain(_))
    ));
    // (The timestamp is checked first: its TSA does not chain either.)
    assert!(matches!(
        problem(&stamped, None, &[]),
        Some(SignerProblem::TimestampInvalid(_))
    ));
    let late = VerifyOptions::new(&anchors).at(now() + 3 * 365 * DAY);
    let report = signed_data::verify(&plain, None, &late).unwrap();
    assert!(
        matches!(
            report.first_problem(),
            Some(SignerProblem::Chain(
                yinxin_pki::path::PathError::Expired { .. }
            ))
        ),
        "{:?}",
        report.first_problem()
    );
}

#[test]
fn a_token_for_another_signature_and_another_certificate_are_named() {
    let spec = KeySpec::Rsa2048;
    let anchors = [pki(spec).root.clone()];
    let (key, cert) = pki(spec).signer(spec, "swap signer", 0x7a03);
    let sign_at = |t| {
        signed_data::sign_at(
            CONTENT,
            &[SignerSpec::new(key.handle.as_ref(), &cert)],
            &SignOptions::default(),
            t,
        )
        .unwrap()
    };
    let first = sign_at(now());
    let second = sign_at(now() - DAY);
    let (tsa_key, tsa_cert) = pki(spec).tsa(spec, "swap TSA", 0x7a04);
    let tsa = TimestampSigner::new(
        tsa_key.signer(),
        tsa_key.private.algorithm().default_signature_scheme(),
        tsa_cert,
        Vec::new(),
        TsaPolicy::new(const_oid::ObjectIdentifier::new_unwrap("1.2.156.999.8")),
    )
    .unwrap();
    let sig1 = signed_data::signature_value(&first, 0).unwrap();
    let sig2 = signed_data::signature_value(&second, 0).unwrap();
    let token = tsa
        .token(
            &TimestampRequest::for_data(HashAlgorithm::Sha256, &sig1).with_cert_req(true),
            1,
            now(),
        )
        .unwrap();
    let stamped = signed_data::add_timestamp(&first, 0, &token).unwrap();
    // Put the second message's signing time and signature in: a valid signature whose
    // timestamp stamps another one.
    let time_of = |m: &[u8]| {
        let oid = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05,
        ];
        let at = find(m, &oid) + oid.len() + 2;
        m[at..at + 15].to_vec()
    };
    let mut m = stamped.clone();
    let t1 = time_of(&stamped);
    let at = find(&m, &t1);
    m[at..at + 15].copy_from_slice(&time_of(&second));
    let at = find(&m, &sig1);
    m[at..at + sig1.len()].copy_from_slice(&sig2);
    assert!(
        matches!(
            problem(&m, None, &anchors),
            Some(SignerProblem::TimestampImprintMismatch)
        ),
        "{:?}",
        problem(&m, None, &anchors)
    );

    // Another certificate with the same issuer, serial and key: the signingCertificateV2
    // attribute names the original.
    let twin = pki(spec).issue_with(
        &key,
        "swap signer",
        0x7a03,
        Profile::Organisation {
            role: KeyRole::Signing,
        },
        now() + 200 * DAY,
    );
    let original = cert.to_der().unwrap();
    let twin = twin.to_der().unwrap();
    assert_eq!(original.len(), twin.len());
    let mut m = first.clone();
    let at = find(&m, &original);
    m[at..at + original.len()].copy_from_slice(&twin);
    assert!(
        matches!(
            problem(&m, None, &anchors),
            Some(SignerProblem::SigningCertificateMismatch)
        ),
        "{:?}",
        problem(&m, None, &anchors)
    );

    // Certificates left out: not found, unless the verifier has them.
    let bare = signed_data::sign(
        CONTENT,
        &[SignerSpec::new(key.handle.as_ref(), &cert)],
        &SignOptions {
            include_certificates: false,
            ..SignOptions::default()
        },
    )
    .unwrap();
    assert!(matches!(
        problem(&bare, None, &anchors),
        Some(SignerProblem::CertificateNotFound)
    ));
    let known = [cert.clone()];
    let report = signed_data::verify(
        &bare,
        None,
        &VerifyOptions::new(&anchors).with_intermediates(&known),
    )
    .unwrap();
    assert!(report.is_valid());
}

#[test]
fn bad_input_is_an_error_never_a_panic() {
    let (_, stamped, token) = stamped_message();
    let anchors = [pki(KeySpec::EcP256).root.clone()];
    let options = VerifyOptions::new(&anchors);
    let request = TimestampRequest::for_data(HashAlgorithm::Sha256, b"x")
        .with_random_nonce()
        .to_der()
        .unwrap();
    let response = TimestampResponse::decode(&[0x30, 0x03, 0x30, 0x01, 0x02]);
    assert!(response.is_err());
    for garbage in [
        &b""[..],
        b"garbage",
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        &[0x30, 0x80, 0x06, 0x09],
        &[0x30, 0x83, 0x7f, 0xff, 0xff, 0x02, 0x01],
    ] {
        assert!(signed_data::verify(garbage, None, &options).is_err());
        assert!(signed_data::verify(garbage, Some(b"x"), &options).is_err());
        assert!(signed_data::signature_value(garbage, 0).is_err());
        assert!(TimestampRequest::decode(garbage).is_err());
        assert!(TimestampResponse::decode(garbage).is_err());
        assert!(timestamp::verify_token(garbage, Imprint::Data(b"x"), &options).is_err());
    }
    // An unknown content type is an Err.
    let data = yinxin_cms::content_info::wrap(
        const_oid::ObjectIdentifier::new_unwrap("1.2.3.4"),
        &der::asn1::OctetString::new(b"x".to_vec()).unwrap(),
    )
    .unwrap();
    let data = yinxin_cms::content_info::to_der(&data).unwrap();
    assert!(signed_data::verify(&data, None, &options).is_err());
    assert!(signed_data::signature_value(&stamped, 1).is_err());

    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    for input in [&stamped, &token, &request] {
        for _ in 0..300 {
            let mut m = input.clone();
            match rng.below(3) {
                0 => m.truncate(rng.below(m.len())),
                1 => {
                    let i = rng.below(m.len());
                    m[i] ^= 1 << rng.below(8);
                }
                _ => {
                    let i = rng.below(m.len());
                    m[i] = 0xff;
                }
            }
            let _ = signed_data::verify(&m, Some(CONTENT), &options);
            let _ = signed_data::signature_value(&m, 0);
            let _ = signed_data::add_timestamp(&m, 0, &token);
            let _ = timestamp::verify_token(&m, Imprint::Data(CONTENT), &options);
            let _ = TimestampRequest::decode(&m);
            let _ = TimestampResponse::decode(&m);
        }
    }
}
