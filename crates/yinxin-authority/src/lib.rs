//! yinxin's authority core (step-ca's `authority/`): everything the server does, with no HTTP
//! in it. The server's handlers authenticate the caller into an [`Actor`], make one call here
//! and render the result.
//!
//! ```text
//!   Authority::open(store, config)            sealed: CA certificates, CRLs and status only
//!     ├─ unseal(share) … k shares ─▶ Unsealed { vault, CA signers, OCSP responders }
//!     ├─ issue / enrol_dual / renew / rekey   PoP checked, random 128-bit serials,
//!     │                                        certificate + audit in one transaction
//!     ├─ change_status (revoke, hold, release) audited; CRL republished; OCSP cache dropped
//!     ├─ crl / publish_crl / ocsp              revocation data (OCSP cached per CertID)
//!     ├─ open_formation / join_formation      the administrator list (governance.rs)
//!     ├─ request_approval / approve            dual control by persons: key recovery,
//!     │                                        platform certificates, the list itself
//!     ├─ timestamp / tsa_info / set_clock_health  RFC 3161 TSA (tsa.rs): leased serials,
//!     │                                        clock monitor, never fails (rejections)
//!     ├─ service_signer / service_decrypter    the server's own signing and envelope keys
//!     └─ audit_records / verify_audit          the hash-chained log
//!   Authority::initialise(store, config, options)   first start, once per store
//! ```
//!
//! # Invariants
//!
//! * No certificate leaves the authority before the store has committed it together with its
//!   audit record.
//! * No private key leaves the vault: CA, OCSP, TSA, service and escrowed keys are used
//!   through handles;
//!   an escrowed key leaves only inside an envelope to a key its recipient proved to hold.
//! * While sealed, nothing that needs a key works, and says so ([`AuthorityError::Sealed`]).
//! * Every state change is authorised by [`Actor`] role before anything is touched.
#![forbid(unsafe_code)]

mod access;
mod audit_log;
mod cms_service;
mod error;
mod governance;
mod issuance;
mod keys;
mod ocsp;
mod platform;
mod revocation;
mod setup;
mod tsa;
mod unseal_guard;

#[cfg(test)]
mod test_support;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use yinxin_audit::{AuditAction, AuditEvent};
use yinxin_crypto::shamir::Share;
use yinxin_pki::profile::Urls;
use yinxin_store::Store;
use yinxin_vault::{SealedVault, UnsealProgress, VaultConfig};

pub use access::{Actor, Role};
pub use audit_log::AuditReport;
pub use cms_service::{CMS_QUEUE_WAIT, CmsSignRequest, EnvelopeRecipient, MAX_CMS_BYTES};
pub use error::{AuthorityError, Result};
pub use governance::{
    ApprovalView, DEFAULT_APPROVAL_LIFETIME, FormationView, MemberView, Operation, join_statement,
};
pub use issuance::{DualIssued, EnrolRequest, Issued, MAX_CSR_LEN, MAX_VALIDITY_DAYS, ProfileName};
pub use keys::PKCS11_REF;
pub use keys::{CaInfo, ServiceAlgorithm, ServiceDecrypter, ServiceSigner};
pub use ocsp::OcspInput;
pub use platform::PlatformAlert;
pub use revocation::reason_code;
pub use setup::{InitOptions, Initialised};
pub use tsa::{
    ClockHealth, ClockMonitor, DEFAULT_TSA_POLICY, SERIALS_LEASED, TsaConfig, TsaInfo, TsaKey,
    TsaKeyInfo, parse_accuracy,
};
pub use unseal_guard::MAX_FAILURES_PER_MINUTE as MAX_UNSEAL_FAILURES_PER_MINUTE;
pub use yinxin_store::{CertificateQuery, CertificateRecord, CertificateStatus, StatusChange};

use keys::{Unsealed, VAULT_CONFIG_BLOB};

/// How the authority behaves; the server fills it from flags and its config file.
#[derive(Debug, Clone)]
pub struct AuthorityConfig {
    /// The URL clients reach this server at, without a trailing slash, e.g.
    /// `http://127.0.0.1:8700`. CRL, OCSP and CA-certificate URLs in certificates start here.
    pub base_url: String,
    /// The organisation named in CA subjects.
    pub ca_organisation: String,
    /// How often each CRL is regenerated even without revocations.
    pub crl_interval: Duration,
    /// How long a CRL is valid (nextUpdate − thisUpdate); longer than `crl_interval`.
    pub crl_validity: Duration,
    /// nextUpdate − thisUpdate of OCSP responses.
    pub ocsp_validity: Duration,
    /// How old a cached OCSP response may get before it is signed anew.
    pub ocsp_cache_refresh: Duration,
    /// Default lifetime of end-entity certificates, in days.
    pub default_validity_days: u32,
    /// The PKCS#11 token (HSM, USB key; SoftHSM2 in tests) that holds CA keys whose
    /// reference is `pkcs11:…`, with the PIN to log in at unseal time.
    pub pkcs11: Option<Pkcs11Config>,
    /// The time-stamping authority's policy, accuracy, clock tolerance and serial leases.
    pub tsa: TsaConfig,
    /// Bounds on what a certificate request may carry (SAN count and length, subject
    /// attributes, identity values).
    pub issuance_limits: yinxin_pki::limits::IssuanceLimits,
    /// CMS operations (verify, sign, encrypt, decrypt) running at once; each may hold a
    /// message of up to [`MAX_CMS_BYTES`] and a copy or two, so this bounds their memory.
    pub max_cms_operations: usize,
}

/// Where PKCS#11-held CA keys live. The module and token are given at every start (not
/// stored), so a moved driver or a replaced device with the same label needs no migration.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// The PKCS#11 module (driver) path.
    pub module: std::path::PathBuf,
    /// The token's label; the first initialised token if `None`.
    pub token_label: Option<String>,
    /// The user PIN.
    pub pin: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("pin", &"<redacted>")
            .finish()
    }
}

impl AuthorityConfig {
    /// Defaults for a server reachable at `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        AuthorityConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            ca_organisation: "yinxin".into(),
            crl_interval: Duration::from_secs(3600),
            crl_validity: Duration::from_secs(24 * 3600),
            ocsp_validity: Duration::from_secs(3600),
            ocsp_cache_refresh: Duration::from_secs(600),
            default_validity_days: 365,
            pkcs11: None,
            tsa: TsaConfig::default(),
            issuance_limits: yinxin_pki::limits::IssuanceLimits::default(),
            max_cms_operations: std::thread::available_parallelism()
                .map_or(2, std::num::NonZeroUsize::get)
                .max(2),
        }
    }

    /// The revocation and issuer URLs written into certificates that CA `ca` issues.
    pub fn urls_for(&self, ca: &str) -> Urls {
        Urls {
            crl: vec![format!("{}/crl/{ca}.crl", self.base_url)],
            ocsp: vec![format!("{}/ocsp", self.base_url)],
            ca_issuers: vec![format!("{}/ca/{ca}.crt", self.base_url)],
        }
    }
}

/// Sealed or unsealed, as the vault is.
enum VaultState {
    Sealed(Option<SealedVault>),
    Unsealed(Arc<Unsealed>),
}

/// Whether the vault is sealed, and how far unsealing got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct VaultStatus {
    /// Whether the vault is sealed.
    pub sealed: bool,
    /// Shares needed.
    pub threshold: u8,
    /// Shares made.
    pub shares: u8,
    /// Shares given so far while sealed.
    pub shares_given: u8,
}

struct Inner {
    store: Store,
    config: AuthorityConfig,
    /// The vault's stored configuration; gains share commitments at the first unseal of a
    /// vault made before they existed.
    vault_config: RwLock<VaultConfig>,
    /// Failed unseal attempts per source address.
    unseal_guard: unseal_guard::UnsealGuard,
    cas: BTreeMap<String, CaInfo>,
    state: RwLock<VaultState>,
    /// One unseal at a time; held across the await that opens the keys.
    unseal_lock: tokio::sync::Mutex<()>,
    ocsp_cache: ocsp::Cache,
    /// CAs whose CRL must be republished (a republish after a status change failed).
    crl_dirty: std::sync::Mutex<std::collections::HashSet<String>>,
    /// This node's clock, as the TSA trusts it.
    clock: ClockMonitor,
    /// This node's leased TSA serial numbers.
    tsa_serials: tsa::SerialPool,
    /// The TSA's signing threads (one per core), off the async workers.
    tsa_pool: tsa::SigningPool,
    /// This node's name in audit records (random per process).
    node: String,
    /// Slots for CMS operations (cms_service.rs).
    cms_slots: tokio::sync::Semaphore,
    /// The platform's own certificates and their statuses (platform.rs).
    platform: RwLock<Arc<platform::PlatformCertificates>>,
}

/// The authority: cheap to clone, shared by every request handler.
#[derive(Clone)]
pub struct Authority {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("base_url", &self.inner.config.base_url)
            .field("status", &self.vault_status())
            .finish()
    }
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    ms(SystemTime::now())
}

/// Milliseconds since the epoch of `t`.
pub(crate) fn ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `SystemTime` of milliseconds since the epoch.
pub(crate) fn time_of(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// How the audit log names a certificate: `ca/serialhex`.
pub(crate) fn target(ca: &str, serial: &[u8]) -> String {
    format!("{ca}/{}", hex::encode(serial))
}

/// A fresh serial: 16 random bytes (126 random bits), positive and always 16 bytes long.
pub(crate) fn random_serial() -> Result<Vec<u8>> {
    let mut serial = yinxin_crypto::random::bytes(16).map_err(AuthorityError::internal)?;
    serial[0] = (serial[0] & 0x3f) | 0x40;
    Ok(serial)
}

impl Authority {
    /// Whether `store` has finished a first start.
    pub async fn is_initialised(store: &Store) -> Result<bool> {
        match store.vault_blob(VAULT_CONFIG_BLOB).await {
            Ok(_) => Ok(true),
            Err(yinxin_store::StoreError::NotFound { .. }) => {
                if store.cas().await?.is_empty() {
                    Ok(false)
                } else {
                    Err(AuthorityError::Internal(
                        "an earlier first start did not finish (CAs exist but no vault \
                         configuration); start again with an empty data directory or database"
                            .into(),
                    ))
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// First start on an empty store: creates the vault, the CAs, the OCSP signers and the
    /// first administrator's token, and returns the authority unsealed with what must be
    /// handed out once.
    pub async fn initialise(
        store: Store,
        config: AuthorityConfig,
        options: InitOptions,
    ) -> Result<(Authority, Initialised)> {
        Authority::initialise_with(store, config, options, |_| Ok(())).await
    }

    /// [`Authority::initialise`], calling `persist` with the shares and the admin token
    /// before the first start is marked finished: if `persist` (writing them to files, handing
    /// them out) fails or the process dies first, the store is not taken for initialised and
    /// the next start says so instead of opening a vault whose shares were never kept.
    pub async fn initialise_with(
        store: Store,
        config: AuthorityConfig,
        options: InitOptions,
        persist: impl FnOnce(&Initialised) -> std::result::Result<(), String>,
    ) -> Result<(Authority, Initialised)> {
        let (init, vault_config) = setup::initialise(&store, &config, &options).await?;
        persist(&init).map_err(|e| {
            AuthorityError::Internal(format!(
                "keeping the first start's shares and token: {e}; start again with an empty \
                 data directory or database"
            ))
        })?;
        setup::finish(&store, &vault_config, &options).await?;
        let authority = Authority::open(store, config).await?;
        let mut progress = None;
        let threshold = usize::from(options.threshold);
        for share in &init.shares[..threshold] {
            progress = Some(
                authority
                    .unseal_share(share.clone(), &Actor::system())
                    .await?,
            );
        }
        if progress.is_none_or(|p| p.sealed) {
            return Err(AuthorityError::internal("first start did not unseal"));
        }
        if options.shares > 1 {
            // A vault split among N administrators: the ceremony that registers them opens
            // with it (K approvals, as K shares unseal).
            authority
                .open_formation(&Actor::system(), options.shares, options.threshold)
                .await?;
        }
        Ok((authority, init))
    }

    /// Open an initialised store, sealed.
    pub async fn open(store: Store, config: AuthorityConfig) -> Result<Authority> {
        let blob = store
            .vault_blob(VAULT_CONFIG_BLOB)
            .await
            .map_err(|e| match e {
                yinxin_store::StoreError::NotFound { .. } => {
                    AuthorityError::Internal("the store is not initialised".into())
                }
                e => e.into(),
            })?;
        let vault_config: VaultConfig = serde_json::from_slice(&blob)
            .map_err(|e| AuthorityError::internal(format!("vault configuration: {e}")))?;
        let records = store.cas().await?;
        let mut cas = BTreeMap::new();
        for record in &records {
            cas.insert(record.name.clone(), CaInfo::from_record(record, &records)?);
        }
        let platform = platform::PlatformCertificates::load(&store, &cas).await?;
        Ok(Authority {
            inner: Arc::new(Inner {
                state: RwLock::new(VaultState::Sealed(Some(SealedVault::new(
                    vault_config.clone(),
                )))),
                vault_config: RwLock::new(vault_config),
                unseal_guard: unseal_guard::UnsealGuard::default(),
                cms_slots: tokio::sync::Semaphore::new(config.max_cms_operations.max(1)),
                platform: RwLock::new(Arc::new(platform)),
                cas,
                unseal_lock: tokio::sync::Mutex::new(()),
                crl_dirty: std::sync::Mutex::default(),
                ocsp_cache: ocsp::Cache::default(),
                clock: ClockMonitor::new(config.tsa.clock_tolerance),
                tsa_serials: tsa::SerialPool::new(config.tsa.serial_block),
                tsa_pool: tsa::SigningPool::new(
                    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
                ),
                node: format!(
                    "node-{}",
                    hex::encode(yinxin_crypto::random::bytes(4).map_err(AuthorityError::internal)?)
                ),
                store,
                config,
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &AuthorityConfig {
        &self.inner.config
    }

    /// This node's name in audit records: `node-` and 8 random hex digits, new per process.
    pub fn node_name(&self) -> &str {
        &self.inner.node
    }

    /// The store (for the server's health check).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn vault_config(&self) -> VaultConfig {
        self.inner
            .vault_config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The vault's state.
    pub fn vault_status(&self) -> VaultStatus {
        let c = &self.vault_config();
        let (sealed, given) = match &*self.read_state() {
            VaultState::Sealed(v) => (true, v.as_ref().map_or(0, SealedVault::shares_given)),
            VaultState::Unsealed(_) => (false, 0),
        };
        VaultStatus {
            sealed,
            threshold: c.threshold,
            shares: c.shares,
            shares_given: given,
        }
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, VaultState> {
        // A panic while holding the lock cannot leave VaultState half-changed (every write
        // replaces it whole), so a poisoned lock is still consistent.
        self.inner
            .state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_state(&self) -> std::sync::RwLockWriteGuard<'_, VaultState> {
        self.inner
            .state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The unsealed keys, or [`AuthorityError::Sealed`].
    pub(crate) fn unsealed(&self) -> Result<Arc<Unsealed>> {
        match &*self.read_state() {
            VaultState::Unsealed(u) => Ok(u.clone()),
            VaultState::Sealed(_) => {
                let s = self.vault_status();
                Err(AuthorityError::Sealed {
                    given: s.shares_given,
                    threshold: s.threshold,
                })
            }
        }
    }

    /// Give one unseal share (its text form) from this process (the trial share at start).
    pub async fn unseal(&self, share_text: &str) -> Result<VaultStatus> {
        self.unseal_from(share_text, None).await
    }

    /// Give one unseal share (its text form) sent from `source`. Anyone holding a share may
    /// do this: the share is the credential. Each share is checked on its own against the
    /// vault's commitments: a forged, foreign, out-of-range or oversized one is refused and
    /// changes nothing (the shares given so far stay). Failures are limited per source
    /// address ([`MAX_UNSEAL_FAILURES_PER_MINUTE`] a minute, then `too-many-attempts`) and
    /// audited as at most one `unseal_refused` record per address and minute.
    pub async fn unseal_from(
        &self,
        share_text: &str,
        source: Option<std::net::IpAddr>,
    ) -> Result<VaultStatus> {
        let now = std::time::Instant::now();
        if let Some(addr) = source
            && let Err(retry_after) = self.inner.unseal_guard.admit(addr, now)
        {
            return Err(AuthorityError::TooManyAttempts {
                retry_after_secs: retry_after,
            });
        }
        let result = match Share::from_text(share_text.trim()) {
            Ok(share) => self.unseal_share(share, &Actor::share_holder()).await,
            Err(e) => Err(AuthorityError::bad(
                "bad-share",
                format!("not an unseal share: {e}"),
            )),
        };
        if let (
            Err(AuthorityError::BadRequest {
                code: "bad-share", ..
            }),
            Some(addr),
        ) = (&result, source)
            && let Some(count) = self.inner.unseal_guard.failed(addr, now)
        {
            self.audit_unseal_refused(addr, count).await;
        }
        result
    }

    async fn audit_unseal_refused(&self, addr: std::net::IpAddr, count: u32) {
        let event = AuditEvent::new(
            "anonymous",
            AuditAction::Other("unseal_refused".into()),
            "vault",
        )
        .with("address", addr.to_string())
        .with("count", count.to_string())
        .with("node", self.node_name())
        .failed();
        if let Err(e) = self.inner.store.append_audit(event, now_ms()).await {
            tracing::warn!("auditing refused unseal shares: {e}");
        }
    }

    /// Write the refused-unseal counts that are due (the background task, every second).
    pub(crate) async fn flush_unseal_refusals(&self) {
        for (addr, count) in self.inner.unseal_guard.due(std::time::Instant::now()) {
            self.audit_unseal_refused(addr, count).await;
        }
    }

    async fn unseal_share(&self, share: Share, actor: &Actor) -> Result<VaultStatus> {
        let _one_at_a_time = self.inner.unseal_lock.lock().await;
        let config = self.vault_config();
        let sealed = {
            let mut state = self.write_state();
            match &mut *state {
                VaultState::Unsealed(_) => {
                    drop(state);
                    // Nothing to do, but a share that is not this vault's is still refused.
                    if SealedVault::share_belongs(&config, &share) == Some(false) {
                        return Err(AuthorityError::bad(
                            "bad-share",
                            yinxin_vault::VaultError::ForeignShare.to_string(),
                        ));
                    }
                    return Ok(self_status_unsealed(&config));
                }
                VaultState::Sealed(v) => v.take(),
            }
        };
        // `None` here means an earlier unseal was abandoned mid-way (its request dropped while
        // opening the keys): start over rather than stay wedged.
        let sealed = sealed.unwrap_or_else(|| SealedVault::new(config.clone()));
        // A share that cannot belong (foreign, forged, out of range, another threshold, an
        // index already given) is refused without discarding the shares collected so far.
        if let Err(e) = sealed.check_share(&share) {
            *self.write_state() = VaultState::Sealed(Some(sealed));
            return Err(AuthorityError::bad("bad-share", e.to_string()));
        }
        let progress = sealed.add_share(share);
        let vault = match progress {
            Ok(UnsealProgress::NeedMore { vault, .. }) => {
                *self.write_state() = VaultState::Sealed(Some(vault));
                return Ok(self.vault_status());
            }
            Ok(UnsealProgress::Unsealed(vault)) => vault,
            Err(e) => {
                // Only a vault without commitments gets here: its shares are checked together.
                *self.write_state() = VaultState::Sealed(Some(SealedVault::new(config)));
                return Err(AuthorityError::bad(
                    "bad-share",
                    format!("{e}; the shares given so far were discarded, start again"),
                ));
            }
        };
        if *vault.config() != config {
            // A vault from before share commitments gets them now.
            let json = serde_json::to_vec(vault.config()).map_err(AuthorityError::internal)?;
            self.inner
                .store
                .put_vault_blob(VAULT_CONFIG_BLOB, &json)
                .await?;
            self.inner
                .store
                .append_audit(
                    AuditEvent::new(
                        actor.audit_name(),
                        AuditAction::Other("vault_share_commitments_added".into()),
                        "vault",
                    ),
                    now_ms(),
                )
                .await?;
            *self
                .inner
                .vault_config
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = vault.config().clone();
        }
        let config = vault.config().clone();
        let unsealed = match keys::unseal_keys(
            &self.inner.store,
            &self.inner.config,
            vault,
            &self.inner.cas,
        )
        .await
        {
            Ok((u, platform)) => {
                *self
                    .inner
                    .platform
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(platform);
                u
            }
            Err(e) => {
                *self.write_state() = VaultState::Sealed(Some(SealedVault::new(config)));
                return Err(e);
            }
        };
        *self.write_state() = VaultState::Unsealed(Arc::new(unsealed));
        self.inner
            .store
            .append_audit(
                AuditEvent::new(actor.audit_name(), AuditAction::VaultUnsealed, "vault"),
                now_ms(),
            )
            .await?;
        Ok(self.vault_status())
    }

    /// Authenticate an API token (`yx1.<id>.<secret>`).
    pub async fn authenticate(&self, token: &str) -> Result<Actor> {
        let (id, secret) =
            access::parse_token(token).ok_or(AuthorityError::Unauthenticated("malformed token"))?;
        let record = match self.inner.store.api_token(id).await {
            Ok(r) => r,
            Err(yinxin_store::StoreError::NotFound { .. }) => {
                return Err(AuthorityError::Unauthenticated("unknown token"));
            }
            Err(e) => return Err(e.into()),
        };
        if !access::secret_matches(&record, secret) {
            return Err(AuthorityError::Unauthenticated("unknown token"));
        }
        Ok(Actor {
            role: record.role.parse()?,
            name: record.name,
            token_id: record.id,
            member: record.member,
        })
    }

    /// Create an API token for `role` (administrators only). The text is shown once.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
    ) -> Result<zeroize::Zeroizing<String>> {
        actor.require(access::Permission::Administer)?;
        // An administrator's token belongs to the person who mints it: minting one for anyone
        // else is adding an administrator, which the formed list does by approval.
        let member = if role == Role::Admin {
            actor.member.clone()
        } else {
            None
        };
        let token = access::new_token_for(name, role, &actor.audit_name(), member, now_ms())?;
        self.inner
            .store
            .create_api_token_with_audit(
                &token.record,
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other("token_created".into()),
                    &token.record.id,
                )
                .with("role", role.as_str())
                .with("name", name),
                now_ms(),
            )
            .await?;
        Ok(token.text)
    }

    /// Disable API token `id` for good (administrators; not one's own, so nobody locks
    /// themselves out by mistake, and not another registered administrator's: removing a
    /// member takes approvals).
    pub async fn disable_token(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(access::Permission::Administer)?;
        if id == actor.token_id {
            return Err(AuthorityError::bad(
                "own-token",
                "a token cannot disable itself; ask another administrator",
            ));
        }
        // Another administrator's token is theirs: shutting a member out is removing them,
        // which takes approvals (governance.rs).
        if let Ok(target) = self.inner.store.api_token(id).await
            && target.member.is_some()
            && target.member != actor.member
        {
            return Err(AuthorityError::NeedsApproval(
                "disabling another administrator's token (remove them by approval)",
            ));
        }
        self.inner
            .store
            .disable_api_token_with_audit(
                id,
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other("token_disabled".into()),
                    id,
                ),
                now_ms(),
            )
            .await?;
        Ok(())
    }

    /// Every CA, roots first.
    pub fn cas(&self) -> Vec<CaInfo> {
        let mut all: Vec<CaInfo> = self.inner.cas.values().cloned().collect();
        all.sort_by_key(|c| (!c.is_root(), c.name.clone()));
        all
    }

    /// The CA `name`.
    pub fn ca(&self, name: &str) -> Result<&CaInfo> {
        self.inner
            .cas
            .get(name)
            .ok_or_else(|| AuthorityError::NotFound(format!("CA {name:?}")))
    }

    /// The CA certificates from `name` up to its root, DER.
    pub fn chain_of(&self, name: &str) -> Result<Vec<Vec<u8>>> {
        let mut chain = Vec::new();
        let mut current = Some(name.to_string());
        while let Some(n) = current {
            let ca = self.ca(&n)?;
            chain.push(ca.der.clone());
            current = ca.parent.clone();
            if chain.len() > 8 {
                return Err(AuthorityError::internal("CA hierarchy loops"));
            }
        }
        Ok(chain)
    }

    /// Start the background work of a node: CRL regeneration when due, following other
    /// nodes' revocations (through the audit log) to drop stale OCSP responses, and watching
    /// the clock for the TSA every second.
    pub fn spawn_background(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move { me.background().await })
    }

    async fn background(self) {
        let mut seen = self.inner.store.audit_head().await.unwrap_or(0);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut crl_check = 0u32;
        loop {
            tick.tick().await;
            self.watch_clock();
            self.flush_unseal_refusals().await;
            match self.follow_changes(seen).await {
                Ok(next) => seen = next,
                Err(e) => tracing::warn!("following the audit log: {e}"),
            }
            crl_check += 1;
            let dirty = !self
                .inner
                .crl_dirty
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_empty();
            if crl_check >= 30 || dirty {
                crl_check = 0;
                if let Err(e) = self.publish_due_crls().await {
                    tracing::warn!("regenerating CRLs: {e}");
                }
            }
        }
    }
}

fn self_status_unsealed(c: &VaultConfig) -> VaultStatus {
    VaultStatus {
        sealed: false,
        threshold: c.threshold,
        shares: c.shares,
        shares_given: 0,
    }
}
