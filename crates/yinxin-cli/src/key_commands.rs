//! `yinxin key|digest|sign|verify|encrypt|decrypt`: operations on key files.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use yinxin_crypto::hash::Hasher;
use yinxin_crypto::{
    Decrypter, EncryptionScheme, HashAlgorithm, KeyAlgorithm, KeySpec, PrivateKey, Signer,
    Sm2CiphertextFormat,
};

use crate::Outcome;
use crate::args::{
    DecryptArgs, DigestArgs, EncryptArgs, KeyGenerateArgs, KeyPublicArgs, RsaPadding, SchemeArgs,
    SignArgs, Sm2Format, VerifyArgs,
};
use crate::input;

pub(crate) fn generate(args: &KeyGenerateArgs, json_out: bool) -> Result<Outcome> {
    let spec: KeySpec = args.alg.parse()?;
    if args.out.exists() && !args.force {
        anyhow::bail!(
            "{} exists; refusing to overwrite a key file (use --force to replace it)",
            args.out.display()
        );
    }
    let key = PrivateKey::generate(spec)?;
    let password = args
        .password_file
        .as_ref()
        .map(|f| input::secret(Some(f), "", "key password", false))
        .transpose()?;
    let pem = key.to_pkcs8_pem(password.as_ref().map(|p| p.as_bytes()))?;
    input::write(&args.out, pem.as_bytes(), true)?;
    if json_out {
        outln!(
            "{}",
            json!({"algorithm": key.algorithm().to_string(), "out": args.out, "encrypted": password.is_some()})
        );
    } else {
        eprintln!(
            "wrote a {} private key to {}",
            key.algorithm(),
            args.out.display()
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn public(args: &KeyPublicArgs, json_out: bool) -> Result<Outcome> {
    let key = input::private_key(&args.key, args.password_file.as_ref())?;
    let pem = key.public_key().to_pem();
    match &args.out {
        Some(out) => input::write(out, pem.as_bytes(), false)?,
        None if !json_out => out!("{pem}"),
        None => {}
    }
    if json_out {
        outln!(
            "{}",
            json!({"algorithm": key.algorithm().to_string(), "public_key_pem": pem})
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn digest(args: &DigestArgs, json_out: bool) -> Result<Outcome> {
    let alg: HashAlgorithm = args.alg.parse()?;
    let mut hasher = Hasher::new(alg);
    let mut reader: Box<dyn Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?,
        )
    };
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", args.file.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let d = hex::encode(hasher.finish());
    if json_out {
        outln!(
            "{}",
            json!({"algorithm": alg.name(), "file": args.file, "digest": d})
        );
    } else {
        // The layout of `openssl dgst`.
        outln!(
            "{}({})= {d}",
            alg.name().to_uppercase(),
            args.file.display()
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn sign(args: &SignArgs, json_out: bool) -> Result<Outcome> {
    let key = input::private_key(&args.key, args.password_file.as_ref())?;
    sign_file(&key, &args.scheme, &args.input, &args.out, json_out)
}

/// Sign a file with any key handle (a key file's key, a token's).
pub(crate) fn sign_file(
    signer: &dyn Signer,
    scheme: &SchemeArgs,
    input: &Path,
    out: &Path,
    json_out: bool,
) -> Result<Outcome> {
    let scheme = input::scheme(signer.algorithm(), scheme)?;
    let data = input::read(input)?;
    let sig = signer.sign(&scheme, &data)?;
    input::write(out, &sig, false)?;
    if json_out {
        outln!(
            "{}",
            json!({"scheme": scheme.to_string(), "signature": hex::encode(&sig)})
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn verify(args: &VerifyArgs, json_out: bool) -> Result<Outcome> {
    let key = input::public_key(&args.pubkey)?;
    let scheme = input::scheme(key.algorithm(), &args.scheme)?;
    let sig = input::read_small(&args.sig, "a signature")?;
    let data = input::read(&args.input)?;
    let verdict = match key.verify(&scheme, &data, &sig) {
        Ok(()) => Outcome::Valid,
        Err(e) if e.is_verdict() => Outcome::Invalid,
        // A signature that is not even well-formed is still a "no" about the data.
        Err(yinxin_crypto::Error::Decode { .. }) => Outcome::Invalid,
        Err(e) => return Err(e.into()),
    };
    let valid = matches!(verdict, Outcome::Valid);
    if json_out {
        outln!("{}", json!({"valid": valid, "scheme": scheme.to_string()}));
    } else {
        outln!(
            "{}",
            if valid {
                "Signature is valid"
            } else {
                "Signature is INVALID"
            }
        );
    }
    Ok(verdict)
}

pub(crate) fn encryption_scheme(
    algorithm: KeyAlgorithm,
    format: Sm2Format,
    padding: RsaPadding,
) -> Result<EncryptionScheme> {
    Ok(match algorithm {
        KeyAlgorithm::Sm2 => EncryptionScheme::Sm2(match format {
            Sm2Format::Asn1 => Sm2CiphertextFormat::Asn1,
            Sm2Format::C1c3c2 => Sm2CiphertextFormat::C1C3C2,
            Sm2Format::C1c2c3 => Sm2CiphertextFormat::C1C2C3,
        }),
        KeyAlgorithm::Rsa { .. } => match padding {
            RsaPadding::OaepSha256 => EncryptionScheme::RsaOaep(HashAlgorithm::Sha256),
            RsaPadding::OaepSha1 => EncryptionScheme::RsaOaepSha1,
            RsaPadding::Pkcs1 => EncryptionScheme::RsaPkcs1v15,
        },
        other => other.default_encryption_scheme()?,
    })
}

pub(crate) fn encrypt(args: &EncryptArgs, json_out: bool) -> Result<Outcome> {
    let key = input::public_key(&args.pubkey)?;
    let scheme = encryption_scheme(key.algorithm(), args.format, args.padding)?;
    let data = input::read(&args.input)?;
    let ct = key.encrypt(&scheme, &data)?;
    input::write(&args.out, &ct, false)?;
    if json_out {
        outln!(
            "{}",
            json!({"scheme": scheme.to_string(), "bytes": ct.len()})
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn decrypt(args: &DecryptArgs, json_out: bool) -> Result<Outcome> {
    let key = input::private_key(&args.key, args.password_file.as_ref())?;
    decrypt_file(&key, args.padding, &args.input, &args.out, json_out)
}

/// Decrypt a file with any key handle; SM2 reads every ciphertext layout.
pub(crate) fn decrypt_file(
    decrypter: &dyn Decrypter,
    padding: RsaPadding,
    input: &Path,
    out: &Path,
    json_out: bool,
) -> Result<Outcome> {
    let scheme = encryption_scheme(decrypter.public_key().algorithm(), Sm2Format::Asn1, padding)?;
    let ct = input::read(input)?;
    let plain = decrypter.decrypt(&scheme, &ct)?;
    input::write(out, &plain, true)?;
    if json_out {
        outln!(
            "{}",
            json!({"scheme": scheme.to_string(), "bytes": plain.len()})
        );
    }
    Ok(Outcome::Done)
}
