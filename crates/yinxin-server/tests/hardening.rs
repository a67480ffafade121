//! The outside probe's findings, replayed against the router in process (an injected client
//! address stands in for another machine): shares that strangers send, credentials over plain
//! HTTP, trusted proxies.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;
use yinxin_authority::{Authority, AuthorityConfig, InitOptions};
use yinxin_crypto::shamir::Share;
use yinxin_server::transport::TransportPolicy;
use yinxin_store::Store;

const STRANGER: &str = "198.51.100.7:40000";
const LOCAL: &str = "127.0.0.1:40000";

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    peer: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let mut request = match body {
        Some(b) => request
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => request.body(Body::empty()).unwrap(),
    };
    let peer: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn share_text(threshold: u8, index: u8, value: &[u8]) -> String {
    let body = format!("yinxin-share-v1:{threshold}:{index}:{}", hex::encode(value));
    let check = yinxin_crypto::hash::digest(yinxin_crypto::HashAlgorithm::Sm3, body.as_bytes());
    format!("{body}:{}", hex::encode(&check[..4]))
}

/// A 3-of-5 vault, first-started and opened again sealed.
async fn sealed_vault(dir: &tempfile::TempDir) -> (Authority, Vec<Share>) {
    let url = format!("sqlite://{}", dir.path().join("y.db").display());
    let options = InitOptions {
        threshold: 3,
        shares: 5,
        pkcs11_cas: Vec::new(),
    };
    let config = AuthorityConfig::new("http://127.0.0.1:1");
    let (first, init) =
        Authority::initialise(Store::open(&url).await.unwrap(), config.clone(), options)
            .await
            .unwrap();
    drop(first);
    let sealed = Authority::open(Store::open(&url).await.unwrap(), config)
        .await
        .unwrap();
    (sealed, init.shares)
}

async fn audit_of(a: &Authority, action: &str) -> Vec<yinxin_audit::AuditRecord> {
    let auditor = yinxin_authority::Actor {
        name: "auditor".into(),
        token_id: "t".into(),
        role: yinxin_authority::Role::Auditor,
        member: None,
    };
    a.audit_records(&auditor, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.action.as_str() == action)
        .collect()
}

/// Finding 3: a stranger's shares neither count, nor displace a real one, nor discard
/// progress; failures are limited per address and audited once a minute with a count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_disturb_the_unseal() {
    let dir = tempfile::tempdir().unwrap();
    let (a, shares) = sealed_vault(&dir).await;
    let (_, other_vault) = {
        let other = tempfile::tempdir().unwrap();
        sealed_vault(&other).await
    };
    let app = yinxin_server::router_with(
        a.clone(),
        TransportPolicy {
            insecure_http: true,
            ..TransportPolicy::default()
        },
        yinxin_server::budget::BodyBudget::default(),
    );
    let unseal = |peer: &'static str, text: String| {
        let app = app.clone();
        async move {
            call(
                &app,
                "POST",
                "/api/v1/vault/unseal",
                peer,
                &[],
                Some(json!({"share": text})),
            )
            .await
        }
    };
    // Holder 1 gives the real share 1 from the console.
    let (s, v) = unseal(LOCAL, shares[0].to_text().to_string()).await;
    assert_eq!(
        (s, v["shares_given"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{v}"
    );
    // The stranger tries: a forged share 1 and 2 (well-formed, right check digits), another
    // vault's share 2, an index above n, a 10 KB value.
    let forgeries = [
        share_text(3, 1, &[7u8; 32]),
        share_text(3, 2, &[9u8; 32]),
        other_vault[1].to_text().to_string(),
        share_text(3, 6, &[1u8; 32]),
        share_text(3, 4, &vec![5u8; 5000]),
        "yinxin-share-v1:3:2:zz:00".into(),
    ];
    for f in &forgeries {
        let (s, v) = unseal(STRANGER, f.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{f:.60}: {v}");
        assert_eq!(v["type"], "urn:yinxin:problem:bad-share", "{v}");
    }
    let (_, status) = call(&app, "GET", "/api/v1/status", LOCAL, &[], None).await;
    assert_eq!(
        status["shares_given"], 1,
        "nothing counted, nothing discarded: {status}"
    );
    // Rate limit: after the 10th failure in a minute the address is refused unheard.
    for _ in forgeries.len()..yinxin_authority::MAX_UNSEAL_FAILURES_PER_MINUTE as usize {
        let (s, _) = unseal(STRANGER, forgeries[0].clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
    let (s, v) = unseal(STRANGER, shares[2].to_text().to_string()).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(v["type"], "urn:yinxin:problem:too-many-attempts");
    // One audit record for the address so far, with its count and no holder's index.
    let refused = audit_of(&a, "unseal_refused").await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    let details = &refused[0].event.details;
    assert_eq!(
        details.get("address").map(String::as_str),
        Some("198.51.100.7")
    );
    assert_eq!(details.get("count").map(String::as_str), Some("1"));
    assert!(
        !details
            .keys()
            .any(|k| k.contains("share") || k.contains("index")),
        "{details:?}"
    );
    // The holders finish: shares 3 and 5.
    let (s, v) = unseal(LOCAL, shares[2].to_text().to_string()).await;
    assert_eq!(
        (s, v["shares_given"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{v}"
    );
    let (s, v) = unseal(LOCAL, shares[4].to_text().to_string()).await;
    assert_eq!(
        (s, v["sealed"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{v}"
    );
    // Unsealed: another vault's share is still refused; a real one is a no-op.
    let (s, _) = unseal(LOCAL, other_vault[0].to_text().to_string()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = unseal(LOCAL, shares[1].to_text().to_string()).await;
    assert_eq!(s, StatusCode::OK);
    let verify = a
        .verify_audit(&yinxin_authority::Actor {
            name: "auditor".into(),
            token_id: "t".into(),
            role: yinxin_authority::Role::Auditor,
            member: None,
        })
        .await
        .unwrap();
    assert!(verify.problem.is_none());
}

/// Finding 5: credentials over plain HTTP from another machine are refused; loopback and a
/// trusted TLS proxy's clients are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_over_plain_http_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("y.db").display());
    let (a, init) = Authority::initialise(
        Store::open(&url).await.unwrap(),
        AuthorityConfig::new("http://127.0.0.1:1"),
        InitOptions::default(),
    )
    .await
    .unwrap();
    let app = yinxin_server::router_with(
        a,
        TransportPolicy {
            trusted_proxies: vec!["127.0.0.2".parse().unwrap()],
            insecure_http: false,
        },
        yinxin_server::budget::BodyBudget::default(),
    );
    let bearer = format!("Bearer {}", init.admin_token.as_str());
    let shouting = format!("BEARER {}", init.admin_token.as_str());
    let auth = [("authorization", bearer.as_str())];
    let (s, v) = call(&app, "GET", "/api/v1/whoami", STRANGER, &auth, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["type"], "urn:yinxin:problem:insecure-transport");
    assert!(v["detail"].as_str().unwrap().contains("HTTPS"), "{v}");
    for (peer, headers) in [
        (LOCAL, vec![("authorization", shouting.as_str())]),
        ("[::1]:5", auth.to_vec()),
        (
            "127.0.0.2:9",
            vec![auth[0], ("forwarded", "for=198.51.100.7;proto=https")],
        ),
        (
            "127.0.0.2:9",
            vec![
                auth[0],
                ("x-forwarded-for", "198.51.100.7"),
                ("x-forwarded-proto", "https"),
            ],
        ),
    ] {
        let (s, v) = call(&app, "GET", "/api/v1/whoami", peer, &headers, None).await;
        assert_eq!(s, StatusCode::OK, "{peer} {headers:?}: {v}");
    }
    // A proxy that says plain http, or a stranger pretending to be a proxy, is refused.
    for (peer, headers) in [
        (
            "127.0.0.2:9",
            vec![auth[0], ("forwarded", "for=198.51.100.7;proto=http")],
        ),
        (
            STRANGER,
            vec![auth[0], ("forwarded", "for=127.0.0.1;proto=https")],
        ),
    ] {
        let (s, v) = call(&app, "GET", "/api/v1/whoami", peer, &headers, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{peer} {headers:?}: {v}");
    }
    // Unseal shares likewise; anonymous relying-party endpoints stay open to everyone.
    let (s, v) = call(
        &app,
        "POST",
        "/api/v1/vault/unseal",
        STRANGER,
        &[],
        Some(json!({"share": init.shares[0].to_text().as_str()})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    for path in [
        "/api/v1/status",
        "/api/v1/cas",
        "/health",
        "/crl/sm2-issuing.crl",
    ] {
        let (s, _) = call(&app, "GET", path, STRANGER, &[], None).await;
        assert_eq!(s, StatusCode::OK, "{path}");
    }
}
