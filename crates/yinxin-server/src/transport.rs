//! How a request reached the server: the client's address and whether it came over HTTPS,
//! and the rule that credentials never travel over plain HTTP beyond loopback (SPEC
//! "Interfaces"). The server itself does not speak TLS yet; a TLS-terminating proxy named by
//! `--trusted-proxy` passes the client's address and scheme in `Forwarded` (RFC 7239) or
//! `X-Forwarded-For` / `X-Forwarded-Proto`, which are believed from those peers only.
//!
//! Over plain HTTP from a non-loopback client, a request that carries a bearer token, or an
//! unseal share, is refused with 403 `insecure-transport` before any handler runs (the
//! credential is then already exposed, but it is not *used*, and the refusal tells the
//! operator to switch). `--insecure-http` lifts the refusal for trials, against the rule.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// An IP network, `ADDRESS/BITS` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    bits: u8,
}

impl std::str::FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, bits) = match s.trim().split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s.trim(), None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or ADDRESS/BITS network"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
            None => max,
        };
        Ok(Cidr { network, bits })
    }
}

impl Cidr {
    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        let prefix = |a: &[u8], b: &[u8]| {
            let full = usize::from(self.bits / 8);
            let rest = self.bits % 8;
            a[..full] == b[..full]
                && (rest == 0 || (a[full] ^ b[full]) & (0xffu8 << (8 - rest)) == 0)
        };
        match (canonical(self.network), ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => prefix(&n.octets(), &i.octets()),
            (IpAddr::V6(n), IpAddr::V6(i)) => prefix(&n.octets(), &i.octets()),
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The server's transport rules.
#[derive(Debug, Clone, Default)]
pub struct TransportPolicy {
    /// Proxies whose `Forwarded` / `X-Forwarded-*` headers are believed.
    pub trusted_proxies: Vec<Cidr>,
    /// Accept credentials over plain HTTP from anywhere (trials only; against the spec).
    pub insecure_http: bool,
}

/// Where a request came from, as the transport policy established it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientAddress {
    /// The client's address (`None` for requests made inside the process, e.g. tests).
    pub ip: Option<IpAddr>,
    /// Whether the request reached us (or the trusted proxy) over HTTPS.
    pub https: bool,
}

impl ClientAddress {
    /// Whether secrets may travel this way: HTTPS, loopback, or from inside the process.
    pub fn may_carry_secrets(&self) -> bool {
        self.https || self.ip.is_none_or(|ip| canonical(ip).is_loopback())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddress>()
            .copied()
            .unwrap_or_default())
    }
}

/// The value of `name=` in one `Forwarded` element, unquoted; IPv6 in brackets and ports
/// are removed from `for`.
fn forwarded_param(element: &str, name: &str) -> Option<String> {
    element.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn node_ip(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.parse()
        .ok()
        .or_else(|| node.rsplit_once(':').and_then(|(h, _)| h.parse().ok()))
}

impl TransportPolicy {
    /// The client of a request from `peer` with `headers`.
    pub fn client(&self, peer: Option<IpAddr>, headers: &axum::http::HeaderMap) -> ClientAddress {
        let direct = ClientAddress {
            ip: peer,
            https: false,
        };
        let Some(peer) = peer else { return direct };
        if !self.trusted_proxies.iter().any(|c| c.contains(peer)) {
            return direct;
        }
        // The element the trusted proxy appended is the last one.
        let text = |name: &str| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(",")
        };
        let forwarded = text("forwarded");
        if let Some(last) = forwarded.rsplit(',').map(str::trim).find(|e| !e.is_empty()) {
            return ClientAddress {
                ip: forwarded_param(last, "for")
                    .and_then(|f| node_ip(&f))
                    .or(Some(peer)),
                https: forwarded_param(last, "proto")
                    .is_some_and(|p| p.eq_ignore_ascii_case("https")),
            };
        }
        let xff = text("x-forwarded-for");
        let proto = text("x-forwarded-proto");
        ClientAddress {
            ip: xff
                .rsplit(',')
                .map(str::trim)
                .find(|e| !e.is_empty())
                .and_then(node_ip)
                .or(Some(peer)),
            https: proto
                .rsplit(',')
                .next()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")),
        }
    }
}

/// The middleware: establish the [`ClientAddress`] and refuse credentials over plain HTTP
/// from other machines.
pub async fn enforce(
    State(policy): State<std::sync::Arc<TransportPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let client = policy.client(peer, request.headers());
    let carries_secret = request
        .headers()
        .contains_key(axum::http::header::AUTHORIZATION)
        || request.uri().path() == "/api/v1/vault/unseal";
    if carries_secret && !client.may_carry_secrets() && !policy.insecure_http {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "insecure-transport",
            "credentials (API tokens, unseal shares) are accepted only over HTTPS or from this \
             machine: reach the server through a TLS-terminating proxy (yinxin serve \
             --trusted-proxy) or over loopback; treat a token already sent this way as exposed",
        )
        .into_response();
    }
    request.extensions_mut().insert(client);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn networks_and_forwarded_headers() {
        let c: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(c.contains("10.1.200.3".parse().unwrap()));
        assert!(c.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(!c.contains("10.2.0.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!(
            "::1"
                .parse::<Cidr>()
                .unwrap()
                .contains("::1".parse().unwrap())
        );

        let policy = TransportPolicy {
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            insecure_http: false,
        };
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            "forwarded",
            "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\";proto=https"
                .parse()
                .unwrap(),
        );
        let proxy = Some("127.0.0.1".parse().unwrap());
        let client = policy.client(proxy, &h);
        assert_eq!(client.ip, Some("2001:db8::1".parse().unwrap()));
        assert!(client.https && client.may_carry_secrets());
        // From anyone else the headers are not believed.
        let stranger = Some("198.51.100.7".parse().unwrap());
        let client = policy.client(stranger, &h);
        assert_eq!(client.ip, stranger);
        assert!(!client.https && !client.may_carry_secrets());
        let mut h = axum::http::HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 192.0.2.1".parse().unwrap());
        h.insert("x-forwarded-proto", "http".parse().unwrap());
        let client = policy.client(proxy, &h);
        assert_eq!(client.ip, Some("192.0.2.1".parse().unwrap()));
        assert!(!client.may_carry_secrets());
    }
}
