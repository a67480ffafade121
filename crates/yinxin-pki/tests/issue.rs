//! Issuance and CRLs checked against the real peer (the openssl 3 CLI) and our own path
//! validator: SM2, RSA-2048 and ECDSA P-256 chains root → issuing CA → leaf, every profile
//! parsed by `openssl x509 -text`, CRLs verified and used for revocation, bad parameters.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use der::Encode;
use x509_cert::ext::pkix::CrlReason;
use yinxin_crypto::{KeySpec, PrivateKey, SignatureScheme, Signer};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::crl::{CrlError, RevokedEntry, build_crl};
use yinxin_pki::issue::{IssueError, IssueParams, issue};
use yinxin_pki::path::{CrlSet, PathError, PeerName, Purpose, ValidationOptions, validate};
use yinxin_pki::profile::{IdentifyCode, IdentityExtension, KeyRole, Profile, San, Urls};
use yinxin_pki::{Error, crl, name};

const DAY: Duration = Duration::from_secs(86_400);
const ORG: &str = "某某建设有限公司";

struct Chain {
    root_key: PrivateKey,
    root: Certificate,
    ca_key: PrivateKey,
    ca: Certificate,
    leaf: Certificate,
    scheme: SignatureScheme,
}

fn now() -> SystemTime {
    SystemTime::now()
}

fn urls() -> Urls {
    Urls {
        crl: vec!["http://pki.example.cn/crl/ca.crl".into()],
        ocsp: vec!["http://pki.example.cn/ocsp".into()],
        ca_issuers: vec!["http://pki.example.cn/ca.cer".into()],
    }
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
    p.urls = urls();
    p
}

fn chain(spec: KeySpec) -> Chain {
    let root_key = PrivateKey::generate(spec).unwrap();
    let ca_key = PrivateKey::generate(spec).unwrap();
    let leaf_key = PrivateKey::generate(spec).unwrap();
    let scheme = root_key.algorithm().default_signature_scheme();
    let mut root_params = params("CN=Root,O=yinxin,C=CN", &root_key, 1, Profile::RootCa);
    root_params.not_before = now() - 2 * DAY;
    root_params.not_after = now() + 3650 * DAY;
    root_params.urls = Urls::default();
    let root = issue(None, &root_key, &scheme, &root_params).unwrap();
    let mut ca_params = params(
        "CN=Issuing CA,O=yinxin,C=CN",
        &ca_key,
        2,
        Profile::IssuingCa { path_len: Some(0) },
    );
    ca_params.not_after = now() + 1000 * DAY;
    let ca = issue(Some(&root), &root_key, &scheme, &ca_params).unwrap();
    let mut leaf_params = params(
        &format!("CN={ORG},O={ORG},C=CN"),
        &leaf_key,
        3,
        Profile::Organisation {
            role: KeyRole::Signing,
        },
    );
    leaf_params.identity = vec![IdentityExtension::OrganizationCode(
        "91110000600037341L".into(),
    )];
    let leaf = issue(Some(&ca), &ca_key, &scheme, &leaf_params).unwrap();
    Chain {
        root_key,
        root,
        ca_key,
        ca,
        leaf,
        scheme,
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

fn write(dir: &Path, file: &str, text: &str) -> String {
    let p = dir.join(file);
    std::fs::write(&p, text).unwrap();
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

fn openssl_verify(c: &Chain, sm2: bool) {
    let dir = tempfile::tempdir().unwrap();
    let root = write(dir.path(), "root.pem", &pem(&c.root));
    let ca = write(dir.path(), "ca.pem", &pem(&c.ca));
    let leaf = write(dir.path(), "leaf.pem", &pem(&c.leaf));
    if !sm2 {
        let (ok, out) = openssl(&["verify", "-CAfile", &root, "-untrusted", &ca, &leaf]);
        assert!(ok && out.contains(": OK"), "openssl verify: {out}");
        return;
    }
    // OpenSSL 3.0's `verify -vfyopt distid:` sets the ID on the target certificate only, so
    // an intermediate would be checked under the empty ID: verify one link at a time. (The
    // root's self-signature cannot be checked this way: `-check_ss_sig` verifies the trust
    // store's copy, which has no ID set.)
    let id = "distid:1234567812345678";
    for args in [
        vec!["-CAfile", &root, &ca],
        vec!["-partial_chain", "-CAfile", &ca, &leaf],
    ] {
        let mut all = vec!["verify", "-vfyopt", id];
        all.extend(args);
        let (ok, out) = openssl(&all);
        assert!(ok && out.contains(": OK"), "openssl {all:?}: {out}");
    }
    // Without the ID, OpenSSL 3.0 uses the empty ID and must reject our signature.
    let (ok, _) = openssl(&["verify", "-partial_chain", "-CAfile", &ca, &leaf]);
    assert!(!ok);
}

fn our_validate(c: &Chain) {
    let chain = validate(
        std::slice::from_ref(&c.root),
        std::slice::from_ref(&c.ca),
        &c.leaf,
        &ValidationOptions::new(now()).with_purposes([Purpose::ClientAuth]),
    )
    .unwrap();
    assert_eq!(chain.certificates().len(), 3);
}

fn crl_for(c: &Chain, revoked_serial: u8) -> x509_cert::crl::CertificateList {
    build_crl(
        &c.ca,
        &c.ca_key,
        &c.scheme,
        now() - DAY,
        now() + 7 * DAY,
        &[1],
        &[RevokedEntry {
            serial: vec![revoked_serial],
            revocation_time: now() - DAY / 2,
            reason: Some(CrlReason::KeyCompromise),
        }],
    )
    .unwrap()
}

#[test]
fn sm2_chain_verifies_with_openssl_and_ours() {
    let c = chain(KeySpec::Sm2);
    openssl_verify(&c, true);
    our_validate(&c);
    // Revocation through our CrlSet (OpenSSL 3.0 cannot check SM2 CRL signatures).
    let set = CrlSet::new(vec![crl_for(&c, 3)]);
    let err = validate(
        std::slice::from_ref(&c.root),
        std::slice::from_ref(&c.ca),
        &c.leaf,
        &ValidationOptions::new(now()).with_revocation(&set),
    )
    .unwrap_err();
    assert!(matches!(err, PathError::Revoked { .. }), "{err:?}");
    let set = CrlSet::new(vec![crl_for(&c, 99)]);
    validate(
        std::slice::from_ref(&c.root),
        std::slice::from_ref(&c.ca),
        &c.leaf,
        &ValidationOptions::new(now()).with_revocation(&set),
    )
    .unwrap();
}

#[test]
fn p256_chain_verifies_with_openssl_and_ours() {
    let c = chain(KeySpec::EcP256);
    openssl_verify(&c, false);
    our_validate(&c);
}

#[test]
fn rsa_chain_and_crl_with_openssl_and_ours() {
    let c = chain(KeySpec::Rsa2048);
    openssl_verify(&c, false);
    our_validate(&c);

    let crl = crl_for(&c, 3);
    let dir = tempfile::tempdir().unwrap();
    let root = write(dir.path(), "root.pem", &pem(&c.root));
    let ca = write(dir.path(), "ca.pem", &pem(&c.ca));
    let leaf = write(dir.path(), "leaf.pem", &pem(&c.leaf));
    let crl_pem = write(dir.path(), "crl.pem", &crl::to_pem(&crl).unwrap());
    let (ok, out) = openssl(&["crl", "-in", &crl_pem, "-CAfile", &ca, "-verify", "-noout"]);
    assert!(ok && out.contains("verify OK"), "openssl crl: {out}");
    let (_, text) = openssl(&["crl", "-in", &crl_pem, "-text", "-noout"]);
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(text.contains("X509v3 CRL Number"), "{text}");
    // The CRL's AKI is the issuing CA's SKI, not the root's.
    let (_, ca_text) = openssl(&["x509", "-in", &ca, "-noout", "-ext", "subjectKeyIdentifier"]);
    let ca_ski = ca_text.lines().last().unwrap().trim().to_string();
    assert!(text.contains(&ca_ski), "CRL AKI is not {ca_ski}: {text}");

    let (ok, out) = openssl(&[
        "verify",
        "-crl_check",
        "-CRLfile",
        &crl_pem,
        "-CAfile",
        &root,
        "-untrusted",
        &ca,
        &leaf,
    ]);
    assert!(!ok && out.contains("certificate revoked"), "{out}");

    let set = CrlSet::new(vec![crl]);
    let err = validate(
        std::slice::from_ref(&c.root),
        std::slice::from_ref(&c.ca),
        &c.leaf,
        &ValidationOptions::new(now()).with_revocation(&set),
    )
    .unwrap_err();
    assert!(matches!(err, PathError::Revoked { .. }), "{err:?}");
}

/// Every profile, issued by an RSA or SM2 CA, parses in `openssl x509 -text` with the
/// expected extensions, and validates with our validator for its purpose.
#[test]
fn every_profile_parses_in_openssl() {
    for spec in [KeySpec::Rsa2048, KeySpec::Sm2] {
        let c = chain(spec);
        let key = PrivateKey::generate(spec).unwrap();
        let employee = format!("CN=张三,O={ORG},C=CN");
        let cases: Vec<(Profile, &str, Vec<&str>, Option<Purpose>)> = vec![
            (
                Profile::Organisation {
                    role: KeyRole::Encryption,
                },
                "CN=Org enc,O=Org,C=CN",
                vec!["Key Encipherment, Data Encipherment"],
                None,
            ),
            (
                Profile::Employee {
                    organisation: ORG.into(),
                    role: KeyRole::Signing,
                },
                &employee,
                vec![
                    "Digital Signature, Non Repudiation",
                    "TLS Web Client Authentication",
                    "1.2.156.10260.4.1.1",
                ],
                Some(Purpose::ClientAuth),
            ),
            (
                Profile::Server,
                "CN=www.example.cn,O=Org,C=CN",
                vec![
                    "TLS Web Server Authentication",
                    "DNS:www.example.cn",
                    "IP Address:127.0.0.1",
                ],
                Some(Purpose::ServerAuth),
            ),
            (
                Profile::OcspSigner,
                "CN=OCSP,O=yinxin,C=CN",
                vec!["OCSP Signing", "OCSP No Check"],
                Some(Purpose::OcspSigning),
            ),
            (
                Profile::TimeStamping,
                "CN=TSA,O=yinxin,C=CN",
                vec!["X509v3 Extended Key Usage: critical", "Time Stamping"],
                Some(Purpose::TimeStamping),
            ),
            (
                Profile::CodeSigning,
                "CN=Code,O=yinxin,C=CN",
                vec!["Code Signing"],
                Some(Purpose::CodeSigning),
            ),
            (
                Profile::SealMaking,
                "CN=Seal,O=yinxin,C=CN",
                vec!["Digital Signature, Non Repudiation"],
                None,
            ),
        ];
        for (i, (profile, subject, expect, purpose)) in cases.into_iter().enumerate() {
            let mut p = params(subject, &key, 10 + i as u8, profile);
            p.sans = vec![
                San::Dns("www.example.cn".into()),
                San::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            ];
            p.policies = vec![const_oid::ObjectIdentifier::new_unwrap("1.2.156.1.2.3")];
            p.identity = vec![IdentityExtension::IdentifyCode(
                IdentifyCode::ResidentCardNumber("11010519491231002X".into()),
            )];
            let cert = issue(Some(&c.ca), &c.ca_key, &c.scheme, &p).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let file = write(dir.path(), "cert.pem", &pem(&cert));
            let (ok, text) = openssl(&["x509", "-in", &file, "-text", "-noout"]);
            assert!(ok, "{text}");
            for line in [
                "X509v3 Key Usage: critical",
                "CA:FALSE",
                "X509v3 Subject Key Identifier",
                "X509v3 Authority Key Identifier",
                "URI:http://pki.example.cn/crl/ca.crl",
                "OCSP - URI:http://pki.example.cn/ocsp",
                "CA Issuers - URI:http://pki.example.cn/ca.cer",
                "Policy: 1.2.156.1.2.3",
            ]
            .iter()
            .chain(expect.iter())
            {
                assert!(text.contains(line), "{spec:?} {i}: no \"{line}\" in {text}");
            }
            let mut o = ValidationOptions::new(now()).with_purposes(purpose);
            if purpose == Some(Purpose::ServerAuth) {
                o = o.with_host(PeerName::parse("www.example.cn"));
            }
            validate(
                std::slice::from_ref(&c.root),
                std::slice::from_ref(&c.ca),
                &cert,
                &o,
            )
            .unwrap();
        }
        // The CA certificates themselves.
        let dir = tempfile::tempdir().unwrap();
        for (cert, bc) in [(&c.root, "CA:TRUE"), (&c.ca, "CA:TRUE, pathlen:0")] {
            let file = write(dir.path(), "ca.pem", &pem(cert));
            let (_, text) = openssl(&["x509", "-in", &file, "-text", "-noout"]);
            assert!(
                text.contains("X509v3 Basic Constraints: critical"),
                "{text}"
            );
            assert!(text.contains(bc), "{text}");
            assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
        }
        let _ = &c.root_key;
    }
}

fn issue_err(
    issuer: Option<&Certificate>,
    key: &dyn Signer,
    scheme: &SignatureScheme,
    p: &IssueParams,
) -> IssueError {
    match issue(issuer, key, scheme, p) {
        Err(Error::Issue(e)) => e,
        other => panic!("expected an IssueError, got {other:?}"),
    }
}

#[test]
fn bad_parameters_are_typed_errors() {
    let c = chain(KeySpec::EcP256);
    let key = PrivateKey::generate(KeySpec::EcP256).unwrap();
    let signing = Profile::Organisation {
        role: KeyRole::Signing,
    };
    let s = &c.scheme;
    let ca = Some(&c.ca);

    let mut p = params("CN=x", &key, 5, signing.clone());
    p.not_after = p.not_before;
    assert_eq!(issue_err(ca, &c.ca_key, s, &p), IssueError::EmptyValidity);
    let mut p = params("CN=x", &key, 5, signing.clone());
    p.serial = vec![0, 0];
    assert_eq!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::SerialNotPositive
    );
    p.serial = vec![];
    assert_eq!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::SerialNotPositive
    );
    p.serial = vec![0xff; 20];
    assert_eq!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::SerialTooLong { octets: 21 }
    );
    let p = params("CN=x", &key, 5, signing.clone());
    assert_eq!(issue_err(None, &key, s, &p), IssueError::SelfSignedMismatch);
    let p = params("CN=x", &key, 5, Profile::RootCa);
    assert_eq!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::SelfSignedMismatch
    );
    assert_eq!(
        issue_err(None, &c.ca_key, s, &p),
        IssueError::SignerKeyMismatch
    );
    let p = params("CN=x", &key, 5, signing.clone());
    assert_eq!(
        issue_err(ca, &c.root_key, s, &p),
        IssueError::SignerKeyMismatch
    );
    assert_eq!(
        issue_err(Some(&c.leaf), &c.ca_key, s, &p),
        IssueError::SignerKeyMismatch
    );
    let p = params("CN=x", &key, 5, Profile::IssuingCa { path_len: None });
    assert_eq!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::PathLengthExceeded
    );
    let mut p = params("CN=x", &key, 5, signing.clone());
    p.not_after = now() + 5000 * DAY;
    assert_eq!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::OutsideIssuerValidity
    );
    let p = params(
        "CN=x",
        &key,
        5,
        Profile::Organisation {
            role: KeyRole::Encryption,
        },
    );
    assert!(matches!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::KeyNotForProfile { .. }
    ));
    let p = params("CN=www.example.cn", &key, 5, Profile::Server);
    assert_eq!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::MissingServerName
    );
    let p = params(
        "CN=张三,O=Other,C=CN",
        &key,
        5,
        Profile::Employee {
            organisation: ORG.into(),
            role: KeyRole::Signing,
        },
    );
    assert!(matches!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::MissingOrganisation { .. }
    ));
    let mut p = params("CN=x", &key, 5, signing.clone());
    p.sans = vec![San::Dns("例子.中国".into())];
    assert!(matches!(
        issue_err(ca, &c.ca_key, s, &p),
        IssueError::NotAscii(_)
    ));
    // A leaf cannot issue: it is no CA.
    let leaf_key = PrivateKey::generate(KeySpec::EcP256).unwrap();
    let mut p = params("CN=leaf", &leaf_key, 7, signing.clone());
    p.not_after = now() + 100 * DAY;
    let leaf = issue(ca, &c.ca_key, s, &p).unwrap();
    let p = params("CN=y", &key, 8, signing);
    assert_eq!(
        issue_err(Some(&leaf), &leaf_key, s, &p),
        IssueError::IssuerNotCa
    );

    // CRLs.
    let crl_err = |issuer: &Certificate, key: &dyn Signer, number: &[u8], r: &[RevokedEntry]| {
        match build_crl(issuer, key, s, now(), now() + DAY, number, r) {
            Err(Error::Crl(e)) => e,
            other => panic!("expected a CrlError, got {other:?}"),
        }
    };
    assert_eq!(
        crl_err(&c.ca, &c.root_key, &[1], &[]),
        CrlError::SignerKeyMismatch
    );
    assert_eq!(
        crl_err(&leaf, &leaf_key, &[1], &[]),
        CrlError::IssuerCannotSignCrls
    );
    assert_eq!(crl_err(&c.ca, &c.ca_key, &[], &[]), CrlError::BadCrlNumber);
    assert_eq!(
        crl_err(&c.ca, &c.ca_key, &[0x80; 20], &[]),
        CrlError::BadCrlNumber
    );
    let remove = RevokedEntry {
        serial: vec![3],
        revocation_time: now(),
        reason: Some(CrlReason::RemoveFromCRL),
    };
    assert_eq!(
        crl_err(&c.ca, &c.ca_key, &[1], &[remove]),
        CrlError::RemoveFromCrlInBaseCrl
    );
    let t = now();
    assert!(matches!(
        build_crl(&c.ca, &c.ca_key, s, t, t, &[1], &[]),
        Err(Error::Issue(IssueError::EmptyValidity))
    ));
    // An empty CRL with a zero CRL number is fine.
    build_crl(&c.ca, &c.ca_key, s, now(), now() + DAY, &[0], &[]).unwrap();
}

#[path = "issue/properties.rs"]
mod properties;
