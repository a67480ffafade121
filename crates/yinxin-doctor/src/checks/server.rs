//! The platform server: it answers, its CRLs are current and signed, its OCSP responder and
//! its TSA answer a real request correctly, and this machine's clock agrees with it.

use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;
use x509_cert::crl::CertificateList;
use yinxin_cms::signed_data::VerifyOptions;
use yinxin_cms::timestamp::{self, TimestampRequest};
use yinxin_crypto::{HashAlgorithm, random};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::ocsp::{self, CertIdHash, CertStatusAnswer};

use crate::platform::rfc3339;
use crate::report::{CheckId, Finding, Status};
use crate::text;

use super::Run;

/// How far ahead of this PC an OCSP responder's thisUpdate may be.
const OCSP_LEEWAY: Duration = Duration::from_secs(30);

/// A clock this close to the server's is fine.
const CLOCK_FINE: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct StatusBody {
    version: String,
    sealed: bool,
}

pub(super) async fn check(run: &mut Run<'_>) {
    let Some(server) = run.server.clone() else {
        run.push(
            Finding::new(CheckId::Server, "server.not_configured", Status::Warning, "-",
                text!(en: "No platform server is configured, so revocation, timestamps and the clock were not checked.";
                      zh: "未配置平台服务器，因此未检查证书吊销、时间戳和系统时间。"))
            .fix(text!(en: "Run `yinxin doctor --server URL`, or set server = \"URL\" in {}.", run.home.config_file().display();
                       zh: "运行 `yinxin doctor --server 地址`，或在 {} 中设置 server = \"地址\"。", run.home.config_file().display())),
        );
        return;
    };
    let base = server.trim_end_matches('/').to_string();
    let url = format!("{base}/api/v1/status");
    let status = match run.http.get(&url).send().await {
        Ok(r) if r.status().is_success() => r.json::<StatusBody>().await.map_err(|e| e.to_string()),
        Ok(r) => Err(format!("HTTP {}", r.status())),
        Err(e) => Err(plain_http_error(&e)),
    };
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            run.push(
                Finding::new(CheckId::Server, "server.unreachable", Status::Problem, base.clone(),
                    text!(en: "The platform server does not answer: {e}. Logging in, revocation checks and timestamps will fail.";
                          zh: "平台服务器无响应：{e}。登录、吊销检查和时间戳都将失败。"))
                .fix(text!(en: "Check the network connection and proxy settings, and that the address {base} is right (ask your administrator).";
                           zh: "检查网络连接和代理设置，并确认地址 {base} 正确（可咨询管理员）。"))
                .fact("error", e),
            );
            return;
        }
    };
    run.server_up = true;
    let f = if status.sealed {
        Finding::new(CheckId::Server, "server.sealed", Status::Problem, base.clone(),
            text!(en: "The server answers but its key vault is sealed: it cannot sign OCSP answers or timestamps until its administrators unseal it.";
                  zh: "服务器有响应，但其密钥库处于封存状态：在管理员解封之前无法签发 OCSP 应答和时间戳。"))
        .fix(text!(en: "Tell the platform's administrators (`yinxin vault unseal`); nothing to do on this PC.";
                   zh: "请通知平台管理员解封（`yinxin vault unseal`），本机无需操作。"))
    } else {
        Finding::new(
            CheckId::Server,
            "server.ok",
            Status::Ok,
            base.clone(),
            text!(en: "The server answers (version {}).", status.version;
                  zh: "服务器响应正常（版本 {}）。", status.version),
        )
    };
    run.push(
        f.fact("version", status.version.clone())
            .fact("sealed", status.sealed),
    );
    match super::trust::fetch_cas(&run.http, &base).await {
        Ok(cas) => {
            for (name, _, cert) in &cas {
                check_crl(run, &base, name, cert).await;
            }
            run.server_cas = cas.into_iter().map(|(_, _, c)| c).collect();
        }
        Err(e) => run.push(
            Finding::new(
                CheckId::Crl,
                "crl.no_ca_list",
                Status::Problem,
                format!("{base}/api/v1/cas"),
                text!(en: "The server's list of CA certificates cannot be read: {e}.";
                      zh: "无法读取服务器的 CA 证书列表：{e}。"),
            )
            .fact("error", e),
        ),
    }
    if status.sealed {
        check_clock_by_date(run, &base).await;
    } else {
        check_ocsp(run, &base).await;
        check_tsa(run, &base).await;
    }
}

fn plain_http_error(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}

async fn get_bytes(run: &Run<'_>, url: &str) -> Result<Vec<u8>, String> {
    let r = run
        .http
        .get(url)
        .send()
        .await
        .map_err(|e| plain_http_error(&e))?;
    if !r.status().is_success() {
        return Err(format!("HTTP {}", r.status()));
    }
    r.bytes()
        .await
        .map(|b| b.to_vec())
        .map_err(|e| plain_http_error(&e))
}

async fn check_crl(run: &mut Run<'_>, base: &str, name: &str, ca: &Certificate) {
    let url = format!("{base}/crl/{name}.crl");
    let crl = match get_bytes(run, &url).await {
        Ok(b) => b,
        Err(e) => {
            run.push(
                Finding::new(CheckId::Crl, "crl.unreachable", Status::Problem, url.clone(),
                    text!(en: "The CRL of CA \"{name}\" cannot be downloaded: {e}. Applications that check revocation by CRL will refuse certificates.";
                          zh: "无法下载 CA“{name}”的证书吊销列表：{e}。通过 CRL 检查吊销的应用将拒绝证书。"))
                .fix(text!(en: "Check that {url} is reachable from this PC (firewall, proxy).";
                           zh: "检查本机能否访问 {url}（防火墙、代理）。"))
                .fact("error", e),
            );
            return;
        }
    };
    let parsed = der::Decode::from_der(&crl).map_err(|e: der::Error| e.to_string());
    let crl: CertificateList = match parsed {
        Ok(c) => c,
        Err(e) => {
            run.push(Finding::new(
                CheckId::Crl,
                "crl.invalid",
                Status::Problem,
                url.clone(),
                text!(en: "What {url} returned is not a CRL: {e}.";
                      zh: "{url} 返回的内容不是证书吊销列表：{e}。"),
            ));
            return;
        }
    };
    let this_update = crl.tbs_cert_list.this_update.to_system_time();
    let next_update = crl.tbs_cert_list.next_update.map(|t| t.to_system_time());
    let entries = crl
        .tbs_cert_list
        .revoked_certificates
        .as_ref()
        .map_or(0, Vec::len);
    let f = if crl.tbs_cert_list.issuer != *ca.tbs_certificate().subject()
        || !super::signed_by(
            ca,
            &crl.signature_algorithm,
            &crl.tbs_cert_list,
            &crl.signature,
        ) {
        Finding::new(
            CheckId::Crl,
            "crl.bad_signature",
            Status::Problem,
            url.clone(),
            text!(en: "The CRL of CA \"{name}\" is not signed by that CA; it cannot be relied on.";
                  zh: "CA“{name}”的证书吊销列表不是该 CA 签发的，不可信。"),
        )
        .fix(
            text!(en: "Tell the platform's administrators; a proxy may be rewriting the answer.";
                   zh: "请通知平台管理员；可能有代理篡改了应答。"),
        )
    } else if next_update.is_some_and(|n| n < run.now) {
        Finding::new(CheckId::Crl, "crl.stale", Status::Problem, url.clone(),
            text!(en: "The CRL of CA \"{name}\" expired on {} (issued {}); revocation checks by CRL fail.", next_update.map(rfc3339).unwrap_or_default(), rfc3339(this_update);
                  zh: "CA“{name}”的证书吊销列表已于 {} 过期（签发于 {}），基于 CRL 的吊销检查将失败。", next_update.map(rfc3339).unwrap_or_default(), rfc3339(this_update)))
        .fix(text!(en: "If this PC's clock is right, tell the platform's administrators to publish a new CRL (`yinxin ca publish-crl`).";
                   zh: "如果本机时间正确，请通知平台管理员发布新的吊销列表（`yinxin ca publish-crl`）。"))
    } else {
        Finding::new(
            CheckId::Crl,
            "crl.ok",
            Status::Ok,
            url.clone(),
            text!(en: "The CRL of CA \"{name}\" is signed by it and current (issued {}, {} revoked).", rfc3339(this_update), entries;
                  zh: "CA“{name}”的证书吊销列表签名有效且未过期（签发于 {}，已吊销 {} 张）。", rfc3339(this_update), entries),
        )
    };
    run.push(
        f.fact("ca", name)
            .fact("this_update", rfc3339(this_update))
            .fact("next_update", next_update.map(rfc3339))
            .fact("revoked_entries", entries),
    );
}

/// Ask an OCSP responder about `serial` of `issuer`; the verified status.
pub(crate) async fn ocsp_query(
    run: &Run<'_>,
    url: &str,
    issuer: &Certificate,
    serial: &[u8],
) -> Result<(CertStatusAnswer, Duration), String> {
    let nonce = random::bytes(16).map_err(|e| e.to_string())?;
    let request = ocsp::build_request(issuer, &[serial], CertIdHash::Sha256, Some(&nonce))
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let resp = run
        .http
        .post(url)
        .header("content-type", "application/ocsp-request")
        .body(request)
        .send()
        .await
        .map_err(|e| plain_http_error(&e))?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let body = resp.bytes().await.map_err(|e| plain_http_error(&e))?;
    let elapsed = started.elapsed();
    // Judged when the answer arrives (not when the run began: a fresh answer's thisUpdate may
    // be later than that), allowing the responder's clock to run a little ahead, as OpenSSL's
    // default validity leeway does; a larger skew is the clock check's business.
    let at = SystemTime::now() + OCSP_LEEWAY;
    let statuses =
        ocsp::verify_response(&body, issuer, Some(&nonce), at, None).map_err(|e| e.to_string())?;
    let wanted = trim_zeros(serial);
    statuses
        .into_iter()
        .find(|s| trim_zeros(&s.serial) == wanted)
        .map(|s| (s.status, elapsed))
        .ok_or_else(|| "the answer does not cover the certificate asked about".to_string())
}

fn trim_zeros(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|x| **x == 0).count();
    &b[n..]
}

async fn check_ocsp(run: &mut Run<'_>, base: &str) {
    // A real query about a serial number that was never issued, to an issuing CA: a correct
    // responder answers with a signed response echoing the nonce (status unknown or good).
    let url = format!("{base}/ocsp");
    let Some(issuer) = run
        .server_cas
        .iter()
        .find(|c| c.tbs_certificate().subject() != c.tbs_certificate().issuer())
        .or(run.server_cas.first())
        .cloned()
    else {
        return;
    };
    let mut serial = random::bytes(16).unwrap_or_else(|_| vec![0x5a; 16]);
    serial[0] = 0x7f;
    let f = match ocsp_query(run, &url, &issuer, &serial).await {
        Ok((answer, elapsed)) => Finding::new(CheckId::Ocsp, "ocsp.ok", Status::Ok, url.clone(),
            text!(en: "The OCSP responder answered a real query with a correctly signed response echoing the nonce ({} for a never-issued serial) in {} ms.", answer_name(&answer), elapsed.as_millis();
                  zh: "OCSP 服务对真实查询返回了签名正确、带回随机数的应答（未签发序列号的状态为“{}”），耗时 {} 毫秒。", answer_name_zh(&answer), elapsed.as_millis()))
            .fact("elapsed_ms", u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
        Err(e) => Finding::new(CheckId::Ocsp, "ocsp.failed", Status::Problem, url.clone(),
            text!(en: "The OCSP responder did not answer correctly: {e}. Certificate logins that check revocation online will fail.";
                  zh: "OCSP 服务应答不正确：{e}。在线检查吊销状态的证书登录将失败。"))
            .fix(text!(en: "If the error mentions time (thisUpdate, nextUpdate), correct this PC's clock; otherwise check that {url} is reachable and tell the administrators.";
                       zh: "如果错误涉及时间（thisUpdate、nextUpdate），请校正本机时间；否则检查能否访问 {url} 并通知管理员。"))
            .fact("error", e),
    };
    run.push(f);
}

fn answer_name_zh(a: &CertStatusAnswer) -> &'static str {
    match a {
        CertStatusAnswer::Good => "正常",
        CertStatusAnswer::Revoked { .. } => "已吊销",
        CertStatusAnswer::Unknown => "未知",
    }
}

fn answer_name(a: &CertStatusAnswer) -> &'static str {
    match a {
        CertStatusAnswer::Good => "good",
        CertStatusAnswer::Revoked { .. } => "revoked",
        CertStatusAnswer::Unknown => "unknown",
    }
}

async fn check_tsa(run: &mut Run<'_>, base: &str) {
    let url = format!("{base}/tsa");
    let request = TimestampRequest::for_data(HashAlgorithm::Sm3, b"yinxin doctor")
        .with_random_nonce()
        .with_cert_req(true);
    let der = match request.to_der() {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "encoding a timestamp request");
            return;
        }
    };
    let sent = SystemTime::now();
    let started = Instant::now();
    let answer = match run
        .http
        .post(&url)
        .header("content-type", "application/timestamp-query")
        .body(der)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| plain_http_error(&e)),
        Ok(r) => Err(format!("HTTP {}", r.status())),
        Err(e) => Err(plain_http_error(&e)),
    };
    let rtt = started.elapsed();
    let anchors = run.anchors.clone();
    let intermediates = run.server_cas.clone();
    let mut options = VerifyOptions::new(&anchors);
    options.intermediates = &intermediates;
    let verified = answer.and_then(|a| {
        timestamp::verify_response(&a, &request, &options).map_err(|e| e.to_string())
    });
    let info = match verified {
        Ok(i) => i,
        Err(e) => {
            let untrusted = anchors.is_empty();
            run.push(
                Finding::new(CheckId::Tsa, "tsa.failed", Status::Problem, url.clone(),
                    text!(en: "The time-stamping authority did not give a valid timestamp: {e}{}. Signing with a timestamp and sealed bids will fail.", if untrusted { " (no platform root is installed to verify it)" } else { "" };
                          zh: "时间戳服务未返回有效的时间戳：{e}{}。带时间戳的签名和投标加密将失败。", if untrusted { "（未安装平台根证书，无法验证）" } else { "" }))
                .fix(text!(en: "Install the platform's roots (see the root certificate check), then check that {url} is reachable; otherwise tell the administrators.";
                           zh: "先安装平台根证书（见“根证书”一项），再检查能否访问 {url}；否则请通知管理员。"))
                .fact("error", e),
            );
            check_clock_by_date(run, base).await;
            return;
        }
    };
    run.push(
        Finding::new(CheckId::Tsa, "tsa.ok", Status::Ok, url.clone(),
            text!(en: "The time-stamping authority issued a valid timestamp for a real request (signed by {}, nonce echoed) in {} ms.", info.tsa_subject, rtt.as_millis();
                  zh: "时间戳服务为真实请求签发了有效时间戳（签发者 {}，随机数一致），耗时 {} 毫秒。", info.tsa_subject, rtt.as_millis()))
        .fact("tsa", info.tsa_subject.clone())
        .fact("gen_time", rfc3339(info.gen_time))
        .fact("elapsed_ms", u64::try_from(rtt.as_millis()).unwrap_or(u64::MAX)),
    );
    // The server stamped somewhere between sending and receiving: compare with the middle.
    let local_mid = sent + rtt / 2;
    let accuracy = rtt / 2 + Duration::from_secs(1);
    clock_finding(run, local_mid, info.gen_time, accuracy, "tsa", &url);
}

/// Without a timestamp, the HTTP Date header (one-second resolution) still tells a skew.
async fn check_clock_by_date(run: &mut Run<'_>, base: &str) {
    let url = format!("{base}/health");
    let sent = SystemTime::now();
    let started = Instant::now();
    let Ok(resp) = run.http.get(&url).send().await else {
        return;
    };
    let rtt = started.elapsed();
    let Some(date) = resp
        .headers()
        .get("date")
        .and_then(|d| d.to_str().ok())
        .and_then(parse_http_date)
    else {
        return;
    };
    clock_finding(
        run,
        sent + rtt / 2,
        date,
        rtt / 2 + Duration::from_secs(1),
        "http_date",
        &url,
    );
}

fn clock_finding(
    run: &mut Run<'_>,
    local: SystemTime,
    server: SystemTime,
    accuracy: Duration,
    source: &str,
    url: &str,
) {
    let (ahead, offset) = match local.duration_since(server) {
        Ok(d) => (true, d),
        Err(e) => (false, e.duration()),
    };
    let secs = offset.as_secs_f64();
    let signed = if ahead { secs } else { -secs };
    let tolerance = Duration::from_secs(run.config.clock_tolerance());
    let dir_en = if ahead { "ahead of" } else { "behind" };
    let dir_zh = if ahead { "快" } else { "慢" };
    // Within a minute (or the measurement's own uncertainty) is fine, but never beyond the
    // configured tolerance.
    let fine = CLOCK_FINE.min(tolerance).max(accuracy);
    let f = if offset <= fine && offset <= tolerance {
        Finding::new(
            CheckId::Clock,
            "clock.ok",
            Status::Ok,
            url.to_string(),
            text!(en: "This PC's clock agrees with the server's (off by {secs:.1} s).";
                  zh: "本机时间与服务器一致（相差 {secs:.1} 秒）。"),
        )
    } else if offset <= tolerance {
        Finding::new(CheckId::Clock, "clock.drift", Status::Warning, url.to_string(),
            text!(en: "This PC's clock is {secs:.0} s {dir_en} the server's; within the tolerance ({} s) but drifting.", tolerance.as_secs();
                  zh: "本机时间比服务器{dir_zh} {secs:.0} 秒，仍在允许范围（{} 秒）内，但存在偏差。", tolerance.as_secs()))
        .fix(text!(en: "Turn on automatic time synchronisation (`timedatectl set-ntp true`).";
                   zh: "开启自动对时（`timedatectl set-ntp true`）。"))
    } else {
        Finding::new(CheckId::Clock, "clock.skewed", Status::Problem, url.to_string(),
            text!(en: "This PC's clock is {secs:.0} s {dir_en} the server's (tolerance {} s): signatures, certificate checks and timestamps will be refused or look forged.", tolerance.as_secs();
                  zh: "本机时间比服务器{dir_zh} {secs:.0} 秒（允许 {} 秒）：签名、证书验证和时间戳将被拒绝或被视为伪造。", tolerance.as_secs()))
        .fix(text!(en: "Set the correct time and turn on automatic synchronisation (`timedatectl set-ntp true`, or the Date & Time settings), then run `yinxin doctor` again.";
                   zh: "校正系统时间并开启自动对时（`timedatectl set-ntp true` 或“日期和时间”设置），然后重新运行 `yinxin doctor`。"))
    };
    run.push(
        f.fact("offset_seconds", (signed * 10.0).round() / 10.0)
            .fact("tolerance_seconds", tolerance.as_secs())
            .fact("source", source)
            .fact("server_time", rfc3339(server))
            .fact("local_time", rfc3339(local)),
    );
}

/// RFC 9110 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(s: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, mon, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == mon)? as u8
        + 1;
    let mut hms = time.split(':').map(|p| p.parse::<u8>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    der::DateTime::new(year.parse().ok()?, month, day.parse().ok()?, h, m, sec)
        .ok()
        .map(|d| d.to_system_time())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let t = parse_http_date("Sun, 22 Nov 2026 12:05:00 GMT");
        assert_eq!(t.map(rfc3339).as_deref(), Some("2026-11-22T12:05:00Z"));
        assert!(parse_http_date("yesterday").is_none());
    }
}
