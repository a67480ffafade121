//! Keys held in this process's memory, behind the same trait as real tokens.

use std::collections::BTreeMap;
use std::sync::Arc;

use yinxin_cms::key_delivery;
use yinxin_crypto::{Decrypter, KeyHandle, KeySpec, PrivateKey, PublicKey, Signer};

use crate::{
    ContainerInfo, DeliveryFormat, KeyInfo, KeyUsage, PinKind, Result, Token, TokenError,
    TokenInfo, TokenKind, certificate_public_key, check_container_name,
};

/// A key and the certificate imported for it.
type Slot = (Arc<PrivateKey>, Option<Vec<u8>>);

/// A token whose keys live only as long as the process. Needs no PIN.
#[derive(Debug, Default)]
pub struct MemoryToken {
    containers: BTreeMap<String, BTreeMap<KeyUsage, Slot>>,
}

impl MemoryToken {
    /// An empty token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Put an existing key into a container (for keys loaded from files).
    pub fn insert_key(&mut self, container: &str, usage: KeyUsage, key: PrivateKey) -> Result<()> {
        check_container_name(container)?;
        self.containers
            .entry(container.to_string())
            .or_default()
            .insert(usage, (Arc::new(key), None));
        Ok(())
    }

    fn key(&self, container: &str, usage: KeyUsage) -> Result<&Arc<PrivateKey>> {
        let c = self
            .containers
            .get(container)
            .ok_or_else(|| TokenError::NoSuchContainer(container.to_string()))?;
        c.get(&usage)
            .map(|(k, _)| k)
            .ok_or_else(|| TokenError::NoKey {
                container: container.to_string(),
                usage,
            })
    }
}

impl Token for MemoryToken {
    fn info(&self) -> Result<TokenInfo> {
        Ok(TokenInfo {
            kind: TokenKind::Memory,
            label: "memory".into(),
            serial: String::new(),
            manufacturer: "yinxin".into(),
            user_pin_retries_left: None,
            user_pin_locked: false,
            logged_in: true,
        })
    }

    fn containers(&self) -> Result<Vec<ContainerInfo>> {
        Ok(self
            .containers
            .iter()
            .map(|(name, keys)| ContainerInfo {
                name: name.clone(),
                keys: keys
                    .iter()
                    .map(|(usage, (k, cert))| KeyInfo {
                        usage: *usage,
                        public_key: k.public_key().clone(),
                        certificate: cert.clone(),
                    })
                    .collect(),
            })
            .collect())
    }

    fn login(&mut self, _user_pin: &str) -> Result<()> {
        Ok(())
    }

    fn logout(&mut self) {}

    fn generate_key(
        &mut self,
        container: &str,
        usage: KeyUsage,
        spec: KeySpec,
    ) -> Result<PublicKey> {
        check_container_name(container)?;
        if self.key(container, usage).is_ok() {
            return Err(TokenError::KeyExists {
                container: container.to_string(),
                usage,
            });
        }
        let key = PrivateKey::generate(spec)?;
        let public = key.public_key().clone();
        self.insert_key(container, usage, key)?;
        Ok(public)
    }

    fn import_certificate(
        &mut self,
        container: &str,
        usage: KeyUsage,
        certificate_der: &[u8],
    ) -> Result<()> {
        let cert_key = certificate_public_key(certificate_der)?;
        let key = self.key(container, usage)?;
        if key.public_key() != &cert_key {
            return Err(TokenError::CertificateMismatch {
                container: container.to_string(),
                usage,
            });
        }
        if let Some(entry) = self
            .containers
            .get_mut(container)
            .and_then(|c| c.get_mut(&usage))
        {
            entry.1 = Some(certificate_der.to_vec());
        }
        Ok(())
    }

    fn signer(&self, container: &str, usage: KeyUsage) -> Result<Arc<dyn Signer>> {
        Ok(Arc::new(KeyHandle::new(
            self.key(container, usage)?.clone(),
        )))
    }

    fn decrypter(&self, container: &str, usage: KeyUsage) -> Result<Arc<dyn Decrypter>> {
        Ok(Arc::new(KeyHandle::new(
            self.key(container, usage)?.clone(),
        )))
    }

    fn import_enveloped_key(
        &mut self,
        container: &str,
        format: DeliveryFormat,
        envelope: &[u8],
    ) -> Result<KeyInfo> {
        let signing = KeyHandle::new(self.key(container, KeyUsage::Signing)?.clone());
        if self.key(container, KeyUsage::Encryption).is_ok() {
            return Err(TokenError::KeyExists {
                container: container.to_string(),
                usage: KeyUsage::Encryption,
            });
        }
        let key = key_delivery::open(&signing, format, envelope)?;
        let public_key = key.public_key().clone();
        self.insert_key(container, KeyUsage::Encryption, key)?;
        Ok(KeyInfo {
            usage: KeyUsage::Encryption,
            public_key,
            certificate: None,
        })
    }

    fn change_pin(&mut self, _kind: PinKind, _old: &str, _new: &str) -> Result<()> {
        Err(TokenError::Unsupported("a memory token has no PIN".into()))
    }

    fn unlock_user_pin(&mut self, _so_pin: &str, _new: &str) -> Result<()> {
        Err(TokenError::Unsupported("a memory token has no PIN".into()))
    }
}
