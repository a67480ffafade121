//! yinxin's software token: a file that behaves like a USB key.
//!
//! The file is four lines of text:
//!
//! ```text
//! yinxin-soft-token v1
//! {"label":…,"serial":…,"machine":…,"kdf":…,"user_pin":…,"so_pin":…,"containers":…,"secrets":…}
//! mac:<HMAC-SM3 of lines 1–2 under a key bound to the creating machine>
//! sum:<SM3 of lines 1–3>
//! ```
//!
//! * Private keys are in `secrets`, sealed with SM4-GCM under a random data key (DEK). The DEK
//!   is wrapped twice, under a key derived from the user PIN and under one from the SO PIN,
//!   each with Argon2id (memory-hard) and mixed with the machine binding key.
//! * Public keys, certificates, labels and PIN retry counters are in clear, so the token can
//!   be listed without a PIN, like a USB key.
//! * Checks on opening, in this order, so each failure gets its own plain message: `sum`
//!   (a damaged file: [`TokenError::Corrupted`]), the creating machine's fingerprint (a file
//!   copied from another machine: [`TokenError::CopiedFromAnotherMachine`]), `mac` (an edited
//!   file: [`TokenError::Tampered`]).
//! * Every change is written to a temporary file, synced and renamed over the old one under
//!   an exclusive lock, re-reading the file first so that two processes never lose each
//!   other's retry counts or keys.
//!
//! The retry counter guards against guessing through yinxin; an attacker who can copy the
//! file can guess offline, which Argon2id makes slow. The machine identity is not secret:
//! the binding tells copies apart, the PIN protects the keys.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yinxin_cms::key_delivery;
use yinxin_crypto::{
    Decrypter, HashAlgorithm, KeyHandle, KeySpec, PrivateKey, PublicKey, Signer,
    SymmetricAlgorithm, SymmetricKey, hash, random,
};
use zeroize::Zeroizing;

use crate::{
    ContainerInfo, DeliveryFormat, KeyInfo, KeyUsage, MachineIdentity, PinKind, Result, Token,
    TokenError, TokenInfo, TokenKind, certificate_public_key, check_container_name,
    check_pin_rules,
};

const MAGIC: &str = "yinxin-soft-token v1";
/// The file name extension of software tokens.
pub const FILE_EXTENSION: &str = "yxtoken";

/// Argon2id cost parameters, recorded in each token file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// The default: 64 MiB, 3 passes, 1 lane (about 0.2 s per PIN check on a 2020s core).
    pub const DEFAULT: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// Cheap parameters for tests only: still Argon2id, far from secure.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };

    fn check(&self) -> Result<()> {
        let ok = (256..=4 * 1024 * 1024).contains(&self.memory_kib)
            && (1..=64).contains(&self.iterations)
            && (1..=16).contains(&self.parallelism);
        if ok {
            Ok(())
        } else {
            Err(TokenError::Unsupported(
                "Argon2id parameters out of range".into(),
            ))
        }
    }
}

/// Choices made when a token is created.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The token's label.
    pub label: String,
    /// Wrong PINs allowed before the user PIN locks.
    pub max_user_retries: u32,
    /// Wrong PINs allowed before the SO PIN locks for good.
    pub max_so_retries: u32,
    /// Argon2id cost.
    pub kdf: KdfParams,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            label: "yinxin".into(),
            max_user_retries: 6,
            max_so_retries: 10,
            kdf: KdfParams::DEFAULT,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Body {
    label: String,
    serial: String,
    created_at: u64,
    /// Fingerprint of the machine that created the token.
    machine: String,
    kdf: KdfParams,
    user_pin: PinSlot,
    so_pin: PinSlot,
    containers: Vec<ContainerRecord>,
    secrets: Sealed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct PinSlot {
    #[serde(with = "hex::serde")]
    salt: Vec<u8>,
    wrapped_dek: Sealed,
    max_retries: u32,
    retries_left: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sealed {
    #[serde(with = "hex::serde")]
    nonce: Vec<u8>,
    #[serde(with = "hex::serde")]
    ciphertext: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ContainerRecord {
    name: String,
    keys: Vec<KeyRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyRecord {
    usage: KeyUsage,
    #[serde(with = "hex::serde")]
    public_key: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate: Option<HexBytes>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
struct HexBytes(#[serde(with = "hex::serde")] Vec<u8>);

/// The private keys of a token, by `container/usage`.
type KeyMap = BTreeMap<String, Arc<PrivateKey>>;

enum Session {
    LoggedOut,
    User { dek: SymmetricKey, keys: KeyMap },
}

/// An open software token.
pub struct SoftToken {
    path: PathBuf,
    machine: MachineIdentity,
    body: Body,
    session: Session,
}

impl std::fmt::Debug for SoftToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SoftToken({}, {})", self.path.display(), self.body.label)
    }
}

fn key_id(container: &str, usage: KeyUsage) -> String {
    format!("{container}/{}", usage.name())
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> TokenError + '_ {
    move |source| TokenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl SoftToken {
    /// Create a new token file at `path`, bound to this machine. Fails if one exists.
    pub fn init(path: &Path, so_pin: &str, user_pin: &str, options: &InitOptions) -> Result<Self> {
        Self::init_on(MachineIdentity::current()?, path, so_pin, user_pin, options)
    }

    /// [`SoftToken::init`] bound to the given machine identity.
    pub fn init_on(
        machine: MachineIdentity,
        path: &Path,
        so_pin: &str,
        user_pin: &str,
        options: &InitOptions,
    ) -> Result<Self> {
        check_pin_rules(so_pin)?;
        check_pin_rules(user_pin)?;
        options.kdf.check()?;
        if options.label.is_empty() || options.label.chars().count() > 32 {
            return Err(TokenError::InvalidName {
                what: "token label",
                reason: "1 to 32 characters",
            });
        }
        if !(1..=100).contains(&options.max_user_retries)
            || !(1..=100).contains(&options.max_so_retries)
        {
            return Err(TokenError::Unsupported(
                "retry limits must be 1 to 100".into(),
            ));
        }
        if path.exists() {
            return Err(TokenError::AlreadyExists(path.to_path_buf()));
        }
        let serial = hex::encode(random::bytes(8)?);
        let dek = SymmetricKey::generate(SymmetricAlgorithm::Sm4)?;
        let user_pin_slot = PinSlot::new(
            &machine,
            &serial,
            options.kdf,
            PinKind::User,
            user_pin,
            &dek,
            options.max_user_retries,
        )?;
        let so_pin_slot = PinSlot::new(
            &machine,
            &serial,
            options.kdf,
            PinKind::So,
            so_pin,
            &dek,
            options.max_so_retries,
        )?;
        let created_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut body = Body {
            label: options.label.clone(),
            serial,
            created_at,
            machine: machine.fingerprint(),
            kdf: options.kdf,
            user_pin: user_pin_slot,
            so_pin: so_pin_slot,
            containers: Vec::new(),
            secrets: Sealed {
                nonce: Vec::new(),
                ciphertext: Vec::new(),
            },
        };
        body.secrets = seal_keys(&dek, &body.serial, &KeyMap::new())?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent)?;
        }
        let _lock = FileLock::acquire(path)?;
        if path.exists() {
            return Err(TokenError::AlreadyExists(path.to_path_buf()));
        }
        write_file(path, &machine, &body)?;
        Ok(SoftToken {
            path: path.to_path_buf(),
            machine,
            body,
            session: Session::LoggedOut,
        })
    }

    /// Open an existing token file, checking its checksum, machine binding and integrity.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_on(MachineIdentity::current()?, path)
    }

    /// [`SoftToken::open`] on a machine with the given identity.
    pub fn open_on(machine: MachineIdentity, path: &Path) -> Result<Self> {
        let body = read_file(path, &machine).inspect_err(|e| {
            tracing::debug!(path = %path.display(), error = %e, "soft token: cannot open");
        })?;
        tracing::debug!(path = %path.display(), serial = %body.serial, "soft token: opened");
        Ok(SoftToken {
            path: path.to_path_buf(),
            machine,
            body,
            session: Session::LoggedOut,
        })
    }

    /// The token file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fingerprint of the machine that created the token.
    pub fn created_on(&self) -> &str {
        &self.body.machine
    }

    /// When the token was created (seconds since the Unix epoch, as the creating machine's
    /// clock said).
    pub fn created_at(&self) -> u64 {
        self.body.created_at
    }

    fn require_login(&self) -> Result<(&SymmetricKey, &KeyMap)> {
        match &self.session {
            Session::User { dek, keys } => Ok((dek, keys)),
            Session::LoggedOut => Err(TokenError::NotLoggedIn),
        }
    }

    /// Re-read the file under the lock, apply `change`, write it back.
    fn update<T>(&mut self, change: impl FnOnce(&mut Body) -> Result<T>) -> Result<T> {
        let _lock = FileLock::acquire(&self.path)?;
        let mut body = read_file(&self.path, &self.machine)?;
        let out = change(&mut body);
        // A failed change may still have to be recorded (a wrong PIN's retry count), so the
        // closure says what to keep by mutating `body` before it returns its error.
        write_file(&self.path, &self.machine, &body)?;
        self.body = body;
        out
    }

    /// Check `pin` against a slot under the lock, counting a failure, returning the DEK.
    fn check_pin(&mut self, kind: PinKind, pin: &str) -> Result<SymmetricKey> {
        self.check_pin_then(kind, pin, None)
    }

    /// Check `pin` and, if it is right, give the slot `rewrap.0` the new PIN `rewrap.1` in the
    /// same locked update, so that no other process acts between the check and the change.
    fn check_pin_then(
        &mut self,
        kind: PinKind,
        pin: &str,
        rewrap: Option<(PinKind, &str)>,
    ) -> Result<SymmetricKey> {
        let machine = self.machine.clone();
        self.update(|body| {
            let (serial, kdf) = (body.serial.clone(), body.kdf);
            let slot = body.slot_mut(kind);
            if slot.retries_left == 0 {
                return Err(TokenError::PinLocked(kind));
            }
            let dek = match slot.unwrap_dek(&machine, &serial, kdf, kind, pin) {
                Ok(dek) => {
                    slot.retries_left = slot.max_retries;
                    dek
                }
                Err(TokenError::Crypto(yinxin_crypto::Error::DecryptionFailed)) => {
                    slot.retries_left -= 1;
                    return Err(if slot.retries_left == 0 {
                        TokenError::PinLocked(kind)
                    } else {
                        TokenError::WrongPin {
                            kind,
                            retries_left: Some(slot.retries_left),
                        }
                    });
                }
                Err(other) => return Err(other),
            };
            if let Some((target, new_pin)) = rewrap {
                // A fresh slot starts with its full retry count (this is how unlock resets).
                let max = body.slot_mut(target).max_retries;
                *body.slot_mut(target) =
                    PinSlot::new(&machine, &serial, kdf, target, new_pin, &dek, max)?;
            }
            Ok(dek)
        })
    }
}

impl Body {
    fn slot_mut(&mut self, kind: PinKind) -> &mut PinSlot {
        match kind {
            PinKind::User => &mut self.user_pin,
            PinKind::So => &mut self.so_pin,
        }
    }
}

impl Token for SoftToken {
    fn info(&self) -> Result<TokenInfo> {
        Ok(TokenInfo {
            kind: TokenKind::Software,
            label: self.body.label.clone(),
            serial: self.body.serial.clone(),
            manufacturer: "yinxin software token".into(),
            user_pin_retries_left: Some(self.body.user_pin.retries_left),
            user_pin_locked: self.body.user_pin.retries_left == 0,
            logged_in: matches!(self.session, Session::User { .. }),
        })
    }

    fn containers(&self) -> Result<Vec<ContainerInfo>> {
        self.body
            .containers
            .iter()
            .map(|c| {
                let keys = c
                    .keys
                    .iter()
                    .map(|k| {
                        Ok(KeyInfo {
                            usage: k.usage,
                            public_key: PublicKey::from_der(&k.public_key)?,
                            certificate: k.certificate.as_ref().map(|c| c.0.clone()),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(ContainerInfo {
                    name: c.name.clone(),
                    keys,
                })
            })
            .collect()
    }

    fn login(&mut self, user_pin: &str) -> Result<()> {
        let dek = self.check_pin(PinKind::User, user_pin).inspect_err(|e| {
            tracing::info!(path = %self.path.display(), error = %e, "soft token: login refused");
        })?;
        tracing::info!(path = %self.path.display(), "soft token: logged in");
        let keys = open_keys(&dek, &self.body.serial, &self.body.secrets)?;
        self.session = Session::User { dek, keys };
        Ok(())
    }

    fn generate_key(
        &mut self,
        container: &str,
        usage: KeyUsage,
        spec: KeySpec,
    ) -> Result<PublicKey> {
        check_container_name(container)?;
        let (dek, _) = self.require_login()?;
        let dek = dek.clone();
        let key = Arc::new(PrivateKey::generate(spec)?);
        let public = key.public_key().clone();
        let id = key_id(container, usage);
        let keys = self.update(|body| {
            let mut keys = open_keys(&dek, &body.serial, &body.secrets)?;
            if keys.contains_key(&id) {
                return Err(TokenError::KeyExists {
                    container: container.to_string(),
                    usage,
                });
            }
            keys.insert(id.clone(), key.clone());
            body.secrets = seal_keys(&dek, &body.serial, &keys)?;
            let record = KeyRecord {
                usage,
                public_key: public.to_der(),
                certificate: None,
            };
            match body.containers.iter_mut().find(|c| c.name == container) {
                Some(c) => c.keys.push(record),
                None => body.containers.push(ContainerRecord {
                    name: container.to_string(),
                    keys: vec![record],
                }),
            }
            Ok(keys)
        })?;
        self.session = Session::User { dek, keys };
        Ok(public)
    }

    fn import_certificate(
        &mut self,
        container: &str,
        usage: KeyUsage,
        certificate_der: &[u8],
    ) -> Result<()> {
        self.require_login()?;
        let cert_key = certificate_public_key(certificate_der)?;
        self.update(|body| {
            let record = body
                .containers
                .iter_mut()
                .find(|c| c.name == container)
                .ok_or_else(|| TokenError::NoSuchContainer(container.to_string()))?
                .keys
                .iter_mut()
                .find(|k| k.usage == usage)
                .ok_or_else(|| TokenError::NoKey {
                    container: container.to_string(),
                    usage,
                })?;
            if PublicKey::from_der(&record.public_key)? != cert_key {
                return Err(TokenError::CertificateMismatch {
                    container: container.to_string(),
                    usage,
                });
            }
            record.certificate = Some(HexBytes(certificate_der.to_vec()));
            Ok(())
        })
    }

    fn import_enveloped_key(
        &mut self,
        container: &str,
        format: DeliveryFormat,
        envelope: &[u8],
    ) -> Result<KeyInfo> {
        let signing = KeyHandle::new(self.session_key(container, KeyUsage::Signing)?);
        let exists = || TokenError::KeyExists {
            container: container.to_string(),
            usage: KeyUsage::Encryption,
        };
        // Refuse before opening and before taking the lock: a refused or failed import does
        // not touch the file.
        if self.session_key(container, KeyUsage::Encryption).is_ok() {
            return Err(exists());
        }
        let key = Arc::new(key_delivery::open(&signing, format, envelope)?);
        let public_key = key.public_key().clone();
        let (dek, _) = self.require_login()?;
        let dek = dek.clone();
        let id = key_id(container, KeyUsage::Encryption);
        let keys = self.update(|body| {
            let mut keys = open_keys(&dek, &body.serial, &body.secrets)?;
            let record = body
                .containers
                .iter_mut()
                .find(|c| c.name == container)
                .ok_or_else(|| TokenError::NoSuchContainer(container.to_string()))?;
            // Another process may have changed the container since the checks above.
            if !record.keys.iter().any(|k| k.usage == KeyUsage::Signing) {
                return Err(TokenError::NoKey {
                    container: container.to_string(),
                    usage: KeyUsage::Signing,
                });
            }
            if keys.contains_key(&id) || record.keys.iter().any(|k| k.usage == KeyUsage::Encryption)
            {
                return Err(exists());
            }
            record.keys.push(KeyRecord {
                usage: KeyUsage::Encryption,
                public_key: public_key.to_der(),
                certificate: None,
            });
            keys.insert(id.clone(), key.clone());
            body.secrets = seal_keys(&dek, &body.serial, &keys)?;
            Ok(keys)
        })?;
        self.session = Session::User { dek, keys };
        Ok(KeyInfo {
            usage: KeyUsage::Encryption,
            public_key,
            certificate: None,
        })
    }

    fn signer(&self, container: &str, usage: KeyUsage) -> Result<Arc<dyn Signer>> {
        tracing::debug!(path = %self.path.display(), container, usage = usage.name(), "soft token: signing key handed out");
        Ok(Arc::new(KeyHandle::new(
            self.session_key(container, usage)?,
        )))
    }

    fn decrypter(&self, container: &str, usage: KeyUsage) -> Result<Arc<dyn Decrypter>> {
        tracing::debug!(path = %self.path.display(), container, usage = usage.name(), "soft token: decryption key handed out");
        Ok(Arc::new(KeyHandle::new(
            self.session_key(container, usage)?,
        )))
    }

    fn logout(&mut self) {
        self.session = Session::LoggedOut;
    }

    fn change_pin(&mut self, kind: PinKind, old_pin: &str, new_pin: &str) -> Result<()> {
        check_pin_rules(new_pin)?;
        self.check_pin_then(kind, old_pin, Some((kind, new_pin)))
            .map(|_| ())
    }

    fn unlock_user_pin(&mut self, so_pin: &str, new_user_pin: &str) -> Result<()> {
        check_pin_rules(new_user_pin)?;
        self.check_pin_then(PinKind::So, so_pin, Some((PinKind::User, new_user_pin)))
            .map(|_| ())
    }
}

impl SoftToken {
    fn session_key(&self, container: &str, usage: KeyUsage) -> Result<Arc<PrivateKey>> {
        let (_, keys) = self.require_login()?;
        if !self.body.containers.iter().any(|c| c.name == container) {
            return Err(TokenError::NoSuchContainer(container.to_string()));
        }
        keys.get(&key_id(container, usage))
            .cloned()
            .ok_or_else(|| TokenError::NoKey {
                container: container.to_string(),
                usage,
            })
    }
}

impl PinSlot {
    fn new(
        machine: &MachineIdentity,
        serial: &str,
        kdf: KdfParams,
        kind: PinKind,
        pin: &str,
        dek: &SymmetricKey,
        max_retries: u32,
    ) -> Result<Self> {
        let salt = random::bytes(16)?;
        let kek = derive_kek(machine, serial, kdf, kind, pin, &salt)?;
        let nonce = random::bytes(12)?;
        let ciphertext = kek.gcm_seal(&nonce, &slot_aad(serial, kind), dek.expose_secret())?;
        Ok(PinSlot {
            salt,
            wrapped_dek: Sealed { nonce, ciphertext },
            max_retries,
            retries_left: max_retries,
        })
    }

    fn unwrap_dek(
        &self,
        machine: &MachineIdentity,
        serial: &str,
        kdf: KdfParams,
        kind: PinKind,
        pin: &str,
    ) -> Result<SymmetricKey> {
        let kek = derive_kek(machine, serial, kdf, kind, pin, &self.salt)?;
        let dek = kek.gcm_open(
            &self.wrapped_dek.nonce,
            &slot_aad(serial, kind),
            &self.wrapped_dek.ciphertext,
        )?;
        Ok(SymmetricKey::from_bytes(SymmetricAlgorithm::Sm4, &dek)?)
    }
}

fn slot_aad(serial: &str, kind: PinKind) -> Vec<u8> {
    format!("yinxin-soft-token/{serial}/{kind}-pin").into_bytes()
}

/// KEK = HMAC-SM3(machine binding key, kind || Argon2id(PIN, salt)), truncated to an SM4 key.
fn derive_kek(
    machine: &MachineIdentity,
    serial: &str,
    kdf: KdfParams,
    kind: PinKind,
    pin: &str,
    salt: &[u8],
) -> Result<SymmetricKey> {
    kdf.check()?;
    let params = argon2::Params::new(kdf.memory_kib, kdf.iterations, kdf.parallelism, Some(32))
        .map_err(|e| TokenError::Kdf(e.to_string()))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut stretched = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(pin.as_bytes(), salt, &mut stretched[..])
        .map_err(|e| TokenError::Kdf(e.to_string()))?;
    let mut input = Zeroizing::new(kind.to_string().into_bytes());
    input.extend_from_slice(&stretched[..]);
    let mixed = Zeroizing::new(hash::hmac(
        HashAlgorithm::Sm3,
        &machine.binding_key(serial),
        &input,
    ));
    Ok(SymmetricKey::from_bytes(
        SymmetricAlgorithm::Sm4,
        &mixed[..16],
    )?)
}

fn secrets_aad(serial: &str) -> Vec<u8> {
    format!("yinxin-soft-token/{serial}/secrets").into_bytes()
}

/// Serialise keys as `(u16 id length, id, u32 DER length, PKCS#8 DER)*` and seal them.
fn seal_keys(dek: &SymmetricKey, serial: &str, keys: &KeyMap) -> Result<Sealed> {
    let mut plain = Zeroizing::new(Vec::new());
    for (id, key) in keys {
        let der = key.to_pkcs8_der()?;
        plain.extend_from_slice(&(id.len() as u16).to_be_bytes());
        plain.extend_from_slice(id.as_bytes());
        plain.extend_from_slice(&(der.len() as u32).to_be_bytes());
        plain.extend_from_slice(&der);
    }
    let nonce = random::bytes(12)?;
    let ciphertext = dek.gcm_seal(&nonce, &secrets_aad(serial), &plain)?;
    Ok(Sealed { nonce, ciphertext })
}

fn open_keys(dek: &SymmetricKey, serial: &str, sealed: &Sealed) -> Result<KeyMap> {
    let plain = dek.gcm_open(&sealed.nonce, &secrets_aad(serial), &sealed.ciphertext)?;
    let mut keys = KeyMap::new();
    let mut rest = &plain[..];
    let bad = || yinxin_crypto::Error::DecryptionFailed;
    while !rest.is_empty() {
        let (len, tail) = rest.split_at_checked(2).ok_or_else(bad)?;
        let len = u16::from_be_bytes([len[0], len[1]]) as usize;
        let (id, tail) = tail.split_at_checked(len).ok_or_else(bad)?;
        let (dlen, tail) = tail.split_at_checked(4).ok_or_else(bad)?;
        let dlen = u32::from_be_bytes([dlen[0], dlen[1], dlen[2], dlen[3]]) as usize;
        let (der, tail) = tail.split_at_checked(dlen).ok_or_else(bad)?;
        let id = String::from_utf8(id.to_vec()).map_err(|_| bad())?;
        keys.insert(id, Arc::new(PrivateKey::from_der(der)?));
        rest = tail;
    }
    Ok(keys)
}

fn encode_file(machine: &MachineIdentity, body: &Body) -> Result<String> {
    let json = serde_json::to_string(body).map_err(|e| TokenError::Unsupported(e.to_string()))?;
    let signed = format!("{MAGIC}\n{json}\n");
    let mac = hash::hmac(
        HashAlgorithm::Sm3,
        &machine.binding_key(&body.serial),
        signed.as_bytes(),
    );
    let summed = format!("{signed}mac:{}\n", hex::encode(mac));
    let sum = hash::digest(HashAlgorithm::Sm3, summed.as_bytes());
    Ok(format!("{summed}sum:{}\n", hex::encode(sum)))
}

/// A token file as read, its checksum verified but not its machine binding or integrity.
struct Parsed {
    body: Body,
    /// Lines 1–2, which the integrity code covers.
    signed: String,
    mac_line: String,
}

fn parse_file(path: &Path) -> Result<Parsed> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TokenError::NotFound(path.to_path_buf()));
        }
        Err(e) => return Err(io_err(path)(e)),
    };
    let corrupted = |reason: &str| TokenError::Corrupted {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let text = std::str::from_utf8(&bytes).map_err(|_| corrupted("not text"))?;
    if !text.starts_with(MAGIC) {
        return Err(corrupted(
            "not a yinxin software token, or an unsupported version",
        ));
    }
    let sum_at = text
        .rfind("sum:")
        .ok_or_else(|| corrupted("no checksum line"))?;
    let (summed, sum_line) = text.split_at(sum_at);
    let sum_hex = sum_line
        .strip_prefix("sum:")
        .and_then(|l| l.strip_suffix('\n'))
        .ok_or_else(|| corrupted("bad checksum line"))?;
    let expected = hex::encode(hash::digest(HashAlgorithm::Sm3, summed.as_bytes()));
    if sum_hex != expected {
        return Err(corrupted(
            "checksum mismatch: the file was damaged or truncated",
        ));
    }
    let mut lines = summed.split('\n');
    let (Some(_magic), Some(json), Some(mac_line)) = (lines.next(), lines.next(), lines.next())
    else {
        return Err(corrupted("missing lines"));
    };
    let body: Body =
        serde_json::from_str(json).map_err(|e| corrupted(&format!("bad contents: {e}")))?;
    Ok(Parsed {
        body,
        signed: format!("{MAGIC}\n{json}\n"),
        mac_line: mac_line.to_string(),
    })
}

fn read_file(path: &Path, machine: &MachineIdentity) -> Result<Body> {
    let Parsed {
        body,
        signed,
        mac_line,
    } = parse_file(path)?;
    if body.machine != machine.fingerprint() {
        return Err(TokenError::CopiedFromAnotherMachine {
            path: path.to_path_buf(),
            created_on: body.machine,
            this_machine: machine.fingerprint(),
        });
    }
    let mac = mac_line
        .strip_prefix("mac:")
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| TokenError::Corrupted {
            path: path.to_path_buf(),
            reason: "bad integrity line".into(),
        })?;
    hash::hmac_verify(
        HashAlgorithm::Sm3,
        &machine.binding_key(&body.serial),
        signed.as_bytes(),
        &mac,
    )
    .map_err(|_| TokenError::Tampered(path.to_path_buf()))?;
    Ok(body)
}

/// What anyone may read of a token file without its PIN or its machine: the public part
/// that `yinxin doctor` reports on even when the file cannot be opened here.
#[derive(Debug, Clone)]
pub struct FileSummary {
    /// The token's label.
    pub label: String,
    /// The token's serial number.
    pub serial: String,
    /// When it was created (seconds since the Unix epoch, by the creating machine's clock).
    pub created_at: u64,
    /// Fingerprint of the machine that created it ([`MachineIdentity::fingerprint`]).
    pub created_on: String,
    /// User PIN retries left (0: locked).
    pub user_pin_retries_left: u32,
    /// The certificates stored in its containers: (container, usage, DER).
    pub certificates: Vec<(String, KeyUsage, Vec<u8>)>,
}

/// Read a token file's public part, checking only its checksum (a damaged file is
/// [`TokenError::Corrupted`]); its machine binding and integrity are what [`SoftToken::open`]
/// checks.
pub fn inspect(path: &Path) -> Result<FileSummary> {
    let body = parse_file(path)?.body;
    let certificates = body
        .containers
        .iter()
        .flat_map(|c| {
            c.keys.iter().filter_map(|k| {
                k.certificate
                    .as_ref()
                    .map(|der| (c.name.clone(), k.usage, der.0.clone()))
            })
        })
        .collect();
    Ok(FileSummary {
        label: body.label,
        serial: body.serial,
        created_at: body.created_at,
        created_on: body.machine,
        user_pin_retries_left: body.user_pin.retries_left,
        certificates,
    })
}

fn write_file(path: &Path, machine: &MachineIdentity, body: &Body) -> Result<()> {
    let text = encode_file(machine, body)?;
    let tmp = path.with_extension(format!("{FILE_EXTENSION}.tmp"));
    // Callers hold the token's lock, so a temporary file left here is a crashed writer's.
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = private_file_options().open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Make the rename durable; some filesystems refuse to sync a directory.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_err(path))
}

fn private_file_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(io_err(dir))
}

/// An exclusive lock on `<token>.lock`, released on drop.
struct FileLock(File);

impl FileLock {
    fn acquire(token_path: &Path) -> Result<Self> {
        let lock_path = token_path.with_extension(format!("{FILE_EXTENSION}.lock"));
        let mut o = OpenOptions::new();
        o.read(true).write(true).create(true).truncate(false);
        let f = o.open(&lock_path).map_err(io_err(&lock_path))?;
        f.lock().map_err(io_err(&lock_path))?;
        Ok(FileLock(f))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_holds_no_private_key_in_clear() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let id_file = dir.path().join("machine-id");
        std::fs::write(&id_file, "m1\n").unwrap_or_else(|e| panic!("{e}"));
        let machine = MachineIdentity::from_file(&id_file).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("t.yxtoken");
        let options = InitOptions {
            kdf: KdfParams::INSECURE_FOR_TESTS,
            ..InitOptions::default()
        };
        let mut t = SoftToken::init_on(machine, &path, "so-pin-123", "user-pin-123", &options)
            .unwrap_or_else(|e| panic!("{e}"));
        t.login("user-pin-123").unwrap_or_else(|e| panic!("{e}"));
        t.generate_key("c", KeyUsage::Signing, KeySpec::Sm2)
            .unwrap_or_else(|e| panic!("{e}"));
        let Session::User { keys, .. } = &t.session else {
            panic!("logged in")
        };
        let pkcs8 = keys["c/sign"]
            .to_pkcs8_der()
            .unwrap_or_else(|e| panic!("{e}"));
        // The SM2 scalar is the 32 bytes after the ECPrivateKey's OCTET STRING header.
        let at = pkcs8
            .windows(2)
            .position(|w| w == [0x04, 0x20])
            .unwrap_or_else(|| panic!("scalar"));
        let scalar = &pkcs8[at + 2..at + 34];
        let file = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let file_hex = hex::encode(&file);
        assert!(!file.windows(32).any(|w| w == scalar));
        assert!(!file_hex.contains(&hex::encode(scalar)));
    }
}
