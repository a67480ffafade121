//! The router and its thin handlers: extract, one call into the authority, render.

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use yinxin_authority::{
    Authority, CertificateQuery, CertificateRecord, CertificateStatus, ClockHealth, EnrolRequest,
    EnvelopeRecipient, Issued, OcspInput, ProfileName, Role, ServiceAlgorithm, StatusChange,
    TsaKey,
};
use yinxin_cms::key_delivery::DeliveredKey;
use yinxin_pki::profile::{IdentifyCode, IdentityExtension, San};

use crate::api::*;
use crate::auth::Caller;
use crate::error::ApiError;

/// The largest request body, in bytes: far above any CSR, far below harm.
pub const MAX_BODY: usize = 256 * 1024;

/// The largest RFC 3161 request body, in bytes: a request is a hash and a few small fields,
/// well under 1 KiB; anything near this limit is not a timestamp request.
pub const MAX_TSA_BODY: usize = 64 * 1024;

/// The largest content or message in a JSON CMS request (base64 inside JSON costs a third
/// more and copies): larger ones go to the raw-body endpoints (`…/raw`).
pub const MAX_CMS_JSON_CONTENT: usize = 8 * 1024 * 1024;

/// The largest JSON CMS request body, in bytes: base64 of [`MAX_CMS_JSON_CONTENT`] plus room
/// for the JSON around it.
pub const MAX_CMS_BODY: usize = MAX_CMS_JSON_CONTENT / 3 * 4 + 64 * 1024;

/// The largest raw CMS request body (`application/octet-stream`, no base64): the authority's
/// largest message ([`yinxin_authority::MAX_CMS_BYTES`]).
pub const MAX_CMS_RAW_BODY: usize = yinxin_authority::MAX_CMS_BYTES;

/// The OpenAPI document served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// A JSON body whose rejections are problem JSON.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let ct = ct.split(';').next().unwrap_or("").trim();
                ct == "application/json" || ct.ends_with("+json")
            });
        let bytes = Bytes::from_request(req, state).await?;
        // An empty body is an empty object: operations whose fields are all optional need
        // no body at all.
        let data: &[u8] = if bytes.is_empty() { b"{}" } else { &bytes };
        if !bytes.is_empty() && !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "bad-json",
                "send the body as Content-Type: application/json",
            ));
        }
        serde_json::from_slice(data).map(JsonBody).map_err(|e| {
            let status = match e.classify() {
                serde_json::error::Category::Data => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            };
            ApiError::new(
                status,
                "bad-json",
                format!("the JSON body is not valid: {e}"),
            )
        })
    }
}

/// A path parameter whose rejection is problem JSON.
pub struct PathArg<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for PathArg<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| PathArg(v))
            .map_err(|e| ApiError::bad_request("bad-path", e.body_text()))
    }
}

/// Every route of the server with the default transport policy (credentials over plain
/// HTTP only from loopback) and body budget.
pub fn router(authority: Authority) -> Router {
    router_with(
        authority,
        crate::transport::TransportPolicy::default(),
        crate::budget::BodyBudget::default(),
    )
}

/// Every route of the server. Handlers are listed in the order of the OpenAPI document.
pub fn router_with(
    authority: Authority,
    transport: crate::transport::TransportPolicy,
    budget: crate::budget::BodyBudget,
) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/status", get(status))
        .route("/api/v1/vault/unseal", post(unseal))
        .route("/api/v1/vault/seal", post(seal))
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/cas", get(cas))
        .route("/ca/{file}", get(ca_certificate))
        .route("/crl/{file}", get(crl))
        .route("/ocsp", post(ocsp_post))
        .route("/ocsp/{*request}", get(ocsp_get))
        .route(
            "/tsa",
            post(tsa_post).layer(axum::extract::DefaultBodyLimit::max(MAX_TSA_BODY)),
        )
        .route(
            "/tsa/{key}",
            post(tsa_post_key).layer(axum::extract::DefaultBodyLimit::max(MAX_TSA_BODY)),
        )
        .route("/api/v1/tsa", get(tsa_info))
        .route("/api/v1/tsa/clock", put(tsa_clock))
        .route("/api/v1/certificates", post(issue).get(search))
        .route("/api/v1/enrolments", post(enrol_dual))
        .route("/api/v1/certificates/{serial}", get(certificate))
        .route("/api/v1/certificates/{serial}/revoke", post(revoke))
        .route("/api/v1/certificates/{serial}/hold", post(hold))
        .route("/api/v1/certificates/{serial}/release", post(release))
        .route("/api/v1/certificates/{serial}/renew", post(renew))
        .route("/api/v1/certificates/{serial}/rekey", post(rekey))
        .route("/api/v1/crls/{ca}", post(publish_crl))
        .route("/api/v1/services/{name}/replace", post(replace_service))
        .route("/api/v1/tokens", post(create_token))
        .route("/api/v1/tokens/{id}/disable", post(disable_token))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/audit/verify", get(audit_verify))
        .route(
            "/api/v1/admin/formation",
            get(formation).post(open_formation),
        )
        .route("/api/v1/admin/formation/join", post(join_formation))
        .route("/api/v1/approvals", post(request_approval).get(approvals))
        .route("/api/v1/approvals/{id}", get(approval))
        .route("/api/v1/approvals/{id}/approve", post(approve))
        .route("/api/v1/approvals/{id}/cancel", post(cancel_approval))
        .route("/api/v1/approvals/{id}/reject", post(reject_approval))
        .route("/api/v1/cms/certificates", get(cms_certificates))
        .route(
            "/api/v1/cms/verify",
            post(cms_verify).layer(axum::extract::DefaultBodyLimit::max(MAX_CMS_BODY)),
        )
        .route(
            "/api/v1/cms/sign",
            post(cms_sign).layer(axum::extract::DefaultBodyLimit::max(MAX_CMS_BODY)),
        )
        .route(
            "/api/v1/cms/encrypt",
            post(cms_encrypt).layer(axum::extract::DefaultBodyLimit::max(MAX_CMS_BODY)),
        )
        .route(
            "/api/v1/cms/decrypt",
            post(cms_decrypt).layer(axum::extract::DefaultBodyLimit::max(MAX_CMS_BODY)),
        )
        .route(
            "/api/v1/cms/verify/raw",
            post(cms_verify_raw).layer(axum::extract::DefaultBodyLimit::max(MAX_CMS_RAW_BODY)),
        )
        .route(
            "/api/v1/cms/sign/raw",
            post(cms_sign_raw).layer(axum::extract::DefaultBodyLimit::max(MAX_CMS_RAW_BODY)),
        )
        .route(
            "/api/v1/cms/decrypt/raw",
            post(cms_decrypt_raw).layer(axum::extract::DefaultBodyLimit::max(MAX_CMS_RAW_BODY)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            budget,
            crate::budget::admit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(transport),
            crate::transport::enforce,
        ))
        .with_state(authority)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this endpoint does not take that method; see /api/openapi.json",
    )
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such endpoint")
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn status_body(a: &Authority) -> Result<StatusResponse, ApiError> {
    let s = a.vault_status();
    let alerts = a
        .platform_alerts()
        .await?
        .into_iter()
        .map(|p| PlatformAlertBody {
            ca: p.ca,
            serial: p.serial,
            subject: p.subject,
            profile: p.profile,
            status: p.status,
            replaceable: p.replaced,
        })
        .collect();
    Ok(StatusResponse {
        version: env!("CARGO_PKG_VERSION").to_string(),
        sealed: s.sealed,
        threshold: s.threshold,
        shares: s.shares,
        shares_given: s.shares_given,
        store: match a.store().backend() {
            yinxin_store::Backend::Sqlite => "sqlite".into(),
            yinxin_store::Backend::Postgres => "postgres".into(),
        },
        cas: a.cas().into_iter().map(|c| c.name).collect(),
        alerts,
    })
}

async fn status(State(a): State<Authority>) -> Result<Json<StatusResponse>, ApiError> {
    Ok(Json(status_body(&a).await?))
}

async fn seal(
    State(a): State<Authority>,
    Caller(actor): Caller,
) -> Result<Json<StatusResponse>, ApiError> {
    a.seal(&actor).await?;
    Ok(Json(status_body(&a).await?))
}

async fn replace_service(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(name): PathArg<String>,
) -> Result<Json<ReplacedServiceResponse>, ApiError> {
    let certificate = a.replace_service(&actor, &name).await?;
    Ok(Json(ReplacedServiceResponse { name, certificate }))
}

async fn unseal(
    State(a): State<Authority>,
    client: crate::transport::ClientAddress,
    JsonBody(body): JsonBody<UnsealRequest>,
) -> Result<Json<StatusResponse>, ApiError> {
    a.unseal_from(&body.share, client.ip).await?;
    Ok(Json(status_body(&a).await?))
}

async fn whoami(Caller(actor): Caller) -> Json<WhoAmI> {
    Json(WhoAmI {
        name: actor.name,
        role: actor.role.to_string(),
    })
}

/// PEM of a certificate's DER.
pub fn cert_pem(der: &[u8]) -> String {
    yinxin_crypto::pem::encode("CERTIFICATE", der)
}

async fn cas(State(a): State<Authority>) -> Json<Vec<CaResponse>> {
    Json(
        a.cas()
            .into_iter()
            .map(|c| CaResponse {
                algorithm: c.algorithm.to_string(),
                subject: c.certificate.tbs_certificate().subject().to_string(),
                root: c.is_root(),
                parent: c.parent.clone(),
                certificate_pem: cert_pem(&c.der),
                crl_url: format!("{}/crl/{}.crl", a.config().base_url, c.name),
                name: c.name,
            })
            .collect(),
    )
}

fn binary(content_type: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn ca_certificate(
    State(a): State<Authority>,
    PathArg(file): PathArg<String>,
) -> Result<Response, ApiError> {
    if let Some(name) = file
        .strip_suffix(".crt")
        .or_else(|| file.strip_suffix(".cer"))
    {
        return Ok(binary("application/pkix-cert", a.ca(name)?.der.clone()));
    }
    if let Some(name) = file.strip_suffix(".pem") {
        return Ok(binary(
            "application/x-pem-file",
            cert_pem(&a.ca(name)?.der).into_bytes(),
        ));
    }
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "CA certificates are at /ca/NAME.crt (DER) or /ca/NAME.pem",
    ))
}

async fn crl(
    State(a): State<Authority>,
    PathArg(file): PathArg<String>,
) -> Result<Response, ApiError> {
    let name = file.strip_suffix(".crl").ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "CRLs are at /crl/NAME.crl",
        )
    })?;
    Ok(binary("application/pkix-crl", a.crl(name).await?))
}

async fn ocsp_post(
    State(a): State<Authority>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    Ok(binary(
        "application/ocsp-response",
        a.ocsp(OcspInput::Post(&body)).await,
    ))
}

async fn ocsp_get(
    State(a): State<Authority>,
    request: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Response {
    let answer = match request {
        Ok(Path(request)) => a.ocsp(OcspInput::Get(&request)).await,
        Err(_) => yinxin_pki::ocsp::error_response(
            yinxin_pki::ocsp::asn1::OcspResponseStatus::MalformedRequest,
        ),
    };
    // RFC 5019 §6: GET answers may be cached by HTTP caches, for no longer than this node
    // keeps them itself.
    let max_age = a.config().ocsp_cache_refresh.as_secs();
    let mut response = binary("application/ocsp-response", answer);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "max-age={max_age}, public, no-transform, must-revalidate"
    )) {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    response
}

/// Refuse a body that is not sent as `application/timestamp-query` (RFC 3161 §3.4).
fn timestamp_query(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_query = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/timestamp-query")
        });
    if is_query {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad-media-type",
            "send the RFC 3161 request as Content-Type: application/timestamp-query",
        ))
    }
}

async fn tsa_post(
    State(a): State<Authority>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    timestamp_query(&headers)?;
    let body = body?;
    Ok(binary(
        "application/timestamp-reply",
        a.timestamp(None, &body).await,
    ))
}

async fn tsa_post_key(
    State(a): State<Authority>,
    PathArg(key): PathArg<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let key: TsaKey = key.parse()?;
    timestamp_query(&headers)?;
    let body = body?;
    Ok(binary(
        "application/timestamp-reply",
        a.timestamp(Some(key), &body).await,
    ))
}

fn clock_body(c: ClockHealth, anonymous: bool) -> ClockResponse {
    // Anonymous callers learn that an operator marked the clock, not who (a name and a
    // token id help nobody but an attacker).
    let marked_by = if anonymous && c.by != "system" {
        "operator".to_string()
    } else {
        c.by
    };
    ClockResponse {
        healthy: c.healthy,
        reason: c.reason,
        since: rfc3339(c.since_ms),
        marked_by,
    }
}

async fn tsa_info(State(a): State<Authority>) -> Result<Json<TsaResponse>, ApiError> {
    let info = a.tsa_info().await?;
    let base = &a.config().base_url;
    Ok(Json(TsaResponse {
        policy: info.policy.to_string(),
        accuracy: info.accuracy.map(|x| TsaAccuracy {
            seconds: x.seconds,
            millis: x.millis,
            micros: x.micros,
        }),
        clock: clock_body(info.clock, true),
        sealed: info.sealed,
        keys: info
            .keys
            .into_iter()
            .map(|k| TsaKeyResponse {
                url: format!("{base}/tsa/{}", k.key),
                key: k.key.to_string(),
                algorithm: k.algorithm,
                certificate_pem: cert_pem(&k.certificate),
                chain_pem: k.chain.iter().map(|c| cert_pem(c)).collect(),
            })
            .collect(),
    }))
}

async fn tsa_clock(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<ClockRequest>,
) -> Result<Json<ClockResponse>, ApiError> {
    let c = a
        .set_clock_health(&actor, body.healthy, body.reason.as_deref())
        .await?;
    Ok(Json(clock_body(c, false)))
}

fn serial_of(text: &str) -> Result<Vec<u8>, ApiError> {
    let cleaned: String = text.chars().filter(|c| *c != ':').collect();
    let cleaned = cleaned.trim_start_matches("0x");
    let bytes = hex::decode(if cleaned.len() % 2 == 1 {
        format!("0{cleaned}")
    } else {
        cleaned.to_string()
    })
    .map_err(|_| ApiError::bad_request("bad-serial", format!("serial {text:?} is not hex")))?;
    let start = bytes.iter().take_while(|b| **b == 0).count();
    let bytes = bytes[start..].to_vec();
    if bytes.is_empty() || bytes.len() > 20 {
        return Err(ApiError::bad_request(
            "bad-serial",
            "a serial is 1 to 20 bytes of hex",
        ));
    }
    Ok(bytes)
}

fn sans_of(list: &[String]) -> Result<Vec<San>, ApiError> {
    list.iter()
        .map(|s| {
            let bad = || {
                ApiError::bad_request(
                    "bad-san",
                    format!("subject alternative name {s:?} is not dns:NAME, ip:ADDRESS or email:ADDRESS"),
                )
            };
            let (kind, value) = s.split_once(':').ok_or_else(bad)?;
            match kind {
                "dns" if !value.is_empty() && value.is_ascii() => Ok(San::Dns(value.to_string())),
                "ip" => value.parse().map(San::Ip).map_err(|_| bad()),
                "email" if value.contains('@') && value.is_ascii() => {
                    Ok(San::Email(value.to_string()))
                }
                _ => Err(bad()),
            }
        })
        .collect()
}

fn identity_of(id: &Identity) -> Vec<IdentityExtension> {
    let mut out = Vec::new();
    if let Some(v) = &id.organization_code {
        out.push(IdentityExtension::OrganizationCode(v.clone()));
    }
    if let Some(v) = &id.taxation_number {
        out.push(IdentityExtension::TaxationNumber(v.clone()));
    }
    if let Some(v) = &id.ic_registration_number {
        out.push(IdentityExtension::IcRegistrationNumber(v.clone()));
    }
    if let Some(v) = &id.insurance_number {
        out.push(IdentityExtension::InsuranceNumber(v.clone()));
    }
    if let Some(v) = &id.resident_card_number {
        out.push(IdentityExtension::IdentifyCode(
            IdentifyCode::ResidentCardNumber(v.clone()),
        ));
    }
    out
}

fn enrol_request(body: IssueRequest) -> Result<EnrolRequest, ApiError> {
    Ok(EnrolRequest {
        profile: body.profile.parse::<ProfileName>()?,
        csr: body.csr.into_bytes(),
        ca: body.ca,
        validity_days: body.validity_days,
        sans: sans_of(&body.sans)?,
        identity: identity_of(&body.identity),
    })
}

fn issued_body(i: Issued) -> CertificateResponse {
    CertificateResponse {
        serial: hex::encode(&i.serial),
        certificate_pem: cert_pem(&i.der),
        chain_pem: i.chain.iter().map(|c| cert_pem(c)).collect(),
        ca: i.ca,
    }
}

fn delivered_body(d: &DeliveredKey) -> DeliveredKeyBody {
    DeliveredKeyBody {
        format: d.format.name().to_string(),
        envelope: B64.encode(&d.der),
    }
}

async fn issue(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<IssueRequest>,
) -> Result<(StatusCode, Json<CertificateResponse>), ApiError> {
    let req = enrol_request(body)?;
    let issued = a.issue(&actor, &req).await?;
    Ok((StatusCode::CREATED, Json(issued_body(issued))))
}

async fn enrol_dual(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<IssueRequest>,
) -> Result<(StatusCode, Json<DualResponse>), ApiError> {
    let req = enrol_request(body)?;
    let d = a.enrol_dual(&actor, &req).await?;
    Ok((
        StatusCode::CREATED,
        Json(DualResponse {
            delivered_key: delivered_body(&d.delivered_key),
            signing: issued_body(d.signing),
            encryption: issued_body(d.encryption),
        }),
    ))
}

/// RFC 3339 (UTC, seconds) of milliseconds since the epoch.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn record_body(r: CertificateRecord) -> CertificateRecordResponse {
    let c = r.certificate;
    CertificateRecordResponse {
        serial: hex::encode(&c.serial),
        subject: c.subject,
        organisation: c.organisation,
        profile: c.profile,
        not_before: rfc3339(c.not_before),
        not_after: rfc3339(c.not_after),
        status: r.status.to_string(),
        revoked_at: r.revoked_at.map(rfc3339),
        revocation_reason: r.revocation_reason,
        requested_by: c.requested_by,
        certificate_pem: cert_pem(&c.der),
        ca: c.ca,
    }
}

/// Query of `GET /api/v1/certificates`.
#[derive(Debug, Deserialize)]
struct SearchQuery {
    subject: Option<String>,
    organisation: Option<String>,
    serial: Option<String>,
    status: Option<String>,
    ca: Option<String>,
    limit: Option<u32>,
    offset: Option<u64>,
}

async fn search(
    State(a): State<Authority>,
    Caller(actor): Caller,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<CertificateRecordResponse>>, ApiError> {
    let Query(q) = query?;
    let status = match q.status.as_deref() {
        None => None,
        Some("valid") => Some(CertificateStatus::Valid),
        Some("on_hold" | "on-hold" | "hold") => Some(CertificateStatus::OnHold),
        Some("revoked") => Some(CertificateStatus::Revoked),
        Some(other) => {
            return Err(ApiError::bad_request(
                "bad-query",
                format!("status {other:?} is not valid, on_hold or revoked"),
            ));
        }
    };
    let query = CertificateQuery {
        subject_contains: q.subject,
        organisation: q.organisation,
        serial: q.serial.as_deref().map(serial_of).transpose()?,
        status,
        ca: q.ca,
        limit: q.limit,
        offset: q.offset.unwrap_or(0),
    };
    let found = a.search(&actor, &query).await?;
    Ok(Json(found.into_iter().map(record_body).collect()))
}

/// Query of `GET /api/v1/certificates/{serial}`.
#[derive(Debug, Deserialize)]
struct CertificateQueryParams {
    ca: Option<String>,
    /// `json` (default), `pem`, `der` or `chain` (PEM of the certificate and its CAs).
    format: Option<String>,
}

async fn certificate(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(serial): PathArg<String>,
    query: Result<Query<CertificateQueryParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let serial = serial_of(&serial)?;
    let record = a.certificate(&actor, q.ca.as_deref(), &serial).await?;
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(record_body(record)).into_response()),
        "pem" => Ok(binary(
            "application/x-pem-file",
            cert_pem(&record.certificate.der).into_bytes(),
        )),
        "der" => Ok(binary("application/pkix-cert", record.certificate.der)),
        "chain" => {
            let mut pem = cert_pem(&record.certificate.der);
            for ca in a.chain_of(&record.certificate.ca)? {
                pem.push_str(&cert_pem(&ca));
            }
            Ok(binary("application/x-pem-file", pem.into_bytes()))
        }
        other => Err(ApiError::bad_request(
            "bad-query",
            format!("format {other:?} is not json, pem, der or chain"),
        )),
    }
}

async fn change(
    a: &Authority,
    actor: &yinxin_authority::Actor,
    serial: &str,
    ca: Option<&str>,
    change: StatusChange,
) -> Result<Json<CertificateRecordResponse>, ApiError> {
    let serial = serial_of(serial)?;
    let record = a.change_status(actor, ca, &serial, change).await?;
    Ok(Json(record_body(record)))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

async fn revoke(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(serial): PathArg<String>,
    JsonBody(body): JsonBody<StatusChangeRequest>,
) -> Result<Json<CertificateRecordResponse>, ApiError> {
    let reason = yinxin_authority::reason_code(body.reason.as_deref().unwrap_or("unspecified"))?;
    change(
        &a,
        &actor,
        &serial,
        body.ca.as_deref(),
        StatusChange::Revoke {
            reason,
            time_ms: now_ms(),
        },
    )
    .await
}

async fn hold(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(serial): PathArg<String>,
    JsonBody(body): JsonBody<StatusChangeRequest>,
) -> Result<Json<CertificateRecordResponse>, ApiError> {
    change(
        &a,
        &actor,
        &serial,
        body.ca.as_deref(),
        StatusChange::Hold { time_ms: now_ms() },
    )
    .await
}

async fn release(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(serial): PathArg<String>,
    JsonBody(body): JsonBody<StatusChangeRequest>,
) -> Result<Json<CertificateRecordResponse>, ApiError> {
    change(
        &a,
        &actor,
        &serial,
        body.ca.as_deref(),
        StatusChange::Release,
    )
    .await
}

async fn renew(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(serial): PathArg<String>,
    JsonBody(body): JsonBody<ReissueRequest>,
) -> Result<(StatusCode, Json<CertificateResponse>), ApiError> {
    let serial = serial_of(&serial)?;
    let issued = a
        .renew(&actor, body.ca.as_deref(), &serial, body.validity_days)
        .await?;
    Ok((StatusCode::CREATED, Json(issued_body(issued))))
}

async fn rekey(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(serial): PathArg<String>,
    JsonBody(body): JsonBody<ReissueRequest>,
) -> Result<(StatusCode, Json<CertificateResponse>), ApiError> {
    let serial = serial_of(&serial)?;
    let csr = body
        .csr
        .ok_or_else(|| ApiError::bad_request("bad-csr", "re-key needs the new key's csr"))?;
    let issued = a
        .rekey(
            &actor,
            body.ca.as_deref(),
            &serial,
            csr.as_bytes(),
            body.validity_days,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(issued_body(issued))))
}

async fn publish_crl(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(ca): PathArg<String>,
) -> Result<Json<CrlResponse>, ApiError> {
    let r = a.publish_crl(&actor, &ca).await?;
    Ok(Json(CrlResponse {
        ca: r.ca,
        number: r.number,
        this_update: rfc3339(r.this_update),
        next_update: rfc3339(r.next_update),
        crl: B64.encode(&r.der),
    }))
}

async fn create_token(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<TokenRequest>,
) -> Result<(StatusCode, Json<TokenResponse>), ApiError> {
    let role: Role = body.role.parse()?;
    let token = a.create_token(&actor, &body.name, role).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenResponse {
            id: token.split('.').nth(1).unwrap_or_default().to_string(),
            token: token.to_string(),
            role: role.to_string(),
        }),
    ))
}

async fn disable_token(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(id): PathArg<String>,
) -> Result<StatusCode, ApiError> {
    a.disable_token(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Deserialize)]
struct AuditQuery {
    from: Option<u64>,
    limit: Option<u32>,
}

async fn audit(
    State(a): State<Authority>,
    Caller(actor): Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditRecordResponse>>, ApiError> {
    let Query(q) = query?;
    let records = a
        .audit_records(&actor, q.from.unwrap_or(0), q.limit.unwrap_or(1000))
        .await?;
    Ok(Json(
        records
            .into_iter()
            .map(|r| AuditRecordResponse {
                seq: r.seq,
                time_ms: r.time_ms,
                actor: r.event.actor,
                action: r.event.action.as_str().to_string(),
                target: r.event.target,
                outcome: match r.event.outcome {
                    yinxin_audit_outcome::Success => "success".into(),
                    yinxin_audit_outcome::Failure => "failure".into(),
                },
                details: r.event.details,
                prev_hash: hex::encode(r.prev_hash.0),
                hash: hex::encode(r.hash.0),
            })
            .collect(),
    ))
}

use yinxin_audit::AuditOutcome as yinxin_audit_outcome;

async fn audit_verify(
    State(a): State<Authority>,
    Caller(actor): Caller,
) -> Result<Json<AuditVerifyResponse>, ApiError> {
    let r = a.verify_audit(&actor).await?;
    Ok(Json(AuditVerifyResponse {
        intact: r.problem.is_none(),
        records: r.records,
        head_hash: r.head_hash,
        problem: r.problem,
    }))
}

fn formation_body(f: yinxin_authority::FormationView) -> FormationResponse {
    FormationResponse {
        id: f.id,
        nonce: f.nonce,
        size: f.size,
        approvals: f.approvals,
        formed: f.formed,
        members: f
            .members
            .into_iter()
            .map(|m| MemberBody {
                id: m.id,
                name: m.name,
                subject: m.subject,
                certificate_pem: cert_pem(&m.certificate),
                removed: m.removed,
            })
            .collect(),
    }
}

async fn formation(
    State(a): State<Authority>,
    Caller(actor): Caller,
) -> Result<Json<FormationResponse>, ApiError> {
    Ok(Json(formation_body(a.formation(&actor).await?)))
}

async fn open_formation(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<FormationRequest>,
) -> Result<(StatusCode, Json<FormationResponse>), ApiError> {
    let f = a
        .open_formation(&actor, body.members, body.approvals)
        .await?;
    Ok((StatusCode::CREATED, Json(formation_body(f))))
}

async fn join_formation(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<JoinRequest>,
) -> Result<(StatusCode, Json<JoinResponse>), ApiError> {
    let signature = base64_field("signature", &body.signature)?;
    let (member, token) = a
        .join_formation(&actor, &body.name, body.certificate.as_bytes(), &signature)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(JoinResponse {
            member,
            token: token.to_string(),
        }),
    ))
}

fn approval_body(v: yinxin_authority::ApprovalView) -> ApprovalResponse {
    ApprovalResponse {
        id: v.id,
        operation: v.operation,
        target: v.target,
        parameters: v.parameters,
        requested_by: v.requested_by,
        expires: rfc3339(v.expires_at),
        status: v.status,
        approved_by: v.approved_by,
        needed: v.needed,
        statement: v.statement,
        result: v
            .result
            .and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok()),
    }
}

fn operation_of(body: ApprovalRequestBody) -> Result<yinxin_authority::Operation, ApiError> {
    use yinxin_authority::Operation;
    let missing = |field: &str| {
        ApiError::bad_request(
            "bad-operation",
            format!("operation {} needs `{field}`", body.operation),
        )
    };
    let serial = || {
        body.serial
            .as_deref()
            .ok_or_else(|| missing("serial"))
            .and_then(serial_of)
    };
    Ok(match body.operation.as_str() {
        "recover-key" => Operation::RecoverKey {
            ca: body.ca.clone(),
            serial: serial()?,
            recipient_csr: body.csr.clone().ok_or_else(|| missing("csr"))?.into_bytes(),
        },
        "revoke-platform-certificate" => Operation::RevokePlatform {
            ca: body.ca.clone(),
            serial: serial()?,
            reason: yinxin_authority::reason_code(
                body.reason.as_deref().ok_or_else(|| missing("reason"))?,
            )?,
        },
        "hold-platform-certificate" => Operation::HoldPlatform {
            ca: body.ca.clone(),
            serial: serial()?,
        },
        "release-platform-certificate" => Operation::ReleasePlatform {
            ca: body.ca.clone(),
            serial: serial()?,
        },
        "add-administrator" => Operation::AddMember {
            name: body.name.clone().ok_or_else(|| missing("name"))?,
            certificate: body
                .certificate
                .clone()
                .ok_or_else(|| missing("certificate"))?
                .into_bytes(),
        },
        "remove-administrator" => Operation::RemoveMember {
            id: body.member.clone().ok_or_else(|| missing("member"))?,
        },
        other => {
            return Err(ApiError::bad_request(
                "bad-operation",
                format!(
                    "unknown operation {other:?} (recover-key, revoke-platform-certificate, \
                     hold-platform-certificate, release-platform-certificate, \
                     add-administrator, remove-administrator)"
                ),
            ));
        }
    })
}

async fn request_approval(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<ApprovalRequestBody>,
) -> Result<(StatusCode, Json<ApprovalResponse>), ApiError> {
    let operation = operation_of(body)?;
    let v = a.request_approval(&actor, operation).await?;
    Ok((StatusCode::CREATED, Json(approval_body(v))))
}

async fn approvals(
    State(a): State<Authority>,
    Caller(actor): Caller,
) -> Result<Json<Vec<ApprovalResponse>>, ApiError> {
    Ok(Json(
        a.approvals(&actor)
            .await?
            .into_iter()
            .map(approval_body)
            .collect(),
    ))
}

async fn approval(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(id): PathArg<String>,
) -> Result<Json<ApprovalResponse>, ApiError> {
    Ok(Json(approval_body(a.approval(&actor, &id).await?)))
}

async fn approve(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(id): PathArg<String>,
    JsonBody(body): JsonBody<ApproveBody>,
) -> Result<Json<ApprovalResponse>, ApiError> {
    let signature = base64_field("signature", &body.signature)?;
    Ok(Json(approval_body(
        a.approve(&actor, &id, &signature).await?,
    )))
}

async fn cancel_approval(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(id): PathArg<String>,
) -> Result<Json<ApprovalResponse>, ApiError> {
    Ok(Json(approval_body(
        a.close_approval(&actor, &id, false).await?,
    )))
}

async fn reject_approval(
    State(a): State<Authority>,
    Caller(actor): Caller,
    PathArg(id): PathArg<String>,
) -> Result<Json<ApprovalResponse>, ApiError> {
    Ok(Json(approval_body(
        a.close_approval(&actor, &id, true).await?,
    )))
}

fn base64_field(field: &str, value: &str) -> Result<Vec<u8>, ApiError> {
    B64.decode(value.trim()).map_err(|e| {
        ApiError::bad_request(
            "bad-base64",
            format!("`{field}` is not standard base64: {e}"),
        )
    })
}

fn service_algorithm(name: &str) -> Result<ServiceAlgorithm, ApiError> {
    match name.trim().to_ascii_lowercase().as_str() {
        "sm2" => Ok(ServiceAlgorithm::Sm2),
        "rsa" => Ok(ServiceAlgorithm::Rsa),
        other => Err(ApiError::bad_request(
            "bad-algorithm",
            format!("unknown key algorithm {other:?} (sm2, rsa)"),
        )),
    }
}

fn cms_form(name: Option<&str>) -> Result<yinxin_cms::Form, ApiError> {
    match name.map(|n| n.trim().to_ascii_lowercase()).as_deref() {
        None | Some("rfc5652") => Ok(yinxin_cms::Form::Rfc5652),
        Some("gmt0010") => Ok(yinxin_cms::Form::GmT0010),
        Some(other) => Err(ApiError::bad_request(
            "bad-form",
            format!("unknown form {other:?} (rfc5652, gmt0010)"),
        )),
    }
}

fn system_time_text(t: std::time::SystemTime) -> String {
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    rfc3339(ms)
}

fn service_certificate(
    certificate: &x509_cert::Certificate,
    chain: &[x509_cert::Certificate],
) -> Result<ServiceCertificate, ApiError> {
    let pem = |c: &x509_cert::Certificate| {
        yinxin_pki::certificate::to_der(c)
            .map(|der| cert_pem(&der))
            .map_err(|e| ApiError::from(yinxin_authority::AuthorityError::Internal(e.to_string())))
    };
    Ok(ServiceCertificate {
        certificate_pem: pem(certificate)?,
        chain_pem: chain.iter().map(pem).collect::<Result<_, _>>()?,
    })
}

async fn cms_certificates(
    State(a): State<Authority>,
) -> Result<Json<CmsCertificatesResponse>, ApiError> {
    let mut envelope = std::collections::BTreeMap::new();
    let mut signing = std::collections::BTreeMap::new();
    for (name, algorithm) in [
        ("sm2", ServiceAlgorithm::Sm2),
        ("rsa", ServiceAlgorithm::Rsa),
    ] {
        let d = a.service_decrypter(algorithm)?;
        envelope.insert(
            name.to_string(),
            service_certificate(&d.certificate, &d.chain)?,
        );
        let s = a.service_signer(algorithm)?;
        signing.insert(
            name.to_string(),
            service_certificate(&s.certificate, &s.chain)?,
        );
    }
    Ok(Json(CmsCertificatesResponse { envelope, signing }))
}

async fn cms_verify(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<CmsVerifyRequest>,
) -> Result<Json<CmsVerifyResponse>, ApiError> {
    let signed = base64_field("signed", &body.signed)?;
    let content = body
        .content
        .as_deref()
        .map(|c| base64_field("content", c))
        .transpose()?;
    let report = a.cms_verify(&actor, signed, content).await?;
    Ok(Json(verify_body(&report, true)))
}

/// `POST /api/v1/cms/verify/raw`: the `SignedData` (attached; DER, BER or PEM) as the body.
async fn cms_verify_raw(
    State(a): State<Authority>,
    Caller(actor): Caller,
    crate::budget::RawBody(signed): crate::budget::RawBody,
) -> Result<Json<CmsVerifyResponse>, ApiError> {
    let report = a.cms_verify(&actor, signed, None).await?;
    // The content can be as large as the body: the caller has it already.
    Ok(Json(verify_body(&report, false)))
}

fn verify_body(report: &yinxin_cms::signed_data::Report, with_content: bool) -> CmsVerifyResponse {
    let valid = report.is_valid();
    CmsVerifyResponse {
        valid,
        form: report.form.to_string(),
        content_type: report.content_type.to_string(),
        detached: report.content.is_none(),
        content: report
            .content
            .as_ref()
            .filter(|_| with_content)
            .map(|c| B64.encode(c)),
        signers: report
            .signers
            .iter()
            .map(|s| CmsSignerResponse {
                valid: s.is_valid(),
                reason: s.problem.as_ref().map(ToString::to_string),
                subject: s.subject.clone(),
                issuer: s.issuer.clone(),
                serial: s.serial.clone(),
                algorithm: s.scheme.to_string(),
                digest: s.digest_algorithm.name().to_string(),
                signing_time: s.signing_time.map(system_time_text),
                timestamp_time: s.timestamp_time().map(system_time_text),
                chain: s.chain.clone(),
            })
            .collect(),
    }
}

async fn cms_sign(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<CmsSignRequest>,
) -> Result<Json<CmsSignResponse>, ApiError> {
    let request = yinxin_authority::CmsSignRequest {
        content: base64_field("content", &body.content)?,
        algorithm: service_algorithm(body.algorithm.as_deref().unwrap_or("sm2"))?,
        detached: body.detached,
        form: cms_form(body.form.as_deref())?,
        timestamp: body.timestamp,
    };
    let signed = a.cms_sign(&actor, request).await?;
    Ok(Json(CmsSignResponse {
        signed: B64.encode(signed),
    }))
}

/// Query of `POST /api/v1/cms/sign/raw`.
#[derive(Debug, Deserialize)]
struct CmsSignQuery {
    algorithm: Option<String>,
    #[serde(default)]
    detached: bool,
    form: Option<String>,
    #[serde(default)]
    timestamp: bool,
}

/// `POST /api/v1/cms/sign/raw`: the content as the body, the options in the query; the
/// `SignedData` (DER) as the answer.
async fn cms_sign_raw(
    State(a): State<Authority>,
    Caller(actor): Caller,
    query: Result<Query<CmsSignQuery>, axum::extract::rejection::QueryRejection>,
    crate::budget::RawBody(content): crate::budget::RawBody,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let request = yinxin_authority::CmsSignRequest {
        content,
        algorithm: service_algorithm(q.algorithm.as_deref().unwrap_or("sm2"))?,
        detached: q.detached,
        form: cms_form(q.form.as_deref())?,
        timestamp: q.timestamp,
    };
    let signed = a.cms_sign(&actor, request).await?;
    Ok(binary(
        if q.detached {
            "application/pkcs7-signature"
        } else {
            "application/pkcs7-mime"
        },
        signed,
    ))
}

async fn cms_encrypt(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<CmsEncryptRequest>,
) -> Result<Json<CmsEncryptResponse>, ApiError> {
    let mut recipients = Vec::new();
    for name in &body.to_server {
        recipients.push(EnvelopeRecipient::Server(service_algorithm(name)?));
    }
    for (i, cert) in body.recipients.iter().enumerate() {
        let data = if cert.contains("-----BEGIN") {
            cert.as_bytes().to_vec()
        } else {
            base64_field(&format!("recipients[{i}]"), cert)?
        };
        recipients.push(EnvelopeRecipient::Certificate(data));
    }
    let content = base64_field("content", &body.content)?;
    let envelope = a
        .cms_encrypt(&actor, content, recipients, cms_form(body.form.as_deref())?)
        .await?;
    Ok(Json(CmsEncryptResponse {
        envelope: B64.encode(envelope),
    }))
}

async fn cms_decrypt(
    State(a): State<Authority>,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<CmsDecryptRequest>,
) -> Result<Json<CmsDecryptResponse>, ApiError> {
    let envelope = base64_field("envelope", &body.envelope)?;
    let content = a.cms_decrypt(&actor, envelope).await?;
    Ok(Json(CmsDecryptResponse {
        content: B64.encode(&content[..]),
    }))
}

/// `POST /api/v1/cms/decrypt/raw`: the envelope (DER, BER or PEM) as the body; the content
/// as the answer.
async fn cms_decrypt_raw(
    State(a): State<Authority>,
    Caller(actor): Caller,
    crate::budget::RawBody(envelope): crate::budget::RawBody,
) -> Result<Response, ApiError> {
    let mut content = a.cms_decrypt(&actor, envelope).await?;
    // Moved, not copied: the plaintext can be as large as the body.
    Ok(binary(
        "application/octet-stream",
        std::mem::take(&mut *content),
    ))
}
