//! Walking an installation root and comparing it with a manifest, hashing files as streams.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use yinxin_crypto::HashAlgorithm;
use yinxin_crypto::hash::Hasher;

use super::{MANIFEST_FILE, Manifest, ManifestError, SIGNATURE_SUFFIX, check_path};

/// How much of a file is hashed at a time.
const CHUNK: usize = 64 * 1024;

/// The state of one file of an installation compared with its manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileCheck {
    /// Same size and SHA-256 as listed.
    Intact {
        /// The manifest path.
        path: String,
    },
    /// The content differs from the manifest's: it was modified after installation.
    Modified {
        /// The manifest path.
        path: String,
        /// The SHA-256 the manifest lists.
        expected_sha256: String,
        /// The SHA-256 found now.
        actual_sha256: String,
        /// The size the manifest lists.
        expected_size: u64,
        /// The size found now.
        actual_size: u64,
    },
    /// Listed, but not there.
    Missing {
        /// The manifest path.
        path: String,
    },
    /// There, but it cannot be read or is not a regular file inside the root.
    Unreadable {
        /// The manifest path (or the root-relative path found while walking; `.` for the
        /// root itself).
        path: String,
        /// Why, in plain words.
        reason: String,
    },
    /// A file under the root that the manifest does not list.
    Unexpected {
        /// The root-relative path.
        path: String,
        /// Its size.
        size: u64,
        /// Its SHA-256, lowercase hex.
        sha256: String,
    },
}

impl FileCheck {
    /// The file's manifest (root-relative) path.
    pub fn path(&self) -> &str {
        match self {
            FileCheck::Intact { path }
            | FileCheck::Modified { path, .. }
            | FileCheck::Missing { path }
            | FileCheck::Unreadable { path, .. }
            | FileCheck::Unexpected { path, .. } => path,
        }
    }

    /// Whether this makes the installation fail its check: modified, missing or unreadable
    /// (an unexpected file is reported but is not a failure).
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            FileCheck::Modified { .. } | FileCheck::Missing { .. } | FileCheck::Unreadable { .. }
        )
    }

    /// `intact`, `modified`, `missing`, `unreadable` or `unexpected`.
    pub fn status(&self) -> &'static str {
        match self {
            FileCheck::Intact { .. } => "intact",
            FileCheck::Modified { .. } => "modified",
            FileCheck::Missing { .. } => "missing",
            FileCheck::Unreadable { .. } => "unreadable",
            FileCheck::Unexpected { .. } => "unexpected",
        }
    }
}

/// The size and SHA-256 (lowercase hex) of a file, read in chunks (never whole).
pub fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Hasher::new(HashAlgorithm::Sha256);
    let mut buffer = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((size, hex::encode(hasher.finish())))
}

/// Compare the installation under `root` with `manifest`: every listed file, then every
/// file found under the root that is not listed. Sorted by path. The default manifest and
/// signature names at the top of the root are not "unexpected".
pub fn compare(manifest: &Manifest, root: &Path) -> Vec<FileCheck> {
    compare_excluding(manifest, root, &[])
}

/// [`compare`], also ignoring these root-relative paths while looking for unexpected files
/// (a manifest and signature kept inside the root under other names).
pub fn compare_excluding(manifest: &Manifest, root: &Path, exclude: &[&str]) -> Vec<FileCheck> {
    let canonical_root = std::fs::canonicalize(root).ok();
    let mut checks: Vec<FileCheck> = manifest
        .files
        .iter()
        .map(|entry| {
            let path = entry.path.clone();
            let full = join(root, &entry.path);
            match hash_listed(&full, canonical_root.as_deref()) {
                Listed::Missing => FileCheck::Missing { path },
                Listed::Unreadable(reason) => FileCheck::Unreadable { path, reason },
                Listed::Hashed { size, sha256 } if size == entry.size && sha256 == entry.sha256 => {
                    FileCheck::Intact { path }
                }
                Listed::Hashed { size, sha256 } => FileCheck::Modified {
                    path,
                    expected_sha256: entry.sha256.clone(),
                    actual_sha256: sha256,
                    expected_size: entry.size,
                    actual_size: size,
                },
            }
        })
        .collect();
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    match walk(root, exclude) {
        Err(e) => checks.push(FileCheck::Unreadable {
            path: ".".into(),
            reason: e.to_string(),
        }),
        Ok(found) => {
            for walked in found {
                if listed.contains(walked.relative()) {
                    continue;
                }
                checks.push(match walked {
                    Walked::File(file) => match sha256_file(&file.full) {
                        Ok((size, sha256)) => FileCheck::Unexpected {
                            path: file.relative,
                            size,
                            sha256,
                        },
                        Err(e) => FileCheck::Unreadable {
                            path: file.relative,
                            reason: e.to_string(),
                        },
                    },
                    Walked::Problem { relative, error } => FileCheck::Unreadable {
                        path: relative,
                        reason: error.to_string(),
                    },
                });
            }
        }
    }
    checks.sort_by(|a, b| a.path().cmp(b.path()));
    checks
}

/// What was found at a listed path.
enum Listed {
    Missing,
    Unreadable(String),
    Hashed { size: u64, sha256: String },
}

fn hash_listed(full: &Path, canonical_root: Option<&Path>) -> Listed {
    match std::fs::symlink_metadata(full) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Listed::Missing,
        Err(e) => return Listed::Unreadable(e.to_string()),
        Ok(_) => {}
    }
    // Resolve every link on the way (the file's and its directories') before reading.
    let target = match std::fs::canonicalize(full) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Listed::Unreadable("it is a symbolic link that leads nowhere".into());
        }
        Err(e) => return Listed::Unreadable(e.to_string()),
    };
    if let Some(root) = canonical_root
        && !target.starts_with(root)
    {
        return Listed::Unreadable(format!(
            "it leads outside the installation, to {}",
            target.display()
        ));
    }
    match std::fs::metadata(&target) {
        Ok(m) if m.is_file() => {}
        Ok(m) if m.is_dir() => return Listed::Unreadable("it is a directory".into()),
        // Never open a FIFO or device: reading it could block or never end.
        Ok(_) => return Listed::Unreadable("it is not a regular file".into()),
        Err(e) => return Listed::Unreadable(e.to_string()),
    }
    match sha256_file(&target) {
        Ok((size, sha256)) => Listed::Hashed { size, sha256 },
        Err(e) => Listed::Unreadable(e.to_string()),
    }
}

/// A manifest path under `root`, with the system's separators.
fn join(root: &Path, path: &str) -> PathBuf {
    let mut full = root.to_path_buf();
    full.extend(path.split('/'));
    full
}

/// A regular file found under the root.
pub(super) struct Found {
    /// The manifest path.
    pub(super) relative: String,
    /// The path to open (a link when the file is reached through one).
    pub(super) full: PathBuf,
}

/// One thing found while walking: a file to record, or why something cannot be recorded.
pub(super) enum Walked {
    File(Found),
    Problem {
        relative: String,
        error: ManifestError,
    },
}

impl Walked {
    fn relative(&self) -> &str {
        match self {
            Walked::File(f) => &f.relative,
            Walked::Problem { relative, .. } => relative,
        }
    }

    /// The file, or the problem as the error that stops [`Manifest::create`].
    pub(super) fn into_file(self) -> Result<Found, ManifestError> {
        match self {
            Walked::File(f) => Ok(f),
            Walked::Problem { error, .. } => Err(error),
        }
    }
}

/// Every regular file under `root` by the module's rules (links inside the root followed to
/// files, never to directories or out of the root), in a stable order. Only an unreadable
/// root is an `Err`; everything below it is reported in place.
pub(super) fn walk(root: &Path, exclude: &[&str]) -> Result<Vec<Walked>, ManifestError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error: std::io::Error| ManifestError::Io { path, error }
    };
    let canonical_root = std::fs::canonicalize(root).map_err(io(root))?;
    if !std::fs::metadata(&canonical_root)
        .map_err(io(root))?
        .is_dir()
    {
        return Err(ManifestError::Io {
            path: root.to_path_buf(),
            error: std::io::Error::other("it is not a directory"),
        });
    }
    let signature = format!("{MANIFEST_FILE}{SIGNATURE_SUFFIX}");
    let mut out = Vec::new();
    // (directory, its manifest path prefix); a stack, so deep trees do not recurse.
    let mut pending = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let entries = match std::fs::read_dir(&dir).and_then(|rd| rd.collect::<Result<Vec<_>, _>>())
        {
            Ok(entries) => entries,
            Err(error) => {
                // The root itself was readable a moment ago; this is a subdirectory.
                out.push(Walked::Problem {
                    relative: prefix.trim_end_matches('/').to_string(),
                    error: ManifestError::Io { path: dir, error },
                });
                continue;
            }
        };
        let mut names: Vec<(std::ffi::OsString, PathBuf)> =
            entries.iter().map(|e| (e.file_name(), e.path())).collect();
        names.sort();
        let mut subdirectories = Vec::new();
        for (name, full) in names {
            let problem = |relative: String, error| Walked::Problem { relative, error };
            let Some(name) = name.to_str() else {
                out.push(problem(
                    format!("{prefix}{}", name.to_string_lossy()),
                    ManifestError::UnlistableName {
                        path: full,
                        reason: "its name is not valid UTF-8",
                    },
                ));
                continue;
            };
            let relative = format!("{prefix}{name}");
            if exclude.contains(&relative.as_str())
                || (prefix.is_empty() && (name == MANIFEST_FILE || name == signature))
            {
                continue;
            }
            if check_path(&relative).is_err() {
                out.push(problem(
                    relative,
                    ManifestError::UnlistableName {
                        path: full,
                        reason: "its name contains '\\', ':' or a control character",
                    },
                ));
                continue;
            }
            let meta = match std::fs::symlink_metadata(&full) {
                Ok(m) => m,
                Err(error) => {
                    out.push(problem(relative, ManifestError::Io { path: full, error }));
                    continue;
                }
            };
            let is_file = if meta.file_type().is_symlink() {
                let link_problem = |reason| ManifestError::Symlink {
                    path: full.clone(),
                    root: root.to_path_buf(),
                    reason,
                };
                match std::fs::canonicalize(&full) {
                    Err(_) => {
                        out.push(problem(relative, link_problem("leads nowhere")));
                        continue;
                    }
                    Ok(target) if !target.starts_with(&canonical_root) => {
                        out.push(problem(
                            relative,
                            link_problem("leads outside the installation"),
                        ));
                        continue;
                    }
                    // A link to a directory inside the root: that directory is walked anyway.
                    Ok(target) => std::fs::metadata(&target).is_ok_and(|m| m.is_file()),
                }
            } else if meta.is_dir() {
                subdirectories.push((full, format!("{relative}/")));
                continue;
            } else {
                meta.is_file()
            };
            if is_file {
                out.push(Walked::File(Found { relative, full }));
            }
        }
        // Reversed so the stack yields them in name order.
        pending.extend(subdirectories.into_iter().rev());
    }
    out.sort_by(|a, b| a.relative().cmp(b.relative()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn install() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("lib/x")).unwrap();
        std::fs::write(root.join("bin/yinxin"), b"binary").unwrap();
        std::fs::write(root.join("lib/x/libyinxin.so.1"), vec![7u8; 200_000]).unwrap();
        std::fs::write(root.join(MANIFEST_FILE), b"{}").unwrap();
        std::fs::write(root.join(format!("{MANIFEST_FILE}.p7s")), b"sig").unwrap();
        dir
    }

    #[test]
    fn create_lists_regular_files_sorted_and_skips_the_manifest() {
        let dir = install();
        let m = Manifest::create(dir.path(), "yinxin", "1.0").unwrap();
        let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["bin/yinxin", "lib/x/libyinxin.so.1"]);
        assert_eq!(m.files[0].size, 6);
        assert_eq!(
            m.files[0].sha256,
            hex::encode(yinxin_crypto::hash::digest(
                HashAlgorithm::Sha256,
                b"binary"
            ))
        );
        assert_eq!(m.total_size(), 200_006);
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
        let all_intact = compare(&m, dir.path())
            .iter()
            .all(|c| matches!(c, FileCheck::Intact { .. }));
        assert!(all_intact);
    }

    #[test]
    fn compare_finds_modified_missing_and_unexpected() {
        let dir = install();
        let root = dir.path();
        let m = Manifest::create(root, "yinxin", "1.0").unwrap();
        std::fs::write(root.join("bin/yinxin"), b"Binary").unwrap();
        std::fs::remove_file(root.join("lib/x/libyinxin.so.1")).unwrap();
        std::fs::write(root.join("lib/extra"), b"e").unwrap();
        let checks = compare(&m, root);
        assert_eq!(checks.len(), 3, "{checks:?}");
        assert!(
            matches!(&checks[0], FileCheck::Modified { path, expected_size: 6, actual_size: 6, .. } if path == "bin/yinxin")
        );
        assert!(
            matches!(&checks[1], FileCheck::Unexpected { path, size: 1, .. } if path == "lib/extra")
        );
        assert!(
            matches!(&checks[2], FileCheck::Missing { path } if path == "lib/x/libyinxin.so.1")
        );
        assert!(checks[0].is_failure() && !checks[1].is_failure() && checks[2].is_failure());
        assert_eq!(checks[1].status(), "unexpected");
    }

    #[cfg(unix)]
    #[test]
    fn links_inside_are_followed_links_outside_are_refused() {
        use std::os::unix::fs::symlink;
        let dir = install();
        let root = dir.path();
        symlink("libyinxin.so.1", root.join("lib/x/libyinxin.so")).unwrap();
        symlink("lib", root.join("lib-link")).unwrap();
        let m = Manifest::create(root, "yinxin", "1.0").unwrap();
        let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["bin/yinxin", "lib/x/libyinxin.so", "lib/x/libyinxin.so.1"]
        );
        // A listed binary replaced by a link to a file outside the root is not read.
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("other"), b"binary").unwrap();
        std::fs::remove_file(root.join("bin/yinxin")).unwrap();
        symlink(outside.path().join("other"), root.join("bin/yinxin")).unwrap();
        let checks = compare(&m, root);
        assert!(
            matches!(&checks[0], FileCheck::Unreadable { path, reason } if path == "bin/yinxin" && reason.contains("outside")),
            "{checks:?}"
        );
        let err = Manifest::create(root, "yinxin", "1.0").unwrap_err();
        assert!(matches!(err, ManifestError::Symlink { .. }), "{err}");
        assert!(err.to_string().contains("leads outside"), "{err}");
    }

    #[test]
    fn a_missing_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Manifest::create(&dir.path().join("nope"), "yinxin", "1").unwrap_err();
        assert!(matches!(err, ManifestError::Io { .. }), "{err}");
    }

    #[test]
    fn excluded_paths_are_skipped() {
        let dir = install();
        std::fs::write(dir.path().join("bin/custom.json"), b"{}").unwrap();
        let m =
            Manifest::create_excluding(dir.path(), "yinxin", "1.0", &["bin/custom.json"]).unwrap();
        assert_eq!(m.files.len(), 2);
        assert!(
            compare_excluding(&m, dir.path(), &["bin/custom.json"])
                .iter()
                .all(|c| !c.is_failure() && c.status() == "intact")
        );
        assert_eq!(compare(&m, dir.path()).len(), 3);
    }
}
