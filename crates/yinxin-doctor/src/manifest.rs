//! The signed installation manifest: the SHA-256 and size of every installed file, signed
//! with a code-signing certificate of the platform CA.
//!
//! It exists for a field failure: a service binary was silently replaced by other software;
//! its hash and size no longer matched the vendor's, and the service kept crashing.
//! `yinxin manifest create|sign|verify` and the doctor's installation check use this module.
//!
//! # The JSON form (`yinxin-manifest/1`)
//!
//! ```json
//! {
//!   "format": "yinxin-manifest/1",
//!   "product": "yinxin",
//!   "version": "0.1.0",
//!   "created_at": "2026-01-27T12:00:00Z",
//!   "files": [
//!     { "path": "bin/yinxin", "size": 12345678, "sha256": "9f86d081…" }
//!   ]
//! }
//! ```
//!
//! * `format` is exactly `yinxin-manifest/1`; anything else is refused, and so are unknown
//!   fields (a signed document has no room for fields a reader would silently ignore).
//! * `created_at` is RFC 3339 in UTC with whole seconds (`YYYY-MM-DDTHH:MM:SSZ`).
//! * `path` is relative to the installation root, `/`-separated on every system, and
//!   valid only when every component is a plain name: no empty component (`a//b`, a leading
//!   or trailing `/`), no `.` or `..`, no `\`, `:` (Windows drive letters and alternate data
//!   streams) or control characters. Paths are unique; [`Manifest::to_json`] writes the
//!   files sorted by path (byte order), and [`Manifest::from_json`] accepts any order.
//! * `sha256` is 64 lowercase hex digits; `size` is in bytes.
//!
//! [`Manifest::to_json`] writes this pretty-printed with a trailing newline. The signature
//! is over the manifest file's exact bytes, so a manifest is never re-serialised after
//! signing.
//!
//! # Files, directories and symbolic links
//!
//! [`Manifest::create`] walks the root recursively and records regular files. The
//! manifest itself ([`MANIFEST_FILE`]) and its signature ([`signature_path`]) at the top of
//! the root are skipped. A symbolic link is never followed out of the root: a link to a
//! file inside the root is recorded under the link's own path with the content it leads to
//! (how `lib/libx.so → libx.so.1` installs look), a link to a directory is not descended
//! (its target, being inside the root, is walked anyway), and a link that leads outside the
//! root or nowhere is refused. Other special files (sockets, FIFOs, devices) are skipped.
//! [`compare`] applies the same rules: a listed path that now leads outside the root is
//! [`FileCheck::Unreadable`], and so is anything it cannot walk while looking for
//! unexpected files.
//!
//! # The signature
//!
//! [`sign`] makes a detached CMS `SignedData` (DER) over the manifest's bytes, in the RFC
//! 5652 form for every key type — what `yinxin cms sign` writes by default — so OpenSSL
//! verifies an RSA or ECDSA signature with
//! `openssl cms -verify -binary -inform DER -content yinxin-manifest.json -in
//! yinxin-manifest.json.p7s -CAfile root.pem -purpose any`. SM2 signatures use SM3 and
//! `SM2-with-SM3` (`1.2.156.10197.1.501`) with the default signer ID `1234567812345678`.
//! The signer's certificate must carry the `codeSigning` extended key usage
//! (`1.3.6.1.5.5.7.3.3`) itself: [`sign`] refuses other certificates and
//! [`verify_signature`] does not trust their signatures, even when the certificate has no
//! extended key usage at all (which RFC 5280 would read as "any purpose").

mod signature;
mod walk;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub use signature::{SignatureVerdict, sign, verify_signature};
pub use walk::{FileCheck, compare, compare_excluding, sha256_file};

/// The manifest's default file name, at the top of the installation root.
pub const MANIFEST_FILE: &str = "yinxin-manifest.json";

/// What a signature file's name adds to its manifest's name.
pub const SIGNATURE_SUFFIX: &str = ".p7s";

/// The `format` of this version of the manifest.
pub const FORMAT: &str = "yinxin-manifest/1";

/// The largest manifest or signature file [`read_limited`] callers should accept.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// The signature file of the manifest at `manifest`: its path with `.p7s` appended.
pub fn signature_path(manifest: &Path) -> PathBuf {
    let mut name = manifest.as_os_str().to_os_string();
    name.push(SIGNATURE_SUFFIX);
    PathBuf::from(name)
}

/// What goes wrong while making, reading or signing a manifest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// A file or directory could not be read (or written).
    #[error("cannot read {path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason (in the message, not chained as a source, so that
        /// `{:#}` does not print it twice).
        error: std::io::Error,
    },
    /// A file is larger than the caller accepts.
    #[error("{path} is {size} bytes, more than the {limit} bytes a manifest or signature may have")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A symbolic link under the root leads outside it, or nowhere.
    #[error(
        "{path} is a symbolic link that {reason}; a manifest never follows links out of {root}"
    )]
    Symlink {
        /// The link.
        path: PathBuf,
        /// The root being walked.
        root: PathBuf,
        /// "leads outside the installation" or "leads nowhere".
        reason: &'static str,
    },
    /// A file name is not valid UTF-8 (or otherwise cannot be a manifest path).
    #[error("{path} cannot be listed in a manifest: {reason}")]
    UnlistableName {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: &'static str,
    },
    /// The manifest is not JSON, or not the JSON of a manifest.
    #[error("the manifest is not valid: {0}")]
    Json(serde_json::Error),
    /// The manifest's `format` is not [`FORMAT`].
    #[error("unknown manifest format \"{0}\" (this yinxin reads \"yinxin-manifest/1\")")]
    UnknownFormat(String),
    /// A path in the manifest is absolute, climbs out of the root or is otherwise malformed.
    #[error("bad path \"{path}\" in the manifest: {reason}")]
    BadPath {
        /// The path as written.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A path is listed twice.
    #[error("the manifest lists \"{0}\" twice")]
    DuplicatePath(String),
    /// A SHA-256 value is not 64 lowercase hex digits.
    #[error(
        "bad sha256 \"{sha256}\" for \"{path}\" in the manifest: expected 64 lowercase hex digits"
    )]
    BadDigest {
        /// The file's path.
        path: String,
        /// The value as written.
        sha256: String,
    },
    /// Another field has a bad value.
    #[error("bad {field} in the manifest: {reason}")]
    BadField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A certificate could not be read.
    #[error("cannot read the {what} certificate: {error}")]
    Certificate {
        /// "signer's" or "chain".
        what: &'static str,
        /// The decoding error.
        error: yinxin_pki::Error,
    },
    /// The signer's certificate does not allow code signing.
    #[error(
        "the certificate of \"{subject}\" is not a code-signing certificate: it lacks the \
         codeSigning extended key usage (1.3.6.1.5.5.7.3.3)"
    )]
    NotCodeSigning {
        /// The certificate's subject.
        subject: String,
    },
    /// The signer's certificate is outside its validity period.
    #[error("the certificate of \"{subject}\" {reason}")]
    CertificateNotValid {
        /// The certificate's subject.
        subject: String,
        /// "expired on …" or "is not valid before …".
        reason: String,
    },
    /// Making the CMS signature failed (e.g. the key is not the certificate's).
    #[error("cannot sign the manifest: {0}")]
    Signing(yinxin_cms::Error),
}

/// An installation's list of files, as signed by the vendor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The product (`yinxin`).
    pub product: String,
    /// The product's version.
    pub version: String,
    /// When the manifest was made: RFC 3339, UTC, whole seconds.
    pub created_at: String,
    /// The files, sorted by path.
    pub files: Vec<ManifestEntry>,
}

/// One installed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Relative to the installation root, `/`-separated, no `..`.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
}

/// The JSON document: [`Manifest`] with its format tag first.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document<'a> {
    format: std::borrow::Cow<'a, str>,
    product: std::borrow::Cow<'a, str>,
    version: std::borrow::Cow<'a, str>,
    created_at: std::borrow::Cow<'a, str>,
    files: std::borrow::Cow<'a, [ManifestEntry]>,
}

impl Manifest {
    /// The manifest of every file under `root` (see the module docs for what is recorded),
    /// stamped now.
    pub fn create(root: &Path, product: &str, version: &str) -> Result<Manifest, ManifestError> {
        Manifest::create_excluding(root, product, version, &[])
    }

    /// [`Manifest::create`], also leaving out these root-relative paths (a manifest and
    /// signature written under another name inside the root).
    pub fn create_excluding(
        root: &Path,
        product: &str,
        version: &str,
        exclude: &[&str],
    ) -> Result<Manifest, ManifestError> {
        check_text("product", product)?;
        check_text("version", version)?;
        let mut files = Vec::new();
        for found in walk::walk(root, exclude)? {
            let file = found.into_file()?;
            let (size, sha256) = sha256_file(&file.full).map_err(|error| ManifestError::Io {
                path: file.full.clone(),
                error,
            })?;
            files.push(ManifestEntry {
                path: file.relative,
                size,
                sha256,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Manifest {
            product: product.to_string(),
            version: version.to_string(),
            created_at: rfc3339(SystemTime::now()),
            files,
        })
    }

    /// The JSON form: pretty-printed, files sorted by path, with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut files = self.files.clone();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let document = Document {
            format: FORMAT.into(),
            product: self.product.as_str().into(),
            version: self.version.as_str().into(),
            created_at: self.created_at.as_str().into(),
            files: files.into(),
        };
        // Serialising strings and integers into memory cannot fail.
        let mut out = serde_json::to_vec_pretty(&document).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Read the JSON form, refusing an unknown format, bad or duplicate paths and bad hashes.
    /// The files come back sorted by path.
    pub fn from_json(data: &[u8]) -> Result<Manifest, ManifestError> {
        let document: Document<'_> = serde_json::from_slice(data).map_err(ManifestError::Json)?;
        if document.format != FORMAT {
            return Err(ManifestError::UnknownFormat(document.format.into_owned()));
        }
        check_text("product", &document.product)?;
        check_text("version", &document.version)?;
        if der::DateTime::from_str(&document.created_at).is_err() {
            return Err(ManifestError::BadField {
                field: "created_at",
                reason: format!(
                    "\"{}\" is not an RFC 3339 UTC time like 2026-01-27T12:00:00Z",
                    document.created_at
                ),
            });
        }
        let mut files = document.files.into_owned();
        let mut seen = BTreeSet::new();
        for entry in &files {
            check_path(&entry.path)?;
            check_sha256(entry)?;
            if !seen.insert(entry.path.as_str()) {
                return Err(ManifestError::DuplicatePath(entry.path.clone()));
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Manifest {
            product: document.product.into_owned(),
            version: document.version.into_owned(),
            created_at: document.created_at.into_owned(),
            files,
        })
    }

    /// The sum of the files' sizes.
    pub fn total_size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// Read a file whole, refusing one larger than `limit` bytes (use [`MAX_MANIFEST_BYTES`] for
/// manifests and signatures).
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, ManifestError> {
    use std::io::Read;
    let io = |error: std::io::Error| ManifestError::Io {
        path: path.to_path_buf(),
        error,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut data = Vec::new();
    // Read one byte past the limit rather than trusting the metadata (files can grow).
    file.take(limit.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io)?;
    let size = data.len() as u64;
    if size > limit {
        return Err(ManifestError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    Ok(data)
}

/// Check that `path` is a manifest path: relative, `/`-separated plain names (module docs).
pub fn check_path(path: &str) -> Result<(), ManifestError> {
    let bad = |reason| {
        Err(ManifestError::BadPath {
            path: path.to_string(),
            reason,
        })
    };
    if path.is_empty() {
        return bad("it is empty");
    }
    if path.starts_with('/') {
        return bad("it is absolute");
    }
    if path.contains('\\') {
        return bad("it contains '\\' (paths are '/'-separated)");
    }
    if path.contains(':') {
        return bad("it contains ':' (a drive letter or stream name)");
    }
    if path.chars().any(char::is_control) {
        return bad("it contains a control character");
    }
    for component in path.split('/') {
        match component {
            "" => return bad("it has an empty component"),
            "." => return bad("it has a '.' component"),
            ".." => return bad("it climbs out of the installation with '..'"),
            _ => {}
        }
    }
    Ok(())
}

fn check_sha256(entry: &ManifestEntry) -> Result<(), ManifestError> {
    let s = &entry.sha256;
    if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(ManifestError::BadDigest {
            path: entry.path.clone(),
            sha256: s.clone(),
        })
    }
}

fn check_text(field: &'static str, value: &str) -> Result<(), ManifestError> {
    if value.trim().is_empty() {
        return Err(ManifestError::BadField {
            field,
            reason: "it is empty".into(),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ManifestError::BadField {
            field,
            reason: "it contains a control character".into(),
        });
    }
    Ok(())
}

/// RFC 3339 in UTC, whole seconds.
fn rfc3339(t: SystemTime) -> String {
    // Before 1970 or after 9999 is not a clock worth a manifest; say so rather than fail.
    der::DateTime::from_system_time(t)
        .map_or_else(|_| "1970-01-01T00:00:00Z".to_string(), |d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn sample() -> Manifest {
        Manifest {
            product: "yinxin".into(),
            version: "1.2.3".into(),
            created_at: "2026-01-27T12:00:00Z".into(),
            files: vec![
                ManifestEntry {
                    path: "lib/libyinxin.so".into(),
                    size: 4,
                    sha256: HASH.into(),
                },
                ManifestEntry {
                    path: "bin/yinxin".into(),
                    size: 0,
                    sha256: HASH.into(),
                },
            ],
        }
    }

    fn with_path(path: &str) -> Vec<u8> {
        let mut m = sample();
        m.files[0].path = path.into();
        // Written by hand: to_json does not validate.
        m.to_json()
    }

    #[test]
    fn json_round_trip_is_sorted_stable_and_tagged() {
        let m = sample();
        let json = m.to_json();
        assert!(json.ends_with(b"}\n"));
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(
            text.starts_with("{\n  \"format\": \"yinxin-manifest/1\",\n"),
            "{text}"
        );
        assert!(text.find("bin/yinxin").unwrap() < text.find("lib/libyinxin.so").unwrap());
        let back = Manifest::from_json(&json).unwrap();
        assert_eq!(back.files[0].path, "bin/yinxin");
        assert_eq!(back.to_json(), json);
        assert_eq!(back.total_size(), 4);
    }

    #[test]
    fn unknown_format_fields_and_non_json_are_refused() {
        let text = String::from_utf8(sample().to_json()).unwrap();
        let other = text.replace("yinxin-manifest/1", "yinxin-manifest/2");
        assert!(matches!(
            Manifest::from_json(other.as_bytes()),
            Err(ManifestError::UnknownFormat(f)) if f == "yinxin-manifest/2"
        ));
        let extra = text.replace("\"product\"", "\"signed_by\": \"me\", \"product\"");
        assert!(matches!(
            Manifest::from_json(extra.as_bytes()),
            Err(ManifestError::Json(_))
        ));
        assert!(matches!(
            Manifest::from_json(b"not json"),
            Err(ManifestError::Json(_))
        ));
        let time = text.replace("2026-01-27T12:00:00Z", "yesterday");
        assert!(matches!(
            Manifest::from_json(time.as_bytes()),
            Err(ManifestError::BadField {
                field: "created_at",
                ..
            })
        ));
    }

    #[test]
    fn bad_paths_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../etc/passwd",
            "bin/../../etc/passwd",
            "bin/..",
            "./bin/yinxin",
            "bin//yinxin",
            "bin/",
            "bin\\yinxin",
            "C:/Windows/yinxin.exe",
            "bin/yinxin\n",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
            assert!(
                matches!(
                    Manifest::from_json(&with_path(bad)),
                    Err(ManifestError::BadPath { .. })
                ),
                "{bad:?}"
            );
        }
        for good in [
            "sbin/yinxin",
            "lib/x/libyinxin.so.1",
            "a..b",
            ".hidden",
            "中文/文件",
        ] {
            check_path(good).unwrap();
            Manifest::from_json(&with_path(good)).unwrap();
        }
    }

    #[test]
    fn duplicate_paths_and_bad_hex_are_refused() {
        assert!(matches!(
            Manifest::from_json(&with_path("bin/yinxin")),
            Err(ManifestError::DuplicatePath(p)) if p == "bin/yinxin"
        ));
        for bad in [
            &HASH[1..],
            &HASH.to_uppercase(),
            &HASH.replace('9', "g"),
            "",
        ] {
            let mut m = sample();
            m.files[1].sha256 = bad.to_string();
            assert!(
                matches!(
                    Manifest::from_json(&m.to_json()),
                    Err(ManifestError::BadDigest { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn signature_path_appends_p7s() {
        assert_eq!(
            signature_path(Path::new("/opt/yinxin/yinxin-manifest.json")),
            Path::new("/opt/yinxin/yinxin-manifest.json.p7s")
        );
    }
}
