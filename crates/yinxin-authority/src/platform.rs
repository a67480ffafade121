//! The platform's own certificates: its issuing CAs, OCSP signers and service identities
//! (TSA, envelope, signing; later its TLS certificate). The store flags them when the platform
//! issues them ([`yinxin_store::NewCertificate::platform`]); this module keeps their statuses
//! in memory so every signing path can refuse a withdrawn one without a database read, and
//! reserves their subjects so nobody obtains a certificate that names the platform.
//!
//! A status change of a platform certificate (on this node, or seen on another through the
//! audit log within about a second) reloads these statuses and rebuilds the unsealed snapshot
//! ([`crate::keys::assemble`]): a revoked or held CA issues nothing (`ca-revoked`), a revoked
//! or held OCSP signer gives way to its CA's own key and its cached answers are dropped, a
//! revoked or held TSA, envelope or signing identity is left out (the TSA answers
//! `systemFailure`) until `replace_service` or the next unseal makes a new one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use x509_cert::Certificate;
use x509_cert::name::Name;
use yinxin_audit::{AuditAction, AuditEvent};
use yinxin_store::{CertificateRecord, CertificateStatus, Store};

use crate::access::{Actor, Permission};
use crate::error::{AuthorityError, Result};
use crate::keys::CaInfo;
use crate::{Authority, VaultState, now_ms};

/// The statuses and subjects of every platform certificate, as last read from the store.
#[derive(Debug, Default)]
pub(crate) struct PlatformCertificates {
    /// Every platform certificate by (issuing CA, serial).
    records: HashMap<(String, Vec<u8>), CertificateRecord>,
    /// Canonical subjects of every platform certificate, current or past, and of every CA.
    reserved: HashSet<String>,
}

/// A platform certificate that is revoked or on hold, for `status` and operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformAlert {
    /// The issuing CA's name.
    pub ca: String,
    /// The certificate's serial, hex.
    pub serial: String,
    /// Its subject.
    pub subject: String,
    /// Its profile (`issuing-ca`, `ocsp-signer`, `timestamping`, `organisation`).
    pub profile: String,
    /// `revoked` or `on_hold`.
    pub status: String,
    /// Whether something still to be done restores the service: a withdrawn service
    /// identity or OCSP signer is replaced by `yinxin admin replace-service` or the next
    /// unseal; nothing replaces a withdrawn CA yet.
    pub replaced: bool,
}

impl PlatformCertificates {
    /// Read every platform certificate from the store.
    pub(crate) async fn load(store: &Store, cas: &BTreeMap<String, CaInfo>) -> Result<Self> {
        let mut records = HashMap::new();
        let mut reserved = HashSet::new();
        for ca in cas.values() {
            reserved.insert(canonical_subject(
                ca.certificate.tbs_certificate().subject(),
            ));
        }
        for record in store.platform_certificates().await? {
            if let Ok(cert) = yinxin_pki::certificate::from_pem_or_der(&record.certificate.der) {
                reserved.insert(canonical_subject(cert.tbs_certificate().subject()));
            }
            records.insert(
                (
                    record.certificate.ca.clone(),
                    record.certificate.serial.clone(),
                ),
                record,
            );
        }
        Ok(PlatformCertificates { records, reserved })
    }

    fn status(&self, ca: &str, serial: &[u8]) -> Option<CertificateStatus> {
        self.records
            .get(&(ca.to_string(), serial.to_vec()))
            .map(|r| r.status)
            .filter(|s| *s != CertificateStatus::Valid)
    }

    /// The status of `cert` (issued by CA `ca`) if it is a platform certificate that is
    /// revoked or on hold.
    pub(crate) fn withdrawn(&self, ca: &str, cert: &Certificate) -> Option<CertificateStatus> {
        self.status(ca, cert.tbs_certificate().serial_number().as_bytes())
    }

    /// The status of CA `info`'s own certificate, if revoked or on hold (roots: never).
    pub(crate) fn ca_withdrawn(&self, info: &CaInfo) -> Option<CertificateStatus> {
        let parent = info.parent.as_deref()?;
        self.withdrawn(parent, &info.certificate)
    }

    /// Whether certificate `serial` of `ca` is one of the platform's.
    pub(crate) fn is_platform(&self, ca: &str, serial: &[u8]) -> bool {
        self.records
            .contains_key(&(ca.to_string(), serial.to_vec()))
    }

    /// Whether `subject` names the platform (a CA or any platform certificate, current or
    /// past), after canonicalisation.
    pub(crate) fn is_reserved(&self, subject: &Name) -> bool {
        self.reserved.contains(&canonical_subject(subject))
    }

    fn alerts(&self, current: &HashSet<Vec<u8>>) -> Vec<PlatformAlert> {
        let mut alerts: Vec<PlatformAlert> = self
            .records
            .values()
            .filter(|r| r.status != CertificateStatus::Valid)
            // A superseded identity that lost a first-start race, or one already replaced,
            // is history, not an alert.
            .filter(|r| {
                r.certificate.profile == "issuing-ca" || current.contains(&r.certificate.der)
            })
            .map(|r| PlatformAlert {
                ca: r.certificate.ca.clone(),
                serial: hex::encode(&r.certificate.serial),
                subject: r.certificate.subject.clone(),
                profile: r.certificate.profile.clone(),
                status: r.status.to_string(),
                replaced: r.certificate.profile != "issuing-ca",
            })
            .collect();
        alerts.sort_by(|a, b| (&a.ca, &a.serial).cmp(&(&b.ca, &b.serial)));
        alerts
    }
}

/// A subject name in a form where spellings that mean the same name compare equal: each
/// attribute as `oid=value`, the value trimmed, inner white space collapsed and letters
/// case-folded (RFC 4518's matching rules, simplified), attributes sorted within an RDN.
pub(crate) fn canonical_subject(name: &Name) -> String {
    name.iter_rdn()
        .map(|rdn| {
            let mut parts: Vec<String> = rdn
                .iter()
                .map(|atv| {
                    let value = attribute_text(&atv.value)
                        .unwrap_or_else(|| format!("#{}", hex::encode(atv.value.value())));
                    let folded: Vec<String> =
                        value.split_whitespace().map(str::to_lowercase).collect();
                    format!("{}={}", atv.oid, folded.join(" "))
                })
                .collect();
            parts.sort();
            parts.join("+")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The text of a directory string (UTF8String, PrintableString, IA5String, BMPString,
/// TeletexString read as Latin-1), whichever spelling the requester chose.
fn attribute_text(value: &der::Any) -> Option<String> {
    use der::{Tag, Tagged as _};
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            std::str::from_utf8(bytes).ok().map(str::to_string)
        }
        Tag::TeletexString => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

impl Authority {
    /// The platform certificates as last read.
    pub(crate) fn platform(&self) -> Arc<PlatformCertificates> {
        self.inner
            .platform
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Read the platform certificates' statuses again and, while unsealed, rebuild what signs
    /// so that a withdrawn certificate signs nothing more. Cached OCSP answers are dropped:
    /// some were signed by a responder that may now be withdrawn.
    pub(crate) async fn refresh_platform(&self) -> Result<()> {
        let _one_at_a_time = self.inner.unseal_lock.lock().await;
        let platform = PlatformCertificates::load(&self.inner.store, &self.inner.cas).await?;
        if let Ok(current) = self.unsealed() {
            let rebuilt = crate::keys::assemble(
                &self.inner.store,
                &self.inner.config,
                current.vault.clone(),
                &current.cas,
                &platform,
            )
            .await?;
            let mut state = self.write_state();
            if matches!(&*state, VaultState::Unsealed(_)) {
                *state = VaultState::Unsealed(Arc::new(rebuilt));
            }
        }
        *self
            .inner
            .platform
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(platform);
        self.inner.ocsp_cache.clear();
        Ok(())
    }

    /// Platform certificates that are revoked or on hold and still in use or unreplaced: what
    /// `status` reports.
    pub async fn platform_alerts(&self) -> Result<Vec<PlatformAlert>> {
        let current: HashSet<Vec<u8>> = self
            .inner
            .store
            .service_keys()
            .await?
            .into_iter()
            .map(|r| r.certificate_der)
            .collect();
        Ok(self.platform().alerts(&current))
    }

    /// Refuse a subject that names the platform, for every role.
    pub(crate) fn refuse_reserved(&self, subject: &Name) -> Result<()> {
        if self.platform().is_reserved(subject) {
            return Err(AuthorityError::bad(
                "reserved-subject",
                format!(
                    "the subject \"{subject}\" is the platform's own (a CA or a platform \
                     certificate); no certificate is issued into it"
                ),
            ));
        }
        Ok(())
    }

    /// Make a new key and certificate for service identity `name` (`tsa-sm2`, `tsa-rsa`,
    /// `tsa-ecdsa`, `envelope-sm2`, `envelope-rsa`, `signing-sm2`, `signing-rsa`,
    /// `sm2-issuing/ocsp`, `rsa-issuing/ocsp`) whose certificate was revoked or put on hold
    /// (administrators; audited as `service_identity_replaced`). Returns the new
    /// certificate's `ca/serial`.
    pub async fn replace_service(&self, actor: &Actor, name: &str) -> Result<String> {
        actor.require(Permission::Administer)?;
        let identity = crate::setup::Identity::named(name).ok_or_else(|| {
            AuthorityError::bad(
                "bad-service",
                format!(
                    "unknown service identity {name:?}; one of {}",
                    crate::setup::Identity::all()
                        .iter()
                        .map(|i| i.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let keys = self.unsealed()?;
        let ca = keys.ca(&identity.ca)?;
        if let Some(status) = ca.withdrawn {
            return Err(AuthorityError::CaRevoked {
                ca: identity.ca.clone(),
                status: status.as_str(),
            });
        }
        let old = self
            .inner
            .store
            .service_keys()
            .await?
            .into_iter()
            .find(|r| r.name == identity.name)
            .ok_or_else(|| AuthorityError::NotFound(format!("service identity {name}")))?;
        let cert = yinxin_pki::certificate::from_pem_or_der(&old.certificate_der)
            .map_err(AuthorityError::internal)?;
        let serial = cert.tbs_certificate().serial_number().as_bytes().to_vec();
        let record = self.inner.store.certificate(&old.ca, &serial).await?;
        if record.status == CertificateStatus::Valid {
            return Err(AuthorityError::Conflict(format!(
                "the certificate of {name} ({}) is valid; a service identity is replaced \
                 after its certificate was revoked or put on hold",
                crate::target(&old.ca, &serial)
            )));
        }
        let target = crate::setup::replace_identity(
            &self.inner.store,
            &self.inner.config,
            &keys.vault,
            ca,
            &identity,
            &old,
            &actor.audit_name(),
        )
        .await?;
        self.refresh_platform().await?;
        Ok(target)
    }

    /// Seal the vault now (any one administrator: an emergency stop). Every key is dropped
    /// from this node's memory; K share holders unseal it again. Audited as `vault_sealed`.
    pub async fn seal(&self, actor: &Actor) -> Result<()> {
        actor.require(Permission::Administer)?;
        let _one_at_a_time = self.inner.unseal_lock.lock().await;
        let was_unsealed = matches!(&*self.read_state(), VaultState::Unsealed(_));
        if !was_unsealed {
            return Err(AuthorityError::Conflict(
                "the vault is already sealed".into(),
            ));
        }
        // Audited first: a seal nobody can trace does not happen.
        self.inner
            .store
            .append_audit(
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other("vault_sealed".into()),
                    "vault",
                )
                .with("node", self.node_name()),
                now_ms(),
            )
            .await?;
        *self.write_state() =
            VaultState::Sealed(Some(yinxin_vault::SealedVault::new(self.vault_config())));
        self.inner.ocsp_cache.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::SystemTime;

    use yinxin_cms::timestamp::{FailureInfo, TimestampRequest, TimestampResponse};
    use yinxin_crypto::{HashAlgorithm, KeySpec};
    use yinxin_pki::ocsp::{CertIdHash, CertStatusAnswer};
    use yinxin_store::StatusChange;

    use super::*;
    use crate::test_support::{Member, actor, csr, enrol, form_list};
    use crate::{AuthorityConfig, InitOptions, OcspInput, Operation, Role};

    #[test]
    fn spellings_of_one_subject_compare_equal() {
        let a = yinxin_pki::name::parse("CN=yinxin SM2 Issuing CA,O=yinxin,C=CN").unwrap();
        let b = yinxin_pki::name::parse("CN=  YINXIN   sm2 issuing ca ,O=Yinxin,C=cn").unwrap();
        let c = yinxin_pki::name::parse("CN=yinxin SM2 Issuing CA 2,O=yinxin,C=CN").unwrap();
        assert_eq!(canonical_subject(&a), canonical_subject(&b));
        assert_ne!(canonical_subject(&a), canonical_subject(&c));
    }

    fn serial_of_der(der: &[u8]) -> Vec<u8> {
        let cert = yinxin_pki::certificate::from_pem_or_der(der).unwrap();
        cert.tbs_certificate().serial_number().as_bytes().to_vec()
    }

    async fn stamp(a: &Authority, hash: HashAlgorithm) -> TimestampResponse {
        let request = TimestampRequest::for_data(hash, b"bid");
        TimestampResponse::decode(&a.timestamp(None, &request.to_der().unwrap()).await).unwrap()
    }

    async fn service_serial(a: &Authority, name: &str) -> (String, Vec<u8>) {
        let r = a
            .inner
            .store
            .service_keys()
            .await
            .unwrap()
            .into_iter()
            .find(|r| r.name == name)
            .unwrap();
        (r.ca, serial_of_der(&r.certificate_der))
    }

    /// Finding 1 of the probe: an RA operator revoked the issuing CA, the OCSP signer and the
    /// TSA, and the server kept signing with all three. Now the RA is refused, and what an
    /// administrator withdraws stops signing at once, on this node and on another.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn platform_certificates_are_the_platforms_and_withdrawn_ones_stop_signing() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("y.db").display());
        let config = AuthorityConfig::new("http://127.0.0.1:1");
        let (a, init) = Authority::initialise(
            Store::open(&url).await.unwrap(),
            config.clone(),
            InitOptions::default(),
        )
        .await
        .unwrap();
        let b = Authority::open(Store::open(&url).await.unwrap(), config)
            .await
            .unwrap();
        b.unseal(&init.shares[0].to_text()).await.unwrap();
        let (ra, admin) = (actor(Role::RaOperator), actor(Role::Admin));
        let issuing = a.ca("sm2-issuing").unwrap().clone();
        let issuing_serial = issuing
            .certificate
            .tbs_certificate()
            .serial_number()
            .as_bytes()
            .to_vec();
        let (ocsp_ca, ocsp_serial) = service_serial(&a, "sm2-issuing/ocsp").await;
        let (tsa_ca, tsa_serial) = service_serial(&a, "tsa-sm2").await;
        let revoke = |reason| StatusChange::Revoke {
            reason,
            time_ms: now_ms(),
        };

        // The RA may touch none of them, whatever the change.
        for (ca, serial) in [
            ("sm2-root", &issuing_serial),
            (ocsp_ca.as_str(), &ocsp_serial),
            (tsa_ca.as_str(), &tsa_serial),
        ] {
            for change in [revoke(2), StatusChange::Hold { time_ms: now_ms() }] {
                let e = a
                    .change_status(&ra, Some(ca), serial, change)
                    .await
                    .unwrap_err();
                assert!(matches!(e, AuthorityError::Forbidden { .. }), "{e}");
                // Found by serial alone too.
                let e = a
                    .change_status(&ra, None, serial, change)
                    .await
                    .unwrap_err();
                assert!(matches!(e, AuthorityError::Forbidden { .. }), "{e}");
            }
        }
        // Nor renew or re-key one, nor have a certificate issued into a platform subject.
        let e = a
            .renew(&ra, Some(&tsa_ca), &tsa_serial, None)
            .await
            .unwrap_err();
        assert!(matches!(e, AuthorityError::Forbidden { .. }), "{e}");
        let rekey_csr = csr(
            KeySpec::Sm2,
            "CN=yinxin Time-Stamping Authority (SM2),O=yinxin,C=CN",
        );
        let e = a
            .rekey(&ra, Some(&tsa_ca), &tsa_serial, &rekey_csr, None)
            .await
            .unwrap_err();
        assert!(matches!(e, AuthorityError::Forbidden { .. }), "{e}");
        for subject in [
            "CN=yinxin SM2 Issuing CA,O=yinxin,C=CN",
            "CN=YINXIN  sm2 issuing ca,O=yinxin,C=CN",
            "CN=yinxin OCSP Responder (sm2-issuing),O=yinxin,C=CN",
        ] {
            for who in [&ra, &admin] {
                let e = a
                    .issue(who, &enrol(KeySpec::Sm2, subject))
                    .await
                    .unwrap_err();
                assert_eq!(e.code(), "reserved-subject", "{subject}: {e}");
            }
        }
        // An SM2 key is not certified by the RSA CA.
        let mut mixed = enrol(KeySpec::Sm2, "CN=Mixed,O=Hospital,C=CN");
        mixed.ca = Some("rsa-issuing".into());
        assert_eq!(a.issue(&ra, &mixed).await.unwrap_err().code(), "bad-ca");
        // Only key operators sign with the platform's keys.
        let sign = crate::CmsSignRequest {
            content: b"x".to_vec(),
            algorithm: crate::ServiceAlgorithm::Rsa,
            detached: false,
            form: yinxin_cms::Form::Rfc5652,
            timestamp: false,
        };
        for who in [&ra, &admin] {
            let e = a.cms_sign(who, sign.clone()).await.unwrap_err();
            assert!(matches!(e, AuthorityError::Forbidden { .. }), "{e}");
        }
        a.cms_sign(&actor(Role::KeyOperator), sign).await.unwrap();

        // Administrators withdraw platform certificates under dual control only: not directly,
        // not on a trial installation.
        let e = a
            .change_status(&admin, None, &tsa_serial, revoke(1))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "needs-approval", "{e}");
        let revoke_tsa = Operation::RevokePlatform {
            ca: None,
            serial: tsa_serial.clone(),
            reason: 1,
        };
        let e = a
            .request_approval(&admin, revoke_tsa.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "not-formed", "{e}");
        let members = form_list(&a, 3).await;
        let executed = |op: Operation| {
            let (a, members): (&Authority, &[Member]) = (&a, &members);
            async move {
                let v = a.request_approval(&members[0].actor, op).await.unwrap();
                let v1 = members[0].approve(a, &v.id).await.unwrap();
                assert_eq!(v1.status, "open", "one approval is not enough");
                let v2 = members[2].approve(a, &v.id).await.unwrap();
                assert_eq!(v2.status, "executed");
            }
        };
        // The SM2 TSA withdrawn: both nodes stop stamping with it.
        assert_eq!(stamp(&b, HashAlgorithm::Sm3).await.failure, None);
        let e = a
            .request_approval(
                &members[0].actor,
                Operation::RevokePlatform {
                    ca: None,
                    serial: tsa_serial.clone(),
                    reason: 0,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.code(),
            "bad-reason",
            "a platform revocation states its reason"
        );
        executed(revoke_tsa).await;
        assert_eq!(
            stamp(&a, HashAlgorithm::Sm3).await.failure,
            Some(FailureInfo::SystemFailure)
        );
        b.follow_changes(0).await.unwrap();
        assert_eq!(
            stamp(&b, HashAlgorithm::Sm3).await.failure,
            Some(FailureInfo::SystemFailure)
        );
        assert_eq!(
            stamp(&b, HashAlgorithm::Sha256).await.failure,
            None,
            "RSA TSA unaffected"
        );
        let alerts = a.platform_alerts().await.unwrap();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].serial, hex::encode(&tsa_serial));
        assert!(alerts[0].replaced);
        // replace-service makes a new one; nobody else may.
        let e = a.replace_service(&ra, "tsa-sm2").await.unwrap_err();
        assert!(matches!(e, AuthorityError::Forbidden { .. }), "{e}");
        let e = a.replace_service(&admin, "tsa-rsa").await.unwrap_err();
        assert!(
            matches!(e, AuthorityError::Conflict(_)),
            "a valid one stays: {e}"
        );
        a.replace_service(&admin, "tsa-sm2").await.unwrap();
        assert_eq!(stamp(&a, HashAlgorithm::Sm3).await.failure, None);
        b.follow_changes(0).await.unwrap();
        assert_eq!(stamp(&b, HashAlgorithm::Sm3).await.failure, None);
        assert!(a.platform_alerts().await.unwrap().is_empty());

        // The delegated OCSP signer on hold: answers come from the CA itself, never from it.
        let leaf = a
            .issue(&ra, &enrol(KeySpec::Sm2, "CN=Leaf,O=Hospital,C=CN"))
            .await
            .unwrap();
        let ask = |a: Authority| {
            let request = yinxin_pki::ocsp::build_request(
                &issuing.certificate,
                &[&leaf.serial],
                CertIdHash::Sha1,
                None,
            )
            .unwrap();
            async move { a.ocsp(OcspInput::Post(&request)).await }
        };
        let (ocsp_record, _) = (service_serial(&a, "sm2-issuing/ocsp").await, ());
        let signer_der = a
            .inner
            .store
            .certificate(&ocsp_record.0, &ocsp_record.1)
            .await
            .unwrap()
            .certificate
            .der;
        let before = ask(a.clone()).await;
        assert!(contains(&before, &signer_der), "delegated signer answers");
        executed(Operation::HoldPlatform {
            ca: None,
            serial: ocsp_serial.clone(),
        })
        .await;
        b.follow_changes(0).await.unwrap();
        for node in [&a, &b] {
            let answer = ask(node.clone()).await;
            assert!(
                !contains(&answer, &signer_der),
                "no answer from a held responder"
            );
            let statuses = yinxin_pki::ocsp::verify_response(
                &answer,
                &issuing.certificate,
                None,
                SystemTime::now(),
                None,
            )
            .unwrap();
            assert_eq!(statuses[0].status, CertStatusAnswer::Good);
        }

        // The issuing CA revoked (cACompromise): it issues nothing, answers no OCSP, and its
        // TSA and service identities stop.
        executed(Operation::RevokePlatform {
            ca: Some("sm2-root".into()),
            serial: issuing_serial.clone(),
            reason: 2,
        })
        .await;
        b.follow_changes(0).await.unwrap();
        for node in [&a, &b] {
            let e = node
                .issue(&ra, &enrol(KeySpec::Sm2, "CN=Late,O=Hospital,C=CN"))
                .await
                .unwrap_err();
            assert_eq!(e.code(), "ca-revoked", "{e}");
            assert_eq!(
                stamp(node, HashAlgorithm::Sm3).await.failure,
                Some(FailureInfo::SystemFailure)
            );
            let answer = ask(node.clone()).await;
            assert!(
                yinxin_pki::ocsp::verify_response(
                    &answer,
                    &issuing.certificate,
                    None,
                    SystemTime::now(),
                    None
                )
                .is_err(),
                "no OCSP answer signed for a revoked CA"
            );
            assert!(node.service_signer(crate::ServiceAlgorithm::Sm2).is_err());
            assert!(node.service_signer(crate::ServiceAlgorithm::Rsa).is_ok());
        }
        let alerts = a.platform_alerts().await.unwrap();
        assert!(
            alerts
                .iter()
                .any(|x| x.profile == "issuing-ca" && !x.replaced),
            "{alerts:?}"
        );
        let e = a.replace_service(&admin, "tsa-sm2").await.unwrap_err();
        assert_eq!(e.code(), "ca-revoked", "{e}");
        // RSA keeps working.
        a.issue(&ra, &enrol(KeySpec::Rsa2048, "CN=Rsa,O=Hospital,C=CN"))
            .await
            .unwrap();
        // One administrator alone may seal (an emergency stop); nobody else may.
        let e = a.seal(&ra).await.unwrap_err();
        assert!(matches!(e, AuthorityError::Forbidden { .. }), "{e}");
        a.seal(&members[1].actor).await.unwrap();
        assert!(a.vault_status().sealed);
        assert_eq!(
            a.issue(&ra, &enrol(KeySpec::Rsa2048, "CN=After,O=Hospital,C=CN"))
                .await
                .unwrap_err()
                .code(),
            "sealed"
        );
        assert!(!b.vault_status().sealed, "other nodes stay as they are");
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }
}
