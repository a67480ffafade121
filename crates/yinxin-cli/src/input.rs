//! Reading inputs (files, PINs, passwords) and writing outputs, with plain one-line errors.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use yinxin_crypto::{
    DistinguishingId, HashAlgorithm, KeyAlgorithm, PrivateKey, PublicKey, SignatureScheme,
};
use zeroize::Zeroizing;

use crate::args::SchemeArgs;

/// Keys, certificates and signatures are small; anything larger is not one.
const MAX_KEY_FILE: u64 = 1024 * 1024;

/// Read a whole file ("-" is standard input).
pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .context("reading standard input")?;
        return Ok(v);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Read a small file (key, certificate, signature), refusing large ones up front.
pub(crate) fn read_small(path: &Path, what: &str) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if len == 0 {
        bail!("{} is empty, expected {what}", path.display());
    }
    if len > MAX_KEY_FILE {
        bail!("{} is {len} bytes, too large to be {what}", path.display());
    }
    read(path)
}

/// Write a file. A secret (private key, decrypted plaintext) goes to a new owner-only file
/// that is renamed into place, so it is never written into an existing file's permissions.
pub(crate) fn write(path: &Path, data: &[u8], secret: bool) -> Result<()> {
    use std::io::Write;
    let fail = || format!("cannot write {}", path.display());
    if !secret {
        return std::fs::write(path, data).with_context(fail);
    }
    let name = path
        .file_name()
        .with_context(fail)?
        .to_string_lossy()
        .into_owned();
    let tmp = path.with_file_name(format!(".{name}.yinxin-tmp{}", std::process::id()));
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let result = o
        .open(&tmp)
        .and_then(|mut f| f.write_all(data).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(fail)
}

/// A secret's first line from a file.
fn first_line(path: &Path) -> Result<Zeroizing<String>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        bail!(
            "{} holds no PIN or password on its first line",
            path.display()
        );
    }
    Ok(Zeroizing::new(line.to_string()))
}

/// A secret from a file, else an environment variable, else a prompt on the terminal.
pub(crate) fn secret(
    file: Option<&PathBuf>,
    env: &str,
    prompt: &str,
    confirm: bool,
) -> Result<Zeroizing<String>> {
    if let Some(f) = file {
        return first_line(f);
    }
    if let Ok(v) = std::env::var(env)
        && !v.is_empty()
    {
        return Ok(Zeroizing::new(v));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no {prompt} given: use the file option or set {env}");
    }
    let first = Zeroizing::new(
        rpassword::prompt_password(format!("{prompt}: ")).context("reading from the terminal")?,
    );
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password(format!("{prompt} again: "))
                .context("reading from the terminal")?,
        );
        if *first != *again {
            bail!("the two entries differ");
        }
    }
    Ok(first)
}

/// Load a private key file, asking for its password only if it is encrypted.
pub(crate) fn private_key(path: &Path, password_file: Option<&PathBuf>) -> Result<PrivateKey> {
    let data = Zeroizing::new(read_small(path, "a private key")?);
    let password = match password_file {
        Some(f) => Some(first_line(f)?),
        None => None,
    };
    match PrivateKey::from_pem_or_der(&data, password.as_ref().map(|p| p.as_bytes())) {
        Err(yinxin_crypto::Error::WrongPassword) if password.is_none() => {
            let pw = secret(None, "YINXIN_KEY_PASSWORD", "key password", false)?;
            PrivateKey::from_pem_or_der(&data, Some(pw.as_bytes()))
                .with_context(|| format!("{}", path.display()))
        }
        other => other.with_context(|| format!("{}", path.display())),
    }
}

/// Load a public key, or the public key of a certificate.
pub(crate) fn public_key(path: &Path) -> Result<PublicKey> {
    let data = read_small(path, "a public key or certificate")?;
    match PublicKey::from_pem_or_der(&data) {
        Ok(k) => Ok(k),
        Err(key_err) => match yinxin_pki::certificate::from_pem_or_der(&data) {
            Ok(cert) => Ok(yinxin_pki::certificate::public_key(&cert)?),
            Err(_) => Err(anyhow::Error::new(key_err).context(format!("{}", path.display()))),
        },
    }
}

/// The signature scheme for a key, from the command line's --id/--hash/--pss.
pub(crate) fn scheme(algorithm: KeyAlgorithm, args: &SchemeArgs) -> Result<SignatureScheme> {
    let hash: Option<HashAlgorithm> = args.hash.as_deref().map(str::parse).transpose()?;
    let id = match (&args.id, &args.id_hex) {
        (Some(text), _) => Some(DistinguishingId::new(text.as_bytes())?),
        (None, Some(h)) => Some(DistinguishingId::new(
            hex::decode(h).context("--id-hex is not hex")?,
        )?),
        (None, None) => None,
    };
    Ok(SignatureScheme::for_key(algorithm, hash, id, args.pss)?)
}
