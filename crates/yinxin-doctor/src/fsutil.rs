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

/// Move a file, keeping it whole: rename, or copy + sync + verify + remove across file
/// systems. The source is removed only after the copy is known to be identical.
pub(crate) fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if to.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already exists", to.display()),
        ));
    }
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
            let data = std::fs::read(from)?;
            {
                let mut f = std::fs::File::create_new(to)?;
                f.write_all(&data)?;
                f.sync_all()?;
            }
            if std::fs::read(to)? != data {
                return Err(std::io::Error::other("the copy differs from the original"));
            }
            std::fs::remove_file(from)
        }
        Err(e) => Err(e),
    }
}
