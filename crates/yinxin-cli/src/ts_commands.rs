//! `yinxin ts query`, `ts verify` and `tsa clock`: RFC 3161 timestamps from any TSA (a yinxin
//! server by default) through `yinxin_cms::timestamp`, and the server's TSA clock.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use der::Decode as _;
use serde_json::json;
use yinxin_cms::timestamp::{
    Imprint, PkiStatus, TimestampInfo, TimestampRequest, TimestampResponse, TstInfo, VerifyOptions,
    verify_token,
};
use yinxin_crypto::HashAlgorithm;
use yinxin_pki::certificate::{self, Certificate};
use yinxin_server::api::{ClockRequest, ClockResponse};

use crate::Outcome;
use crate::args::{TsQueryArgs, TsVerifyArgs, TsaClockArgs};
use crate::client::Client;
use crate::input;

/// The media type of RFC 3161 requests (§3.4).
const QUERY_TYPE: &str = "application/timestamp-query";

/// RFC 3339 with milliseconds (UTC) of a time.
fn rfc3339_ms(t: SystemTime) -> String {
    let ms = t
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let whole = yinxin_server::routes::rfc3339(ms);
    format!(
        "{}.{:03}Z",
        whole.trim_end_matches('Z'),
        ms.rem_euclid(1000)
    )
}

fn hex_arg(text: &str, what: &str) -> Result<Vec<u8>> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    hex::decode(&cleaned).with_context(|| format!("{what} {text:?} is not hex"))
}

/// The TSTInfo of a token, read without checking anything (for display and to pair a bare
/// digest with its hash).
fn unverified_tst(token: &[u8]) -> Option<TstInfo> {
    let decoded = yinxin_cms::signed_data::decode(token).ok()?;
    let content = decoded.content().ok()??;
    TstInfo::from_der(&content).ok()
}

/// The unsigned big-endian bytes of a DER INTEGER's content, without leading zeros.
fn magnitude(bytes: &[u8]) -> &[u8] {
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    &bytes[skip..]
}

pub(crate) fn query(args: &TsQueryArgs, json_out: bool) -> Result<Outcome> {
    let key = args.key.as_deref().map(str::to_ascii_lowercase);
    let hash: HashAlgorithm = match (&args.alg, key.as_deref()) {
        (Some(a), _) => a.parse().map_err(|e| anyhow!("--alg {a:?}: {e}"))?,
        (None, Some("sm2")) => HashAlgorithm::Sm3,
        (None, _) => HashAlgorithm::Sha256,
    };
    let mut request = match (&args.input, &args.digest) {
        (Some(file), _) => TimestampRequest::for_data(hash, &input::read(file)?),
        (None, Some(digest)) => TimestampRequest::for_digest(hash, hex_arg(digest, "--digest")?)
            .context("--digest does not fit --alg")?,
        (None, None) => bail!("give the data (--in FILE) or its digest (--digest HEX)"),
    };
    if !args.no_nonce {
        request = request.with_random_nonce();
    }
    request = request.with_cert_req(!args.no_cert_req);
    if let Some(p) = &args.policy {
        let oid = p
            .trim()
            .parse()
            .map_err(|e| anyhow!("--policy {p:?} is not an OID: {e}"))?;
        request = request.with_policy(oid);
    }
    let der = request.to_der().context("encoding the request")?;
    if let Some(path) = &args.request_out {
        input::write(path, &der, false)?;
    }
    let (client, path) = match (&args.url, &args.server) {
        (Some(url), _) => (Client::anonymous(url)?, String::new()),
        (None, Some(server)) => (
            Client::anonymous(server)?,
            match &key {
                Some(k) => format!("/tsa/{k}"),
                None => "/tsa".to_string(),
            },
        ),
        (None, None) => bail!("give the server (--server URL) or a TSA's URL (--url URL)"),
    };
    let answer = client.post_bytes(&path, QUERY_TYPE, der)?;
    let response =
        TimestampResponse::decode(&answer).context("the TSA's answer is not a TimeStampResp")?;
    input::write(&args.out, &answer, false)?;
    let Some(token) = response
        .token
        .as_ref()
        .filter(|_| response.status.is_granted())
    else {
        let failure = response.failure.map(|f| f.name().to_string());
        if json_out {
            outln!(
                "{}",
                json!({"granted": false, "status": format!("{:?}", response.status),
                       "failure": failure, "text": response.text})
            );
        } else {
            outln!(
                "rejected: {}{}",
                failure.as_deref().unwrap_or("no failInfo"),
                response
                    .text
                    .as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default()
            );
        }
        return Ok(Outcome::Invalid);
    };
    let tst = unverified_tst(token).ok_or_else(|| anyhow!("the token holds no TSTInfo"))?;
    // A response to another request (a replay, a confused proxy) is not ours to keep.
    if tst.message_imprint.hashed_message.as_bytes() != request.imprint() {
        bail!("the TSA stamped another imprint than the one sent");
    }
    if let Some(nonce) = request.nonce() {
        let echoed = tst.nonce.as_ref().map(|n| magnitude(n.as_bytes()));
        if echoed != Some(magnitude(nonce)) {
            bail!("the TSA did not echo the request's nonce");
        }
    }
    let serial = hex::encode(magnitude(tst.serial_number.as_bytes()));
    let gen_time = rfc3339_ms(tst.gen_time.0);
    if json_out {
        outln!(
            "{}",
            json!({"granted": true, "status": format!("{:?}", response.status),
                   "serial": serial, "gen_time": gen_time,
                   "policy": tst.policy.to_string(), "hash": hash.name(),
                   "out": args.out.display().to_string()})
        );
    } else {
        outln!(
            "granted: serial {serial}, genTime {gen_time}, policy {} (response in {}; check \
             it with `yinxin ts verify`)",
            tst.policy,
            args.out.display()
        );
    }
    Ok(Outcome::Done)
}

fn certificates(path: &Path) -> Result<Vec<Certificate>> {
    let data = input::read(path)?;
    certificate::all_from_pem_or_der(&data)
        .with_context(|| format!("cannot read certificates from {}", path.display()))
}

fn info_json(info: &TimestampInfo) -> serde_json::Value {
    json!({
        "valid": true,
        "serial": hex::encode(&info.serial),
        "gen_time": rfc3339_ms(info.gen_time),
        "policy": info.policy.to_string(),
        "accuracy": info.accuracy.map(|a| json!({
            "seconds": a.seconds, "millis": a.millis, "micros": a.micros})),
        "ordering": info.ordering,
        "nonce": info.nonce.as_ref().map(hex::encode),
        "hash": info.hash.name(),
        "imprint": hex::encode(&info.imprint),
        "form": format!("{:?}", info.form),
        "tsa": info.tsa_subject,
        "chain": info.chain,
    })
}

fn invalid(reason: &str, json_out: bool) -> Outcome {
    if json_out {
        outln!("{}", json!({"valid": false, "reason": reason}));
    } else {
        outln!("Timestamp is INVALID: {reason}");
    }
    Outcome::Invalid
}

pub(crate) fn verify(args: &TsVerifyArgs, json_out: bool) -> Result<Outcome> {
    let roots = certificates(&args.roots)?;
    if roots.is_empty() {
        bail!("{} holds no certificate", args.roots.display());
    }
    let untrusted = match &args.untrusted {
        Some(p) => certificates(p)?,
        None => Vec::new(),
    };
    let request = match &args.query {
        Some(p) => Some(
            TimestampRequest::decode(&input::read(p)?)
                .map_err(|r| anyhow!("{} is not a timestamp request: {r}", p.display()))?,
        ),
        None => None,
    };
    let data = match &args.data {
        Some(p) => Some(input::read(p)?),
        None => None,
    };
    let digest = args
        .digest
        .as_deref()
        .map(|d| hex_arg(d, "--digest"))
        .transpose()?;
    let bytes = input::read(&args.input)?;
    let token = if args.token {
        bytes
    } else {
        let response = TimestampResponse::decode(&bytes)
            .with_context(|| format!("{} is not a TimeStampResp", args.input.display()))?;
        match response.token {
            Some(t) if response.status.is_granted() => t,
            _ => {
                let reason = format!(
                    "the TSA did not grant it: status {}{}{}",
                    match response.status {
                        PkiStatus::Rejection => "rejection".to_string(),
                        other => format!("{other:?}"),
                    },
                    response
                        .failure
                        .map(|f| format!(", {}", f.name()))
                        .unwrap_or_default(),
                    response.text.map(|t| format!(": {t}")).unwrap_or_default()
                );
                return Ok(invalid(&reason, json_out));
            }
        }
    };
    let options = VerifyOptions::new(&roots).with_intermediates(&untrusted);
    // A bare digest is paired with the token's own hash algorithm (the verification still
    // compares the digest with the token's imprint).
    let digest_hash = digest.as_ref().map(|d| {
        unverified_tst(&token)
            .and_then(|t| {
                HashAlgorithm::ALL
                    .into_iter()
                    .find(|h| h.oid() == t.message_imprint.hash_algorithm.oid)
            })
            .unwrap_or(match d.len() {
                48 => HashAlgorithm::Sha384,
                64 => HashAlgorithm::Sha512,
                _ => HashAlgorithm::Sha256,
            })
    });
    let imprint = match (&data, &digest, digest_hash, &request) {
        (Some(data), ..) => Imprint::Data(data),
        (None, Some(digest), Some(hash), _) => Imprint::Digest { hash, digest },
        (None, None, _, Some(req)) => Imprint::Digest {
            hash: req.hash(),
            digest: req.imprint(),
        },
        _ => bail!("give the data (--data), its digest (--digest) or the request (--query)"),
    };
    let info = match verify_token(&token, imprint, &options) {
        Ok(info) => info,
        Err(e) if e.is_verdict() => return Ok(invalid(&e.to_string(), json_out)),
        Err(e) => return Err(anyhow!(e).context("the token cannot be read")),
    };
    if let Some(req) = &request
        && let Err(e) = info.check_request(req)
    {
        return Ok(invalid(&e.to_string(), json_out));
    }
    if json_out {
        outln!("{}", info_json(&info));
    } else {
        outln!(
            "Timestamp is valid: serial {}, genTime {}, policy {}, {} imprint, by {}",
            hex::encode(&info.serial),
            rfc3339_ms(info.gen_time),
            info.policy,
            info.hash.name(),
            info.tsa_subject
        );
    }
    Ok(Outcome::Valid)
}

pub(crate) fn clock(args: &TsaClockArgs, json_out: bool) -> Result<Outcome> {
    let client = Client::authenticated(&args.server)?;
    let c: ClockResponse = client.put_json(
        "/api/v1/tsa/clock",
        &ClockRequest {
            healthy: args.healthy && !args.unhealthy,
            reason: args.reason.clone(),
        },
    )?;
    if json_out {
        outln!("{}", json!(c));
    } else {
        outln!(
            "TSA clock of this node: {}{} (marked by {} at {})",
            if c.healthy { "healthy" } else { "UNHEALTHY" },
            c.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default(),
            c.marked_by,
            c.since
        );
    }
    Ok(Outcome::Done)
}
