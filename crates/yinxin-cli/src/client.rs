//! A small blocking client for the server's REST API: JSON in and out, problem JSON turned
//! into one-line errors.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use yinxin_server::api::Problem;
use zeroize::Zeroizing;

use crate::args::ServerArgs;
use crate::input;

/// Set once from `--insecure-http`: credentials may go to plain-HTTP servers elsewhere.
pub(crate) static INSECURE_HTTP: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Refuse to send a credential (`what`) to `base` over plain HTTP unless the server is on
/// this machine or the user said `--insecure-http`.
pub(crate) fn check_secret_transport(base: &str, what: &str) -> Result<()> {
    let Ok(url) = reqwest::Url::parse(base) else {
        bail!("{base:?} is not a URL");
    };
    if url.scheme() != "http" || INSECURE_HTTP.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    let host = url.host_str().unwrap_or("");
    let loopback = match host.trim_start_matches('[').trim_end_matches(']').parse() {
        Ok(ip) => std::net::IpAddr::is_loopback(&ip),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    };
    if !loopback {
        bail!(
            "refusing to send {what} over plain HTTP to {}: use an https:// URL (a TLS proxy in \
             front of the server), or --insecure-http for a trial",
            url.host_str().unwrap_or("?")
        );
    }
    Ok(())
}

/// A connection to one server, with or without a token.
pub(crate) struct Client {
    base: String,
    token: Option<Zeroizing<String>>,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

/// The API token from `--token-file` or `$YINXIN_TOKEN`.
pub(crate) fn token(file: Option<&PathBuf>) -> Result<Zeroizing<String>> {
    if let Some(f) = file {
        let bytes = input::read_small(f, "token file")?;
        let text = String::from_utf8(bytes).context("the token file is not UTF-8")?;
        return Ok(Zeroizing::new(text.trim().to_string()));
    }
    match std::env::var("YINXIN_TOKEN") {
        Ok(t) if !t.trim().is_empty() => Ok(Zeroizing::new(t.trim().to_string())),
        _ => bail!("no API token: give --token-file FILE or set YINXIN_TOKEN"),
    }
}

impl Client {
    /// A client without credentials (status, CA certificates, CRLs, unseal).
    /// The server's base URL.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn anonymous(server: &str) -> Result<Client> {
        let base = server.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("--server must be an http:// or https:// URL, not {server:?}");
        }
        Ok(Client {
            base,
            token: None,
            http: reqwest::Client::builder()
                .user_agent(concat!("yinxin/", env!("CARGO_PKG_VERSION")))
                .build()
                .context("starting the HTTP client")?,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?,
        })
    }

    /// A client that authenticates with the token of `args`.
    pub(crate) fn authenticated(args: &ServerArgs) -> Result<Client> {
        let mut c = Client::anonymous(&args.server)?;
        check_secret_transport(&c.base, "the API token")?;
        c.token = Some(token(args.token_file.as_ref())?);
        Ok(c)
    }

    /// A client with the token if one is available, else anonymous.
    pub(crate) fn maybe_authenticated(server: &str, file: Option<&PathBuf>) -> Result<Client> {
        let mut c = Client::anonymous(server)?;
        c.token = token(file).ok();
        if c.token.is_some() {
            check_secret_transport(&c.base, "the API token")?;
        }
        Ok(c)
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            r = r.bearer_auth(t.as_str());
        }
        r
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        let response = r
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach the server at {}: {e}", self.base))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.bytes().await.unwrap_or_default();
        match serde_json::from_slice::<Problem>(&body) {
            Ok(p) => bail!(
                "the server refused ({} {}): {}",
                p.status,
                p.title,
                p.detail
            ),
            Err(_) => bail!(
                "the server answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ),
        }
    }

    /// GET a JSON resource.
    pub(crate) fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.runtime.block_on(async {
            let r = self.send(self.request(reqwest::Method::GET, path)).await?;
            r.json::<T>()
                .await
                .context("the server's answer is not the expected JSON")
        })
    }

    /// GET raw bytes.
    pub(crate) fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        self.runtime.block_on(async {
            let r = self.send(self.request(reqwest::Method::GET, path)).await?;
            Ok(r.bytes()
                .await
                .context("reading the server's answer")?
                .to_vec())
        })
    }

    /// POST without a body, expect no content.
    pub(crate) fn post_empty(&self, path: &str) -> Result<()> {
        self.runtime.block_on(async {
            self.send(self.request(reqwest::Method::POST, path)).await?;
            Ok(())
        })
    }

    /// POST a binary body of `content_type` (e.g. an RFC 3161 request) and read the binary
    /// answer; problem JSON and other non-2xx answers are errors.
    pub(crate) fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>> {
        self.runtime.block_on(async {
            let r = self
                .send(
                    self.request(reqwest::Method::POST, path)
                        .header(reqwest::header::CONTENT_TYPE, content_type)
                        .body(body),
                )
                .await?;
            Ok(r.bytes()
                .await
                .context("reading the server's answer")?
                .to_vec())
        })
    }

    /// PUT JSON, read JSON.
    pub(crate) fn put_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.runtime.block_on(async {
            let r = self
                .send(self.request(reqwest::Method::PUT, path).json(body))
                .await?;
            r.json::<T>()
                .await
                .context("the server's answer is not the expected JSON")
        })
    }

    /// POST JSON, read JSON.
    pub(crate) fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.runtime.block_on(async {
            let r = self
                .send(self.request(reqwest::Method::POST, path).json(body))
                .await?;
            r.json::<T>()
                .await
                .context("the server's answer is not the expected JSON")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_carries_credentials_only_to_this_machine_unless_told() {
        for ok in [
            "https://ca.example.cn",
            "http://127.0.0.1:8700",
            "http://[::1]:1",
            "http://localhost",
        ] {
            assert!(check_secret_transport(ok, "x").is_ok(), "{ok}");
        }
        assert!(check_secret_transport("http://192.0.2.1:8700", "x").is_err());
        INSECURE_HTTP.store(true, std::sync::atomic::Ordering::Relaxed);
        let lifted = check_secret_transport("http://192.0.2.1:8700", "x");
        INSECURE_HTTP.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(lifted.is_ok());
    }
}
