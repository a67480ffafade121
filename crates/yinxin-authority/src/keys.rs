//! The CAs as the authority holds them: public parts (always) and, once the vault is
//! unsealed, signing handles and OCSP responders.

use std::collections::BTreeMap;
use std::sync::Arc;

use x509_cert::Certificate;
use yinxin_crypto::{KeyAlgorithm, PublicKey, SignatureScheme, Signer};
use yinxin_pki::ocsp::Responder;
use yinxin_store::{CaRecord, ServiceKeyRecord, Store};
use yinxin_vault::{UnsealedVault, WrappedKey};

use crate::AuthorityConfig;
use crate::error::{AuthorityError, Result};

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
}

/// Everything that exists only while the vault is unsealed.
pub(crate) struct Unsealed {
    pub(crate) vault: UnsealedVault,
    pub(crate) cas: BTreeMap<String, Arc<CaKeys>>,
    /// One responder per CA: delegated for issuing CAs, the CA itself for roots. The
    /// `String` is the CA the responder answers for.
    pub(crate) responders: Vec<(String, Responder)>,
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
    let label = key_ref
        .strip_prefix(VAULT_REF)
        .ok_or_else(|| AuthorityError::internal(format!("unknown key reference {key_ref:?}")))?;
    let blob = store.vault_blob(&key_blob(label)).await?;
    let wrapped: WrappedKey = serde_json::from_slice(&blob)
        .map_err(|e| AuthorityError::internal(format!("wrapped key {label}: {e}")))?;
    Ok(vault.signer(&wrapped)?)
}

/// Open every CA key and build the responders.
pub(crate) async fn unseal_keys(
    store: &Store,
    config: &AuthorityConfig,
    vault: UnsealedVault,
    infos: &BTreeMap<String, CaInfo>,
) -> Result<Unsealed> {
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
            }),
        );
    }
    let services: Vec<ServiceKeyRecord> = store.service_keys().await?;
    let mut responders = Vec::new();
    for (name, ca) in &cas {
        let delegated = services
            .iter()
            .find(|s| s.ca == *name && s.purpose == "ocsp");
        let responder = match delegated {
            Some(s) => {
                let cert = yinxin_pki::certificate::from_pem_or_der(&s.certificate_der)
                    .map_err(AuthorityError::internal)?;
                let signer = signer_for(store, config, &vault, &s.key_ref).await?;
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
    Ok(Unsealed {
        vault,
        cas,
        responders,
    })
}
