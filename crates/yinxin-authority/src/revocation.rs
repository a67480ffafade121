//! Revocation, hold and release; CRL publication; following other nodes' changes; search
//! and download.

use std::time::SystemTime;

use x509_cert::ext::pkix::CrlReason;
use yinxin_audit::{AuditAction, AuditEvent};
use yinxin_pki::crl::RevokedEntry;
use yinxin_store::{CertificateQuery, CertificateRecord, CrlRecord, StatusChange};

use crate::access::{Actor, Permission};
use crate::error::{AuthorityError, Result};
use crate::{Authority, ms, now_ms, target, time_of};

/// An RFC 5280 reason code as the `CRLReason` enum.
pub(crate) fn crl_reason(code: u8) -> Option<CrlReason> {
    Some(match code {
        0 => CrlReason::Unspecified,
        1 => CrlReason::KeyCompromise,
        2 => CrlReason::CaCompromise,
        3 => CrlReason::AffiliationChanged,
        4 => CrlReason::Superseded,
        5 => CrlReason::CessationOfOperation,
        6 => CrlReason::CertificateHold,
        8 => CrlReason::RemoveFromCRL,
        9 => CrlReason::PrivilegeWithdrawn,
        10 => CrlReason::AaCompromise,
        _ => return None,
    })
}

/// A reason's name (as `openssl` spells them) to its code.
pub fn reason_code(name: &str) -> Result<u8> {
    let n = name.to_ascii_lowercase().replace(['-', '_'], "");
    Ok(match n.as_str() {
        "unspecified" => 0,
        "keycompromise" => 1,
        "cacompromise" => 2,
        "affiliationchanged" => 3,
        "superseded" => 4,
        "cessationofoperation" => 5,
        "privilegewithdrawn" => 9,
        "aacompromise" => 10,
        "certificatehold" => {
            return Err(AuthorityError::bad(
                "bad-reason",
                "certificateHold is not a revocation: put the certificate on hold instead",
            ));
        }
        _ => {
            return Err(AuthorityError::bad(
                "bad-reason",
                format!(
                    "unknown revocation reason {name:?}; one of unspecified, keyCompromise, \
                     cACompromise, affiliationChanged, superseded, cessationOfOperation, \
                     privilegeWithdrawn, aACompromise"
                ),
            ));
        }
    })
}

/// A platform certificate is revoked with a stated reason (not unspecified, not hold).
pub(crate) fn check_platform_reason(reason: u8) -> Result<()> {
    if reason == 0 || reason == 6 || crl_reason(reason).is_none() {
        return Err(AuthorityError::bad(
            "bad-reason",
            "revoking a platform certificate needs a reason other than unspecified",
        ));
    }
    Ok(())
}

fn parse_target(t: &str) -> Option<(String, Vec<u8>)> {
    let (ca, serial) = t.rsplit_once('/')?;
    Some((ca.to_string(), hex::decode(serial).ok()?))
}

impl Authority {
    /// Find the CA of `serial` when the caller did not say.
    async fn locate(&self, ca: Option<&str>, serial: &[u8]) -> Result<String> {
        if let Some(ca) = ca {
            self.ca(ca)?;
            return Ok(ca.to_string());
        }
        let found = self
            .inner
            .store
            .search(&CertificateQuery {
                serial: Some(serial.to_vec()),
                limit: Some(2),
                ..CertificateQuery::default()
            })
            .await?;
        match found.as_slice() {
            [one] => Ok(one.certificate.ca.clone()),
            [] => Err(AuthorityError::NotFound(format!(
                "certificate with serial {}",
                hex::encode(serial)
            ))),
            _ => Err(AuthorityError::bad(
                "ambiguous-serial",
                "several CAs issued this serial; name the CA",
            )),
        }
    }

    /// Revoke, hold or release certificate `serial` (of `ca`, found by serial if `None`).
    /// The change and its audit record are one transaction; the CA's CRL is then republished
    /// and cached OCSP responses for the certificate are dropped.
    pub async fn change_status(
        &self,
        actor: &Actor,
        ca: Option<&str>,
        serial: &[u8],
        change: StatusChange,
    ) -> Result<CertificateRecord> {
        actor.require(Permission::ChangeCertificates)?;
        // Refuse while sealed: a revocation that cannot reach the CRL must not look done.
        self.unsealed()?;
        let ca = self.locate(ca, serial).await?;
        let platform = self.platform().is_platform(&ca, serial)
            || self
                .inner
                .store
                .certificate(&ca, serial)
                .await?
                .certificate
                .platform;
        if platform {
            // The platform's own certificates (CAs, OCSP signers, service identities) are
            // withdrawn by administrators under dual control (governance.rs); an RA manages
            // end-entity certificates only.
            if actor.require(Permission::Administer).is_err() {
                return Err(AuthorityError::Forbidden {
                    role: actor.role.as_str(),
                    action: "revoke, hold or release a platform certificate (CA, OCSP signer, \
                             TSA, envelope or signing identity)",
                });
            }
            return Err(AuthorityError::NeedsApproval(
                "changing the status of a platform certificate",
            ));
        }
        let (action, reason) = match change {
            StatusChange::Revoke { reason, .. } => (AuditAction::CertificateRevoked, Some(reason)),
            StatusChange::Hold { .. } => (AuditAction::Other("certificate_held".into()), Some(6)),
            StatusChange::Release => (AuditAction::Other("certificate_released".into()), None),
        };
        if let Some(r) = reason
            && crl_reason(r).is_none()
        {
            return Err(AuthorityError::bad(
                "bad-reason",
                format!("reason code {r}"),
            ));
        }
        let mut event = AuditEvent::new(actor.audit_name(), action, target(&ca, serial));
        if let Some(r) = reason {
            event = event.with("reason", r.to_string());
        }
        self.inner
            .store
            .change_status_with_audit(&ca, serial, change, event, now_ms())
            .await?;
        self.inner.ocsp_cache.invalidate(&ca, serial);
        self.republish_crl(&ca).await;
        Ok(self.inner.store.certificate(&ca, serial).await?)
    }

    /// Publish `ca`'s CRL after a status change; on failure the change stands and the
    /// background task retries until the CRL shows it.
    pub(crate) async fn republish_crl(&self, ca: &str) {
        if let Err(e) = self.publish_crl_as(&Actor::system(), ca).await {
            tracing::error!("republishing the CRL of {ca} after a status change: {e}");
            self.inner
                .crl_dirty
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(ca.to_string());
        }
    }

    /// Sign and publish a new CRL of `ca` now (administrators).
    pub async fn publish_crl(&self, actor: &Actor, ca: &str) -> Result<CrlRecord> {
        actor.require(Permission::Administer)?;
        self.publish_crl_as(actor, ca).await
    }

    async fn publish_crl_as(&self, actor: &Actor, ca_name: &str) -> Result<CrlRecord> {
        let keys = self.unsealed()?;
        let ca = keys.ca(ca_name)?;
        let store = &self.inner.store;
        let number = store.crl_number_next(ca_name).await?;
        let revoked: Vec<RevokedEntry> = store
            .revoked(ca_name)
            .await?
            .into_iter()
            .map(|r| RevokedEntry {
                serial: r.serial,
                revocation_time: time_of(r.revoked_at),
                reason: crl_reason(r.reason),
            })
            .collect();
        let now = SystemTime::now();
        let next = now + self.inner.config.crl_validity;
        let number_bytes = number.to_be_bytes();
        let skip = number_bytes.iter().take_while(|b| **b == 0).count().min(7);
        let crl = yinxin_pki::crl::build_crl(
            &ca.info.certificate,
            ca.signer.as_ref(),
            &ca.scheme,
            now,
            next,
            &number_bytes[skip..],
            &revoked,
        )
        .map_err(|e| AuthorityError::internal(format!("CRL of {ca_name}: {e}")))?;
        let der = der::Encode::to_der(&crl).map_err(AuthorityError::internal)?;
        let record = CrlRecord {
            ca: ca_name.to_string(),
            number,
            this_update: ms(now),
            next_update: ms(next),
            der,
        };
        if !store.put_crl(&record).await? {
            // Another node published a newer CRL meanwhile; it stands.
            return Ok(store.crl(ca_name).await?);
        }
        store
            .append_audit(
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other("crl_published".into()),
                    ca_name,
                )
                .with("number", number.to_string())
                .with("entries", revoked.len().to_string()),
                now_ms(),
            )
            .await?;
        Ok(record)
    }

    /// The newest CRL of `ca`, DER. Anyone may fetch it.
    pub async fn crl(&self, ca: &str) -> Result<Vec<u8>> {
        self.ca(ca)?;
        match self.inner.store.crl(ca).await {
            Ok(r) => Ok(r.der),
            Err(yinxin_store::StoreError::NotFound { .. }) => {
                Ok(self.publish_crl_as(&Actor::system(), ca).await?.der)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Regenerate every CRL that is missing or older than the configured interval. Does
    /// nothing while sealed.
    pub async fn publish_due_crls(&self) -> Result<()> {
        if self.unsealed().is_err() {
            return Ok(());
        }
        let interval = ms(time_of(0) + self.inner.config.crl_interval);
        let dirty: std::collections::HashSet<String> = std::mem::take(
            &mut *self
                .inner
                .crl_dirty
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let mut first_error = None;
        for name in self.inner.cas.keys() {
            let due = dirty.contains(name)
                || match self.inner.store.crl(name).await {
                    Ok(r) => now_ms() >= r.this_update.saturating_add(interval),
                    Err(yinxin_store::StoreError::NotFound { .. }) => true,
                    Err(e) => return Err(e.into()),
                };
            if due && let Err(e) = self.publish_crl_as(&Actor::system(), name).await {
                // Keep it marked so the next tick tries again.
                self.inner
                    .crl_dirty
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(name.clone());
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Read audit records after `seen` and drop cached OCSP responses of certificates whose
    /// status another node changed. Returns the new high-water mark.
    pub(crate) async fn follow_changes(&self, seen: u64) -> Result<u64> {
        let head = self.inner.store.audit_head().await?;
        let mut from = seen + 1;
        while from <= head {
            let batch = self.inner.store.audit_range(from, 1000).await?;
            let Some(last) = batch.last() else { break };
            from = last.seq + 1;
            let mut platform_changed = false;
            for record in &batch {
                let action = record.event.action.as_str();
                // Approvals that executed a status change are audited under the change's name.
                let changes_status = matches!(
                    action,
                    "certificate_revoked" | "certificate_held" | "certificate_released"
                );
                if changes_status && let Some((ca, serial)) = parse_target(&record.event.target) {
                    self.inner.ocsp_cache.invalidate(&ca, &serial);
                    platform_changed |= self.platform().is_platform(&ca, &serial);
                }
                platform_changed |= matches!(
                    action,
                    "service_identity_created" | "service_identity_replaced"
                );
            }
            if platform_changed {
                self.refresh_platform().await?;
            }
        }
        Ok(head.max(seen))
    }

    /// Certificates matching `query`.
    pub async fn search(
        &self,
        actor: &Actor,
        query: &CertificateQuery,
    ) -> Result<Vec<CertificateRecord>> {
        actor.require(Permission::ReadCertificates)?;
        Ok(self.inner.store.search(query).await?)
    }

    /// One certificate by serial (and CA, if given).
    pub async fn certificate(
        &self,
        actor: &Actor,
        ca: Option<&str>,
        serial: &[u8],
    ) -> Result<CertificateRecord> {
        actor.require(Permission::ReadCertificates)?;
        let ca = self.locate(ca, serial).await?;
        Ok(self.inner.store.certificate(&ca, serial).await?)
    }
}
