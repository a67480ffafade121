//! PKCS#11 devices (USB keys, smart cards, HSMs) behind the [`Token`] trait, via `cryptoki`.
//!
//! Containers map onto objects the way CA middleware does it: `CKA_LABEL` is the container
//! name and `CKA_ID` is `<container>/sign` or `<container>/enc`. Keys are generated on the
//! device as sensitive and non-extractable. RSA and ECDSA use standard mechanisms (ECDSA
//! hashes in software and signs with `CKM_ECDSA`, which every module has); SM2 needs vendor
//! mechanisms that differ per manufacturer and is refused with a clear error for now.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use yinxin_crypto::{
    Decrypter, EncryptionScheme, HashAlgorithm, KeyAlgorithm, KeySpec, PublicKey, SignatureScheme,
    Signer, hash,
};
use zeroize::Zeroizing;

pub mod probe;
pub use probe::{CertificateObject, ModuleReport, SlotReport, TokenReport, probe};

use crate::{
    ContainerInfo, DeliveryFormat, KeyInfo, KeyUsage, PinKind, Result, Token, TokenError,
    TokenInfo, TokenKind, certificate_public_key, check_container_name, check_pin_rules,
};

/// One initialised `Pkcs11` context per module per process: `C_Initialize` may run only once.
fn context(module: &Path) -> Result<Pkcs11> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let map = CONTEXTS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(ctx) = map.get(module) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(module).map_err(|e| TokenError::Module {
        path: module.to_path_buf(),
        reason: e.to_string(),
    })?;
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))?;
    map.insert(module.to_path_buf(), ctx.clone());
    Ok(ctx)
}

fn auth(pin: &str) -> AuthPin {
    AuthPin::new(pin.into())
}

/// How a PKCS#11 device protects a private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyProtection {
    /// `CKA_SENSITIVE`: the private parts are never revealed.
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE`: the key can be wrapped out of the device.
    pub extractable: bool,
    /// Whether reading the private parts actually returned bytes.
    pub value_readable: bool,
}

/// A token in a PKCS#11 slot.
pub struct Pkcs11Token {
    module: PathBuf,
    slot: Slot,
    session: Arc<Mutex<Session>>,
    logged_in: bool,
}

impl std::fmt::Debug for Pkcs11Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Pkcs11Token({}, slot {})",
            self.module.display(),
            self.slot.id()
        )
    }
}

impl Pkcs11Token {
    /// Open the token labelled `label`, or the first initialised token when `label` is `None`.
    pub fn open(module: &Path, label: Option<&str>) -> Result<Self> {
        let ctx = context(module)?;
        let mut found = None;
        for slot in ctx.get_slots_with_initialized_token()? {
            let info = ctx.get_token_info(slot)?;
            if label.is_none_or(|l| info.label().trim_end() == l) {
                found = Some(slot);
                break;
            }
        }
        let slot = found.ok_or_else(|| {
            TokenError::NoToken(match label {
                Some(l) => format!("no token labelled \"{l}\" in {}", module.display()),
                None => format!(
                    "no initialised token in {} (is the key inserted?)",
                    module.display()
                ),
            })
        })?;
        Self::with_slot(module, ctx, slot)
    }

    fn with_slot(module: &Path, ctx: Pkcs11, slot: Slot) -> Result<Self> {
        let session = ctx.open_rw_session(slot)?;
        Ok(Pkcs11Token {
            module: module.to_path_buf(),
            slot,
            session: Arc::new(Mutex::new(session)),
            logged_in: false,
        })
    }

    /// Initialise a token: the first slot whose token is not initialised yet (or, with
    /// `reinit_label`, the token that already carries that label — erasing it), setting the SO
    /// PIN, the label and the user PIN. Returns the token, logged out.
    pub fn init(module: &Path, label: &str, so_pin: &str, user_pin: &str) -> Result<Self> {
        check_pin_rules(so_pin)?;
        check_pin_rules(user_pin)?;
        if label.is_empty() || label.len() > 32 {
            return Err(TokenError::InvalidName {
                what: "token label",
                reason: "1 to 32 bytes",
            });
        }
        let ctx = context(module)?;
        let mut target = None;
        for slot in ctx.get_slots_with_token()? {
            if !ctx.get_token_info(slot)?.token_initialized() {
                target = Some(slot);
                break;
            }
        }
        let slot = target.ok_or_else(|| {
            TokenError::NoToken(format!("no uninitialised token in {}", module.display()))
        })?;
        ctx.init_token(slot, &auth(so_pin), label)?;
        // Some modules (SoftHSM2) renumber the slot after initialisation: look it up by label.
        let slot = ctx
            .get_slots_with_initialized_token()?
            .into_iter()
            .find(|s| {
                ctx.get_token_info(*s)
                    .map(|i| i.label().trim_end() == label)
                    .unwrap_or(false)
            })
            .unwrap_or(slot);
        {
            let session = ctx.open_rw_session(slot)?;
            session
                .login(UserType::So, Some(&auth(so_pin)))
                .map_err(|e| pin_error(e, PinKind::So))?;
            session.init_pin(&auth(user_pin))?;
            session.logout()?;
        }
        Self::with_slot(module, ctx, slot)
    }

    /// How the device protects a private key: what `yinxin doctor` and the tests check to show
    /// that the key cannot be read out.
    pub fn key_protection(&self, container: &str, usage: KeyUsage) -> Result<KeyProtection> {
        self.require_login()?;
        let handle = self.find_key(ObjectClass::PRIVATE_KEY, container, usage)?;
        let session = self.lock();
        let mut protection = KeyProtection {
            sensitive: false,
            extractable: true,
            value_readable: false,
        };
        for a in session.get_attributes(
            handle,
            &[AttributeType::Sensitive, AttributeType::Extractable],
        )? {
            match a {
                Attribute::Sensitive(v) => protection.sensitive = v,
                Attribute::Extractable(v) => protection.extractable = v,
                _ => {}
            }
        }
        // The module must refuse (or omit) the private parts of a sensitive key.
        let readable = [
            AttributeType::Value,
            AttributeType::PrivateExponent,
            AttributeType::Prime1,
        ];
        protection.value_readable = readable.iter().any(|t| {
            session
                .get_attributes(handle, &[*t])
                .map(|attrs| {
                    attrs.iter().any(|a| {
                        matches!(a, Attribute::Value(v) | Attribute::PrivateExponent(v) | Attribute::Prime1(v) if !v.is_empty())
                    })
                })
                .unwrap_or(false)
        });
        Ok(protection)
    }

    /// A handle on the private key object of a container's key, with its public key.
    fn key_handle(&self, container: &str, usage: KeyUsage) -> Result<Pkcs11Key> {
        self.require_login()?;
        let private = self.find_key(ObjectClass::PRIVATE_KEY, container, usage)?;
        let public_handle = self.find_key(ObjectClass::PUBLIC_KEY, container, usage)?;
        let public = Self::public_key_of(&self.lock(), public_handle)?;
        Ok(Pkcs11Key {
            session: self.session.clone(),
            private,
            public,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn require_login(&self) -> Result<()> {
        if self.logged_in {
            Ok(())
        } else {
            Err(TokenError::NotLoggedIn)
        }
    }

    fn find_key(
        &self,
        class: ObjectClass,
        container: &str,
        usage: KeyUsage,
    ) -> Result<ObjectHandle> {
        let session = self.lock();
        let found = session.find_objects(&[
            Attribute::Class(class),
            Attribute::Id(object_id(container, usage)),
        ])?;
        if let Some(h) = found.first() {
            return Ok(*h);
        }
        let any = session.find_objects(&[Attribute::Label(container.as_bytes().to_vec())])?;
        Err(if any.is_empty() {
            TokenError::NoSuchContainer(container.to_string())
        } else {
            TokenError::NoKey {
                container: container.to_string(),
                usage,
            }
        })
    }

    fn public_key_of(session: &Session, handle: ObjectHandle) -> Result<PublicKey> {
        let attrs = session.get_attributes(
            handle,
            &[
                AttributeType::KeyType,
                AttributeType::EcParams,
                AttributeType::EcPoint,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
            ],
        )?;
        let (mut key_type, mut params, mut point, mut modulus, mut exponent) =
            (None, None, None, None, None);
        for a in attrs {
            match a {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::EcParams(p) => params = Some(p),
                Attribute::EcPoint(p) => point = Some(p),
                Attribute::Modulus(m) => modulus = Some(m),
                Attribute::PublicExponent(e) => exponent = Some(e),
                _ => {}
            }
        }
        match key_type {
            Some(t) if t == KeyType::RSA => match (modulus, exponent) {
                (Some(n), Some(e)) => Ok(PublicKey::from_rsa_components(&n, &e)?),
                _ => Err(TokenError::Unsupported("RSA key without modulus".into())),
            },
            Some(t) if t == KeyType::EC => {
                let params = params
                    .ok_or_else(|| TokenError::Unsupported("EC key without parameters".into()))?;
                let algorithm = curve_of_params(&params)?;
                let point =
                    point.ok_or_else(|| TokenError::Unsupported("EC key without point".into()))?;
                Ok(PublicKey::from_ec_point(
                    algorithm,
                    unwrap_octet_string(&point),
                )?)
            }
            _ => Err(TokenError::Unsupported(
                "key type other than RSA or EC".into(),
            )),
        }
    }
}

/// A login failure in the words the software token uses.
fn pin_error(e: cryptoki::error::Error, kind: PinKind) -> TokenError {
    use cryptoki::error::{Error, RvError};
    match e {
        Error::Pkcs11(RvError::PinIncorrect, _) => TokenError::WrongPin {
            kind,
            retries_left: None,
        },
        Error::Pkcs11(RvError::PinLocked, _) => TokenError::PinLocked(kind),
        other => other.into(),
    }
}

fn object_id(container: &str, usage: KeyUsage) -> Vec<u8> {
    format!("{container}/{}", usage.name()).into_bytes()
}

fn parse_object_id(id: &[u8], label: &[u8]) -> (String, KeyUsage) {
    let text = String::from_utf8_lossy(id);
    if let Some((c, u)) = text.rsplit_once('/')
        && let Ok(usage) = u.parse()
    {
        return (c.to_string(), usage);
    }
    // Objects made by other middleware: name the container after the label (or the ID).
    let name = if label.is_empty() {
        hex::encode(id)
    } else {
        String::from_utf8_lossy(label).into_owned()
    };
    (name, KeyUsage::Signing)
}

/// DER of the named-curve OID for a spec.
fn curve_params(spec: KeySpec) -> Option<Vec<u8>> {
    use der::Encode;
    let oid = match spec {
        KeySpec::EcP256 => yinxin_crypto::oid::SECP256R1,
        KeySpec::EcP384 => yinxin_crypto::oid::SECP384R1,
        KeySpec::Sm2 => yinxin_crypto::oid::SM2,
        _ => return None,
    };
    oid.to_der().ok()
}

fn curve_of_params(params: &[u8]) -> Result<KeyAlgorithm> {
    use der::Decode;
    let oid = der::asn1::ObjectIdentifier::from_der(params)
        .map_err(|_| TokenError::Unsupported("EC key with explicit curve parameters".into()))?;
    if oid == yinxin_crypto::oid::SECP256R1 {
        Ok(KeyAlgorithm::EcP256)
    } else if oid == yinxin_crypto::oid::SECP384R1 {
        Ok(KeyAlgorithm::EcP384)
    } else if oid == yinxin_crypto::oid::SM2 {
        Ok(KeyAlgorithm::Sm2)
    } else {
        Err(TokenError::Unsupported(format!("EC curve {oid}")))
    }
}

/// `CKA_EC_POINT` is a DER OCTET STRING holding the point; some modules omit the wrapper.
fn unwrap_octet_string(v: &[u8]) -> &[u8] {
    use der::Decode;
    match <&der::asn1::OctetStringRef>::from_der(v) {
        Ok(os) => os.as_bytes(),
        Err(_) => v,
    }
}

fn hash_mechanism(h: HashAlgorithm) -> Result<(MechanismType, PkcsMgfType)> {
    match h {
        HashAlgorithm::Sha256 => Ok((MechanismType::SHA256, PkcsMgfType::MGF1_SHA256)),
        HashAlgorithm::Sha384 => Ok((MechanismType::SHA384, PkcsMgfType::MGF1_SHA384)),
        HashAlgorithm::Sha512 => Ok((MechanismType::SHA512, PkcsMgfType::MGF1_SHA512)),
        HashAlgorithm::Sm3 => Err(TokenError::Unsupported(
            "SM3 through standard PKCS#11 mechanisms".into(),
        )),
    }
}

impl Token for Pkcs11Token {
    fn info(&self) -> Result<TokenInfo> {
        let ctx = context(&self.module)?;
        let info = ctx.get_token_info(self.slot)?;
        Ok(TokenInfo {
            kind: TokenKind::Pkcs11,
            label: info.label().trim_end().to_string(),
            serial: info.serial_number().trim_end().to_string(),
            manufacturer: info.manufacturer_id().trim_end().to_string(),
            user_pin_retries_left: None,
            user_pin_locked: info.user_pin_locked(),
            logged_in: self.logged_in,
        })
    }

    fn containers(&self) -> Result<Vec<ContainerInfo>> {
        let session = self.lock();
        let mut out: Vec<ContainerInfo> = Vec::new();
        for handle in session.find_objects(&[Attribute::Class(ObjectClass::PUBLIC_KEY)])? {
            let attrs =
                session.get_attributes(handle, &[AttributeType::Id, AttributeType::Label])?;
            let (mut id, mut label) = (Vec::new(), Vec::new());
            for a in attrs {
                match a {
                    Attribute::Id(v) => id = v,
                    Attribute::Label(v) => label = v,
                    _ => {}
                }
            }
            let (name, usage) = parse_object_id(&id, &label);
            let public_key = match Self::public_key_of(&session, handle) {
                Ok(k) => k,
                Err(_) => continue, // keys of types yinxin does not use are not listed
            };
            let certificate = session
                .find_objects(&[
                    Attribute::Class(ObjectClass::CERTIFICATE),
                    Attribute::Id(id.clone()),
                ])?
                .first()
                .and_then(|c| session.get_attributes(*c, &[AttributeType::Value]).ok())
                .and_then(|attrs| {
                    attrs.into_iter().find_map(|a| match a {
                        Attribute::Value(v) => Some(v),
                        _ => None,
                    })
                });
            let key = KeyInfo {
                usage,
                public_key,
                certificate,
            };
            match out.iter_mut().find(|c| c.name == name) {
                Some(c) => c.keys.push(key),
                None => out.push(ContainerInfo {
                    name,
                    keys: vec![key],
                }),
            }
        }
        for c in &mut out {
            c.keys.sort_by_key(|k| k.usage);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn login(&mut self, user_pin: &str) -> Result<()> {
        let session = self.lock();
        let mut result = session.login(UserType::User, Some(&auth(user_pin)));
        if let Err(cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::UserAlreadyLoggedIn,
            _,
        )) = result
        {
            // Login state is shared by all sessions of a process: log out so the PIN is checked.
            let _ = session.logout();
            result = session.login(UserType::User, Some(&auth(user_pin)));
        }
        drop(session);
        match result {
            Ok(()) => {}
            Err(e) => return Err(pin_error(e, PinKind::User)),
        }
        self.logged_in = true;
        Ok(())
    }

    fn logout(&mut self) {
        if self.logged_in {
            let _ = self.lock().logout();
            self.logged_in = false;
        }
    }

    fn generate_key(
        &mut self,
        container: &str,
        usage: KeyUsage,
        spec: KeySpec,
    ) -> Result<PublicKey> {
        check_container_name(container)?;
        self.require_login()?;
        if self
            .find_key(ObjectClass::PRIVATE_KEY, container, usage)
            .is_ok()
        {
            return Err(TokenError::KeyExists {
                container: container.to_string(),
                usage,
            });
        }
        let id = object_id(container, usage);
        let label = container.as_bytes().to_vec();
        let signing = usage == KeyUsage::Signing;
        let mut public = vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Id(id.clone()),
            Attribute::Label(label.clone()),
            Attribute::Verify(signing),
        ];
        let mut private = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Id(id),
            Attribute::Label(label),
            Attribute::Sign(signing),
            Attribute::Decrypt(!signing),
        ];
        let mechanism = match spec {
            KeySpec::Sm2 => {
                return Err(TokenError::Unsupported(
                    "SM2 on PKCS#11 needs the device's vendor mechanisms, which this module does not offer; use the software token or the device's SKF interface".into(),
                ))
            }
            KeySpec::EcP256 | KeySpec::EcP384 => {
                // An EC encryption key is a key-agreement key (ECDH, CMS KeyAgreeRecipientInfo):
                // it derives (CKA_DERIVE) instead of decrypting.
                private.retain(|a| !matches!(a, Attribute::Decrypt(_)));
                private.push(Attribute::Derive(!signing));
                public.push(Attribute::EcParams(curve_params(spec).unwrap_or_default()));
                Mechanism::EccKeyPairGen
            }
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                let KeyAlgorithm::Rsa { bits } = spec.algorithm() else {
                    return Err(TokenError::Unsupported(spec.to_string()));
                };
                public.push(Attribute::ModulusBits((bits as u64).into()));
                public.push(Attribute::PublicExponent(vec![1, 0, 1]));
                public.push(Attribute::Encrypt(!signing));
                Mechanism::RsaPkcsKeyPairGen
            }
        };
        if !signing {
            private.retain(|a| !matches!(a, Attribute::Sign(_)));
        }
        let session = self.lock();
        let (pub_handle, _) = session.generate_key_pair(&mechanism, &public, &private)?;
        Self::public_key_of(&session, pub_handle)
    }

    fn import_certificate(
        &mut self,
        container: &str,
        usage: KeyUsage,
        certificate_der: &[u8],
    ) -> Result<()> {
        use der::{Decode, Encode};
        self.require_login()?;
        let cert_key = certificate_public_key(certificate_der)?;
        let pub_handle = self.find_key(ObjectClass::PUBLIC_KEY, container, usage)?;
        let session = self.lock();
        if Self::public_key_of(&session, pub_handle)? != cert_key {
            return Err(TokenError::CertificateMismatch {
                container: container.to_string(),
                usage,
            });
        }
        let cert = x509_cert::Certificate::from_der(certificate_der)
            .map_err(|e| TokenError::BadCertificate(e.to_string()))?;
        let subject = cert
            .tbs_certificate()
            .subject()
            .to_der()
            .map_err(|e| TokenError::BadCertificate(e.to_string()))?;
        let id = object_id(container, usage);
        for old in session.find_objects(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::Id(id.clone()),
        ])? {
            session.destroy_object(old)?;
        }
        session.create_object(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Id(id),
            Attribute::Label(container.as_bytes().to_vec()),
            Attribute::Subject(subject),
            Attribute::Value(certificate_der.to_vec()),
        ])?;
        Ok(())
    }

    fn signer(&self, container: &str, usage: KeyUsage) -> Result<Arc<dyn Signer>> {
        Ok(Arc::new(self.key_handle(container, usage)?))
    }

    fn decrypter(&self, container: &str, usage: KeyUsage) -> Result<Arc<dyn Decrypter>> {
        Ok(Arc::new(self.key_handle(container, usage)?))
    }

    /// Not implemented yet: the envelope must be opened inside the device (`C_UnwrapKey`
    /// with the signing key), which yinxin does not do yet; opening it in this process would
    /// expose the escrowed key outside the token.
    fn import_enveloped_key(
        &mut self,
        _container: &str,
        format: DeliveryFormat,
        _envelope: &[u8],
    ) -> Result<KeyInfo> {
        Err(TokenError::Unsupported(format!(
            "importing an escrowed key ({format}) into a PKCS#11 token: unwrapping it inside              the device (C_UnwrapKey) is not implemented yet; use the device vendor's              SKF/CSP tool, or a software token"
        )))
    }

    fn change_pin(&mut self, kind: PinKind, old_pin: &str, new_pin: &str) -> Result<()> {
        check_pin_rules(new_pin)?;
        let session = self.lock();
        let user = match kind {
            PinKind::User => UserType::User,
            PinKind::So => UserType::So,
        };
        if self.logged_in {
            let _ = session.logout();
        }
        session
            .login(user, Some(&auth(old_pin)))
            .map_err(|e| pin_error(e, kind))?;
        let result = session.set_pin(&auth(old_pin), &auth(new_pin));
        let _ = session.logout();
        drop(session);
        self.logged_in = false;
        Ok(result?)
    }

    fn unlock_user_pin(&mut self, so_pin: &str, new_user_pin: &str) -> Result<()> {
        check_pin_rules(new_user_pin)?;
        let session = self.lock();
        if self.logged_in {
            let _ = session.logout();
        }
        session
            .login(UserType::So, Some(&auth(so_pin)))
            .map_err(|e| pin_error(e, PinKind::So))?;
        let result = session.init_pin(&auth(new_user_pin));
        let _ = session.logout();
        drop(session);
        self.logged_in = false;
        Ok(result?)
    }
}

/// A handle on a private key object in a PKCS#11 session.
struct Pkcs11Key {
    session: Arc<Mutex<Session>>,
    private: ObjectHandle,
    public: PublicKey,
}

impl std::fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pkcs11Key({})", self.public.algorithm())
    }
}

fn backend(e: impl Into<TokenError>) -> yinxin_crypto::Error {
    yinxin_crypto::Error::from(e.into())
}

impl Signer for Pkcs11Key {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign(&self, scheme: &SignatureScheme, message: &[u8]) -> yinxin_crypto::Result<Vec<u8>> {
        scheme.check_fits(self.public.algorithm())?;
        let session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match scheme {
            SignatureScheme::RsaPkcs1v15(h) => {
                let mechanism = match h {
                    HashAlgorithm::Sha256 => Mechanism::Sha256RsaPkcs,
                    HashAlgorithm::Sha384 => Mechanism::Sha384RsaPkcs,
                    HashAlgorithm::Sha512 => Mechanism::Sha512RsaPkcs,
                    HashAlgorithm::Sm3 => {
                        return Err(backend(
                            hash_mechanism(*h).err().unwrap_or(TokenError::NotLoggedIn),
                        ));
                    }
                };
                session
                    .sign(&mechanism, self.private, message)
                    .map_err(backend)
            }
            SignatureScheme::RsaPss(h) => {
                let (hash_alg, mgf) = hash_mechanism(*h).map_err(backend)?;
                let params = PkcsPssParams {
                    hash_alg,
                    mgf,
                    s_len: (h.output_len() as u64).into(),
                };
                let mechanism = match h {
                    HashAlgorithm::Sha256 => Mechanism::Sha256RsaPkcsPss(params),
                    HashAlgorithm::Sha384 => Mechanism::Sha384RsaPkcsPss(params),
                    _ => Mechanism::Sha512RsaPkcsPss(params),
                };
                session
                    .sign(&mechanism, self.private, message)
                    .map_err(backend)
            }
            SignatureScheme::Ecdsa(h) => {
                // Many modules (SoftHSM2 among them) lack CKM_ECDSA_SHA*: hash here.
                let digest = hash::digest(*h, message);
                let raw = session
                    .sign(&Mechanism::Ecdsa, self.private, &digest)
                    .map_err(backend)?;
                yinxin_crypto::ec_signature_raw_to_der(&raw)
            }
            SignatureScheme::Sm2WithSm3 { .. } => Err(backend(TokenError::Unsupported(
                "SM2 signing through this PKCS#11 module".into(),
            ))),
        }
    }
}

impl Decrypter for Pkcs11Key {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn decrypt(
        &self,
        scheme: &EncryptionScheme,
        ciphertext: &[u8],
    ) -> yinxin_crypto::Result<Zeroizing<Vec<u8>>> {
        scheme.check_fits(self.public.algorithm())?;
        let session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let out = match scheme {
            EncryptionScheme::RsaOaep(h) => {
                let (hash_alg, mgf) = hash_mechanism(*h).map_err(backend)?;
                let params = PkcsOaepParams::new(hash_alg, mgf, PkcsOaepSource::empty());
                session.decrypt(&Mechanism::RsaPkcsOaep(params), self.private, ciphertext)
            }
            EncryptionScheme::RsaOaepSha1 => {
                let params = PkcsOaepParams::new(
                    MechanismType::SHA1,
                    PkcsMgfType::MGF1_SHA1,
                    PkcsOaepSource::empty(),
                );
                session.decrypt(&Mechanism::RsaPkcsOaep(params), self.private, ciphertext)
            }
            EncryptionScheme::RsaPkcs1v15 => {
                session.decrypt(&Mechanism::RsaPkcs, self.private, ciphertext)
            }
            EncryptionScheme::Sm2(_) => {
                return Err(backend(TokenError::Unsupported(
                    "SM2 decryption through this PKCS#11 module".into(),
                )));
            }
        };
        match out {
            Ok(plain) => Ok(Zeroizing::new(plain)),
            Err(cryptoki::error::Error::Pkcs11(
                rv @ (cryptoki::error::RvError::ArgumentsBad
                | cryptoki::error::RvError::MechanismInvalid
                | cryptoki::error::RvError::MechanismParamInvalid),
                _,
            )) => Err(yinxin_crypto::Error::Unsupported(format!(
                "{scheme} on this PKCS#11 module ({rv})"
            ))),
            Err(_) => Err(yinxin_crypto::Error::DecryptionFailed),
        }
    }

    /// ECDH inside the device: `C_DeriveKey` with `CKM_ECDH1_DERIVE` and the null KDF (the
    /// peer's point passed raw, uncompressed), into a session object of type
    /// `CKK_GENERIC_SECRET` as long as the field. Such a derived object must be non-sensitive
    /// and extractable for its `CKA_VALUE` (the shared secret `Z`) to be read; it is read once
    /// and destroyed at once. The private key itself stays in the device (it needs
    /// `CKA_DERIVE`, which yinxin sets on the EC encryption keys it generates). SoftHSM2
    /// allows this; modules whose policy forbids extractable derived secrets refuse with
    /// `Unsupported`.
    fn agree(&self, peer: &PublicKey) -> yinxin_crypto::Result<Zeroizing<Vec<u8>>> {
        let field_len = match (self.public.algorithm(), peer.algorithm()) {
            (KeyAlgorithm::EcP256, KeyAlgorithm::EcP256) => 32u64,
            (KeyAlgorithm::EcP384, KeyAlgorithm::EcP384) => 48,
            (KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384, other) => {
                return Err(yinxin_crypto::Error::SchemeMismatch {
                    scheme: format!("ECDH with a {other} key"),
                    key: self.public.algorithm().to_string(),
                });
            }
            (other, _) => {
                return Err(yinxin_crypto::Error::Unsupported(format!(
                    "key agreement (ECDH) with a {other} key"
                )));
            }
        };
        let point = peer.raw_bytes();
        let params = cryptoki::mechanism::elliptic_curve::Ecdh1DeriveParams::new(
            cryptoki::mechanism::elliptic_curve::EcKdf::null(),
            &point,
        );
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::ValueLen(field_len.into()),
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
        ];
        let session = self
            .session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let derived =
            match session.derive_key(&Mechanism::Ecdh1Derive(params), self.private, &template) {
                Ok(h) => h,
                Err(cryptoki::error::Error::Pkcs11(
                    rv @ (cryptoki::error::RvError::MechanismInvalid
                    | cryptoki::error::RvError::MechanismParamInvalid
                    | cryptoki::error::RvError::KeyFunctionNotPermitted
                    | cryptoki::error::RvError::KeyTypeInconsistent
                    | cryptoki::error::RvError::TemplateInconsistent
                    | cryptoki::error::RvError::AttributeValueInvalid),
                    _,
                )) => {
                    return Err(yinxin_crypto::Error::Unsupported(format!(
                        "ECDH (CKM_ECDH1_DERIVE) on this PKCS#11 module ({rv})"
                    )));
                }
                Err(e) => return Err(backend(e)),
            };
        let value = session.get_attributes(derived, &[AttributeType::Value]);
        // The secret object goes whether or not its value could be read.
        let destroyed = session.destroy_object(derived);
        let mut secret = None;
        for a in value.map_err(backend)? {
            if let Attribute::Value(v) = a {
                secret = Some(Zeroizing::new(v));
            }
        }
        destroyed.map_err(backend)?;
        match secret {
            Some(z) if z.len() as u64 == field_len => Ok(z),
            _ => Err(yinxin_crypto::Error::Unsupported(
                "this PKCS#11 module does not reveal the ECDH shared secret".into(),
            )),
        }
    }
}
