//! The store's behaviour, run identically against SQLite (a file in a temporary directory) and
//! the local PostgreSQL server (a fresh schema per test). Set `YINXIN_TEST_PG_URL` to use
//! another server; if none is reachable, the PostgreSQL tests say `SKIPPED` on stderr and pass.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use yinxin_audit::{AuditAction, AuditEvent, verify};
use yinxin_store::{
    ApiTokenRecord, Backend, CaRecord, CertificateQuery, CertificateStatus, CrlRecord,
    NewCertificate, NewEscrow, RecoveryRecord, ServiceKeyRecord, StatusChange, Store, StoreError,
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
    concurrent_issuances_commit_together_and_fail_alone,
    cas_round_trip_and_duplicate_name_conflicts,
    duplicate_serial_is_a_conflict,
    status_changes_are_validated,
    search_filters,
    crl_numbers_are_monotonic,
    audit_chain_is_gap_free_under_concurrency,
    issue_with_audit_is_atomic,
    vault_blobs_round_trip,
    reopened_store_keeps_its_data,
    issue_with_audit_stores_pairs_and_escrows_atomically,
    escrowed_keys_cannot_be_deleted_or_changed,
    change_status_with_audit_is_atomic,
    recovery_needs_two_administrators,
    concurrent_recovery_approvals_succeed_once,
    crl_keeps_the_highest_number,
    api_tokens_round_trip,
    service_keys_round_trip,
    audit_head_is_the_last_seq,
    authority_operations_keep_the_chain_valid,
    serial_leases_never_overlap,
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
        platform: false,
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

// ------------------------------------------------------------------- migration 2: the authority

fn escrow(ca: &str, serial: &[u8]) -> NewEscrow {
    NewEscrow {
        ca: ca.into(),
        serial: serial.to_vec(),
        wrapped: format!("wrapped-key-{}", serial.len()),
    }
}

fn admin_event(actor: &str, action: AuditAction, target: &str) -> AuditEvent {
    AuditEvent::new(actor, action, target)
}

fn recovery(id: &str, serial: &[u8], by: &str) -> RecoveryRecord {
    RecoveryRecord {
        id: id.into(),
        ca: "a".into(),
        serial: serial.to_vec(),
        requested_by: by.into(),
        requested_at: 1_700_000_000_100,
        approved_by: None,
        approved_at: None,
    }
}

fn token(id: &str, role: &str) -> ApiTokenRecord {
    ApiTokenRecord {
        id: id.into(),
        name: format!("token {id}"),
        role: role.into(),
        secret_hash: vec![0xa5; 32],
        created_by: "first-start".into(),
        created_at: 1_700_000_000_000,
        disabled: false,
        member: None,
    }
}

fn service_key(name: &str, ca: &str) -> ServiceKeyRecord {
    ServiceKeyRecord {
        name: name.into(),
        ca: ca.into(),
        purpose: "ocsp".into(),
        certificate_der: vec![0x30, 0x01, 0x00],
        key_ref: format!("vault:{name}"),
        created_at: 1_700_000_000_000,
    }
}

fn crl(ca: &str, number: u64) -> CrlRecord {
    let n = i64::try_from(number).unwrap_or(0);
    CrlRecord {
        ca: ca.into(),
        number,
        this_update: 1_000 * n,
        next_update: 1_000 * n + 500,
        der: number.to_be_bytes().to_vec(),
    }
}

/// A duplicate is reported as such, not as exhausted retries on the audit `seq`.
fn assert_plain_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    match result {
        Err(e @ StoreError::Conflict { .. }) => {
            assert!(!e.to_string().contains("audit sequence"), "{e}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn audit_log(store: &Store) -> Vec<yinxin_audit::AuditRecord> {
    store.audit_range(0, 100_000).await.unwrap()
}

/// The whole log is gap-free from 0, verifies, and `audit_head` is its last `seq`.
async fn assert_chain_valid(store: &Store) -> usize {
    let records = audit_log(store).await;
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<u64>>(),
        (0..records.len() as u64).collect::<Vec<u64>>()
    );
    if let Some(last) = records.last() {
        let v = verify(&records).unwrap();
        assert_eq!((v.first_seq, v.last_seq), (0, last.seq));
        assert_eq!(store.audit_head().await.unwrap(), last.seq);
    }
    records.len()
}

async fn issue_with_audit_stores_pairs_and_escrows_atomically(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    // A dual-certificate pair: signing [1], encryption [2] with its escrowed key.
    let pair = [
        cert("a", &[1], "CN=张三", None),
        cert("a", &[2], "CN=张三", None),
    ];
    let r = store
        .issue_with_audit(&pair, &[escrow("a", &[2])], event("pair 1/2"), 10)
        .await
        .unwrap();
    assert_eq!(
        (r.seq, r.time_ms, r.event.target.as_str()),
        (0, 10, "pair 1/2")
    );
    for c in &pair {
        let got = store.certificate("a", &c.serial).await.unwrap();
        assert_eq!(
            (&got.certificate, got.status),
            (c, CertificateStatus::Valid)
        );
    }
    assert_eq!(
        store.escrowed_key("a", &[2]).await.unwrap(),
        escrow("a", &[2]).wrapped
    );
    assert!(matches!(
        store.escrowed_key("a", &[1]).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(audit_log(&store).await, std::slice::from_ref(&r));
    assert_eq!(store.audit_head().await.unwrap(), 0);

    let nothing_stored = |serials: &'static [u8]| {
        let store = store.clone();
        let r = r.clone();
        async move {
            for &s in serials {
                assert!(matches!(
                    store.certificate("a", &[s]).await,
                    Err(StoreError::NotFound { .. })
                ));
                assert!(matches!(
                    store.escrowed_key("a", &[s]).await,
                    Err(StoreError::NotFound { .. })
                ));
            }
            assert_eq!(audit_log(&store).await, [r]);
            assert_eq!(store.audit_head().await.unwrap(), 0);
        }
    };

    // The second certificate reuses serial [1]: the first ([3]) and its escrow are rolled back.
    let result = store
        .issue_with_audit(
            &[cert("a", &[3], "CN=x", None), cert("a", &[1], "CN=x", None)],
            &[escrow("a", &[3])],
            event("dup"),
            11,
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::Conflict { .. })),
        "{result:?}"
    );
    nothing_stored(&[3]).await;
    assert_eq!(
        store.certificate("a", &[1]).await.unwrap().certificate,
        pair[0]
    );

    // An escrow for a certificate neither in this call nor in the store.
    let result = store
        .issue_with_audit(
            &[cert("a", &[4], "CN=x", None)],
            &[escrow("a", &[5])],
            event("orphan escrow"),
            12,
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    nothing_stored(&[4, 5]).await;

    // An escrow for a certificate of another (unknown) CA is refused the same way.
    let result = store
        .issue_with_audit(
            &[cert("a", &[6], "CN=x", None)],
            &[escrow("zz", &[6])],
            event("escrow under another ca"),
            13,
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    nothing_stored(&[6]).await;

    // A second escrow of an already escrowed key is a conflict, at once, and stores nothing.
    let started = std::time::Instant::now();
    let result = store
        .issue_with_audit(
            &[cert("a", &[7], "CN=x", None)],
            &[escrow("a", &[2])],
            event("escrow twice"),
            14,
        )
        .await;
    assert_plain_conflict(result);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    nothing_stored(&[7]).await;

    // An unknown CA for a certificate.
    let result = store
        .issue_with_audit(&[cert("zz", &[8], "CN=x", None)], &[], event("zz"), 15)
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    nothing_stored(&[8]).await;

    // Escrowing a key of a certificate already in the store is fine; the pair still works.
    let r2 = store
        .issue_with_audit(
            &[cert("a", &[9], "CN=y", None)],
            &[escrow("a", &[1]), escrow("a", &[9])],
            event("later escrow"),
            16,
        )
        .await
        .unwrap();
    assert_eq!(r2.seq, 1);
    assert!(store.escrowed_key("a", &[1]).await.is_ok());
    assert!(store.escrowed_key("a", &[9]).await.is_ok());
    assert_eq!(assert_chain_valid(&store).await, 2);
}

async fn escrowed_keys_cannot_be_deleted_or_changed(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    store
        .issue_with_audit(
            &[cert("a", &[2], "CN=x", None)],
            &[escrow("a", &[2])],
            event("enc"),
            1,
        )
        .await
        .unwrap();
    // No API deletes them; the trigger refuses raw SQL too.
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&fx.url).await.unwrap();
    let deleted = sqlx::query("DELETE FROM escrowed_keys")
        .execute(&mut conn)
        .await;
    let err = deleted.unwrap_err().to_string();
    assert!(err.contains("escrowed keys are never deleted"), "{err}");
    let updated = sqlx::query("UPDATE escrowed_keys SET wrapped = 'x'")
        .execute(&mut conn)
        .await;
    let err = updated.unwrap_err().to_string();
    assert!(err.contains("escrowed keys are never changed"), "{err}");
    conn.close().await.unwrap();
    assert_eq!(
        store.escrowed_key("a", &[2]).await.unwrap(),
        escrow("a", &[2]).wrapped
    );
}

async fn change_status_with_audit_is_atomic(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    for s in 1u8..=4 {
        store
            .insert_certificate(&cert("a", &[s], "CN=x", None))
            .await
            .unwrap();
    }
    let change = |serial: u8, change: StatusChange, target: &str| {
        let store = store.clone();
        let target = target.to_string();
        async move {
            store
                .change_status_with_audit(
                    "a",
                    &[serial],
                    change,
                    admin_event("admin", AuditAction::CertificateRevoked, &target),
                    2_000,
                )
                .await
        }
    };
    let status = |serial: u8| {
        let store = store.clone();
        async move {
            let c = store.certificate("a", &[serial]).await.unwrap();
            (c.status, c.revoked_at, c.revocation_reason)
        }
    };

    // Revoke: status and audit record together.
    let r = change(
        1,
        StatusChange::Revoke {
            reason: 1,
            time_ms: 1_000,
        },
        "revoke 01",
    )
    .await
    .unwrap();
    assert_eq!((r.seq, r.event.target.as_str()), (0, "revoke 01"));
    assert_eq!(
        status(1).await,
        (CertificateStatus::Revoked, Some(1_000), Some(1))
    );
    assert_eq!(audit_log(&store).await, [r]);

    // Refused transitions append nothing and change nothing.
    for (serial, ch, from) in [
        (
            1,
            StatusChange::Revoke {
                reason: 4,
                time_ms: 3_000,
            },
            CertificateStatus::Revoked,
        ),
        (
            1,
            StatusChange::Hold { time_ms: 3_000 },
            CertificateStatus::Revoked,
        ),
        (1, StatusChange::Release, CertificateStatus::Revoked),
        (2, StatusChange::Release, CertificateStatus::Valid),
    ] {
        let result = change(serial, ch, "refused").await;
        assert!(
            matches!(result, Err(StoreError::InvalidTransition { from: f, .. }) if f == from),
            "{ch:?} on {serial}: {result:?}"
        );
    }
    assert_eq!(
        status(1).await,
        (CertificateStatus::Revoked, Some(1_000), Some(1))
    );
    assert_eq!(status(2).await, (CertificateStatus::Valid, None, None));
    assert_eq!(audit_log(&store).await.len(), 1);

    // Unknown certificates (and CAs).
    let result = change(9, StatusChange::Hold { time_ms: 1 }, "unknown").await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    let result = store
        .change_status_with_audit(
            "zz",
            &[1],
            StatusChange::Release,
            admin_event("admin", AuditAction::CertificateRevoked, "zz"),
            1,
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    assert_eq!(audit_log(&store).await.len(), 1);

    // Hold, release, hold, revoke.
    change(2, StatusChange::Hold { time_ms: 1_100 }, "hold 02")
        .await
        .unwrap();
    assert_eq!(
        status(2).await,
        (CertificateStatus::OnHold, Some(1_100), Some(6))
    );
    change(2, StatusChange::Release, "release 02")
        .await
        .unwrap();
    assert_eq!(status(2).await, (CertificateStatus::Valid, None, None));
    let result = change(2, StatusChange::Release, "release 02 again").await;
    assert!(matches!(
        result,
        Err(StoreError::InvalidTransition {
            from: CertificateStatus::Valid,
            ..
        })
    ));
    change(2, StatusChange::Hold { time_ms: 1_200 }, "hold 02 again")
        .await
        .unwrap();
    let result = change(2, StatusChange::Hold { time_ms: 1_250 }, "hold 02 twice").await;
    assert!(matches!(
        result,
        Err(StoreError::InvalidTransition {
            from: CertificateStatus::OnHold,
            ..
        })
    ));
    change(
        2,
        StatusChange::Revoke {
            reason: 4,
            time_ms: 1_300,
        },
        "revoke 02",
    )
    .await
    .unwrap();
    assert_eq!(
        status(2).await,
        (CertificateStatus::Revoked, Some(1_300), Some(4))
    );
    let result = change(2, StatusChange::Release, "release revoked 02").await;
    assert!(matches!(
        result,
        Err(StoreError::InvalidTransition {
            from: CertificateStatus::Revoked,
            ..
        })
    ));

    // Reasons certificateHold (6), unused (7) and out of range are refused, unaudited.
    for reason in [6u8, 7, 11, 255] {
        for serial in [3u8, 4] {
            let result = change(
                serial,
                StatusChange::Revoke {
                    reason,
                    time_ms: 1_400,
                },
                "bad reason",
            )
            .await;
            assert!(
                matches!(result, Err(StoreError::Invalid { .. })),
                "reason {reason}: {result:?}"
            );
        }
    }
    store.hold("a", &[4], 1_500).await.unwrap();
    assert_eq!(status(3).await, (CertificateStatus::Valid, None, None));
    assert_eq!(
        status(4).await,
        (CertificateStatus::OnHold, Some(1_500), Some(6))
    );

    let targets: Vec<String> = audit_log(&store)
        .await
        .into_iter()
        .map(|r| r.event.target)
        .collect();
    assert_eq!(
        targets,
        [
            "revoke 01",
            "hold 02",
            "release 02",
            "hold 02 again",
            "revoke 02"
        ]
    );
    assert_eq!(assert_chain_valid(&store).await, 5);
    let crl: Vec<(Vec<u8>, u8)> = store
        .revoked("a")
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.serial, e.reason))
        .collect();
    assert_eq!(crl, [(vec![1], 1), (vec![2], 4), (vec![4], 6)]);
}

/// CA `a` with a signing certificate [1] and an encryption certificate [2] whose key is
/// escrowed; the issuance is audit record 0.
async fn store_with_escrow(fx: &Fixture) -> Store {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    store
        .issue_with_audit(
            &[cert("a", &[1], "CN=x", None), cert("a", &[2], "CN=x", None)],
            &[escrow("a", &[2])],
            event("pair"),
            1,
        )
        .await
        .unwrap();
    store
}

async fn recovery_needs_two_administrators(fx: &Fixture, _: Backend) {
    let store = store_with_escrow(fx).await;
    let recover = |actor: &str, target: &str| admin_event(actor, AuditAction::KeyRecovered, target);

    // The signing certificate has no escrowed key.
    let result = store
        .request_recovery_with_audit(&recovery("r0", &[1], "alice"), recover("alice", "r0"), 2)
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    let result = store
        .request_recovery_with_audit(&recovery("r0", &[9], "alice"), recover("alice", "r0"), 2)
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound { .. })),
        "{result:?}"
    );
    assert!(matches!(
        store.recovery("r0").await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(audit_log(&store).await.len(), 1);

    let asked = recovery("r1", &[2], "alice");
    let r = store
        .request_recovery_with_audit(&asked, recover("alice", "request r1"), 3)
        .await
        .unwrap();
    assert_eq!((r.seq, r.event.actor.as_str()), (1, "alice"));
    assert_eq!(store.recovery("r1").await.unwrap(), asked);

    // The same id again is a conflict, at once, with nothing appended.
    let started = std::time::Instant::now();
    let result = store
        .request_recovery_with_audit(
            &recovery("r1", &[2], "carol"),
            recover("carol", "request r1 again"),
            4,
        )
        .await;
    assert_plain_conflict(result);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(store.recovery("r1").await.unwrap(), asked);
    assert_eq!(audit_log(&store).await.len(), 2);

    // The requester cannot approve their own request.
    let result = store
        .approve_recovery_with_audit("r1", "alice", recover("alice", "approve r1"), 5)
        .await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(store.recovery("r1").await.unwrap(), asked);
    assert_eq!(audit_log(&store).await.len(), 2);

    // Another administrator can, once.
    let r = store
        .approve_recovery_with_audit("r1", "bob", recover("bob", "approve r1"), 6)
        .await
        .unwrap();
    assert_eq!(
        (r.seq, r.event.actor.as_str(), r.event.target.as_str()),
        (2, "bob", "approve r1")
    );
    let approved = store.recovery("r1").await.unwrap();
    assert_eq!(
        (approved.approved_by.as_deref(), approved.approved_at),
        (Some("bob"), Some(6))
    );
    for approver in ["bob", "carol", "alice"] {
        let result = store
            .approve_recovery_with_audit("r1", approver, recover(approver, "again"), 7)
            .await;
        assert!(result.is_err(), "{approver}: {result:?}");
    }
    assert_eq!(store.recovery("r1").await.unwrap(), approved);

    // An unknown request cannot be approved.
    let result = store
        .approve_recovery_with_audit("nope", "bob", recover("bob", "approve nope"), 8)
        .await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(audit_log(&store).await.len(), 3);

    // A second request for the same key is a new dual-control round.
    store
        .request_recovery_with_audit(
            &recovery("r2", &[2], "bob"),
            recover("bob", "request r2"),
            9,
        )
        .await
        .unwrap();
    store
        .approve_recovery_with_audit("r2", "alice", recover("alice", "approve r2"), 10)
        .await
        .unwrap();
    assert_eq!(assert_chain_valid(&store).await, 5);
}

async fn concurrent_recovery_approvals_succeed_once(fx: &Fixture, _: Backend) {
    let store = store_with_escrow(fx).await;
    // Two nodes (two pools).
    let nodes = [fx.open().await, fx.open().await];
    for round in 0..8 {
        let id = format!("c{round}");
        store
            .request_recovery_with_audit(
                &recovery(&id, &[2], "alice"),
                admin_event("alice", AuditAction::KeyRecovered, &format!("request {id}")),
                100 + round,
            )
            .await
            .unwrap();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = ["bob", "carol"]
            .into_iter()
            .zip(nodes.iter().cloned())
            .map(|(approver, node)| {
                let id = id.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    let result = node
                        .approve_recovery_with_audit(
                            &id,
                            approver,
                            admin_event(
                                approver,
                                AuditAction::KeyRecovered,
                                &format!("approve {id}"),
                            ),
                            200 + round,
                        )
                        .await;
                    (approver, result)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            let (approver, result) = t.await.unwrap();
            match result {
                Ok(record) => {
                    assert_eq!(record.event.actor, approver);
                    winners.push(approver);
                }
                Err(e) => assert!(!matches!(e, StoreError::Backend(_)), "{e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let got = store.recovery(&id).await.unwrap();
        assert_eq!(got.approved_by.as_deref(), Some(winners[0]));
        let approvals = audit_log(&store)
            .await
            .into_iter()
            .filter(|r| r.event.target == format!("approve {id}"))
            .count();
        assert_eq!(approvals, 1);
    }
    // The pair, then a request and one approval per round.
    assert_eq!(assert_chain_valid(&store).await, 1 + 2 * 8);
}

async fn crl_keeps_the_highest_number(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    store.put_ca(&ca("b")).await.unwrap();
    assert!(matches!(
        store.crl("a").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.put_crl(&crl("a", 5)).await.unwrap());
    assert_eq!(store.crl("a").await.unwrap(), crl("a", 5));
    // Lower and equal numbers do not replace it.
    assert!(!store.put_crl(&crl("a", 3)).await.unwrap());
    let mut same = crl("a", 5);
    same.der = b"another CRL with the same number".to_vec();
    same.this_update = 9;
    assert!(!store.put_crl(&same).await.unwrap());
    assert_eq!(store.crl("a").await.unwrap(), crl("a", 5));
    // A higher one does.
    assert!(store.put_crl(&crl("a", 6)).await.unwrap());
    assert_eq!(store.crl("a").await.unwrap(), crl("a", 6));
    // Per CA.
    assert!(store.put_crl(&crl("b", 1)).await.unwrap());
    assert_eq!(store.crl("b").await.unwrap(), crl("b", 1));
    assert_eq!(store.crl("a").await.unwrap(), crl("a", 6));
    // Unknown CA, and a number the database cannot hold.
    assert!(store.put_crl(&crl("zz", 1)).await.is_err());
    assert!(matches!(
        store.put_crl(&crl("a", u64::MAX)).await,
        Err(StoreError::Invalid { .. })
    ));
    // Racing publishers: the highest number wins whatever the order.
    let mut tasks = Vec::new();
    for t in 0..4u64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for n in (0..10u64).map(|i| 10 + i * 4 + t).rev() {
                store.put_crl(&crl("b", n)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.crl("b").await.unwrap(), crl("b", 49));
}

async fn api_tokens_round_trip(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    assert_eq!(store.api_token_count().await.unwrap(), 0);
    assert!(matches!(
        store.api_token("t1").await,
        Err(StoreError::NotFound { .. })
    ));
    let t1 = token("t1", "admin");
    let mut t2 = token("t2", "auditor");
    t2.disabled = true;
    t2.secret_hash = (0..64).collect();
    let created = |t: &ApiTokenRecord| admin_event("first-start", AuditAction::Login, &t.id);
    let r = store
        .create_api_token_with_audit(&t1, created(&t1), 1)
        .await
        .unwrap();
    assert_eq!((r.seq, r.event.target.as_str()), (0, "t1"));
    store
        .create_api_token_with_audit(&t2, created(&t2), 2)
        .await
        .unwrap();
    assert_eq!(store.api_token("t1").await.unwrap(), t1);
    assert_eq!(store.api_token("t2").await.unwrap(), t2);
    assert_eq!(store.api_token_count().await.unwrap(), 2);

    // A duplicate id is refused at once, keeps the original and appends nothing.
    let mut dup = token("t1", "ra-operator");
    dup.name = "impostor".into();
    let started = std::time::Instant::now();
    let result = store
        .create_api_token_with_audit(&dup, created(&dup), 3)
        .await;
    assert_plain_conflict(result);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(store.api_token("t1").await.unwrap(), t1);
    // An unknown role is refused by the database.
    let result = store
        .create_api_token_with_audit(&token("t3", "root"), created(&t1), 3)
        .await;
    assert!(result.is_err(), "{result:?}");
    assert!(matches!(
        store.api_token("t3").await,
        Err(StoreError::NotFound { .. })
    ));
    store
        .create_api_token_with_audit(&token("t4", "ra-operator"), created(&t1), 4)
        .await
        .unwrap();
    assert_eq!(store.api_token_count().await.unwrap(), 3);
    assert_eq!(assert_chain_valid(&store).await, 3);
}

async fn service_keys_round_trip(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    assert!(store.service_keys().await.unwrap().is_empty());
    let ocsp = service_key("a/ocsp", "a");
    let mut tsa = service_key("a/tsa", "a");
    tsa.purpose = "tsa".into();
    store.put_service_key(&tsa).await.unwrap();
    store.put_service_key(&ocsp).await.unwrap();
    assert_eq!(
        store.service_keys().await.unwrap(),
        [ocsp.clone(), tsa.clone()]
    );
    let mut dup = service_key("a/ocsp", "a");
    dup.key_ref = "vault:other".into();
    assert_plain_conflict(store.put_service_key(&dup).await);
    // Unknown CA.
    assert!(
        store
            .put_service_key(&service_key("zz/ocsp", "zz"))
            .await
            .is_err()
    );
    assert_eq!(store.service_keys().await.unwrap(), [ocsp, tsa]);
}

async fn audit_head_is_the_last_seq(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    // Design flaw: an empty log and a log holding only seq 0 both report 0.
    assert_eq!(store.audit_head().await.unwrap(), 0);
    assert!(audit_log(&store).await.is_empty());
    let first = store.append_audit(event("first"), 1).await.unwrap();
    assert_eq!(first.seq, 0);
    assert_eq!(store.audit_head().await.unwrap(), 0);
    for i in 1..=5u64 {
        let r = store.append_audit(event("more"), 1).await.unwrap();
        assert_eq!(r.seq, i);
        assert_eq!(store.audit_head().await.unwrap(), i);
    }
    // Audited writes move it too; refused ones do not.
    store.put_ca(&ca("a")).await.unwrap();
    let r = store
        .issue_with_audit(&[cert("a", &[1], "CN=x", None)], &[], event("one"), 2)
        .await
        .unwrap();
    assert_eq!(store.audit_head().await.unwrap(), r.seq);
    assert!(
        store
            .issue_with_audit(&[cert("a", &[1], "CN=x", None)], &[], event("dup"), 3)
            .await
            .is_err()
    );
    assert_eq!(store.audit_head().await.unwrap(), 6);
    assert_eq!(assert_chain_valid(&store).await, 7);
}

async fn authority_operations_keep_the_chain_valid(fx: &Fixture, _: Backend) {
    let store = store_with_escrow(fx).await;
    let other = fx.open().await;
    store
        .create_api_token_with_audit(
            &token("t1", "admin"),
            admin_event("first-start", AuditAction::Login, "t1"),
            2,
        )
        .await
        .unwrap();
    // Refused operations interleaved with successful ones, from two pools.
    assert!(
        other
            .issue_with_audit(
                &[cert("a", &[3], "CN=x", None), cert("a", &[1], "CN=x", None)],
                &[escrow("a", &[3])],
                event("dup"),
                3,
            )
            .await
            .is_err()
    );
    other
        .change_status_with_audit(
            "a",
            &[1],
            StatusChange::Hold { time_ms: 4 },
            admin_event("admin", AuditAction::CertificateRevoked, "hold 01"),
            4,
        )
        .await
        .unwrap();
    assert!(
        store
            .change_status_with_audit(
                "a",
                &[2],
                StatusChange::Release,
                admin_event("admin", AuditAction::CertificateRevoked, "release 02"),
                5,
            )
            .await
            .is_err()
    );
    store
        .request_recovery_with_audit(
            &recovery("r", &[2], "alice"),
            admin_event("alice", AuditAction::KeyRecovered, "request r"),
            6,
        )
        .await
        .unwrap();
    assert!(
        other
            .approve_recovery_with_audit(
                "r",
                "alice",
                admin_event("alice", AuditAction::KeyRecovered, "approve r"),
                7,
            )
            .await
            .is_err()
    );
    other
        .approve_recovery_with_audit(
            "r",
            "bob",
            admin_event("bob", AuditAction::KeyRecovered, "approve r"),
            8,
        )
        .await
        .unwrap();
    // Concurrent audited issuance and plain appends.
    let mut tasks = Vec::new();
    for t in 0..4u8 {
        let node = if t % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            for i in 0..5u8 {
                node.issue_with_audit(
                    &[
                        cert("a", &[0x10, t, i, 0], "CN=s", None),
                        cert("a", &[0x10, t, i, 1], "CN=e", None),
                    ],
                    &[escrow("a", &[0x10, t, i, 1])],
                    event("concurrent pair"),
                    9,
                )
                .await
                .unwrap();
                node.append_audit(event("login"), 9).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n = assert_chain_valid(&store).await;
    assert_eq!(n, 5 + 4 * 5 * 2);
    assert_eq!(other.audit_head().await.unwrap(), n as u64 - 1);
    let targets: Vec<String> = audit_log(&store)
        .await
        .into_iter()
        .take(5)
        .map(|r| r.event.target)
        .collect();
    assert_eq!(targets, ["pair", "t1", "hold 01", "request r", "approve r"]);
}

/// Many issuances at once share transactions (group commit): a duplicate serial fails alone,
/// every other one is stored with its own audit record, and the chain has no gap.
async fn concurrent_issuances_commit_together_and_fail_alone(fx: &Fixture, _: Backend) {
    let store = fx.open().await;
    store.put_ca(&ca("a")).await.unwrap();
    let tasks: Vec<_> = (0u16..120)
        .map(|i| {
            let store = store.clone();
            // Every tenth one repeats the serial of the one before it.
            let serial = if i % 10 == 9 { i - 1 } else { i }.to_be_bytes();
            tokio::spawn(async move {
                let target = format!("a/{i}");
                (
                    i,
                    store
                        .issue_with_audit(
                            &[cert("a", &serial, "CN=burst", None)],
                            &[],
                            event(&target),
                            1,
                        )
                        .await,
                )
            })
        })
        .collect();
    let mut ok = 0;
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            (_, Ok(_)) => ok += 1,
            (_, Err(StoreError::Conflict { .. })) => conflicts += 1,
            (i, Err(e)) => panic!("issuance {i}: {e}"),
        }
    }
    assert_eq!((ok, conflicts), (108, 12));
    let stored = store
        .search(&CertificateQuery {
            subject_contains: Some("burst".into()),
            ..CertificateQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 108);
    let records = store.audit_range(0, 1000).await.unwrap();
    assert_eq!(
        records.len(),
        108,
        "one audit record per stored certificate"
    );
    verify(&records).unwrap();
}

async fn serial_leases_never_overlap(fx: &Fixture, _: Backend) {
    // Two stores (two pools, as two nodes would have), four tasks each, leasing concurrently.
    let a = fx.open().await;
    let b = fx.open().await;
    let event = |l: &yinxin_store::SerialLease| {
        AuditEvent::new(
            "system",
            AuditAction::Other("tsa_serials_leased".into()),
            "tsa",
        )
        .with("first", l.first.to_string())
        .with("end", l.end.to_string())
    };
    let mut tasks = Vec::new();
    for i in 0..8u64 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for j in 0..10u64 {
                let block = 1 + (i + j) % 7 * 100;
                let (lease, record) = store
                    .lease_serials_with_audit("tsa", block, event, 1_000)
                    .await
                    .unwrap();
                assert_eq!(lease.len(), block);
                assert_eq!(record.event.details["first"], lease.first.to_string());
                got.push(lease);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_by_key(|l| l.first);
    assert_eq!(all[0].first, 1, "the first lease starts at 1");
    for w in all.windows(2) {
        assert_eq!(
            w[0].end, w[1].first,
            "blocks are disjoint and leave no hole"
        );
    }
    // A reopened store continues after the last block (a restart never reuses one).
    let end = all.last().unwrap().end;
    drop((a, b));
    let c = fx.open().await;
    let (next, _) = c
        .lease_serials_with_audit("tsa", 5, event, 2_000)
        .await
        .unwrap();
    assert_eq!(next.first, end);
    // Every lease is audited and the chain holds.
    assert_eq!(assert_chain_valid(&c).await, 81);
    // Bad blocks and unknown counters are refused and change nothing.
    assert!(matches!(
        c.lease_serials_with_audit("tsa", 0, event, 3_000).await,
        Err(StoreError::Invalid { .. })
    ));
    assert!(matches!(
        c.lease_serials_with_audit("nope", 5, event, 3_000).await,
        Err(StoreError::NotFound { .. })
    ));
    let (after, _) = c
        .lease_serials_with_audit("tsa", 1, event, 4_000)
        .await
        .unwrap();
    assert_eq!(after.first, next.end);
}
