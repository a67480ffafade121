//! The identity of the machine a token was created on.
//!
//! A software token records a fingerprint of its creator's machine identity and binds its
//! integrity code and key wrapping to it, so a token file carried into other machines (the
//! field failure where a customised OS image shipped a stale soft-token database to every
//! machine deployed from it) is recognised and named as such instead of failing vaguely.

use std::path::{Path, PathBuf};

use yinxin_crypto::HashAlgorithm;
use yinxin_crypto::hash;
use zeroize::Zeroizing;

use crate::error::{Result, TokenError};

/// Environment variable naming another file to read the machine identity from (tests).
pub const MACHINE_ID_FILE_ENV: &str = "YINXIN_MACHINE_ID_FILE";

const DEFAULT_PATHS: [&str; 2] = ["/etc/machine-id", "/var/lib/dbus/machine-id"];

/// This machine's identity, as read from the platform.
#[derive(Clone)]
pub struct MachineIdentity {
    id: Zeroizing<String>,
    source: PathBuf,
}

impl std::fmt::Debug for MachineIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MachineIdentity({} from {})",
            self.fingerprint(),
            self.source.display()
        )
    }
}

impl MachineIdentity {
    /// Read the identity: `$YINXIN_MACHINE_ID_FILE` if set, else `/etc/machine-id` (Linux),
    /// else `/var/lib/dbus/machine-id`.
    pub fn current() -> Result<Self> {
        if let Some(path) = std::env::var_os(MACHINE_ID_FILE_ENV) {
            return Self::from_file(Path::new(&path));
        }
        let mut last = None;
        for p in DEFAULT_PATHS {
            match Self::from_file(Path::new(p)) {
                Ok(id) => return Ok(id),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| TokenError::MachineIdentity {
            path: PathBuf::from(DEFAULT_PATHS[0]),
            reason: "not found".into(),
        }))
    }

    /// Read the identity from a given file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| TokenError::MachineIdentity {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let id = text.trim();
        if id.is_empty() {
            return Err(TokenError::MachineIdentity {
                path: path.to_path_buf(),
                reason: "the file is empty (an OS image prepared for cloning leaves it empty \
                         until first boot; run `systemd-machine-id-setup`)"
                    .into(),
            });
        }
        Ok(MachineIdentity {
            id: Zeroizing::new(id.to_string()),
            source: path.to_path_buf(),
        })
    }

    /// Where the identity was read from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// A short public fingerprint (SM3, 16 bytes hex) that names the machine in token files
    /// and messages without revealing the identity itself.
    pub fn fingerprint(&self) -> String {
        let d = hash::digest(HashAlgorithm::Sm3, &self.tagged(b"fingerprint"));
        hex::encode(&d[..16])
    }

    /// Key material bound to this machine and a token (its serial), for the token's
    /// integrity code and key wrapping. Not a secret against a local attacker (the machine
    /// identity is world-readable); it binds, the PIN protects.
    pub(crate) fn binding_key(&self, token_serial: &str) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(hash::hmac(
            HashAlgorithm::Sm3,
            &self.tagged(b"binding"),
            token_serial.as_bytes(),
        ))
    }

    fn tagged(&self, purpose: &[u8]) -> Zeroizing<Vec<u8>> {
        let mut v = Zeroizing::new(b"yinxin-machine-v1/".to_vec());
        v.extend_from_slice(purpose);
        v.push(b'/');
        v.extend_from_slice(self.id.as_bytes());
        v
    }
}
