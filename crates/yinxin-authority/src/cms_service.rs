//! The platform's CMS services (SPEC server item 7): verify a `SignedData` against the
//! platform's trust anchors and revocation data, sign with the platform's own signing key,
//! seal an envelope to the server's or any user's encryption certificate, and open an envelope
//! addressed to the server's encryption certificate. The server's keys stay in the vault: the
//! handles sign and decrypt, nothing returns key bytes.
//!
//! Who may do what: verifying and sealing are for every authenticated caller (they use only
//! public keys); signing with the platform's key and opening envelopes need `key-operator`.
//! At most [`AuthorityConfig::max_cms_operations`](crate::AuthorityConfig) run at once (each
//! may hold a large message and its copies); the others wait up to
//! [`CMS_QUEUE_WAIT`] and are then told `busy`. Administrators administer, they do
//! not use the platform's keys. Every signature and every opened envelope is audited
//! (`cms_signed`, `envelope_opened`) with the SHA-256 of what was signed or recovered, never the
//! content.

use der::Decode as _;
use yinxin_audit::{AuditAction, AuditEvent};
use yinxin_cms::algorithm::ContentCipher;
use yinxin_cms::enveloped_data::{self, Envelope, Recipient, SealOptions};
use yinxin_cms::signed_data::{self, Report, SignOptions, SignerSpec, VerifyOptions};
use yinxin_cms::timestamp::{TimestampRequest, TimestampResponse};
use yinxin_cms::{Error as CmsError, Form};
use yinxin_crypto::{HashAlgorithm, KeyAlgorithm, hash};
use yinxin_pki::certificate::{self, Certificate};
use yinxin_pki::path::{AtPastTime, CrlSet};
use zeroize::Zeroizing;

use crate::access::{Actor, Permission};
use crate::error::{AuthorityError, Result};
use crate::keys::ServiceAlgorithm;
use crate::tsa::TsaKey;
use crate::{Authority, now_ms};

/// Largest content or message the CMS services take (the HTTP edge limits bodies too).
pub const MAX_CMS_BYTES: usize = 64 * 1024 * 1024;

/// What [`Authority::cms_sign`] is asked to do.
#[derive(Debug, Clone)]
pub struct CmsSignRequest {
    /// The content to sign.
    pub content: Vec<u8>,
    /// Which of the platform's signing keys.
    pub algorithm: ServiceAlgorithm,
    /// Leave the content out of the `SignedData`.
    pub detached: bool,
    /// RFC 5652 or GM/T 0010 identifiers.
    pub form: Form,
    /// Add an RFC 3161 timestamp from the platform's own TSA over the signature.
    pub timestamp: bool,
}

/// Where [`Authority::cms_encrypt`] seals to.
#[derive(Debug, Clone)]
pub enum EnvelopeRecipient {
    /// The server's own encryption certificate of this algorithm.
    Server(ServiceAlgorithm),
    /// A recipient's certificate (DER or PEM).
    Certificate(Vec<u8>),
}

fn cms_error(e: CmsError) -> AuthorityError {
    if e.is_verdict() {
        AuthorityError::bad("envelope-not-opened", e.to_string())
    } else {
        AuthorityError::bad("bad-cms", e.to_string())
    }
}

fn too_large(what: &str, len: usize) -> Result<()> {
    if len > MAX_CMS_BYTES {
        return Err(AuthorityError::bad(
            "too-large",
            format!("the {what} is {len} bytes; at most {MAX_CMS_BYTES} are accepted"),
        ));
    }
    Ok(())
}

/// How long a CMS operation waits for a free slot before it is refused with `busy`.
pub const CMS_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(hash::digest(HashAlgorithm::Sha256, data))
}

impl Authority {
    /// One of the CMS slots, or `busy` after [`CMS_QUEUE_WAIT`].
    async fn cms_slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        match tokio::time::timeout(CMS_QUEUE_WAIT, self.inner.cms_slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AuthorityError::Busy(
                "every CMS slot is taken; try again shortly".into(),
            )),
        }
    }

    /// The platform's root certificates, the trust anchors of [`Authority::cms_verify`].
    fn trust_anchors(&self) -> Vec<Certificate> {
        self.cas()
            .into_iter()
            .filter(|c| c.is_root())
            .map(|c| c.certificate)
            .collect()
    }

    /// The newest CRL of every CA, as one set for the validator.
    async fn current_crls(&self) -> Result<CrlSet> {
        let mut crls = Vec::new();
        for ca in self.cas() {
            match self.inner.store.crl(&ca.name).await {
                Ok(record) => crls.push(
                    x509_cert::crl::CertificateList::from_der(&record.der)
                        .map_err(AuthorityError::internal)?,
                ),
                Err(yinxin_store::StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(CrlSet::new(crls))
    }

    /// Verify a `SignedData` (either form; detached with `content`) against the platform's
    /// roots, with revocation from the platform's current CRLs, and timestamps. The verdict is
    /// in the [`Report`]; an `Err` means the input is not a usable `SignedData`.
    pub async fn cms_verify(
        &self,
        actor: &Actor,
        signed: Vec<u8>,
        content: Option<Vec<u8>>,
    ) -> Result<Report> {
        actor.require(Permission::ReadCertificates)?;
        let _slot = self.cms_slot().await?;
        too_large("SignedData", signed.len())?;
        if let Some(c) = &content {
            too_large("content", c.len())?;
        }
        let roots = self.trust_anchors();
        let crls = self.current_crls().await?;
        tokio::task::spawn_blocking(move || {
            // The newest CRLs also judge signatures validated at their timestamp's time.
            let revocation = AtPastTime::new(&crls);
            let options = VerifyOptions::new(&roots).with_revocation(&revocation);
            signed_data::verify(&signed, content.as_deref(), &options).map_err(cms_error)
        })
        .await
        .map_err(AuthorityError::internal)?
    }

    /// Sign `request.content` with the platform's signing key (operators; audited). With
    /// `timestamp`, the platform's TSA stamps the signature value before it is returned.
    pub async fn cms_sign(&self, actor: &Actor, request: CmsSignRequest) -> Result<Vec<u8>> {
        actor.require(Permission::UseServiceKeys)?;
        let _slot = self.cms_slot().await?;
        too_large("content", request.content.len())?;
        let service = self.service_signer(request.algorithm)?;
        let digest = sha256_hex(&request.content);
        let options = SignOptions {
            form: request.form,
            detached: request.detached,
            ..SignOptions::default()
        };
        let content = request.content;
        let signer = service.clone();
        let mut signed = tokio::task::spawn_blocking(move || {
            let spec = SignerSpec::new(signer.signer.as_ref(), &signer.certificate)
                .with_chain(&signer.chain)
                .with_scheme(signer.scheme.clone());
            signed_data::sign(&content, &[spec], &options).map_err(cms_error)
        })
        .await
        .map_err(AuthorityError::internal)??;
        if request.timestamp {
            signed = self.stamp_signature(&signed, request.algorithm).await?;
        }
        self.inner
            .store
            .append_audit(
                AuditEvent::new(
                    actor.audit_name(),
                    AuditAction::Other("cms_signed".into()),
                    format!("service/signing-{}", algorithm_name(request.algorithm)),
                )
                .with("content_sha256", digest)
                .with("detached", request.detached.to_string())
                .with("timestamped", request.timestamp.to_string()),
                now_ms(),
            )
            .await?;
        Ok(signed)
    }

    /// Add a timestamp of the platform's TSA over the first signature of `signed`.
    async fn stamp_signature(&self, signed: &[u8], algorithm: ServiceAlgorithm) -> Result<Vec<u8>> {
        let signature = signed_data::signature_value(signed, 0).map_err(cms_error)?;
        let (key, hash) = match algorithm {
            ServiceAlgorithm::Sm2 => (TsaKey::Sm2, HashAlgorithm::Sm3),
            ServiceAlgorithm::Rsa => (TsaKey::Rsa, HashAlgorithm::Sha256),
        };
        let request = TimestampRequest::for_data(hash, &signature).with_cert_req(true);
        let query = request.to_der().map_err(cms_error)?;
        let reply = self.timestamp(Some(key), &query).await;
        let response = TimestampResponse::decode(&reply).map_err(AuthorityError::internal)?;
        let token = match (response.status.is_granted(), response.token) {
            (true, Some(token)) => token,
            _ => {
                return Err(AuthorityError::bad(
                    "timestamp-unavailable",
                    format!(
                        "the timestamp authority refused: {}",
                        response.text.unwrap_or_else(|| "no reason given".into())
                    ),
                ));
            }
        };
        signed_data::add_timestamp(signed, 0, &token).map_err(cms_error)
    }

    /// Seal `content` in an `EnvelopedData` to each recipient (every authenticated caller:
    /// only public keys are used). SM4-CBC when every recipient is SM2, else AES-256-CBC.
    pub async fn cms_encrypt(
        &self,
        actor: &Actor,
        content: Vec<u8>,
        recipients: Vec<EnvelopeRecipient>,
        form: Form,
    ) -> Result<Vec<u8>> {
        actor.require(Permission::ReadCertificates)?;
        let _slot = self.cms_slot().await?;
        too_large("content", content.len())?;
        if recipients.is_empty() {
            return Err(AuthorityError::bad(
                "no-recipient",
                "an envelope needs at least one recipient",
            ));
        }
        let mut sealed_to = Vec::with_capacity(recipients.len());
        for r in recipients {
            let der = match r {
                EnvelopeRecipient::Server(alg) => {
                    certificate::to_der(&self.service_decrypter(alg)?.certificate)
                        .map_err(AuthorityError::internal)?
                }
                EnvelopeRecipient::Certificate(data) => {
                    let cert = certificate::from_pem_or_der(&data).map_err(|e| {
                        AuthorityError::bad(
                            "bad-certificate",
                            format!("recipient certificate: {e}"),
                        )
                    })?;
                    certificate::to_der(&cert).map_err(AuthorityError::internal)?
                }
            };
            sealed_to.push(Recipient::by_certificate(&der).map_err(cms_error)?);
        }
        let all_sm2 = sealed_to
            .iter()
            .all(|r| r.public_key().algorithm() == KeyAlgorithm::Sm2);
        let cipher = ContentCipher::default_for(form, all_sm2);
        let options = SealOptions {
            form,
            ..SealOptions::default()
        }
        .with_cipher(cipher);
        tokio::task::spawn_blocking(move || {
            enveloped_data::seal_message(&content, &sealed_to, &options).map_err(cms_error)
        })
        .await
        .map_err(AuthorityError::internal)?
    }

    /// Open an envelope addressed to one of the server's encryption certificates (key
    /// operators; audited). The key stays in the vault.
    pub async fn cms_decrypt(
        &self,
        actor: &Actor,
        envelope: Vec<u8>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        actor.require(Permission::OpenEnvelopes)?;
        let _slot = self.cms_slot().await?;
        too_large("EnvelopedData", envelope.len())?;
        let parsed = Envelope::decode(&envelope).map_err(cms_error)?;
        for algorithm in [ServiceAlgorithm::Sm2, ServiceAlgorithm::Rsa] {
            let service = self.service_decrypter(algorithm)?;
            let cert_der =
                certificate::to_der(&service.certificate).map_err(AuthorityError::internal)?;
            let attempt = {
                let parsed = parsed.clone();
                tokio::task::spawn_blocking(move || {
                    parsed.open(service.decrypter.as_ref(), Some(&cert_der))
                })
                .await
                .map_err(AuthorityError::internal)?
            };
            match attempt {
                Ok(content) => {
                    self.inner
                        .store
                        .append_audit(
                            AuditEvent::new(
                                actor.audit_name(),
                                AuditAction::Other("envelope_opened".into()),
                                format!("service/envelope-{}", algorithm_name(algorithm)),
                            )
                            .with("envelope_sha256", sha256_hex(&envelope))
                            .with("content_bytes", content.len().to_string()),
                            now_ms(),
                        )
                        .await?;
                    return Ok(content);
                }
                Err(CmsError::NoMatchingRecipient) => {}
                Err(e) => return Err(cms_error(e)),
            }
        }
        Err(AuthorityError::bad(
            "not-addressed-to-server",
            "the envelope is not addressed to any of the server's encryption certificates",
        ))
    }
}

fn algorithm_name(algorithm: ServiceAlgorithm) -> &'static str {
    match algorithm {
        ServiceAlgorithm::Sm2 => "sm2",
        ServiceAlgorithm::Rsa => "rsa",
    }
}
