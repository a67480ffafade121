//! `yinxin serve`, `vault`, `ca`, `audit` and `admin`: the server and thin clients of its API.

use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use yinxin_server::api::*;

use crate::Outcome;
use crate::args::*;
use crate::client::Client;
use crate::input;

/// The fields a `--config` TOML file may set.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    data: Option<std::path::PathBuf>,
    listen: Option<std::net::SocketAddr>,
    database: Option<String>,
    public_url: Option<String>,
    shares: Option<String>,
    ca_organisation: Option<String>,
    crl_interval: Option<u64>,
    tsa_policy: Option<String>,
    tsa_accuracy: Option<String>,
    tsa_clock_tolerance_ms: Option<u64>,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    insecure_http: Option<bool>,
    max_body_bytes_in_flight: Option<usize>,
    max_cms_operations: Option<usize>,
    #[serde(default)]
    issuance_limits: LimitsFile,
    #[serde(default)]
    share_recipients: Vec<std::path::PathBuf>,
}

/// `[issuance_limits]` of the config file; unset keys keep their defaults.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    max_sans: Option<usize>,
    max_san_len: Option<usize>,
    max_attribute_len: Option<usize>,
    max_subject_attributes: Option<usize>,
    max_identity_len: Option<usize>,
}

impl LimitsFile {
    fn limits(&self) -> yinxin_pki::limits::IssuanceLimits {
        let mut l = yinxin_pki::limits::IssuanceLimits::default();
        let set = |target: &mut usize, value: Option<usize>| {
            if let Some(v) = value {
                *target = v;
            }
        };
        set(&mut l.max_sans, self.max_sans);
        set(&mut l.max_san_len, self.max_san_len);
        set(&mut l.max_attribute_len, self.max_attribute_len);
        set(&mut l.max_subject_attributes, self.max_subject_attributes);
        set(&mut l.max_identity_len, self.max_identity_len);
        l
    }
}

/// The TSA settings from flags (first) and the config file.
fn tsa_config(args: &ServeArgs, file: &ConfigFile) -> Result<yinxin_authority::TsaConfig> {
    let mut tsa = yinxin_authority::TsaConfig::default();
    if let Some(p) = args.tsa_policy.as_ref().or(file.tsa_policy.as_ref()) {
        tsa.policy = p
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("TSA policy {p:?} is not an OID: {e}"))?;
    }
    if let Some(a) = args.tsa_accuracy.as_ref().or(file.tsa_accuracy.as_ref()) {
        tsa.accuracy = yinxin_authority::parse_accuracy(a)
            .map_err(|e| anyhow::anyhow!("TSA accuracy: {e}"))?;
    }
    if let Some(ms) = args.tsa_clock_tolerance_ms.or(file.tsa_clock_tolerance_ms) {
        if ms == 0 {
            bail!("the TSA clock tolerance must be at least 1 ms");
        }
        tsa.clock_tolerance = std::time::Duration::from_millis(ms);
    }
    Ok(tsa)
}

fn parse_shares(text: &str) -> Result<yinxin_authority::InitOptions> {
    let (k, n) = text
        .split_once("-of-")
        .with_context(|| format!("--shares {text:?} is not K-of-N, e.g. 3-of-5"))?;
    let k: u8 = k.trim().parse().context("K in --shares K-of-N")?;
    let n: u8 = n.trim().parse().context("N in --shares K-of-N")?;
    if k == 0 || k > n || (k == 1 && n > 1) {
        bail!("--shares {k}-of-{n}: use 1-of-1 for a trial, else 2 <= K <= N <= 255");
    }
    Ok(yinxin_authority::InitOptions {
        threshold: k,
        shares: n,
        pkcs11_cas: Vec::new(),
    })
}

pub(crate) fn serve(args: &ServeArgs) -> Result<Outcome> {
    let file: ConfigFile = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("{} is not a valid config", p.display()))?
        }
        None => ConfigFile::default(),
    };
    let tsa = tsa_config(args, &file)?;
    // Flags win over the file only when given explicitly; defaults yield to the file.
    let matches_default = |flag: &str, default: &str| flag == default;
    let data = if matches_default(&args.data.to_string_lossy(), "yinxin-data") {
        file.data.unwrap_or_else(|| args.data.clone())
    } else {
        args.data.clone()
    };
    let listen = if args.listen.to_string() == "127.0.0.1:8700" {
        file.listen.unwrap_or(args.listen)
    } else {
        args.listen
    };
    let shares = if args.shares == "1-of-1" {
        file.shares.unwrap_or_else(|| args.shares.clone())
    } else {
        args.shares.clone()
    };
    let pkcs11 = match &args.pkcs11_module {
        Some(module) => Some(yinxin_authority::Pkcs11Config {
            module: module.clone(),
            token_label: args.pkcs11_token_label.clone(),
            pin: input::secret(
                args.pkcs11_pin_file.as_ref(),
                "YINXIN_PKCS11_PIN",
                "PKCS#11 user PIN",
                false,
            )?,
        }),
        None => None,
    };
    let mut init = parse_shares(&shares)?;
    init.pkcs11_cas = args.pkcs11_ca.clone();
    let options = yinxin_server::ServeOptions {
        data_dir: data,
        listen,
        database: args.database.clone().or(file.database),
        public_url: args.public_url.clone().or(file.public_url),
        init,
        pkcs11,
        transport: yinxin_server::transport::TransportPolicy {
            trusted_proxies: args
                .trusted_proxy
                .iter()
                .chain(file.trusted_proxies.iter())
                .map(|c| {
                    c.parse()
                        .map_err(|e: String| anyhow::anyhow!("--trusted-proxy: {e}"))
                })
                .collect::<Result<_>>()?,
            insecure_http: args.insecure_http || file.insecure_http.unwrap_or(false),
        },
        body_budget: args
            .max_body_bytes_in_flight
            .or(file.max_body_bytes_in_flight)
            .unwrap_or(yinxin_server::budget::DEFAULT_BODY_BUDGET),
        max_cms_operations: args.max_cms_operations.or(file.max_cms_operations),
        issuance_limits: file.issuance_limits.limits(),
        share_recipients: if args.share_recipients.is_empty() {
            file.share_recipients.clone()
        } else {
            args.share_recipients.clone()
        },
        ca_organisation: args.ca_organisation.clone().or(file.ca_organisation),
        crl_interval: args
            .crl_interval
            .or(file.crl_interval)
            .map(std::time::Duration::from_secs),
        tsa,
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("YINXIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(yinxin_server::serve(options))?;
    Ok(Outcome::Done)
}

pub(crate) fn vault_unseal(args: &VaultUnsealArgs, json_out: bool) -> Result<Outcome> {
    let share = match sealed_share(args)? {
        Some(text) => text,
        None => input::secret(
            args.share_file.as_ref(),
            "YINXIN_SHARE",
            "unseal share",
            false,
        )?,
    };
    let client = Client::anonymous(&args.server)?;
    crate::client::check_secret_transport(client.base(), "an unseal share")?;
    let status: StatusResponse = client.post_json(
        "/api/v1/vault/unseal",
        &UnsealRequest {
            share: share.to_string(),
        },
    )?;
    print_status(&status, json_out);
    Ok(Outcome::Done)
}

/// A share file sealed to its holder (`share-N.p7m` of `serve --share-recipients`), opened
/// with the holder's key; `None` for a plain share.
fn sealed_share(args: &VaultUnsealArgs) -> Result<Option<zeroize::Zeroizing<String>>> {
    let Some(path) = &args.share_file else {
        return Ok(None);
    };
    let data = input::read_small(path, "share file")?;
    let text = String::from_utf8_lossy(&data);
    if text.trim_start().starts_with("yinxin-share-") {
        return Ok(None);
    }
    let key = crate::cms_commands::open_decrypter(&args.key).context(
        "the share file is sealed to its holder: give your key (--token NAME --container C, \
         --pkcs11 MODULE or --key FILE)",
    )?;
    let opened = yinxin_cms::enveloped_data::open_message(
        &data,
        key.handle.as_ref(),
        key.stored_certificate.as_deref(),
    )
    .context("opening the sealed share")?;
    let text = String::from_utf8(opened.to_vec()).context("the sealed share is not text")?;
    Ok(Some(zeroize::Zeroizing::new(text.trim().to_string())))
}

fn print_status(status: &StatusResponse, json_out: bool) {
    if json_out {
        outln!("{}", json!(status));
    } else if status.sealed {
        outln!(
            "sealed: {} of {} shares given",
            status.shares_given,
            status.threshold
        );
    } else {
        outln!(
            "unsealed ({}-of-{} vault, {} store)",
            status.threshold,
            status.shares,
            status.store
        );
    }
    if !json_out {
        for a in &status.alerts {
            outln!(
                "ALERT: platform certificate {}/{} ({}, {}) is {}{}",
                a.ca,
                a.serial,
                a.profile,
                a.subject,
                a.status,
                if a.replaceable {
                    "; `yinxin admin replace-service` makes a new one"
                } else {
                    "; this CA issues nothing"
                }
            );
        }
    }
}

pub(crate) fn vault_seal(args: &ServerOnlyArgs, json_out: bool) -> Result<Outcome> {
    let status: StatusResponse =
        Client::authenticated(&args.server)?.post_json("/api/v1/vault/seal", &json!({}))?;
    print_status(&status, json_out);
    Ok(Outcome::Done)
}

pub(crate) fn admin_replace_service(
    args: &AdminReplaceServiceArgs,
    json_out: bool,
) -> Result<Outcome> {
    let r: ReplacedServiceResponse = Client::authenticated(&args.server)?.post_json(
        &format!("/api/v1/services/{}/replace", q(&args.name)),
        &json!({}),
    )?;
    if json_out {
        outln!("{}", json!(r));
    } else {
        outln!("replaced {}: new certificate {}", r.name, r.certificate);
    }
    Ok(Outcome::Done)
}

pub(crate) fn vault_status(args: &VaultStatusArgs, json_out: bool) -> Result<Outcome> {
    let status: StatusResponse = Client::anonymous(&args.server)?.get_json("/api/v1/status")?;
    print_status(&status, json_out);
    Ok(Outcome::Done)
}

pub(crate) fn ca_roots(args: &CaRootsArgs, json_out: bool) -> Result<Outcome> {
    let cas: Vec<CaResponse> = Client::anonymous(&args.server)?.get_json("/api/v1/cas")?;
    let chosen: Vec<&CaResponse> = cas.iter().filter(|c| args.all || c.root).collect();
    let pem: String = chosen.iter().map(|c| c.certificate_pem.as_str()).collect();
    input::write(&args.out, pem.as_bytes(), false)?;
    if json_out {
        outln!(
            "{}",
            json!({"out": args.out, "cas": chosen.iter().map(|c| &c.name).collect::<Vec<_>>()})
        );
    } else {
        for c in &chosen {
            eprintln!("{}: {}", c.name, c.subject);
        }
        eprintln!(
            "wrote {} certificates to {}",
            chosen.len(),
            args.out.display()
        );
    }
    Ok(Outcome::Done)
}

fn issue_body(csr: &Path, profile: &str, r: &RequestArgs) -> Result<IssueRequest> {
    let data = input::read_small(csr, "a certificate request")?;
    let csr = if yinxin_crypto::pem::is_pem(&data) {
        String::from_utf8(data).context("the request is not UTF-8 PEM")?
    } else {
        yinxin_crypto::pem::encode("CERTIFICATE REQUEST", &data)
    };
    Ok(IssueRequest {
        csr,
        profile: profile.to_string(),
        ca: r.ca.clone(),
        validity_days: r.days,
        sans: r.sans.clone(),
        identity: Identity {
            organization_code: r.org_code.clone(),
            taxation_number: r.tax_number.clone(),
            resident_card_number: r.id_number.clone(),
            ..Identity::default()
        },
    })
}

fn report_issued(c: &CertificateResponse, out: &Path, json_out: bool) {
    if json_out {
        outln!("{}", json!({"ca": c.ca, "serial": c.serial, "out": out}));
    } else {
        outln!(
            "issued serial {} by {} to {}",
            c.serial,
            c.ca,
            out.display()
        );
    }
}

pub(crate) fn ca_issue(args: &CaIssueArgs, json_out: bool) -> Result<Outcome> {
    let body = issue_body(&args.csr, &args.profile, &args.request)?;
    let c: CertificateResponse =
        Client::authenticated(&args.server)?.post_json("/api/v1/certificates", &body)?;
    input::write(&args.out, c.certificate_pem.as_bytes(), false)?;
    if let Some(chain) = &args.chain_out {
        input::write(chain, c.chain_pem.as_bytes(), false)?;
    }
    report_issued(&c, &args.out, json_out);
    Ok(Outcome::Done)
}

/// POST a dual enrolment.
pub(crate) fn enrol(server: &ServerArgs, body: &IssueRequest) -> Result<DualResponse> {
    Client::authenticated(server)?.post_json("/api/v1/enrolments", body)
}

pub(crate) fn ca_enrol(args: &CaEnrolArgs, json_out: bool) -> Result<Outcome> {
    let body = issue_body(&args.csr, &args.profile, &args.request)?;
    let d = enrol(&args.server, &body)?;
    let envelope = B64
        .decode(&d.delivered_key.envelope)
        .context("the server's envelope is not base64")?;
    input::write(&args.sign_out, d.signing.certificate_pem.as_bytes(), false)?;
    input::write(
        &args.enc_out,
        d.encryption.certificate_pem.as_bytes(),
        false,
    )?;
    input::write(&args.envelope_out, &envelope, true)?;
    if let Some(chain) = &args.chain_out {
        input::write(chain, d.signing.chain_pem.as_bytes(), false)?;
    }
    if json_out {
        outln!(
            "{}",
            json!({"signing_serial": d.signing.serial, "encryption_serial": d.encryption.serial, "ca": d.signing.ca, "envelope_format": d.delivered_key.format})
        );
    } else {
        outln!(
            "issued signing {} and encryption {} by {}; escrowed key sealed as {} in {}",
            d.signing.serial,
            d.encryption.serial,
            d.signing.ca,
            d.delivered_key.format,
            args.envelope_out.display()
        );
    }
    Ok(Outcome::Done)
}

fn report_record(r: &CertificateRecordResponse, json_out: bool) {
    if json_out {
        let mut v = json!(r);
        if let Some(o) = v.as_object_mut() {
            o.remove("certificate_pem");
        }
        outln!("{v}");
    } else {
        outln!(
            "{}  {}  {:<8} {:<13} {}  until {}",
            r.ca,
            r.serial,
            r.status,
            r.profile,
            r.subject,
            r.not_after
        );
    }
}

fn status_change(
    s: &CaSerialArgs,
    action: &str,
    reason: Option<&str>,
    json_out: bool,
) -> Result<Outcome> {
    let body = StatusChangeRequest {
        ca: s.ca.clone(),
        reason: reason.map(str::to_string),
    };
    let r: CertificateRecordResponse = Client::authenticated(&s.server)?.post_json(
        &format!("/api/v1/certificates/{}/{action}", s.serial),
        &body,
    )?;
    report_record(&r, json_out);
    Ok(Outcome::Done)
}

pub(crate) fn ca_revoke(args: &CaRevokeArgs, json_out: bool) -> Result<Outcome> {
    status_change(&args.serial, "revoke", Some(&args.reason), json_out)
}

pub(crate) fn ca_hold(args: &CaSerialArgs, json_out: bool) -> Result<Outcome> {
    status_change(args, "hold", None, json_out)
}

pub(crate) fn ca_release(args: &CaSerialArgs, json_out: bool) -> Result<Outcome> {
    status_change(args, "release", None, json_out)
}

pub(crate) fn ca_reissue(args: &CaReissueArgs, rekey: bool, json_out: bool) -> Result<Outcome> {
    let csr = match (&args.csr, rekey) {
        (Some(p), true) => {
            let data = input::read_small(p, "a certificate request")?;
            Some(if yinxin_crypto::pem::is_pem(&data) {
                String::from_utf8(data).context("the request is not UTF-8 PEM")?
            } else {
                yinxin_crypto::pem::encode("CERTIFICATE REQUEST", &data)
            })
        }
        (None, true) => bail!("re-key needs --csr with the new key's request"),
        (Some(_), false) => bail!("renew keeps the key; use `ca rekey --csr` for a new key"),
        (None, false) => None,
    };
    let body = ReissueRequest {
        ca: args.serial.ca.clone(),
        csr,
        validity_days: args.days,
    };
    let action = if rekey { "rekey" } else { "renew" };
    let c: CertificateResponse = Client::authenticated(&args.serial.server)?.post_json(
        &format!("/api/v1/certificates/{}/{action}", args.serial.serial),
        &body,
    )?;
    input::write(&args.out, c.certificate_pem.as_bytes(), false)?;
    report_issued(&c, &args.out, json_out);
    Ok(Outcome::Done)
}

/// Percent-encode a query value.
pub(crate) fn q(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub(crate) fn ca_search(args: &CaSearchArgs, json_out: bool) -> Result<Outcome> {
    let mut params = Vec::new();
    for (k, v) in [
        ("subject", &args.subject),
        ("organisation", &args.organisation),
        ("serial", &args.serial),
        ("status", &args.status),
        ("ca", &args.ca),
    ] {
        if let Some(v) = v {
            params.push(format!("{k}={}", q(v)));
        }
    }
    if let Some(l) = args.limit {
        params.push(format!("limit={l}"));
    }
    let path = format!("/api/v1/certificates?{}", params.join("&"));
    let found: Vec<CertificateRecordResponse> =
        Client::authenticated(&args.server)?.get_json(&path)?;
    for r in &found {
        report_record(r, json_out);
    }
    if !json_out {
        eprintln!("{} certificates", found.len());
    }
    Ok(Outcome::Done)
}

pub(crate) fn ca_get(args: &CaGetArgs, json_out: bool) -> Result<Outcome> {
    let s = &args.serial;
    let mut path = format!(
        "/api/v1/certificates/{}?format={}",
        s.serial,
        q(&args.format)
    );
    if let Some(ca) = &s.ca {
        path.push_str(&format!("&ca={}", q(ca)));
    }
    let bytes = Client::authenticated(&s.server)?.get_bytes(&path)?;
    input::write(&args.out, &bytes, false)?;
    if json_out {
        outln!("{}", json!({"out": args.out, "bytes": bytes.len()}));
    } else {
        eprintln!("wrote {} to {}", s.serial, args.out.display());
    }
    Ok(Outcome::Done)
}

pub(crate) fn ca_crl(args: &CaCrlArgs, json_out: bool) -> Result<Outcome> {
    let client = Client::maybe_authenticated(&args.server, args.token_file.as_ref())?;
    let der = client.get_bytes(&format!("/crl/{}.crl", q(&args.ca)))?;
    input::write(&args.out, &der, false)?;
    if json_out {
        outln!(
            "{}",
            json!({"ca": args.ca, "out": args.out, "bytes": der.len()})
        );
    } else {
        eprintln!("wrote the CRL of {} to {}", args.ca, args.out.display());
    }
    Ok(Outcome::Done)
}

pub(crate) fn ca_publish_crl(args: &CaCrlArgs, json_out: bool) -> Result<Outcome> {
    let server = ServerArgs {
        server: args.server.clone(),
        token_file: args.token_file.clone(),
    };
    let r: CrlResponse = Client::authenticated(&server)?
        .post_json(&format!("/api/v1/crls/{}", q(&args.ca)), &json!({}))?;
    let der = B64
        .decode(&r.crl)
        .context("the server's CRL is not base64")?;
    input::write(&args.out, &der, false)?;
    if json_out {
        outln!(
            "{}",
            json!({"ca": r.ca, "number": r.number, "out": args.out})
        );
    } else {
        outln!(
            "published CRL {} of {} (next update {})",
            r.number,
            r.ca,
            r.next_update
        );
    }
    Ok(Outcome::Done)
}

/// Every audit record, read page by page. The API's records have the shape of
/// `yinxin_audit::AuditRecord` (its event flattened), so they decode straight into it.
fn all_records(client: &Client) -> Result<Vec<yinxin_audit::AuditRecord>> {
    let mut out: Vec<yinxin_audit::AuditRecord> = Vec::new();
    let mut from = 0u64;
    loop {
        let page: Vec<yinxin_audit::AuditRecord> =
            client.get_json(&format!("/api/v1/audit?from={from}&limit=5000"))?;
        let Some(last) = page.last() else { break };
        from = last.seq + 1;
        out.extend(page);
    }
    Ok(out)
}

pub(crate) fn audit_verify(args: &AuditArgs, json_out: bool) -> Result<Outcome> {
    let client = Client::authenticated(&args.server)?;
    let server: AuditVerifyResponse = client.get_json("/api/v1/audit/verify")?;
    let records = all_records(&client)?;
    let local = yinxin_audit::verify(&records);
    let intact = server.intact && local.is_ok() && records.first().is_none_or(|r| r.seq == 0);
    if json_out {
        outln!(
            "{}",
            json!({"intact": intact, "records": records.len(), "head_hash": server.head_hash,
                   "server_problem": server.problem, "local_problem": local.err().map(|e| e.to_string())})
        );
    } else if intact {
        outln!(
            "audit log intact: {} records, head {}",
            records.len(),
            server.head_hash.unwrap_or_default()
        );
    } else {
        outln!(
            "audit log BROKEN: server: {}; here: {}",
            server.problem.unwrap_or_else(|| "intact".into()),
            local.err().map_or("intact".into(), |e| e.to_string())
        );
    }
    Ok(if intact {
        Outcome::Valid
    } else {
        Outcome::Invalid
    })
}

pub(crate) fn audit_export(args: &AuditExportArgs, json_out: bool) -> Result<Outcome> {
    let client = Client::authenticated(&args.server)?;
    let records = all_records(&client)?;
    let verified = yinxin_audit::verify(&records);
    input::write(
        &args.out,
        yinxin_audit::export_jsonl(&records).as_bytes(),
        false,
    )?;
    if json_out {
        outln!(
            "{}",
            json!({"out": args.out, "records": records.len(), "intact": verified.is_ok()})
        );
    } else {
        eprintln!(
            "wrote {} audit records to {} ({})",
            records.len(),
            args.out.display(),
            match &verified {
                Ok(_) => "chain verified".to_string(),
                Err(e) => format!("CHAIN BROKEN: {e}"),
            }
        );
    }
    Ok(if verified.is_ok() {
        Outcome::Done
    } else {
        Outcome::Invalid
    })
}

pub(crate) fn admin_create_token(args: &AdminTokenArgs, json_out: bool) -> Result<Outcome> {
    let r: TokenResponse = Client::authenticated(&args.server)?.post_json(
        "/api/v1/tokens",
        &TokenRequest {
            name: args.name.clone(),
            role: args.role.clone(),
        },
    )?;
    match &args.out {
        Some(path) => {
            input::write(path, r.token.as_bytes(), true)?;
            if json_out {
                outln!("{}", json!({"id": r.id, "role": r.role, "out": path}));
            } else {
                eprintln!("wrote {} token {} to {}", r.role, r.id, path.display());
            }
        }
        None => {
            if json_out {
                outln!("{}", json!({"id": r.id, "role": r.role, "token": r.token}));
            } else {
                outln!("{}", r.token);
            }
        }
    }
    Ok(Outcome::Done)
}

pub(crate) fn admin_disable_token(args: &AdminDisableArgs, json_out: bool) -> Result<Outcome> {
    Client::authenticated(&args.server)?
        .post_empty(&format!("/api/v1/tokens/{}/disable", q(&args.id)))?;
    if json_out {
        outln!("{}", json!({"id": args.id, "disabled": true}));
    } else {
        outln!("disabled token {}", args.id);
    }
    Ok(Outcome::Done)
}
