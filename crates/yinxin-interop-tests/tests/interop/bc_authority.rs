//! The running authority against BouncyCastle's PKIX API, through `peers/Sm2PkixPeer.java`.
//! `bc_pkix` proves that what `yinxin_pki` builds verifies in BouncyCastle; this proves the
//! same end to end for what `yinxin_authority::Authority` produces over a SQLite store: the
//! CA certificates of its first start, certificates it issues (an organisation certificate
//! with a GM/T 0015 identity extension and an employee's dual pair with an escrowed
//! encryption key), the CRL it republishes after a revocation and a hold, and the answers of
//! its OCSP responder (the delegated signer of the issuing CA), fresh with a nonce and
//! nonce-less from its cache.
//!
//! One JVM per hierarchy checks everything; the Rust side compares what BouncyCastle read
//! with what the authority recorded.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::{Decode, Encode};
use x509_cert::Certificate;
use yinxin_authority::{
    Authority, AuthorityConfig, EnrolRequest, InitOptions, OcspInput, ProfileName, StatusChange,
};
use yinxin_crypto::{KeyHandle, KeySpec, PrivateKey, Signer};
use yinxin_interop_tests::{Workdir, random_bytes, run_bouncycastle_pkix};
use yinxin_pki::ocsp::asn1::{BasicOcspResponse, OcspResponse, OcspResponseStatus};
use yinxin_pki::ocsp::{CertIdHash, build_request};
use yinxin_pki::profile::{IdentityExtension, key_identifier};
use yinxin_store::Store;

const ORGANISATION: &str = "Beijing Pharma Co";
const ORG_CODE: &str = "91110000600037341L";

const OID_SM2_WITH_SM3: &str = "1.2.156.10197.1.501";
const OID_SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const OID_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const OID_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

/// keyUsage as the peer prints it: RFC 5280 bit n is `1 << n`.
const KU_CA: &str = "97"; // digitalSignature, keyCertSign, cRLSign
const KU_SIGNING: &str = "3"; // digitalSignature, nonRepudiation
const KU_DIGITAL_SIGNATURE: &str = "1";

/// CRL reason codes.
const KEY_COMPROMISE: u8 = 1;
const CERTIFICATE_HOLD: u8 = 6;

/// One of the authority's two hierarchies, and what to expect of it.
struct Hierarchy {
    root: &'static str,
    issuing: &'static str,
    /// The subscribers' keys.
    spec: KeySpec,
    sigalg: &'static str,
    sigalg_params: &'static str,
    /// keyUsage of the escrowed encryption key's certificate.
    ku_encryption: &'static str,
    /// The CertID hash of the request with a nonce (the nonce-less ones use SHA-1).
    nonce_hash: CertIdHash,
    nonce_len: usize,
}

const SM2: Hierarchy = Hierarchy {
    root: "sm2-root",
    issuing: "sm2-issuing",
    spec: KeySpec::Sm2,
    sigalg: OID_SM2_WITH_SM3,
    sigalg_params: "absent",
    ku_encryption: "28", // keyEncipherment, dataEncipherment, keyAgreement
    nonce_hash: CertIdHash::Sm3,
    nonce_len: 32,
};

const RSA: Hierarchy = Hierarchy {
    root: "rsa-root",
    issuing: "rsa-issuing",
    spec: KeySpec::Rsa2048,
    sigalg: OID_SHA256_WITH_RSA,
    sigalg_params: "null",
    ku_encryption: "12", // keyEncipherment, dataEncipherment
    nonce_hash: CertIdHash::Sha256,
    nonce_len: 16,
};

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// An unsigned big-endian number as Java's `BigInteger.toString(16)` prints it.
fn big_hex(bytes: &[u8]) -> String {
    let hex = hex::encode(bytes);
    let trimmed = hex.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.into()
    }
}

fn ski_hex(cert: &Certificate) -> String {
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .expect("SPKI DER");
    hex::encode(key_identifier(&spki).expect("key identifier"))
}

/// A PKCS#10 request (PEM) for a fresh key of `spec`, signed through a key handle.
fn csr_pem(spec: KeySpec, subject: &str) -> Vec<u8> {
    let key = PrivateKey::generate(spec).expect("key generation");
    let handle = KeyHandle::new(Arc::new(key));
    let scheme = handle.public_key().algorithm().default_signature_scheme();
    let name = yinxin_pki::name::parse(subject).expect("subject name");
    let request = yinxin_pki::csr::build(&handle, name, &scheme).expect("PKCS#10 request");
    yinxin_pki::csr::to_pem(&request)
        .expect("PKCS#10 PEM")
        .into_bytes()
}

/// The certificates an OCSP response carries, DER.
fn response_certs(der: &[u8]) -> Vec<Vec<u8>> {
    let response = OcspResponse::from_der(der).expect("OCSPResponse");
    assert_eq!(
        response.response_status,
        OcspResponseStatus::Successful,
        "the authority's OCSP response status"
    );
    let bytes = response.response_bytes.expect("responseBytes");
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).expect("BasicOCSPResponse");
    basic
        .certs
        .unwrap_or_default()
        .iter()
        .map(|c| c.to_der().expect("certificate DER"))
        .collect()
}

/// One line of the peer: the verdict and its `key=value` facts.
#[derive(Debug)]
struct Answer {
    line: String,
    verdict: String,
    facts: BTreeMap<String, Vec<String>>,
}

impl Answer {
    fn parse(line: &str) -> Self {
        let mut words = line.split(' ');
        let verdict = words.next().unwrap_or_default().to_string();
        let mut facts: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for word in words {
            if let Some((k, v)) = word.split_once('=') {
                facts.entry(k.into()).or_default().push(v.into());
            }
        }
        Answer {
            line: line.into(),
            verdict,
            facts,
        }
    }

    fn get(&self, key: &str) -> &str {
        match self.facts.get(key).map(Vec::as_slice) {
            Some([v]) => v,
            other => panic!("expected one {key}= in {:?}, got {other:?}", self.line),
        }
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.facts.get(key).cloned().unwrap_or_default()
    }

    fn assert_valid(&self, what: &str) {
        assert_eq!(
            self.verdict, "valid",
            "BouncyCastle must accept {what}: {}",
            self.line
        );
    }

    fn assert_fact(&self, key: &str, value: &str, what: &str) {
        assert_eq!(self.get(key), value, "{what}: {key} in {}", self.line);
    }
}

/// What BouncyCastle read of one `SingleResponse`.
#[derive(Debug, PartialEq, Eq)]
struct Single {
    serial: String,
    status: String,
    this_update: u64,
    next_update: u64,
    hash: String,
    issuer: String,
}

impl Single {
    fn parse(text: &str) -> Self {
        let parts: Vec<&str> = text.split(':').collect();
        let [serial, status, this_update, next_update, hash, issuer] = parts[..] else {
            panic!("a single response as the peer prints it: {text:?}");
        };
        Single {
            serial: serial.into(),
            status: status.into(),
            this_update: this_update.parse().expect("thisUpdate"),
            next_update: next_update.parse().expect("nextUpdate"),
            hash: hash.into(),
            issuer: issuer.into(),
        }
    }
}

/// A queued OCSP response check: the job, what it is, the serials asked (with the status
/// expected), the CertID hash and the nonce.
struct OcspCheck {
    job: usize,
    what: String,
    asked: Vec<(Vec<u8>, String)>,
    hash: CertIdHash,
    nonce: Option<Vec<u8>>,
}

/// Everything the authority of `h` produces verifies in BouncyCastle, and BouncyCastle reads
/// what the authority recorded.
async fn authority_verifies_in_bouncycastle(h: &Hierarchy) {
    let started = now_secs();
    let data = tempfile::tempdir().expect("data directory");
    let store = Store::open(&format!("sqlite://{}/a.db", data.path().display()))
        .await
        .expect("SQLite store");
    let (authority, init) = Authority::initialise(
        store,
        AuthorityConfig::new("http://127.0.0.1:1"),
        InitOptions::default(),
    )
    .await
    .expect("first start");
    let actor = authority
        .authenticate(&init.admin_token)
        .await
        .expect("the first administrator's token");
    let root = authority.ca(h.root).expect("root CA").clone();
    let issuing = authority.ca(h.issuing).expect("issuing CA").clone();
    assert_eq!(issuing.parent.as_deref(), Some(h.root));
    assert!(
        authority
            .cas()
            .iter()
            .any(|c| c.name == h.root && c.is_root()),
        "cas() lists {}",
        h.root
    );
    let ocsp_signer_der = authority
        .store()
        .service_keys()
        .await
        .expect("service keys")
        .into_iter()
        .find(|s| s.ca == h.issuing && s.purpose == "ocsp")
        .expect("the issuing CA's delegated OCSP signer")
        .certificate_der;
    let ocsp_signer = Certificate::from_der(&ocsp_signer_der).expect("OCSP signer certificate");
    let ocsp_signer_serial = ocsp_signer
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .to_vec();

    // 1. An organisation certificate and an employee's dual pair.
    let org = authority
        .issue(
            &actor,
            &EnrolRequest {
                csr: csr_pem(h.spec, &format!("CN={ORGANISATION},O={ORGANISATION},C=CN")),
                profile: ProfileName::Organisation,
                ca: None,
                validity_days: None,
                sans: vec![],
                identity: vec![IdentityExtension::OrganizationCode(ORG_CODE.into())],
            },
        )
        .await
        .expect("organisation certificate");
    let dual = authority
        .enrol_dual(
            &actor,
            &EnrolRequest {
                csr: csr_pem(h.spec, &format!("CN=Zhang San,O={ORGANISATION},C=CN")),
                profile: ProfileName::Employee,
                ca: None,
                validity_days: None,
                sans: vec![],
                identity: vec![],
            },
        )
        .await
        .expect("dual certificates");
    let (signing, encryption) = (&dual.signing, &dual.encryption);
    for issued in [&org, signing, encryption] {
        assert_eq!(issued.ca, h.issuing, "the default CA for {:?}", h.spec);
        assert_eq!(issued.chain, [issuing.der.clone(), root.der.clone()]);
    }

    // 2. The escrowed encryption certificate revoked (keyCompromise), the signing one held,
    // both now (whole seconds, as CRLs and OCSP carry time).
    let now_ms = || i64::try_from(now_secs() * 1000).expect("time");
    let (revoked_ms, held_ms) = (now_ms(), now_ms());
    let status = authority
        .change_status(
            &actor,
            None,
            &encryption.serial,
            StatusChange::Revoke {
                reason: KEY_COMPROMISE,
                time_ms: revoked_ms,
            },
        )
        .await
        .expect("revocation");
    assert_eq!(status.status, yinxin_authority::CertificateStatus::Revoked);
    let status = authority
        .change_status(
            &actor,
            None,
            &signing.serial,
            StatusChange::Hold { time_ms: held_ms },
        )
        .await
        .expect("hold");
    assert_eq!(status.status, yinxin_authority::CertificateStatus::OnHold);
    let revoked_status = format!("revoked/{KEY_COMPROMISE}/{}", revoked_ms / 1000);
    let held_status = format!("revoked/{CERTIFICATE_HOLD}/{}", held_ms / 1000);

    // 3. The CRLs and the OCSP responses.
    let crl = authority.crl(h.issuing).await.expect("issuing CA's CRL");
    let crl_record = authority.store().crl(h.issuing).await.expect("CRL record");
    assert_eq!(crl, crl_record.der, "crl() serves the published CRL");
    let root_crl = authority.crl(h.root).await.expect("root CA's CRL");

    let dir = Workdir::new();
    for (file, der) in [
        ("root.der", &root.der),
        ("issuing.der", &issuing.der),
        ("org.der", &org.der),
        ("signing.der", &signing.der),
        ("encryption.der", &encryption.der),
        ("ocsp-signer.der", &ocsp_signer_der),
        ("crl.der", &crl),
        ("root-crl.der", &root_crl),
    ] {
        dir.write(file, der);
    }
    let mut jobs: Vec<String> = Vec::new();
    let mut push = |job: String| {
        jobs.push(job);
        jobs.len() - 1
    };

    let unknown_serial = {
        let mut s = random_bytes(16);
        s[0] = 0x5a;
        s
    };
    let good = "good".to_string();
    let asked_all: Vec<(Vec<u8>, String)> = vec![
        (org.serial.clone(), good.clone()),
        (ocsp_signer_serial.clone(), good.clone()),
        (encryption.serial.clone(), revoked_status.clone()),
        (signing.serial.clone(), held_status.clone()),
        (unknown_serial.clone(), "unknown".into()),
    ];
    let mut ocsp_checks: Vec<OcspCheck> = Vec::new();

    // With a nonce: every serial in one request, always signed afresh.
    let nonce = random_bytes(h.nonce_len);
    let request = build_request(
        &issuing.certificate,
        &asked_all
            .iter()
            .map(|(s, _)| s.as_slice())
            .collect::<Vec<_>>(),
        h.nonce_hash,
        Some(&nonce),
    )
    .expect("OCSP request with a nonce");
    let with_nonce = authority.ocsp(OcspInput::Post(&request)).await;
    dir.write("ocsp-nonce.der", &with_nonce);
    ocsp_checks.push(OcspCheck {
        job: push("ocsp ocsp-nonce.der issuing.der -".into()),
        what: "the response to a request with a nonce".into(),
        asked: asked_all.clone(),
        hash: h.nonce_hash,
        nonce: Some(nonce.clone()),
    });
    let carried = response_certs(&with_nonce);
    assert_eq!(
        carried.as_slice(),
        std::slice::from_ref(&ocsp_signer_der),
        "the response carries the delegated signer's certificate"
    );

    // Without a nonce, one serial each (SHA-1 CertIDs, as most clients send): asked twice,
    // more than a second apart; the second answer comes from the cache (the same bytes,
    // producedAt included), except for `unknown`, which is never cached.
    let pairs: Vec<(&str, &[u8], &str)> = vec![
        ("good", &org.serial, &good),
        ("revoked", &encryption.serial, &revoked_status),
        ("held", &signing.serial, &held_status),
        ("unknown", &unknown_serial, "unknown"),
    ];
    let mut first = Vec::new();
    for (_, serial, _) in &pairs {
        let request = build_request(&issuing.certificate, &[serial], CertIdHash::Sha1, None)
            .expect("nonce-less OCSP request");
        first.push((
            request.clone(),
            authority.ocsp(OcspInput::Post(&request)).await,
        ));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for ((label, serial, expected), (request, first)) in pairs.iter().zip(&first) {
        let second = authority.ocsp(OcspInput::Post(request)).await;
        if *label == "unknown" {
            assert_ne!(&second, first, "an unknown answer must not be cached");
        } else {
            assert_eq!(
                &second, first,
                "the second {label} answer comes from the cache"
            );
        }
        for (n, der) in [(1, first), (2, &second)] {
            let file = format!("ocsp-{label}-{n}.der");
            dir.write(&file, der);
            ocsp_checks.push(OcspCheck {
                job: push(format!("ocsp {file} issuing.der -")),
                what: format!("nonce-less {label} response #{n}"),
                asked: vec![(serial.to_vec(), expected.to_string())],
                hash: CertIdHash::Sha1,
                nonce: None,
            });
        }
    }
    let finished = now_secs();

    // 4. Jobs for BouncyCastle: certificates, chains, CRLs, a negative control.
    let cert_jobs = [
        (push("cert root.der root.der".into()), "the root CA"),
        (push("cert issuing.der root.der".into()), "the issuing CA"),
        (push("cert org.der issuing.der".into()), "the organisation"),
        (
            push("cert signing.der issuing.der".into()),
            "the signing certificate",
        ),
        (
            push("cert encryption.der issuing.der".into()),
            "the encryption certificate",
        ),
        (
            push("cert ocsp-signer.der issuing.der".into()),
            "the OCSP signer",
        ),
    ];
    let path_jobs: Vec<usize> = ["org", "signing", "encryption", "ocsp-signer"]
        .iter()
        .map(|leaf| push(format!("path root.der issuing.der {leaf}.der")))
        .collect();
    let crl_job = push("crl crl.der issuing.der".into());
    let root_crl_job = push("crl root-crl.der root.der".into());
    let wrong_key_job = push("ocsp ocsp-nonce.der issuing.der issuing.der".into());

    let answers: Vec<Answer> = run_bouncycastle_pkix(&dir, &jobs)
        .iter()
        .map(|l| Answer::parse(l))
        .collect();

    // Certificates: signature, algorithm, serial, key identifiers, profile.
    let (root_ski, issuing_ski) = (ski_hex(&root.certificate), ski_hex(&issuing.certificate));
    let serial_of = |der: &[u8]| {
        let cert = Certificate::from_der(der).expect("certificate");
        big_hex(cert.tbs_certificate().serial_number().as_bytes())
    };
    let expected_certs: [(&[u8], &str, &str, &str); 6] = [
        (&root.der, &root_ski, KU_CA, "true"),
        (&issuing.der, &root_ski, KU_CA, "true"),
        (&org.der, &issuing_ski, KU_SIGNING, "false"),
        (&signing.der, &issuing_ski, KU_SIGNING, "false"),
        (&encryption.der, &issuing_ski, h.ku_encryption, "false"),
        (
            &ocsp_signer_der,
            &issuing_ski,
            KU_DIGITAL_SIGNATURE,
            "false",
        ),
    ];
    for ((job, what), (der, aki, ku, ca)) in cert_jobs.iter().zip(expected_certs) {
        let a = &answers[*job];
        a.assert_valid(what);
        a.assert_fact("sigalg", h.sigalg, what);
        a.assert_fact("sigalg-params", h.sigalg_params, what);
        a.assert_fact("serial", &serial_of(der), what);
        let cert = Certificate::from_der(der).expect("certificate");
        a.assert_fact("ski", &ski_hex(&cert), what);
        a.assert_fact("ski-method1", "yes", what);
        a.assert_fact("aki", aki, what);
        a.assert_fact("ku", ku, what);
        a.assert_fact("ca", ca, what);
    }
    assert_eq!(serial_of(&org.der), big_hex(&org.serial));
    answers[cert_jobs[1].0].assert_fact("pathlen", "0", "the issuing CA");
    for job in [cert_jobs[2].0, cert_jobs[3].0] {
        answers[job].assert_fact("eku", OID_CLIENT_AUTH, "a signing certificate");
    }
    assert!(
        answers[cert_jobs[4].0].all("eku").is_empty(),
        "no EKU on the encryption certificate: {}",
        answers[cert_jobs[4].0].line
    );
    answers[cert_jobs[2].0].assert_fact("gmt0015.4", ORG_CODE, "OrganizationCode");
    let signer = &answers[cert_jobs[5].0];
    signer.assert_fact("eku", OID_OCSP_SIGNING, "the OCSP signer");
    signer.assert_fact("nocheck", "yes", "the OCSP signer");
    for job in path_jobs {
        assert_eq!(
            answers[job].line, "valid",
            "the BC CertPathValidator must accept `{}`",
            jobs[job]
        );
    }

    // The CRLs: signature, number, AKI, times, and the entries with their reasons.
    let c = &answers[crl_job];
    c.assert_valid("the issuing CA's CRL");
    c.assert_fact("sigalg", h.sigalg, "CRL");
    c.assert_fact("sigalg-params", h.sigalg_params, "CRL");
    c.assert_fact("issuer-match", "yes", "CRL");
    c.assert_fact("number", &format!("{:x}", crl_record.number), "CRL");
    c.assert_fact("aki", &issuing_ski, "CRL");
    c.assert_fact(
        "this-update",
        &(crl_record.this_update / 1000).to_string(),
        "CRL",
    );
    c.assert_fact(
        "next-update",
        &(crl_record.next_update / 1000).to_string(),
        "CRL",
    );
    let mut entries = c.all("revoked");
    entries.sort();
    let mut expected_entries = vec![
        format!(
            "{}:{KEY_COMPROMISE}:{}",
            big_hex(&encryption.serial),
            revoked_ms / 1000
        ),
        format!(
            "{}:{CERTIFICATE_HOLD}:{}",
            big_hex(&signing.serial),
            held_ms / 1000
        ),
    ];
    expected_entries.sort();
    assert_eq!(entries, expected_entries, "CRL entries: {}", c.line);
    let rc = &answers[root_crl_job];
    rc.assert_valid("the root CA's CRL");
    rc.assert_fact("issuer-match", "yes", "root CRL");
    rc.assert_fact("aki", &root_ski, "root CRL");
    assert!(rc.all("revoked").is_empty(), "root CRL: {}", rc.line);

    // OCSP: the delegated signer, its signature, the statuses, the nonce.
    for check in &ocsp_checks {
        let a = &answers[check.job];
        let what = check.what.as_str();
        a.assert_valid(what);
        a.assert_fact("certs", "1", what);
        a.assert_fact("signer-cert", "valid", what);
        a.assert_fact("signer-issuer-match", "yes", what);
        a.assert_fact("eku-ocsp", "yes", what);
        a.assert_fact("nocheck", "yes", what);
        a.assert_fact("responder-id", "match", what);
        a.assert_fact("sigalg", h.sigalg, what);
        a.assert_fact("sigalg-params", h.sigalg_params, what);
        a.assert_fact(
            "nonce",
            &check.nonce.as_ref().map_or("-".into(), hex::encode),
            what,
        );
        let produced: u64 = a.get("produced-at").parse().expect("producedAt");
        assert!(
            (started..=finished).contains(&produced),
            "{what}: producedAt {produced} outside the test's {started}..={finished}"
        );
        let singles: Vec<Single> = a.all("single").iter().map(|s| Single::parse(s)).collect();
        let expected: Vec<Single> = check
            .asked
            .iter()
            .map(|(serial, status)| Single {
                serial: big_hex(serial),
                status: status.clone(),
                this_update: produced,
                next_update: produced + 3600,
                hash: check.hash.oid().to_string(),
                issuer: "match".into(),
            })
            .collect();
        assert_eq!(singles, expected, "{what}: {}", a.line);
    }
    let wrong = &answers[wrong_key_job];
    assert_eq!(
        wrong.verdict, "invalid",
        "a delegated response must not verify under the CA's own key: {}",
        wrong.line
    );
    wrong.assert_fact("responder-id", "mismatch", "wrong key");
}

/// The SM2 hierarchy: `sm2-root` → `sm2-issuing` → organisation, dual pair and the delegated
/// OCSP signer; SM3withSM2 (default ID) everywhere, SM3 and SHA-1 CertIDs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sm2_authority_output_verifies_in_bouncycastle() {
    authority_verifies_in_bouncycastle(&SM2).await;
}

/// The RSA hierarchy: `rsa-root` (3072) → `rsa-issuing` (2048), SHA256withRSA, SHA-256 and
/// SHA-1 CertIDs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_authority_output_verifies_in_bouncycastle() {
    authority_verifies_in_bouncycastle(&RSA).await;
}
