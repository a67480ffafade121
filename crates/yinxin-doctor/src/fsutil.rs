//! File operations that never leave half a file or lose one.

use std::io::Write;
use std::path::Path;

/// Write `data` to `path` through a synced temporary file renamed over it.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        // Keep the file's mode (a config.toml an administrator made 0600 stays so).
        if let Ok(m) = std::fs::metadata(path) {
            f.set_permissions(m.permissions())?;
        }
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Append one line to a journal file, synced.
pub(crate) fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(line.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}

/// Create a directory (and its parents) readable by its owner only.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Move a file without ever replacing one: `to` must not exist (not even as a dangling
/// link). A hard link then removing the old name, or across file systems a copy (same
/// permissions, synced, compared) before the original is removed.
pub(crate) fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists", to.display()),
        ));
    }
    match std::fs::hard_link(from, to) {
        Ok(()) => return std::fs::remove_file(from),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(e),
        Err(_) => {}
    }
    let data = std::fs::read(from)?;
    {
        let mut f = std::fs::File::create_new(to)?;
        f.write_all(&data)?;
        f.set_permissions(std::fs::metadata(from)?.permissions())?;
        f.sync_all()?;
    }
    if std::fs::read(to)? != data {
        return Err(std::io::Error::other("the copy differs from the original"));
    }
    std::fs::remove_file(from)
}

/// Write a new file; fails if anything is already at `path`.
pub(crate) fn write_new(path: &Path, data: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::File::create_new(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (dir.path().join("a"), dir.path().join("sub/b"));
        std::fs::write(&a, b"store").unwrap_or_else(|e| panic!("{e}"));
        move_file(&a, &b).unwrap_or_else(|e| panic!("{e}"));
        assert!(!a.exists());
        std::fs::write(&a, b"other").unwrap_or_else(|e| panic!("{e}"));
        let e = move_file(&a, &b).err().map(|e| e.kind());
        assert_eq!(e, Some(std::io::ErrorKind::AlreadyExists));
        assert_eq!(std::fs::read(&a).ok().as_deref(), Some(&b"other"[..]));
        assert_eq!(std::fs::read(&b).ok().as_deref(), Some(&b"store"[..]));
        // Nor a dangling link in the way.
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(dir.path().join("nowhere"), &link)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(move_file(&a, &link).is_err());
            assert!(a.exists());
        }
        assert!(write_new(&b, b"x").is_err());
    }
}
