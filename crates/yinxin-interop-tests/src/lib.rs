//! Interop tests of `yinxin-crypto` (and of `yinxin-pki`'s certificates, CRLs and OCSP) against
//! independent implementations, and the helpers they share.
//!
//! The tests (in `tests/interop.rs` and its submodules) run real peer programs as subprocesses
//! on files in a temporary directory, in both directions: what yinxin writes the peer must
//! read, verify or decrypt, and what the peer writes yinxin must read, verify or decrypt.
//!
//! ```text
//!   yinxin-crypto ──key / signature / ciphertext files──▶ peer (openssl, java + BC, node)
//!   yinxin-crypto ◀──key / signature / ciphertext files── peer
//! ```
//!
//! # What the tests need
//!
//! A missing peer makes the tests that need it **fail** (never pass silently) with a message
//! naming the package to install. On Debian or Ubuntu everything comes from
//!
//! ```text
//! apt-get install -y openssl default-jre-headless libbcprov-java libbcpkix-java nodejs npm
//! ```
//!
//! - `openssl` 3.x on the `PATH` (the tests were written against 3.0.19);
//! - `java` 17 or later on the `PATH` (it runs the single-file program `peers/Sm2Peer.java`)
//!   and the BouncyCastle provider jar at [`BCPROV_JAR`] (Debian's `libbcprov-java`); the
//!   PKIX peer `peers/Sm2PkixPeer.java` (certificates, CRLs, OCSP) also needs [`BCPKIX_JAR`]
//!   and [`BCUTIL_JAR`] (`libbcpkix-java`, which pulls in `libbcutil-java`);
//! - `node` 20 and `npm` on the `PATH`. The `sm-crypto` package ([`SM_CRYPTO_VERSION`]) is
//!   installed on first use into `target/interop-deps` of the workspace with
//!   `npm install --no-save --prefix …`, from whatever registry npm is configured for; the
//!   JavaScript peer is `peers/sm_crypto_peer.js`.
//!
//! The GM/T 0003 published test vectors need no peer, except the two checks that OpenSSL
//! also accepts them.

#![forbid(unsafe_code)]

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use tempfile::TempDir;
use yinxin_crypto::PrivateKey;

/// The command that installs every peer the tests use.
pub const INSTALL_HINT: &str =
    "apt-get install -y openssl default-jre-headless libbcprov-java libbcpkix-java nodejs npm";

/// Where Debian's `libbcprov-java` puts the BouncyCastle provider jar.
pub const BCPROV_JAR: &str = "/usr/share/java/bcprov.jar";

/// Where Debian's `libbcpkix-java` puts the BouncyCastle PKIX jar (certificates, CRLs, OCSP).
pub const BCPKIX_JAR: &str = "/usr/share/java/bcpkix.jar";

/// Where Debian's `libbcutil-java` (a dependency of `libbcpkix-java`) puts BouncyCastle's
/// utility jar, which `bcpkix` needs.
pub const BCUTIL_JAR: &str = "/usr/share/java/bcutil.jar";

/// The pinned version of the `sm-crypto` npm package (the SM2 library of most Chinese web
/// front-ends).
pub const SM_CRYPTO_VERSION: &str = "0.3.13";

/// The GM/T 0009 default SM2 signer ID.
pub const DEFAULT_ID: &str = "1234567812345678";

/// This crate's directory (holding `peers/`).
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace root (two levels above this crate).
pub fn workspace_dir() -> PathBuf {
    crate_dir().join("..").join("..")
}

/// A peer program in `peers/`.
pub fn peer_file(name: &str) -> PathBuf {
    crate_dir().join("peers").join(name)
}

/// A temporary directory in which a test writes its files and runs its peers; removed on drop.
#[derive(Debug)]
pub struct Workdir {
    dir: TempDir,
}

impl Workdir {
    /// A fresh empty directory.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("yinxin-interop-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        Workdir { dir }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path of `name` inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write `data` to `name`, returning `name` for use in peer command lines.
    pub fn write<'a>(&self, name: &'a str, data: impl AsRef<[u8]>) -> &'a str {
        std::fs::write(self.file(name), data)
            .unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
        name
    }

    /// Read `name`.
    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.file(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
    }

    /// Read `name` as UTF-8 text.
    pub fn read_string(&self, name: &str) -> String {
        String::from_utf8(self.read(name)).unwrap_or_else(|e| panic!("{name} is not UTF-8: {e}"))
    }
}

impl Default for Workdir {
    fn default() -> Self {
        Self::new()
    }
}

/// What a peer command did.
#[derive(Debug)]
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error, as text.
    pub stderr: String,
}

impl Outcome {
    /// The standard output, panicking with the command and its error output if it failed.
    pub fn expect_ok(self, context: &str) -> Vec<u8> {
        assert!(
            self.success,
            "{context}: `{}` failed:\n{}",
            self.command, self.stderr
        );
        self.stdout
    }

    /// Panic if the command succeeded: for checks that a peer rejects something.
    pub fn expect_failure(self, context: &str) {
        assert!(
            !self.success,
            "{context}: `{}` succeeded but should have failed; output:\n{}",
            self.command,
            String::from_utf8_lossy(&self.stdout)
        );
    }

    /// The standard output as (lossy) text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Run `program` with `args` in `dir`, capturing its output. Panics (naming what to install)
/// only if the program cannot be started.
pub fn run_in<I, S>(dir: &Path, program: &str, args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    run_command(&mut cmd)
}

/// Run a prepared command, capturing its output. Panics (naming what to install) only if the
/// program cannot be started.
pub fn run_command(cmd: &mut Command) -> Outcome {
    let command = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{command}`: {e}\n\
             the interop tests need their peers; install them with: {INSTALL_HINT}"
        )
    });
    Outcome {
        command,
        success: status.success(),
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Run `openssl` with `args` in the work directory (so arguments name files relatively).
pub fn openssl<I, S>(dir: &Workdir, args: I) -> Outcome
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    require_openssl();
    run_in(dir.path(), "openssl", args)
}

/// Check once that OpenSSL 3 is installed; panic with the install command otherwise.
pub fn require_openssl() {
    static CHECKED: OnceLock<Result<String, String>> = OnceLock::new();
    let result = CHECKED.get_or_init(|| {
        let out = Command::new("openssl").arg("version").output();
        match out {
            Ok(o) if o.status.success() => {
                let v = String::from_utf8_lossy(&o.stdout).trim().to_string();
                if v.starts_with("OpenSSL 3.") {
                    Ok(v)
                } else {
                    Err(format!(
                        "`openssl version` says \"{v}\"; these tests need OpenSSL 3"
                    ))
                }
            }
            Ok(o) => Err(format!(
                "`openssl version` failed: {}",
                String::from_utf8_lossy(&o.stderr)
            )),
            Err(e) => Err(format!(
                "`openssl` is not installed or not on the PATH ({e})"
            )),
        }
    });
    if let Err(why) = result {
        panic!("{why}\ninstall the interop peers with: {INSTALL_HINT}");
    }
}

/// Check once that `java` and the BouncyCastle provider jar are installed; panic with the
/// install command otherwise.
pub fn require_java() {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    let result = CHECKED.get_or_init(|| {
        match Command::new("java").arg("-version").output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return Err(format!(
                    "`java -version` failed: {}",
                    String::from_utf8_lossy(&o.stderr)
                ));
            }
            Err(e) => return Err(format!("`java` is not installed or not on the PATH ({e})")),
        }
        if !Path::new(BCPROV_JAR).is_file() {
            return Err(format!(
                "the BouncyCastle jar {BCPROV_JAR} is missing (Debian package libbcprov-java)"
            ));
        }
        Ok(())
    });
    if let Err(why) = result {
        panic!("{why}\ninstall the interop peers with: {INSTALL_HINT}");
    }
}

/// Run the BouncyCastle peer (`peers/Sm2Peer.java`) once on a batch of jobs, one per line
/// (see the comment at the top of the Java file), returning one result line per job.
///
/// Starting a JVM and compiling the peer takes a second or two, so tests batch their work.
pub fn run_bouncycastle(dir: &Workdir, jobs: &[String]) -> Vec<String> {
    run_java_peer(dir, "Sm2Peer.java", &[BCPROV_JAR], jobs)
}

/// Run the BouncyCastle PKIX peer (`peers/Sm2PkixPeer.java`: certificates, paths, CRLs and
/// OCSP responses through `bcpkix` and the BC provider) once on a batch of jobs, returning
/// one result line per job.
pub fn run_bouncycastle_pkix(dir: &Workdir, jobs: &[String]) -> Vec<String> {
    run_java_peer(
        dir,
        "Sm2PkixPeer.java",
        &[BCPROV_JAR, BCUTIL_JAR, BCPKIX_JAR],
        jobs,
    )
}

/// Run the single-file Java program `peers/<source>` with the jars `classpath` once on a batch
/// of jobs (written to `jobs.txt` in `dir`, one per line), returning its one output line per
/// job. Panics, naming the package to install, if `java` or a jar is missing.
pub fn run_java_peer(
    dir: &Workdir,
    source: &str,
    classpath: &[&str],
    jobs: &[String],
) -> Vec<String> {
    require_java();
    for jar in classpath {
        assert!(
            Path::new(jar).is_file(),
            "the BouncyCastle jar {jar} is missing\ninstall the interop peers with: {INSTALL_HINT}"
        );
    }
    let mut text = String::new();
    for job in jobs {
        let _ = writeln!(text, "{job}");
    }
    dir.write("jobs.txt", text);
    let source = peer_file(source);
    let classpath = classpath.join(":");
    let out = run_in(
        dir.path(),
        "java",
        [
            OsStr::new("-cp"),
            OsStr::new(&classpath),
            source.as_os_str(),
            OsStr::new("jobs.txt"),
        ],
    )
    .expect_ok("the BouncyCastle peer");
    let lines: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        lines.len(),
        jobs.len(),
        "the BouncyCastle peer answered {} lines to {} jobs:\n{}",
        lines.len(),
        jobs.len(),
        lines.join("\n")
    );
    lines
}

/// Make sure `node`, `npm` and the pinned `sm-crypto` are available, installing the package
/// into `target/interop-deps` on first use. Returns the `node_modules` directory.
pub fn require_sm_crypto() -> &'static Path {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        for tool in ["node", "npm"] {
            match Command::new(tool).arg("--version").output() {
                Ok(o) if o.status.success() => {}
                Ok(o) => {
                    return Err(format!(
                        "`{tool} --version` failed: {}",
                        String::from_utf8_lossy(&o.stderr)
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "`{tool}` is not installed or not on the PATH ({e})"
                    ));
                }
            }
        }
        let prefix = workspace_dir().join("target").join("interop-deps");
        let modules = prefix.join("node_modules");
        let manifest = modules.join("sm-crypto").join("package.json");
        let installed_version = std::fs::read(&manifest)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["version"].as_str().map(str::to_owned));
        if installed_version.as_deref() != Some(SM_CRYPTO_VERSION) {
            std::fs::create_dir_all(&prefix)
                .map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
            let package = format!("sm-crypto@{SM_CRYPTO_VERSION}");
            let out = run_in(
                &prefix,
                "npm",
                [
                    OsStr::new("install"),
                    OsStr::new("--no-save"),
                    OsStr::new("--no-audit"),
                    OsStr::new("--no-fund"),
                    OsStr::new("--prefix"),
                    prefix.as_os_str(),
                    OsStr::new(&package),
                ],
            );
            if !out.success || !manifest.is_file() {
                return Err(format!(
                    "`{}` failed (is the npm registry reachable?):\n{}",
                    out.command, out.stderr
                ));
            }
        }
        Ok(modules)
    });
    match result {
        Ok(modules) => modules,
        Err(why) => panic!("{why}\ninstall the interop peers with: {INSTALL_HINT}"),
    }
}

/// Run the `sm-crypto` peer (`peers/sm_crypto_peer.js`) once on a batch of jobs (a JSON array,
/// see the comment at the top of the JavaScript file), returning its JSON array of results.
pub fn run_sm_crypto(dir: &Workdir, jobs: &serde_json::Value) -> Vec<serde_json::Value> {
    let modules = require_sm_crypto();
    dir.write("jobs.json", jobs.to_string());
    let script = peer_file("sm_crypto_peer.js");
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .arg("jobs.json")
        .current_dir(dir.path())
        .env("NODE_PATH", modules);
    let out = run_command(&mut cmd).expect_ok("the sm-crypto peer");
    let results: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "the sm-crypto peer printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out)
        )
    });
    let results = results
        .as_array()
        .unwrap_or_else(|| panic!("the sm-crypto peer printed {results}, not an array"))
        .clone();
    let expected = jobs.as_array().map_or(0, Vec::len);
    assert_eq!(
        results.len(),
        expected,
        "the sm-crypto peer answered {} results to {expected} jobs",
        results.len()
    );
    results
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Vec<u8> {
    yinxin_crypto::random::bytes(n).unwrap_or_else(|e| panic!("random bytes: {e}"))
}

/// Decode hex, panicking with the offending text.
pub fn unhex(text: &str) -> Vec<u8> {
    hex::decode(text.trim()).unwrap_or_else(|e| panic!("not hex ({e}): {text:?}"))
}

/// Minimal DER reading and writing, for the structures the tests build or take apart by
/// hand (key scalars, signatures, SM2 ciphertexts).
pub mod der {
    /// The object identifier `1.2.156.10197.1.301` (the SM2 curve), DER-encoded without tag.
    pub const OID_SM2: [u8; 8] = [0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
    /// The object identifier `1.2.840.10045.2.1` (`id-ecPublicKey`), without tag.
    pub const OID_EC_PUBLIC_KEY: [u8; 7] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

    /// One tag-length-value: `(tag, value, rest)`. Only definite, minimal lengths are
    /// accepted, so this doubles as a strictness check on what peers write.
    pub fn read_tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
        let (&tag, rest) = input.split_first().ok_or("empty input")?;
        let (&first, rest) = rest.split_first().ok_or("no length")?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 3 || rest.len() < n {
                return Err(format!("bad length form 0x{first:02x}"));
            }
            let (bytes, rest) = rest.split_at(n);
            if bytes[0] == 0 {
                return Err("non-minimal length".into());
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err("long form for a short length".into());
            }
            (len, rest)
        };
        if rest.len() < len {
            return Err(format!("length {len} but only {} bytes left", rest.len()));
        }
        let (value, rest) = rest.split_at(len);
        Ok((tag, value, rest))
    }

    /// Read a TLV and check its tag.
    pub fn expect_tlv(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), String> {
        let (t, v, rest) = read_tlv(input)?;
        if t != tag {
            return Err(format!("expected tag 0x{tag:02x}, found 0x{t:02x}"));
        }
        Ok((v, rest))
    }

    /// The magnitude of a non-negative DER INTEGER value, checking minimal encoding.
    pub fn uint_value(value: &[u8]) -> Result<&[u8], String> {
        match value {
            [] => Err("empty INTEGER".into()),
            [b, ..] if b & 0x80 != 0 => Err("negative INTEGER".into()),
            [0, next, ..] if next & 0x80 == 0 => {
                Err("INTEGER with a superfluous leading zero".into())
            }
            [0, rest @ ..] if !rest.is_empty() => Ok(rest),
            _ => Ok(value),
        }
    }

    /// Left-pad a big-endian magnitude to `len` bytes.
    pub fn left_pad(bytes: &[u8], len: usize) -> Result<Vec<u8>, String> {
        if bytes.len() > len {
            return Err(format!("{} bytes do not fit in {len}", bytes.len()));
        }
        let mut out = vec![0u8; len - bytes.len()];
        out.extend_from_slice(bytes);
        Ok(out)
    }

    /// Encode a tag-length-value.
    pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let len = value.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend_from_slice(&bytes);
        }
        out.extend_from_slice(value);
        out
    }

    /// A non-negative INTEGER from a big-endian magnitude, minimally encoded.
    pub fn uint(magnitude: &[u8]) -> Vec<u8> {
        let trimmed: Vec<u8> = magnitude.iter().copied().skip_while(|b| *b == 0).collect();
        let mut value = Vec::with_capacity(trimmed.len() + 1);
        if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
            value.push(0);
        }
        value.extend_from_slice(&trimmed);
        tlv(0x02, &value)
    }

    /// A SEQUENCE of already-encoded elements.
    pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    /// An ECDSA/SM2 signature `SEQUENCE { r INTEGER, s INTEGER }`.
    pub fn signature(r: &[u8], s: &[u8]) -> Vec<u8> {
        sequence(&[&uint(r), &uint(s)])
    }

    /// Split a DER signature into 32-byte `r` and `s`.
    pub fn signature_parts(sig: &[u8]) -> Result<([u8; 32], [u8; 32]), String> {
        let (body, rest) = expect_tlv(sig, 0x30)?;
        if !rest.is_empty() {
            return Err("trailing data after the signature".into());
        }
        let (r, body) = expect_tlv(body, 0x02)?;
        let (s, body) = expect_tlv(body, 0x02)?;
        if !body.is_empty() {
            return Err("extra fields in the signature".into());
        }
        let pad = |v: &[u8]| -> Result<[u8; 32], String> {
            let padded = left_pad(uint_value(v)?, 32)?;
            let mut out = [0u8; 32];
            out.copy_from_slice(&padded);
            Ok(out)
        };
        Ok((pad(r)?, pad(s)?))
    }

    /// An SM2 `ECPrivateKey` (RFC 5915 / SEC1) for a 32-byte scalar: `SEQUENCE { version 1,
    /// privateKey OCTET STRING, [0] OID sm2p256v1 }`, without the optional public key.
    pub fn sm2_sec1_private_key(scalar: &[u8; 32]) -> Vec<u8> {
        let params = tlv(0xa0, &tlv(0x06, &OID_SM2));
        sequence(&[&[0x02, 0x01, 0x01], &tlv(0x04, scalar), &params])
    }

    /// An SM2 PKCS#8 `PrivateKeyInfo` wrapping [`sm2_sec1_private_key`] (`id-ecPublicKey`
    /// with the SM2 curve, as OpenSSL writes it).
    pub fn sm2_pkcs8_private_key(scalar: &[u8; 32]) -> Vec<u8> {
        let algorithm = sequence(&[&tlv(0x06, &OID_EC_PUBLIC_KEY), &tlv(0x06, &OID_SM2)]);
        sequence(&[
            &[0x02, 0x01, 0x00],
            &algorithm,
            &tlv(0x04, &sm2_sec1_private_key(scalar)),
        ])
    }

    /// The private scalar of an EC key in PKCS#8 DER (`PrivateKeyInfo` around `ECPrivateKey`),
    /// left-padded to 32 bytes.
    pub fn ec_scalar_from_pkcs8(pkcs8: &[u8]) -> Result<[u8; 32], String> {
        let (info, _) = expect_tlv(pkcs8, 0x30)?;
        let (_version, info) = expect_tlv(info, 0x02)?;
        let (_algorithm, info) = expect_tlv(info, 0x30)?;
        let (ec_private_key, _) = expect_tlv(info, 0x04)?;
        let (ec, _) = expect_tlv(ec_private_key, 0x30)?;
        let (_version, ec) = expect_tlv(ec, 0x02)?;
        let (scalar, _) = expect_tlv(ec, 0x04)?;
        let padded = left_pad(scalar, 32)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&padded);
        Ok(out)
    }

    /// The four fields of a GM/T 0009 `SM2Cipher ::= SEQUENCE { XCoordinate INTEGER,
    /// YCoordinate INTEGER, HASH OCTET STRING, CipherText OCTET STRING }`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Sm2Cipher {
        /// C1's x, left-padded to 32 bytes.
        pub x: Vec<u8>,
        /// C1's y, left-padded to 32 bytes.
        pub y: Vec<u8>,
        /// The length of the x INTEGER's magnitude as encoded (shorter than 32 when x has
        /// leading zero bytes).
        pub x_encoded_len: usize,
        /// The same for y.
        pub y_encoded_len: usize,
        /// C3 = SM3(x2 || M || y2).
        pub hash: Vec<u8>,
        /// C2, the masked message.
        pub ciphertext: Vec<u8>,
    }

    impl Sm2Cipher {
        /// Parse strictly (minimal INTEGERs, no trailing data).
        pub fn parse(der: &[u8]) -> Result<Self, String> {
            let (body, rest) = expect_tlv(der, 0x30)?;
            if !rest.is_empty() {
                return Err("trailing data after SM2Cipher".into());
            }
            let (x, body) = expect_tlv(body, 0x02)?;
            let (y, body) = expect_tlv(body, 0x02)?;
            let (hash, body) = expect_tlv(body, 0x04)?;
            let (ciphertext, body) = expect_tlv(body, 0x04)?;
            if !body.is_empty() {
                return Err("extra fields in SM2Cipher".into());
            }
            let (x, y) = (uint_value(x)?, uint_value(y)?);
            Ok(Sm2Cipher {
                x: left_pad(x, 32)?,
                y: left_pad(y, 32)?,
                x_encoded_len: x.len(),
                y_encoded_len: y.len(),
                hash: hash.to_vec(),
                ciphertext: ciphertext.to_vec(),
            })
        }

        /// Encode (minimal INTEGERs).
        pub fn to_der(&self) -> Vec<u8> {
            sequence(&[
                &uint(&self.x),
                &uint(&self.y),
                &tlv(0x04, &self.hash),
                &tlv(0x04, &self.ciphertext),
            ])
        }

        /// Raw `04 || x || y || C3 || C2`.
        pub fn c1c3c2(&self) -> Vec<u8> {
            [&[0x04][..], &self.x, &self.y, &self.hash, &self.ciphertext].concat()
        }

        /// Raw `04 || x || y || C2 || C3`.
        pub fn c1c2c3(&self) -> Vec<u8> {
            [&[0x04][..], &self.x, &self.y, &self.ciphertext, &self.hash].concat()
        }

        /// Whether C1 has a coordinate with a leading zero byte, which a DER INTEGER encodes
        /// shorter than 32 bytes (about one ciphertext in 128).
        pub fn has_short_coordinate(&self) -> bool {
            self.x_encoded_len < 32 || self.y_encoded_len < 32
        }
    }
}

/// The 32-byte private scalar of an SM2 (or P-256) key, taken from its PKCS#8 encoding, for
/// peers that want raw hex keys.
pub fn ec_scalar(key: &PrivateKey) -> [u8; 32] {
    let pkcs8 = key
        .to_pkcs8_der()
        .unwrap_or_else(|e| panic!("cannot export the key as PKCS#8: {e}"));
    der::ec_scalar_from_pkcs8(&pkcs8)
        .unwrap_or_else(|e| panic!("cannot take the scalar out of yinxin's PKCS#8: {e}"))
}

/// Generate an SM2 key with yinxin.
pub fn sm2_key() -> PrivateKey {
    PrivateKey::generate(yinxin_crypto::KeySpec::Sm2)
        .unwrap_or_else(|e| panic!("SM2 key generation: {e}"))
}
