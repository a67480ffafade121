//! OCSP against the real peer (the openssl 3 CLI) and our own verifier: requests made by
//! `openssl ocsp` parsed, responses from the CA and from a delegated responder checked by
//! `openssl ocsp -respin`, SM2 responses by `verify_response` and the path validator, GET
//! paths, and malformed, oversized and garbage input.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use der::{Decode, Encode};
use x509_cert::ext::pkix::CrlReason;
use yinxin_crypto::{DistinguishingId, KeySpec, PrivateKey, SignatureScheme};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::issue::{IssueParams, issue};
use yinxin_pki::name;
use yinxin_pki::ocsp::asn1::{OcspRequest, OcspResponse, OcspResponseStatus};
use yinxin_pki::ocsp::{
    CertIdHash, CertStatusAnswer, MAX_REQUEST_LEN, OcspError, OcspSource, Responder, ResponseTimes,
    build_request, error_response, get_path, parse_get_path, parse_request, verify_response,
};
use yinxin_pki::path::{PathError, ValidationOptions, validate};
use yinxin_pki::profile::{Profile, Urls};

const DAY: Duration = Duration::from_secs(86_400);
const GOOD: u8 = 3;
const REVOKED: u8 = 4;
const UNKNOWN: u8 = 5;

struct Pki {
    root: Certificate,
    ca: Arc<PrivateKey>,
    ca_cert: Certificate,
    leaves: Vec<Certificate>,
    responder: Arc<PrivateKey>,
    responder_cert: Certificate,
    scheme: SignatureScheme,
}

fn now() -> SystemTime {
    SystemTime::now()
}

fn params(subject: &str, key: &PrivateKey, serial: u8, profile: Profile) -> IssueParams {
    let mut p = IssueParams::new(
        name::parse(subject).unwrap(),
        key.public_key().clone(),
        vec![serial],
        now() - DAY,
        now() + 300 * DAY,
        profile,
    );
    p.urls = Urls {
        crl: vec!["http://pki.example.cn/crl/ca.crl".into()],
        ocsp: vec!["http://pki.example.cn/ocsp".into()],
        ca_issuers: vec![],
    };
    p
}

fn pki(spec: KeySpec) -> Pki {
    let root_key = PrivateKey::generate(spec).unwrap();
    let ca_key = PrivateKey::generate(spec).unwrap();
    let responder_key = PrivateKey::generate(spec).unwrap();
    let scheme = root_key.algorithm().default_signature_scheme();
    let mut rp = params("CN=Root,O=yinxin,C=CN", &root_key, 1, Profile::RootCa);
    rp.urls = Urls::default();
    rp.not_before = now() - 2 * DAY;
    rp.not_after = now() + 3650 * DAY;
    let root = issue(None, &root_key, &scheme, &rp).unwrap();
    let mut cp = params(
        "CN=Issuing CA,O=yinxin,C=CN",
        &ca_key,
        2,
        Profile::IssuingCa { path_len: Some(0) },
    );
    cp.not_after = now() + 1000 * DAY;
    let ca_cert = issue(Some(&root), &root_key, &scheme, &cp).unwrap();
    let leaves = [GOOD, REVOKED, UNKNOWN]
        .into_iter()
        .map(|serial| {
            let key = PrivateKey::generate(spec).unwrap();
            let p = params(
                &format!("CN=leaf {serial},O=yinxin,C=CN"),
                &key,
                serial,
                Profile::CodeSigning,
            );
            issue(Some(&ca_cert), &ca_key, &scheme, &p).unwrap()
        })
        .collect();
    let op = params(
        "CN=OCSP responder,O=yinxin,C=CN",
        &responder_key,
        9,
        Profile::OcspSigner,
    );
    let responder_cert = issue(Some(&ca_cert), &ca_key, &scheme, &op).unwrap();
    Pki {
        root,
        ca: Arc::new(ca_key),
        ca_cert,
        leaves,
        responder: Arc::new(responder_key),
        responder_cert,
        scheme,
    }
}

impl Pki {
    fn ca_responder(&self) -> Responder {
        Responder::new(
            vec![self.ca_cert.clone()],
            self.ca_cert.clone(),
            self.ca.clone(),
            self.scheme.clone(),
        )
        .unwrap()
    }

    fn delegated_responder(&self) -> Responder {
        Responder::new(
            vec![self.ca_cert.clone()],
            self.responder_cert.clone(),
            self.responder.clone(),
            self.scheme.clone(),
        )
        .unwrap()
    }
}

/// A fixed revocation time (whole seconds, as OCSP carries it): 2025-06-15.
fn revoked_at() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

/// The CA's database: serial 3 good, 4 revoked for keyCompromise, the rest unknown.
fn lookup(issuer: usize, serial: &[u8]) -> CertStatusAnswer {
    assert_eq!(issuer, 0);
    match serial {
        [GOOD] => CertStatusAnswer::Good,
        [REVOKED] => CertStatusAnswer::Revoked {
            at: revoked_at(),
            reason: Some(CrlReason::KeyCompromise),
        },
        _ => CertStatusAnswer::Unknown,
    }
}

fn times() -> ResponseTimes {
    ResponseTimes {
        produced_at: now(),
        this_update: now() - Duration::from_secs(60),
        next_update: Some(now() + DAY),
    }
}

fn pem(cert: &Certificate) -> String {
    der::pem::encode_string(
        "CERTIFICATE",
        der::pem::LineEnding::LF,
        &cert.to_der().unwrap(),
    )
    .unwrap()
}

fn write(dir: &Path, file: &str, data: &[u8]) -> String {
    let p = dir.join(file);
    std::fs::write(&p, data).unwrap();
    p.to_str().unwrap().to_string()
}

/// Run openssl; return (success, stdout + stderr).
fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl 3 CLI is needed for these tests");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn expected_line(serial: u8) -> &'static str {
    match serial {
        GOOD => "Cert Status: good",
        REVOKED => "Cert Status: revoked",
        _ => "Cert Status: unknown",
    }
}

/// Requests by `openssl ocsp`, answered by the CA and by the delegated responder, checked by
/// `openssl ocsp -respin` (with `-reqin` when there is a nonce) and by `verify_response`.
fn openssl_round_trip(spec: KeySpec) {
    let p = pki(spec);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = write(d, "root.pem", pem(&p.root).as_bytes());
    let ca = write(d, "ca.pem", pem(&p.ca_cert).as_bytes());
    for (responder, delegated) in [(p.ca_responder(), false), (p.delegated_responder(), true)] {
        for leaf in &p.leaves {
            let serial = leaf.tbs_certificate().serial_number().as_bytes()[0];
            let leaf_file = write(d, "leaf.pem", pem(leaf).as_bytes());
            for with_nonce in [false, true] {
                let req = d.join("req.der").to_str().unwrap().to_string();
                let mut args = vec!["ocsp", "-issuer", &ca, "-cert", &leaf_file, "-reqout", &req];
                if !with_nonce {
                    args.push("-no_nonce");
                }
                let (ok, out) = openssl(&args);
                assert!(ok, "openssl ocsp -reqout: {out}");
                let parsed = parse_request(&std::fs::read(&req).unwrap()).unwrap();
                assert_eq!(parsed.certs.len(), 1);
                assert_eq!(parsed.certs[0].hash, Some(CertIdHash::Sha1));
                assert_eq!(parsed.certs[0].serial, [serial]);
                assert_eq!(parsed.nonce.is_some(), with_nonce);
                assert!(!parsed.signed);

                let resp = responder.respond(&parsed, &lookup, times()).unwrap();
                let resp_file = write(d, "resp.der", &resp);
                let mut args = vec![
                    "ocsp",
                    "-respin",
                    &resp_file,
                    "-issuer",
                    &ca,
                    "-verify_other",
                    &ca,
                    "-CAfile",
                    &root,
                    "-resp_text",
                ];
                if with_nonce {
                    args.extend(["-reqin", &req]);
                }
                let (ok, out) = openssl(&args);
                if std::env::var_os("OCSP_SHOW").is_some() {
                    eprintln!("{out}");
                }
                let what = format!("delegated={delegated} nonce={with_nonce} serial={serial}");
                assert!(ok, "{what}: {out}");
                assert!(out.contains("Response verify OK"), "{what}: {out}");
                assert!(out.contains(expected_line(serial)), "{what}: {out}");
                assert!(!out.contains("WARNING"), "{what}: {out}");
                assert!(!out.contains("Nonce Verify error"), "{what}: {out}");
                assert_eq!(out.contains("OCSP Nonce"), with_nonce, "{what}: {out}");
                assert_eq!(
                    out.contains("Certificate:"),
                    delegated,
                    "certs only when delegated; {what}: {out}"
                );
                assert!(out.contains("Responder Id: "), "{what}: {out}");
                if serial == REVOKED {
                    assert!(
                        out.contains("Revocation Reason: keyCompromise"),
                        "{what}: {out}"
                    );
                }

                // A response echoing another nonce is caught by OpenSSL.
                if with_nonce && serial == GOOD {
                    let mut wrong = parsed.clone();
                    if let Some(n) = wrong.nonce.as_mut() {
                        let last = n.len() - 1;
                        n[last] ^= 1;
                    }
                    let bad = responder.respond(&wrong, &lookup, times()).unwrap();
                    let bad_file = write(d, "bad.der", &bad);
                    let (ok, out) = openssl(&[
                        "ocsp",
                        "-respin",
                        &bad_file,
                        "-reqin",
                        &req,
                        "-issuer",
                        &ca,
                        "-verify_other",
                        &ca,
                        "-CAfile",
                        &root,
                    ]);
                    assert!(!ok && out.contains("Nonce Verify error"), "{out}");
                }

                // Our own client agrees.
                let nonce = parsed.nonce.as_ref().map(|n| n[2..].to_vec());
                let statuses =
                    verify_response(&resp, &p.ca_cert, nonce.as_deref(), now(), None).unwrap();
                assert_eq!(statuses.len(), 1);
                assert_eq!(statuses[0].serial, [serial]);
                assert_eq!(statuses[0].status, lookup(0, &[serial]));
            }
        }
    }
}

#[test]
fn rsa_requests_and_responses_with_openssl() {
    openssl_round_trip(KeySpec::Rsa2048);
}

#[test]
fn ecdsa_requests_and_responses_with_openssl() {
    openssl_round_trip(KeySpec::EcP256);
}

/// The path validator with OCSP as its revocation source.
fn validate_with_ocsp(
    p: &Pki,
    leaf: &Certificate,
    responses: Vec<Vec<u8>>,
) -> Result<(), PathError> {
    let source = OcspSource::new(responses);
    validate(
        std::slice::from_ref(&p.root),
        std::slice::from_ref(&p.ca_cert),
        leaf,
        &ValidationOptions::new(now()).with_revocation(&source),
    )
    .map(|_| ())
}

fn single_response(p: &Pki, responder: &Responder, serial: u8) -> Vec<u8> {
    let _ = p;
    responder
        .sign_single(
            0,
            &[serial],
            CertIdHash::Sha1,
            &lookup(0, &[serial]),
            times(),
        )
        .unwrap()
}

/// SM2 responses signed with the default ID, checked by our verifier and the path
/// validator. (OpenSSL 3.0 cannot set the SM2 ID for OCSP verification, and verifies
/// with the empty ID, so it is not the peer here.)
#[test]
fn sm2_responses_verify_with_ours_and_feed_the_path_validator() {
    let p = pki(KeySpec::Sm2);
    for responder in [p.ca_responder(), p.delegated_responder()] {
        for hash in CertIdHash::ALL {
            let req = build_request(
                &p.ca_cert,
                &[&[GOOD], &[REVOKED], &[UNKNOWN]],
                hash,
                Some(b"0123456789abcdef"),
            )
            .unwrap();
            let parsed = parse_request(&req).unwrap();
            assert!(parsed.certs.iter().all(|c| c.hash == Some(hash)));
            let resp = responder.respond(&parsed, &lookup, times()).unwrap();
            let statuses =
                verify_response(&resp, &p.ca_cert, Some(b"0123456789abcdef"), now(), None).unwrap();
            let got: Vec<_> = statuses
                .iter()
                .map(|s| (s.serial.clone(), s.status.clone()))
                .collect();
            assert_eq!(
                got,
                [GOOD, REVOKED, UNKNOWN].map(|s| (vec![s], lookup(0, &[s])))
            );
            assert!(statuses.iter().all(|s| s.hash == hash));
            // Another SM2 ID does not verify.
            let other = DistinguishingId::new(b"another id".to_vec()).unwrap();
            assert!(matches!(
                verify_response(&resp, &p.ca_cert, None, now(), Some(other)),
                Err(OcspError::BadSignature)
            ));
        }
        let good = single_response(&p, &responder, GOOD);
        let revoked = single_response(&p, &responder, REVOKED);
        let unknown = single_response(&p, &responder, UNKNOWN);
        validate_with_ocsp(&p, &p.leaves[0], vec![revoked.clone(), good.clone()]).unwrap();
        let err =
            validate_with_ocsp(&p, &p.leaves[1], vec![good.clone(), revoked.clone()]).unwrap_err();
        assert!(
            matches!(
                err,
                PathError::Revoked {
                    reason: Some(CrlReason::KeyCompromise),
                    ..
                }
            ),
            "{err:?}"
        );
        // No status for the leaf: unknown, accepted unless required.
        validate_with_ocsp(&p, &p.leaves[2], vec![unknown, good]).unwrap();
    }
}

#[test]
fn rsa_ocsp_source_in_the_path_validator() {
    let p = pki(KeySpec::Rsa2048);
    let r = p.delegated_responder();
    let revoked = single_response(&p, &r, REVOKED);
    let err = validate_with_ocsp(&p, &p.leaves[1], vec![revoked.clone()]).unwrap_err();
    assert!(matches!(err, PathError::Revoked { .. }), "{err:?}");
    validate_with_ocsp(&p, &p.leaves[0], vec![revoked.clone()]).unwrap();
    // A tampered response that covers the leaf makes revocation data unusable.
    let mut bad = revoked;
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let err = validate_with_ocsp(&p, &p.leaves[1], vec![bad]).unwrap_err();
    assert!(
        matches!(err, PathError::RevocationUnusable { .. }),
        "{err:?}"
    );
}

#[test]
fn verification_failures_are_typed() {
    let p = pki(KeySpec::EcP256);
    let other = pki(KeySpec::EcP256);
    let r = p.ca_responder();
    let req = build_request(&p.ca_cert, &[&[GOOD]], CertIdHash::Sha256, Some(&[7; 32])).unwrap();
    let parsed = parse_request(&req).unwrap();
    let resp = r.respond(&parsed, &lookup, times()).unwrap();
    assert!(verify_response(&resp, &p.ca_cert, Some(&[7; 32]), now(), None).is_ok());
    assert!(matches!(
        verify_response(&resp, &p.ca_cert, Some(&[8; 32]), now(), None),
        Err(OcspError::NonceMismatch)
    ));
    assert!(matches!(
        verify_response(&resp, &p.ca_cert, None, now() + 2 * DAY, None),
        Err(OcspError::Expired)
    ));
    assert!(matches!(
        verify_response(&resp, &p.ca_cert, None, now() - DAY, None),
        Err(OcspError::NotYetValid)
    ));
    assert!(matches!(
        verify_response(&resp, &other.ca_cert, None, now(), None),
        Err(OcspError::UnauthorisedSigner(_))
    ));
    let mut tampered = resp.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x55;
    assert!(matches!(
        verify_response(&tampered, &p.ca_cert, None, now(), None),
        Err(OcspError::BadSignature | OcspError::MalformedResponse(_))
    ));
    // A responder certificate the CA signed, but without OCSPSigning, is refused...
    let leaf_key = Arc::new(PrivateKey::generate(KeySpec::EcP256).unwrap());
    let leaf = issue(
        Some(&p.ca_cert),
        p.ca.as_ref(),
        &p.scheme,
        &params(
            "CN=not a responder,C=CN",
            &leaf_key,
            20,
            Profile::CodeSigning,
        ),
    )
    .unwrap();
    assert!(matches!(
        Responder::new(vec![p.ca_cert.clone()], leaf, leaf_key, p.scheme.clone()),
        Err(OcspError::UnauthorisedSigner(_))
    ));
    // ...as is a delegated responder of another CA, and a key that is not the certificate's.
    assert!(
        Responder::new(
            vec![other.ca_cert.clone()],
            p.responder_cert.clone(),
            p.responder.clone(),
            p.scheme.clone()
        )
        .is_err()
    );
    assert!(
        Responder::new(
            vec![p.ca_cert.clone()],
            p.responder_cert.clone(),
            p.ca.clone(),
            p.scheme.clone()
        )
        .is_err()
    );
    // Error statuses come back as such.
    assert!(matches!(
        verify_response(
            &error_response(OcspResponseStatus::TryLater),
            &p.ca_cert,
            None,
            now(),
            None
        ),
        Err(OcspError::Status(OcspResponseStatus::TryLater))
    ));
}

#[test]
fn get_paths_decode_in_every_spelling() {
    let p = pki(KeySpec::EcP256);
    // Find a request whose base64 holds '+' or '/' by varying the nonce.
    let (der, path) = (0u8..=255)
        .map(|i| {
            let der =
                build_request(&p.ca_cert, &[&[GOOD]], CertIdHash::Sha1, Some(&[i; 16])).unwrap();
            let path = get_path(&der);
            (der, path)
        })
        .find(|(_, path)| path.contains("%2B") && path.contains("%2F"))
        .unwrap();
    let want = parse_request(&der).unwrap();
    assert_eq!(parse_get_path(&path).unwrap(), want);
    assert_eq!(parse_get_path(&format!("/{path}")).unwrap(), want);
    let raw = path
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=");
    assert_eq!(parse_get_path(&raw.replace('/', "%2f")).unwrap(), want);
    assert!(raw.contains('/'));
    assert_eq!(parse_get_path(&raw).unwrap(), want);
    let url_safe = raw.replace('+', "-").replace('/', "_").replace('=', "");
    assert_eq!(parse_get_path(&url_safe).unwrap(), want);
    // The responder answers GETs.
    let resp = p.ca_responder().respond_to_get(&path, &lookup, times());
    let nonce = [want.nonce.as_ref().unwrap()[2]; 16];
    let statuses = verify_response(&resp, &p.ca_cert, Some(&nonce), now(), None).unwrap();
    assert_eq!(statuses[0].status, CertStatusAnswer::Good);
    // Garbage and oversize paths.
    assert!(matches!(
        parse_get_path("not base64!"),
        Err(OcspError::MalformedRequest(_))
    ));
    assert!(matches!(
        parse_get_path("%zz"),
        Err(OcspError::MalformedRequest(_))
    ));
    assert!(matches!(
        parse_get_path("%2"),
        Err(OcspError::MalformedRequest(_))
    ));
    assert!(matches!(
        parse_get_path(&"A".repeat(1 << 20)),
        Err(OcspError::TooLarge { .. })
    ));
}

#[test]
fn openssl_request_as_get_path() {
    let p = pki(KeySpec::Rsa2048);
    let dir = tempfile::tempdir().unwrap();
    let ca = write(dir.path(), "ca.pem", pem(&p.ca_cert).as_bytes());
    let leaf = write(dir.path(), "leaf.pem", pem(&p.leaves[0]).as_bytes());
    let req = dir.path().join("req.der").to_str().unwrap().to_string();
    let (ok, out) = openssl(&["ocsp", "-issuer", &ca, "-cert", &leaf, "-reqout", &req]);
    assert!(ok, "{out}");
    let der = std::fs::read(&req).unwrap();
    assert_eq!(
        parse_get_path(&get_path(&der)).unwrap(),
        parse_request(&der).unwrap()
    );
}

#[test]
fn malformed_oversized_and_garbage_requests() {
    let p = pki(KeySpec::EcP256);
    let other = pki(KeySpec::EcP256);
    let r = p.ca_responder();
    let malformed = error_response(OcspResponseStatus::MalformedRequest);
    assert_eq!(malformed, [0x30, 0x03, 0x0a, 0x01, 0x01]);
    assert_eq!(r.respond_to_der(b"", &lookup, times()), malformed);
    assert_eq!(r.respond_to_der(b"garbage", &lookup, times()), malformed);
    assert_eq!(
        r.respond_to_der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], &lookup, times()),
        malformed
    );
    let huge = vec![0x30; MAX_REQUEST_LEN + 1];
    assert!(matches!(
        parse_request(&huge),
        Err(OcspError::TooLarge { .. })
    ));
    assert_eq!(r.respond_to_der(&huge, &lookup, times()), malformed);

    // Every truncation and many bit flips of a valid request: errors or answers, no panic.
    let req = build_request(
        &p.ca_cert,
        &[&[GOOD], &[REVOKED]],
        CertIdHash::Sm3,
        Some(b"nonce"),
    )
    .unwrap();
    for n in 0..req.len() {
        assert!(parse_request(&req[..n]).is_err());
        assert_eq!(r.respond_to_der(&req[..n], &lookup, times()), malformed);
    }
    for i in 0..req.len() {
        for bit in [0x01, 0x80] {
            let mut m = req.clone();
            m[i] ^= bit;
            let out = r.respond_to_der(&m, &lookup, times());
            assert!(OcspResponse::from_der(&out).is_ok());
        }
    }

    // Nonces: empty or longer than 32 octets.
    assert!(matches!(
        build_request(&p.ca_cert, &[&[GOOD]], CertIdHash::Sha1, Some(&[1; 33])),
        Err(OcspError::BadNonce(33))
    ));
    let mut long = OcspRequest::from_der(
        &build_request(&p.ca_cert, &[&[GOOD]], CertIdHash::Sha1, Some(&[1; 32])).unwrap(),
    )
    .unwrap();
    let ext = &mut long.tbs_request.request_extensions.as_mut().unwrap()[0];
    let mut value = vec![0x04, 40];
    value.extend([1; 40]);
    ext.extn_value = der::asn1::OctetString::new(value).unwrap();
    assert!(matches!(
        parse_request(&long.to_der().unwrap()),
        Err(OcspError::BadNonce(40))
    ));
    assert_eq!(
        r.respond_to_der(&long.to_der().unwrap(), &lookup, times()),
        malformed
    );

    // An empty requestList.
    let mut empty = long.clone();
    empty.tbs_request.request_list.clear();
    empty.tbs_request.request_extensions = None;
    assert!(matches!(
        parse_request(&empty.to_der().unwrap()),
        Err(OcspError::MalformedRequest(_))
    ));

    // A CertID of another CA: unauthorized.
    let foreign = build_request(&other.ca_cert, &[&[GOOD]], CertIdHash::Sha1, None).unwrap();
    let out = r.respond_to_der(&foreign, &lookup, times());
    assert_eq!(out, error_response(OcspResponseStatus::Unauthorized));
    assert_eq!(
        OcspResponse::from_der(&out).unwrap().response_status,
        OcspResponseStatus::Unauthorized
    );

    // A CertID hashed with SHA-384 (not supported): unauthorized, too.
    let mut sha384 = OcspRequest::from_der(&foreign).unwrap();
    sha384.tbs_request.request_list[0]
        .req_cert
        .hash_algorithm
        .oid = yinxin_crypto::HashAlgorithm::Sha384.oid();
    let parsed = parse_request(&sha384.to_der().unwrap()).unwrap();
    assert_eq!(parsed.certs[0].hash, None);
    assert_eq!(
        r.respond(&parsed, &lookup, times()).unwrap(),
        error_response(OcspResponseStatus::Unauthorized)
    );

    // A signed request parses (the signature is not checked).
    let mut signed = OcspRequest::from_der(
        &build_request(&p.ca_cert, &[&[GOOD]], CertIdHash::Sha1, None).unwrap(),
    )
    .unwrap();
    signed.optional_signature = Some(yinxin_pki::ocsp::asn1::Signature {
        signature_algorithm: yinxin_pki::algorithm::signature_algorithm(&p.scheme).unwrap(),
        signature: der::asn1::BitString::from_bytes(&[1, 2, 3]).unwrap(),
        certs: Some(vec![p.ca_cert.clone()]),
    });
    let parsed = parse_request(&signed.to_der().unwrap()).unwrap();
    assert!(parsed.signed);
    let resp = r.respond(&parsed, &lookup, times()).unwrap();
    assert_eq!(
        verify_response(&resp, &p.ca_cert, None, now(), None).unwrap()[0].status,
        CertStatusAnswer::Good
    );

    // OpenSSL reads our error responses.
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "err.der", &malformed);
    let (_, text) = openssl(&["ocsp", "-respin", &f, "-resp_text", "-noverify"]);
    assert!(
        text.contains("malformedrequest (0x1)") || text.contains("malformedrequest (1)"),
        "{text}"
    );

    // Unknown status values are kept.
    let odd = OcspResponse::from_der(&[0x30, 0x03, 0x0a, 0x01, 0x09]).unwrap();
    assert_eq!(odd.response_status, OcspResponseStatus::Other(9));
    assert_eq!(odd.to_der().unwrap(), [0x30, 0x03, 0x0a, 0x01, 0x09]);
}
