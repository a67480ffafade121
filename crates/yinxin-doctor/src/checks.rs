//! The checks, in the order they run. Each appends [`Finding`]s to the [`Run`] and may leave
//! facts for later checks (the trust anchors, the server's CA certificates, the certificates
//! found on tokens).

mod certificates;
mod integrity;
mod logging;
mod machine;
mod pkcs11;
mod server;
mod service_units;
mod tokens;
mod trust;

use std::path::PathBuf;
use std::time::SystemTime;

use yinxin_pki::certificate::Certificate;

use crate::config::{ClientConfig, Home};
use crate::platform::Platform;
use crate::report::Finding;
use crate::services::ServiceManager;

pub(crate) use self::tokens::token_files;
pub(crate) use self::trust::{fetch_roots, fingerprint as trust_fingerprint};

/// Whether `signature` over `tbs` (DER) under `algorithm` verifies with `signer`'s key: a
/// root's own signature, a CRL's.
pub(crate) fn signed_by(
    signer: &Certificate,
    algorithm: &spki::AlgorithmIdentifierOwned,
    tbs: &impl der::Encode,
    signature: &der::asn1::BitString,
) -> bool {
    let (Ok(key), Ok(scheme), Ok(tbs), Some(sig)) = (
        yinxin_pki::certificate::public_key(signer),
        yinxin_pki::algorithm::scheme_of(algorithm, None),
        tbs.to_der(),
        signature.as_bytes(),
    ) else {
        return false;
    };
    key.verify(&scheme, &tbs, sig).is_ok()
}

/// A certificate found on a token, to be checked by the certificate check.
#[derive(Debug, Clone)]
pub(crate) struct HeldCertificate {
    /// Where it is: `alice.yxtoken / default / signing`, `PKCS#11 ePass3003 / sign`.
    pub(crate) holder: String,
    pub(crate) der: Vec<u8>,
}

/// A file the manifest says was modified after installation (for the service check).
#[derive(Debug, Clone)]
pub(crate) struct ModifiedFile {
    pub(crate) path: PathBuf,
}

/// One doctor run's state, shared by the checks.
pub(crate) struct Run<'a> {
    pub(crate) home: &'a Home,
    pub(crate) config: &'a ClientConfig,
    pub(crate) platform: &'a Platform,
    pub(crate) now: SystemTime,
    pub(crate) server: Option<String>,
    pub(crate) manifest: Option<PathBuf>,
    pub(crate) install_root: Option<PathBuf>,
    pub(crate) services: Option<&'a dyn ServiceManager>,
    pub(crate) http: reqwest::Client,
    /// The platform's roots from `$YINXIN_HOME/trust` that passed the trust check.
    pub(crate) anchors: Vec<Certificate>,
    /// CA certificates the server publishes (intermediates for chains, issuers for OCSP);
    /// never trusted by themselves.
    pub(crate) server_cas: Vec<Certificate>,
    /// Whether the server answered its health check.
    pub(crate) server_up: bool,
    pub(crate) held: Vec<HeldCertificate>,
    pub(crate) modified_files: Vec<ModifiedFile>,
    pub(crate) findings: Vec<Finding>,
}

impl Run<'_> {
    pub(crate) fn push(&mut self, f: Finding) {
        tracing::debug!(code = f.code, status = ?f.status, subject = %f.subject, "doctor finding");
        self.findings.push(f);
    }

    /// Run every check.
    pub(crate) async fn all(&mut self) {
        machine::check(self);
        logging::check(self);
        trust::check(self);
        server::check(self).await;
        tokens::check(self);
        pkcs11::check(self);
        certificates::check(self).await;
        integrity::check(self);
        service_units::check(self);
    }
}
