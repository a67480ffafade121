//! `SignedData` against `openssl cms`: OpenSSL verifies what yinxin signs (RSA, ECDSA P-256,
//! one and two signers, attached and detached, with a timestamp on a signature), and yinxin
//! verifies what OpenSSL signs.

use yinxin_cms::signed_data::{self, Form, SignOptions, SignerProblem, SignerSpec, VerifyOptions};
use yinxin_cms::timestamp::{TimestampRequest, TimestampSigner, TsaPolicy};
use yinxin_crypto::{HashAlgorithm, KeySpec, SignatureScheme};

use super::{Workdir, now, pki};

const CONTENT: &[u8] = b"Purchase order 2025-0042: 1200 boxes of amoxicillin\n\x00\xff binary";

fn openssl_verify(dir: &Workdir, detached: bool) -> Vec<u8> {
    let mut args = vec![
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        "sd.der",
        "-CAfile",
        "roots.pem",
        "-purpose",
        "any",
        "-out",
        "out.bin",
    ];
    if detached {
        args.extend(["-content", "content.bin"]);
    }
    dir.openssl(&args);
    dir.read("out.bin")
}

#[test]
fn openssl_verifies_what_yinxin_signs() {
    for spec in [KeySpec::Rsa2048, KeySpec::EcP256] {
        let (key, cert) = pki(spec).signer(spec, &format!("{spec} signer"), 0x5101);
        for detached in [false, true] {
            let dir = Workdir::new();
            dir.write_cert("roots.pem", &pki(spec).root);
            dir.write("content.bin", CONTENT);
            let options = SignOptions {
                detached,
                ..SignOptions::default()
            };
            let spec_ = SignerSpec::new(key.handle.as_ref(), &cert);
            let signed = signed_data::sign(CONTENT, &[spec_], &options).unwrap();
            dir.write("sd.der", &signed);
            assert_eq!(openssl_verify(&dir, detached), CONTENT);
            // And yinxin agrees.
            let anchors = [pki(spec).root.clone()];
            let report = signed_data::verify(
                &signed,
                detached.then_some(CONTENT),
                &VerifyOptions::new(&anchors),
            )
            .unwrap();
            assert!(report.is_valid(), "{:?}", report.first_problem());
            assert_eq!(report.content.is_some(), !detached);
            assert_eq!(report.signers[0].chain.len(), 2);
            assert!(report.signers[0].signing_time.is_some());
        }
    }
}

#[test]
fn openssl_verifies_two_signers_and_a_timestamp() {
    let (rsa_key, rsa_cert) = pki(KeySpec::Rsa2048).signer(KeySpec::Rsa2048, "RSA two", 0x5102);
    let (ec_key, ec_cert) = pki(KeySpec::EcP256).signer(KeySpec::EcP256, "EC two", 0x5103);
    let signers = [
        SignerSpec::new(rsa_key.handle.as_ref(), &rsa_cert)
            .with_scheme(SignatureScheme::RsaPss(HashAlgorithm::Sha256)),
        SignerSpec::new(ec_key.handle.as_ref(), &ec_cert),
    ];
    let signed = signed_data::sign(CONTENT, &signers, &SignOptions::default()).unwrap();
    // Timestamp the first signer's signature with an ECDSA TSA.
    let (tsa_key, tsa_cert) = pki(KeySpec::EcP256).tsa(KeySpec::EcP256, "TSA", 0x5104);
    let tsa = TimestampSigner::new(
        tsa_key.signer(),
        tsa_key.private.algorithm().default_signature_scheme(),
        tsa_cert,
        Vec::new(),
        TsaPolicy::new(const_oid::ObjectIdentifier::new_unwrap("1.2.156.999.1.1")),
    )
    .unwrap();
    let signature = signed_data::signature_value(&signed, 0).unwrap();
    let request = TimestampRequest::for_data(HashAlgorithm::Sha256, &signature).with_cert_req(true);
    let token = tsa.token(&request, 99, now()).unwrap();
    let stamped = signed_data::add_timestamp(&signed, 0, &token).unwrap();
    // A token for another signer's signature is refused.
    assert!(signed_data::add_timestamp(&signed, 1, &token).is_err());

    let dir = Workdir::new();
    dir.write(
        "roots.pem",
        super::cert_pem(&pki(KeySpec::Rsa2048).root) + &super::cert_pem(&pki(KeySpec::EcP256).root),
    );
    dir.write("sd.der", &stamped);
    assert_eq!(openssl_verify(&dir, false), CONTENT);
    let text = String::from_utf8(dir.openssl(&[
        "cms", "-cmsout", "-print", "-inform", "DER", "-in", "sd.der",
    ]))
    .unwrap();
    assert!(text.contains("id-smime-aa-timeStampToken"), "{text}");

    let anchors = [
        pki(KeySpec::Rsa2048).root.clone(),
        pki(KeySpec::EcP256).root.clone(),
    ];
    let report = signed_data::verify(&stamped, None, &VerifyOptions::new(&anchors)).unwrap();
    assert!(report.is_valid(), "{:?}", report.first_problem());
    assert_eq!(report.signers.len(), 2);
    let stamped_signer = report
        .signers
        .iter()
        .find(|s| s.timestamp.is_some())
        .expect("one signer has a timestamp");
    assert_eq!(stamped_signer.timestamp.as_ref().unwrap().serial, [99]);
    assert!(
        report
            .signers
            .iter()
            .any(|s| matches!(s.scheme, SignatureScheme::RsaPss(_)))
    );
}

#[test]
fn yinxin_verifies_what_openssl_signs() {
    for spec in [KeySpec::Rsa2048, KeySpec::EcP256] {
        let (key, cert) = pki(spec).signer(spec, &format!("{spec} OpenSSL signer"), 0x5105);
        let dir = Workdir::new();
        dir.write_cert("cert.pem", &cert);
        dir.write_key("key.pem", &key.private);
        dir.write("content.bin", CONTENT);
        let anchors = [pki(spec).root.clone()];
        let options = VerifyOptions::new(&anchors);
        for (name, extra) in [
            ("detached", &[][..]),
            ("attached", &["-nodetach"][..]),
            ("noattr", &["-nodetach", "-noattr"][..]),
            ("sha384", &["-md", "sha384"][..]),
            ("keyid", &["-nodetach", "-keyid"][..]),
        ] {
            let mut args = vec![
                "cms",
                "-sign",
                "-binary",
                "-in",
                "content.bin",
                "-signer",
                "cert.pem",
                "-inkey",
                "key.pem",
                "-outform",
                "DER",
                "-out",
                "sd.der",
            ];
            args.extend(extra);
            dir.openssl(&args);
            let signed = dir.read("sd.der");
            let attached = extra.contains(&"-nodetach");
            let report =
                signed_data::verify(&signed, (!attached).then_some(CONTENT), &options).unwrap();
            assert!(
                report.is_valid(),
                "{spec} {name}: {:?}",
                report.first_problem()
            );
            assert_eq!(report.form, Form::Rfc5652);
            if attached {
                assert_eq!(report.content.as_deref(), Some(CONTENT), "{spec} {name}");
            }
            // The wrong content.
            let report = signed_data::verify(&signed, Some(b"other"), &options).unwrap();
            if !attached {
                assert!(
                    matches!(
                        report.first_problem(),
                        Some(SignerProblem::ContentDigestMismatch)
                    ),
                    "{spec} {name}: {:?}",
                    report.first_problem()
                );
            }
        }
        // PEM and streamed BER.
        dir.openssl(&[
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-stream",
            "-in",
            "content.bin",
            "-signer",
            "cert.pem",
            "-inkey",
            "key.pem",
            "-outform",
            "PEM",
            "-out",
            "sd.pem",
        ]);
        let report = signed_data::verify(&dir.read("sd.pem"), None, &options).unwrap();
        assert!(
            report.is_valid(),
            "{spec} PEM/BER: {:?}",
            report.first_problem()
        );
        assert_eq!(report.content.as_deref(), Some(CONTENT));
    }
}
