//! `yinxin manifest create|sign|verify`: the signed list of installed files, so that a
//! binary replaced after installation is found (`yinxin_doctor::manifest`).
//!
//! `verify` exits 0 when the signature is trusted and every listed file is intact (files
//! that are not listed are reported but are not a failure), 1 when a file is modified,
//! missing or unreadable or the signature is not trusted — a missing signature file
//! included, since deleting it is what someone who edited the manifest would do — and 2 on
//! usage or input errors (no manifest, a manifest that does not parse, no trust roots).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use yinxin_doctor::manifest::{
    self, FileCheck, MANIFEST_FILE, MAX_MANIFEST_BYTES, Manifest, SignatureVerdict,
};
use yinxin_pki::certificate;

use crate::Outcome;
use crate::cms_commands::{KeySource, certificates, one_certificate, open_signer};
use crate::input;

#[derive(Debug, Subcommand)]
pub(crate) enum ManifestCommand {
    /// List every file under an installation with its size and SHA-256.
    Create(CreateArgs),
    /// Sign a manifest with a code-signing certificate (detached CMS SignedData).
    Sign(SignArgs),
    /// Check an installation against its signed manifest: exit 0 intact and trusted, 1 not,
    /// 2 usage or input error.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The installation directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) root: PathBuf,
    /// Where to write the manifest (default: DIR/yinxin-manifest.json).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// The product name recorded.
    #[arg(long, default_value = "yinxin")]
    pub(crate) product: String,
    /// The product version recorded (default: this yinxin's version).
    #[arg(long = "version", value_name = "V", default_value = env!("CARGO_PKG_VERSION"))]
    pub(crate) product_version: String,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The manifest to sign.
    #[arg(long, value_name = "FILE")]
    pub(crate) manifest: PathBuf,
    /// The code-signing certificate (default: the one stored beside the token's key).
    #[arg(long, value_name = "CERT.pem")]
    pub(crate) cert: Option<PathBuf>,
    /// Intermediate CA certificates to include, PEM.
    #[arg(long, value_name = "CHAIN.pem")]
    pub(crate) chain: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) source: KeySource,
    /// Where to write the signature (default: FILE.p7s).
    #[arg(long, value_name = "FILE.p7s")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The installation directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) root: PathBuf,
    /// The manifest (default: DIR/yinxin-manifest.json).
    #[arg(long, value_name = "FILE")]
    pub(crate) manifest: Option<PathBuf>,
    /// The manifest's signature (default: the manifest's path + .p7s).
    #[arg(long, value_name = "FILE.p7s")]
    pub(crate) signature: Option<PathBuf>,
    /// The trusted root certificates (PEM).
    #[arg(long, value_name = "ROOTS.pem")]
    pub(crate) trust: PathBuf,
}

pub(crate) fn run(command: &ManifestCommand, json: bool) -> Result<Outcome> {
    match command {
        ManifestCommand::Create(a) => create(a, json),
        ManifestCommand::Sign(a) => sign(a, json),
        ManifestCommand::Verify(a) => verify(a, json),
    }
}

fn require_directory(root: &Path) -> Result<()> {
    let meta =
        std::fs::metadata(root).with_context(|| format!("cannot read {}", root.display()))?;
    if !meta.is_dir() {
        bail!("{} is not a directory", root.display());
    }
    Ok(())
}

/// `path` as a manifest path under `root`, when it is inside it (it need not exist yet).
fn relative_inside(root: &Path, path: &Path) -> Option<String> {
    let root = std::fs::canonicalize(root).ok()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let full = std::fs::canonicalize(parent).ok()?.join(path.file_name()?);
    let relative = full.strip_prefix(&root).ok()?;
    let parts: Option<Vec<&str>> = relative.iter().map(|c| c.to_str()).collect();
    Some(parts?.join("/"))
}

/// The root-relative paths of a manifest and its signature kept inside the root.
fn inside_root(root: &Path, manifest_path: &Path, signature: &Path) -> Vec<String> {
    [manifest_path, signature]
        .iter()
        .filter_map(|p| relative_inside(root, p))
        .collect()
}

fn create(args: &CreateArgs, json_out: bool) -> Result<Outcome> {
    require_directory(&args.root)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.root.join(MANIFEST_FILE));
    let exclude = inside_root(&args.root, &out, &manifest::signature_path(&out));
    let exclude: Vec<&str> = exclude.iter().map(String::as_str).collect();
    let made =
        Manifest::create_excluding(&args.root, &args.product, &args.product_version, &exclude)?;
    input::write(&out, &made.to_json(), false)?;
    if json_out {
        outln!(
            "{}",
            json!({"out": out, "product": made.product, "version": made.version,
                   "created_at": made.created_at, "files": made.files.len(),
                   "bytes": made.total_size()})
        );
    } else {
        outln!(
            "wrote the manifest of {} {}: {} files, {} bytes, to {}",
            made.product,
            made.version,
            made.files.len(),
            made.total_size(),
            out.display()
        );
    }
    Ok(Outcome::Done)
}

fn sign(args: &SignArgs, json_out: bool) -> Result<Outcome> {
    let manifest_json = manifest::read_limited(&args.manifest, MAX_MANIFEST_BYTES)?;
    let key = open_signer(&args.source)?;
    let certificate_der = match (&args.cert, &key.stored_certificate) {
        (Some(path), _) => certificate::to_der(&one_certificate(path)?)?,
        (None, Some(der)) => der.clone(),
        (None, None) => {
            bail!("give the code-signing certificate with --cert (the key has none stored)")
        }
    };
    let chain = match &args.chain {
        Some(p) => certificates(p)?
            .iter()
            .map(certificate::to_der)
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let der = manifest::sign(
        &manifest_json,
        key.handle.as_ref(),
        &certificate_der,
        &chain,
    )
    .with_context(|| format!("{}", args.manifest.display()))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| manifest::signature_path(&args.manifest));
    input::write(&out, &der, false)?;
    if json_out {
        outln!("{}", json!({"out": out, "bytes": der.len()}));
    } else {
        outln!(
            "signed {}: wrote a detached CMS signature ({} bytes) to {}",
            args.manifest.display(),
            der.len(),
            out.display()
        );
    }
    Ok(Outcome::Done)
}

fn verify(args: &VerifyArgs, json_out: bool) -> Result<Outcome> {
    let anchors = certificates(&args.trust)?;
    if anchors.is_empty() {
        bail!("{} holds no certificate", args.trust.display());
    }
    require_directory(&args.root)?;
    let manifest_path = args
        .manifest
        .clone()
        .unwrap_or_else(|| args.root.join(MANIFEST_FILE));
    let signature_path = args
        .signature
        .clone()
        .unwrap_or_else(|| manifest::signature_path(&manifest_path));
    let manifest_json = manifest::read_limited(&manifest_path, MAX_MANIFEST_BYTES)?;
    let listed = Manifest::from_json(&manifest_json)
        .with_context(|| format!("{}", manifest_path.display()))?;
    let verdict = match std::fs::symlink_metadata(&signature_path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => SignatureVerdict::Untrusted {
            reason: format!(
                "there is no signature file {}: the manifest is not signed",
                signature_path.display()
            ),
        },
        _ => {
            let signature = manifest::read_limited(&signature_path, MAX_MANIFEST_BYTES)?;
            manifest::verify_signature(&manifest_json, &signature, &anchors, SystemTime::now())
        }
    };
    let exclude = inside_root(&args.root, &manifest_path, &signature_path);
    let exclude: Vec<&str> = exclude.iter().map(String::as_str).collect();
    let checks = manifest::compare_excluding(&listed, &args.root, &exclude);
    let count = |status: &str| checks.iter().filter(|c| c.status() == status).count();
    let failed = checks.iter().any(FileCheck::is_failure);
    let clean = verdict.is_trusted() && !failed;
    if json_out {
        let signature = match &verdict {
            SignatureVerdict::Trusted { signer, serial } => {
                json!({"trusted": true, "signer": signer, "serial": serial})
            }
            SignatureVerdict::Untrusted { reason } => json!({"trusted": false, "reason": reason}),
        };
        let files: Vec<Value> = checks.iter().map(check_json).collect();
        outln!(
            "{}",
            json!({
                "manifest": {"path": manifest_path, "product": listed.product,
                             "version": listed.version, "created_at": listed.created_at},
                "signature": signature,
                "files": files,
                "summary": {"listed": listed.files.len(), "intact": count("intact"),
                            "modified": count("modified"), "missing": count("missing"),
                            "unreadable": count("unreadable"), "unexpected": count("unexpected"),
                            "clean": clean},
            })
        );
    } else {
        for check in &checks {
            print_check(check);
        }
        match &verdict {
            SignatureVerdict::Trusted { signer, serial } => {
                outln!("signature: trusted, signed by {signer} (serial {serial})");
            }
            SignatureVerdict::Untrusted { reason } => outln!("signature: NOT TRUSTED: {reason}"),
        }
        outln!(
            "{} {}: {} files listed: {} intact, {} modified, {} missing, {} unreadable; {} \
             unexpected",
            listed.product,
            listed.version,
            listed.files.len(),
            count("intact"),
            count("modified"),
            count("missing"),
            count("unreadable"),
            count("unexpected"),
        );
        if clean {
            outln!("clean: every listed file matches the signed manifest");
        } else if !verdict.is_trusted() {
            outln!("FAILED: the manifest's signature is not trusted, so its hashes prove nothing");
        } else {
            outln!("FAILED: the installation does not match its signed manifest");
        }
    }
    Ok(if clean {
        Outcome::Valid
    } else {
        Outcome::Invalid
    })
}

fn check_json(check: &FileCheck) -> Value {
    let mut v = json!({"path": check.path(), "status": check.status()});
    let extra = match check {
        FileCheck::Intact { .. } | FileCheck::Missing { .. } => json!({}),
        FileCheck::Modified {
            expected_sha256,
            actual_sha256,
            expected_size,
            actual_size,
            ..
        } => json!({"expected_sha256": expected_sha256, "actual_sha256": actual_sha256,
                     "expected_size": expected_size, "actual_size": actual_size}),
        FileCheck::Unreadable { reason, .. } => json!({"reason": reason}),
        FileCheck::Unexpected { size, sha256, .. } => json!({"size": size, "sha256": sha256}),
    };
    if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
        v.extend(extra);
    }
    v
}

fn print_check(check: &FileCheck) {
    match check {
        FileCheck::Intact { .. } => {}
        FileCheck::Modified {
            path,
            expected_sha256,
            actual_sha256,
            expected_size,
            actual_size,
        } => {
            outln!("MODIFIED {path}: it was modified after installation");
            outln!("  expected: sha256 {expected_sha256}, {expected_size} bytes");
            outln!("  actual:   sha256 {actual_sha256}, {actual_size} bytes");
        }
        FileCheck::Missing { path } => {
            outln!("MISSING {path}: it was installed and is no longer there");
        }
        FileCheck::Unreadable { path, reason } => {
            outln!("UNREADABLE {path}: {reason}");
        }
        FileCheck::Unexpected { path, size, sha256 } => {
            outln!(
                "unexpected {path}: not in the manifest (sha256 {sha256}, {size} bytes); \
                 reported, not a failure"
            );
        }
    }
}
