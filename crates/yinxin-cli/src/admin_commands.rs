//! `yinxin admin form|join|members|request|approve|approvals|cancel|reject` and
//! `yinxin ca recover|approve-recovery`: the administrator list and dual control by persons.
//! Every signature is made here, by the administrator's own key (software token, USB key or
//! key file); the server only verifies.

use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;
use yinxin_server::api::*;

use crate::Outcome;
use crate::args::*;
use crate::client::Client;
use crate::cms_commands::{KeySource, open_signer};
use crate::input;
use crate::server_commands::q;

/// Sign `message` with the key `source` names, in its key's default scheme (SM2 with SM3
/// and the default ID, RSA PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256/384), as the server
/// verifies. Returns the signature and the certificate stored beside the key, if any.
fn sign_with(source: &KeySource, message: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
    let opened = open_signer(source)?;
    let scheme = opened
        .handle
        .public_key()
        .algorithm()
        .default_signature_scheme();
    let signature = opened
        .handle
        .sign(&scheme, message)
        .context("signing with your key")?;
    Ok((signature, opened.stored_certificate))
}

fn has_key(source: &KeySource) -> bool {
    source.key.is_some() || source.token.is_some() || source.pkcs11.is_some()
}

fn pem_of(path: &Path, label: &str, what: &str) -> Result<String> {
    let data = input::read_small(path, what)?;
    Ok(if yinxin_crypto::pem::is_pem(&data) {
        String::from_utf8(data).with_context(|| format!("{what} is not UTF-8 PEM"))?
    } else {
        yinxin_crypto::pem::encode(label, &data)
    })
}

pub(crate) fn form(args: &AdminFormArgs, json_out: bool) -> Result<Outcome> {
    let f: FormationResponse = Client::authenticated(&args.server)?.post_json(
        "/api/v1/admin/formation",
        &FormationRequest {
            members: args.members,
            approvals: args.approvals,
        },
    )?;
    if json_out {
        outln!("{}", json!(f));
    } else {
        outln!(
            "ceremony {} open: {} administrators, {} approvals per operation. Each \
             administrator now runs `yinxin admin join --name NAME --token T --container C` \
             (witnessed: software cannot tell {} people from one person with {} keys).",
            f.id.as_deref().unwrap_or("?"),
            f.size,
            f.approvals,
            f.size,
            f.size
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn join(args: &AdminJoinArgs, json_out: bool) -> Result<Outcome> {
    let client = Client::authenticated(&args.server)?;
    let f: FormationResponse = client.get_json("/api/v1/admin/formation")?;
    let (Some(id), Some(nonce)) = (&f.id, &f.nonce) else {
        bail!("no ceremony is open on this server (`yinxin admin form` first)");
    };
    // The certificate first: the statement names its hash.
    let opened = open_signer(&args.key)?;
    let certificate = match &args.cert {
        Some(path) => pem_of(path, "CERTIFICATE", "a certificate")?,
        None => yinxin_crypto::pem::encode(
            "CERTIFICATE",
            opened
                .stored_certificate
                .as_deref()
                .context("no certificate is stored beside the key: give it with --cert FILE")?,
        ),
    };
    drop(opened);
    let der = yinxin_pki::certificate::from_pem_or_der(certificate.as_bytes())
        .and_then(|c| yinxin_pki::certificate::to_der(&c))
        .context("the certificate does not decode")?;
    let statement = yinxin_authority::join_statement(id, nonce, args.name.trim(), &der);
    let (signature, _) = sign_with(&args.key, statement.as_bytes())?;
    let r: JoinResponse = client.post_json(
        "/api/v1/admin/formation/join",
        &JoinRequest {
            name: args.name.trim().to_string(),
            certificate,
            signature: B64.encode(signature),
        },
    )?;
    match &args.out {
        Some(path) => {
            input::write(path, r.token.as_bytes(), true)?;
            if json_out {
                outln!("{}", json!({"member": r.member, "out": path}));
            } else {
                eprintln!(
                    "registered as administrator {}; your token is in {}",
                    r.member,
                    path.display()
                );
            }
        }
        None if json_out => outln!("{}", json!({"member": r.member, "token": r.token})),
        None => outln!("{}", r.token),
    }
    Ok(Outcome::Done)
}

pub(crate) fn members(args: &ServerOnlyArgs, json_out: bool) -> Result<Outcome> {
    let f: FormationResponse =
        Client::authenticated(&args.server)?.get_json("/api/v1/admin/formation")?;
    if json_out {
        outln!("{}", json!(f));
        return Ok(Outcome::Done);
    }
    match (&f.id, f.formed) {
        (None, _) => outln!("no administrator list: `yinxin admin form` opens the ceremony"),
        (Some(id), false) => outln!(
            "ceremony {id} open: {} of {} administrators registered",
            f.members.len(),
            f.size
        ),
        (Some(_), true) => outln!(
            "administrator list formed: {} members, {} approvals per operation",
            f.size,
            f.approvals
        ),
    }
    for m in &f.members {
        outln!(
            "  {}  {}  {}{}",
            m.id,
            m.name,
            m.subject,
            if m.removed { "  (removed)" } else { "" }
        );
    }
    Ok(Outcome::Done)
}

fn print_approval(a: &ApprovalResponse, json_out: bool) {
    if json_out {
        outln!("{}", json!(a));
        return;
    }
    outln!(
        "{}  {} {}  {}  {} of {} approvals ({})  expires {}",
        a.id,
        a.operation,
        a.target,
        a.status,
        a.approved_by.len(),
        a.needed,
        a.approved_by.join(", "),
        a.expires
    );
}

/// Approve `id` with `key`; the view after it.
fn approve_as(client: &Client, id: &str, key: &KeySource) -> Result<ApprovalResponse> {
    let current: ApprovalResponse = client.get_json(&format!("/api/v1/approvals/{}", q(id)))?;
    let (signature, _) = sign_with(key, current.statement.as_bytes())?;
    client.post_json(
        &format!("/api/v1/approvals/{}/approve", q(id)),
        &ApproveBody {
            signature: B64.encode(signature),
        },
    )
}

/// Write a recovery's sealed key when the request was executed.
fn write_result(a: &ApprovalResponse, out: Option<&Path>) -> Result<()> {
    if a.status != "executed" || a.operation != "recover-key" {
        return Ok(());
    }
    let envelope = a
        .result
        .as_ref()
        .and_then(|r| r["envelope"].as_str())
        .context("the server's answer has no sealed key")?;
    let der = B64
        .decode(envelope)
        .context("the server's envelope is not base64")?;
    match out {
        Some(path) => {
            input::write(path, &der, true)?;
            eprintln!(
                "recovered key sealed as {} in {} (`yinxin token import-key` opens it)",
                a.result
                    .as_ref()
                    .and_then(|r| r["format"].as_str())
                    .unwrap_or("?"),
                path.display()
            );
        }
        None => eprintln!("the recovery was executed; fetch the sealed key with --out FILE"),
    }
    Ok(())
}

pub(crate) fn request(args: &AdminRequestArgs, json_out: bool) -> Result<Outcome> {
    let client = Client::authenticated(&args.server)?;
    let body = ApprovalRequestBody {
        operation: args.operation.clone(),
        serial: args.serial.clone(),
        ca: args.ca.clone(),
        reason: args.reason.clone(),
        csr: args
            .csr
            .as_deref()
            .map(|p| pem_of(p, "CERTIFICATE REQUEST", "a certificate request"))
            .transpose()?,
        name: args.name.clone(),
        certificate: args
            .cert
            .as_deref()
            .map(|p| pem_of(p, "CERTIFICATE", "a certificate"))
            .transpose()?,
        member: args.member.clone(),
    };
    let mut a: ApprovalResponse = client.post_json("/api/v1/approvals", &body)?;
    if has_key(&args.key) {
        a = approve_as(&client, &a.id, &args.key)?;
    }
    print_approval(&a, json_out);
    if !json_out && a.status == "open" {
        eprintln!(
            "another administrator approves with `yinxin admin approve --id {} --token …`",
            a.id
        );
    }
    Ok(Outcome::Done)
}

pub(crate) fn recover(args: &CaRecoverArgs, json_out: bool) -> Result<Outcome> {
    let request = AdminRequestArgs {
        server: ServerArgs {
            server: args.serial.server.server.clone(),
            token_file: args.serial.server.token_file.clone(),
        },
        operation: "recover-key".into(),
        serial: Some(args.serial.serial.clone()),
        ca: args.serial.ca.clone(),
        reason: None,
        csr: Some(args.csr.clone()),
        name: None,
        cert: None,
        member: None,
        key: args.key.clone(),
    };
    self::request(&request, json_out)
}

pub(crate) fn approve(args: &AdminApproveArgs, json_out: bool) -> Result<Outcome> {
    let client = Client::authenticated(&args.server)?;
    let a = approve_as(&client, &args.id, &args.key)?;
    print_approval(&a, json_out);
    write_result(&a, args.out.as_deref())?;
    Ok(Outcome::Done)
}

pub(crate) fn approvals(args: &AdminApprovalsArgs, json_out: bool) -> Result<Outcome> {
    let client = Client::authenticated(&args.server)?;
    match &args.id {
        Some(id) => {
            let a: ApprovalResponse = client.get_json(&format!("/api/v1/approvals/{}", q(id)))?;
            print_approval(&a, json_out);
            if !json_out {
                outln!("statement:\n{}", a.statement);
            }
        }
        None => {
            let all: Vec<ApprovalResponse> = client.get_json("/api/v1/approvals")?;
            if json_out {
                outln!("{}", json!(all));
            } else {
                for a in &all {
                    print_approval(a, false);
                }
            }
        }
    }
    Ok(Outcome::Done)
}

pub(crate) fn close(args: &AdminIdArgs, reject: bool, json_out: bool) -> Result<Outcome> {
    let a: ApprovalResponse = Client::authenticated(&args.server)?.post_json(
        &format!(
            "/api/v1/approvals/{}/{}",
            q(&args.id),
            if reject { "reject" } else { "cancel" }
        ),
        &json!({}),
    )?;
    print_approval(&a, json_out);
    Ok(Outcome::Done)
}
