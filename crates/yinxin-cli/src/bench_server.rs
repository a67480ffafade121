//! `yinxin bench-server`: issuance, OCSP and RFC 3161 timestamp throughput of a server or an
//! in-process authority, each beside the raw signing rate of the same key type measured in
//! the same run (BENCHMARKS.md, scripts/bench-server.sh).
//!
//! Without `--server` an authority runs in this process on a temporary SQLite store and is
//! called directly (the core without HTTP); with `--server` the same requests go over HTTP
//! with a keep-alive pool. Either way C requests are in flight at once, every measurement is
//! bounded in time and count, and only loopback addresses are contacted.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail, ensure};
use der::Encode;
use serde_json::json;
use yinxin_authority::TsaKey;
use yinxin_authority::{
    Actor, Authority, AuthorityConfig, EnrolRequest, InitOptions, OcspInput, ProfileName,
};
use yinxin_cms::timestamp::{TimestampRequest, VerifyOptions};
use yinxin_crypto::HashAlgorithm;
use yinxin_crypto::{KeySpec, PrivateKey};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::ocsp::{CertIdHash, CertStatusAnswer};
use yinxin_server::api::{CaResponse, CertificateResponse, IssueRequest};
use zeroize::Zeroizing;

use crate::Outcome;
use crate::args::BenchServerArgs;

/// What can be measured, in the default order.
const ALL: [&str; 9] = [
    "issue-sm2",
    "issue-rsa",
    "ocsp-cached-sm2",
    "ocsp-cached-rsa",
    "ocsp-fresh-sm2",
    "ocsp-fresh-rsa",
    "tsa-sm2",
    "tsa-rsa",
    "tsa-ecdsa",
];

/// The most operations one measurement performs, whatever `--seconds` says.
const MAX_OPS: u64 = 10_000_000;

/// The most requests in flight at once.
const MAX_CONCURRENCY: usize = 1024;

/// The subject of the benchmark's requests (organisation profile).
const SUBJECT: &str = "CN=yinxin bench,O=yinxin bench,C=CN";

/// The message the raw signing rate signs (as `yinxin bench` and `openssl speed` do).
const RAW_MESSAGE: [u8; 32] = [0x5a; 32];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sm2,
    Rsa,
    /// ECDSA P-256: the TSA's third key (no CA of this type).
    Ecdsa,
}

impl Kind {
    fn suffix(self) -> &'static str {
        match self {
            Kind::Sm2 => "sm2",
            Kind::Rsa => "rsa",
            Kind::Ecdsa => "ecdsa",
        }
    }

    /// The key of the issuing CA, of its OCSP signer and of the TSA (yinxin-authority's
    /// setup).
    fn spec(self) -> KeySpec {
        match self {
            Kind::Sm2 => KeySpec::Sm2,
            Kind::Rsa => KeySpec::Rsa2048,
            Kind::Ecdsa => KeySpec::EcP256,
        }
    }

    fn sign_name(self) -> &'static str {
        match self {
            Kind::Sm2 => "sm2-sign",
            Kind::Rsa => "rsa2048-sign",
            Kind::Ecdsa => "ecdsa-p256-sign",
        }
    }

    fn tsa_key(self) -> TsaKey {
        match self {
            Kind::Sm2 => TsaKey::Sm2,
            Kind::Rsa => TsaKey::Rsa,
            Kind::Ecdsa => TsaKey::Ecdsa,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Issue,
    OcspCached,
    OcspFresh,
    /// An RFC 3161 timestamp with a fresh nonce, signed by the TSA key of the kind.
    Timestamp,
}

impl Op {
    fn name(self, kind: Kind) -> String {
        let op = match self {
            Op::Issue => "issue",
            Op::OcspCached => "ocsp-cached",
            Op::OcspFresh => "ocsp-fresh",
            Op::Timestamp => "tsa",
        };
        format!("{op}-{}", kind.suffix())
    }
}

/// Operations done in a measured time.
#[derive(Debug, Clone, Copy)]
struct Measured {
    count: u64,
    seconds: f64,
}

impl Measured {
    fn per_s(self) -> f64 {
        self.count as f64 / self.seconds
    }
}

/// Where the requests go.
enum Target {
    Local {
        authority: Authority,
        actor: Actor,
    },
    Http {
        client: reqwest::Client,
        base: String,
        token: Zeroizing<String>,
    },
}

/// What one request carries.
enum Payload {
    Issue {
        request: EnrolRequest,
        json: Vec<u8>,
    },
    Ocsp(Vec<u8>),
    /// A request whose nonce (at `nonce_at`, 16 octets) is replaced by a random one each time.
    OcspFresh {
        template: Vec<u8>,
        nonce_at: usize,
    },
    /// A timestamp request whose nonce (at `nonce_at`, 16 octets) is fresh each time.
    Timestamp {
        key: TsaKey,
        template: Vec<u8>,
        nonce_at: usize,
    },
}

const NONCE_LEN: usize = 16;

/// Whether `der` is a `TimeStampResp` with status granted (0).
fn timestamp_granted(der: &[u8]) -> bool {
    let Some(&first_len) = der.get(1) else {
        return false;
    };
    let header = if first_len < 0x80 {
        2
    } else {
        2 + usize::from(first_len & 0x7f)
    };
    der.first() == Some(&0x30)
        && der.get(header..header + 5) == Some(&[0x30, 0x03, 0x02, 0x01, 0x00][..])
}

/// Whether `der` is an `OCSPResponse` with `responseStatus` successful (0).
fn ocsp_successful(der: &[u8]) -> bool {
    let Some(&first_len) = der.get(1) else {
        return false;
    };
    let header = if first_len < 0x80 {
        2
    } else {
        2 + usize::from(first_len & 0x7f)
    };
    der.first() == Some(&0x30) && der.get(header..header + 3) == Some(&[0x0a, 0x01, 0x00][..])
}

impl Target {
    /// One request, its answer checked.
    async fn once(&self, payload: &Payload) -> Result<()> {
        match (self, payload) {
            (Target::Local { authority, actor }, Payload::Issue { request, .. }) => {
                authority.issue(actor, request).await?;
            }
            (Target::Local { authority, .. }, Payload::Ocsp(der)) => {
                let r = authority.ocsp(OcspInput::Post(der)).await;
                ensure!(ocsp_successful(&r), "an OCSP answer was not successful");
            }
            (Target::Local { authority, .. }, Payload::OcspFresh { template, nonce_at }) => {
                let der = fresh(template, *nonce_at)?;
                let r = authority.ocsp(OcspInput::Post(&der)).await;
                ensure!(ocsp_successful(&r), "an OCSP answer was not successful");
            }
            (Target::Http { .. }, Payload::Issue { json, .. }) => {
                let r = self.post_issue(json.clone()).await?;
                ensure!(
                    r.status() == reqwest::StatusCode::CREATED,
                    "issuance answered {}",
                    r.status()
                );
                r.bytes().await.context("reading an issuance answer")?;
            }
            (Target::Http { .. }, Payload::Ocsp(der)) => {
                let r = self.post_ocsp(der.clone()).await?;
                ensure!(ocsp_successful(&r), "an OCSP answer was not successful");
            }
            (Target::Http { .. }, Payload::OcspFresh { template, nonce_at }) => {
                let r = self.post_ocsp(fresh(template, *nonce_at)?).await?;
                ensure!(ocsp_successful(&r), "an OCSP answer was not successful");
            }
            (
                _,
                Payload::Timestamp {
                    key,
                    template,
                    nonce_at,
                },
            ) => {
                let r = self
                    .timestamp(*key, fresh_nonce(template, *nonce_at)?)
                    .await?;
                ensure!(timestamp_granted(&r), "a timestamp was not granted");
            }
        }
        Ok(())
    }

    /// One timestamp request, the answer unchecked.
    async fn timestamp(&self, key: TsaKey, der: Vec<u8>) -> Result<Vec<u8>> {
        match self {
            Target::Local { authority, .. } => Ok(authority.timestamp(Some(key), &der).await),
            Target::Http { client, base, .. } => {
                let r = client
                    .post(format!("{base}/tsa/{key}"))
                    .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
                    .body(der)
                    .send()
                    .await
                    .map_err(|e| anyhow!("cannot reach the server at {base}: {e}"))?;
                ensure!(r.status().is_success(), "the TSA answered {}", r.status());
                Ok(r.bytes().await.context("reading a timestamp")?.to_vec())
            }
        }
    }

    /// The trusted roots: the server's (over HTTP) or the in-process authority's.
    async fn roots(&self) -> Result<Vec<Certificate>> {
        match self {
            Target::Local { authority, .. } => Ok(authority
                .cas()
                .into_iter()
                .filter(|c| c.is_root())
                .map(|c| c.certificate)
                .collect()),
            Target::Http { client, base, .. } => {
                let cas: Vec<CaResponse> = client
                    .get(format!("{base}/api/v1/cas"))
                    .send()
                    .await
                    .map_err(|e| anyhow!("cannot reach the server at {base}: {e}"))?
                    .json()
                    .await
                    .context("the CA list is not the expected JSON")?;
                cas.iter()
                    .filter(|c| c.root)
                    .map(|c| {
                        Ok(yinxin_pki::certificate::from_pem_or_der(
                            c.certificate_pem.as_bytes(),
                        )?)
                    })
                    .collect()
            }
        }
    }

    async fn post_issue(&self, json: Vec<u8>) -> Result<reqwest::Response> {
        let Target::Http {
            client,
            base,
            token,
        } = self
        else {
            bail!("not an HTTP target");
        };
        client
            .post(format!("{base}/api/v1/certificates"))
            .bearer_auth(token.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json)
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach the server at {base}: {e}"))
    }

    async fn post_ocsp(&self, der: Vec<u8>) -> Result<Vec<u8>> {
        let Target::Http { client, base, .. } = self else {
            bail!("not an HTTP target");
        };
        let r = client
            .post(format!("{base}/ocsp"))
            .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
            .body(der)
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach the server at {base}: {e}"))?;
        ensure!(r.status().is_success(), "OCSP answered {}", r.status());
        Ok(r.bytes().await.context("reading an OCSP answer")?.to_vec())
    }

    /// Issue one certificate (outside the measurement): its serial and its issuer.
    async fn issue_one(&self, payload: &Payload) -> Result<(Vec<u8>, Certificate)> {
        let Payload::Issue { request, json } = payload else {
            bail!("not an issuance payload");
        };
        match self {
            Target::Local { authority, actor } => {
                let issued = authority.issue(actor, request).await?;
                let issuer_der = issued
                    .chain
                    .first()
                    .ok_or_else(|| anyhow!("the issued certificate came without its CA"))?;
                let issuer = yinxin_pki::certificate::from_pem_or_der(issuer_der)?;
                Ok((issued.serial, issuer))
            }
            Target::Http { .. } => {
                let r = self.post_issue(json.clone()).await?;
                let status = r.status();
                let body = r.bytes().await.context("reading the issuance answer")?;
                if !status.is_success() {
                    bail!(
                        "the server refused to issue ({status}): {}",
                        String::from_utf8_lossy(&body[..body.len().min(300)])
                    );
                }
                let c: CertificateResponse = serde_json::from_slice(&body)
                    .context("the issuance answer is not the expected JSON")?;
                let serial = hex::decode(c.serial.replace(':', ""))
                    .context("the issued serial is not hex")?;
                let blocks = yinxin_crypto::pem::blocks(&c.chain_pem, "CA chain")?;
                let first = blocks
                    .first()
                    .ok_or_else(|| anyhow!("the issued certificate came without its CA"))?;
                let issuer = yinxin_pki::certificate::from_pem_or_der(&first.der)?;
                Ok((serial, issuer))
            }
        }
    }

    /// Send `der` once (outside the measurement) and return the answer.
    async fn ocsp_one(&self, der: &[u8]) -> Result<Vec<u8>> {
        match self {
            Target::Local { authority, .. } => Ok(authority.ocsp(OcspInput::Post(der)).await),
            Target::Http { .. } => self.post_ocsp(der.to_vec()).await,
        }
    }
}

/// A copy of `template` with a fresh random nonce.
fn fresh(template: &[u8], nonce_at: usize) -> Result<Vec<u8>> {
    let mut der = template.to_vec();
    yinxin_crypto::random::fill(&mut der[nonce_at..nonce_at + NONCE_LEN])?;
    Ok(der)
}

/// A copy of a timestamp request `template` with a fresh random positive nonce of
/// [`NONCE_LEN`] octets (its first octet kept in 0x40..0x7f, so the INTEGER stays minimal and
/// positive at the same length).
fn fresh_nonce(template: &[u8], nonce_at: usize) -> Result<Vec<u8>> {
    let mut der = fresh(template, nonce_at)?;
    der[nonce_at] = (der[nonce_at] & 0x3f) | 0x40;
    Ok(der)
}

/// The timestamp payload of `kind`: a SHA-256 (SM3 for SM2) request with a nonce, whose
/// answer is verified once in full (token signature, TSA certificate chain to `roots`, nonce,
/// imprint).
async fn timestamp_payload(target: &Target, kind: Kind) -> Result<Payload> {
    let hash = match kind {
        Kind::Sm2 => HashAlgorithm::Sm3,
        _ => HashAlgorithm::Sha256,
    };
    let mut marker = yinxin_crypto::random::bytes(NONCE_LEN)?;
    marker[0] = (marker[0] & 0x3f) | 0x40;
    let request = TimestampRequest::for_data(hash, &RAW_MESSAGE)
        .with_nonce(marker.clone())
        .with_cert_req(true);
    let template = request.to_der().context("encoding a timestamp request")?;
    let nonce_at = template
        .windows(NONCE_LEN)
        .position(|w| w == marker.as_slice())
        .ok_or_else(|| anyhow!("the nonce is not in the timestamp request"))?;
    let roots = target.roots().await?;
    let der = fresh_nonce(&template, nonce_at)?;
    let answer = target.timestamp(kind.tsa_key(), der.clone()).await?;
    let sent = TimestampRequest::decode(&der).map_err(|r| anyhow!("{r}"))?;
    yinxin_cms::timestamp::verify_response(&answer, &sent, &VerifyOptions::new(&roots))
        .context("the timestamp does not verify")?;
    Ok(Payload::Timestamp {
        key: kind.tsa_key(),
        template,
        nonce_at,
    })
}

/// Run `payload` against `target` with `concurrency` requests in flight for `seconds`.
async fn drive(
    target: &Arc<Target>,
    payload: &Arc<Payload>,
    concurrency: usize,
    seconds: f64,
) -> Result<Measured> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let started = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (target, payload, started) = (target.clone(), payload.clone(), started.clone());
        tasks.spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline && started.fetch_add(1, Ordering::Relaxed) < MAX_OPS {
                target.once(&payload).await?;
                done += 1;
            }
            Ok::<u64, anyhow::Error>(done)
        });
    }
    let mut count = 0;
    // An error drops the set, which aborts the other tasks.
    while let Some(r) = tasks.join_next().await {
        count += r.context("a benchmark task failed")??;
    }
    Ok(Measured {
        count,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Sign [`RAW_MESSAGE`] with a fresh key of `kind` on `threads` threads for `seconds`.
fn raw_sign(kind: Kind, threads: usize, seconds: f64) -> Result<Measured> {
    let key = PrivateKey::generate(kind.spec())?;
    let scheme = key.algorithm().default_signature_scheme();
    let limit = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let count = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> Result<u64> {
                    let mut n = 0u64;
                    loop {
                        for _ in 0..8 {
                            std::hint::black_box(key.sign(&scheme, &RAW_MESSAGE)?);
                        }
                        n += 8;
                        if start.elapsed() >= limit || n >= MAX_OPS {
                            return Ok(n);
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().map_err(|_| anyhow!("a signing thread panicked"))?)
            .sum::<Result<u64>>()
    })?;
    Ok(Measured {
        count,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The issuance request of `kind`: a CSR of a fresh key, made once.
fn issue_payload(kind: Kind) -> Result<Payload> {
    let key = PrivateKey::generate(kind.spec())?;
    let scheme = key.algorithm().default_signature_scheme();
    let csr = yinxin_pki::csr::build(&key, yinxin_pki::name::parse(SUBJECT)?, &scheme)?;
    let der = csr.to_der().context("encoding the CSR")?;
    let json = serde_json::to_vec(&IssueRequest {
        csr: yinxin_crypto::pem::encode("CERTIFICATE REQUEST", &der),
        profile: ProfileName::Organisation.as_str().to_string(),
        ca: None,
        validity_days: None,
        sans: Vec::new(),
        identity: Default::default(),
    })?;
    Ok(Payload::Issue {
        request: EnrolRequest {
            csr: der,
            profile: ProfileName::Organisation,
            ca: None,
            validity_days: None,
            sans: Vec::new(),
            identity: Vec::new(),
        },
        json,
    })
}

/// Check an OCSP answer in full: signed by a responder of `issuer`, `good`, nonce echoed.
fn check_ocsp(answer: &[u8], issuer: &Certificate, nonce: Option<&[u8]>) -> Result<()> {
    let statuses =
        yinxin_pki::ocsp::verify_response(answer, issuer, nonce, SystemTime::now(), None)
            .context("the OCSP answer does not verify")?;
    ensure!(
        statuses.first().map(|s| &s.status) == Some(&CertStatusAnswer::Good),
        "the OCSP answer is not `good`: {statuses:?}"
    );
    Ok(())
}

/// The OCSP payload of `op` for certificate `serial` of `issuer`, checked once in full.
async fn ocsp_payload(
    target: &Target,
    op: Op,
    serial: &[u8],
    issuer: &Certificate,
) -> Result<Payload> {
    if op == Op::OcspCached {
        let der = yinxin_pki::ocsp::build_request(issuer, &[serial], CertIdHash::Sha1, None)?;
        // The first answer is signed and cached; the measured ones come from the cache.
        check_ocsp(&target.ocsp_one(&der).await?, issuer, None)?;
        return Ok(Payload::Ocsp(der));
    }
    let marker = yinxin_crypto::random::bytes(NONCE_LEN)?;
    let template =
        yinxin_pki::ocsp::build_request(issuer, &[serial], CertIdHash::Sha1, Some(&marker))?;
    let nonce_at = template
        .windows(NONCE_LEN)
        .position(|w| w == marker.as_slice())
        .ok_or_else(|| anyhow!("the nonce is not in the OCSP request"))?;
    let der = fresh(&template, nonce_at)?;
    let nonce = &der[nonce_at..nonce_at + NONCE_LEN];
    check_ocsp(&target.ocsp_one(&der).await?, issuer, Some(nonce))?;
    Ok(Payload::OcspFresh { template, nonce_at })
}

/// Prints rows as they are measured.
struct Report {
    json_out: bool,
    mode: &'static str,
    concurrency: usize,
}

impl Report {
    fn row(&self, name: &str, m: Measured, threads: Option<usize>) {
        if self.json_out {
            let mut v = json!({
                "operation": name,
                "count": m.count,
                "seconds": m.seconds,
                "per_s": m.per_s(),
            });
            match threads {
                Some(t) => v["threads"] = json!(t),
                None => {
                    v["mode"] = json!(self.mode);
                    v["concurrency"] = json!(self.concurrency);
                }
            }
            outln!("{v}");
        } else {
            let label = match threads {
                Some(1) => format!("{name}, 1 thread"),
                Some(t) => format!("{name}, {t} threads"),
                None => name.to_string(),
            };
            outln!(
                "{label:<26} {:>10} {:>8.2}s {:>12.1}",
                m.count,
                m.seconds,
                m.per_s()
            );
        }
    }
}

/// The loopback URL of `--server`, without a trailing slash.
fn loopback_base(server: &str) -> Result<String> {
    let url = reqwest::Url::parse(server).with_context(|| format!("--server {server:?}"))?;
    ensure!(
        matches!(url.scheme(), "http" | "https"),
        "--server must be an http:// or https:// URL"
    );
    let host = url.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    ensure!(
        loopback,
        "bench-server loads only a server on this machine (127.0.0.1, ::1 or localhost), not {host:?}"
    );
    Ok(server.trim_end_matches('/').to_string())
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "yinxin-bench-server-{}-{nanos:08x}",
            std::process::id()
        ));
        std::fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn run(args: &BenchServerArgs, json_out: bool) -> Result<Outcome> {
    let names: Vec<String> = if args.what.is_empty() {
        ALL.iter().map(|s| s.to_string()).collect()
    } else {
        args.what.iter().map(|s| s.to_ascii_lowercase()).collect()
    };
    if let Some(bad) = names.iter().find(|n| !ALL.contains(&n.as_str())) {
        bail!(
            "unknown measurement {bad:?}; choose from: {}",
            ALL.join(" ")
        );
    }
    if !(0.05..=60.0).contains(&args.seconds) {
        bail!("--seconds must be between 0.05 and 60");
    }
    if !(1..=MAX_CONCURRENCY).contains(&args.concurrency) {
        bail!("--concurrency must be between 1 and {MAX_CONCURRENCY}");
    }
    let base = args.server.as_deref().map(loopback_base).transpose()?;
    let token = match &base {
        Some(_) => Some(crate::client::token(args.token_file.as_ref())?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let workers = runtime.metrics().num_workers();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let temp = if base.is_none() {
        Some(TempDir::new()?)
    } else {
        None
    };
    let result = runtime.block_on(async {
        let target = match (&base, token) {
            (Some(base), Some(token)) => Target::Http {
                client: reqwest::Client::builder()
                    .user_agent(concat!("yinxin-bench/", env!("CARGO_PKG_VERSION")))
                    .no_proxy()
                    .tcp_nodelay(true)
                    .pool_max_idle_per_host(args.concurrency)
                    .timeout(Duration::from_secs(60))
                    .build()
                    .context("starting the HTTP client")?,
                base: base.clone(),
                token,
            },
            _ => {
                let dir = temp
                    .as_ref()
                    .map(|t| t.0.clone())
                    .ok_or_else(|| anyhow!("no temporary directory"))?;
                let store =
                    yinxin_store::Store::open(&format!("sqlite://{}/b.db", dir.display())).await?;
                let (authority, init) = Authority::initialise(
                    store,
                    AuthorityConfig::new("http://127.0.0.1"),
                    InitOptions::default(),
                )
                .await?;
                let actor = authority.authenticate(&init.admin_token).await?;
                Target::Local { authority, actor }
            }
        };
        let target = Arc::new(target);
        let mode = if base.is_some() { "http" } else { "in-process" };
        let report = Report {
            json_out,
            mode,
            concurrency: args.concurrency,
        };
        if !json_out {
            match &base {
                Some(b) => outln!(
                    "# bench-server: HTTP to {b}, {} requests in flight, {} s each, {cores} cores",
                    args.concurrency,
                    args.seconds
                ),
                None => outln!(
                    "# bench-server: in-process authority (no HTTP, temporary SQLite store), \
                     {} tasks on {workers} worker threads, {} s each, {cores} cores",
                    args.concurrency,
                    args.seconds
                ),
            }
            outln!(
                "{:<26} {:>10} {:>9} {:>12}",
                "operation",
                "count",
                "seconds",
                "per second"
            );
        }
        let warm = (args.seconds / 10.0).clamp(0.05, 0.5);
        let mut ratios = Vec::new();
        for kind in [Kind::Sm2, Kind::Rsa, Kind::Ecdsa] {
            let ops: Vec<Op> = [Op::Issue, Op::OcspCached, Op::OcspFresh, Op::Timestamp]
                .into_iter()
                .filter(|op| names.contains(&op.name(kind)))
                .collect();
            if ops.is_empty() {
                continue;
            }
            let raw1 = tokio::task::block_in_place(|| raw_sign(kind, 1, args.seconds))?;
            report.row(kind.sign_name(), raw1, Some(1));
            let raw_n = if cores > 1 {
                let m = tokio::task::block_in_place(|| raw_sign(kind, cores, args.seconds))?;
                report.row(kind.sign_name(), m, Some(cores));
                m
            } else {
                raw1
            };
            let issue = Arc::new(issue_payload(kind)?);
            let mut issued = None;
            for op in ops {
                let payload = match op {
                    Op::Timestamp => Arc::new(timestamp_payload(&target, kind).await?),
                    Op::Issue => issue.clone(),
                    Op::OcspCached | Op::OcspFresh => {
                        if issued.is_none() {
                            issued = Some(target.issue_one(&issue).await?);
                        }
                        let (serial, issuer) =
                            issued.as_ref().ok_or_else(|| anyhow!("no certificate"))?;
                        Arc::new(ocsp_payload(&target, op, serial, issuer).await?)
                    }
                };
                drive(&target, &payload, args.concurrency, warm).await?;
                let m = drive(&target, &payload, args.concurrency, args.seconds).await?;
                report.row(&op.name(kind), m, None);
                if op != Op::OcspCached {
                    ratios.push((op.name(kind), kind, m.per_s(), raw1.per_s(), raw_n.per_s()));
                }
            }
        }
        if !ratios.is_empty() {
            if !json_out {
                outln!("# ratio to the raw signing rate of the same key type, this run");
            }
            for (name, kind, rate, raw1, raw_n) in ratios {
                if json_out {
                    outln!(
                        "{}",
                        json!({
                            "ratio": format!("{name}/{}", kind.sign_name()),
                            "mode": mode,
                            "to_1_thread": rate / raw1,
                            "to_all_cores": rate / raw_n,
                            "cores": cores,
                        })
                    );
                } else {
                    outln!(
                        "{:<26} {:>6.1}% of {} on {cores} threads, {:>6.1}% of 1 thread",
                        format!("{name}/{}", kind.sign_name()),
                        100.0 * rate / raw_n,
                        kind.sign_name(),
                        100.0 * rate / raw1
                    );
                }
            }
        }
        if let Target::Local { authority, .. } = &*target {
            authority.store().close().await;
        }
        Ok::<(), anyhow::Error>(())
    });
    drop(runtime);
    drop(temp);
    result?;
    Ok(Outcome::Done)
}
