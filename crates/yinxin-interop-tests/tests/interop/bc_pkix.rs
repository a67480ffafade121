//! yinxin-pki against BouncyCastle's PKIX API (`bcpkix` with the BC provider), through
//! `peers/Sm2PkixPeer.java`: certificates, chains, CRLs and OCSP responses that yinxin issues
//! and signs must verify there. For SM2 this is the relying party that matters most, because
//! OpenSSL 3 cannot be told the SM2 ID when it checks a CRL or an OCSP response, whereas
//! BouncyCastle's `SM3withSM2` uses the default ID `1234567812345678` that yinxin signs with.
//!
//! Each test builds one PKI with `yinxin_pki` (keys in `KeyHandle`s): a root CA, an issuing CA,
//! an organisation and an employee certificate with GM/T 0015 identity extensions, a delegated
//! OCSP signer, a CRL of the issuing CA and OCSP responses signed by the CA and by the
//! delegated signer; then one JVM checks everything, and the Rust side compares what
//! BouncyCastle read with what it put in. Negative controls (another SM2 ID, a flipped
//! signature byte, the wrong responder key) must be rejected.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::Encode;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlReason;
use yinxin_crypto::{DistinguishingId, KeyHandle, KeySpec, PrivateKey, SignatureScheme, Signer};
use yinxin_interop_tests::{DEFAULT_ID, Workdir, run_bouncycastle_pkix};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::crl::{RevokedEntry, build_crl};
use yinxin_pki::issue::{IssueParams, issue};
use yinxin_pki::name;
use yinxin_pki::ocsp::{
    CertIdHash, CertStatusAnswer, Responder, ResponseTimes, build_request, parse_request,
};
use yinxin_pki::profile::{
    IdentifyCode, IdentityExtension, KeyRole, Profile, San, Urls, key_identifier,
};

const DAY: Duration = Duration::from_secs(86_400);

/// The SM2 ID of the negative controls (GM/T 0003.5's example signer).
const ALICE_ID: &str = "ALICE123@YAHOO.COM";

const ROOT_SERIAL: &[u8] = &[0x01];
const CA_SERIAL: &[u8] = &[0x02];
/// 16 octets with the top bit set: the DER INTEGER needs a leading zero octet.
const ORG_SERIAL: &[u8] = &[
    0x9a, 0x3c, 0x51, 0x07, 0xe2, 0x44, 0x18, 0xb0, 0x6d, 0x2f, 0x93, 0x01, 0xc8, 0x75, 0x3e, 0x0a,
];
const EMPLOYEE_SERIAL: &[u8] = &[0x45, 0x6d, 0x70, 0x01];
const OCSP_SERIAL: &[u8] = &[0x0c, 0x5b];
/// Revoked without a reason code (in the CRL and in OCSP).
const NO_REASON_SERIAL: &[u8] = &[0x80, 0x00, 0x01];
/// Revoked for cessationOfOperation in the CRL only.
const CEASED_SERIAL: &[u8] = &[0x7e];
/// Never issued: OCSP answers unknown.
const UNKNOWN_SERIAL: &[u8] = &[0x33, 0x33];
const CRL_NUMBER: &[u8] = &[0x12, 0x34];

const ORGANISATION: &str = "Beijing Pharma Co";
const ORG_CODE: &str = "91110000600037341L";
const IC_NUMBER: &str = "110000000000001";
const TAX_NUMBER: &str = "91110000600037341L";
const RESIDENT_CARD: &str = "11010519491231002X";
const INSURANCE_NUMBER: &str = "123456789012";

const OID_SM2_WITH_SM3: &str = "1.2.156.10197.1.501";
const OID_SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const OID_CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
const OID_OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

/// keyUsage as the peer prints it: RFC 5280 bit n is `1 << n`.
const KU_CA: &str = "97"; // digitalSignature, keyCertSign, cRLSign
const KU_SIGNING: &str = "3"; // digitalSignature, nonRepudiation
const KU_DIGITAL_SIGNATURE: &str = "1";

/// Whole seconds, as certificates, CRLs and OCSP carry time.
fn now() -> SystemTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn secs(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH)
        .expect("time after 1970")
        .as_secs()
        .to_string()
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

fn sm2_scheme(id: &str) -> SignatureScheme {
    SignatureScheme::Sm2WithSm3 {
        id: DistinguishingId::new(id.as_bytes()).expect("SM2 ID"),
    }
}

fn handle(spec: KeySpec) -> Arc<KeyHandle> {
    let key = PrivateKey::generate(spec).expect("key generation");
    Arc::new(KeyHandle::new(Arc::new(key)))
}

fn der_of(value: &impl Encode) -> Vec<u8> {
    value.to_der().expect("DER encoding")
}

fn ski_hex(cert: &Certificate) -> String {
    let spki = der_of(cert.tbs_certificate().subject_public_key_info());
    hex::encode(key_identifier(&spki).expect("key identifier"))
}

/// When each revoked certificate was revoked (fixed, whole seconds).
fn revoked_at(n: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000 + n * 3_600)
}

/// The revocation database behind both the CRL and the OCSP responder.
fn revoked_entries() -> Vec<RevokedEntry> {
    vec![
        RevokedEntry {
            serial: EMPLOYEE_SERIAL.to_vec(),
            revocation_time: revoked_at(1),
            reason: Some(CrlReason::KeyCompromise),
        },
        RevokedEntry {
            serial: NO_REASON_SERIAL.to_vec(),
            revocation_time: revoked_at(2),
            reason: None,
        },
        RevokedEntry {
            serial: CEASED_SERIAL.to_vec(),
            revocation_time: revoked_at(3),
            reason: Some(CrlReason::CessationOfOperation),
        },
    ]
}

/// OCSP's view of the database: revoked as listed, issued certificates good, the rest unknown.
fn lookup(issuer: usize, serial: &[u8]) -> CertStatusAnswer {
    assert_eq!(issuer, 0, "one issuer");
    if let Some(r) = revoked_entries().into_iter().find(|r| r.serial == serial) {
        return CertStatusAnswer::Revoked {
            at: r.revocation_time,
            reason: r.reason,
        };
    }
    if [ORG_SERIAL, OCSP_SERIAL].contains(&serial) {
        CertStatusAnswer::Good
    } else {
        CertStatusAnswer::Unknown
    }
}

/// How the peer prints a single response's status.
fn status_text(status: &CertStatusAnswer) -> String {
    match status {
        CertStatusAnswer::Good => "good".into(),
        CertStatusAnswer::Unknown => "unknown".into(),
        CertStatusAnswer::Revoked { at, reason } => format!(
            "revoked/{}/{}",
            reason.map_or("-".to_string(), |r| (r as u32).to_string()),
            secs(*at)
        ),
    }
}

/// A root CA, an issuing CA, an organisation and an employee certificate and a delegated OCSP
/// signer, all of one key type, issued by yinxin-pki through key handles.
struct Pki {
    scheme: SignatureScheme,
    root: Certificate,
    ca_key: Arc<KeyHandle>,
    ca: Certificate,
    org: Certificate,
    employee: Certificate,
    ocsp_key: Arc<KeyHandle>,
    ocsp: Certificate,
}

fn params(subject: &str, key: &KeyHandle, serial: &[u8], profile: Profile) -> IssueParams {
    let mut p = IssueParams::new(
        name::parse(subject).expect("subject name"),
        key.public_key().clone(),
        serial.to_vec(),
        now() - DAY,
        now() + 365 * DAY,
        profile,
    );
    p.urls = Urls {
        crl: vec!["http://pki.example.cn/crl/issuing.crl".into()],
        ocsp: vec!["http://pki.example.cn/ocsp".into()],
        ca_issuers: vec!["http://pki.example.cn/ca/issuing.cer".into()],
    };
    p
}

fn org_params(key: &KeyHandle, serial: &[u8]) -> IssueParams {
    let mut p = params(
        &format!("CN={ORGANISATION},O={ORGANISATION},C=CN"),
        key,
        serial,
        Profile::Organisation {
            role: KeyRole::Signing,
        },
    );
    p.identity = vec![
        IdentityExtension::IcRegistrationNumber(IC_NUMBER.into()),
        IdentityExtension::OrganizationCode(ORG_CODE.into()),
        IdentityExtension::TaxationNumber(TAX_NUMBER.into()),
    ];
    p
}

impl Pki {
    fn new(spec: KeySpec) -> Self {
        let root_key = handle(spec);
        let ca_key = handle(spec);
        let ocsp_key = handle(spec);
        let scheme = root_key.public_key().algorithm().default_signature_scheme();

        let mut rp = params(
            "CN=yinxin Test Root CA,O=yinxin,C=CN",
            &root_key,
            ROOT_SERIAL,
            Profile::RootCa,
        );
        rp.urls = Urls::default();
        rp.not_before = now() - 2 * DAY;
        rp.not_after = now() + 3650 * DAY;
        let root = issue(None, root_key.as_ref(), &scheme, &rp).expect("root CA");

        let mut cp = params(
            "CN=yinxin Test Issuing CA,O=yinxin,C=CN",
            &ca_key,
            CA_SERIAL,
            Profile::IssuingCa { path_len: Some(0) },
        );
        cp.not_after = now() + 1000 * DAY;
        let ca = issue(Some(&root), root_key.as_ref(), &scheme, &cp).expect("issuing CA");

        let org_key = handle(spec);
        let org = issue(
            Some(&ca),
            ca_key.as_ref(),
            &scheme,
            &org_params(&org_key, ORG_SERIAL),
        )
        .expect("organisation certificate");

        let employee_key = handle(spec);
        let mut ep = params(
            &format!("CN=Zhang San,O={ORGANISATION},C=CN"),
            &employee_key,
            EMPLOYEE_SERIAL,
            Profile::Employee {
                organisation: ORGANISATION.into(),
                role: KeyRole::Signing,
            },
        );
        ep.sans = vec![San::Email("zhang.san@pharma.example.cn".into())];
        ep.identity = vec![
            IdentityExtension::IdentifyCode(IdentifyCode::ResidentCardNumber(RESIDENT_CARD.into())),
            IdentityExtension::InsuranceNumber(INSURANCE_NUMBER.into()),
        ];
        let employee = issue(Some(&ca), ca_key.as_ref(), &scheme, &ep).expect("employee");

        let op = params(
            "CN=yinxin Test OCSP Signer,O=yinxin,C=CN",
            &ocsp_key,
            OCSP_SERIAL,
            Profile::OcspSigner,
        );
        let ocsp = issue(Some(&ca), ca_key.as_ref(), &scheme, &op).expect("OCSP signer");

        Pki {
            scheme,
            root,
            ca_key,
            ca,
            org,
            employee,
            ocsp_key,
            ocsp,
        }
    }

    fn write_certs(&self, dir: &Workdir) {
        for (file, cert) in [
            ("root.der", &self.root),
            ("ca.der", &self.ca),
            ("org.der", &self.org),
            ("employee.der", &self.employee),
            ("ocsp.der", &self.ocsp),
        ] {
            dir.write(file, der_of(cert));
        }
    }

    fn crl(&self, scheme: &SignatureScheme, this_update: SystemTime) -> CertificateList {
        build_crl(
            &self.ca,
            self.ca_key.as_ref(),
            scheme,
            this_update,
            this_update + 7 * DAY,
            CRL_NUMBER,
            &revoked_entries(),
        )
        .expect("CRL")
    }

    fn ca_responder(&self, scheme: &SignatureScheme) -> Responder {
        Responder::new(
            vec![self.ca.clone()],
            self.ca.clone(),
            self.ca_key.clone(),
            scheme.clone(),
        )
        .expect("CA responder")
    }

    fn delegated_responder(&self) -> Responder {
        Responder::new(
            vec![self.ca.clone()],
            self.ocsp.clone(),
            self.ocsp_key.clone(),
            self.scheme.clone(),
        )
        .expect("delegated responder")
    }
}

/// The serials every OCSP request asks about: good, revoked with and without a reason,
/// unknown.
const ASKED: [&[u8]; 4] = [
    ORG_SERIAL,
    EMPLOYEE_SERIAL,
    NO_REASON_SERIAL,
    UNKNOWN_SERIAL,
];

/// A response to a request with `nonce` for [`ASKED`], with `hash` in the CertIDs.
fn respond(
    responder: &Responder,
    ca: &Certificate,
    hash: CertIdHash,
    nonce: &[u8],
    times: ResponseTimes,
) -> Vec<u8> {
    let request = build_request(ca, &ASKED, hash, Some(nonce)).expect("OCSP request");
    let parsed = parse_request(&request).expect("own OCSP request");
    responder
        .respond(&parsed, &lookup, times)
        .expect("OCSP response")
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

    /// The one value of `key`.
    fn get(&self, key: &str) -> &str {
        match self.facts.get(key).map(Vec::as_slice) {
            Some([v]) => v,
            other => panic!("expected one {key}= in {:?}, got {other:?}", self.line),
        }
    }

    /// Every value of `key`, in order.
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

    fn assert_invalid(&self, what: &str) {
        assert!(
            self.verdict == "invalid" || self.line.starts_with("invalid "),
            "BouncyCastle must reject {what} as an invalid signature: {}",
            self.line
        );
    }

    fn assert_fact(&self, key: &str, value: &str, what: &str) {
        assert_eq!(self.get(key), value, "{what}: {key} in {}", self.line);
    }
}

/// A batch of peer jobs, each with a label for messages.
#[derive(Default)]
struct Jobs {
    jobs: Vec<String>,
}

impl Jobs {
    /// Queue a job, returning its index.
    fn push(&mut self, job: impl Into<String>) -> usize {
        self.jobs.push(job.into());
        self.jobs.len() - 1
    }

    fn run(&self, dir: &Workdir) -> Vec<Answer> {
        run_bouncycastle_pkix(dir, &self.jobs)
            .iter()
            .map(|l| Answer::parse(l))
            .collect()
    }
}

/// The positive checks, and the negative controls that apply to every algorithm: the whole
/// PKI of `spec` verifies in BouncyCastle, and what BouncyCastle reads is what yinxin wrote.
fn pki_verifies_in_bouncycastle(spec: KeySpec, sigalg: &str, sigalg_params: &str) {
    let p = Pki::new(spec);
    let dir = Workdir::new();
    p.write_certs(&dir);
    let mut jobs = Jobs::default();

    // 1. Certificates against their issuers, and the chains by PKIX.
    let root_job = jobs.push("cert root.der root.der");
    let ca_job = jobs.push("cert ca.der root.der");
    let org_job = jobs.push("cert org.der ca.der");
    let employee_job = jobs.push("cert employee.der ca.der");
    let ocsp_job = jobs.push("cert ocsp.der ca.der");
    let path_jobs = [
        jobs.push("path root.der ca.der org.der"),
        jobs.push("path root.der ca.der employee.der"),
        jobs.push("path root.der ca.der ocsp.der"),
    ];

    // 2. The issuing CA's CRL.
    let crl_this_update = now() - Duration::from_secs(60);
    let crl = der_of(&p.crl(&p.scheme, crl_this_update));
    dir.write("crl.der", &crl);
    let crl_job = jobs.push("crl crl.der ca.der");

    // 3. OCSP: the CA itself (SHA-1 CertIDs, as most clients send), the delegated signer (SM3
    // CertIDs for SM2, SHA-256 for RSA), and a cacheable nonce-less single response.
    let times = ResponseTimes {
        produced_at: now(),
        this_update: now() - Duration::from_secs(60),
        next_update: Some(now() + DAY),
    };
    let delegated_hash = if spec == KeySpec::Sm2 {
        CertIdHash::Sm3
    } else {
        CertIdHash::Sha256
    };
    let nonce_ca = yinxin_interop_tests::random_bytes(16);
    let nonce_delegated = yinxin_interop_tests::random_bytes(32);
    let ca_resp = respond(
        &p.ca_responder(&p.scheme),
        &p.ca,
        CertIdHash::Sha1,
        &nonce_ca,
        times,
    );
    dir.write("resp-ca.der", &ca_resp);
    let delegated = p.delegated_responder();
    let delegated_resp = respond(&delegated, &p.ca, delegated_hash, &nonce_delegated, times);
    dir.write("resp-delegated.der", &delegated_resp);
    let cached_resp = delegated
        .sign_single(
            0,
            ORG_SERIAL,
            CertIdHash::Sha256,
            &CertStatusAnswer::Good,
            ResponseTimes {
                next_update: None,
                ..times
            },
        )
        .expect("single response");
    dir.write("resp-cached.der", &cached_resp);
    let ocsp_ca_job = jobs.push("ocsp resp-ca.der ca.der ca.der");
    let ocsp_delegated_job = jobs.push("ocsp resp-delegated.der ca.der -");
    let ocsp_cached_job = jobs.push("ocsp resp-cached.der ca.der -");

    // 4. Negative controls for every algorithm: a flipped byte in the CRL's signature, OCSP
    // responses checked under the wrong key, a certificate checked under the wrong issuer.
    let mut flipped = crl.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    dir.write("crl-flipped.der", &flipped);
    let flipped_job = jobs.push("crl crl-flipped.der ca.der");
    let wrong_ca_key_job = jobs.push("ocsp resp-ca.der ca.der root.der");
    let wrong_delegated_key_job = jobs.push("ocsp resp-delegated.der ca.der ca.der");
    let wrong_issuer_job = jobs.push("cert org.der root.der");

    let answers = jobs.run(&dir);

    // Certificates: signatures, algorithm identifiers, key identifiers, profiles.
    let (root_ski, ca_ski) = (ski_hex(&p.root), ski_hex(&p.ca));
    for (job, what, serial, ski, aki) in [
        (root_job, "the root CA", ROOT_SERIAL, &root_ski, &root_ski),
        (ca_job, "the issuing CA", CA_SERIAL, &ca_ski, &root_ski),
        (
            org_job,
            "the organisation",
            ORG_SERIAL,
            &ski_hex(&p.org),
            &ca_ski,
        ),
        (
            employee_job,
            "the employee",
            EMPLOYEE_SERIAL,
            &ski_hex(&p.employee),
            &ca_ski,
        ),
        (
            ocsp_job,
            "the OCSP signer",
            OCSP_SERIAL,
            &ski_hex(&p.ocsp),
            &ca_ski,
        ),
    ] {
        let a = &answers[job];
        a.assert_valid(what);
        a.assert_fact("sigalg", sigalg, what);
        a.assert_fact("sigalg-params", sigalg_params, what);
        a.assert_fact("serial", &big_hex(serial), what);
        a.assert_fact("ski", ski, what);
        a.assert_fact("ski-method1", "yes", what);
        a.assert_fact("aki", aki, what);
    }
    for job in [root_job, ca_job] {
        answers[job].assert_fact("ca", "true", "CA");
        answers[job].assert_fact("ku", KU_CA, "CA");
    }
    answers[ca_job].assert_fact("pathlen", "0", "issuing CA");
    for (job, what) in [(org_job, "organisation"), (employee_job, "employee")] {
        let a = &answers[job];
        a.assert_fact("ca", "false", what);
        a.assert_fact("ku", KU_SIGNING, what);
        a.assert_fact("eku", OID_CLIENT_AUTH, what);
    }
    let org = &answers[org_job];
    org.assert_fact("gmt0015.3", IC_NUMBER, "ICRegistrationNumber");
    org.assert_fact("gmt0015.4", ORG_CODE, "OrganizationCode");
    org.assert_fact("gmt0015.5", TAX_NUMBER, "TaxationNumber");
    let employee = &answers[employee_job];
    employee.assert_fact("gmt0015.1", &format!("t0:{RESIDENT_CARD}"), "IdentifyCode");
    employee.assert_fact("gmt0015.2", INSURANCE_NUMBER, "InsuranceNumber");
    let ocsp = &answers[ocsp_job];
    ocsp.assert_fact("ku", KU_DIGITAL_SIGNATURE, "OCSP signer");
    ocsp.assert_fact("eku", OID_OCSP_SIGNING, "OCSP signer");
    ocsp.assert_fact("nocheck", "yes", "OCSP signer");
    for job in path_jobs {
        assert_eq!(
            answers[job].line, "valid",
            "the BC CertPathValidator must accept `{}`",
            jobs.jobs[job]
        );
    }

    // The CRL: signature, number, AKI, times, entries with their reasons.
    let c = &answers[crl_job];
    c.assert_valid("the CRL");
    c.assert_fact("sigalg", sigalg, "CRL");
    c.assert_fact("sigalg-params", sigalg_params, "CRL");
    c.assert_fact("issuer-match", "yes", "CRL");
    c.assert_fact("number", &big_hex(CRL_NUMBER), "CRL");
    c.assert_fact("aki", &ca_ski, "CRL (the AKI is the issuing CA's SKI)");
    c.assert_fact("this-update", &secs(crl_this_update), "CRL");
    c.assert_fact("next-update", &secs(crl_this_update + 7 * DAY), "CRL");
    let expected_entries: Vec<String> = revoked_entries()
        .iter()
        .map(|r| {
            format!(
                "{}:{}:{}",
                big_hex(&r.serial),
                r.reason.map_or("-".to_string(), |r| (r as u32).to_string()),
                secs(r.revocation_time)
            )
        })
        .collect();
    assert_eq!(
        c.all("revoked"),
        expected_entries,
        "CRL entries: {}",
        c.line
    );

    // OCSP: signature under the responder's key, responder ID, nonce, each status and time.
    let single = |serial: &[u8], hash: CertIdHash, next: Option<SystemTime>| {
        format!(
            "{}:{}:{}:{}:{}:match",
            big_hex(serial),
            status_text(&lookup(0, serial)),
            secs(times.this_update),
            next.map_or("-".to_string(), secs),
            hash.oid()
        )
    };
    for (job, what, certs, hash, nonce) in [
        (
            ocsp_ca_job,
            "the CA's OCSP response",
            "0",
            CertIdHash::Sha1,
            &nonce_ca,
        ),
        (
            ocsp_delegated_job,
            "the delegated signer's OCSP response",
            "1",
            delegated_hash,
            &nonce_delegated,
        ),
    ] {
        let a = &answers[job];
        a.assert_valid(what);
        a.assert_fact("certs", certs, what);
        a.assert_fact("responder-id", "match", what);
        a.assert_fact("sigalg", sigalg, what);
        a.assert_fact("sigalg-params", sigalg_params, what);
        a.assert_fact("produced-at", &secs(times.produced_at), what);
        a.assert_fact("nonce", &hex::encode(nonce), what);
        let expected: Vec<String> = ASKED
            .iter()
            .map(|s| single(s, hash, times.next_update))
            .collect();
        assert_eq!(a.all("single"), expected, "{what}: {}", a.line);
    }
    for job in [ocsp_delegated_job, ocsp_cached_job] {
        let a = &answers[job];
        a.assert_fact("signer-cert", "valid", "delegated responder certificate");
        a.assert_fact(
            "signer-issuer-match",
            "yes",
            "delegated responder certificate",
        );
        a.assert_fact("eku-ocsp", "yes", "delegated responder certificate");
        a.assert_fact("nocheck", "yes", "delegated responder certificate");
    }
    let cached = &answers[ocsp_cached_job];
    cached.assert_valid("the cacheable single response");
    cached.assert_fact("nonce", "-", "cacheable response");
    assert_eq!(
        cached.all("single"),
        [single(ORG_SERIAL, CertIdHash::Sha256, None)],
        "{}",
        cached.line
    );

    // Negative controls.
    answers[flipped_job].assert_invalid("a CRL with a flipped signature byte");
    answers[wrong_ca_key_job].assert_invalid("the CA's OCSP response under the root's key");
    answers[wrong_ca_key_job].assert_fact("responder-id", "mismatch", "wrong key");
    answers[wrong_delegated_key_job]
        .assert_invalid("the delegated OCSP response under the CA's key");
    answers[wrong_issuer_job].assert_invalid("a certificate under the wrong issuer's key");
}

/// An SM2 root, issuing CA, organisation and employee (GM/T 0015 extensions) and OCSP
/// signer, the CA's CRL and OCSP responses from the CA and the delegated signer: all verify
/// in BouncyCastle (SM3withSM2, default ID), PKIX accepts the chains, and BouncyCastle reads
/// back the serials, key identifiers, extensions, CRL entries and OCSP statuses yinxin wrote.
/// The SM2 signature algorithm identifier has no parameters (GM/T 0006 / OpenSSL).
#[test]
fn sm2_certificates_crl_and_ocsp_verify_in_bouncycastle() {
    pki_verifies_in_bouncycastle(KeySpec::Sm2, OID_SM2_WITH_SM3, "absent");
}

/// The same for RSA-2048 with SHA256withRSA (parameters NULL), proving the peer on a
/// non-SM2 PKI.
#[test]
fn rsa_certificates_crl_and_ocsp_verify_in_bouncycastle() {
    pki_verifies_in_bouncycastle(KeySpec::Rsa2048, OID_SHA256_WITH_RSA, "null");
}

/// A certificate, a CRL and an OCSP response that yinxin signs under another SM2 ID
/// (`ALICE123@YAHOO.COM`) are rejected by BouncyCastle's `SM3withSM2` (and the chain by
/// PKIX), while BouncyCastle's `SM2Signer` told that ID accepts them: the only difference is
/// the ID, so BouncyCastle's default really is yinxin's `1234567812345678`.
#[test]
fn bouncycastle_rejects_sm2_signatures_under_another_id() {
    let p = Pki::new(KeySpec::Sm2);
    let dir = Workdir::new();
    p.write_certs(&dir);
    let alice = sm2_scheme(ALICE_ID);
    let alice_hex = hex::encode(ALICE_ID);
    let default_hex = hex::encode(DEFAULT_ID);

    let other_key = handle(KeySpec::Sm2);
    let org_alice = issue(
        Some(&p.ca),
        p.ca_key.as_ref(),
        &alice,
        &org_params(&other_key, &[0x77]),
    )
    .expect("certificate signed under ALICE's ID");
    dir.write("org-alice.der", der_of(&org_alice));
    dir.write("crl-alice.der", der_of(&p.crl(&alice, now())));
    let times = ResponseTimes::starting(now(), DAY);
    let resp_alice = respond(
        &p.ca_responder(&alice),
        &p.ca,
        CertIdHash::Sha1,
        b"nonce",
        times,
    );
    dir.write("resp-alice.der", &resp_alice);

    let mut jobs = Jobs::default();
    let rejected = [
        (jobs.push("cert org-alice.der ca.der"), "the certificate"),
        (
            jobs.push("path root.der ca.der org-alice.der"),
            "the chain to the certificate",
        ),
        (jobs.push("crl crl-alice.der ca.der"), "the CRL"),
        (
            jobs.push("ocsp resp-alice.der ca.der ca.der"),
            "the OCSP response",
        ),
    ];
    let accepted = [
        (
            jobs.push(format!("verify-id cert org-alice.der ca.der {alice_hex}")),
            "the certificate under ALICE's ID",
        ),
        (
            jobs.push(format!("verify-id crl crl-alice.der ca.der {alice_hex}")),
            "the CRL under ALICE's ID",
        ),
        (
            jobs.push(format!("verify-id ocsp resp-alice.der ca.der {alice_hex}")),
            "the OCSP response under ALICE's ID",
        ),
        (
            jobs.push(format!("verify-id cert org.der ca.der {default_hex}")),
            "a default-ID certificate under the explicit default ID",
        ),
    ];
    let rejected_under_default =
        jobs.push(format!("verify-id cert org-alice.der ca.der {default_hex}"));
    let answers = jobs.run(&dir);
    for (job, what) in rejected {
        answers[job].assert_invalid(&format!("{what} signed under ALICE's SM2 ID"));
    }
    for (job, what) in accepted {
        answers[job].assert_valid(what);
    }
    answers[rejected_under_default]
        .assert_invalid("ALICE's certificate under the explicit default ID");
}
