//! Certificates found on tokens: valid now, not expiring soon, chained to the platform's
//! roots, and not revoked according to the server (a real OCSP query).

use std::time::Duration;

use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlReason};
use yinxin_pki::certificate::Certificate;
use yinxin_pki::ocsp::CertStatusAnswer;
use yinxin_pki::path::{self, ValidationOptions};

use crate::platform::rfc3339;
use crate::report::{CheckId, Finding, Status};
use crate::text;

use super::Run;
use super::server::ocsp_query;

/// Certificates expiring sooner than this are a warning.
const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 86_400);

const ID_AD_OCSP: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

/// The OCSP URLs in a certificate's authority information access.
fn ocsp_urls(cert: &Certificate) -> Vec<String> {
    let Ok(Some((_, aia))) = cert
        .tbs_certificate()
        .get_extension::<AuthorityInfoAccessSyntax>()
    else {
        return Vec::new();
    };
    aia.0
        .iter()
        .filter(|d| d.access_method == ID_AD_OCSP)
        .filter_map(|d| match &d.access_location {
            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
            _ => None,
        })
        .collect()
}

/// RFC 5280's name of a revocation reason, and the Chinese for it.
fn reason_names(reason: Option<CrlReason>) -> (&'static str, &'static str) {
    match reason {
        None | Some(CrlReason::Unspecified) => ("unspecified", "未说明"),
        Some(CrlReason::KeyCompromise) => ("keyCompromise", "密钥泄露"),
        Some(CrlReason::CaCompromise) => ("cACompromise", "CA 密钥泄露"),
        Some(CrlReason::AffiliationChanged) => ("affiliationChanged", "所属单位变更"),
        Some(CrlReason::Superseded) => ("superseded", "已被新证书取代"),
        Some(CrlReason::CessationOfOperation) => ("cessationOfOperation", "停止使用"),
        Some(CrlReason::CertificateHold) => ("certificateHold", "证书冻结"),
        Some(CrlReason::RemoveFromCRL) => ("removeFromCRL", "从吊销列表移除"),
        Some(CrlReason::PrivilegeWithdrawn) => ("privilegeWithdrawn", "权限撤销"),
        Some(CrlReason::AaCompromise) => ("aACompromise", "属性机构密钥泄露"),
    }
}

pub(super) async fn check(run: &mut Run<'_>) {
    let held = std::mem::take(&mut run.held);
    for h in &held {
        check_one(run, &h.holder, &h.der).await;
    }
    run.held = held;
}

async fn check_one(run: &mut Run<'_>, holder: &str, der_bytes: &[u8]) {
    let cert: Certificate = match der::Decode::from_der(der_bytes) {
        Ok(c) => c,
        Err(e) => {
            run.push(
                Finding::new(
                    CheckId::Certificate,
                    "certificate.unreadable",
                    Status::Problem,
                    holder,
                    text!(en: "The certificate stored here cannot be read: {e}.";
                      zh: "此处存放的证书无法读取：{e}。"),
                )
                .fix(text!(en: "Enrol again to get a new certificate.";
                           zh: "重新申请证书。")),
            );
            return;
        }
    };
    let tbs = cert.tbs_certificate();
    let subject = tbs.subject().to_string();
    let serial = hex::encode(tbs.serial_number().as_bytes());
    let not_before = tbs.validity().not_before.to_system_time();
    let not_after = tbs.validity().not_after.to_system_time();
    let facts = |f: Finding| {
        f.fact("holder", holder)
            .fact("subject", subject.clone())
            .fact("serial", serial.clone())
            .fact("issuer", tbs.issuer().to_string())
            .fact("not_after", rfc3339(not_after))
    };
    let mut found_any = false;
    if run.now > not_after {
        found_any = true;
        let f = Finding::new(CheckId::Certificate, "certificate.expired", Status::Problem, holder,
            text!(en: "The certificate of {subject} expired on {}; it can no longer log in or sign.", rfc3339(not_after);
                  zh: "{subject} 的证书已于 {} 过期，不能再用于登录或签名。", rfc3339(not_after)))
            .fix(text!(en: "Renew it: ask the platform's registration office, or enrol again (`yinxin token enroll`).";
                       zh: "请更新证书：联系平台注册机构，或重新申请（`yinxin token enroll`）。"));
        run.push(facts(f));
    } else if run.now < not_before {
        found_any = true;
        let f = Finding::new(CheckId::Certificate, "certificate.not_yet_valid", Status::Problem, holder,
            text!(en: "The certificate of {subject} is valid only from {}: this PC's clock is probably wrong.", rfc3339(not_before);
                  zh: "{subject} 的证书从 {} 起才生效：本机时间可能不正确。", rfc3339(not_before)))
            .fix(text!(en: "Correct the system clock (see the clock check).";
                       zh: "校正系统时间（见“系统时间”一项）。"));
        run.push(facts(f));
    } else if not_after < run.now + EXPIRY_WARNING {
        found_any = true;
        let days = not_after
            .duration_since(run.now)
            .map(|d| d.as_secs() / 86_400)
            .unwrap_or(0);
        let f = Finding::new(CheckId::Certificate, "certificate.expiring", Status::Warning, holder,
            text!(en: "The certificate of {subject} expires in {days} day(s), on {}.", rfc3339(not_after);
                  zh: "{subject} 的证书将在 {days} 天后（{}）到期。", rfc3339(not_after)))
            .fix(text!(en: "Renew it before then (ask the platform's registration office).";
                       zh: "请在到期前更新证书（联系平台注册机构）。"))
            .fact("days_left", days);
        run.push(facts(f));
    }
    let mut chained = false;
    let mut validated_issuer = None;
    if !run.anchors.is_empty() {
        let options = ValidationOptions::new(run.now);
        let validated = path::validate(&run.anchors, &run.server_cas, &cert, &options);
        if let Ok(chain) = &validated {
            chained = true;
            validated_issuer = chain.certificates().get(1).cloned();
        }
        if let Err(e) = validated {
            let expired = matches!(
                e,
                path::PathError::Expired { .. } | path::PathError::NotYetValid { .. }
            );
            if !(expired && found_any) {
                found_any = true;
                let f = Finding::new(CheckId::Certificate, "certificate.untrusted", Status::Problem, holder,
                    text!(en: "The certificate of {subject} does not chain to the platform's roots: {e}.";
                          zh: "{subject} 的证书无法验证到平台根证书：{e}。"))
                    .fix(text!(en: "Check the root certificates (see above); if they are right, this certificate is from another CA: enrol with this platform.";
                               zh: "检查根证书（见上文）；若根证书无误，则该证书来自其他 CA，请在本平台申请证书。"))
                    .fact("error", e.to_string());
                run.push(facts(f));
            }
        }
    }
    // Revocation: ask the responder named in the certificate (else the server's) about it,
    // verifying the answer with the issuer from the validated chain when there is one (the
    // server's CA list is not authenticated by itself).
    let issuer = validated_issuer.or_else(|| {
        run.server_cas
            .iter()
            .chain(run.anchors.iter())
            .find(|c| c.tbs_certificate().subject() == tbs.issuer())
            .cloned()
    });
    let mut not_revoked = false;
    let urls = {
        let mut u = ocsp_urls(&cert);
        if u.is_empty()
            && let Some(s) = &run.server
        {
            u.push(format!("{}/ocsp", s.trim_end_matches('/')));
        }
        u
    };
    match (issuer, urls.first()) {
        (Some(issuer), Some(url)) if run.server_up || run.server.is_none() => {
            match ocsp_query(run, url, &issuer, tbs.serial_number().as_bytes()).await {
                Ok((CertStatusAnswer::Good, _)) => not_revoked = true,
                Ok((CertStatusAnswer::Revoked { at, reason }, _)) => {
                    found_any = true;
                    let (why, why_zh) = reason_names(reason);
                    let f = Finding::new(CheckId::Certificate, "certificate.revoked", Status::Problem, holder,
                        text!(en: "The certificate of {subject} was REVOKED on {} (reason: {why}) according to the platform's OCSP responder; logins and signatures with it are refused.", rfc3339(at);
                              zh: "据平台 OCSP 服务，{subject} 的证书已于 {} 被吊销（原因：{why_zh}），使用它登录和签名都会被拒绝。", rfc3339(at)))
                        .fix(text!(en: "Contact the platform's registration office to get a new certificate, then enrol again.";
                                   zh: "请联系平台注册机构办理新证书，然后重新申请。"))
                        .fact("revoked_at", rfc3339(at))
                        .fact("reason", why)
                        .fact("ocsp_url", url.clone());
                    run.push(facts(f));
                }
                Ok((CertStatusAnswer::Unknown, _)) => {
                    found_any = true;
                    let f = Finding::new(CheckId::Certificate, "certificate.unknown_to_server", Status::Problem, holder,
                        text!(en: "The platform's OCSP responder does not know the certificate of {subject}: it was not issued by this platform.";
                              zh: "平台 OCSP 服务不认识 {subject} 的证书：它不是本平台签发的。"))
                        .fix(text!(en: "Enrol with this platform (`yinxin token enroll`).";
                                   zh: "在本平台申请证书（`yinxin token enroll`）。"))
                        .fact("ocsp_url", url.clone());
                    run.push(facts(f));
                }
                Err(e) => {
                    found_any = true;
                    let f = Finding::new(CheckId::Certificate, "certificate.revocation_unchecked", Status::Warning, holder,
                        text!(en: "Whether the certificate of {subject} is revoked could not be checked: {e}.";
                              zh: "无法检查 {subject} 的证书是否被吊销：{e}。"))
                        .fact("ocsp_url", url.clone())
                        .fact("error", e);
                    run.push(facts(f));
                }
            }
        }
        _ => {
            if run.server.is_some() {
                found_any = true;
                let f = Finding::new(
                    CheckId::Certificate,
                    "certificate.revocation_unchecked",
                    Status::Warning,
                    holder,
                    text!(en: "Whether the certificate of {subject} is revoked could not be checked (its issuer or OCSP address is unknown, or the server is down).";
                          zh: "无法检查 {subject} 的证书是否被吊销（签发者或 OCSP 地址未知，或服务器不可用）。"),
                );
                run.push(facts(f));
            }
        }
    }
    if !found_any {
        let f = Finding::new(
            CheckId::Certificate,
            "certificate.ok",
            Status::Ok,
            holder,
            text!(en: "The certificate of {subject} is valid until {}{}{}.", rfc3339(not_after),
                      if chained { ", chains to the platform's root" } else { " (its chain was not checked: no platform root is installed)" },
                      if not_revoked { " and is not revoked (OCSP)" } else { "" };
                  zh: "{subject} 的证书有效期至 {}{}{}。", rfc3339(not_after),
                      if chained { "，可验证到平台根证书" } else { "（未安装平台根证书，未验证证书链）" },
                      if not_revoked { "，且未被吊销（OCSP）" } else { "" }),
        )
        .fact("chain_checked", chained)
        .fact("revocation_checked", not_revoked);
        run.push(facts(f));
    }
}
