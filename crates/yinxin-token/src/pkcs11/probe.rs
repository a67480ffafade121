//! What a PKCS#11 module (a USB key's driver) shows, for `yinxin doctor`: whether it loads,
//! its slots and tokens, the PIN state and the certificates on each token.
//!
//! The probe needs no PIN and changes nothing: it reads the library, slot and token
//! information, then opens a read-only session without logging in and reads the public
//! certificate objects. Certificates marked `CKA_PRIVATE` stay invisible without a login.
//!
//! PKCS#11 has no PIN retry counter: a module tells only flags (`CKF_USER_PIN_COUNT_LOW`,
//! `CKF_USER_PIN_FINAL_TRY`, `CKF_USER_PIN_LOCKED`, and the same for the SO PIN), and many
//! modules do not set the first two. SoftHSM2 sets `CKF_USER_PIN_COUNT_LOW` after a wrong
//! PIN (cleared by a right one) but never locks a PIN, so it never shows the other flags.

use std::path::{Path, PathBuf};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::object::{Attribute, AttributeType, CertificateType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki::slot::{Slot, TokenInfo};
use serde::Serialize;

use crate::{Result, TokenError};

/// What one PKCS#11 module shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleReport {
    /// The module's path, as given.
    pub module: PathBuf,
    /// `CK_INFO.libraryDescription`.
    pub library_description: String,
    /// `CK_INFO.manufacturerID`.
    pub manufacturer: String,
    /// The library's own version (`CK_INFO.libraryVersion`), e.g. `2.6`.
    pub library_version: String,
    /// The PKCS#11 version the library implements (`CK_INFO.cryptokiVersion`), e.g. `2.40`.
    pub cryptoki_version: String,
    /// Every slot the module lists, with or without a token.
    pub slots: Vec<SlotReport>,
}

/// One slot (a reader or USB port, as the module sees it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotReport {
    /// The slot ID (`CK_SLOT_ID`).
    pub id: u64,
    /// `CK_SLOT_INFO.slotDescription`.
    pub description: String,
    /// `CK_SLOT_INFO.manufacturerID`.
    pub manufacturer: String,
    /// `CKF_TOKEN_PRESENT`: the module says a token (key, card) is in the slot.
    pub token_present: bool,
    /// `CKF_REMOVABLE_DEVICE`: tokens can be removed from this slot.
    pub removable: bool,
    /// The token, if one is present and readable. `None` with `token_error` also `None`:
    /// the slot is empty (no key inserted).
    pub token: Option<TokenReport>,
    /// A token is present but its information could not be read (e.g. `CKR_TOKEN_NOT_RECOGNIZED`:
    /// the key is inserted but this driver does not understand it).
    pub token_error: Option<String>,
}

/// A token in a slot: its identity, PIN state (flags only, see the module docs) and
/// certificates.
///
/// The PIN flags of a token that is not `initialized` mean nothing (SoftHSM2's blank token
/// says its SO PIN is locked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenReport {
    /// `CK_TOKEN_INFO.label`.
    pub label: String,
    /// `CK_TOKEN_INFO.serialNumber`.
    pub serial: String,
    /// `CK_TOKEN_INFO.manufacturerID`.
    pub manufacturer: String,
    /// `CK_TOKEN_INFO.model`.
    pub model: String,
    /// `CKF_TOKEN_INITIALIZED`: an uninitialised token holds nothing yet.
    pub initialized: bool,
    /// `CKF_USER_PIN_INITIALIZED`: a user PIN has been set.
    pub user_pin_initialized: bool,
    /// `CKF_USER_PIN_LOCKED`: too many wrong user PINs; unlock with the SO PIN.
    pub user_pin_locked: bool,
    /// `CKF_USER_PIN_FINAL_TRY`: one more wrong user PIN locks it.
    pub user_pin_final_try: bool,
    /// `CKF_USER_PIN_COUNT_LOW`: a wrong user PIN was entered since the last right one.
    pub user_pin_count_low: bool,
    /// `CKF_USER_PIN_TO_BE_CHANGED`: the user PIN is the default or has expired.
    pub user_pin_to_be_changed: bool,
    /// `CKF_SO_PIN_LOCKED`: the SO PIN is locked; the token must be re-initialised.
    pub so_pin_locked: bool,
    /// `CKF_SO_PIN_FINAL_TRY`: one more wrong SO PIN locks it.
    pub so_pin_final_try: bool,
    /// `CKF_SO_PIN_COUNT_LOW`: a wrong SO PIN was entered since the last right one.
    pub so_pin_count_low: bool,
    /// The public X.509 certificate objects, in the order the module returns them.
    pub certificates: Vec<CertificateObject>,
    /// Why the certificates could not be listed (or not all of them), if so. The token's
    /// other facts are still valid.
    pub certificates_error: Option<String>,
}

/// An X.509 certificate object (`CKO_CERTIFICATE`, `CKC_X_509`) on a token.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CertificateObject {
    /// `CKA_LABEL`, lossily decoded as UTF-8 (empty if absent).
    pub label: String,
    /// `CKA_ID` (empty if absent); yinxin writes `<container>/sign` or `<container>/enc`.
    #[serde(serialize_with = "as_hex")]
    pub id: Vec<u8>,
    /// `CKA_VALUE`: the certificate's DER, as stored (not checked here).
    #[serde(serialize_with = "as_hex")]
    pub der: Vec<u8>,
}

impl std::fmt::Debug for CertificateObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateObject")
            .field("label", &self.label)
            .field("id", &String::from_utf8_lossy(&self.id))
            .field("der_len", &self.der.len())
            .finish()
    }
}

fn as_hex<S: serde::Serializer>(bytes: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

/// Load `module`, list its slots, tokens and public certificates, and unload it.
///
/// Needs no PIN and writes nothing to any token. A module that cannot be loaded or
/// initialised is a [`TokenError::Module`] whose reason says what happened (the file is
/// missing, is not a shared library, lacks `C_GetFunctionList`, `C_Initialize` failed with
/// `CKR_…`); a token that cannot be read, or whose certificates cannot be listed, is reported
/// in its [`SlotReport`] or [`TokenReport`] instead.
///
/// If this process already uses the module (a [`Pkcs11Token`](super::Pkcs11Token) is open),
/// the probe shares that initialisation and leaves it in place; otherwise it calls
/// `C_Finalize` when done. Do not open a `Pkcs11Token` on the same module from another thread
/// while a probe runs: its `C_Initialize` would find the module already initialised.
pub fn probe(module: &Path) -> Result<ModuleReport> {
    tracing::debug!(module = %module.display(), "probing PKCS#11 module");
    let ctx = load(module)?;
    let owned = match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => true,
        // Initialised by this process already: share it, and leave finalising to its owner.
        Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => false,
        Err(e) => return Err(module_error(module, call_failed(e))),
    };
    let report = collect(&ctx, module);
    if owned && let Err(e) = ctx.finalize() {
        tracing::debug!(module = %module.display(), error = %e, "C_Finalize failed");
    }
    report
}

/// `dlopen` the module and get its function list, with a plain reason on failure.
fn load(module: &Path) -> Result<Pkcs11> {
    // A bare file name is searched by the system loader; a path must exist as given.
    if module.components().count() > 1 {
        match std::fs::metadata(module) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(module_error(module, "the file does not exist".into()));
            }
            Err(e) => return Err(module_error(module, format!("cannot read the file: {e}"))),
            Ok(m) if m.is_dir() => {
                return Err(module_error(
                    module,
                    "it is a directory, not a shared library".into(),
                ));
            }
            Ok(_) => {}
        }
    }
    Pkcs11::new(module).map_err(|e| module_error(module, load_failed(module, e)))
}

fn module_error(module: &Path, reason: String) -> TokenError {
    TokenError::Module {
        path: module.to_path_buf(),
        reason,
    }
}

/// Why loading failed, in plain words; the loader's own message is kept for support.
fn load_failed(module: &Path, e: Error) -> String {
    match e {
        Error::LibraryLoading(e) => {
            let desc = e.to_string();
            if [
                "invalid ELF header",
                "file too short",
                "ET_DYN",
                "not a dynamic",
            ]
            .iter()
            .any(|m| desc.contains(m))
            {
                format!("it is not a shared library (loader: {desc})")
            } else if desc.contains("wrong ELF class") || desc.contains("ELF file's machine") {
                format!("it was built for another architecture or word size (loader: {desc})")
            } else if desc.contains("cannot open shared object file")
                && !desc.starts_with(&*module.to_string_lossy())
            {
                format!("a library it needs is not installed (loader: {desc})")
            } else if desc.contains("undefined symbol") {
                format!("it needs a symbol this system's libraries lack (loader: {desc})")
            } else {
                format!("the system loader refused it: {desc}")
            }
        }
        Error::MissingSymbol(symbol) => {
            format!("it is a shared library but not a PKCS#11 module (it has no {symbol})")
        }
        other => call_failed(other),
    }
}

/// `C_Foo failed with CKR_BAR`, for a failed call into the module.
fn call_failed(e: Error) -> String {
    match e {
        Error::Pkcs11(rv, function) => {
            let hint = match (function, rv) {
                (Function::Initialize, RvError::GeneralError) => {
                    " (the module could not start: often its configuration file is missing or \
                     unreadable, or the device's service is not running)"
                }
                (Function::Initialize, RvError::CantLock) => {
                    " (the module cannot work with the locking this program asks for)"
                }
                _ => "",
            };
            format!("C_{function:?} failed with {}{hint}", ckr_name(rv))
        }
        Error::NullFunctionPointer => {
            "the module lists a PKCS#11 function it does not implement".into()
        }
        other => other.to_string(),
    }
}

/// The specification's name of a return value: `PinIncorrect` → `CKR_PIN_INCORRECT`.
fn ckr_name(rv: RvError) -> String {
    match rv {
        RvError::VendorDefined(code) => format!("vendor-defined CKR {code:#x}"),
        RvError::UnknownErrorCode(code) => format!("unknown CKR {code:#x}"),
        other => {
            let mut name = String::from("CKR");
            for c in format!("{other:?}").chars() {
                if c.is_ascii_uppercase() {
                    name.push('_');
                }
                name.push(c.to_ascii_uppercase());
            }
            name
        }
    }
}

/// Fixed-width PKCS#11 strings are blank-padded; some modules pad with NULs.
fn text(s: &str) -> String {
    s.trim_end_matches([' ', '\0']).to_string()
}

fn collect(ctx: &Pkcs11, module: &Path) -> Result<ModuleReport> {
    let info = ctx
        .get_library_info()
        .map_err(|e| module_error(module, call_failed(e)))?;
    let slots = ctx
        .get_all_slots()
        .map_err(|e| module_error(module, call_failed(e)))?;
    let mut report = ModuleReport {
        module: module.to_path_buf(),
        library_description: text(info.library_description()),
        manufacturer: text(info.manufacturer_id()),
        library_version: info.library_version().to_string(),
        cryptoki_version: info.cryptoki_version().to_string(),
        slots: Vec::with_capacity(slots.len()),
    };
    for slot in slots {
        report.slots.push(slot_report(ctx, slot));
    }
    tracing::debug!(
        module = %module.display(),
        slots = report.slots.len(),
        tokens = report.slots.iter().filter(|s| s.token.is_some()).count(),
        "PKCS#11 module probed"
    );
    Ok(report)
}

fn slot_report(ctx: &Pkcs11, slot: Slot) -> SlotReport {
    let mut report = SlotReport {
        id: slot.id(),
        description: String::new(),
        manufacturer: String::new(),
        token_present: false,
        removable: false,
        token: None,
        token_error: None,
    };
    match ctx.get_slot_info(slot) {
        Ok(info) => {
            report.description = text(info.slot_description());
            report.manufacturer = text(info.manufacturer_id());
            report.token_present = info.token_present();
            report.removable = info.removable_device();
        }
        // The slot list said it exists; a slot we cannot ask about is best shown as unreadable.
        Err(e) => {
            report.token_error = Some(call_failed(e));
            return report;
        }
    }
    if !report.token_present {
        return report;
    }
    match ctx.get_token_info(slot) {
        Ok(info) => report.token = Some(token_report(ctx, slot, &info)),
        // Removed between the two calls: the slot is empty after all.
        Err(Error::Pkcs11(RvError::TokenNotPresent | RvError::DeviceRemoved, _)) => {
            report.token_present = false;
        }
        Err(e) => report.token_error = Some(call_failed(e)),
    }
    tracing::debug!(
        slot = report.id,
        description = %report.description,
        token = ?report.token.as_ref().map(|t| &t.label),
        error = ?report.token_error,
        "PKCS#11 slot"
    );
    report
}

fn token_report(ctx: &Pkcs11, slot: Slot, info: &TokenInfo) -> TokenReport {
    let mut report = TokenReport {
        label: text(info.label()),
        serial: text(info.serial_number()),
        manufacturer: text(info.manufacturer_id()),
        model: text(info.model()),
        initialized: info.token_initialized(),
        user_pin_initialized: info.user_pin_initialized(),
        user_pin_locked: info.user_pin_locked(),
        user_pin_final_try: info.user_pin_final_try(),
        user_pin_count_low: info.user_pin_count_low(),
        user_pin_to_be_changed: info.user_pin_to_be_changed(),
        so_pin_locked: info.so_pin_locked(),
        so_pin_final_try: info.so_pin_final_try(),
        so_pin_count_low: info.so_pin_count_low(),
        certificates: Vec::new(),
        certificates_error: None,
    };
    // An uninitialised token has no objects, and many modules refuse sessions on it.
    if report.initialized {
        let (certificates, error) = certificates(ctx, slot);
        report.certificates = certificates;
        report.certificates_error = error;
    }
    report
}

/// The public X.509 certificates, read in a read-only session without login. Objects that
/// cannot be read are named in the error and skipped; the others are still returned.
fn certificates(ctx: &Pkcs11, slot: Slot) -> (Vec<CertificateObject>, Option<String>) {
    let session = match ctx.open_ro_session(slot) {
        Ok(s) => s,
        Err(e) => return (Vec::new(), Some(call_failed(e))),
    };
    let handles = match session.find_objects(&[
        Attribute::Class(ObjectClass::CERTIFICATE),
        Attribute::CertificateType(CertificateType::X_509),
    ]) {
        Ok(h) => h,
        Err(e) => return (Vec::new(), Some(call_failed(e))),
    };
    let mut found = Vec::with_capacity(handles.len());
    let mut problems = Vec::new();
    for handle in handles {
        match certificate(&session, handle) {
            Ok(c) => found.push(c),
            Err(problem) => problems.push(problem),
        }
    }
    // Closing explicitly, so a failure is logged here rather than lost in a drop.
    if let Err(e) = session.close() {
        tracing::debug!(slot = slot.id(), error = %e, "C_CloseSession failed");
    }
    let error = (!problems.is_empty()).then(|| problems.join("; "));
    (found, error)
}

fn certificate(
    session: &Session,
    handle: ObjectHandle,
) -> std::result::Result<CertificateObject, String> {
    let attributes = session
        .get_attributes(
            handle,
            &[
                AttributeType::Label,
                AttributeType::Id,
                AttributeType::Value,
            ],
        )
        .map_err(|e| format!("certificate object {handle}: {}", call_failed(e)))?;
    let (mut label, mut id, mut der) = (String::new(), Vec::new(), None);
    for a in attributes {
        match a {
            Attribute::Label(l) => label = String::from_utf8_lossy(&l).into_owned(),
            Attribute::Id(i) => id = i,
            Attribute::Value(v) => der = Some(v),
            _ => {}
        }
    }
    match der {
        Some(der) if !der.is_empty() => Ok(CertificateObject { label, id, der }),
        _ => Err(format!(
            "certificate object \"{label}\" has no readable value (CKA_VALUE)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_values_get_their_specification_names() {
        assert_eq!(ckr_name(RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(ckr_name(RvError::GeneralError), "CKR_GENERAL_ERROR");
        assert_eq!(
            ckr_name(RvError::CryptokiAlreadyInitialized),
            "CKR_CRYPTOKI_ALREADY_INITIALIZED"
        );
        assert_eq!(
            ckr_name(RvError::VendorDefined(0x8000_0001)),
            "vendor-defined CKR 0x80000001"
        );
        assert_eq!(
            call_failed(Error::Pkcs11(
                RvError::TokenNotRecognized,
                Function::GetTokenInfo
            )),
            "C_GetTokenInfo failed with CKR_TOKEN_NOT_RECOGNIZED"
        );
    }

    #[test]
    fn padded_strings_are_trimmed() {
        assert_eq!(text("SoftHSM  \0\0"), "SoftHSM");
        assert_eq!(text(" a b "), " a b");
    }
}
