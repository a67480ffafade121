//! The one RFC 5280 certification path validator ([RFC 5280 §6]).
//!
//! [`validate`] builds a path from a leaf certificate through a pool of untrusted
//! intermediates to one of a set of trust anchors (depth first, backtracking, with a bounded
//! amount of work so crafted pools cannot stall it) and checks, for every candidate path:
//! signatures, validity at the validation time, basic constraints and path length, key
//! usage, extended key usage against the requested purposes, name constraints, unknown
//! critical extensions, certificate profile rules (version, serial, AKI/SKI, SAN), the peer
//! name against the leaf's subjectAltName (no common-name fallback) and, when a
//! [`RevocationSource`] is given, revocation. It does no IO: revocation data comes from the
//! caller, e.g. a [`CrlSet`].
//!
//! Trust anchors are certificates and are held to the CA profile too (basic constraints,
//! validity, key usage), as the Web PKI validators do.
//!
//! [RFC 5280 §6]: https://www.rfc-editor.org/rfc/rfc5280#section-6

mod cert;
mod error;
mod names;
mod revocation;

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280 as ids;
use x509_cert::Certificate;
use yinxin_crypto::DistinguishingId;

pub use error::{CertRef, PathError, ProfileRule};
pub use revocation::{AtPastTime, CrlProblem, CrlSet, RevocationSource, RevocationStatus};

use cert::Parsed;

/// The most intermediates (self-issued ones included) a path may hold, whatever the options.
const HARD_MAX_INTERMEDIATES: usize = 12;
/// Default bound on the non-self-issued intermediates of a path.
const DEFAULT_MAX_DEPTH: usize = 8;
/// Signature verifications one validation may spend while building paths.
const SIGNATURE_BUDGET: usize = 100;
/// Candidate issuers one validation may examine while building paths.
const NODE_BUDGET: usize = 2_000;

/// The name the peer is expected to have: checked against the leaf's subjectAltName.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum PeerName {
    /// A DNS host name (matched against dNSName entries, wildcards allowed in the certificate).
    Dns(String),
    /// An IP address (matched against iPAddress entries).
    Ip(IpAddr),
    /// An e-mail address (matched against rfc822Name entries).
    Email(String),
}

impl PeerName {
    /// Read a peer name: an IP address if it parses as one, an e-mail address if it holds
    /// `@`, else a DNS name.
    pub fn parse(s: &str) -> Self {
        if let Ok(ip) = s.parse::<IpAddr>() {
            PeerName::Ip(ip)
        } else if s.contains('@') {
            PeerName::Email(s.to_string())
        } else {
            PeerName::Dns(s.to_string())
        }
    }
}

impl std::fmt::Display for PeerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerName::Dns(s) | PeerName::Email(s) => f.write_str(s),
            PeerName::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// What the leaf's key is to be used for: an extended key usage purpose (RFC 5280 §4.2.1.12).
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Purpose {
    /// TLS server (`id-kp-serverAuth`).
    ServerAuth,
    /// TLS client (`id-kp-clientAuth`).
    ClientAuth,
    /// Code signing (`id-kp-codeSigning`).
    CodeSigning,
    /// E-mail protection (`id-kp-emailProtection`).
    EmailProtection,
    /// Time stamping (`id-kp-timeStamping`).
    TimeStamping,
    /// OCSP response signing (`id-kp-OCSPSigning`).
    OcspSigning,
    /// Any purpose: no extended key usage requirement.
    Any,
}

impl Purpose {
    /// The purpose named `s`: limbo/RFC spellings (`serverAuth`, `OCSPSigning`,
    /// `anyExtendedKeyUsage`, …), case-insensitive, or `any`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "serverauth" => Purpose::ServerAuth,
            "clientauth" => Purpose::ClientAuth,
            "codesigning" => Purpose::CodeSigning,
            "emailprotection" => Purpose::EmailProtection,
            "timestamping" => Purpose::TimeStamping,
            "ocspsigning" => Purpose::OcspSigning,
            "any" | "anyextendedkeyusage" => Purpose::Any,
            _ => return None,
        })
    }

    /// The key purpose OID (`anyExtendedKeyUsage` for [`Purpose::Any`]).
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Purpose::ServerAuth => ids::ID_KP_SERVER_AUTH,
            Purpose::ClientAuth => ids::ID_KP_CLIENT_AUTH,
            Purpose::CodeSigning => ids::ID_KP_CODE_SIGNING,
            Purpose::EmailProtection => ids::ID_KP_EMAIL_PROTECTION,
            Purpose::TimeStamping => ids::ID_KP_TIME_STAMPING,
            Purpose::OcspSigning => ids::ID_KP_OCSP_SIGNING,
            Purpose::Any => ids::ANY_EXTENDED_KEY_USAGE,
        }
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Purpose::ServerAuth => "serverAuth",
            Purpose::ClientAuth => "clientAuth",
            Purpose::CodeSigning => "codeSigning",
            Purpose::EmailProtection => "emailProtection",
            Purpose::TimeStamping => "timeStamping",
            Purpose::OcspSigning => "OCSPSigning",
            Purpose::Any => "anyExtendedKeyUsage",
        })
    }
}

/// How a path is validated. `ValidationOptions::new(time)` or `Default` (now, no peer name,
/// any purpose, default depth, the default SM2 ID, no revocation) and the `with_*` builders.
#[derive(Clone)]
pub struct ValidationOptions<'a> {
    /// The validation time (compared at whole seconds, the fraction dropped).
    pub time: SystemTime,
    /// The expected peer name, if any.
    pub host: Option<PeerName>,
    /// Every purpose the leaf must be valid for (empty: any).
    pub purposes: Vec<Purpose>,
    /// At most this many non-self-issued intermediates (default 8).
    pub max_depth: Option<usize>,
    /// The SM2 signer ID CAs signed with (default `1234567812345678`).
    pub sm2_id: DistinguishingId,
    /// Where revocation status comes from; `None` skips revocation checking.
    pub revocation: Option<&'a dyn RevocationSource>,
    /// Reject a certificate whose revocation status is unknown (default: accept).
    pub require_revocation_status: bool,
}

impl std::fmt::Debug for ValidationOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidationOptions")
            .field("time", &self.time)
            .field("host", &self.host)
            .field("purposes", &self.purposes)
            .field("max_depth", &self.max_depth)
            .field("revocation", &self.revocation.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for ValidationOptions<'_> {
    fn default() -> Self {
        Self::new(SystemTime::now())
    }
}

impl<'a> ValidationOptions<'a> {
    /// Options validating at `time`, otherwise the defaults.
    pub fn new(time: SystemTime) -> Self {
        ValidationOptions {
            time,
            host: None,
            purposes: Vec::new(),
            max_depth: None,
            sm2_id: DistinguishingId::default(),
            revocation: None,
            require_revocation_status: false,
        }
    }

    /// Expect this peer name.
    pub fn with_host(mut self, host: PeerName) -> Self {
        self.host = Some(host);
        self
    }

    /// Require these purposes.
    pub fn with_purposes(mut self, purposes: impl IntoIterator<Item = Purpose>) -> Self {
        self.purposes = purposes.into_iter().collect();
        self
    }

    /// Allow at most `depth` non-self-issued intermediates.
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = Some(depth);
        self
    }

    /// Verify SM2 certificate signatures with this signer ID.
    pub fn with_sm2_id(mut self, id: DistinguishingId) -> Self {
        self.sm2_id = id;
        self
    }

    /// Check revocation with `source`.
    pub fn with_revocation(mut self, source: &'a dyn RevocationSource) -> Self {
        self.revocation = Some(source);
        self
    }
}

/// A path that passed validation: the leaf first, the trust anchor last.
#[derive(Clone, Debug)]
pub struct ValidatedChain {
    certificates: Vec<Certificate>,
}

impl ValidatedChain {
    /// The certificates, leaf first, trust anchor last.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The leaf.
    pub fn leaf(&self) -> &Certificate {
        // `validate` only builds chains of a leaf and an anchor at least.
        &self.certificates[0]
    }

    /// The trust anchor the path ends in.
    pub fn anchor(&self) -> &Certificate {
        &self.certificates[self.certificates.len() - 1]
    }

    /// The subjects, leaf first, in RFC 4514 form.
    pub fn subjects(&self) -> Vec<String> {
        self.certificates
            .iter()
            .map(|c| c.tbs_certificate().subject().to_string())
            .collect()
    }
}

/// Validate `leaf` up to one of `anchors`, using any of `intermediates`.
pub fn validate(
    anchors: &[Certificate],
    intermediates: &[Certificate],
    leaf: &Certificate,
    options: &ValidationOptions<'_>,
) -> Result<ValidatedChain, PathError> {
    let at = unix_seconds(options.time);
    let leaf = Parsed::new(leaf);
    leaf.check_leaf(at, options)?;
    let mut search = Search {
        at,
        options,
        max_depth: options.max_depth.unwrap_or(DEFAULT_MAX_DEPTH),
        anchors: anchors.iter().map(Parsed::new).collect(),
        pool: intermediates.iter().map(Parsed::new).collect(),
        leaf,
        signatures: HashMap::new(),
        signature_budget: SIGNATURE_BUDGET,
        node_budget: NODE_BUDGET,
        best: None,
    };
    let mut chain = vec![Node::Leaf];
    if search.extend(&mut chain)? {
        return Ok(ValidatedChain {
            certificates: chain.iter().map(|n| search.get(*n).cert.clone()).collect(),
        });
    }
    Err(search
        .best
        .map(|(_, e)| e)
        .unwrap_or_else(|| PathError::NoPath {
            issuer: search.leaf.cert.tbs_certificate().issuer().to_string(),
        }))
}

/// Whole seconds since the epoch (times before it count as 0).
fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A certificate of the search.
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
enum Node {
    Leaf,
    Pool(usize),
    Anchor(usize),
}

struct Search<'a, 'o> {
    at: u64,
    options: &'a ValidationOptions<'o>,
    max_depth: usize,
    anchors: Vec<Parsed<'a>>,
    pool: Vec<Parsed<'a>>,
    leaf: Parsed<'a>,
    /// (subject, issuer) → whether the issuer's key verifies the subject's signature.
    signatures: HashMap<(Node, Node), Result<(), PathError>>,
    signature_budget: usize,
    node_budget: usize,
    /// The most specific error seen, with the path length it was found at.
    best: Option<(usize, PathError)>,
}

impl<'a> Search<'a, '_> {
    fn get(&self, n: Node) -> &Parsed<'a> {
        match n {
            Node::Leaf => &self.leaf,
            Node::Pool(i) => &self.pool[i],
            Node::Anchor(i) => &self.anchors[i],
        }
    }

    fn record(&mut self, rank: usize, e: PathError) {
        if matches!(&self.best, Some((r, _)) if *r >= rank) {
            return;
        }
        self.best = Some((rank, e));
    }

    /// Extend `chain` (whose last element still needs an issuer) to a trust anchor. `Ok(true)`
    /// leaves the full path in `chain`; `Err` only when the work budget ran out.
    fn extend(&mut self, chain: &mut Vec<Node>) -> Result<bool, PathError> {
        let Some(&child) = chain.last() else {
            return Ok(false);
        };
        let candidates: Vec<Node> = (0..self.anchors.len())
            .map(Node::Anchor)
            .chain((0..self.pool.len()).map(Node::Pool))
            .filter(|&n| self.get(child).may_be_issued_by(self.get(n)))
            .collect();
        if candidates.is_empty() {
            let issuer = self.get(child).cert.tbs_certificate().issuer().to_string();
            self.record(0, PathError::NoPath { issuer });
            return Ok(false);
        }
        for cand in candidates {
            if chain
                .iter()
                .any(|&n| self.get(n).same_logical_cert(self.get(cand)))
            {
                continue;
            }
            self.node_budget = self
                .node_budget
                .checked_sub(1)
                .ok_or(PathError::WorkLimit)?;
            let position = chain.len();
            let intermediates_below = chain[1..]
                .iter()
                .filter(|&&n| !self.get(n).self_issued)
                .count();
            let is_anchor = matches!(cand, Node::Anchor(_));
            let too_deep = chain.len() > HARD_MAX_INTERMEDIATES
                || intermediates_below + usize::from(!self.get(cand).self_issued) > self.max_depth;
            if !is_anchor && too_deep {
                let e = PathError::TooDeep {
                    max: self.max_depth,
                };
                self.record(position, e);
                continue;
            }
            let checked = self
                .get(cand)
                .check_issuer(
                    position,
                    is_anchor,
                    intermediates_below,
                    self.at,
                    self.options,
                )
                .and_then(|()| self.check_signature(child, cand, position - 1));
            if let Err(e) = checked {
                if matches!(e, PathError::WorkLimit) {
                    return Err(e);
                }
                self.record(position, e);
                continue;
            }
            chain.push(cand);
            if is_anchor {
                match self.finish(chain) {
                    Ok(()) => return Ok(true),
                    Err(e) => self.record(position + 1, e),
                }
            } else if self.extend(chain)? {
                return Ok(true);
            }
            chain.pop();
        }
        Ok(false)
    }

    fn check_signature(
        &mut self,
        child: Node,
        issuer: Node,
        position: usize,
    ) -> Result<(), PathError> {
        if let Some(r) = self.signatures.get(&(child, issuer)) {
            return r.clone();
        }
        self.signature_budget = self
            .signature_budget
            .checked_sub(1)
            .ok_or(PathError::WorkLimit)?;
        let r = self
            .get(child)
            .verify_signed_by(self.get(issuer), position, &self.options.sm2_id);
        self.signatures.insert((child, issuer), r.clone());
        r
    }

    /// The checks that need the whole path: name constraints, CA EKU nesting, revocation.
    fn finish(&self, chain: &[Node]) -> Result<(), PathError> {
        let certs: Vec<&Parsed<'a>> = chain.iter().map(|&n| self.get(n)).collect();
        let mut nc_budget = names::NC_BUDGET;
        for (i, ca) in certs.iter().enumerate().skip(1) {
            if let Some(nc) = &ca.name_constraints {
                for (j, sub) in certs[..i].iter().enumerate() {
                    if j > 0 && sub.self_issued {
                        continue;
                    }
                    names::check_constraints(nc, sub, &mut nc_budget).map_err(|v| match v {
                        names::Violation::Budget => PathError::WorkLimit,
                        names::Violation::InvalidConstraint(constraint) => {
                            PathError::InvalidNameConstraint {
                                cert: ca.at(i),
                                constraint,
                            }
                        }
                        names::Violation::Name(name) => PathError::NameConstraint {
                            cert: sub.at(j),
                            name,
                            constrained_by: ca.at(i),
                        },
                    })?;
                }
            }
            ca.check_eku_nesting(i, &self.options.purposes)?;
        }
        if let Some(source) = self.options.revocation {
            for (j, pair) in certs.windows(2).enumerate() {
                let (cert, issuer) = (pair[0], pair[1]);
                match source.status(cert.cert, issuer.cert, self.options.time) {
                    RevocationStatus::Good => {}
                    RevocationStatus::Revoked { reason, at } => {
                        return Err(PathError::Revoked {
                            cert: cert.at(j),
                            reason,
                            at,
                        });
                    }
                    RevocationStatus::Unusable(problem) => {
                        return Err(PathError::RevocationUnusable {
                            cert: cert.at(j),
                            problem,
                        });
                    }
                    RevocationStatus::Unknown => {
                        if self.options.require_revocation_status {
                            return Err(PathError::RevocationUnknown { cert: cert.at(j) });
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
