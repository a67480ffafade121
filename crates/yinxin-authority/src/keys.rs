//! The CAs as the authority holds them: public parts (always) and, once the vault is
//! unsealed, signing handles and OCSP responders.

use std::collections::BTreeMap;
use std::sync::Arc;

use x509_cert::Certificate;
use yinxin_crypto::{Decrypter, KeyAlgorithm, PublicKey, SignatureScheme, Signer};
use yinxin_pki::ocsp::Responder;
use yinxin_store::{CaRecord, ServiceKeyRecord, Store};
use yinxin_vault::{UnsealedVault, WrappedKey};

use crate::AuthorityConfig;
use crate::error::{AuthorityError, Result};
use crate::setup::{ServiceName, ServicePurpose};

/// Vault blob holding the [`yinxin_vault::VaultConfig`].
pub(crate) const VAULT_CONFIG_BLOB: &str = "config";

/// Prefix of `key_ref`s that name a key in the vault.
pub(crate) const VAULT_REF: &str = "vault:";

/// Vault blob name of a wrapped key.
pub(crate) fn key_blob(label: &str) -> String {
    format!("key/{label}")
}

/// What anyone may know about a CA, sealed or not.
#[derive(Debug, Clone)]
pub struct CaInfo {
    /// Its name, e.g. `sm2-issuing`.
    pub name: String,
    /// Its certificate.
    pub certificate: Certificate,
    /// Its certificate, DER.
    pub der: Vec<u8>,
    /// Its key algorithm.
    pub algorithm: KeyAlgorithm,
    /// The CA that issued its certificate; `None` for a root.
    pub parent: Option<String>,
}

impl CaInfo {
    /// Whether this is a self-signed root.
    pub fn is_root(&self) -> bool {
        self.parent.is_none()
    }

    pub(crate) fn from_record(record: &CaRecord, all: &[CaRecord]) -> Result<CaInfo> {
        let certificate = yinxin_pki::certificate::from_pem_or_der(&record.certificate_der)
            .map_err(|e| AuthorityError::internal(format!("CA {}: {e}", record.name)))?;
        let algorithm = yinxin_pki::certificate::public_key(&certificate)
            .map_err(AuthorityError::internal)?
            .algorithm();
        let tbs = certificate.tbs_certificate();
        let parent = if tbs.issuer() == tbs.subject() {
            None
        } else {
            all.iter()
                .find(|other| {
                    other.name != record.name
                        && yinxin_pki::certificate::from_pem_or_der(&other.certificate_der)
                            .map(|c| c.tbs_certificate().subject() == tbs.issuer())
                            .unwrap_or(false)
                })
                .map(|other| other.name.clone())
        };
        Ok(CaInfo {
            name: record.name.clone(),
            der: record.certificate_der.clone(),
            certificate,
            algorithm,
            parent,
        })
    }
}

/// A CA with its key in reach.
pub(crate) struct CaKeys {
    pub(crate) info: CaInfo,
    pub(crate) signer: Arc<dyn Signer>,
    pub(crate) scheme: SignatureScheme,
    /// Set when the CA's own certificate is revoked or on hold: it then issues nothing.
    pub(crate) withdrawn: Option<yinxin_store::CertificateStatus>,
}

impl CaKeys {
    /// What issuing under this CA takes: its certificate, signer and scheme.
    pub(crate) fn issuing(&self) -> (&Certificate, &dyn Signer, &SignatureScheme) {
        (&self.info.certificate, self.signer.as_ref(), &self.scheme)
    }
}

/// Everything that exists only while the vault is unsealed.
pub(crate) struct Unsealed {
    pub(crate) vault: Arc<UnsealedVault>,
    pub(crate) cas: BTreeMap<String, Arc<CaKeys>>,
    /// One responder per CA that may answer: delegated for issuing CAs, the CA itself for
    /// roots and for an issuing CA whose delegated signer's certificate is revoked or held. A
    /// CA whose own certificate is withdrawn has none (its requests get `unauthorized`). The
    /// `String` is the CA the responder answers for.
    pub(crate) responders: Vec<(String, Responder)>,
    /// The service identities (TSA, envelope, signing keys) whose certificates are valid.
    pub(crate) services: BTreeMap<ServiceName, Arc<ServiceKeys>>,
    /// The timestamp signers, one per TSA key.
    pub(crate) tsa: crate::tsa::Signers,
}

/// A service identity's key handle.
#[derive(Clone)]
pub(crate) enum ServiceHandle {
    /// A key that signs (TSA, signing identities).
    Signer(Arc<dyn Signer>),
    /// A key that decrypts (envelope identities).
    Decrypter(Arc<dyn Decrypter>),
}

/// A service identity with its key in reach.
pub(crate) struct ServiceKeys {
    pub(crate) handle: ServiceHandle,
    pub(crate) certificate: Certificate,
    /// Its CA's certificate and those above, issuing CA first, root last.
    pub(crate) chain: Vec<Certificate>,
}

/// A signing handle on one of the platform's own signing keys, with its certificate: what
/// CMS signing on behalf of the platform needs ([`crate::Authority::service_signer`]).
#[derive(Clone)]
pub struct ServiceSigner {
    /// The key, in the vault; signs through the handle, never exported.
    pub signer: Arc<dyn Signer>,
    /// The scheme to sign with: SM2 with SM3 and the default ID, RSA PKCS#1 v1.5 with
    /// SHA-256.
    pub scheme: SignatureScheme,
    /// The key's certificate (profile organisation, signing role: digitalSignature and
    /// nonRepudiation).
    pub certificate: Certificate,
    /// The CA certificates above it, issuing CA first, root last.
    pub chain: Vec<Certificate>,
}

impl std::fmt::Debug for ServiceSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSigner")
            .field(
                "subject",
                &self.certificate.tbs_certificate().subject().to_string(),
            )
            .field("signer", &"<vault key>")
            .finish()
    }
}

/// A decryption handle on one of the server's envelope keys, with its certificate: what
/// opening envelopes sent to the platform needs ([`crate::Authority::service_decrypter`]).
#[derive(Clone)]
pub struct ServiceDecrypter {
    /// The key, in the vault; decrypts through the handle, never exported.
    pub decrypter: Arc<dyn Decrypter>,
    /// The key's certificate (profile organisation, encryption role: keyEncipherment and
    /// dataEncipherment), which senders encrypt to.
    pub certificate: Certificate,
    /// The CA certificates above it, issuing CA first, root last.
    pub chain: Vec<Certificate>,
}

impl std::fmt::Debug for ServiceDecrypter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceDecrypter")
            .field(
                "subject",
                &self.certificate.tbs_certificate().subject().to_string(),
            )
            .field("decrypter", &"<vault key>")
            .finish()
    }
}

impl Unsealed {
    pub(crate) fn ca(&self, name: &str) -> Result<&Arc<CaKeys>> {
        self.cas
            .get(name)
            .ok_or_else(|| AuthorityError::NotFound(format!("CA {name:?}")))
    }
}

/// The signature scheme a CA signs with: the key's default (SM2 with the standard ID,
/// RSA PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256/384).
pub(crate) fn scheme_for(key: &PublicKey) -> SignatureScheme {
    key.algorithm().default_signature_scheme()
}

/// Prefix of `key_ref`s that name a key on the configured PKCS#11 token, followed by the
/// container name.
pub const PKCS11_REF: &str = "pkcs11:container=";

/// Open the configured PKCS#11 token, logged in.
pub(crate) fn pkcs11_token(config: &AuthorityConfig) -> Result<yinxin_token::Pkcs11Token> {
    use yinxin_token::Token as _;
    let p = config.pkcs11.as_ref().ok_or_else(|| {
        AuthorityError::internal(
            "a CA key is on a PKCS#11 token but no PKCS#11 module is configured \
             (yinxin serve --pkcs11-module … --pkcs11-pin-file …)",
        )
    })?;
    let mut token = yinxin_token::Pkcs11Token::open(&p.module, p.token_label.as_deref())
        .map_err(|e| AuthorityError::internal(format!("PKCS#11 token: {e}")))?;
    token
        .login(&p.pin)
        .map_err(|e| AuthorityError::internal(format!("PKCS#11 login: {e}")))?;
    Ok(token)
}

/// Load a signing handle for `key_ref`: a vault key or a key on the PKCS#11 token.
pub(crate) async fn signer_for(
    store: &Store,
    config: &AuthorityConfig,
    vault: &UnsealedVault,
    key_ref: &str,
) -> Result<Arc<dyn Signer>> {
    if let Some(container) = key_ref.strip_prefix(PKCS11_REF) {
        use yinxin_token::Token as _;
        return pkcs11_token(config)?
            .signer(container, yinxin_token::KeyUsage::Signing)
            .map_err(|e| AuthorityError::internal(format!("PKCS#11 key {container}: {e}")));
    }
    Ok(vault.signer(&wrapped_key(store, key_ref).await?)?)
}

/// The wrapped vault key `key_ref` names (`vault:LABEL`).
async fn wrapped_key(store: &Store, key_ref: &str) -> Result<WrappedKey> {
    let label = key_ref
        .strip_prefix(VAULT_REF)
        .ok_or_else(|| AuthorityError::internal(format!("unknown key reference {key_ref:?}")))?;
    let blob = store.vault_blob(&key_blob(label)).await?;
    serde_json::from_slice(&blob)
        .map_err(|e| AuthorityError::internal(format!("wrapped key {label}: {e}")))
}

/// The CA certificates from `ca` up to its root.
fn chain_from(cas: &BTreeMap<String, Arc<CaKeys>>, ca: &str) -> Result<Vec<Certificate>> {
    let mut chain = Vec::new();
    let mut current = Some(ca.to_string());
    while let Some(name) = current {
        let keys = cas
            .get(&name)
            .ok_or_else(|| AuthorityError::internal(format!("CA {name:?} is not loaded")))?;
        chain.push(keys.info.certificate.clone());
        current = keys.info.parent.clone();
        if chain.len() > 8 {
            return Err(AuthorityError::internal("CA hierarchy loops"));
        }
    }
    Ok(chain)
}

/// Load every service identity (after creating those missing) and the TSA signers.
async fn load_services(
    store: &Store,
    config: &AuthorityConfig,
    vault: &UnsealedVault,
    cas: &BTreeMap<String, Arc<CaKeys>>,
    records: &[ServiceKeyRecord],
    platform: &crate::platform::PlatformCertificates,
) -> Result<(BTreeMap<ServiceName, Arc<ServiceKeys>>, crate::tsa::Signers)> {
    let mut services = BTreeMap::new();
    for service in ServiceName::ALL {
        let Some(record) = records.iter().find(|r| r.name == service.name()) else {
            continue;
        };
        let certificate = yinxin_pki::certificate::from_pem_or_der(&record.certificate_der)
            .map_err(AuthorityError::internal)?;
        if platform.withdrawn(&record.ca, &certificate).is_some() {
            // Revoked or held: it counts as missing until replaced.
            continue;
        }
        if cas.get(&record.ca).is_some_and(|ca| ca.withdrawn.is_some()) {
            continue;
        }
        let public =
            yinxin_pki::certificate::public_key(&certificate).map_err(AuthorityError::internal)?;
        let wrapped = wrapped_key(store, &record.key_ref).await?;
        if wrapped.public_key()?.to_der() != public.to_der() {
            return Err(AuthorityError::internal(format!(
                "the key of service {} does not match its certificate",
                record.name
            )));
        }
        let handle = match service.purpose() {
            ServicePurpose::Envelope => ServiceHandle::Decrypter(vault.decrypter(&wrapped)?),
            ServicePurpose::Tsa | ServicePurpose::Signing => {
                ServiceHandle::Signer(vault.signer(&wrapped)?)
            }
        };
        services.insert(
            service,
            Arc::new(ServiceKeys {
                handle,
                chain: chain_from(cas, &record.ca)?,
                certificate,
            }),
        );
    }
    let mut tsa = BTreeMap::new();
    for key in crate::tsa::TsaKey::ALL {
        let Some(keys) = services.get(&key.identity()) else {
            continue;
        };
        let ServiceHandle::Signer(signer) = &keys.handle else {
            continue;
        };
        // The chain in tokens stops below the root: relying parties hold the root.
        let chain: Vec<Certificate> = keys
            .chain
            .iter()
            .filter(|c| c.tbs_certificate().issuer() != c.tbs_certificate().subject())
            .cloned()
            .collect();
        let signer = yinxin_cms::timestamp::TimestampSigner::new(
            signer.clone(),
            scheme_for(signer.public_key()),
            keys.certificate.clone(),
            chain,
            config.tsa.tsa_policy(),
        )
        .map_err(|e| AuthorityError::internal(format!("TSA key {key}: {e}")))?;
        tsa.insert(key, Arc::new(signer));
    }
    Ok((services, tsa))
}

/// Open every CA key, create or replace the service identities that are missing or
/// withdrawn, and build the responders and signers from what is then valid.
pub(crate) async fn unseal_keys(
    store: &Store,
    config: &AuthorityConfig,
    vault: UnsealedVault,
    infos: &BTreeMap<String, CaInfo>,
) -> Result<(Unsealed, crate::platform::PlatformCertificates)> {
    let records = store.cas().await?;
    let mut cas = BTreeMap::new();
    for record in &records {
        let Some(info) = infos.get(&record.name) else {
            continue;
        };
        let signer = signer_for(store, config, &vault, &record.key_ref).await?;
        let public = yinxin_pki::certificate::public_key(&info.certificate)
            .map_err(AuthorityError::internal)?;
        if public.to_der() != signer.public_key().to_der() {
            return Err(AuthorityError::internal(format!(
                "the key of CA {} does not match its certificate",
                record.name
            )));
        }
        cas.insert(
            record.name.clone(),
            Arc::new(CaKeys {
                info: info.clone(),
                scheme: scheme_for(&public),
                signer,
                withdrawn: None,
            }),
        );
    }
    let platform = crate::platform::PlatformCertificates::load(store, infos).await?;
    // A withdrawn CA certifies no new identity.
    let usable: BTreeMap<String, Arc<CaKeys>> = cas
        .iter()
        .filter(|(_, ca)| platform.ca_withdrawn(&ca.info).is_none())
        .map(|(n, ca)| (n.clone(), ca.clone()))
        .collect();
    crate::setup::ensure_service_identities(store, config, &vault, &usable).await?;
    // Read again: identities were made, replaced, or another node stored its own first.
    let platform = crate::platform::PlatformCertificates::load(store, infos).await?;
    let unsealed = assemble(store, config, Arc::new(vault), &cas, &platform).await?;
    Ok((unsealed, platform))
}

/// Build the unsealed snapshot from opened CA keys and the platform certificates' statuses:
/// withdrawn CAs are marked, withdrawn OCSP signers give way to their CA, withdrawn service
/// identities are left out. Called at unseal and again whenever a platform certificate's
/// status changes, so every signing path sees only what is valid.
pub(crate) async fn assemble(
    store: &Store,
    config: &AuthorityConfig,
    vault: Arc<UnsealedVault>,
    opened: &BTreeMap<String, Arc<CaKeys>>,
    platform: &crate::platform::PlatformCertificates,
) -> Result<Unsealed> {
    let cas: BTreeMap<String, Arc<CaKeys>> = opened
        .iter()
        .map(|(name, ca)| {
            (
                name.clone(),
                Arc::new(CaKeys {
                    info: ca.info.clone(),
                    signer: ca.signer.clone(),
                    scheme: ca.scheme.clone(),
                    withdrawn: platform.ca_withdrawn(&ca.info),
                }),
            )
        })
        .collect();
    let services: Vec<ServiceKeyRecord> = store.service_keys().await?;
    let mut responders = Vec::new();
    for (name, ca) in &cas {
        if ca.withdrawn.is_some() {
            continue;
        }
        let mut delegated = None;
        if let Some(s) = services
            .iter()
            .find(|s| s.ca == *name && s.purpose == "ocsp")
        {
            let cert = yinxin_pki::certificate::from_pem_or_der(&s.certificate_der)
                .map_err(AuthorityError::internal)?;
            if platform.withdrawn(name, &cert).is_none() {
                delegated = Some((cert, signer_for(store, config, &vault, &s.key_ref).await?));
            }
        }
        let responder = match delegated {
            Some((cert, signer)) => {
                let scheme = scheme_for(signer.public_key());
                Responder::new(vec![ca.info.certificate.clone()], cert, signer, scheme)
            }
            None => Responder::new(
                vec![ca.info.certificate.clone()],
                ca.info.certificate.clone(),
                ca.signer.clone(),
                ca.scheme.clone(),
            ),
        }
        .map_err(|e| AuthorityError::internal(format!("OCSP responder of {name}: {e}")))?;
        responders.push((name.clone(), responder));
    }
    let (services, tsa) = load_services(store, config, &vault, &cas, &services, platform).await?;
    Ok(Unsealed {
        vault,
        cas,
        responders,
        services,
        tsa,
    })
}

/// The algorithm of one of the server's own signing or envelope keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceAlgorithm {
    /// SM2 (certified by `sm2-issuing`).
    Sm2,
    /// RSA-2048 (certified by `rsa-issuing`).
    Rsa,
}

impl crate::Authority {
    fn service(&self, name: ServiceName) -> Result<Arc<ServiceKeys>> {
        self.unsealed()?
            .services
            .get(&name)
            .cloned()
            .ok_or_else(|| {
                AuthorityError::NotFound(format!(
                    "service key {} (missing, or its certificate is revoked or on hold: an \
                     administrator runs `yinxin admin replace-service {}`)",
                    name.name(),
                    name.name()
                ))
            })
    }

    /// The server's signing identity for `algorithm`: a vault key that never leaves the
    /// vault, its certificate (organisation profile, signing role) and chain. For the
    /// authority's own operations (CMS signatures on behalf of the platform, receipts): this
    /// call checks no role, so an operation that uses it checks its caller first; handlers do
    /// not call it. `Sealed` while the vault is sealed.
    pub fn service_signer(&self, algorithm: ServiceAlgorithm) -> Result<ServiceSigner> {
        let name = match algorithm {
            ServiceAlgorithm::Sm2 => ServiceName::SigningSm2,
            ServiceAlgorithm::Rsa => ServiceName::SigningRsa,
        };
        let keys = self.service(name)?;
        let ServiceHandle::Signer(signer) = &keys.handle else {
            return Err(AuthorityError::internal("the signing identity cannot sign"));
        };
        Ok(ServiceSigner {
            scheme: scheme_for(signer.public_key()),
            signer: signer.clone(),
            certificate: keys.certificate.clone(),
            chain: keys.chain.clone(),
        })
    }

    /// The server's envelope identity for `algorithm`: the vault key that opens digital
    /// envelopes sent to the server's encryption certificate (organisation profile,
    /// encryption role), with that certificate and its chain. As with
    /// [`Authority::service_signer`], the calling operation checks roles. `Sealed` while the
    /// vault is sealed.
    pub fn service_decrypter(&self, algorithm: ServiceAlgorithm) -> Result<ServiceDecrypter> {
        let name = match algorithm {
            ServiceAlgorithm::Sm2 => ServiceName::EnvelopeSm2,
            ServiceAlgorithm::Rsa => ServiceName::EnvelopeRsa,
        };
        let keys = self.service(name)?;
        let ServiceHandle::Decrypter(decrypter) = &keys.handle else {
            return Err(AuthorityError::internal(
                "the envelope identity cannot decrypt",
            ));
        };
        Ok(ServiceDecrypter {
            decrypter: decrypter.clone(),
            certificate: keys.certificate.clone(),
            chain: keys.chain.clone(),
        })
    }
}
