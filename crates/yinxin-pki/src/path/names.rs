//! Names: comparison of distinguished names (RFC 5280 §7.1), the peer name against the
//! subjectAltName (RFC 6125/9525: no common-name fallback), and name constraints
//! (RFC 5280 §4.2.1.10).

use std::net::IpAddr;

use der::{Tag, Tagged};
use x509_cert::ext::pkix::NameConstraints;
use x509_cert::ext::pkix::constraints::name::GeneralSubtree;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

use super::PeerName;
use super::cert::Parsed;

/// Name comparisons one path's name-constraint checks may spend (crafted certificates with
/// thousands of names and constraints are refused, not ground through).
pub(super) const NC_BUDGET: usize = 1 << 16;

/// A distinguished name in comparable form: per RDN, its sorted (type, value) pairs, with
/// string values case-folded and their white space collapsed (RFC 5280 §7.1, RFC 4518
/// simplified).
pub(super) type NormName = Vec<Vec<(String, Vec<u8>)>>;

/// The comparable form of `name`.
pub(super) fn normalize(name: &Name) -> NormName {
    name.iter_rdn()
        .map(|rdn| {
            let mut atvs: Vec<(String, Vec<u8>)> = rdn
                .iter()
                .map(|atv| {
                    let tag = atv.value.tag();
                    let bytes = atv.value.value();
                    let text =
                        matches!(tag, Tag::Utf8String | Tag::PrintableString | Tag::Ia5String)
                            .then(|| std::str::from_utf8(bytes).ok())
                            .flatten();
                    let norm = match text {
                        Some(s) => {
                            let mut v = vec![0u8];
                            let folded = s
                                .split_whitespace()
                                .collect::<Vec<_>>()
                                .join(" ")
                                .to_lowercase();
                            v.extend_from_slice(folded.as_bytes());
                            v
                        }
                        None => {
                            let mut v = vec![1u8];
                            v.extend_from_slice(format!("{tag:?}").as_bytes());
                            v.extend_from_slice(bytes);
                            v
                        }
                    };
                    (atv.oid.to_string(), norm)
                })
                .collect();
            atvs.sort();
            atvs
        })
        .collect()
}

/// Whether `s` is a valid DNS name (letters, digits, hyphens; labels of 1–63 octets), with
/// `*` allowed as the whole leftmost label when `wildcard`.
fn valid_dns(s: &str, wildcard: bool) -> bool {
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    s.split('.').enumerate().all(|(i, label)| {
        (wildcard && i == 0 && label == "*")
            || (!label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    })
}

/// Whether the certificate's `pattern` (possibly `*.example.com`) names `host`.
fn dns_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    if !valid_dns(&pattern, true) {
        return false;
    }
    match pattern.strip_prefix("*.") {
        // A wildcard covers exactly one whole label, and never a bare TLD.
        Some(rest) => {
            rest.contains('.')
                && host
                    .split_once('.')
                    .is_some_and(|(first, tail)| !first.is_empty() && tail == rest)
        }
        None => pattern == host,
    }
}

/// Whether some subjectAltName entry names `peer`.
pub(super) fn peer_matches(san: &[GeneralName], peer: &PeerName) -> bool {
    match peer {
        PeerName::Dns(host) => {
            let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
            valid_dns(&host, false)
                && san.iter().any(|n| match n {
                    GeneralName::DnsName(p) => dns_matches(p.as_str(), &host),
                    _ => false,
                })
        }
        PeerName::Ip(ip) => {
            let octets = match ip {
                IpAddr::V4(v) => v.octets().to_vec(),
                IpAddr::V6(v) => v.octets().to_vec(),
            };
            san.iter().any(|n| match n {
                GeneralName::IpAddress(a) => a.as_bytes() == octets.as_slice(),
                _ => false,
            })
        }
        PeerName::Email(e) => {
            let Some(want) = split_email(e) else {
                return false;
            };
            san.iter().any(|n| match n {
                GeneralName::Rfc822Name(m) => split_email(m.as_str())
                    .is_some_and(|got| got.0 == want.0 && got.1.eq_ignore_ascii_case(want.1)),
                _ => false,
            })
        }
    }
}

fn split_email(s: &str) -> Option<(&str, &str)> {
    let (local, domain) = s.rsplit_once('@')?;
    (!local.is_empty() && !local.contains('@') && valid_dns(&domain.to_ascii_lowercase(), false))
        .then_some((local, domain))
}

/// Why a name fails a CA's constraints.
pub(super) enum Violation {
    /// The name (described) is outside the permitted or inside the excluded subtrees.
    Name(String),
    /// A constraint is malformed.
    InvalidConstraint(String),
    /// Too many comparisons.
    Budget,
}

/// One name of a certificate, as constraints see it.
enum Subject<'n> {
    Dns(&'n str),
    Ip(&'n [u8]),
    Email(&'n str),
    Dir(NormName, String),
    Other(&'n GeneralName),
}

impl Subject<'_> {
    fn describe(&self) -> String {
        match self {
            Subject::Dns(s) => format!("DNS:{s}"),
            Subject::Email(s) => format!("email:{s}"),
            Subject::Ip(b) => match b.len() {
                4 => format!("IP:{}", std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])),
                16 => {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(b);
                    format!("IP:{}", std::net::Ipv6Addr::from(a))
                }
                _ => format!("IP:{}", hex_of(b)),
            },
            Subject::Dir(_, s) => format!("DirName:{s}"),
            Subject::Other(_) => "otherName".into(),
        }
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether `name` (of the same type as `base`) is within the subtree `base`.
/// `Ok(None)` when the types differ.
fn within(
    name: &Subject<'_>,
    base: &GeneralName,
    excluded: bool,
) -> Result<Option<bool>, Violation> {
    Ok(Some(match (name, base) {
        (Subject::Dns(n), GeneralName::DnsName(c)) => {
            let c = c.as_str().to_ascii_lowercase();
            if !c.is_empty() && !valid_dns(&c, false) {
                return Err(Violation::InvalidConstraint(format!("DNS:{c}")));
            }
            let n = n.to_ascii_lowercase();
            if !valid_dns(&n, true) {
                // A name that is not a DNS name cannot be shown to be inside or outside.
                return Ok(Some(excluded));
            }
            match n.strip_prefix("*.") {
                Some(d) if excluded => {
                    // Could the wildcard match a name in the excluded subtree?
                    dns_in(d, &c)
                        || c.strip_suffix(d)
                            .and_then(|x| x.strip_suffix('.'))
                            .is_some_and(|label| !label.is_empty() && !label.contains('.'))
                }
                // Is every name the wildcard matches inside the permitted subtree?
                Some(d) => dns_in(d, &c),
                None => dns_in(&n, &c),
            }
        }
        (Subject::Ip(n), GeneralName::IpAddress(c)) => {
            let c = c.as_bytes();
            let (addr, mask) = c.split_at(c.len() / 2);
            if !matches!(c.len(), 8 | 32) || !contiguous(mask) {
                return Err(Violation::InvalidConstraint(format!("IP:{}", hex_of(c))));
            }
            if n.len() != addr.len() {
                return Ok(None);
            }
            n.iter()
                .zip(addr)
                .zip(mask)
                .all(|((n, a), m)| n & m == a & m)
        }
        (Subject::Email(n), GeneralName::Rfc822Name(c)) => {
            let c = c.as_str();
            let Some((local, domain)) = split_email(n) else {
                return Ok(Some(excluded));
            };
            if let Some((cl, cd)) = c.rsplit_once('@') {
                if cl.is_empty() || cl.contains('@') || !valid_dns(&cd.to_ascii_lowercase(), false)
                {
                    return Err(Violation::InvalidConstraint(format!("email:{c}")));
                }
                local == cl && domain.eq_ignore_ascii_case(cd)
            } else if let Some(sub) = c.strip_prefix('.') {
                let d = domain.to_ascii_lowercase();
                d.strip_suffix(&sub.to_ascii_lowercase())
                    .is_some_and(|x| x.ends_with('.') && x.len() > 1)
            } else {
                if !valid_dns(&c.to_ascii_lowercase(), false) {
                    return Err(Violation::InvalidConstraint(format!("email:{c}")));
                }
                domain.eq_ignore_ascii_case(c)
            }
        }
        (Subject::Dir(n, _), GeneralName::DirectoryName(c)) => {
            let c = normalize(c);
            c.len() <= n.len() && n[..c.len()] == c[..]
        }
        (Subject::Other(GeneralName::OtherName(n)), GeneralName::OtherName(c)) => {
            if n.type_id != c.type_id {
                return Ok(None);
            }
            // otherName subtrees have no defined semantics beyond equality.
            excluded || n.value == c.value
        }
        _ => return Ok(None),
    }))
}

/// Whether `n` equals `c` or lies below it (an empty `c` holds every name).
fn dns_in(n: &str, c: &str) -> bool {
    c.is_empty()
        || n == c
        || n.strip_suffix(c)
            .is_some_and(|x| x.ends_with('.') && x.len() > 1)
}

fn contiguous(mask: &[u8]) -> bool {
    let bits: Vec<bool> = mask
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| b >> i & 1 == 1))
        .collect();
    bits.windows(2).all(|w| w[0] || !w[1])
}

/// Check every name of `cert` against `nc`.
pub(super) fn check_constraints(
    nc: &NameConstraints,
    cert: &Parsed<'_>,
    budget: &mut usize,
) -> Result<(), Violation> {
    let mut subjects = Vec::new();
    let subject = cert.cert.tbs_certificate().subject();
    if !subject.is_empty() {
        subjects.push(Subject::Dir(cert.subject.clone(), subject.to_string()));
    }
    for n in cert.san.as_deref().unwrap_or(&[]) {
        subjects.push(match n {
            GeneralName::DnsName(s) => Subject::Dns(s.as_str()),
            GeneralName::IpAddress(a) => Subject::Ip(a.as_bytes()),
            GeneralName::Rfc822Name(s) => Subject::Email(s.as_str()),
            GeneralName::DirectoryName(d) => Subject::Dir(normalize(d), d.to_string()),
            other => Subject::Other(other),
        });
    }
    let permitted: &[GeneralSubtree] = nc.permitted_subtrees.as_deref().unwrap_or(&[]);
    let excluded: &[GeneralSubtree] = nc.excluded_subtrees.as_deref().unwrap_or(&[]);
    for s in &subjects {
        let mut any_of_type = false;
        let mut permitted_hit = false;
        for p in permitted {
            *budget = budget.checked_sub(1).ok_or(Violation::Budget)?;
            if let Some(inside) = within(s, &p.base, false)? {
                any_of_type = true;
                permitted_hit |= inside;
            }
        }
        if any_of_type && !permitted_hit {
            return Err(Violation::Name(s.describe()));
        }
        for e in excluded {
            *budget = budget.checked_sub(1).ok_or(Violation::Budget)?;
            if within(s, &e.base, true)? == Some(true) {
                return Err(Violation::Name(s.describe()));
            }
        }
    }
    Ok(())
}

/// The first common name of `cert` that is a variant of a host name or address — an IP
/// address in any notation, an internationalised name (A-label or U-label), or a dNSName
/// entry in other letter case — but not a character-for-character copy of a dNSName entry or
/// the canonical text of an iPAddress entry (CA/B Forum BR 7.1.4.3). Such a name shows one
/// name to people and another to software.
pub(super) fn inconsistent_common_name(
    cert: &x509_cert::Certificate,
    san: &[GeneralName],
) -> Option<String> {
    let cn_oid = const_oid::db::rfc4519::CN;
    for atv in cert.tbs_certificate().subject().iter() {
        if atv.oid != cn_oid {
            continue;
        }
        let Ok(cn) = std::str::from_utf8(atv.value.value()) else {
            continue;
        };
        let lower = cn.to_ascii_lowercase();
        let ip_like = !cn.is_empty()
            && (cn.contains(':')
                || lower.starts_with("0x")
                || cn.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
        let idn_like =
            (!cn.is_ascii() && cn.contains('.')) || lower.split('.').any(|l| l.starts_with("xn--"));
        let case_variant = san.iter().any(|n| {
            matches!(n, GeneralName::DnsName(d) if d.as_str() != cn && d.as_str().eq_ignore_ascii_case(cn))
        });
        if !(ip_like || idn_like || case_variant) {
            continue;
        }
        let copied = san.iter().any(|n| match n {
            GeneralName::DnsName(d) => d.as_str() == cn,
            GeneralName::IpAddress(a) => match a.as_bytes().len() {
                4 | 16 => Subject::Ip(a.as_bytes()).describe().strip_prefix("IP:") == Some(cn),
                _ => false,
            },
            _ => false,
        });
        if !copied {
            return Some(cn.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_exactly_one_leftmost_label() {
        assert!(dns_matches("*.example.com", "www.example.com"));
        assert!(dns_matches("WWW.Example.COM", "www.example.com"));
        for (pattern, host) in [
            ("*.example.com", "example.com"),
            ("*.example.com", "a.b.example.com"),
            ("*.com", "example.com"),
            ("*", "localhost"),
            ("w*.example.com", "www.example.com"),
            ("www.*.com", "www.example.com"),
            ("a_b.example.com", "a_b.example.com"),
        ] {
            assert!(!dns_matches(pattern, host), "{pattern} {host}");
        }
    }

    #[test]
    fn dns_subtrees_and_ip_masks() {
        assert!(dns_in("a.example.com", "example.com"));
        assert!(dns_in("example.com", "example.com"));
        assert!(!dns_in("badexample.com", "example.com"));
        assert!(dns_in("anything", ""));
        assert!(contiguous(&[255, 255, 0, 0]));
        assert!(!contiguous(&[255, 0, 255, 0]));
    }
}
