//! Recovery of escrowed encryption keys under dual control: one administrator opens a
//! request, a *different* administrator approves it and names the key the escrowed key is
//! sealed to (proved by a PKCS#10 request signed with it). The key never leaves the vault
//! in clear, each request releases it once, and both steps are audited.

use yinxin_audit::{AuditAction, AuditEvent};
use yinxin_cms::key_delivery::DeliveredKey;
use yinxin_store::RecoveryRecord;
use yinxin_vault::WrappedKey;

use crate::access::{Actor, Permission};
use crate::error::{AuthorityError, Result};
use crate::{Authority, now_ms, target};

/// An open recovery request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRequest {
    /// Its identifier, to hand to the approving administrator.
    pub id: String,
    /// The encryption certificate's CA.
    pub ca: String,
    /// The encryption certificate's serial.
    pub serial: Vec<u8>,
    /// Who asked.
    pub requested_by: String,
}

/// A recovered key, sealed to the recipient's key.
#[derive(Debug, Clone)]
pub struct Recovered {
    /// The escrowed key in its envelope.
    pub delivered_key: DeliveredKey,
    /// Who asked.
    pub requested_by: String,
    /// Who approved.
    pub approved_by: String,
}

impl Authority {
    /// Open a recovery request for the escrowed key of encryption certificate `serial`.
    pub async fn request_recovery(
        &self,
        actor: &Actor,
        ca: Option<&str>,
        serial: &[u8],
    ) -> Result<RecoveryRequest> {
        actor.require(Permission::Administer)?;
        let record = self.certificate(actor, ca, serial).await?;
        let ca = record.certificate.ca;
        let id = hex::encode(yinxin_crypto::random::bytes(12).map_err(AuthorityError::internal)?);
        let recovery = RecoveryRecord {
            id: id.clone(),
            ca: ca.clone(),
            serial: serial.to_vec(),
            requested_by: actor.audit_name(),
            requested_at: now_ms(),
            approved_by: None,
            approved_at: None,
        };
        self.inner
            .store
            .request_recovery_with_audit(
                &recovery,
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other("key_recovery_requested".into()),
                    target(&ca, serial),
                )
                .with("request", id.clone()),
                now_ms(),
            )
            .await?;
        Ok(RecoveryRequest {
            id,
            ca,
            serial: serial.to_vec(),
            requested_by: actor.audit_name(),
        })
    }

    /// Approve recovery `id` as a second administrator and release the escrowed key sealed to
    /// the key of `recipient_csr` (PEM or DER PKCS#10, whose signature proves possession).
    pub async fn approve_recovery(
        &self,
        actor: &Actor,
        id: &str,
        recipient_csr: &[u8],
    ) -> Result<Recovered> {
        actor.require(Permission::Administer)?;
        let keys = self.unsealed()?;
        let recovery = self.inner.store.recovery(id).await?;
        // Checked here for a clear message; the store enforces both in the same transaction.
        if recovery.requested_by == actor.audit_name() {
            return Err(AuthorityError::Forbidden {
                role: "requesting administrator",
                action: "approve their own recovery request (a second administrator must)",
            });
        }
        // Dual control means two people, not two credentials: a token created by the requester
        // (or that created the requester's) cannot approve. Person-bound credentials (client
        // certificates) are the complete answer.
        let token_of = |audit_name: &str| audit_name.rsplit_once('#').map(|(_, id)| id.to_string());
        let approver_token = self.inner.store.api_token(&actor.token_id).await?;
        let requester_created_by = match token_of(&recovery.requested_by) {
            Some(id) => self
                .inner
                .store
                .api_token(&id)
                .await
                .map(|t| t.created_by)
                .unwrap_or_default(),
            None => String::new(),
        };
        if approver_token.created_by == recovery.requested_by
            || requester_created_by == actor.audit_name()
        {
            return Err(AuthorityError::Forbidden {
                role: "administrator related to the requester",
                action: "approve a recovery asked for by a credential it created or was created by",
            });
        }
        if recovery.approved_by.is_some() {
            return Err(AuthorityError::Conflict(format!(
                "recovery request {id} was already approved"
            )));
        }
        let recipient = crate::issuance::verify_csr_key(recipient_csr)?;
        let wrapped: WrappedKey = serde_json::from_str(
            &self
                .inner
                .store
                .escrowed_key(&recovery.ca, &recovery.serial)
                .await?,
        )
        .map_err(AuthorityError::internal)?;
        let delivered_key = keys.vault.deliver_key(&wrapped, &recipient).map_err(|e| {
            AuthorityError::bad("bad-key", format!("sealing to the recipient: {e}"))
        })?;
        self.inner
            .store
            .approve_recovery_with_audit(
                id,
                &actor.audit_name(),
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::KeyRecovered,
                    target(&recovery.ca, &recovery.serial),
                )
                .with("request", id)
                .with("requested_by", recovery.requested_by.clone())
                .with(
                    "recipient_key",
                    hex::encode(yinxin_crypto::hash::sha1(&recipient.to_der())),
                ),
                now_ms(),
            )
            .await
            .map_err(|e| match e {
                yinxin_store::StoreError::Invalid { what } => AuthorityError::Conflict(what),
                other => other.into(),
            })?;
        Ok(Recovered {
            delivered_key,
            requested_by: recovery.requested_by,
            approved_by: actor.audit_name(),
        })
    }
}
