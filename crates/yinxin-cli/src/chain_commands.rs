//! `yinxin verify-chain`: read the certificates, CRLs and options, call
//! `yinxin_pki::path::validate`, print the verdict.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::json;
use yinxin_crypto::DistinguishingId;
use yinxin_pki::certificate::{self, Certificate};
use yinxin_pki::path::{self, CrlSet, PeerName, Purpose, ValidationOptions};

use crate::Outcome;
use crate::args::VerifyChainArgs;
use crate::input;

/// Certificate bundles may hold many certificates, but not more than this.
const MAX_BUNDLE: u64 = 16 * 1024 * 1024;

/// An option's value, `None` when absent or empty.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn read_bundle(path: &Path) -> Result<Vec<u8>> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if len > MAX_BUNDLE {
        bail!(
            "{} is {len} bytes, too large for a certificate bundle",
            path.display()
        );
    }
    input::read(path)
}

/// Every certificate in a PEM file (or the one certificate of a DER file). An empty file is
/// an empty list.
fn certificates(path: &Path) -> Result<Vec<Certificate>> {
    let data = read_bundle(path)?;
    certificate::all_from_pem_or_der(&data)
        .with_context(|| format!("cannot read certificates from {}", path.display()))
}

/// Seconds since the epoch of an RFC 3339 date-time (`2024-01-01T00:00:00Z`, fractions and
/// offsets allowed; the fraction is dropped, as the validator compares whole seconds).
fn parse_time(s: &str) -> Result<SystemTime> {
    let bad = || anyhow!("invalid --time \"{s}\": expected RFC 3339, e.g. 2024-01-01T00:00:00Z");
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64> {
        let part = s.get(r).ok_or_else(bad)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse::<i64>().map_err(|_| bad())
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return Err(bad());
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let v = num(s.len() - 5..s.len() - 3)? * 3600 + num(s.len() - 2..s.len())? * 60;
            if rest.starts_with('-') { -v } else { v }
        }
        _ => return Err(bad()),
    };
    // Days from the civil date (H. Hinnant's algorithm).
    let (y2, m2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    let secs = u64::try_from(secs).map_err(|_| anyhow!("--time \"{s}\" is before 1970"))?;
    Ok(UNIX_EPOCH + Duration::from_secs(secs))
}

pub(crate) fn verify_chain(args: &VerifyChainArgs, json_out: bool) -> Result<Outcome> {
    let roots = certificates(&args.roots)?;
    if roots.is_empty() {
        bail!("{} holds no certificate", args.roots.display());
    }
    let intermediates = match &args.intermediates {
        Some(p) => certificates(p)?,
        None => Vec::new(),
    };
    let leaf = certificates(&args.leaf)?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("{} holds no certificate", args.leaf.display()))?;
    let crls = match &args.crls {
        Some(p) => CrlSet::from_pem_or_der(&read_bundle(p)?)
            .with_context(|| format!("cannot read CRLs from {}", p.display()))?,
        None => CrlSet::default(),
    };
    let sm2_id = match given(&args.sm2_id) {
        Some(id) => DistinguishingId::new(id.as_bytes())?,
        None => DistinguishingId::default(),
    };
    let crls = crls.with_sm2_id(sm2_id.clone());
    let time = match given(&args.time) {
        Some(t) => parse_time(t)?,
        None => SystemTime::now(),
    };
    let mut options = ValidationOptions::new(time).with_sm2_id(sm2_id);
    if let Some(h) = given(&args.host) {
        options = options.with_host(PeerName::parse(h));
    }
    if let Some(p) = given(&args.purpose) {
        let purposes = p
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| Purpose::parse(x).ok_or_else(|| anyhow!("unknown purpose \"{x}\"")))
            .collect::<Result<Vec<_>>>()?;
        options = options.with_purposes(purposes);
    }
    if let Some(d) = given(&args.max_depth) {
        let d = d
            .parse::<usize>()
            .map_err(|_| anyhow!("invalid --max-depth \"{d}\""))?;
        options = options.with_max_depth(d);
    }
    if !crls.is_empty() {
        options = options.with_revocation(&crls);
    }
    let verdict = path::validate(&roots, &intermediates, &leaf, &options);
    let (outcome, reason, chain) = match &verdict {
        Ok(chain) => (Outcome::Valid, None, chain.subjects()),
        Err(e) => (Outcome::Invalid, Some(e.to_string()), Vec::new()),
    };
    if json_out {
        outln!(
            "{}",
            json!({"valid": verdict.is_ok(), "reason": reason, "chain": chain})
        );
    } else {
        match reason {
            None => outln!("OK: {}", chain.join(" <- ")),
            Some(r) => outln!("INVALID: {}", r.replace('\n', " ")),
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_times_parse_to_whole_seconds() {
        let t = |s| {
            parse_time(s)
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        assert_eq!(t("2024-01-01T00:00:00Z"), 1_704_067_200);
        assert_eq!(t("2024-01-01T00:00:00+00:00"), 1_704_067_200);
        assert_eq!(t("2024-03-01T00:00:00.999000+00:00"), 1_709_251_200);
        assert_eq!(t("2024-01-01T08:00:00+08:00"), 1_704_067_200);
        for bad in [
            "",
            "2024-01-01",
            "2024-13-01T00:00:00Z",
            "2024-01-01T00:00:00",
            "x",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
