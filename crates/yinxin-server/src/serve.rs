//! `yinxin serve`: open the store, first-start or unseal, bind, serve until told to stop.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use yinxin_authority::{Authority, AuthorityConfig, InitOptions};
use yinxin_store::Store;

/// The file (in the data directory) holding the trial 1-of-1 unseal share.
pub const TRIAL_SHARE_FILE: &str = "unseal-share.txt";
/// The file (in the data directory) holding the first administrator's API token.
pub const ADMIN_TOKEN_FILE: &str = "admin-token.txt";
/// The directory (in the data directory) where a k-of-n first start leaves the shares.
pub const INIT_SHARES_DIR: &str = "init-shares";

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A file or socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] yinxin_store::StoreError),
    /// The authority refused to start.
    #[error(transparent)]
    Authority(#[from] yinxin_authority::AuthorityError),
    /// The configuration is wrong.
    #[error("configuration: {0}")]
    Config(String),
}

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The data directory (SQLite store, trial share, admin token).
    pub data_dir: PathBuf,
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// A `postgres://…` URL, or `None` for SQLite in the data directory.
    pub database: Option<String>,
    /// The URL clients reach this server at, if not `http://<listen>`.
    pub public_url: Option<String>,
    /// The vault's k-of-n on first start (1-of-1 is the trial mode).
    pub init: InitOptions,
    /// The organisation named in CA subjects on first start.
    pub ca_organisation: Option<String>,
    /// CRL regeneration interval.
    pub crl_interval: Option<Duration>,
    /// The PKCS#11 token holding CA keys, if any (see [`InitOptions::pkcs11_cas`]).
    pub pkcs11: Option<yinxin_authority::Pkcs11Config>,
    /// The time-stamping authority's policy, accuracy and clock tolerance.
    pub tsa: yinxin_authority::TsaConfig,
    /// Trusted proxies and whether credentials may come over plain HTTP from anywhere.
    pub transport: crate::transport::TransportPolicy,
    /// The server-wide budget for request bodies in flight, in bytes.
    pub body_budget: usize,
    /// CMS operations at once, if not the default.
    pub max_cms_operations: Option<usize>,
    /// Bounds on what certificate requests may carry.
    pub issuance_limits: yinxin_pki::limits::IssuanceLimits,
    /// With a K-of-N first start: one certificate (PEM or DER file) per share holder, in
    /// share order; share i is written sealed to certificate i (a CMS envelope,
    /// `share-i.p7m`), so whoever runs the first start never sees the shares in clear.
    pub share_recipients: Vec<PathBuf>,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let what = what.into();
    move |source| ServeError::Io { what, source }
}

/// The share recipients' certificates, checked before anything is created.
fn share_recipients(
    options: &ServeOptions,
) -> Result<Vec<(String, yinxin_cms::enveloped_data::Recipient)>, ServeError> {
    if options.share_recipients.is_empty() {
        return Ok(Vec::new());
    }
    if options.share_recipients.len() != usize::from(options.init.shares) || options.init.shares < 2
    {
        return Err(ServeError::Config(format!(
            "--share-recipients names {} certificates; a {}-of-{} first start needs exactly {}",
            options.share_recipients.len(),
            options.init.threshold,
            options.init.shares,
            options.init.shares
        )));
    }
    options
        .share_recipients
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(io(format!("reading {}", path.display())))?;
            let bad = |e: String| ServeError::Config(format!("{}: {e}", path.display()));
            let cert =
                yinxin_pki::certificate::from_pem_or_der(&bytes).map_err(|e| bad(e.to_string()))?;
            let der = yinxin_pki::certificate::to_der(&cert).map_err(|e| bad(e.to_string()))?;
            let recipient = yinxin_cms::enveloped_data::Recipient::by_certificate(&der)
                .map_err(|e| bad(format!("cannot seal a share to it: {e}")))?;
            Ok((cert.tbs_certificate().subject().to_string(), recipient))
        })
        .collect()
}

/// A share's text sealed to its holder's certificate: an RFC 5652 envelope
/// (`AuthEnvelopedData`, SM4-GCM for SM2, else AES-256-GCM) that `openssl cms -decrypt` and
/// `yinxin vault unseal --share-file share-N.p7m --token …` open.
fn seal_share(
    text: &str,
    recipient: &yinxin_cms::enveloped_data::Recipient,
) -> Result<Vec<u8>, ServeError> {
    use yinxin_cms::Form;
    use yinxin_cms::algorithm::ContentCipher;
    use yinxin_cms::enveloped_data::SealOptions;
    let sm2 = recipient.public_key().algorithm() == yinxin_crypto::KeyAlgorithm::Sm2;
    let options = SealOptions {
        form: Form::Rfc5652,
        ..SealOptions::default()
    }
    .with_cipher(ContentCipher::default_for(Form::Rfc5652, sm2));
    yinxin_cms::enveloped_data::seal_message(
        text.as_bytes(),
        std::slice::from_ref(recipient),
        &options,
    )
    .map_err(|e| ServeError::Config(format!("sealing a share: {e}")))
}

/// Write secret bytes readable by their owner only, atomically.
fn write_secret_bytes(path: &Path, bytes: &[u8]) -> Result<(), ServeError> {
    let tmp = path.with_extension("tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let _ = std::fs::remove_file(&tmp);
        let mut f = options
            .open(&tmp)
            .map_err(io(format!("creating {}", tmp.display())))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .map_err(io(format!("writing {}", tmp.display())))?;
    }
    std::fs::rename(&tmp, path).map_err(io(format!("renaming to {}", path.display())))
}

/// Write a secret text file (one line) readable by its owner only, atomically.
fn write_secret(path: &Path, text: &str) -> Result<(), ServeError> {
    let line = zeroize::Zeroizing::new(format!("{text}\n"));
    write_secret_bytes(path, line.as_bytes())
}

/// Owner-only permissions on the data directory and everything in it (0700 directories,
/// 0600 files), also for a directory made by an older version: the store, the shares and the
/// token are secrets, and a 0700 directory alone does not protect a copy or a bind mount.
fn make_private(dir: &Path) -> Result<(), ServeError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let set = |path: &Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                .map_err(io(format!("making {} private", path.display())))
        };
        set(dir, 0o700)?;
        let entries = std::fs::read_dir(dir).map_err(io(format!("reading {}", dir.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => make_private(&path)?,
                Ok(t) if t.is_file() => set(&path, 0o600)?,
                _ => {}
            }
        }
    }
    Ok(())
}

/// Create `path` empty with mode 0600 if it does not exist.
fn create_private(path: &Path) -> Result<(), ServeError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(io(format!("creating {}", path.display())))
}

/// Make the directory's entries (new files, renames) durable.
fn sync_dir(dir: &Path) -> Result<(), ServeError> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(format!("syncing {}", dir.display())))?;
    }
    Ok(())
}

/// Print a line for the operator (stdout, flushed: tests and supervisors read it).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Prepare the authority: first start, or open and (in trial mode) unseal.
pub async fn prepare(options: &ServeOptions, base_url: &str) -> Result<Authority, ServeError> {
    std::fs::create_dir_all(&options.data_dir)
        .map_err(io(format!("creating {}", options.data_dir.display())))?;
    make_private(&options.data_dir)?;
    let url = match &options.database {
        Some(u) => u.clone(),
        None => {
            let db = options.data_dir.join("yinxin.db");
            // Created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the
            // database file's permissions.
            create_private(&db)?;
            format!("sqlite://{}", db.display())
        }
    };
    let store = Store::open(&url).await?;
    let mut config = AuthorityConfig::new(base_url);
    if let Some(o) = &options.ca_organisation {
        config.ca_organisation = o.clone();
    }
    if let Some(i) = options.crl_interval {
        config.crl_interval = i;
        config.crl_validity = config.crl_validity.max(i * 2);
    }
    config.pkcs11 = options.pkcs11.clone();
    config.tsa = options.tsa.clone();
    config.issuance_limits = options.issuance_limits.clone();
    if let Some(n) = options.max_cms_operations {
        config.max_cms_operations = n.max(1);
    }
    let trial_share = options.data_dir.join(TRIAL_SHARE_FILE);
    let authority = if Authority::is_initialised(&store).await? {
        let authority = Authority::open(store, config).await?;
        if trial_share.exists() {
            let text = std::fs::read_to_string(&trial_share)
                .map_err(io(format!("reading {}", trial_share.display())))?;
            authority.unseal(&text).await?;
            say(&format!(
                "yinxin: TRIAL MODE: unsealed with {} — for trials only; production vaults are \
                 split among administrators (yinxin serve --shares K-of-N)",
                trial_share.display()
            ));
        } else {
            let s = authority.vault_status();
            say(&format!(
                "yinxin: the key vault is SEALED: give {} of {} shares with `yinxin vault unseal`",
                s.threshold, s.shares
            ));
        }
        authority
    } else {
        let recipients = share_recipients(options)?;
        say(
            "yinxin: first start: creating the key vault, SM2 and RSA CAs, OCSP signers, TSA, \
             envelope and signing keys …",
        );
        // The shares and the token reach the disk before the store counts as initialised.
        let persist = |init: &yinxin_authority::Initialised| -> Result<(), ServeError> {
            let token_path = options.data_dir.join(ADMIN_TOKEN_FILE);
            write_secret(&token_path, &init.admin_token)?;
            say(&format!(
                "yinxin: administrator API token written to {} (shown once; keep it safe)",
                token_path.display()
            ));
            if options.init.shares == 1 {
                write_secret(&trial_share, &init.shares[0].to_text())?;
                say(&format!(
                    "yinxin: TRIAL MODE: the 1-of-1 unseal share is in {} and the server \
                     unseals itself with it. For production start with --shares K-of-N and \
                     hand the shares to K..N different administrators.",
                    trial_share.display()
                ));
            } else {
                let dir = options.data_dir.join(INIT_SHARES_DIR);
                std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
                make_private(&dir)?;
                for (i, share) in init.shares.iter().enumerate() {
                    match recipients.get(i) {
                        Some((subject, recipient)) => {
                            let sealed = seal_share(&share.to_text(), recipient)?;
                            let path = dir.join(format!("share-{}.p7m", share.index()));
                            write_secret_bytes(&path, &sealed)?;
                            say(&format!(
                                "yinxin: share {} sealed to {subject}: {}",
                                share.index(),
                                path.display()
                            ));
                        }
                        None => write_secret(
                            &dir.join(format!("share-{}.txt", share.index())),
                            &share.to_text(),
                        )?,
                    }
                }
                say(&format!(
                    "yinxin: {} unseal shares ({} needed) written to {}: give one to each \
                     administrator, then DELETE that directory. The vault is unsealed until \
                     this process stops.",
                    options.init.shares,
                    options.init.threshold,
                    dir.display()
                ));
            }
            sync_dir(&options.data_dir)
        };
        let (authority, _init) =
            Authority::initialise_with(store, config, options.init.clone(), |init| {
                persist(init).map_err(|e| e.to_string())
            })
            .await?;
        authority
    };
    let token_file = options.data_dir.join(ADMIN_TOKEN_FILE);
    if token_file.exists() && authority.administrators_formed().await? {
        // That token stopped working when the list was formed; nothing should keep it.
        std::fs::remove_file(&token_file)
            .map_err(io(format!("removing {}", token_file.display())))?;
        say(&format!(
            "yinxin: the administrator list is formed: removed {} (that token no longer works)",
            token_file.display()
        ));
    }
    if let Err(e) = authority.publish_due_crls().await {
        tracing::warn!("publishing CRLs at start: {e}");
    }
    Ok(authority)
}

/// Run the server until SIGINT or SIGTERM.
pub async fn serve(options: ServeOptions) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(io(format!("listening on {}", options.listen)))?;
    let local = listener
        .local_addr()
        .map_err(io("reading the listening address"))?;
    let base_url = options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"))
        .trim_end_matches('/')
        .to_string();
    let authority = prepare(&options, &base_url).await?;
    let background = authority.spawn_background();
    let app = crate::routes::router_with(
        authority.clone(),
        options.transport.clone(),
        crate::budget::BodyBudget::new(options.body_budget),
    );
    say(&format!("yinxin: serving on {base_url}"));
    if !local.ip().is_loopback() {
        if options.transport.insecure_http {
            say(&format!(
                "yinxin: WARNING: listening on {local} over plain HTTP with --insecure-http: API \
                 tokens and unseal shares are accepted from any machine in clear. For trials \
                 only; this breaks the rule that credentials never travel over plain HTTP."
            ));
        } else {
            say(&format!(
                "yinxin: WARNING: listening on {local} over plain HTTP (no TLS yet): OCSP, CRLs, \
                 CA certificates and the TSA serve everyone, but API tokens and unseal shares \
                 from other machines are refused. Put a TLS-terminating proxy in front \
                 (--trusted-proxy ADDRESS) for remote administration."
            ));
        }
    }
    say(&format!("  status      {base_url}/api/v1/status"));
    say(&format!(
        "  REST API    {base_url}/api/v1  (OpenAPI: {base_url}/api/openapi.json)"
    ));
    say(&format!("  OCSP        {base_url}/ocsp"));
    say(&format!(
        "  TSA         {base_url}/tsa  (RFC 3161; /tsa/sm2, /tsa/rsa, /tsa/ecdsa; policy {})",
        options.tsa.policy
    ));
    for ca in authority.cas() {
        say(&format!(
            "  {:<11} {base_url}/ca/{}.crt   CRL {base_url}/crl/{}.crl",
            ca.name, ca.name, ca.name
        ));
    }
    say(&format!("yinxin: listening on {local}"));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .map_err(io("serving"))?;
    background.abort();
    authority.store().close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
