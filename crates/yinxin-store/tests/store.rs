//! The store's behaviour, run identically against SQLite (a file in a temporary directory) and
//! the local PostgreSQL server (a fresh schema per test). Set `YINXIN_TEST_PG_URL` to use
//! another server; if none is reachable, the PostgreSQL tests say `SKIPPED` on stderr and pass.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use yinxin_audit::{AuditAction, AuditEvent, verify};
use yinxin_store::{
    Backend, CaRecord, CertificateQuery, CertificateStatus, NewCertificate, Store, StoreError,
};

const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Where a test's store lives; `open` may be called again to reopen it.
struct Fixture {
    url: String,
    dir: Option<tempfile::TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl Fixture {
    fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("yinxin.db").display());
        Fixture {
            url,
            dir: Some(dir),
            pg_cleanup: None,
        }
    }

    /// A fresh schema on the PostgreSQL server, or `None` (after saying so) if unreachable.
    async fn postgres(test: &str) -> Option<Fixture> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let base = std::env::var("YINXIN_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into());
        let mut conn = match sqlx::postgres::PgConnection::connect(&base).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("SKIPPED: PostgreSQL not reachable at {base} ({e}); test {test}");
                return None;
            }
        };
        let schema = format!(
            "yx_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            test
        );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(Fixture {
            url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
            dir: None,
            pg_cleanup: Some((base, schema)),
        })
    }

    async fn open(&self) -> Store {
        Store::open(&self.url).await.unwrap()
    }

    async fn cleanup(self) {
        if let Some((base, schema)) = &self.pg_cleanup {
            let mut conn = sqlx::postgres::PgConnection::connect(base).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
}

/// Generate a SQLite and a PostgreSQL test for each shared test function.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let fx = super::Fixture::sqlite();
                    super::$name(&fx, yinxin_store::Backend::Sqlite).await;
                    fx.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(fx) = super::Fixture::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&fx, yinxin_store::Backend::Postgres).await;
                    fx.cleanup().await;
                }
            )*
        }
    };
}

on_both_backends!(
    cas_round_trip_and_duplicate_name_conflicts,
    duplicate_serial_is_a_conflict,
    status_changes_are_validated,
    search_filters,
    crl_numbers_are_monotonic,
    audit_chain_is_gap_free_under_concurrency,
    issue_with_audit_is_atomic,
    vault_blobs_round_trip,
    reopened_store_keeps_its_data,
);

fn ca(name: &str) -> CaRecord {
    CaRecord {
        name: name.into(),
        algorithm: "sm2".into(),
        certificate_der: vec![0x30, 0x03, 0x02, 0x01, 0x01],
        key_ref: format!("vault:{name}"),
        created_at: 1_700_000_000_000,
    }
}

fn cert(ca: &str, serial: &[u8], subject: &str, org: Option<&str>) -> NewCertificate {
    NewCertificate {
        ca: ca.into(),
        serial: serial.to_vec(),
        subject: subject.into(),
        organisation: org.map(Into::into),
        profile: "employee".into(),
        not_before: 1_700_000_000_000,
        not_after: 1_731_536_000_000,
        der: [&[0x30, 0x82][..], serial].concat(),
        requested_by: "ra-operator".into(),
    }
}

fn event(target: &str) -> AuditEvent {
    AuditEvent::new("ra-operator", AuditAction::CertificateIssued, target)
        .with("profile", "employee")
}

async fn cas_round_trip_and_duplicate_name_conflicts(fx: &Fixture, backend: Backend) {
    let store = fx.open().await;
    assert_eq!(store.backend(), backend);
    store.put_ca(&ca("sm2-root")).await.unwrap();
    store.put_ca(&ca("rsa-issuing")).await.unwrap();
    assert!(matches!(
        store.put_ca(&ca("sm2-root")).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.ca("sm2-root").await.unwrap(), ca("sm2-root"));
    let names: Vec<String> = store
        .cas()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["rsa-issuing", "sm2-root"]);
    assert!(matches!(
        store.ca("nope").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn duplicate_serial_is_a_conflict(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    store.put_ca(&ca("b")).await.unwrap();
    let c = cert("a", &[0x01, 0xab], "CN=张三", Some("某单位"));
    store.insert_certificate(&c).await.unwrap();
    assert!(matches!(
        store.insert_certificate(&c).await,
        Err(StoreError::Conflict { .. })
    ));
    // The same serial under another CA is fine; an unknown CA is not.
    store
        .insert_certificate(&cert("b", &[0x01, 0xab], "CN=x", None))
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_certificate(&cert("zz", &[0x01], "CN=x", None))
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let got = store.certificate("a", &[0x01, 0xab]).await.unwrap();
    assert_eq!(got.certificate, c);
    assert_eq!(got.status, CertificateStatus::Valid);
    assert_eq!((got.revoked_at, got.revocation_reason), (None, None));
    assert!(matches!(
        store.certificate("a", &[0x02]).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn status_changes_are_validated(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    for s in 1u8..=3 {
        store
            .insert_certificate(&cert("a", &[s], "CN=x", None))
            .await
            .unwrap();
    }
    // 1: revoked; revoking again, holding or releasing it is refused.
    store.revoke("a", &[1], 1, 1000).await.unwrap();
    for result in [
        store.revoke("a", &[1], 4, 2000).await,
        store.hold("a", &[1], 2000).await,
        store.release("a", &[1]).await,
    ] {
        assert!(matches!(
            result,
            Err(StoreError::InvalidTransition {
                from: CertificateStatus::Revoked,
                ..
            })
        ));
    }
    // 2: held, released, held again, then revoked.
    store.hold("a", &[2], 1500).await.unwrap();
    assert_eq!(
        store.certificate("a", &[2]).await.unwrap().status,
        CertificateStatus::OnHold
    );
    store.release("a", &[2]).await.unwrap();
    assert!(matches!(
        store.release("a", &[2]).await,
        Err(StoreError::InvalidTransition {
            from: CertificateStatus::Valid,
            ..
        })
    ));
    store.hold("a", &[2], 1600).await.unwrap();
    // 3: held.
    store.hold("a", &[3], 1700).await.unwrap();
    store.revoke("a", &[2], 5, 1800).await.unwrap();
    // Bad reasons and unknown certificates.
    assert!(matches!(
        store.revoke("a", &[3], 6, 0).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        store.revoke("a", &[3], 11, 0).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        store.revoke("a", &[9], 1, 0).await,
        Err(StoreError::NotFound { .. })
    ));
    let crl: Vec<(Vec<u8>, i64, u8)> = store
        .revoked("a")
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.serial, e.revoked_at, e.reason))
        .collect();
    assert_eq!(
        crl,
        [(vec![1], 1000, 1), (vec![2], 1800, 5), (vec![3], 1700, 6)]
    );
    let two = store.certificate("a", &[2]).await.unwrap();
    assert_eq!(
        (two.status, two.revoked_at, two.revocation_reason),
        (CertificateStatus::Revoked, Some(1800), Some(5))
    );
}

async fn search_filters(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    store.put_ca(&ca("b")).await.unwrap();
    let certs = [
        cert("a", &[1], "CN=Zhang San,O=Acme", Some("Acme")),
        cert("a", &[2], "CN=Li Si,O=Acme", Some("Acme")),
        cert("a", &[3], "CN=王五,O=某单位", Some("某单位")),
        cert("b", &[4], "CN=www.example.com", None),
        cert("b", &[5], "CN=100%_done", None),
    ];
    for c in &certs {
        store.insert_certificate(c).await.unwrap();
    }
    store.revoke("a", &[2], 0, 10).await.unwrap();
    let serials = |q: CertificateQuery| {
        let store = store.clone();
        async move {
            store
                .search(&q)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.certificate.serial[0])
                .collect::<Vec<u8>>()
        }
    };
    assert_eq!(serials(CertificateQuery::default()).await, [1, 2, 3, 4, 5]);
    let q = |f: fn(&mut CertificateQuery)| {
        let mut q = CertificateQuery::default();
        f(&mut q);
        q
    };
    assert_eq!(
        serials(q(|q| q.subject_contains = Some("zhang".into()))).await,
        [1]
    );
    assert_eq!(
        serials(q(|q| q.subject_contains = Some("王".into()))).await,
        [3]
    );
    // LIKE wildcards in the needle are literal.
    assert_eq!(
        serials(q(|q| q.subject_contains = Some("%_".into()))).await,
        [5]
    );
    assert_eq!(
        serials(q(|q| q.subject_contains = Some("_".into()))).await,
        [5]
    );
    assert_eq!(
        serials(q(|q| q.organisation = Some("Acme".into()))).await,
        [1, 2]
    );
    assert_eq!(serials(q(|q| q.serial = Some(vec![4]))).await, [4]);
    assert_eq!(
        serials(q(|q| q.status = Some(CertificateStatus::Revoked))).await,
        [2]
    );
    assert_eq!(
        serials(q(|q| q.status = Some(CertificateStatus::Valid))).await,
        [1, 3, 4, 5]
    );
    assert_eq!(serials(q(|q| q.ca = Some("b".into()))).await, [4, 5]);
    assert_eq!(
        serials(q(|q| {
            q.ca = Some("a".into());
            q.organisation = Some("Acme".into());
            q.status = Some(CertificateStatus::Valid);
        }))
        .await,
        [1]
    );
    assert_eq!(
        serials(q(|q| {
            q.limit = Some(2);
            q.offset = 1;
        }))
        .await,
        [2, 3]
    );
    assert!(
        serials(q(|q| q.subject_contains = Some("nobody".into())))
            .await
            .is_empty()
    );
}

async fn crl_numbers_are_monotonic(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    store.put_ca(&ca("b")).await.unwrap();
    assert_eq!(store.crl_number_next("a").await.unwrap(), 1);
    assert_eq!(store.crl_number_next("a").await.unwrap(), 2);
    assert_eq!(store.crl_number_next("b").await.unwrap(), 1);
    // Concurrent callers each get a distinct number, with none skipped.
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..10 {
                got.push(store.crl_number_next("a").await.unwrap());
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        let got = t.await.unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]));
        all.extend(got);
    }
    all.sort();
    assert_eq!(all, (3..43).collect::<Vec<u64>>());
    assert!(matches!(
        store.crl_number_next("zz").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn audit_chain_is_gap_free_under_concurrency(fx: &Fixture, _: Backend) {
    // Two stores (two pools, as two processes would have), two tasks on each: 4 × 25 appends.
    let stores = [fx.open().await, fx.open().await];
    let mut tasks = Vec::new();
    for t in 0..4 {
        let store = stores[t % 2].clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..25 {
                let r = store
                    .append_audit(event(&format!("task {t} item {i}")), 1_700_000_000_000 + i)
                    .await
                    .unwrap();
                assert!(r.seq < 100);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let records = stores[0].audit_range(0, 1000).await.unwrap();
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<u64>>(),
        (0..100).collect::<Vec<u64>>()
    );
    let v = verify(&records).unwrap();
    assert_eq!((v.first_seq, v.last_seq), (0, 99));
    // Each task's events are all there.
    for t in 0..4 {
        let n = records
            .iter()
            .filter(|r| r.event.target.starts_with(&format!("task {t} ")))
            .count();
        assert_eq!(n, 25);
    }
    // A partial range verifies from its anchor.
    let tail = stores[1].audit_range(60, 10).await.unwrap();
    assert_eq!(tail.len(), 10);
    assert_eq!(tail[0], records[60]);
    assert!(yinxin_audit::verify_from(&tail, Some(records[59].hash)).is_ok());
}

async fn issue_with_audit_is_atomic(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    store.append_audit(event("setup"), 1).await.unwrap();
    let c = cert("a", &[7, 7], "CN=x", None);
    let r = store
        .issue_certificate_with_audit(&c, event("serial 0707"), 2)
        .await
        .unwrap();
    assert_eq!(r.seq, 1);
    assert_eq!(
        store.certificate("a", &[7, 7]).await.unwrap().certificate,
        c
    );
    // A duplicate serial stores neither the certificate nor an audit record.
    let mut dup = cert("a", &[7, 7], "CN=other", None);
    assert!(matches!(
        store
            .issue_certificate_with_audit(&dup, event("serial 0707 again"), 3)
            .await,
        Err(StoreError::Conflict { .. })
    ));
    // An unknown CA neither.
    dup.ca = "zz".into();
    assert!(matches!(
        store
            .issue_certificate_with_audit(&dup, event("unknown ca"), 3)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let records = store.audit_range(0, 100).await.unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].event.target, "serial 0707");
    assert_eq!(
        store.certificate("a", &[7, 7]).await.unwrap().certificate,
        c
    );
    // Concurrent issuance keeps the chain gap-free too.
    let mut tasks = Vec::new();
    for t in 0..4u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..5u8 {
                store
                    .issue_certificate_with_audit(
                        &cert("a", &[t, i, 0xff], "CN=y", None),
                        event("concurrent"),
                        4,
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let records = store.audit_range(0, 100).await.unwrap();
    assert_eq!(records.len(), 22);
    assert_eq!(verify(&records).unwrap().last_seq, 21);
    let issued = store
        .search(&CertificateQuery {
            ca: Some("a".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(issued.len(), 21);
}

async fn vault_blobs_round_trip(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    assert!(store.vault_blob_names().await.unwrap().is_empty());
    assert!(matches!(
        store.vault_blob("sealed-config").await,
        Err(StoreError::NotFound { .. })
    ));
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    store.put_vault_blob("sealed-config", &bytes).await.unwrap();
    store
        .put_vault_blob("key/ca-sm2", &[0, 1, 2])
        .await
        .unwrap();
    store.put_vault_blob("empty", &[]).await.unwrap();
    assert_eq!(store.vault_blob("sealed-config").await.unwrap(), bytes);
    store.put_vault_blob("key/ca-sm2", &[9]).await.unwrap();
    assert_eq!(store.vault_blob("key/ca-sm2").await.unwrap(), [9]);
    assert!(store.vault_blob("empty").await.unwrap().is_empty());
    assert_eq!(
        store.vault_blob_names().await.unwrap(),
        ["empty", "key/ca-sm2", "sealed-config"]
    );
}

async fn reopened_store_keeps_its_data(fx: &Fixture, backend: Backend) {
    {
        let store = fx.open().await;
        if backend == Backend::Sqlite {
            // The file was created, in WAL mode.
            let dir = fx.dir.as_ref().unwrap().path();
            assert!(dir.join("yinxin.db").exists());
            assert!(dir.join("yinxin.db-wal").exists());
        }
        store.put_ca(&ca("a")).await.unwrap();
        store
            .issue_certificate_with_audit(&cert("a", &[1], "CN=x", None), event("one"), 5)
            .await
            .unwrap();
        store.hold("a", &[1], 6).await.unwrap();
        assert_eq!(store.crl_number_next("a").await.unwrap(), 1);
        store.put_vault_blob("blob", b"sealed").await.unwrap();
        store.close().await;
    }
    // Reopening runs the migrations again (a no-op) and finds everything.
    let store = fx.open().await;
    assert_eq!(store.ca("a").await.unwrap(), ca("a"));
    assert_eq!(
        store.certificate("a", &[1]).await.unwrap().status,
        CertificateStatus::OnHold
    );
    assert_eq!(store.crl_number_next("a").await.unwrap(), 2);
    assert_eq!(store.vault_blob("blob").await.unwrap(), b"sealed");
    let next = store.append_audit(event("two"), 7).await.unwrap();
    assert_eq!(next.seq, 1);
    assert!(verify(&store.audit_range(0, 10).await.unwrap()).is_ok());
}

#[tokio::test]
async fn bad_urls_are_refused_and_passwords_redacted() {
    let err = Store::open("mysql://root:hunter2@db/yinxin")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidUrl { .. }));
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn memory_store_works() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    store.put_vault_blob("x", b"y").await.unwrap();
    assert_eq!(store.vault_blob("x").await.unwrap(), b"y");
    store.append_audit(event("m"), 1).await.unwrap();
    assert_eq!(store.audit_range(0, 10).await.unwrap().len(), 1);
}
