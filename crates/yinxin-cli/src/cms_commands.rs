//! `yinxin cms sign|verify|encrypt|decrypt`: CMS signatures (RFC 5652, GM/T 0010) and digital
//! envelopes with keys from files, software tokens or PKCS#11 devices.
//!
//! The arguments live here rather than in `args.rs` because no other command uses them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use yinxin_cms::algorithm::ContentCipher;
use yinxin_cms::enveloped_data::{self, Recipient, SealOptions};
use yinxin_cms::signed_data::{self, Form, SignOptions, SignerSpec, VerifyOptions};
use yinxin_cms::timestamp::{TimestampRequest, TimestampResponse};
use yinxin_crypto::{Decrypter, DistinguishingId, HashAlgorithm, KeyAlgorithm, PrivateKey, Signer};
use yinxin_pki::certificate::{self, Certificate};
use yinxin_pki::path::{AtPastTime, CrlSet};
use yinxin_token::{KeyUsage, Token};

use crate::Outcome;
use crate::args::{PinArgs, SchemeArgs, TokenSelect};
use crate::{input, token_commands};

/// Signed and enveloped messages are read whole; larger inputs are refused up front.
const MAX_MESSAGE: u64 = 1 << 30;

#[derive(Debug, Subcommand)]
pub(crate) enum CmsCommand {
    /// Sign a file: CMS SignedData, attached or detached, optionally timestamped.
    Sign(CmsSignArgs),
    /// Verify a SignedData: signatures, certificate chains, revocation, timestamps.
    Verify(CmsVerifyArgs),
    /// Encrypt a file to one or more recipient certificates: CMS EnvelopedData.
    Encrypt(CmsEncryptArgs),
    /// Open an EnvelopedData with a private key (file, software token or PKCS#11).
    Decrypt(CmsDecryptArgs),
    /// Throughput of signing, verification, encryption and decryption for 1 KB and 10 MB.
    Bench(CmsBenchArgs),
}

/// The message syntax to write.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub(crate) enum FormArg {
    /// RFC 5652 identifiers (what OpenSSL and BouncyCastle read).
    #[default]
    Rfc5652,
    /// GM/T 0010-2012 identifiers (1.2.156.10197.6.1.4.2.x), as Chinese middleware writes.
    Gmt0010,
}

impl From<FormArg> for Form {
    fn from(f: FormArg) -> Form {
        match f {
            FormArg::Rfc5652 => Form::Rfc5652,
            FormArg::Gmt0010 => Form::GmT0010,
        }
    }
}

/// Where a private key is: a key file, a software token, or a PKCS#11 device.
#[derive(Debug, Args, Clone)]
pub(crate) struct KeySource {
    /// Private key file (PKCS#8, SEC1 or PKCS#1; PEM or DER).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["token", "pkcs11"])]
    pub(crate) key: Option<PathBuf>,
    /// File holding the key file's password (else asked when the key is encrypted).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub(crate) password_file: Option<PathBuf>,
    /// Software token: a name under $YINXIN_HOME/tokens or the path of a token file.
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "pkcs11")]
    pub(crate) token: Option<String>,
    /// PKCS#11 module (USB key or HSM driver).
    #[arg(long, value_name = "MODULE.so")]
    pub(crate) pkcs11: Option<PathBuf>,
    /// With --pkcs11: the token's label (default: the first initialised token).
    #[arg(long, requires = "pkcs11")]
    pub(crate) token_label: Option<String>,
    /// The container in the token.
    #[arg(long, default_value = "default")]
    pub(crate) container: String,
    /// File holding the token's user PIN (else $YINXIN_PIN, else a prompt).
    #[arg(long, value_name = "FILE")]
    pub(crate) pin_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CmsSignArgs {
    #[command(flatten)]
    pub(crate) source: KeySource,
    /// The signer's certificate (default: the one stored in the token's container).
    #[arg(long, value_name = "CERT.pem")]
    pub(crate) cert: Option<PathBuf>,
    /// More certificates to include (intermediate CAs), PEM.
    #[arg(long, value_name = "CHAIN.pem")]
    pub(crate) chain: Option<PathBuf>,
    /// The content to sign.
    #[arg(long = "in", value_name = "FILE")]
    pub(crate) input: PathBuf,
    /// Where to write the SignedData (DER, or PEM with --pem).
    #[arg(long, value_name = "SIG.p7s")]
    pub(crate) out: PathBuf,
    /// Leave the content out of the signature.
    #[arg(long)]
    pub(crate) detached: bool,
    /// Which identifiers to write.
    #[arg(long, value_enum, default_value = "rfc5652")]
    pub(crate) form: FormArg,
    /// Timestamp the signature at this RFC 3161 server (e.g. http://HOST:8700/tsa).
    #[arg(long, value_name = "URL")]
    pub(crate) tsa: Option<String>,
    /// Write PEM (-----BEGIN CMS-----) instead of DER.
    #[arg(long)]
    pub(crate) pem: bool,
    /// Do not add the signingTime attribute.
    #[arg(long)]
    pub(crate) no_signing_time: bool,
    /// Do not include certificates in the message.
    #[arg(long)]
    pub(crate) no_certs: bool,
    #[command(flatten)]
    pub(crate) scheme: SchemeArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CmsVerifyArgs {
    /// The SignedData (DER, BER or PEM; RFC 5652 or GM/T 0010).
    #[arg(long = "in", value_name = "SIG.p7s")]
    pub(crate) input: PathBuf,
    /// The content, for a detached signature.
    #[arg(long, value_name = "FILE")]
    pub(crate) content: Option<PathBuf>,
    /// Trusted root certificates (PEM).
    #[arg(long, value_name = "ROOTS.pem")]
    pub(crate) roots: PathBuf,
    /// More certificates that may complete chains (PEM).
    #[arg(long, value_name = "FILE")]
    pub(crate) untrusted: Option<PathBuf>,
    /// CRLs to check revocation against (PEM or DER).
    #[arg(long, value_name = "FILE")]
    pub(crate) crls: Option<PathBuf>,
    /// SM2 signer ID the signatures were made with (default 1234567812345678).
    #[arg(long)]
    pub(crate) id: Option<String>,
    /// Write the attached content here once the signature is valid.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CmsEncryptArgs {
    /// A recipient's certificate (repeatable).
    #[arg(long = "to", value_name = "CERT.pem", required = true)]
    pub(crate) to: Vec<PathBuf>,
    /// The content to encrypt.
    #[arg(long = "in", value_name = "FILE")]
    pub(crate) input: PathBuf,
    /// Where to write the EnvelopedData (DER, or PEM with --pem).
    #[arg(long, value_name = "ENV.p7m")]
    pub(crate) out: PathBuf,
    /// Which identifiers to write.
    #[arg(long, value_enum, default_value = "rfc5652")]
    pub(crate) form: FormArg,
    /// Content cipher (default SM4-CBC when every recipient is SM2, else AES-256-CBC).
    #[arg(long, value_name = "aes-256-cbc|aes-192-cbc|aes-128-cbc|sm4-cbc")]
    pub(crate) cipher: Option<String>,
    /// Name recipients by subject key identifier instead of issuer and serial number.
    #[arg(long)]
    pub(crate) keyid: bool,
    /// Write PEM instead of DER.
    #[arg(long)]
    pub(crate) pem: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CmsDecryptArgs {
    #[command(flatten)]
    pub(crate) source: KeySource,
    /// The recipient's certificate (helps to find the recipient among several).
    #[arg(long, value_name = "CERT.pem")]
    pub(crate) cert: Option<PathBuf>,
    /// The EnvelopedData (DER, BER or PEM; RFC 5652 or GM/T 0010).
    #[arg(long = "in", value_name = "ENV.p7m")]
    pub(crate) input: PathBuf,
    /// Where to write the content.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CmsBenchArgs {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) seconds: f64,
    /// Key types (default: sm2 rsa2048 ecdsap256).
    pub(crate) algorithms: Vec<String>,
}

pub(crate) fn run(command: &CmsCommand, json_out: bool) -> Result<Outcome> {
    match command {
        CmsCommand::Sign(a) => sign(a, json_out),
        CmsCommand::Verify(a) => verify(a, json_out),
        CmsCommand::Encrypt(a) => encrypt(a, json_out),
        CmsCommand::Decrypt(a) => decrypt(a, json_out),
        CmsCommand::Bench(a) => crate::bench_cms::run(a, json_out),
    }
}

/// A file read whole, refusing what cannot be a message.
fn read_message(path: &Path) -> Result<Vec<u8>> {
    if path != Path::new("-") {
        let len = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if len > MAX_MESSAGE {
            bail!(
                "{} is {len} bytes, larger than yinxin handles in one message (1 GiB)",
                path.display()
            );
        }
    }
    input::read(path)
}

pub(crate) fn certificates(path: &Path) -> Result<Vec<Certificate>> {
    let data = read_message(path)?;
    certificate::all_from_pem_or_der(&data)
        .with_context(|| format!("cannot read certificates from {}", path.display()))
}

pub(crate) fn one_certificate(path: &Path) -> Result<Certificate> {
    certificates(path)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("{} holds no certificate", path.display()))
}

/// An opened key: a handle and, for tokens, the token it lives in (kept open while the
/// handle is used) and the certificate stored beside the key.
pub(crate) struct OpenedKey<H: ?Sized> {
    pub(crate) handle: Arc<H>,
    pub(crate) stored_certificate: Option<Vec<u8>>,
    _token: Option<Box<dyn Token>>,
}

fn open_token(source: &KeySource) -> Result<Option<Box<dyn Token>>> {
    let select = match (&source.token, &source.pkcs11) {
        (None, None) => return Ok(None),
        (_, Some(module)) => TokenSelect {
            path: None,
            name: String::new(),
            pkcs11: Some(module.clone()),
            token_label: source.token_label.clone(),
        },
        (Some(t), None) => {
            let as_path = Path::new(t);
            let is_path = t.contains(['/', '\\']) || as_path.extension().is_some();
            TokenSelect {
                path: is_path.then(|| as_path.to_path_buf()),
                name: if is_path { String::new() } else { t.clone() },
                pkcs11: None,
                token_label: None,
            }
        }
    };
    let pins = PinArgs {
        pin_file: source.pin_file.clone(),
        so_pin_file: None,
        new_pin_file: None,
    };
    Ok(Some(token_commands::open_logged_in(&select, &pins)?))
}

fn stored_certificate(
    token: &dyn Token,
    container: &str,
    usage: KeyUsage,
) -> Result<Option<Vec<u8>>> {
    let containers = token.containers()?;
    Ok(containers
        .iter()
        .find(|c| c.name == container)
        .and_then(|c| c.keys.iter().find(|k| k.usage == usage))
        .and_then(|k| k.certificate.clone()))
}

/// Open the key `source` names, as a handle made by `from_file` (a key file) or `from_token`
/// (the container's key of `usage` in a token), with the certificate stored beside it.
fn open_key<H: ?Sized>(
    source: &KeySource,
    usage: KeyUsage,
    from_file: impl FnOnce(PrivateKey) -> Arc<H>,
    from_token: impl FnOnce(&dyn Token, &str) -> yinxin_token::Result<Arc<H>>,
) -> Result<OpenedKey<H>> {
    if let Some(path) = &source.key {
        let key = input::private_key(path, source.password_file.as_ref())?;
        return Ok(OpenedKey {
            handle: from_file(key),
            stored_certificate: None,
            _token: None,
        });
    }
    let token = open_token(source)?
        .ok_or_else(|| anyhow!("give the key: --key FILE, --token NAME|FILE or --pkcs11 MODULE"))?;
    let handle = from_token(token.as_ref(), &source.container)?;
    let stored = stored_certificate(token.as_ref(), &source.container, usage)?;
    Ok(OpenedKey {
        handle,
        stored_certificate: stored,
        _token: Some(token),
    })
}

pub(crate) fn open_signer(source: &KeySource) -> Result<OpenedKey<dyn Signer>> {
    open_key(
        source,
        KeyUsage::Signing,
        |key| Arc::new(key) as Arc<dyn Signer>,
        |token, container| token.signer(container, KeyUsage::Signing),
    )
}

pub(crate) fn open_decrypter(source: &KeySource) -> Result<OpenedKey<dyn Decrypter>> {
    open_key(
        source,
        KeyUsage::Encryption,
        |key| Arc::new(key) as Arc<dyn Decrypter>,
        |token, container| token.decrypter(container, KeyUsage::Encryption),
    )
}

fn write_message(out: &Path, der: &[u8], pem: bool) -> Result<()> {
    if pem {
        let text = yinxin_crypto::pem::encode("CMS", der);
        input::write(out, text.as_bytes(), false)
    } else {
        input::write(out, der, false)
    }
}

/// The hash a timestamp request over a signature by `algorithm` uses.
fn timestamp_hash(algorithm: KeyAlgorithm) -> HashAlgorithm {
    match algorithm {
        KeyAlgorithm::Sm2 => HashAlgorithm::Sm3,
        _ => HashAlgorithm::Sha256,
    }
}

/// Ask the TSA at `url` for a token over `signature`; an error unless it is granted.
fn fetch_timestamp(url: &str, hash: HashAlgorithm, signature: &[u8]) -> Result<Vec<u8>> {
    let request = TimestampRequest::for_data(hash, signature)
        .with_random_nonce()
        .with_cert_req(true);
    let reply = crate::client::Client::anonymous(url)?.post_bytes(
        "",
        "application/timestamp-query",
        request.to_der()?,
    )?;
    let response = TimestampResponse::decode(&reply)
        .with_context(|| format!("{url} did not answer with an RFC 3161 response"))?;
    let token = match (response.status.is_granted(), response.token) {
        (true, Some(token)) => token,
        _ => bail!(
            "the TSA at {url} refused: {}{}",
            response
                .failure
                .map_or("no reason given".to_string(), |f| f.name().to_string()),
            response.text.map(|t| format!(" ({t})")).unwrap_or_default()
        ),
    };
    // `add_timestamp` refuses a token whose imprint is not this signature's hash.
    Ok(token)
}

pub(crate) fn sign(args: &CmsSignArgs, json_out: bool) -> Result<Outcome> {
    let key = open_signer(&args.source)?;
    let certificate = match (&args.cert, &key.stored_certificate) {
        (Some(path), _) => one_certificate(path)?,
        (None, Some(der)) => certificate::from_pem_or_der(der)?,
        (None, None) => {
            bail!("give the signer's certificate with --cert (the key has none stored)")
        }
    };
    let chain = match &args.chain {
        Some(p) => certificates(p)?,
        None => Vec::new(),
    };
    let scheme = input::scheme(key.handle.algorithm(), &args.scheme)?;
    let content = read_message(&args.input)?;
    let options = SignOptions {
        form: args.form.into(),
        detached: args.detached,
        signing_time: !args.no_signing_time,
        include_certificates: !args.no_certs,
        ..SignOptions::default()
    };
    let spec = SignerSpec::new(key.handle.as_ref(), &certificate)
        .with_chain(&chain)
        .with_scheme(scheme);
    let mut der = signed_data::sign(&content, &[spec], &options)?;
    if let Some(url) = &args.tsa {
        let signature = signed_data::signature_value(&der, 0)?;
        let token = fetch_timestamp(url, timestamp_hash(key.handle.algorithm()), &signature)?;
        der = signed_data::add_timestamp(&der, 0, &token)?;
    }
    write_message(&args.out, &der, args.pem)?;
    if json_out {
        outln!(
            "{}",
            json!({"out": args.out, "bytes": der.len(), "detached": args.detached,
                   "form": Form::from(args.form).to_string(), "timestamped": args.tsa.is_some()})
        );
    } else {
        eprintln!(
            "wrote a {}{} SignedData ({} bytes) to {}",
            if args.detached { "detached " } else { "" },
            Form::from(args.form),
            der.len(),
            args.out.display()
        );
    }
    Ok(Outcome::Done)
}

/// RFC 3339 in UTC, whole seconds.
fn time_text(t: SystemTime) -> String {
    der::DateTime::from_system_time(t).map_or_else(|_| format!("{t:?}"), |d| d.to_string())
}

pub(crate) fn verify(args: &CmsVerifyArgs, json_out: bool) -> Result<Outcome> {
    let roots = certificates(&args.roots)?;
    if roots.is_empty() {
        bail!("{} holds no certificate", args.roots.display());
    }
    let untrusted = match &args.untrusted {
        Some(p) => certificates(p)?,
        None => Vec::new(),
    };
    let sm2_id = match &args.id {
        Some(id) => DistinguishingId::new(id.as_bytes())?,
        None => DistinguishingId::default(),
    };
    let crls = match &args.crls {
        Some(p) => CrlSet::from_pem_or_der(&read_message(p)?)
            .with_context(|| format!("cannot read CRLs from {}", p.display()))?,
        None => CrlSet::default(),
    }
    .with_sm2_id(sm2_id.clone());
    let signed = read_message(&args.input)?;
    let content = args.content.as_deref().map(read_message).transpose()?;
    let mut options = VerifyOptions::new(&roots)
        .with_intermediates(&untrusted)
        .with_sm2_id(sm2_id);
    // Today's CRLs also judge signatures validated at their timestamp's time.
    let revocation = AtPastTime::new(&crls);
    if !crls.is_empty() {
        options = options.with_revocation(&revocation);
    }
    let report = signed_data::verify(&signed, content.as_deref(), &options)?;
    let valid = report.is_valid();
    if valid && let (Some(out), Some(attached)) = (&args.out, &report.content) {
        input::write(out, attached, false)?;
    }
    if json_out {
        let signers: Vec<_> = report
            .signers
            .iter()
            .map(|s| {
                json!({
                    "valid": s.is_valid(),
                    "reason": s.problem.as_ref().map(ToString::to_string),
                    "subject": s.subject,
                    "issuer": s.issuer,
                    "serial": s.serial,
                    "algorithm": s.scheme.to_string(),
                    "digest": s.digest_algorithm.name(),
                    "signing_time": s.signing_time.map(time_text),
                    "timestamp_time": s.timestamp_time().map(time_text),
                    "timestamp_serial": s.timestamp.as_ref().map(|t| hex::encode(&t.serial)),
                    "chain": s.chain,
                })
            })
            .collect();
        outln!(
            "{}",
            json!({"valid": valid, "form": report.form.to_string(),
                   "content_type": report.content_type.to_string(),
                   "detached": report.content.is_none(), "signers": signers})
        );
    } else {
        for (i, s) in report.signers.iter().enumerate() {
            let who = s.subject.clone().unwrap_or_else(|| {
                format!(
                    "issuer {} serial {}",
                    s.issuer.as_deref().unwrap_or("?"),
                    s.serial.as_deref().unwrap_or("?")
                )
            });
            match &s.problem {
                None => {
                    outln!("signer {}: OK: {who} ({})", i + 1, s.scheme);
                    if let Some(t) = s.signing_time {
                        outln!("  signing time (claimed): {}", time_text(t));
                    }
                    if let Some(t) = s.timestamp_time() {
                        outln!("  timestamp: {}", time_text(t));
                    }
                    outln!("  chain: {}", s.chain.join(" <- "));
                }
                Some(p) => outln!(
                    "signer {}: INVALID: {who}: {}",
                    i + 1,
                    p.to_string().replace('\n', " ")
                ),
            }
        }
        if report.signers.is_empty() {
            outln!("INVALID: the SignedData has no signers");
        } else {
            outln!(
                "{}",
                if valid {
                    "Verification successful"
                } else {
                    "Verification failed"
                }
            );
        }
    }
    Ok(if valid {
        Outcome::Valid
    } else {
        Outcome::Invalid
    })
}

/// The content cipher: the one asked for, else yinxin's default for the form and recipients
/// ([`ContentCipher::default_for`]).
fn content_cipher(asked: Option<&str>, form: Form, all_sm2: bool) -> Result<ContentCipher> {
    if let Some(name) = asked {
        return ContentCipher::from_name(name).ok_or_else(|| {
            anyhow!(
                "unknown --cipher \"{name}\"; choose from: {}",
                ContentCipher::ALL.map(|c| c.to_string()).join(" ")
            )
        });
    }
    Ok(ContentCipher::default_for(form, all_sm2))
}

pub(crate) fn encrypt(args: &CmsEncryptArgs, json_out: bool) -> Result<Outcome> {
    let mut recipients = Vec::with_capacity(args.to.len());
    for path in &args.to {
        let cert = one_certificate(path)?;
        let recipient = if args.keyid {
            Recipient::by_key_identifier(&certificate::public_key(&cert)?)
        } else {
            Recipient::by_certificate(&certificate::to_der(&cert)?)
        }
        .with_context(|| format!("recipient {}", path.display()))?;
        recipients.push(recipient);
    }
    let form: Form = args.form.into();
    let all_sm2 = recipients
        .iter()
        .all(|r| r.public_key().algorithm() == KeyAlgorithm::Sm2);
    let cipher = content_cipher(args.cipher.as_deref(), form, all_sm2)?;
    let options = SealOptions {
        form,
        ..SealOptions::default()
    }
    .with_cipher(cipher);
    let content = read_message(&args.input)?;
    let der = enveloped_data::seal_message(&content, &recipients, &options)?;
    write_message(&args.out, &der, args.pem)?;
    if json_out {
        outln!(
            "{}",
            json!({"out": args.out, "bytes": der.len(), "recipients": recipients.len(),
                   "cipher": cipher.to_string(), "form": form.to_string()})
        );
    } else {
        eprintln!(
            "wrote a {form} envelope ({cipher}, {} recipient{}, {} bytes) to {}",
            recipients.len(),
            if recipients.len() == 1 { "" } else { "s" },
            der.len(),
            args.out.display()
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn decrypt(args: &CmsDecryptArgs, json_out: bool) -> Result<Outcome> {
    let key = open_decrypter(&args.source)?;
    let certificate_der = match (&args.cert, &key.stored_certificate) {
        (Some(path), _) => Some(certificate::to_der(&one_certificate(path)?)?),
        (None, Some(der)) => Some(der.clone()),
        (None, None) => None,
    };
    let data = read_message(&args.input)?;
    let summary = enveloped_data::describe_message(&data)?;
    let content =
        enveloped_data::open_message(&data, key.handle.as_ref(), certificate_der.as_deref())?;
    input::write(&args.out, &content, false)?;
    if json_out {
        outln!(
            "{}",
            json!({"out": args.out, "bytes": content.len(), "kind": summary.kind.to_string(),
                   "form": summary.form.to_string(),
                   "cipher": summary.content_cipher.map(|c| c.to_string())})
        );
    } else {
        eprintln!(
            "opened a {} {} ({}); wrote {} bytes to {}",
            summary.form,
            summary.kind,
            summary
                .content_cipher
                .map_or_else(|| summary.content_cipher_oid.to_string(), |c| c.to_string()),
            content.len(),
            args.out.display()
        );
    }
    Ok(Outcome::Done)
}
