//! The REST API's request and response bodies (JSON), shared with the CLI client. Binary
//! values are PEM text (certificates, CSRs) or standard base64 (envelopes, CRLs); serials
//! are lower-case hex. The OpenAPI document (`openapi.json`) describes the same shapes.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/status`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatusResponse {
    /// The server's version.
    pub version: String,
    /// Whether the key vault is sealed.
    pub sealed: bool,
    /// Shares needed to unseal.
    pub threshold: u8,
    /// Shares made.
    pub shares: u8,
    /// Shares given so far while sealed.
    pub shares_given: u8,
    /// The store backend: `sqlite` or `postgres`.
    pub store: String,
    /// The CA names, roots first.
    pub cas: Vec<String>,
}

/// `POST /api/v1/vault/unseal`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnsealRequest {
    /// One share in its text form.
    pub share: String,
}

/// One CA in `GET /api/v1/cas`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CaResponse {
    /// The CA's name.
    pub name: String,
    /// Its key algorithm, e.g. `SM2`, `RSA-2048`.
    pub algorithm: String,
    /// Its subject (RFC 4514).
    pub subject: String,
    /// The CA that issued it; absent for roots.
    pub parent: Option<String>,
    /// Whether it is a root.
    pub root: bool,
    /// Its certificate, PEM.
    pub certificate_pem: String,
    /// Where its CRL is published.
    pub crl_url: String,
}

/// `POST /api/v1/certificates` and `POST /api/v1/enrolments`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct IssueRequest {
    /// The PKCS#10 request, PEM.
    pub csr: String,
    /// `organisation`, `employee`, `server`, `ocsp-signer`, `timestamping`, `code-signing`
    /// or `seal-making`.
    pub profile: String,
    /// The issuing CA (default: by key algorithm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// Lifetime in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_days: Option<u32>,
    /// Subject alternative names: `dns:NAME`, `ip:ADDRESS`, `email:ADDRESS`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sans: Vec<String>,
    /// GM/T 0015 identity numbers.
    #[serde(default, skip_serializing_if = "Identity::is_empty")]
    pub identity: Identity,
}

/// GM/T 0015 identity numbers for a certificate.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct Identity {
    /// 统一社会信用代码 / organisation code (OrganizationCode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_code: Option<String>,
    /// 企业税号 (TaxationNumber).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxation_number: Option<String>,
    /// 工商注册号 (ICRegistrationNumber).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ic_registration_number: Option<String>,
    /// 社会保险号 (InsuranceNumber).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insurance_number: Option<String>,
    /// 居民身份证号码 (IdentifyCode, residenterCardNumber).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_card_number: Option<String>,
}

impl Identity {
    /// Whether no number is set.
    pub fn is_empty(&self) -> bool {
        *self == Identity::default()
    }
}

/// An issued certificate.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CertificateResponse {
    /// The issuing CA.
    pub ca: String,
    /// The serial, hex.
    pub serial: String,
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The CA certificates up to the root, PEM.
    pub chain_pem: String,
}

/// `POST /api/v1/enrolments`: a dual-certificate pair and the escrowed key for the token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DualResponse {
    /// The signing certificate (the token's own key).
    pub signing: CertificateResponse,
    /// The encryption certificate (the escrowed key).
    pub encryption: CertificateResponse,
    /// The escrowed encryption key sealed to the signing key.
    pub delivered_key: DeliveredKeyBody,
}

/// A key in its envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeliveredKeyBody {
    /// `sm2-enveloped-key` (GB/T 35276) or `cms-enveloped-data` (RFC 5652).
    pub format: String,
    /// The envelope, DER in standard base64.
    pub envelope: String,
}

/// A certificate's record in search results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CertificateRecordResponse {
    /// The issuing CA.
    pub ca: String,
    /// The serial, hex.
    pub serial: String,
    /// The subject (RFC 4514).
    pub subject: String,
    /// The subject's organisation.
    pub organisation: Option<String>,
    /// The profile.
    pub profile: String,
    /// notBefore, RFC 3339.
    pub not_before: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
    /// `valid`, `on_hold` or `revoked`.
    pub status: String,
    /// When revoked or held, RFC 3339.
    pub revoked_at: Option<String>,
    /// The RFC 5280 reason code.
    pub revocation_reason: Option<u8>,
    /// Who asked for it.
    pub requested_by: String,
    /// The certificate, PEM.
    pub certificate_pem: String,
}

/// `POST /api/v1/certificates/{serial}/revoke` (and hold, release).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct StatusChangeRequest {
    /// The CA, when the serial alone is ambiguous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// The reason (revoke only): `keyCompromise`, `superseded`, … (default `unspecified`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/v1/certificates/{serial}/renew` and `/rekey`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ReissueRequest {
    /// The CA, when the serial alone is ambiguous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// The new key's PKCS#10 request, PEM (re-key only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
    /// Lifetime in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_days: Option<u32>,
}

/// `POST /api/v1/crls/{ca}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CrlResponse {
    /// The CA.
    pub ca: String,
    /// The cRLNumber.
    pub number: u64,
    /// thisUpdate, RFC 3339.
    pub this_update: String,
    /// nextUpdate, RFC 3339.
    pub next_update: String,
    /// The CRL, DER in standard base64.
    pub crl: String,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRequest {
    /// Who it is for.
    pub name: String,
    /// `admin`, `ra-operator` or `auditor`.
    pub role: String,
}

/// A newly created API token, shown once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// Its public id (to disable it later).
    pub id: String,
    /// The token text for `Authorization: Bearer …`.
    pub token: String,
    /// Its role.
    pub role: String,
}

/// `GET /api/v1/whoami`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WhoAmI {
    /// The credential's name.
    pub name: String,
    /// The role.
    pub role: String,
}

/// `POST /api/v1/escrow/{serial}/recoveries`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct RecoveryRequestBody {
    /// The CA, when the serial alone is ambiguous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
}

/// A recovery request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecoveryResponse {
    /// Its id, for the approving administrator.
    pub id: String,
    /// The encryption certificate's CA.
    pub ca: String,
    /// The encryption certificate's serial, hex.
    pub serial: String,
    /// Who asked.
    pub requested_by: String,
}

/// `POST /api/v1/escrow/recoveries/{id}/approve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApproveRequest {
    /// A PKCS#10 request (PEM) for the key the escrowed key is to be sealed to.
    pub csr: String,
}

/// The recovered key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecoveredResponse {
    /// The key in its envelope.
    pub delivered_key: DeliveredKeyBody,
    /// Who asked.
    pub requested_by: String,
    /// Who approved.
    pub approved_by: String,
}

/// One audit record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditRecordResponse {
    /// Sequence number from 0.
    pub seq: u64,
    /// When, ms since the epoch.
    pub time_ms: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Details.
    pub details: std::collections::BTreeMap<String, String>,
    /// The previous record's hash, hex.
    pub prev_hash: String,
    /// This record's hash, hex.
    pub hash: String,
}

/// `GET /api/v1/audit/verify`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditVerifyResponse {
    /// Whether the chain is intact.
    pub intact: bool,
    /// Records checked.
    pub records: u64,
    /// The last record's hash, hex.
    pub head_hash: Option<String>,
    /// What is wrong, if anything.
    pub problem: Option<String>,
}

/// Every error body (RFC 9457 problem details).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Problem {
    /// `urn:yinxin:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
}
