//! Dual control by persons (GB/T 25056-style key management practice, Vault's and EJBCA's
//! approvals): the administrator list is formed once at a witnessed ceremony where each member
//! registers a certificate by signing the ceremony's nonce with its key (on their own token or
//! USB key); afterwards the operations that cannot be undone — recovering an escrowed key,
//! revoking, holding or releasing a platform certificate, adding or removing a member — are
//! approval requests that K distinct members sign, each signature over a canonical statement
//! (operation, target, hash of the parameters, request id, expiry). The last approval executes
//! the operation atomically with its audit record.
//!
//! Software cannot tell N people from one person with N keys: the ceremony is witnessed, and
//! the README says so. What software does guarantee: tokens belong to persons (an admin token
//! minted by a member belongs to that member), approvals count members, never tokens, and the
//! platform acting for itself ([`Actor::system`]) approves nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use yinxin_audit::{AuditAction, AuditEvent};
use yinxin_crypto::{HashAlgorithm, hash};
use yinxin_store::{
    ApprovalRecord, ApprovalRequestRecord, CertificateStatus, Effect, FormationRecord,
    MemberRecord, StatusChange,
};

use crate::access::{Actor, Permission, Role, new_token_for};
use crate::error::{AuthorityError, Result};
use crate::{Authority, now_ms, target};

/// How long an approval request stays open unexecuted.
pub const DEFAULT_APPROVAL_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A dual-control operation, as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Recover the escrowed key of encryption certificate `serial`, sealed to the key of
    /// `recipient_csr` (PEM or DER PKCS#10, whose signature proves possession).
    RecoverKey {
        /// The CA, if the caller knows it.
        ca: Option<String>,
        /// The encryption certificate's serial.
        serial: Vec<u8>,
        /// The request whose key receives the escrowed key.
        recipient_csr: Vec<u8>,
    },
    /// Revoke a platform certificate with RFC 5280 reason `reason`.
    RevokePlatform {
        /// The CA, if known.
        ca: Option<String>,
        /// The serial.
        serial: Vec<u8>,
        /// The reason code (not unspecified, not certificateHold).
        reason: u8,
    },
    /// Put a platform certificate on hold.
    HoldPlatform {
        /// The CA, if known.
        ca: Option<String>,
        /// The serial.
        serial: Vec<u8>,
    },
    /// Release a platform certificate from hold.
    ReleasePlatform {
        /// The CA, if known.
        ca: Option<String>,
        /// The serial.
        serial: Vec<u8>,
    },
    /// Add an administrator known by `certificate` (DER or PEM); the approvals of K current
    /// members stand for the ceremony.
    AddMember {
        /// The person's name.
        name: String,
        /// Their certificate.
        certificate: Vec<u8>,
    },
    /// Remove administrator `id` (their tokens stop working).
    RemoveMember {
        /// The member's id.
        id: String,
    },
}

impl Operation {
    fn name(&self) -> &'static str {
        match self {
            Operation::RecoverKey { .. } => "recover-key",
            Operation::RevokePlatform { .. } => "revoke-platform-certificate",
            Operation::HoldPlatform { .. } => "hold-platform-certificate",
            Operation::ReleasePlatform { .. } => "release-platform-certificate",
            Operation::AddMember { .. } => "add-administrator",
            Operation::RemoveMember { .. } => "remove-administrator",
        }
    }
}

/// An administrator as `GET /api/v1/admin/members` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// The member's id.
    pub id: String,
    /// Their name.
    pub name: String,
    /// Their certificate's subject.
    pub subject: String,
    /// Their certificate, DER.
    pub certificate: Vec<u8>,
    /// Whether they were removed.
    pub removed: bool,
}

/// The formation ceremony and the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormationView {
    /// The ceremony's id (`None`: never opened).
    pub id: Option<String>,
    /// The nonce to sign, hex, while the ceremony is open.
    pub nonce: Option<String>,
    /// Members the list has when formed.
    pub size: u8,
    /// Approvals a dual-control operation needs.
    pub approvals: u8,
    /// Whether the list is formed (every member registered).
    pub formed: bool,
    /// The members.
    pub members: Vec<MemberView>,
}

/// An approval request with its statement and approvals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalView {
    /// Its id.
    pub id: String,
    /// The operation's name.
    pub operation: String,
    /// What it acts on.
    pub target: String,
    /// The parameters (canonical JSON).
    pub parameters: String,
    /// The member who asked.
    pub requested_by: String,
    /// When it lapses, ms since the epoch.
    pub expires_at: i64,
    /// `open`, `executed`, `cancelled`, `rejected` or `expired`.
    pub status: String,
    /// The members who approved, in order.
    pub approved_by: Vec<String>,
    /// Approvals needed.
    pub needed: u8,
    /// What each approver signs.
    pub statement: String,
    /// The execution's result (JSON), once executed.
    pub result: Option<String>,
}

/// What a member signs to register at ceremony `formation_id` with `nonce`.
pub fn join_statement(formation_id: &str, nonce_hex: &str, name: &str, cert_der: &[u8]) -> String {
    format!(
        "yinxin-admin-join-v1\nformation: {formation_id}\nnonce: {nonce_hex}\nname: {name}\n\
         certificate-sha256: {}\n",
        hex::encode(hash::digest(HashAlgorithm::Sha256, cert_der))
    )
}

fn statement(r: &ApprovalRequestRecord) -> String {
    format!(
        "yinxin-approval-v1\noperation: {}\ntarget: {}\nparameters-sha256: {}\nrequest: {}\n\
         expires-ms: {}\n",
        r.operation,
        r.target,
        hex::encode(&r.parameters_hash),
        r.id,
        r.expires_at
    )
}

/// Verify `signature` over `message` by the key of `cert_der` (its default scheme: SM2 with
/// SM3 and the default ID, RSA PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256/384).
fn verify_by(cert_der: &[u8], message: &[u8], signature: &[u8]) -> Result<()> {
    let cert = yinxin_pki::certificate::from_pem_or_der(cert_der)
        .map_err(|e| AuthorityError::bad("bad-certificate", e.to_string()))?;
    let key = yinxin_pki::certificate::public_key(&cert)
        .map_err(|e| AuthorityError::bad("bad-certificate", e.to_string()))?;
    let scheme = key.algorithm().default_signature_scheme();
    key.verify(&scheme, message, signature).map_err(|_| {
        AuthorityError::bad(
            "bad-signature",
            "the signature does not verify with the registered certificate's key over the \
             statement",
        )
    })
}

/// A new member's first administrator token, bound to them.
fn member_token(member: &MemberRecord, created_by: &Actor) -> Result<crate::access::NewToken> {
    new_token_for(
        &format!("{} (administrator)", member.name),
        Role::Admin,
        &created_by.audit_name(),
        Some(member.id.clone()),
        now_ms(),
    )
}

fn parameters(pairs: &[(&str, String)]) -> (String, Vec<u8>) {
    let map: BTreeMap<&str, &String> = pairs.iter().map(|(k, v)| (*k, v)).collect();
    let json = serde_json::to_string(&map).unwrap_or_default();
    let h = hash::digest(HashAlgorithm::Sha256, json.as_bytes());
    (json, h)
}

impl Authority {
    fn member_of(&self, actor: &Actor) -> Result<String> {
        actor.require(Permission::Administer)?;
        actor.member.clone().ok_or(AuthorityError::Forbidden {
            role: "administrator token that belongs to no registered administrator",
            action: "take part in dual control (use the token `yinxin admin join` gave you)",
        })
    }

    async fn formed(&self, what: &'static str) -> Result<FormationRecord> {
        match self.inner.store.formation().await? {
            Some(f) if f.closed_at.is_some() => Ok(f),
            _ => Err(AuthorityError::NotFormed(what)),
        }
    }

    /// Whether the administrator list is formed (the first start's administrator token then
    /// no longer works, and its file can go).
    pub async fn administrators_formed(&self) -> Result<bool> {
        Ok(self
            .inner
            .store
            .formation()
            .await?
            .is_some_and(|f| f.closed_at.is_some()))
    }

    /// The ceremony and the administrator list.
    pub async fn formation(&self, actor: &Actor) -> Result<FormationView> {
        actor.require(Permission::ReadCertificates)?;
        let f = self.inner.store.formation().await?;
        let members = self
            .inner
            .store
            .members()
            .await?
            .into_iter()
            .map(|m| MemberView {
                subject: yinxin_pki::certificate::from_pem_or_der(&m.certificate_der)
                    .map(|c| c.tbs_certificate().subject().to_string())
                    .unwrap_or_default(),
                id: m.id,
                name: m.name,
                certificate: m.certificate_der,
                removed: m.removed_at.is_some(),
            })
            .collect();
        Ok(match f {
            None => FormationView {
                id: None,
                nonce: None,
                size: 0,
                approvals: 0,
                formed: false,
                members,
            },
            Some(f) => FormationView {
                nonce: f.closed_at.is_none().then(|| hex::encode(&f.nonce)),
                formed: f.closed_at.is_some(),
                id: Some(f.id),
                size: f.size,
                approvals: f.approvals,
                members,
            },
        })
    }

    /// Open the ceremony that forms the administrator list: `size` members, `approvals`
    /// of them for each dual-control operation (administrators; once per store).
    pub async fn open_formation(
        &self,
        actor: &Actor,
        size: u8,
        approvals: u8,
    ) -> Result<FormationView> {
        actor.require(Permission::Administer)?;
        if size < 2 || approvals < 2 || approvals > size {
            return Err(AuthorityError::bad(
                "bad-threshold",
                format!(
                    "an administrator list of {size} needing {approvals} approvals: dual control \
                     needs 2 <= approvals <= members"
                ),
            ));
        }
        let record = FormationRecord {
            id: hex::encode(yinxin_crypto::random::bytes(8).map_err(AuthorityError::internal)?),
            nonce: yinxin_crypto::random::bytes(32).map_err(AuthorityError::internal)?,
            size,
            approvals,
            joined: 0,
            opened_at: now_ms(),
            closed_at: None,
        };
        self.inner
            .store
            .open_formation_with_audit(
                &record,
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other("admin_formation_opened".into()),
                    &record.id,
                )
                .with("members", size.to_string())
                .with("approvals", approvals.to_string()),
                now_ms(),
            )
            .await?;
        self.formation(actor).await
    }

    /// Register an administrator at the open ceremony: `certificate` (DER or PEM) and a
    /// `signature` by its key over [`join_statement`]. Returns the member's id and their own
    /// administrator token (shown once). The registration that completes the list closes it
    /// and disables the administrator tokens that belong to nobody (the first start's).
    pub async fn join_formation(
        &self,
        actor: &Actor,
        name: &str,
        certificate: &[u8],
        signature: &[u8],
    ) -> Result<(String, zeroize::Zeroizing<String>)> {
        actor.require(Permission::Administer)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(AuthorityError::bad(
                "bad-name",
                "an administrator's name is 1 to 100 characters without control characters",
            ));
        }
        let formation = match self.inner.store.formation().await? {
            Some(f) if f.closed_at.is_none() => f,
            Some(_) => {
                return Err(AuthorityError::Conflict(
                    "the administrator list is formed; members are added by approval".into(),
                ));
            }
            None => {
                return Err(AuthorityError::Conflict(
                    "no ceremony is open: `yinxin admin form` first".into(),
                ));
            }
        };
        let member = self.checked_member(name, certificate).await?;
        let message = join_statement(
            &formation.id,
            &hex::encode(&formation.nonce),
            name,
            &member.certificate_der,
        );
        verify_by(&member.certificate_der, message.as_bytes(), signature)?;
        let token = member_token(&member, actor)?;
        let closes = formation.joined + 1 == formation.size;
        self.inner
            .store
            .join_formation_with_audit(
                &formation,
                &member,
                &token.record,
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other(
                        if closes {
                            "admin_list_formed"
                        } else {
                            "admin_registered"
                        }
                        .into(),
                    ),
                    &member.id,
                )
                .with("name", name)
                .with("key", hex::encode(&member.key_id))
                .with("joined", (formation.joined + 1).to_string())
                .with("of", formation.size.to_string()),
                now_ms(),
            )
            .await?;
        Ok((member.id, token.text))
    }

    /// A member record for `certificate`, checked: it decodes, is within its validity, and, if
    /// the platform issued it, is valid (not revoked or held).
    async fn checked_member(&self, name: &str, certificate: &[u8]) -> Result<MemberRecord> {
        let cert = yinxin_pki::certificate::from_pem_or_der(certificate)
            .map_err(|e| AuthorityError::bad("bad-certificate", e.to_string()))?;
        let der = yinxin_pki::certificate::to_der(&cert).map_err(AuthorityError::internal)?;
        let validity = cert.tbs_certificate().validity();
        let now = std::time::SystemTime::now();
        if now < validity.not_before.to_system_time() || now > validity.not_after.to_system_time() {
            return Err(AuthorityError::bad(
                "bad-certificate",
                "the certificate is not within its validity period",
            ));
        }
        let serial = cert.tbs_certificate().serial_number().as_bytes().to_vec();
        for ca in self.cas() {
            if ca.certificate.tbs_certificate().subject() == cert.tbs_certificate().issuer()
                && let Ok(record) = self.inner.store.certificate(&ca.name, &serial).await
                && record.status != CertificateStatus::Valid
            {
                return Err(AuthorityError::bad(
                    "bad-certificate",
                    format!("the certificate is {}", record.status),
                ));
            }
        }
        let key = yinxin_pki::certificate::public_key(&cert)
            .map_err(|e| AuthorityError::bad("bad-certificate", e.to_string()))?;
        Ok(MemberRecord {
            id: hex::encode(yinxin_crypto::random::bytes(8).map_err(AuthorityError::internal)?),
            name: name.to_string(),
            key_id: hash::digest(HashAlgorithm::Sha256, &key.to_der()),
            certificate_der: der,
            added_at: now_ms(),
            removed_at: None,
        })
    }

    /// Open an approval request for `operation` (a registered administrator). The requester
    /// approves it with [`Authority::approve`] like every other member.
    pub async fn request_approval(
        &self,
        actor: &Actor,
        operation: Operation,
    ) -> Result<ApprovalView> {
        actor.require(Permission::Administer)?;
        self.formed(operation.name()).await?;
        let member = self.member_of(actor)?;
        let (target_text, params) = match &operation {
            Operation::RecoverKey {
                ca,
                serial,
                recipient_csr,
            } => {
                let record = self.certificate(actor, ca.as_deref(), serial).await?;
                // Checked now, so nobody approves a request that cannot execute.
                crate::issuance::verify_csr_key(recipient_csr)?;
                self.inner
                    .store
                    .escrowed_key(&record.certificate.ca, serial)
                    .await?;
                (
                    target(&record.certificate.ca, serial),
                    parameters(&[(
                        "recipient_csr",
                        String::from_utf8_lossy(recipient_csr).into_owned(),
                    )]),
                )
            }
            Operation::RevokePlatform { ca, serial, reason } => {
                let record = self.platform_record(actor, ca.as_deref(), serial).await?;
                crate::revocation::check_platform_reason(*reason)?;
                (
                    target(&record.certificate.ca, serial),
                    parameters(&[("reason", reason.to_string())]),
                )
            }
            Operation::HoldPlatform { ca, serial } | Operation::ReleasePlatform { ca, serial } => {
                let record = self.platform_record(actor, ca.as_deref(), serial).await?;
                (target(&record.certificate.ca, serial), parameters(&[]))
            }
            Operation::AddMember { name, certificate } => {
                let m = self.checked_member(name, certificate).await?;
                (
                    format!("administrator/{}", hex::encode(&m.key_id)),
                    parameters(&[
                        ("name", name.clone()),
                        ("certificate", hex::encode(&m.certificate_der)),
                    ]),
                )
            }
            Operation::RemoveMember { id } => {
                let members = self.inner.store.members().await?;
                if !members
                    .iter()
                    .any(|m| m.id == *id && m.removed_at.is_none())
                {
                    return Err(AuthorityError::NotFound(format!("administrator {id}")));
                }
                (
                    format!("administrator/{id}"),
                    parameters(&[("id", id.clone())]),
                )
            }
        };
        let now = now_ms();
        let lifetime = i64::try_from(DEFAULT_APPROVAL_LIFETIME.as_millis()).unwrap_or(i64::MAX);
        let record = ApprovalRequestRecord {
            id: hex::encode(yinxin_crypto::random::bytes(12).map_err(AuthorityError::internal)?),
            operation: operation.name().to_string(),
            target: target_text,
            parameters: params.0,
            parameters_hash: params.1,
            requested_by: member,
            requested_at: now,
            expires_at: now.saturating_add(lifetime),
            status: "open".into(),
            result: None,
            closed_at: None,
        };
        self.inner
            .store
            .request_approval_with_audit(
                &record,
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other("approval_requested".into()),
                    &record.target,
                )
                .with("request", record.id.clone())
                .with("operation", record.operation.clone())
                .with("member", record.requested_by.clone())
                .with("parameters_sha256", hex::encode(&record.parameters_hash)),
                now,
            )
            .await?;
        self.approval(actor, &record.id).await
    }

    async fn platform_record(
        &self,
        actor: &Actor,
        ca: Option<&str>,
        serial: &[u8],
    ) -> Result<yinxin_store::CertificateRecord> {
        let record = self.certificate(actor, ca, serial).await?;
        if !record.certificate.platform {
            return Err(AuthorityError::bad(
                "not-platform",
                "this is not a platform certificate: an RA operator or administrator changes it \
                 directly",
            ));
        }
        Ok(record)
    }

    fn needed(&self, formation: &FormationRecord, operation: &str) -> u8 {
        // Recovering a key always takes two persons, whatever the list says.
        if operation == "recover-key" {
            formation.approvals.max(2)
        } else {
            formation.approvals
        }
    }

    /// The approval request `id`.
    pub async fn approval(&self, actor: &Actor, id: &str) -> Result<ApprovalView> {
        actor.require(Permission::Administer)?;
        let formation = self.formed("reading approvals").await?;
        let (r, approvals) = self.inner.store.approval_request(id).await?;
        let status = if r.status == "open" && now_ms() >= r.expires_at {
            "expired".to_string()
        } else {
            r.status.clone()
        };
        Ok(ApprovalView {
            statement: statement(&r),
            needed: self.needed(&formation, &r.operation),
            approved_by: approvals.into_iter().map(|a| a.member).collect(),
            id: r.id,
            operation: r.operation,
            target: r.target,
            parameters: r.parameters,
            requested_by: r.requested_by,
            expires_at: r.expires_at,
            status,
            result: r.result,
        })
    }

    /// Recent approval requests, newest first.
    pub async fn approvals(&self, actor: &Actor) -> Result<Vec<ApprovalView>> {
        actor.require(Permission::Administer)?;
        let mut out = Vec::new();
        for r in self.inner.store.approval_requests(100).await? {
            out.push(self.approval(actor, &r.id).await?);
        }
        Ok(out)
    }

    /// Approve request `id` with `signature`, the member's signature over its statement by
    /// their registered key. The approval that completes the quorum executes the operation,
    /// atomically with its audit record, and the view returned carries its result.
    pub async fn approve(&self, actor: &Actor, id: &str, signature: &[u8]) -> Result<ApprovalView> {
        actor.require(Permission::Administer)?;
        let formation = self.formed("approving").await?;
        let member_id = self.member_of(actor)?;
        let (request, approvals) = self.inner.store.approval_request(id).await?;
        let members = self.inner.store.members().await?;
        let member = members
            .iter()
            .find(|m| m.id == member_id && m.removed_at.is_none())
            .ok_or(AuthorityError::Forbidden {
                role: "removed administrator",
                action: "approve",
            })?;
        if request.status != "open" || now_ms() >= request.expires_at {
            return Err(AuthorityError::Conflict(format!(
                "approval request {id} is not open"
            )));
        }
        if approvals.iter().any(|a| a.member == member_id) {
            return Err(AuthorityError::Conflict(
                "you have approved this request already; another administrator must".into(),
            ));
        }
        verify_by(
            &member.certificate_der,
            statement(&request).as_bytes(),
            signature,
        )?;
        let approval = ApprovalRecord {
            request_id: id.to_string(),
            member: member_id.clone(),
            signature: signature.to_vec(),
            approved_at: now_ms(),
        };
        let distinct = approvals.len() + 1;
        let quorum = distinct >= usize::from(self.needed(&formation, &request.operation));
        let mut event = AuditEvent::new(
            actor.audit_name(),
            AuditAction::Other("approval_given".into()),
            &request.target,
        )
        .with("request", id)
        .with("operation", request.operation.clone())
        .with("member", member_id.clone())
        .with("approvals", distinct.to_string());
        if !quorum {
            self.inner
                .store
                .approve_with_audit(&approval, None, event, now_ms())
                .await
                .map_err(conflict_or)?;
            return self.approval(actor, id).await;
        }
        let (effect, result, action) = self.execution(actor, &request).await?;
        event.action = AuditAction::Other(action.into());
        event = event.with("executed", "true");
        self.inner
            .store
            .approve_with_audit(&approval, Some((&effect, &result)), event, now_ms())
            .await
            .map_err(conflict_or)?;
        self.after_execution(&effect).await?;
        self.approval(actor, id).await
    }

    /// What executing `request` writes and returns.
    async fn execution(
        &self,
        actor: &Actor,
        request: &ApprovalRequestRecord,
    ) -> Result<(Effect, String, &'static str)> {
        let params: BTreeMap<String, String> =
            serde_json::from_str(&request.parameters).map_err(AuthorityError::internal)?;
        let param = |k: &str| {
            params
                .get(k)
                .cloned()
                .ok_or_else(|| AuthorityError::internal(format!("approval parameter {k}")))
        };
        let (ca, serial) = request
            .target
            .rsplit_once('/')
            .map(|(ca, s)| (ca.to_string(), hex::decode(s).unwrap_or_default()))
            .unwrap_or_default();
        let status = |change| Effect::Status {
            ca: ca.clone(),
            serial: serial.clone(),
            change,
        };
        Ok(match request.operation.as_str() {
            "recover-key" => {
                let keys = self.unsealed()?;
                let recipient =
                    crate::issuance::verify_csr_key(param("recipient_csr")?.as_bytes())?;
                let wrapped: yinxin_vault::WrappedKey =
                    serde_json::from_str(&self.inner.store.escrowed_key(&ca, &serial).await?)
                        .map_err(AuthorityError::internal)?;
                let delivered = keys.vault.deliver_key(&wrapped, &recipient).map_err(|e| {
                    AuthorityError::bad("bad-key", format!("sealing to the recipient: {e}"))
                })?;
                let result = serde_json::json!({
                    "format": delivered.format.name(),
                    "envelope": base64_of(&delivered.der),
                    "recipient_key_sha1": hex::encode(hash::sha1(&recipient.to_der())),
                })
                .to_string();
                (Effect::None, result, "key_recovered")
            }
            "revoke-platform-certificate" => {
                self.unsealed()?;
                let reason: u8 = param("reason")?.parse().map_err(AuthorityError::internal)?;
                (
                    status(StatusChange::Revoke {
                        reason,
                        time_ms: now_ms(),
                    }),
                    "{}".into(),
                    "certificate_revoked",
                )
            }
            "hold-platform-certificate" => {
                self.unsealed()?;
                (
                    status(StatusChange::Hold { time_ms: now_ms() }),
                    "{}".into(),
                    "certificate_held",
                )
            }
            "release-platform-certificate" => {
                self.unsealed()?;
                (
                    status(StatusChange::Release),
                    "{}".into(),
                    "certificate_released",
                )
            }
            "add-administrator" => {
                let cert = hex::decode(param("certificate")?).map_err(AuthorityError::internal)?;
                let name = param("name")?;
                let member = self.checked_member(&name, &cert).await?;
                let token = member_token(&member, actor)?;
                let result = serde_json::json!({
                    "member": member.id,
                    "token": token.text.as_str(),
                })
                .to_string();
                (
                    Effect::AddMember(Box::new((member, token.record))),
                    result,
                    "admin_added",
                )
            }
            "remove-administrator" => (
                Effect::RemoveMember { id: param("id")? },
                "{}".into(),
                "admin_removed",
            ),
            other => {
                return Err(AuthorityError::internal(format!(
                    "unknown approval operation {other}"
                )));
            }
        })
    }

    async fn after_execution(&self, effect: &Effect) -> Result<()> {
        if let Effect::Status { ca, serial, .. } = effect {
            self.inner.ocsp_cache.invalidate(ca, serial);
            self.refresh_platform().await?;
            self.republish_crl(ca).await;
        }
        Ok(())
    }

    /// Cancel (the requester) or reject (any other member) open request `id`.
    pub async fn close_approval(
        &self,
        actor: &Actor,
        id: &str,
        reject: bool,
    ) -> Result<ApprovalView> {
        let member = self.member_of(actor)?;
        self.formed("closing approvals").await?;
        let (request, _) = self.inner.store.approval_request(id).await?;
        if !reject && request.requested_by != member {
            return Err(AuthorityError::Forbidden {
                role: "administrator who did not ask",
                action: "cancel this request (reject it instead)",
            });
        }
        let status = if reject { "rejected" } else { "cancelled" };
        self.inner
            .store
            .close_approval_request_with_audit(
                id,
                status,
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other(format!("approval_{status}")),
                    &request.target,
                )
                .with("request", id)
                .with("member", member),
                now_ms(),
            )
            .await
            .map_err(conflict_or)?;
        self.approval(actor, id).await
    }
}

fn conflict_or(e: yinxin_store::StoreError) -> AuthorityError {
    match e {
        yinxin_store::StoreError::Invalid { what } => AuthorityError::Conflict(what),
        other => other.into(),
    }
}

fn base64_of(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::test_support::{actor, form_list, trial};

    /// Finding 2 of the probe: any admin token minted admin tokens, and approvals compared
    /// tokens. Now they count registered persons, and the list itself changes by approval.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn approvals_count_persons_and_the_list_changes_by_approval() {
        let dir = tempfile::tempdir().unwrap();
        let (a, init) = trial(&dir).await;
        let first = a.authenticate(&init.admin_token).await.unwrap();
        // Before formation, minted tokens belong to nobody and approve nothing.
        let a2 = a.create_token(&first, "a2", Role::Admin).await.unwrap();
        let a2 = a.authenticate(&a2).await.unwrap();
        assert_eq!(a2.member, None);
        let members = form_list(&a, 3).await;
        // The first start's token and its offspring stopped working at formation.
        for t in [init.admin_token.as_str()] {
            assert!(a.authenticate(t).await.is_err());
        }
        // A member's minted admin token is the same person.
        let again = a
            .create_token(&members[0].actor, "laptop", Role::Admin)
            .await
            .unwrap();
        let again = a.authenticate(&again).await.unwrap();
        assert_eq!(again.member, members[0].actor.member);
        let ra = a
            .create_token(&members[0].actor, "desk", Role::RaOperator)
            .await
            .unwrap();
        assert_eq!(a.authenticate(&ra).await.unwrap().member, None);
        // Nobody shuts another member out by disabling their token; one's own other tokens,
        // and operators' tokens, may be disabled.
        let e = a
            .disable_token(&members[0].actor, &members[1].actor.token_id)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "needs-approval", "{e}");
        a.disable_token(&members[0].actor, &again.token_id)
            .await
            .unwrap();
        let ra_id = a.authenticate(&ra).await.unwrap().token_id;
        a.disable_token(&members[1].actor, &ra_id).await.unwrap();
        // Remove member 1: requested by 0, approved by 0 and 2.
        let removed = members[1].actor.member.clone().unwrap();
        let v = a
            .request_approval(
                &members[0].actor,
                Operation::RemoveMember {
                    id: removed.clone(),
                },
            )
            .await
            .unwrap();
        members[0].approve(&a, &v.id).await.unwrap();
        // The same person through another token and the same key: refused.
        let e = a
            .approve(&again, &v.id, b"not even a signature")
            .await
            .unwrap_err();
        assert!(matches!(e, AuthorityError::Conflict(_)), "{e}");
        // A signature by the wrong key: refused.
        let view = a.approval(&members[2].actor, &v.id).await.unwrap();
        let scheme = yinxin_crypto::Signer::public_key(&members[0].key)
            .algorithm()
            .default_signature_scheme();
        let wrong =
            yinxin_crypto::Signer::sign(&members[0].key, &scheme, view.statement.as_bytes())
                .unwrap();
        let e = a
            .approve(&members[2].actor, &v.id, &wrong)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "bad-signature");
        let done = members[2].approve(&a, &v.id).await.unwrap();
        assert_eq!(done.status, "executed");
        let f = a.formation(&members[0].actor).await.unwrap();
        assert!(f.members.iter().any(|m| m.id == removed && m.removed));
        // The removed member's tokens are disabled.
        assert!(a.authenticate(&members[1].token).await.is_err());
        // A new administrator by approval: the result carries their first token.
        let issued = a
            .issue(
                &actor(Role::RaOperator),
                &crate::test_support::enrol(
                    yinxin_crypto::KeySpec::Sm2,
                    "CN=Newcomer,O=yinxin Operations,C=CN",
                ),
            )
            .await
            .unwrap();
        let v = a
            .request_approval(
                &members[2].actor,
                Operation::AddMember {
                    name: "newcomer".into(),
                    certificate: issued.der.clone(),
                },
            )
            .await
            .unwrap();
        members[2].approve(&a, &v.id).await.unwrap();
        let done = members[0].approve(&a, &v.id).await.unwrap();
        assert_eq!(done.status, "executed");
        let result: serde_json::Value =
            serde_json::from_str(done.result.as_deref().unwrap()).unwrap();
        let newcomer = a
            .authenticate(result["token"].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(newcomer.member.as_deref(), result["member"].as_str());
        // The same key cannot be registered twice: the executing approval is refused and
        // nothing changes.
        let v = a
            .request_approval(
                &members[2].actor,
                Operation::AddMember {
                    name: "again".into(),
                    certificate: issued.der,
                },
            )
            .await
            .unwrap();
        members[2].approve(&a, &v.id).await.unwrap();
        let e = members[0].approve(&a, &v.id).await.unwrap_err();
        assert!(matches!(e, AuthorityError::Conflict(_)), "{e}");
        assert_eq!(
            a.approval(&members[0].actor, &v.id).await.unwrap().status,
            "open"
        );
        // Cancel is the requester's; reject anyone's; neither executes.
        let v = a
            .request_approval(
                &members[0].actor,
                Operation::RemoveMember {
                    id: members[2].actor.member.clone().unwrap(),
                },
            )
            .await
            .unwrap();
        let e = a
            .close_approval(&members[2].actor, &v.id, false)
            .await
            .unwrap_err();
        assert!(matches!(e, AuthorityError::Forbidden { .. }), "{e}");
        let rejected = a
            .close_approval(&members[2].actor, &v.id, true)
            .await
            .unwrap();
        assert_eq!(rejected.status, "rejected");
        let e = members[2].approve(&a, &v.id).await.unwrap_err();
        assert!(matches!(e, AuthorityError::Conflict(_)), "{e}");
        // The platform acting for itself approves nothing.
        let e = a.approve(&Actor::system(), &v.id, b"x").await.unwrap_err();
        assert!(matches!(e, AuthorityError::Forbidden { .. }), "{e}");
        // Only administrators read approvals.
        assert!(a.approvals(&actor(Role::Auditor)).await.is_err());
    }
}
