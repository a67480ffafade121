//! The path validator on small chains made by the openssl 3 CLI (`tests/fixtures.sh`):
//! a good P-256 chain, expiry, host names, purposes, missing intermediates, name
//! constraints, unknown critical extensions, depth, CRLs and an SM2 chain.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use yinxin_crypto::DistinguishingId;
use yinxin_pki::certificate::{Certificate, all_from_pem_or_der};
use yinxin_pki::path::{
    CrlSet, PathError, PeerName, Purpose, RevocationSource, RevocationStatus, ValidationOptions,
    validate,
};

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures.sh");
        let out = Command::new("bash")
            .arg(&script)
            .current_dir(dir.path())
            .output()
            .expect("bash and the openssl 3 CLI are needed for these tests");
        assert!(
            out.status.success(),
            "fixtures.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Pki { dir }
    }

    fn certs(&self, name: &str) -> Vec<Certificate> {
        all_from_pem_or_der(&std::fs::read(self.dir.path().join(name)).unwrap()).unwrap()
    }

    fn cert(&self, name: &str) -> Certificate {
        self.certs(name).remove(0)
    }

    fn crls(&self, name: &str) -> CrlSet {
        CrlSet::from_pem_or_der(&std::fs::read(self.dir.path().join(name)).unwrap()).unwrap()
    }

    fn check(
        &self,
        leaf: &str,
        intermediates: &[&str],
        o: &ValidationOptions<'_>,
    ) -> Result<Vec<String>, PathError> {
        let pool: Vec<Certificate> = intermediates.iter().map(|n| self.cert(n)).collect();
        validate(&self.certs("root.pem"), &pool, &self.cert(leaf), o).map(|c| c.subjects())
    }
}

fn now() -> ValidationOptions<'static> {
    ValidationOptions::default()
}

#[test]
fn a_good_chain_validates_leaf_first_and_every_check_bites() {
    let pki = Pki::new();
    let ok = pki
        .check(
            "leaf.pem",
            &["icanc.pem", "ica.pem"],
            &now()
                .with_host(PeerName::parse("www.example.com"))
                .with_purposes([Purpose::ServerAuth]),
        )
        .unwrap();
    assert_eq!(ok, ["CN=www.example.com", "CN=Test-ICA", "CN=Test-Root"]);

    // Host names: exact, wildcard (one label only), IP; never the CN, never a near miss.
    for host in ["WWW.example.com", "a.api.example.com", "127.0.0.1"] {
        pki.check(
            "leaf.pem",
            &["ica.pem"],
            &now().with_host(PeerName::parse(host)),
        )
        .unwrap_or_else(|e| panic!("{host}: {e}"));
    }
    for host in [
        "example.com",
        "api.example.com",
        "a.b.api.example.com",
        "127.0.0.2",
        "x@www.example.com",
    ] {
        let e = pki
            .check(
                "leaf.pem",
                &["ica.pem"],
                &now().with_host(PeerName::parse(host)),
            )
            .unwrap_err();
        assert!(matches!(e, PathError::HostMismatch { .. }), "{host}: {e}");
    }

    // Purposes: the leaf is serverAuth only.
    let e = pki
        .check(
            "leaf.pem",
            &["ica.pem"],
            &now().with_purposes([Purpose::ClientAuth]),
        )
        .unwrap_err();
    assert!(
        matches!(e, PathError::ExtendedKeyUsage { ref cert, purpose: Purpose::ClientAuth } if cert.position == 0),
        "{e}"
    );
    pki.check(
        "leaf.pem",
        &["ica.pem"],
        &now().with_purposes([Purpose::Any]),
    )
    .unwrap();

    // Validity: the leaf lives 30 days, the CAs ten years.
    let later = SystemTime::now() + Duration::from_secs(365 * 86_400);
    let e = pki
        .check("leaf.pem", &["ica.pem"], &ValidationOptions::new(later))
        .unwrap_err();
    assert!(
        matches!(e, PathError::Expired { ref cert, .. } if cert.position == 0),
        "{e}"
    );
    let early = UNIX_EPOCH + Duration::from_secs(978_307_200);
    let e = pki
        .check("leaf.pem", &["ica.pem"], &ValidationOptions::new(early))
        .unwrap_err();
    assert!(matches!(e, PathError::NotYetValid { .. }), "{e}");

    // No intermediate: no path.
    let e = pki.check("leaf.pem", &[], &now()).unwrap_err();
    assert!(
        matches!(e, PathError::NoPath { ref issuer } if issuer == "CN=Test-ICA"),
        "{e}"
    );

    // Depth: one intermediate is one too many for max_depth 0.
    let e = pki
        .check("leaf.pem", &["ica.pem"], &now().with_max_depth(0))
        .unwrap_err();
    assert!(matches!(e, PathError::TooDeep { max: 0 }), "{e}");

    // The leaf is not a trust anchor's issuer: the leaf as its own root has no path.
    let e = validate(&pki.certs("ica.pem"), &[], &pki.cert("root.pem"), &now()).unwrap_err();
    assert!(matches!(e, PathError::NoPath { .. }), "{e}");
}

#[test]
fn name_constraints_and_critical_extensions_are_enforced() {
    let pki = Pki::new();
    let e = pki
        .check("leaf-nc.pem", &["icanc.pem"], &now())
        .unwrap_err();
    match e {
        PathError::NameConstraint {
            cert,
            name,
            constrained_by,
        } => {
            assert_eq!(cert.position, 0);
            assert_eq!(constrained_by.subject, "CN=Test-ICA-NC");
            assert!(name.contains("example.com"), "{name}");
        }
        other => panic!("{other}"),
    }
    let e = pki
        .check("leaf-crit.pem", &["ica.pem"], &now())
        .unwrap_err();
    assert!(
        matches!(e, PathError::UnsupportedCriticalExtension { ref oid, .. } if oid.to_string() == "1.2.3.4.5"),
        "{e}"
    );
    // An intermediate used as a leaf's issuer must be a CA: the leaf is not.
    let e = pki
        .check("leaf.pem", &["leaf-crit.pem"], &now())
        .unwrap_err();
    assert!(
        matches!(e, PathError::NoPath { .. } | PathError::Profile { .. }),
        "{e}"
    );
    // A CA certificate as a leaf (RFC 5280 permits it) still needs its path.
    pki.check("ica.pem", &[], &now()).unwrap();
    let e = pki
        .check(
            "ica.pem",
            &[],
            &now().with_host(PeerName::parse("www.example.com")),
        )
        .unwrap_err();
    assert!(matches!(e, PathError::HostMismatch { .. }), "{e}");
}

#[test]
fn crls_revoke_and_clear() {
    let pki = Pki::new();
    let revoked = pki.crls("crl-revoked.pem");
    let clear = pki.crls("crl-empty.pem");
    assert_eq!(revoked.len(), 1);

    let e = pki
        .check("leaf.pem", &["ica.pem"], &now().with_revocation(&revoked))
        .unwrap_err();
    assert!(
        matches!(e, PathError::Revoked { ref cert, reason: Some(_), .. } if cert.position == 0),
        "{e}"
    );
    pki.check("leaf.pem", &["ica.pem"], &now().with_revocation(&clear))
        .unwrap();

    // The CRL names ICA: it says nothing about ICA itself (issued by the root).
    let (leaf, ica, root) = (
        pki.cert("leaf.pem"),
        pki.cert("ica.pem"),
        pki.cert("root.pem"),
    );
    assert_eq!(
        clear.status(&ica, &root, SystemTime::now()),
        RevocationStatus::Unknown
    );
    assert_eq!(
        clear.status(&leaf, &ica, SystemTime::now()),
        RevocationStatus::Good
    );
    // A CRL checked with the wrong key, or after its nextUpdate, is unusable.
    assert!(matches!(
        clear.status(&leaf, &root, SystemTime::now()),
        RevocationStatus::Unusable(_)
    ));
    let later = SystemTime::now() + Duration::from_secs(365 * 86_400);
    assert!(matches!(
        clear.status(&leaf, &ica, later),
        RevocationStatus::Unusable(_)
    ));
    // Strict mode: unknown status is an error.
    let mut strict = now().with_revocation(&clear);
    strict.require_revocation_status = true;
    let e = pki.check("leaf.pem", &["ica.pem"], &strict).unwrap_err();
    assert!(
        matches!(e, PathError::RevocationUnknown { ref cert } if cert.position == 1),
        "{e}"
    );
    // Garbage CRL input is a typed error, not a panic.
    assert!(
        CrlSet::from_pem_or_der(b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n")
            .is_err()
    );
    assert!(CrlSet::from_pem_or_der(b"\x30\x03\x02\x01").is_err());
    assert!(CrlSet::from_pem_or_der(b"").unwrap().is_empty());
}

#[test]
fn an_sm2_chain_signed_with_the_default_id_validates() {
    let pki = Pki::new();
    let roots = pki.certs("sm2root.pem");
    let leaf = pki.cert("sm2leaf.pem");
    let o = now().with_host(PeerName::Dns("www.example.com".into()));
    let chain = validate(&roots, &[], &leaf, &o).unwrap();
    assert_eq!(chain.certificates().len(), 2);
    assert_eq!(chain.anchor(), &roots[0]);
    let other = o.with_sm2_id(DistinguishingId::new(b"ALICE123@YAHOO.COM".to_vec()).unwrap());
    let e = validate(&roots, &[], &leaf, &other).unwrap_err();
    assert!(
        matches!(e, PathError::BadSignature { ref cert } if cert.position == 0),
        "{e}"
    );
}

#[test]
fn a_crafted_pool_is_bounded_work() {
    // 60 copies of the same intermediates: loops and duplicates are pruned, the answer comes
    // at once either way.
    let pki = Pki::new();
    let mut pool = Vec::new();
    for _ in 0..60 {
        pool.push(pki.cert("icanc.pem"));
        pool.push(pki.cert("leaf-crit.pem"));
    }
    let t = std::time::Instant::now();
    let e = validate(&pki.certs("root.pem"), &pool, &pki.cert("leaf.pem"), &now()).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(e, PathError::NoPath { .. } | PathError::WorkLimit),
        "{e}"
    );
    pool.push(pki.cert("ica.pem"));
    validate(&pki.certs("root.pem"), &pool, &pki.cert("leaf.pem"), &now()).unwrap();
}
