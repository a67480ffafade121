//! `yinxin token …`: the software token and PKCS#11 devices through one trait.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde_json::json;
use yinxin_crypto::KeySpec;
use yinxin_token::soft::{FILE_EXTENSION, InitOptions};
use yinxin_token::{KeyUsage, PinKind, Pkcs11Token, SoftToken, Token};

use crate::Outcome;
use crate::args::{
    PinArgs, TokenChangePinArgs, TokenCsrArgs, TokenDecryptArgs, TokenEnrollArgs,
    TokenImportCertArgs, TokenImportKeyArgs, TokenInitArgs, TokenKeygenArgs, TokenOnly,
    TokenSelect, TokenSignArgs,
};
use crate::{input, key_commands};

/// `$YINXIN_HOME`, default `~/.yinxin` (the layout `yinxin doctor` checks).
pub(crate) fn yinxin_home() -> Result<PathBuf> {
    Ok(yinxin_doctor::Home::from_env()?.root().to_path_buf())
}

fn soft_path(sel: &TokenSelect) -> Result<PathBuf> {
    match &sel.path {
        Some(p) => Ok(p.clone()),
        None => {
            if sel.name.is_empty() || sel.name.contains(['/', '\\']) || sel.name.starts_with('.') {
                bail!("--name must be a plain name, not a path (use --path for a file)");
            }
            Ok(yinxin_home()?
                .join("tokens")
                .join(format!("{}.{FILE_EXTENSION}", sel.name)))
        }
    }
}

fn open(sel: &TokenSelect) -> Result<Box<dyn Token>> {
    match &sel.pkcs11 {
        Some(module) => Ok(Box::new(Pkcs11Token::open(
            module,
            sel.token_label.as_deref(),
        )?)),
        None => Ok(Box::new(SoftToken::open(&soft_path(sel)?)?)),
    }
}

fn user_pin(pins: &PinArgs) -> Result<zeroize::Zeroizing<String>> {
    input::secret(pins.pin_file.as_ref(), "YINXIN_PIN", "user PIN", false)
}

fn so_pin(pins: &PinArgs) -> Result<zeroize::Zeroizing<String>> {
    input::secret(pins.so_pin_file.as_ref(), "YINXIN_SO_PIN", "SO PIN", false)
}

fn new_pin(pins: &PinArgs, what: &str) -> Result<zeroize::Zeroizing<String>> {
    input::secret(pins.new_pin_file.as_ref(), "YINXIN_NEW_PIN", what, true)
}

pub(crate) fn open_logged_in(sel: &TokenSelect, pins: &PinArgs) -> Result<Box<dyn Token>> {
    let mut t = open(sel)?;
    t.login(&user_pin(pins)?)?;
    Ok(t)
}

pub(crate) fn init(args: &TokenInitArgs, json_out: bool) -> Result<Outcome> {
    let so = input::secret(
        args.pins.so_pin_file.as_ref(),
        "YINXIN_SO_PIN",
        "new SO PIN",
        true,
    )?;
    let user = input::secret(
        args.pins.pin_file.as_ref(),
        "YINXIN_PIN",
        "new user PIN",
        true,
    )?;
    let (token, location): (Box<dyn Token>, String) = match &args.token.pkcs11 {
        Some(module) => (
            Box::new(Pkcs11Token::init(module, &args.label, &so, &user)?),
            module.display().to_string(),
        ),
        None => {
            let path = soft_path(&args.token)?;
            let options = InitOptions {
                label: args.label.clone(),
                max_user_retries: args.max_retries,
                ..InitOptions::default()
            };
            (
                Box::new(SoftToken::init(&path, &so, &user, &options)?),
                path.display().to_string(),
            )
        }
    };
    let info = token.info()?;
    if json_out {
        outln!(
            "{}",
            json!({"label": info.label, "serial": info.serial, "kind": info.kind.to_string(), "location": location})
        );
    } else {
        outln!(
            "initialised {} \"{}\" (serial {}) at {location}",
            info.kind,
            info.label,
            info.serial
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn info(args: &TokenOnly, json_out: bool) -> Result<Outcome> {
    let mut extra = serde_json::Map::new();
    let token: Box<dyn Token> = match &args.token.pkcs11 {
        Some(module) => Box::new(Pkcs11Token::open(
            module,
            args.token.token_label.as_deref(),
        )?),
        None => {
            let path = soft_path(&args.token)?;
            let t = SoftToken::open(&path)?;
            extra.insert("path".into(), json!(path));
            extra.insert("created_on_machine".into(), json!(t.created_on()));
            Box::new(t)
        }
    };
    let info = token.info()?;
    if json_out {
        let mut v = json!({
            "kind": info.kind.to_string(),
            "label": info.label,
            "serial": info.serial,
            "manufacturer": info.manufacturer,
            "user_pin_retries_left": info.user_pin_retries_left,
            "user_pin_locked": info.user_pin_locked,
        });
        if let Some(o) = v.as_object_mut() {
            o.extend(extra);
        }
        outln!("{v}");
    } else {
        outln!("kind:          {}", info.kind);
        outln!("label:         {}", info.label);
        outln!("serial:        {}", info.serial);
        outln!("manufacturer:  {}", info.manufacturer);
        let pin_state = match (info.user_pin_locked, info.user_pin_retries_left) {
            (true, _) => "LOCKED (unlock with `yinxin token unlock`)".to_string(),
            (false, Some(n)) => format!("ok, {n} attempt(s) left"),
            (false, None) => "ok".to_string(),
        };
        outln!("user PIN:      {pin_state}");
        for (k, v) in extra {
            outln!(
                "{:<14} {}",
                format!("{}:", k.replace('_', " ")),
                v.as_str().unwrap_or_default()
            );
        }
    }
    Ok(Outcome::Done)
}

pub(crate) fn list(args: &TokenOnly, json_out: bool) -> Result<Outcome> {
    let token = open(&args.token)?;
    let containers = token.containers()?;
    if json_out {
        let v: Vec<_> = containers
            .iter()
            .map(|c| {
                json!({
                    "container": c.name,
                    "keys": c.keys.iter().map(|k| json!({
                        "usage": k.usage.name(),
                        "algorithm": k.public_key.algorithm().to_string(),
                        "public_key_pem": k.public_key.to_pem(),
                        "has_certificate": k.certificate.is_some(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        outln!("{}", serde_json::Value::Array(v));
    } else if containers.is_empty() {
        outln!("no containers (create one with `yinxin token keygen --container NAME`)");
    } else {
        for c in &containers {
            outln!("container {}", c.name);
            for k in &c.keys {
                let cert = if k.certificate.is_some() {
                    "certificate"
                } else {
                    "no certificate"
                };
                outln!(
                    "  {:<4} {:<12} {cert}",
                    k.usage.name(),
                    k.public_key.algorithm().to_string()
                );
            }
        }
    }
    Ok(Outcome::Done)
}

pub(crate) fn keygen(args: &TokenKeygenArgs, json_out: bool) -> Result<Outcome> {
    let spec: KeySpec = args.alg.parse()?;
    let usage: KeyUsage = args.usage.parse()?;
    let mut token = open_logged_in(&args.token, &args.pins)?;
    let public = token.generate_key(&args.container, usage, spec)?;
    if json_out {
        outln!(
            "{}",
            json!({"container": args.container, "usage": usage.name(), "algorithm": public.algorithm().to_string(), "public_key_pem": public.to_pem()})
        );
    } else {
        outln!(
            "generated a {} {usage} key in container {}",
            public.algorithm(),
            args.container
        );
        out!("{}", public.to_pem());
    }
    Ok(Outcome::Done)
}

pub(crate) fn import_cert(args: &TokenImportCertArgs, json_out: bool) -> Result<Outcome> {
    let usage: KeyUsage = args.usage.parse()?;
    let data = input::read_small(&args.cert, "a certificate")?;
    let cert = yinxin_pki::certificate::from_pem_or_der(&data)?;
    let der = yinxin_pki::certificate::to_der(&cert)?;
    let mut token = open_logged_in(&args.token, &args.pins)?;
    token.import_certificate(&args.container, usage, &der)?;
    if json_out {
        outln!(
            "{}",
            json!({"container": args.container, "usage": usage.name(), "imported": true})
        );
    } else {
        outln!(
            "stored the certificate for the {usage} key of container {}",
            args.container
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn change_pin(args: &TokenChangePinArgs, json_out: bool) -> Result<Outcome> {
    let mut token = open(&args.token)?;
    let (kind, old) = if args.so {
        (PinKind::So, so_pin(&args.pins)?)
    } else {
        (PinKind::User, user_pin(&args.pins)?)
    };
    let new = new_pin(&args.pins, &format!("new {kind} PIN"))?;
    token.change_pin(kind, &old, &new)?;
    if json_out {
        outln!("{}", json!({"changed": kind.to_string()}));
    } else {
        outln!("changed the {kind} PIN");
    }
    Ok(Outcome::Done)
}

pub(crate) fn unlock(args: &TokenOnly, json_out: bool) -> Result<Outcome> {
    let mut token = open(&args.token)?;
    let so = so_pin(&args.pins)?;
    let new = new_pin(&args.pins, "new user PIN")?;
    token.unlock_user_pin(&so, &new)?;
    if json_out {
        outln!("{}", json!({"unlocked": true}));
    } else {
        outln!("the user PIN is unlocked and set anew");
    }
    Ok(Outcome::Done)
}

pub(crate) fn csr(args: &TokenCsrArgs, json_out: bool) -> Result<Outcome> {
    let subject = yinxin_pki::name::parse(&args.subject)?;
    let token = open_logged_in(&args.token, &args.pins)?;
    let signer = token.signer(&args.container, KeyUsage::Signing)?;
    let scheme = input::scheme(signer.algorithm(), &args.scheme)?;
    let req = yinxin_pki::csr::build(signer.as_ref(), subject, &scheme)?;
    let pem = yinxin_pki::csr::to_pem(&req)?;
    input::write(&args.out, pem.as_bytes(), false)?;
    if json_out {
        outln!("{}", json!({"out": args.out, "scheme": scheme.to_string()}));
    } else {
        eprintln!("wrote a {scheme} request to {}", args.out.display());
    }
    Ok(Outcome::Done)
}

pub(crate) fn sign(args: &TokenSignArgs, json_out: bool) -> Result<Outcome> {
    let token = open_logged_in(&args.token, &args.pins)?;
    let signer = token.signer(&args.container, KeyUsage::Signing)?;
    key_commands::sign_file(
        signer.as_ref(),
        &args.scheme,
        &args.input,
        &args.out,
        json_out,
    )
}

pub(crate) fn decrypt(args: &TokenDecryptArgs, json_out: bool) -> Result<Outcome> {
    let token = open_logged_in(&args.token, &args.pins)?;
    let decrypter = token.decrypter(&args.container, KeyUsage::Encryption)?;
    key_commands::decrypt_file(
        decrypter.as_ref(),
        args.padding,
        &args.input,
        &args.out,
        json_out,
    )
}

pub(crate) fn enroll(args: &TokenEnrollArgs, json_out: bool) -> Result<Outcome> {
    use base64::Engine as _;
    let profile = args.profile.as_str();
    if profile != "organisation" && profile != "employee" {
        bail!("token enroll is for dual certificates: --profile organisation or employee");
    }
    let subject = yinxin_pki::name::parse(&args.subject)?;
    let mut token = open_logged_in(&args.token, &args.pins)?;
    let has_signing_key = token
        .containers()?
        .iter()
        .any(|c| c.name == args.container && c.keys.iter().any(|k| k.usage == KeyUsage::Signing));
    if !has_signing_key {
        let spec: KeySpec = args.alg.parse()?;
        token.generate_key(&args.container, KeyUsage::Signing, spec)?;
    }
    let signer = token.signer(&args.container, KeyUsage::Signing)?;
    let scheme = signer.algorithm().default_signature_scheme();
    let req = yinxin_pki::csr::build(signer.as_ref(), subject, &scheme)?;
    let body = yinxin_server::api::IssueRequest {
        csr: yinxin_pki::csr::to_pem(&req)?,
        profile: profile.to_string(),
        ca: args.request.ca.clone(),
        validity_days: args.request.days,
        sans: args.request.sans.clone(),
        identity: yinxin_server::api::Identity {
            organization_code: args.request.org_code.clone(),
            taxation_number: args.request.tax_number.clone(),
            resident_card_number: args.request.id_number.clone(),
            ..Default::default()
        },
    };
    let dual = crate::server_commands::enrol(&args.server, &body)?;
    let envelope = base64::engine::general_purpose::STANDARD
        .decode(&dual.delivered_key.envelope)
        .context("the server's envelope is not base64")?;
    let format: yinxin_token::DeliveryFormat = dual.delivered_key.format.parse()?;
    let der_of = |pem: &str| -> Result<Vec<u8>> {
        let cert = yinxin_pki::certificate::from_pem_or_der(pem.as_bytes())?;
        Ok(yinxin_pki::certificate::to_der(&cert)?)
    };
    token.import_certificate(
        &args.container,
        KeyUsage::Signing,
        &der_of(&dual.signing.certificate_pem)?,
    )?;
    token.import_enveloped_key(&args.container, format, &envelope)?;
    token.import_certificate(
        &args.container,
        KeyUsage::Encryption,
        &der_of(&dual.encryption.certificate_pem)?,
    )?;
    if json_out {
        outln!(
            "{}",
            json!({"container": args.container, "ca": dual.signing.ca,
                   "signing_serial": dual.signing.serial, "encryption_serial": dual.encryption.serial,
                   "envelope_format": dual.delivered_key.format})
        );
    } else {
        outln!(
            "enrolled container {}: signing certificate {} and encryption certificate {} from {}; \
             the escrowed encryption key ({}) is in the token",
            args.container,
            dual.signing.serial,
            dual.encryption.serial,
            dual.signing.ca,
            dual.delivered_key.format
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn import_key(args: &TokenImportKeyArgs, json_out: bool) -> Result<Outcome> {
    let envelope = input::read_small(&args.envelope, "a key envelope")?;
    let format = yinxin_token::DeliveryFormat::detect(&envelope)?;
    let cert = match &args.cert {
        Some(p) => {
            let data = input::read_small(p, "a certificate")?;
            Some(yinxin_pki::certificate::to_der(
                &yinxin_pki::certificate::from_pem_or_der(&data)?,
            )?)
        }
        None => None,
    };
    let mut token = open_logged_in(&args.token, &args.pins)?;
    let info = token.import_enveloped_key(&args.container, format, &envelope)?;
    if let Some(der) = &cert {
        token.import_certificate(&args.container, KeyUsage::Encryption, der)?;
    }
    if json_out {
        outln!(
            "{}",
            json!({"container": args.container, "format": format.name(), "algorithm": info.public_key.algorithm().to_string(), "certificate": cert.is_some()})
        );
    } else {
        outln!(
            "imported the {} encryption key ({}) into container {}",
            info.public_key.algorithm(),
            format.name(),
            args.container
        );
    }
    Ok(Outcome::Done)
}
