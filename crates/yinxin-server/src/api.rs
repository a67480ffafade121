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
    /// Platform certificates that are revoked or on hold and not yet replaced: a withdrawn
    /// CA issues nothing, a withdrawn service identity does not sign until replaced.
    pub alerts: Vec<PlatformAlertBody>,
}

/// A withdrawn platform certificate in `GET /api/v1/status`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PlatformAlertBody {
    /// The issuing CA.
    pub ca: String,
    /// The serial, hex.
    pub serial: String,
    /// The subject.
    pub subject: String,
    /// The profile (`issuing-ca`, `ocsp-signer`, `timestamping`, `organisation`).
    pub profile: String,
    /// `revoked` or `on_hold`.
    pub status: String,
    /// Whether `yinxin admin replace-service` (or the next unseal) restores it.
    pub replaceable: bool,
}

/// `POST /api/v1/services/{name}/replace`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReplacedServiceResponse {
    /// The service identity.
    pub name: String,
    /// The new certificate as `ca/serial`.
    pub certificate: String,
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

/// `POST /api/v1/admin/formation`: open the ceremony that forms the administrator list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FormationRequest {
    /// How many administrators the list has (2 to 255).
    pub members: u8,
    /// Approvals (from distinct administrators) each dual-control operation needs.
    pub approvals: u8,
}

/// One administrator of the list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MemberBody {
    /// The member's id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their certificate's subject.
    pub subject: String,
    /// Their certificate, PEM.
    pub certificate_pem: String,
    /// Whether they were removed.
    pub removed: bool,
}

/// `GET /api/v1/admin/formation`: the ceremony and the list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FormationResponse {
    /// The ceremony's id (absent: never opened).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The nonce each administrator signs to register (hex), while the ceremony is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Members the list has when formed.
    pub size: u8,
    /// Approvals each dual-control operation needs.
    pub approvals: u8,
    /// Whether the list is formed.
    pub formed: bool,
    /// The members so far.
    pub members: Vec<MemberBody>,
}

/// `POST /api/v1/admin/formation/join`: register at the ceremony.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRequest {
    /// The administrator's name.
    pub name: String,
    /// Their certificate (PEM).
    pub certificate: String,
    /// Their signature (base64) over the join statement (`yinxin-admin-join-v1`, the
    /// ceremony's id and nonce, the name and the certificate's SHA-256) by the certificate's
    /// key.
    pub signature: String,
}

/// The answer to a registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinResponse {
    /// The new member's id.
    pub member: String,
    /// Their own administrator API token (shown once).
    pub token: String,
}

/// `POST /api/v1/approvals`: ask for a dual-control operation.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ApprovalRequestBody {
    /// `recover-key`, `revoke-platform-certificate`, `hold-platform-certificate`,
    /// `release-platform-certificate`, `add-administrator` or `remove-administrator`.
    pub operation: String,
    /// The certificate's serial (hex), for key recovery and platform certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The CA, when the serial alone is ambiguous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// The revocation reason, for `revoke-platform-certificate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A PKCS#10 request (PEM) for the key the recovered key is sealed to (`recover-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
    /// The new administrator's name (`add-administrator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new administrator's certificate, PEM (`add-administrator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The administrator to remove (`remove-administrator`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

/// `POST /api/v1/approvals/{id}/approve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApproveBody {
    /// The administrator's signature (base64) over the request's `statement` by their
    /// registered key.
    pub signature: String,
}

/// An approval request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApprovalResponse {
    /// Its id.
    pub id: String,
    /// The operation.
    pub operation: String,
    /// What it acts on.
    pub target: String,
    /// Its parameters (canonical JSON).
    pub parameters: String,
    /// The member who asked.
    pub requested_by: String,
    /// When it lapses (RFC 3339).
    pub expires: String,
    /// `open`, `executed`, `cancelled`, `rejected` or `expired`.
    pub status: String,
    /// The members who approved.
    pub approved_by: Vec<String>,
    /// Approvals needed.
    pub needed: u8,
    /// What each approver signs (UTF-8 text, signed as its bytes).
    pub statement: String,
    /// What the execution produced, once executed (for `recover-key`: `format` and
    /// `envelope`, the escrowed key sealed to the request's key; for `add-administrator`:
    /// the new member's id and token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
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

/// `GET /api/v1/tsa`: the time-stamping authority as anyone may see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TsaResponse {
    /// The policy OID of every token (dotted).
    pub policy: String,
    /// The accuracy of `genTime` claimed in tokens; absent when none is claimed.
    pub accuracy: Option<TsaAccuracy>,
    /// Whether this node's clock is trusted.
    pub clock: ClockResponse,
    /// Whether the key vault is sealed (requests are then refused with `systemFailure`).
    pub sealed: bool,
    /// The TSA keys.
    pub keys: Vec<TsaKeyResponse>,
}

/// The accuracy of a TSA's `genTime` (RFC 3161 `Accuracy`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TsaAccuracy {
    /// Whole seconds.
    pub seconds: u32,
    /// Milliseconds.
    pub millis: u16,
    /// Microseconds.
    pub micros: u16,
}

/// One TSA key in `GET /api/v1/tsa`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TsaKeyResponse {
    /// `sm2`, `rsa` or `ecdsa`.
    pub key: String,
    /// The key algorithm, e.g. `SM2`, `RSA-2048`.
    pub algorithm: String,
    /// Where to send requests for this key (`POST`, `application/timestamp-query`).
    pub url: String,
    /// The TSA certificate, PEM.
    pub certificate_pem: String,
    /// The CA certificates above it, issuing CA first, root last, PEM.
    pub chain_pem: Vec<String>,
}

/// This node's TSA clock (`GET /api/v1/tsa`, `PUT /api/v1/tsa/clock`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClockResponse {
    /// Whether timestamps are granted.
    pub healthy: bool,
    /// Why it was last marked.
    pub reason: Option<String>,
    /// When it was last marked (RFC 3339).
    pub since: String,
    /// Who marked it: an API token (`name#id`) or `system` (a detected clock jump).
    pub marked_by: String,
}

/// `PUT /api/v1/tsa/clock`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClockRequest {
    /// Healthy (grant timestamps) or not (refuse with `timeNotAvailable`).
    pub healthy: bool,
    /// Why, for the audit log and the clients' `statusString`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `POST /api/v1/cms/verify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsVerifyRequest {
    /// The `SignedData` (RFC 5652 or GM/T 0010; DER or BER), standard base64.
    pub signed: String,
    /// The content of a detached signature, standard base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// The verdict of `POST /api/v1/cms/verify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsVerifyResponse {
    /// Whether every signer is valid (signature, chain to a platform root, revocation,
    /// timestamp).
    pub valid: bool,
    /// `RFC 5652` or `GM/T 0010`.
    pub form: String,
    /// The encapsulated content type (OID).
    pub content_type: String,
    /// Whether the content was detached.
    pub detached: bool,
    /// The attached content, standard base64 (absent when detached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// One verdict per signer, in the message's order.
    pub signers: Vec<CmsSignerResponse>,
}

/// One signer's verdict.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsSignerResponse {
    /// Whether this signer is valid.
    pub valid: bool,
    /// Why not, in words (absent when valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The signer's certificate subject, once found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The issuer named by the signer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The certificate serial number, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The signature scheme, e.g. `SM2-with-SM3 (ID "1234567812345678")`.
    pub algorithm: String,
    /// The content digest algorithm.
    pub digest: String,
    /// The signer's claimed signing time (RFC 3339), if signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_time: Option<String>,
    /// The verified timestamp's time (RFC 3339), if the signature carries a valid one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_time: Option<String>,
    /// The validated chain's subjects, signer first.
    pub chain: Vec<String>,
}

/// `POST /api/v1/cms/sign`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsSignRequest {
    /// The content to sign, standard base64.
    pub content: String,
    /// The platform's signing key: `sm2` (default) or `rsa`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// Leave the content out of the `SignedData`.
    #[serde(default)]
    pub detached: bool,
    /// `rfc5652` (default) or `gmt0010`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    /// Add an RFC 3161 timestamp from the platform's TSA over the signature.
    #[serde(default)]
    pub timestamp: bool,
}

/// The answer of `POST /api/v1/cms/sign`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsSignResponse {
    /// The `SignedData` (DER `ContentInfo`), standard base64.
    pub signed: String,
}

/// `POST /api/v1/cms/encrypt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsEncryptRequest {
    /// The content to seal, standard base64.
    pub content: String,
    /// Recipients' certificates, PEM (or base64 DER).
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Also (or only) to the server's own encryption certificates: `sm2`, `rsa`.
    #[serde(default)]
    pub to_server: Vec<String>,
    /// `rfc5652` (default; an authenticated `AuthEnvelopedData` with SM4-GCM for SM2-only
    /// recipients, else AES-256-GCM) or `gmt0010` (an `EnvelopedData` with SM4-CBC or
    /// AES-256-CBC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
}

/// The answer of `POST /api/v1/cms/encrypt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsEncryptResponse {
    /// The envelope (DER `ContentInfo`), standard base64.
    pub envelope: String,
}

/// `POST /api/v1/cms/decrypt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsDecryptRequest {
    /// The envelope addressed to one of the server's encryption certificates, standard
    /// base64 (DER or BER; either kind, either form).
    pub envelope: String,
}

/// The answer of `POST /api/v1/cms/decrypt`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsDecryptResponse {
    /// The content, standard base64.
    pub content: String,
}

/// One of the platform's service certificates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceCertificate {
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The CA certificates above it, issuing CA first, root last, PEM.
    pub chain_pem: Vec<String>,
}

/// `GET /api/v1/cms/certificates`: where to seal envelopes for the server, and who signs for
/// the platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CmsCertificatesResponse {
    /// The server's encryption certificates by algorithm (`sm2`, `rsa`).
    pub envelope: std::collections::BTreeMap<String, ServiceCertificate>,
    /// The platform's signing certificates by algorithm (`sm2`, `rsa`).
    pub signing: std::collections::BTreeMap<String, ServiceCertificate>,
}
