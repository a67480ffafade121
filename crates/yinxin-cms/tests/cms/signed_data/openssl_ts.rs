//! RFC 3161 against `openssl ts`: OpenSSL's requests answered by `TimestampSigner` and
//! verified by `openssl ts -verify`; OpenSSL's TSA tokens verified by yinxin; rejections.

use std::time::Duration;

use const_oid::ObjectIdentifier;
use yinxin_cms::Error;
use yinxin_cms::signed_data::Form;
use yinxin_cms::timestamp::{
    self, Accuracy, FailureInfo, Imprint, MessageImprint, PkiStatus, TimeStampReq,
    TimestampProblem, TimestampRequest, TimestampResponse, TimestampSigner, TsaPolicy,
    VerifyOptions,
};
use yinxin_crypto::{HashAlgorithm, KeySpec};

use super::{Workdir, now, pki};

const POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.999.1.3161");
const OTHER_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.999.1.9");

fn tsa_signer(
    spec: KeySpec,
    policy: TsaPolicy,
) -> (TimestampSigner, yinxin_pki::certificate::Certificate) {
    let (key, cert) = pki(spec).tsa(spec, &format!("{spec} TSA"), 0x7501);
    let scheme = key.private.algorithm().default_signature_scheme();
    let signer =
        TimestampSigner::new(key.signer(), scheme, cert.clone(), Vec::new(), policy).unwrap();
    (signer, cert)
}

fn millisecond_policy() -> TsaPolicy {
    TsaPolicy {
        accuracy: Some(Accuracy {
            seconds: 0,
            millis: 250,
            micros: 0,
        }),
        ordering: true,
        tsa_name: true,
        ..TsaPolicy::new(POLICY)
    }
}

#[test]
fn openssl_verifies_tokens_for_its_requests() {
    for (spec, policy, cert_req) in [
        (KeySpec::Rsa2048, TsaPolicy::new(POLICY), true),
        (KeySpec::EcP256, millisecond_policy(), true),
        (KeySpec::EcP256, TsaPolicy::new(POLICY), false),
    ] {
        let dir = Workdir::new();
        let (signer, tsa_cert) = tsa_signer(spec, policy);
        dir.write("data.bin", b"tender document v1");
        dir.write_cert("root.pem", &pki(spec).root);
        dir.write_cert("tsa.pem", &tsa_cert);
        let mut query = vec![
            "ts", "-query", "-data", "data.bin", "-sha256", "-out", "req.tsq",
        ];
        if cert_req {
            query.push("-cert");
        }
        dir.openssl(&query);
        let request = TimestampRequest::decode(&dir.read("req.tsq")).unwrap();
        assert_eq!(request.cert_req(), cert_req);
        assert!(
            request.nonce().is_some(),
            "OpenSSL sends a nonce by default"
        );
        let gen_time = now() + Duration::from_millis(123);
        let response = signer
            .respond(&request, 0x1234_5678_9abc, gen_time)
            .unwrap();
        dir.write("resp.tsr", &response);
        dir.openssl(&[
            "ts",
            "-verify",
            "-in",
            "resp.tsr",
            "-queryfile",
            "req.tsq",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "tsa.pem",
        ]);
        let text =
            String::from_utf8(dir.openssl(&["ts", "-reply", "-in", "resp.tsr", "-text"])).unwrap();
        assert!(text.contains("Status: Granted."), "{text}");
        assert!(text.contains("Serial number: 0x123456789ABC"), "{text}");
        assert!(text.contains(&format!("Policy OID: {POLICY}")), "{text}");
        if signer.policy().accuracy.is_some_and(|a| a.seconds == 0) {
            assert!(text.contains(".123 "), "fractional genTime: {text}");
            assert!(text.contains("Ordering: yes"), "{text}");
            assert!(text.contains("TSA: DirName:"), "{text}");
        }
        // yinxin reads its own answer the same way.
        // Without certReq the token has no certificate: the client supplies it.
        let anchors = [pki(spec).root.clone()];
        let known = [tsa_cert.clone()];
        let options = VerifyOptions::new(&anchors).with_intermediates(&known);
        let info = timestamp::verify_response(&response, &request, &options).unwrap();
        assert_eq!(info.serial_u128(), Some(0x1234_5678_9abc));
        if !cert_req {
            let err =
                timestamp::verify_response(&response, &request, &VerifyOptions::new(&anchors))
                    .unwrap_err();
            assert!(err.is_verdict(), "{err}");
        }
        assert_eq!(info.nonce.as_deref(), request.nonce());
        if cert_req {
            assert_eq!(info.tsa_certificate, tsa_cert);
        }
    }
}

#[test]
fn openssl_reads_sm2_tokens() {
    for form in [Form::Rfc5652, Form::GmT0010] {
        let dir = Workdir::new();
        let (signer, _) = tsa_signer(
            KeySpec::Sm2,
            TsaPolicy {
                form,
                ..millisecond_policy()
            },
        );
        let request = TimestampRequest::for_data(HashAlgorithm::Sm3, b"SM2 stamped")
            .with_random_nonce()
            .with_cert_req(true);
        dir.write("req.tsq", request.to_der().unwrap());
        // OpenSSL parses the request yinxin wrote …
        let text =
            String::from_utf8(dir.openssl(&["ts", "-query", "-in", "req.tsq", "-text"])).unwrap();
        assert!(text.contains("Certificate required: yes"), "{text}");
        let response = signer.respond(&request, 7, now()).unwrap();
        dir.write("resp.tsr", &response);
        // … and the SM2 token (it cannot check SM2 CMS signatures with the standard ID). It
        // reads tokens whose ContentInfo says id-signedData only, not the GM/T 0010 OID.
        if form == Form::Rfc5652 {
            let text =
                String::from_utf8(dir.openssl(&["ts", "-reply", "-in", "resp.tsr", "-text"]))
                    .unwrap();
            assert!(text.contains("Status: Granted."), "{text}");
            assert!(text.contains("Hash Algorithm: sm3"), "{text}");
        }
        let anchors = [pki(KeySpec::Sm2).root.clone()];
        let info =
            timestamp::verify_response(&response, &request, &VerifyOptions::new(&anchors)).unwrap();
        assert_eq!(info.form, form);
        assert_eq!(info.hash, HashAlgorithm::Sm3);
    }
}

/// OpenSSL as the TSA (`openssl ts -reply` with a configuration file), yinxin as client.
#[test]
fn yinxin_verifies_openssl_tokens() {
    for spec in [KeySpec::Rsa2048, KeySpec::EcP256] {
        let dir = Workdir::new();
        let (key, cert) = pki(spec).tsa(spec, "OpenSSL TSA", 0x7502);
        dir.write_cert("root.pem", &pki(spec).root);
        dir.write_cert("tsa.pem", &cert);
        dir.write_key("tsa.key", &key.private);
        dir.write("tsaserial", "0A\n");
        dir.write(
            "tsa.cnf",
            format!(
                "[ tsa ]\ndefault_tsa = tsa_config\n\n[ tsa_config ]\nserial = ./tsaserial\n\
                 signer_cert = ./tsa.pem\nsigner_key = ./tsa.key\nsigner_digest = sha256\n\
                 default_policy = {POLICY}\nother_policies = {OTHER_POLICY}\n\
                 digests = sha256, sha384, sha512\n\
                 accuracy = secs:1, millisecs:500, microsecs:100\nclock_precision_digits = 3\n\
                 ordering = yes\ntsa_name = yes\ness_cert_id_chain = no\n\
                 ess_cert_id_alg = sha256\n"
            ),
        );
        let request = TimestampRequest::for_data(HashAlgorithm::Sha384, b"bid opening record")
            .with_random_nonce()
            .with_cert_req(true);
        dir.write("req.tsq", request.to_der().unwrap());
        dir.openssl(&[
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-queryfile",
            "req.tsq",
            "-out",
            "resp.tsr",
        ]);
        let response = dir.read("resp.tsr");
        let anchors = [pki(spec).root.clone()];
        let options = VerifyOptions::new(&anchors);
        let info = timestamp::verify_response(&response, &request, &options).unwrap();
        // OpenSSL increments the serial file before use.
        assert_eq!(info.serial, [0x0b]);
        assert_eq!(info.policy, POLICY);
        assert!(info.ordering);
        assert_eq!(
            info.accuracy,
            Some(Accuracy {
                seconds: 1,
                millis: 500,
                micros: 100
            })
        );
        assert_eq!(info.tsa_certificate, cert);
        assert_eq!(info.chain.len(), 2);
        // The token alone, over the data and over the digest.
        let token = TimestampResponse::decode(&response).unwrap().token.unwrap();
        timestamp::verify_token(&token, Imprint::Data(b"bid opening record"), &options).unwrap();
        let wrong = timestamp::verify_token(&token, Imprint::Data(b"another record"), &options)
            .unwrap_err();
        assert!(matches!(
            wrong,
            Error::Timestamp(TimestampProblem::ImprintMismatch)
        ));
        assert!(wrong.is_verdict());
        // Another request's nonce is refused.
        let other = TimestampRequest::for_data(HashAlgorithm::Sha384, b"bid opening record")
            .with_nonce(vec![1, 2, 3]);
        let err = timestamp::verify_response(&response, &other, &options).unwrap_err();
        assert!(
            matches!(err, Error::Timestamp(TimestampProblem::NonceMismatch)),
            "{err}"
        );
        // Untrusted without the root.
        let err = timestamp::verify_token(
            &token,
            Imprint::Data(b"bid opening record"),
            &VerifyOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::Timestamp(TimestampProblem::Signer(_))),
            "{err}"
        );
    }
}

#[test]
fn unknown_hash_and_other_policies_are_refused() {
    let dir = Workdir::new();
    dir.write("data.bin", b"x");
    dir.openssl(&[
        "ts", "-query", "-data", "data.bin", "-sha1", "-out", "sha1.tsq",
    ]);
    let rejection = TimestampRequest::decode(&dir.read("sha1.tsq")).unwrap_err();
    assert_eq!(rejection.failure, FailureInfo::BadAlg);
    dir.write("rejected.tsr", rejection.to_response_der());
    let text =
        String::from_utf8(dir.openssl(&["ts", "-reply", "-in", "rejected.tsr", "-text"])).unwrap();
    assert!(text.contains("Status: Rejected."), "{text}");
    assert!(
        text.contains("unrecognized or unsupported algorithm identifier"),
        "{text}"
    );
    let response = TimestampResponse::decode(&rejection.to_response_der()).unwrap();
    assert_eq!(response.status, PkiStatus::Rejection);
    assert_eq!(response.failure, Some(FailureInfo::BadAlg));
    assert!(response.token.is_none());

    dir.openssl(&[
        "ts",
        "-query",
        "-data",
        "data.bin",
        "-sha256",
        "-tspolicy",
        &OTHER_POLICY.to_string(),
        "-out",
        "policy.tsq",
    ]);
    let request = TimestampRequest::decode(&dir.read("policy.tsq")).unwrap();
    let (signer, _) = tsa_signer(KeySpec::EcP256, TsaPolicy::new(POLICY));
    let rejection = signer.respond(&request, 1, now()).unwrap_err();
    assert_eq!(rejection.failure, FailureInfo::UnacceptedPolicy);

    for (bytes, failure) in [
        (&b"garbage"[..], FailureInfo::BadDataFormat),
        (&[0x30, 0x00][..], FailureInfo::BadDataFormat),
    ] {
        assert_eq!(
            TimestampRequest::decode(bytes).unwrap_err().failure,
            failure
        );
    }
    // A SHA-256 OID with a 20-octet imprint.
    let short = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifierOwned {
                oid: HashAlgorithm::Sha256.oid(),
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(vec![7; 20]).unwrap(),
        },
        req_policy: None,
        nonce: None,
        cert_req: false,
        extensions: None,
    };
    let short = der::Encode::to_der(&short).unwrap();
    assert_eq!(
        TimestampRequest::decode(&short).unwrap_err().failure,
        FailureInfo::BadDataFormat
    );
    assert!(TimestampRequest::for_digest(HashAlgorithm::Sha256, vec![0; 20]).is_err());
}

#[test]
fn signer_refuses_certificates_that_are_not_for_time_stamping() {
    let spec = KeySpec::EcP256;
    let (key, cert) = pki(spec).signer(spec, "not a TSA", 0x7503);
    let scheme = key.private.algorithm().default_signature_scheme();
    let err = TimestampSigner::new(
        key.signer(),
        scheme.clone(),
        cert,
        Vec::new(),
        TsaPolicy::new(POLICY),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotTimeStampingCertificate(_)), "{err}");
    // The right certificate with another key.
    let (_, tsa_cert) = pki(spec).tsa(spec, "TSA", 0x7504);
    let err = TimestampSigner::new(
        key.signer(),
        scheme,
        tsa_cert,
        Vec::new(),
        TsaPolicy::new(POLICY),
    )
    .unwrap_err();
    assert!(matches!(err, Error::CertificateKeyMismatch { .. }), "{err}");
}

#[test]
fn requests_round_trip() {
    let request = TimestampRequest::for_data(HashAlgorithm::Sha512, b"abc")
        .with_nonce(vec![0, 0, 0x80, 1])
        .with_policy(POLICY)
        .with_cert_req(true);
    assert_eq!(request.nonce(), Some(&[0x80, 1][..]));
    let decoded = TimestampRequest::decode(&request.to_der().unwrap()).unwrap();
    assert_eq!(decoded, request);
    let dir = Workdir::new();
    dir.write("req.tsq", request.to_der().unwrap());
    let text =
        String::from_utf8(dir.openssl(&["ts", "-query", "-in", "req.tsq", "-text"])).unwrap();
    assert!(text.contains("Nonce: 0x8001"), "{text}");
    assert!(text.contains(&format!("Policy OID: {POLICY}")), "{text}");
}
