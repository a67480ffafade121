//! First start: the vault, an SM2 and an RSA hierarchy (root and issuing CA each), a
//! delegated OCSP signer per issuing CA, and the first administrator credential; at every
//! unseal, the service identities (TSA, envelope and signing keys) the store still lacks.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use yinxin_audit::{AuditAction, AuditEvent};
use yinxin_crypto::shamir::Share;
use yinxin_crypto::{KeySpec, Signer};
use yinxin_pki::issue::IssueParams;
use yinxin_pki::profile::Profile;
use yinxin_store::{CaRecord, ServiceKeyRecord, Store};
use yinxin_vault::UnsealedVault;
use zeroize::Zeroizing;

use crate::access::{Role, new_token};
use crate::error::{AuthorityError, Result};
use crate::keys::{PKCS11_REF, VAULT_CONFIG_BLOB, VAULT_REF, key_blob, scheme_for};
use crate::{AuthorityConfig, now_ms, random_serial};

/// What the first start hands out exactly once.
pub struct Initialised {
    /// The vault's unseal shares: one per administrator (or the trial 1-of-1 share).
    pub shares: Vec<Share>,
    /// The first administrator's API token.
    pub admin_token: Zeroizing<String>,
}

impl std::fmt::Debug for Initialised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initialised")
            .field("shares", &self.shares.len())
            .field("admin_token", &"<redacted>")
            .finish()
    }
}

/// How the first start shapes the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOptions {
    /// Shares needed to unseal.
    pub threshold: u8,
    /// Shares made.
    pub shares: u8,
    /// CAs (`rsa-root`, `rsa-issuing`) whose keys are generated on the configured PKCS#11
    /// token instead of in the vault ([`AuthorityConfig::pkcs11`]). RSA only: PKCS#11 has
    /// no standard SM2 mechanism.
    pub pkcs11_cas: Vec<String>,
}

impl Default for InitOptions {
    /// The single-machine trial: one share, every key in the vault.
    fn default() -> Self {
        InitOptions {
            threshold: 1,
            shares: 1,
            pkcs11_cas: Vec::new(),
        }
    }
}

/// The CAs made on first start: (name, key, parent, subject CN, lifetime in years).
const HIERARCHY: [(&str, KeySpec, Option<&str>, &str, u64); 4] = [
    ("sm2-root", KeySpec::Sm2, None, "SM2 Root CA", 20),
    (
        "sm2-issuing",
        KeySpec::Sm2,
        Some("sm2-root"),
        "SM2 Issuing CA",
        10,
    ),
    ("rsa-root", KeySpec::Rsa3072, None, "RSA Root CA", 20),
    (
        "rsa-issuing",
        KeySpec::Rsa2048,
        Some("rsa-root"),
        "RSA Issuing CA",
        10,
    ),
];

const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

async fn store_key(
    store: &Store,
    vault: &UnsealedVault,
    label: &str,
    spec: KeySpec,
) -> Result<yinxin_vault::WrappedKey> {
    let wrapped = vault.generate_key(label, spec)?;
    let json = serde_json::to_vec(&wrapped).map_err(AuthorityError::internal)?;
    store.put_vault_blob(&key_blob(label), &json).await?;
    Ok(wrapped)
}

/// Run the first start on an empty store. Fails if the store already holds a vault.
pub(crate) async fn initialise(
    store: &Store,
    config: &AuthorityConfig,
    options: &InitOptions,
) -> Result<(Initialised, yinxin_vault::VaultConfig)> {
    if store.vault_blob(VAULT_CONFIG_BLOB).await.is_ok() {
        return Err(AuthorityError::Conflict(
            "this store is already initialised".into(),
        ));
    }
    for name in &options.pkcs11_cas {
        match HIERARCHY.iter().find(|(n, ..)| n == name) {
            Some((_, KeySpec::Sm2, ..)) => {
                return Err(AuthorityError::bad(
                    "bad-pkcs11",
                    format!(
                        "{name}: SM2 CA keys cannot live on a PKCS#11 token (no standard SM2 mechanism)"
                    ),
                ));
            }
            Some(_) => {}
            None => {
                return Err(AuthorityError::bad(
                    "bad-pkcs11",
                    format!("unknown CA {name:?} for PKCS#11"),
                ));
            }
        }
    }
    let mut pkcs11 = if options.pkcs11_cas.is_empty() {
        None
    } else {
        Some(crate::keys::pkcs11_token(config)?)
    };
    let (vault, shares) = UnsealedVault::initialise(options.threshold, options.shares)
        .map_err(|e| AuthorityError::bad("bad-threshold", e.to_string()))?;
    let now = SystemTime::now();
    let system = "system".to_string();
    let mut issued: Vec<(String, x509_cert::Certificate, Arc<dyn Signer>)> = Vec::new();
    for (name, spec, parent, cn, years) in HIERARCHY {
        let label = format!("ca/{name}");
        let (key_ref, signer): (String, Arc<dyn Signer>) = match pkcs11.as_mut() {
            Some(token) if options.pkcs11_cas.iter().any(|n| n == name) => {
                use yinxin_token::Token as _;
                let container = format!("ca-{name}");
                token
                    .generate_key(&container, yinxin_token::KeyUsage::Signing, spec)
                    .map_err(|e| {
                        AuthorityError::internal(format!("PKCS#11 key for {name}: {e}"))
                    })?;
                let signer = token
                    .signer(&container, yinxin_token::KeyUsage::Signing)
                    .map_err(|e| {
                        AuthorityError::internal(format!("PKCS#11 key for {name}: {e}"))
                    })?;
                (format!("{PKCS11_REF}{container}"), signer)
            }
            _ => {
                let wrapped = store_key(store, &vault, &label, spec).await?;
                (format!("{VAULT_REF}{label}"), vault.signer(&wrapped)?)
            }
        };
        let subject = yinxin_pki::name::parse(&format!(
            "CN={} {cn},O={},C=CN",
            config.ca_organisation, config.ca_organisation
        ))
        .map_err(|e| AuthorityError::bad("bad-name", e.to_string()))?;
        let profile = match parent {
            None => Profile::RootCa,
            Some(_) => Profile::IssuingCa { path_len: Some(0) },
        };
        let mut params = IssueParams::new(
            subject,
            signer.public_key().clone(),
            random_serial()?,
            now - Duration::from_secs(60),
            now + YEAR * u32::try_from(years).unwrap_or(10),
            profile,
        );
        let cert = match parent {
            None => yinxin_pki::issue::issue(
                None,
                signer.as_ref(),
                &scheme_for(signer.public_key()),
                &params,
            ),
            Some(parent) => {
                let (_, parent_cert, parent_signer) = issued
                    .iter()
                    .find(|(n, ..)| n == parent)
                    .ok_or_else(|| AuthorityError::internal("hierarchy order"))?;
                params.urls = config.urls_for(parent);
                yinxin_pki::issue::issue(
                    Some(parent_cert),
                    parent_signer.as_ref(),
                    &scheme_for(parent_signer.public_key()),
                    &params,
                )
            }
        }
        .map_err(|e| AuthorityError::internal(format!("issuing CA {name}: {e}")))?;
        let der = yinxin_pki::certificate::to_der(&cert).map_err(AuthorityError::internal)?;
        store
            .put_ca(&CaRecord {
                name: name.to_string(),
                algorithm: spec.name().to_string(),
                certificate_der: der.clone(),
                key_ref,
                created_at: now_ms(),
            })
            .await?;
        if let Some(parent) = parent {
            // Recorded as issued by its root, so OCSP knows it and the root can revoke it.
            store
                .issue_certificate_with_audit(
                    &yinxin_store::NewCertificate {
                        ca: parent.to_string(),
                        serial: params.serial.clone(),
                        subject: cert.tbs_certificate().subject().to_string(),
                        organisation: Some(config.ca_organisation.clone()),
                        profile: "issuing-ca".into(),
                        not_before: crate::ms(params.not_before),
                        not_after: crate::ms(params.not_after),
                        der,
                        requested_by: system.clone(),
                        platform: true,
                    },
                    AuditEvent::new(
                        &system,
                        AuditAction::CertificateIssued,
                        crate::target(parent, &params.serial),
                    )
                    .with("profile", "issuing-ca"),
                    now_ms(),
                )
                .await?;
        }
        store
            .append_audit(
                AuditEvent::new(&system, AuditAction::Other("ca_created".into()), name)
                    .with("algorithm", spec.name())
                    .with(
                        "key",
                        if options.pkcs11_cas.iter().any(|n| n == name) {
                            "pkcs11"
                        } else {
                            "vault"
                        },
                    )
                    .with("subject", cert.tbs_certificate().subject().to_string()),
                now_ms(),
            )
            .await?;
        issued.push((name.to_string(), cert, signer));
    }
    // A delegated OCSP signer per issuing CA, so CA keys sign only certificates and CRLs.
    for (name, spec, parent, _, _) in HIERARCHY {
        if parent.is_none() {
            continue;
        }
        let (_, ca_cert, ca_signer) = issued
            .iter()
            .find(|(n, ..)| n == name)
            .ok_or_else(|| AuthorityError::internal("hierarchy order"))?;
        let identity = Identity::ocsp_signer(name, spec);
        let made = make_identity(
            store,
            config,
            &vault,
            (
                ca_cert,
                ca_signer.as_ref(),
                &scheme_for(ca_signer.public_key()),
            ),
            &identity,
        )
        .await?;
        store
            .issue_certificate_with_audit(
                &made.certificate,
                AuditEvent::new(&system, AuditAction::CertificateIssued, &made.target)
                    .with("profile", identity.profile_name),
                now_ms(),
            )
            .await?;
        store.put_service_key(&made.record).await?;
    }
    let token = new_token("first administrator", Role::Admin, &system, now_ms())?;
    store
        .create_api_token_with_audit(
            &token.record,
            AuditEvent::new(
                &system,
                AuditAction::Other("token_created".into()),
                &token.record.id,
            )
            .with("role", "admin"),
            now_ms(),
        )
        .await?;
    Ok((
        Initialised {
            shares,
            admin_token: token.text,
        },
        vault.config().clone(),
    ))
}

/// Mark the first start finished: written last, after the caller has stored the shares and
/// the admin token, so a store with a vault configuration always has its secrets somewhere.
pub(crate) async fn finish(
    store: &Store,
    vault_config: &yinxin_vault::VaultConfig,
    options: &InitOptions,
) -> Result<()> {
    let system = "system";
    let vault_config = serde_json::to_vec(vault_config).map_err(AuthorityError::internal)?;
    store
        .put_vault_blob(VAULT_CONFIG_BLOB, &vault_config)
        .await?;
    store
        .append_audit(
            AuditEvent::new(
                system,
                AuditAction::Other("vault_initialised".into()),
                "vault",
            )
            .with("threshold", options.threshold.to_string())
            .with("shares", options.shares.to_string()),
            now_ms(),
        )
        .await?;
    Ok(())
}

/// The platform's own keys that are not CAs and not OCSP signers ("service identities"): the
/// TSA keys, the server's envelope (encryption) keys and its signing keys. Each is a vault key
/// with a certificate from an issuing CA, recorded as a service key (`service_keys`) so that
/// every node of a cluster uses the same key and certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ServiceName {
    TsaSm2,
    TsaRsa,
    TsaEcdsa,
    EnvelopeSm2,
    EnvelopeRsa,
    SigningSm2,
    SigningRsa,
}

/// What a service identity's key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServicePurpose {
    /// Signs timestamp tokens.
    Tsa,
    /// Receives digital envelopes (decrypts).
    Envelope,
    /// Signs on behalf of the platform.
    Signing,
}

impl ServicePurpose {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ServicePurpose::Tsa => "tsa",
            ServicePurpose::Envelope => "envelope",
            ServicePurpose::Signing => "signing",
        }
    }
}

impl ServiceName {
    pub(crate) const ALL: [ServiceName; 7] = [
        ServiceName::TsaSm2,
        ServiceName::TsaRsa,
        ServiceName::TsaEcdsa,
        ServiceName::EnvelopeSm2,
        ServiceName::EnvelopeRsa,
        ServiceName::SigningSm2,
        ServiceName::SigningRsa,
    ];

    /// The service key's stored name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ServiceName::TsaSm2 => "tsa-sm2",
            ServiceName::TsaRsa => "tsa-rsa",
            ServiceName::TsaEcdsa => "tsa-ecdsa",
            ServiceName::EnvelopeSm2 => "envelope-sm2",
            ServiceName::EnvelopeRsa => "envelope-rsa",
            ServiceName::SigningSm2 => "signing-sm2",
            ServiceName::SigningRsa => "signing-rsa",
        }
    }

    pub(crate) fn purpose(self) -> ServicePurpose {
        match self {
            ServiceName::TsaSm2 | ServiceName::TsaRsa | ServiceName::TsaEcdsa => {
                ServicePurpose::Tsa
            }
            ServiceName::EnvelopeSm2 | ServiceName::EnvelopeRsa => ServicePurpose::Envelope,
            ServiceName::SigningSm2 | ServiceName::SigningRsa => ServicePurpose::Signing,
        }
    }

    /// The issuing CA.
    fn ca(self) -> &'static str {
        match self.spec() {
            KeySpec::Sm2 => "sm2-issuing",
            _ => "rsa-issuing",
        }
    }

    fn spec(self) -> KeySpec {
        match self {
            ServiceName::TsaSm2 | ServiceName::EnvelopeSm2 | ServiceName::SigningSm2 => {
                KeySpec::Sm2
            }
            ServiceName::TsaEcdsa => KeySpec::EcP256,
            ServiceName::TsaRsa | ServiceName::EnvelopeRsa | ServiceName::SigningRsa => {
                KeySpec::Rsa2048
            }
        }
    }

    fn profile(self) -> (Profile, &'static str) {
        use yinxin_pki::profile::KeyRole;
        match self.purpose() {
            ServicePurpose::Tsa => (Profile::TimeStamping, "timestamping"),
            ServicePurpose::Envelope => (
                Profile::Organisation {
                    role: KeyRole::Encryption,
                },
                "organisation",
            ),
            ServicePurpose::Signing => (
                Profile::Organisation {
                    role: KeyRole::Signing,
                },
                "organisation",
            ),
        }
    }

    fn common_name(self) -> &'static str {
        match self {
            ServiceName::TsaSm2 => "Time-Stamping Authority (SM2)",
            ServiceName::TsaRsa => "Time-Stamping Authority (RSA)",
            ServiceName::TsaEcdsa => "Time-Stamping Authority (ECDSA)",
            ServiceName::EnvelopeSm2 => "Server Envelope (SM2)",
            ServiceName::EnvelopeRsa => "Server Envelope (RSA)",
            ServiceName::SigningSm2 => "Server Signing (SM2)",
            ServiceName::SigningRsa => "Server Signing (RSA)",
        }
    }
}

/// CRL reason `superseded`: a service certificate that lost the race to another node's.
const SUPERSEDED: u8 = 4;

/// One identity the platform keeps for itself beside its CAs: a service identity or the
/// delegated OCSP signer of an issuing CA.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// The service key's stored name (`tsa-sm2`, `sm2-issuing/ocsp`, …).
    pub(crate) name: String,
    /// The issuing CA.
    pub(crate) ca: String,
    /// `tsa`, `envelope`, `signing` or `ocsp`.
    pub(crate) purpose: &'static str,
    spec: KeySpec,
    common_name: String,
    profile: Profile,
    profile_name: &'static str,
    /// Whether the certificate carries the CA's CRL and OCSP URLs (an OCSP signer's does
    /// not: it is checked by id-pkix-ocsp-nocheck semantics, not by asking itself).
    revocation_urls: bool,
}

impl Identity {
    pub(crate) fn service(service: ServiceName) -> Identity {
        let (profile, profile_name) = service.profile();
        Identity {
            name: service.name().to_string(),
            ca: service.ca().to_string(),
            purpose: service.purpose().as_str(),
            spec: service.spec(),
            common_name: service.common_name().to_string(),
            profile,
            profile_name,
            revocation_urls: true,
        }
    }

    pub(crate) fn ocsp_signer(ca: &str, spec: KeySpec) -> Identity {
        Identity {
            name: format!("{ca}/ocsp"),
            ca: ca.to_string(),
            purpose: "ocsp",
            spec,
            common_name: format!("OCSP Responder ({ca})"),
            profile: Profile::OcspSigner,
            profile_name: "ocsp-signer",
            revocation_urls: false,
        }
    }

    /// Every identity the platform keeps: the service identities, and an OCSP signer per
    /// issuing CA of the hierarchy.
    pub(crate) fn all() -> Vec<Identity> {
        let mut all: Vec<Identity> = ServiceName::ALL
            .into_iter()
            .map(Identity::service)
            .collect();
        for (name, spec, parent, _, _) in HIERARCHY {
            if parent.is_some() {
                all.push(Identity::ocsp_signer(name, spec));
            }
        }
        all
    }

    /// Find an identity by its stored name.
    pub(crate) fn named(name: &str) -> Option<Identity> {
        Identity::all().into_iter().find(|i| i.name == name)
    }
}

/// A new key and certificate for `identity`, not yet recorded.
pub(crate) struct Made {
    pub(crate) record: ServiceKeyRecord,
    pub(crate) certificate: yinxin_store::NewCertificate,
    pub(crate) target: String,
}

/// Make a new vault key for `identity` and certify it with its CA.
pub(crate) async fn make_identity(
    store: &Store,
    config: &AuthorityConfig,
    vault: &UnsealedVault,
    (ca_cert, ca_signer, ca_scheme): (
        &x509_cert::Certificate,
        &dyn Signer,
        &yinxin_crypto::SignatureScheme,
    ),
    identity: &Identity,
) -> Result<Made> {
    // A label of its own, so racing nodes never overwrite each other's wrapped key.
    let unique = hex::encode(yinxin_crypto::random::bytes(6).map_err(AuthorityError::internal)?);
    let label = format!("service/{}/{unique}", identity.name);
    let wrapped = store_key(store, vault, &label, identity.spec).await?;
    let subject = yinxin_pki::name::parse(&format!(
        "CN={} {},O={},C=CN",
        config.ca_organisation, identity.common_name, config.ca_organisation
    ))
    .map_err(|e| AuthorityError::bad("bad-name", e.to_string()))?;
    let now = SystemTime::now();
    let mut params = IssueParams::new(
        subject,
        wrapped.public_key()?,
        random_serial()?,
        now - Duration::from_secs(60),
        now + YEAR * 5,
        identity.profile.clone(),
    );
    params.urls = config.urls_for(&identity.ca);
    if !identity.revocation_urls {
        params.urls.crl.clear();
        params.urls.ocsp.clear();
    }
    let cert = yinxin_pki::issue::issue(Some(ca_cert), ca_signer, ca_scheme, &params)
        .map_err(|e| AuthorityError::internal(format!("{} certificate: {e}", identity.name)))?;
    let der = yinxin_pki::certificate::to_der(&cert).map_err(AuthorityError::internal)?;
    Ok(Made {
        target: crate::target(&identity.ca, &params.serial),
        certificate: yinxin_store::NewCertificate {
            ca: identity.ca.clone(),
            serial: params.serial.clone(),
            subject: cert.tbs_certificate().subject().to_string(),
            organisation: Some(config.ca_organisation.clone()),
            profile: identity.profile_name.into(),
            not_before: crate::ms(params.not_before),
            not_after: crate::ms(params.not_after),
            der: der.clone(),
            requested_by: "system".into(),
            platform: true,
        },
        record: ServiceKeyRecord {
            name: identity.name.clone(),
            ca: identity.ca.clone(),
            purpose: identity.purpose.into(),
            certificate_der: der,
            key_ref: format!("{VAULT_REF}{label}"),
            created_at: now_ms(),
        },
    })
}

/// Whether the certificate of service key `record` is revoked or on hold.
async fn withdrawn(store: &Store, record: &ServiceKeyRecord) -> Result<bool> {
    let cert = yinxin_pki::certificate::from_pem_or_der(&record.certificate_der)
        .map_err(AuthorityError::internal)?;
    let serial = cert.tbs_certificate().serial_number().as_bytes().to_vec();
    match store.certificate(&record.ca, &serial).await {
        Ok(r) => Ok(r.status != yinxin_store::CertificateStatus::Valid),
        // Recorded before certificates were (never by this version): leave it be.
        Err(yinxin_store::StoreError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Replace `identity`, whose recorded certificate `old` was revoked or held, by a new key and
/// certificate. Another node replacing it first wins; ours is then revoked as superseded.
pub(crate) async fn replace_identity(
    store: &Store,
    config: &AuthorityConfig,
    vault: &UnsealedVault,
    ca: &crate::keys::CaKeys,
    identity: &Identity,
    old: &ServiceKeyRecord,
    actor: &str,
) -> Result<String> {
    let made = make_identity(store, config, vault, ca.issuing(), identity).await?;
    let result = store
        .replace_service_key_with_audit(
            &old.certificate_der,
            &made.record,
            &made.certificate,
            AuditEvent::new(
                actor,
                AuditAction::Other("service_identity_replaced".into()),
                &identity.name,
            )
            .with("algorithm", identity.spec.name())
            .with("certificate", &made.target),
            now_ms(),
        )
        .await;
    match result {
        Ok(_) => Ok(made.target),
        Err(yinxin_store::StoreError::Conflict { what }) => Err(AuthorityError::Conflict(what)),
        Err(e) => Err(e.into()),
    }
}

/// Create every service identity the store lacks (first start, or the first unseal of a data
/// directory made by an earlier version), and replace every one (OCSP signers included) whose
/// certificate was revoked or put on hold: such a certificate counts as missing. Two nodes
/// creating at once both make a key and a certificate, but only one service key record per
/// name can be stored: the loser revokes its certificate (`superseded`) and everyone then
/// reads the winner's record.
pub(crate) async fn ensure_service_identities(
    store: &Store,
    config: &AuthorityConfig,
    vault: &UnsealedVault,
    cas: &std::collections::BTreeMap<String, Arc<crate::keys::CaKeys>>,
) -> Result<()> {
    let existing = store.service_keys().await?;
    let system = "system".to_string();
    for identity in Identity::all() {
        let Some(ca) = cas.get(&identity.ca) else {
            tracing::warn!(
                "no CA {} to certify the {} key; skipped",
                identity.ca,
                identity.name
            );
            continue;
        };
        if let Some(old) = existing.iter().find(|r| r.name == identity.name) {
            if withdrawn(store, old).await? {
                match replace_identity(store, config, vault, ca, &identity, old, &system).await {
                    Ok(target) => tracing::warn!(
                        "the certificate of {} was revoked or held: replaced by {target}",
                        identity.name
                    ),
                    // Another node replaced it meanwhile; its record is read below.
                    Err(AuthorityError::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            continue;
        }
        if identity.purpose == "ocsp" {
            // OCSP signers are made at first start; a store without one answers OCSP with
            // the CA's own key.
            continue;
        }
        let made = make_identity(store, config, vault, ca.issuing(), &identity).await?;
        store
            .issue_certificate_with_audit(
                &made.certificate,
                AuditEvent::new(&system, AuditAction::CertificateIssued, &made.target)
                    .with("profile", identity.profile_name)
                    .with("service", identity.name.clone()),
                now_ms(),
            )
            .await?;
        match store.put_service_key(&made.record).await {
            Ok(()) => {
                store
                    .append_audit(
                        AuditEvent::new(
                            &system,
                            AuditAction::Other("service_identity_created".into()),
                            &identity.name,
                        )
                        .with("algorithm", identity.spec.name())
                        .with("certificate", &made.target),
                        now_ms(),
                    )
                    .await?;
            }
            Err(yinxin_store::StoreError::Conflict { .. }) => {
                // Another node stored its identity first; ours is never used.
                store
                    .change_status_with_audit(
                        &identity.ca,
                        &made.certificate.serial,
                        yinxin_store::StatusChange::Revoke {
                            reason: SUPERSEDED,
                            time_ms: now_ms(),
                        },
                        AuditEvent::new(&system, AuditAction::CertificateRevoked, &made.target)
                            .with("reason", "superseded")
                            .with("service", identity.name.clone()),
                        now_ms(),
                    )
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
