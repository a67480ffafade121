//! Registration and issuance: PKCS#10 enrolment with proof of possession, the certificate
//! profiles, dual certificates with an escrowed encryption key, renewal and re-key.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::request::CertReq;
use yinxin_audit::{AuditAction, AuditEvent};
use yinxin_cms::key_delivery::DeliveredKey;
use yinxin_crypto::{DistinguishingId, KeyAlgorithm, KeySpec, PublicKey};
use yinxin_pki::issue::IssueParams;
use yinxin_pki::profile::{IdentityExtension, KeyRole, Profile, San};
use yinxin_store::{NewCertificate, NewEscrow, StoreError};

use crate::access::{Actor, Permission};
use crate::error::{AuthorityError, Result};
use crate::keys::{CaKeys, Unsealed};
use crate::{Authority, ms, now_ms, random_serial, target};

/// The largest PKCS#10 request accepted, in bytes (PEM or DER).
pub const MAX_CSR_LEN: usize = 64 * 1024;

/// How far notBefore lies before the moment of issue.
const BACKDATE: Duration = Duration::from_secs(60);

/// The longest end-entity lifetime, in days.
pub const MAX_VALIDITY_DAYS: u32 = 3650;

/// The end-entity profiles a caller may ask for by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileName {
    /// 单位: an organisation.
    Organisation,
    /// 单位员工: an employee; the subject must carry the organisation (`O`).
    Employee,
    /// A TLS server; needs DNS or IP names.
    Server,
    /// A delegated OCSP responder.
    OcspSigner,
    /// A time-stamping authority.
    Timestamping,
    /// Code signing.
    CodeSigning,
    /// The seal-making key of GB/T 38540.
    SealMaking,
}

impl ProfileName {
    /// Every name, as accepted.
    pub const ALL: [ProfileName; 7] = [
        ProfileName::Organisation,
        ProfileName::Employee,
        ProfileName::Server,
        ProfileName::OcspSigner,
        ProfileName::Timestamping,
        ProfileName::CodeSigning,
        ProfileName::SealMaking,
    ];

    /// The name as written in requests and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileName::Organisation => "organisation",
            ProfileName::Employee => "employee",
            ProfileName::Server => "server",
            ProfileName::OcspSigner => "ocsp-signer",
            ProfileName::Timestamping => "timestamping",
            ProfileName::CodeSigning => "code-signing",
            ProfileName::SealMaking => "seal-making",
        }
    }

    fn profile(self, organisation: Option<&str>, role: KeyRole) -> Result<Profile> {
        Ok(match self {
            ProfileName::Organisation => Profile::Organisation { role },
            ProfileName::Employee => Profile::Employee {
                organisation: organisation
                    .ok_or_else(|| {
                        AuthorityError::bad(
                            "bad-subject",
                            "an employee certificate's subject must name the organisation (O=…)",
                        )
                    })?
                    .to_string(),
                role,
            },
            ProfileName::Server => Profile::Server,
            ProfileName::OcspSigner => Profile::OcspSigner,
            ProfileName::Timestamping => Profile::TimeStamping,
            ProfileName::CodeSigning => Profile::CodeSigning,
            ProfileName::SealMaking => Profile::SealMaking,
        })
    }

    /// The platform's own profiles (OCSP signer, TSA, code signing, seal-making): a holder of
    /// such a certificate can speak for the CA (an OCSP signer answers for all its
    /// certificates), so only administrators may have them issued.
    fn is_platform(self) -> bool {
        matches!(
            self,
            ProfileName::OcspSigner
                | ProfileName::Timestamping
                | ProfileName::CodeSigning
                | ProfileName::SealMaking
        )
    }

    fn has_dual_form(self) -> bool {
        matches!(self, ProfileName::Organisation | ProfileName::Employee)
    }
}

impl FromStr for ProfileName {
    type Err = AuthorityError;
    fn from_str(s: &str) -> Result<Self> {
        ProfileName::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                AuthorityError::bad(
                    "unknown-profile",
                    format!(
                        "unknown profile {s:?}; known: {}",
                        ProfileName::ALL.map(ProfileName::as_str).join(", ")
                    ),
                )
            })
    }
}

/// A request for a certificate.
#[derive(Debug, Clone)]
pub struct EnrolRequest {
    /// The PKCS#10 request, PEM or DER; its signature proves possession of the key.
    pub csr: Vec<u8>,
    /// The profile.
    pub profile: ProfileName,
    /// The issuing CA; by default `sm2-issuing` for SM2 keys and `rsa-issuing` otherwise.
    pub ca: Option<String>,
    /// Lifetime in days (default from the configuration, at most [`MAX_VALIDITY_DAYS`],
    /// never past the CA's own end).
    pub validity_days: Option<u32>,
    /// Subject alternative names.
    pub sans: Vec<San>,
    /// GM/T 0015 identity extensions.
    pub identity: Vec<IdentityExtension>,
}

/// An issued certificate.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The issuing CA.
    pub ca: String,
    /// The serial.
    pub serial: Vec<u8>,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// The CA certificates up to the root, DER.
    pub chain: Vec<Vec<u8>>,
}

/// A dual-certificate enrolment's result.
#[derive(Debug, Clone)]
pub struct DualIssued {
    /// The signing certificate, for the key on the user's token.
    pub signing: Issued,
    /// The encryption certificate, for the escrowed key.
    pub encryption: Issued,
    /// The escrowed encryption key, sealed to the signing key.
    pub delivered_key: DeliveredKey,
}

/// A CSR's public key after its signature checked out.
struct Verified {
    subject: x509_cert::name::Name,
    key: PublicKey,
}

/// Decode a request (PEM or DER) and check its self-signature. SM2 requests are checked under
/// the standard ID and, failing that, under the empty ID that OpenSSL 3.0 `req` uses by
/// default: either proves possession.
fn verify_csr(data: &[u8]) -> Result<Verified> {
    if data.len() > MAX_CSR_LEN {
        return Err(AuthorityError::bad(
            "bad-csr",
            format!("the request is larger than {MAX_CSR_LEN} bytes"),
        ));
    }
    let der = if yinxin_crypto::pem::is_pem(data) {
        let text = std::str::from_utf8(data)
            .map_err(|_| AuthorityError::bad("bad-csr", "the PEM request is not UTF-8"))?;
        let blocks = yinxin_crypto::pem::blocks(text, "certificate request")
            .map_err(|e| AuthorityError::bad("bad-csr", e.to_string()))?;
        let mut requests = blocks
            .into_iter()
            .filter(|b| b.label == "CERTIFICATE REQUEST" || b.label == "NEW CERTIFICATE REQUEST");
        let block = requests.next().ok_or_else(|| {
            AuthorityError::bad("bad-csr", "no CERTIFICATE REQUEST block in the PEM")
        })?;
        // Which of several was meant is not for the server to guess.
        if requests.next().is_some() {
            return Err(AuthorityError::bad(
                "bad-csr",
                "the PEM holds more than one CERTIFICATE REQUEST; send exactly one",
            ));
        }
        block.der.to_vec()
    } else {
        data.to_vec()
    };
    let req = CertReq::from_der(&der)
        .map_err(|e| AuthorityError::bad("bad-csr", format!("not a PKCS#10 request: {e}")))?;
    let key = match yinxin_pki::csr::verify(&req, Some(DistinguishingId::default())) {
        Ok(k) => k,
        Err(first) => {
            let empty = DistinguishingId::new(Vec::new()).map_err(AuthorityError::internal)?;
            yinxin_pki::csr::verify(&req, Some(empty)).map_err(|_| {
                AuthorityError::bad(
                    "bad-csr-signature",
                    format!(
                        "the request's signature does not prove possession of its key: {first}"
                    ),
                )
            })?
        }
    };
    Ok(Verified {
        subject: req.info.subject,
        key,
    })
}

/// Run CPU-heavy work (signatures, their checks) on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AuthorityError::internal(format!("a signing task failed: {e}")))?
}

/// Decode and check a request off the async workers.
async fn verify_csr_blocking(data: &[u8]) -> Result<Verified> {
    let data = data.to_vec();
    blocking(move || verify_csr(&data)).await
}

/// The public key a PKCS#10 request proves possession of.
pub(crate) fn verify_csr_key(data: &[u8]) -> Result<PublicKey> {
    Ok(verify_csr(data)?.key)
}

/// The organisation (`O`) of a subject, if any.
fn organisation_of(name: &x509_cert::name::Name) -> Option<String> {
    name.iter().find_map(|atv| {
        (atv.oid == const_oid::db::rfc4519::O).then(|| {
            let v = &atv.value;
            der::asn1::Utf8StringRef::try_from(v)
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    der::asn1::PrintableStringRef::try_from(v).map(|s| s.as_str().to_string())
                })
                .unwrap_or_else(|_| String::from_utf8_lossy(v.value()).into_owned())
        })
    })
}

/// A limit or identifier rule of yinxin-pki as the error callers see.
fn policy_error(e: yinxin_pki::Error) -> AuthorityError {
    match e {
        yinxin_pki::Error::Identifier(e) => AuthorityError::bad("bad-identifier", e.to_string()),
        other => AuthorityError::bad("limit-exceeded", other.to_string()),
    }
}

/// The request's identity values in their normal form, checked: an organisation code is a
/// unified social credit code (GB 32100) with its check character, a resident card number
/// passes the GB 11643 check.
fn checked_identity(identity: &[IdentityExtension]) -> Result<Vec<IdentityExtension>> {
    use yinxin_pki::limits::{ResidentIdNumber, UnifiedSocialCreditCode};
    use yinxin_pki::profile::IdentifyCode;
    identity
        .iter()
        .map(|ext| {
            Ok(match ext {
                IdentityExtension::OrganizationCode(code) => IdentityExtension::OrganizationCode(
                    UnifiedSocialCreditCode::parse(code.trim())
                        .map_err(policy_error)?
                        .as_str()
                        .to_string(),
                ),
                IdentityExtension::IdentifyCode(IdentifyCode::ResidentCardNumber(number)) => {
                    IdentityExtension::IdentifyCode(IdentifyCode::ResidentCardNumber(
                        ResidentIdNumber::parse(number.trim())
                            .map_err(policy_error)?
                            .as_str()
                            .to_string(),
                    ))
                }
                other => other.clone(),
            })
        })
        .collect()
}

impl Authority {
    /// Check a request's inputs against the issuance limits and identifier rules, before any
    /// signature is checked or made; returns the identity values in normal form.
    fn check_inputs(&self, request: &EnrolRequest) -> Result<Vec<IdentityExtension>> {
        let limits = &self.inner.config.issuance_limits;
        limits.check_sans(&request.sans).map_err(policy_error)?;
        limits
            .check_identity(&request.identity)
            .map_err(policy_error)?;
        checked_identity(&request.identity)
    }

    fn default_ca(&self, key: &PublicKey) -> &'static str {
        match key.algorithm() {
            KeyAlgorithm::Sm2 => "sm2-issuing",
            _ => "rsa-issuing",
        }
    }

    fn issuing_ca<'a>(
        &self,
        keys: &'a Unsealed,
        name: &str,
        key: &PublicKey,
    ) -> Result<&'a Arc<CaKeys>> {
        let ca = keys.ca(name)?;
        if ca.info.is_root() {
            return Err(AuthorityError::bad(
                "bad-ca",
                format!("{name} is a root CA; end-entity certificates come from an issuing CA"),
            ));
        }
        if let Some(status) = ca.withdrawn {
            return Err(AuthorityError::CaRevoked {
                ca: name.to_string(),
                status: status.as_str(),
            });
        }
        // SM2 keys are certified by SM2 CAs and others by others: a mixed chain is refused by
        // the GB/T 20518 profile and by most relying parties.
        let ca_is_sm2 = ca.info.algorithm == KeyAlgorithm::Sm2;
        if ca_is_sm2 != (key.algorithm() == KeyAlgorithm::Sm2) {
            return Err(AuthorityError::bad(
                "bad-ca",
                format!(
                    "CA {name} ({}) does not certify {} keys; use {}",
                    ca.info.algorithm,
                    key.algorithm(),
                    self.default_ca(key)
                ),
            ));
        }
        Ok(ca)
    }

    fn validity(&self, ca: &CaKeys, days: Option<u32>) -> Result<(SystemTime, SystemTime)> {
        let days = days.unwrap_or(self.inner.config.default_validity_days);
        if days == 0 || days > MAX_VALIDITY_DAYS {
            return Err(AuthorityError::bad(
                "bad-validity",
                format!("validity must be 1 to {MAX_VALIDITY_DAYS} days"),
            ));
        }
        let now = SystemTime::now();
        let ca_end = ca
            .info
            .certificate
            .tbs_certificate()
            .validity()
            .not_after
            .to_system_time();
        let end = (now + Duration::from_secs(u64::from(days) * 86400)).min(ca_end);
        if end <= now {
            return Err(AuthorityError::Conflict(format!(
                "CA {} has expired",
                ca.info.name
            )));
        }
        // Backdated a minute, as step-ca does, so a client whose clock is a little behind
        // does not see a brand-new certificate as not yet valid.
        Ok((now - BACKDATE, end))
    }

    /// Sign a certificate for `params` with `ca`, with a fresh serial. The signature (and
    /// its check) runs on the blocking pool, so slow keys (RSA, PKCS#11) do not stall the
    /// async workers that carry requests and store transactions.
    async fn sign(&self, ca: &Arc<CaKeys>, params: &mut IssueParams) -> Result<Vec<u8>> {
        params.serial = random_serial()?;
        params.urls = self.inner.config.urls_for(&ca.info.name);
        let (ca, params) = (ca.clone(), params.clone());
        blocking(move || {
            let cert = yinxin_pki::issue::issue(
                Some(&ca.info.certificate),
                ca.signer.as_ref(),
                &ca.scheme,
                &params,
            )
            .map_err(|e| AuthorityError::bad("not-issuable", e.to_string()))?;
            cert.to_der().map_err(AuthorityError::internal)
        })
        .await
    }

    fn record(
        ca: &CaKeys,
        params: &IssueParams,
        der: Vec<u8>,
        profile: ProfileName,
        actor: &Actor,
    ) -> NewCertificate {
        NewCertificate {
            ca: ca.info.name.clone(),
            serial: params.serial.clone(),
            subject: params.subject.to_string(),
            organisation: organisation_of(&params.subject),
            profile: profile.as_str().to_string(),
            not_before: ms(params.not_before),
            not_after: ms(params.not_after),
            der,
            requested_by: actor.audit_name(),
            platform: false,
        }
    }

    /// Issue one certificate for a PKCS#10 request (the signing role for organisation and
    /// employee profiles).
    pub async fn issue(&self, actor: &Actor, request: &EnrolRequest) -> Result<Issued> {
        actor.require(Permission::ChangeCertificates)?;
        if request.profile.is_platform() {
            actor.require(Permission::Administer)?;
        }
        let identity = self.check_inputs(request)?;
        let csr = verify_csr_blocking(&request.csr).await?;
        self.inner
            .config
            .issuance_limits
            .check_subject(&csr.subject)
            .map_err(policy_error)?;
        let keys = self.unsealed()?;
        let ca_name = request
            .ca
            .clone()
            .unwrap_or_else(|| self.default_ca(&csr.key).to_string());
        let ca = self.issuing_ca(&keys, &ca_name, &csr.key)?;
        self.refuse_reserved(&csr.subject)?;
        let organisation = organisation_of(&csr.subject);
        let profile = request
            .profile
            .profile(organisation.as_deref(), KeyRole::Signing)?;
        let (not_before, not_after) = self.validity(ca, request.validity_days)?;
        let mut params = IssueParams::new(
            csr.subject,
            csr.key,
            Vec::new(),
            not_before,
            not_after,
            profile,
        );
        params.sans = request.sans.clone();
        params.identity = identity;
        self.issue_recorded(actor, ca, &mut params, request.profile, "issue")
            .await
    }

    /// Sign, record and audit, drawing a new serial if the first collided.
    async fn issue_recorded(
        &self,
        actor: &Actor,
        ca: &Arc<CaKeys>,
        params: &mut IssueParams,
        profile: ProfileName,
        how: &'static str,
    ) -> Result<Issued> {
        for _ in 0..3 {
            let der = self.sign(ca, params).await?;
            let record = Self::record(ca, params, der.clone(), profile, actor);
            let event = AuditEvent::new(
                actor.audit_name(),
                AuditAction::CertificateIssued,
                target(&ca.info.name, &params.serial),
            )
            .with("profile", profile.as_str())
            .with("subject", record.subject.clone())
            .with("how", how)
            .with("ca_key", ca.info.name.clone());
            match self
                .inner
                .store
                .issue_with_audit(std::slice::from_ref(&record), &[], event, now_ms())
                .await
            {
                Ok(_) => {
                    return Ok(Issued {
                        ca: ca.info.name.clone(),
                        serial: params.serial.clone(),
                        der,
                        chain: self.chain_of(&ca.info.name)?,
                    });
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AuthorityError::Conflict(
            "could not draw an unused serial number".into(),
        ))
    }

    /// Dual certificates: a signing certificate for the request's key (on the user's token)
    /// and an encryption certificate for a key pair the key-management function generates in
    /// the vault, escrows, and returns sealed to the signing key.
    pub async fn enrol_dual(&self, actor: &Actor, request: &EnrolRequest) -> Result<DualIssued> {
        actor.require(Permission::ChangeCertificates)?;
        if !request.profile.has_dual_form() {
            return Err(AuthorityError::bad(
                "unknown-profile",
                "dual certificates are for the organisation and employee profiles",
            ));
        }
        let identity = self.check_inputs(request)?;
        let csr = verify_csr_blocking(&request.csr).await?;
        self.inner
            .config
            .issuance_limits
            .check_subject(&csr.subject)
            .map_err(policy_error)?;
        let spec = match csr.key.algorithm() {
            KeyAlgorithm::Sm2 => KeySpec::Sm2,
            KeyAlgorithm::Rsa { bits } if bits >= 3072 => KeySpec::Rsa3072,
            KeyAlgorithm::Rsa { .. } => KeySpec::Rsa2048,
            other => {
                return Err(AuthorityError::bad(
                    "bad-key",
                    format!("dual certificates need an SM2 or RSA signing key, not {other}"),
                ));
            }
        };
        let keys = self.unsealed()?;
        let ca_name = request
            .ca
            .clone()
            .unwrap_or_else(|| self.default_ca(&csr.key).to_string());
        let ca = self.issuing_ca(&keys, &ca_name, &csr.key)?;
        self.refuse_reserved(&csr.subject)?;
        let organisation = organisation_of(&csr.subject);
        let (not_before, not_after) = self.validity(ca, request.validity_days)?;
        let label = format!("escrow/{}", hex::encode(random_serial()?));
        let wrapped = keys.vault.generate_key(&label, spec)?;
        let delivered_key = keys
            .vault
            .deliver_key(&wrapped, &csr.key)
            .map_err(|e| AuthorityError::internal(format!("sealing the escrowed key: {e}")))?;
        let wrapped_json = serde_json::to_string(&wrapped).map_err(AuthorityError::internal)?;
        let mut sign_params = IssueParams::new(
            csr.subject.clone(),
            csr.key.clone(),
            Vec::new(),
            not_before,
            not_after,
            request
                .profile
                .profile(organisation.as_deref(), KeyRole::Signing)?,
        );
        sign_params.sans = request.sans.clone();
        sign_params.identity = identity;
        let mut enc_params = sign_params.clone();
        enc_params.subject_public_key = wrapped.public_key()?;
        enc_params.profile = request
            .profile
            .profile(organisation.as_deref(), KeyRole::Encryption)?;
        for _ in 0..3 {
            let sign_der = self.sign(ca, &mut sign_params).await?;
            let enc_der = self.sign(ca, &mut enc_params).await?;
            let records = [
                Self::record(ca, &sign_params, sign_der.clone(), request.profile, actor),
                Self::record(ca, &enc_params, enc_der.clone(), request.profile, actor),
            ];
            let escrow = NewEscrow {
                ca: ca.info.name.clone(),
                serial: enc_params.serial.clone(),
                wrapped: wrapped_json.clone(),
            };
            let event = AuditEvent::new(
                actor.audit_name(),
                AuditAction::CertificateIssued,
                target(&ca.info.name, &sign_params.serial),
            )
            .with("profile", request.profile.as_str())
            .with("subject", records[0].subject.clone())
            .with("how", "dual")
            .with(
                "encryption_certificate",
                target(&ca.info.name, &enc_params.serial),
            )
            .with("escrowed_key", label.clone());
            match self
                .inner
                .store
                .issue_with_audit(&records, std::slice::from_ref(&escrow), event, now_ms())
                .await
            {
                Ok(_) => {
                    let chain = self.chain_of(&ca.info.name)?;
                    return Ok(DualIssued {
                        signing: Issued {
                            ca: ca.info.name.clone(),
                            serial: sign_params.serial.clone(),
                            der: sign_der,
                            chain: chain.clone(),
                        },
                        encryption: Issued {
                            ca: ca.info.name.clone(),
                            serial: enc_params.serial.clone(),
                            der: enc_der,
                            chain,
                        },
                        delivered_key,
                    });
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AuthorityError::Conflict(
            "could not draw an unused serial number".into(),
        ))
    }

    /// The certificate to renew or re-key, which must be valid (not revoked or on hold).
    async fn current(
        &self,
        actor: &Actor,
        ca: Option<&str>,
        serial: &[u8],
    ) -> Result<(String, Certificate, ProfileName)> {
        let record = self.certificate(actor, ca, serial).await?;
        let ca = record.certificate.ca.as_str();
        if record.certificate.platform {
            return Err(AuthorityError::Forbidden {
                role: actor.role.as_str(),
                action: "renew or re-key a platform certificate (the platform replaces its own: \
                         `yinxin admin replace-service`)",
            });
        }
        if record.status != yinxin_store::CertificateStatus::Valid {
            return Err(AuthorityError::Conflict(format!(
                "certificate {} is {}",
                target(ca, serial),
                record.status
            )));
        }
        let cert =
            Certificate::from_der(&record.certificate.der).map_err(AuthorityError::internal)?;
        let profile: ProfileName = record.certificate.profile.parse()?;
        Ok((ca.to_string(), cert, profile))
    }

    /// Renew: the same subject, key and extensions, a new serial and validity period.
    pub async fn renew(
        &self,
        actor: &Actor,
        ca: Option<&str>,
        serial: &[u8],
        validity_days: Option<u32>,
    ) -> Result<Issued> {
        actor.require(Permission::ChangeCertificates)?;
        let (ca, old, profile) = self.current(actor, ca, serial).await?;
        let key = yinxin_pki::certificate::public_key(&old).map_err(AuthorityError::internal)?;
        self.reissue(actor, &ca, &old, key, profile, validity_days, "renew")
            .await
    }

    /// Re-key: the same subject and profile for the new key of `csr`, whose subject must be
    /// the old certificate's.
    pub async fn rekey(
        &self,
        actor: &Actor,
        ca: Option<&str>,
        serial: &[u8],
        csr: &[u8],
        validity_days: Option<u32>,
    ) -> Result<Issued> {
        actor.require(Permission::ChangeCertificates)?;
        let (ca, old, profile) = self.current(actor, ca, serial).await?;
        let csr = verify_csr_blocking(csr).await?;
        self.inner
            .config
            .issuance_limits
            .check_subject(&csr.subject)
            .map_err(policy_error)?;
        if csr.subject != *old.tbs_certificate().subject() {
            return Err(AuthorityError::bad(
                "bad-subject",
                "a re-key request must carry the subject of the certificate it replaces",
            ));
        }
        self.reissue(actor, &ca, &old, csr.key, profile, validity_days, "rekey")
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn reissue(
        &self,
        actor: &Actor,
        ca_name: &str,
        old: &Certificate,
        key: PublicKey,
        profile: ProfileName,
        validity_days: Option<u32>,
        how: &'static str,
    ) -> Result<Issued> {
        if profile.is_platform() {
            actor.require(Permission::Administer)?;
        }
        if has_key_usage(old, x509_cert::ext::pkix::KeyUsages::KeyEncipherment)
            && profile.has_dual_form()
        {
            // Its key is the platform's escrowed key: a new one must come from the
            // key-management function too.
            return Err(AuthorityError::bad(
                "escrowed-key",
                "an encryption certificate of a dual pair is not renewed or re-keyed on its own; \
                 enrol the user for a new dual pair",
            ));
        }
        let keys = self.unsealed()?;
        let ca = self.issuing_ca(&keys, ca_name, &key)?;
        let subject = old.tbs_certificate().subject().clone();
        self.refuse_reserved(&subject)?;
        let organisation = organisation_of(&subject);
        let role = KeyRole::Signing;
        let (not_before, not_after) = self.validity(ca, validity_days)?;
        let mut params = IssueParams::new(
            subject,
            key,
            Vec::new(),
            not_before,
            not_after,
            profile.profile(organisation.as_deref(), role)?,
        );
        params.sans = sans_of(old);
        params.identity = Vec::new();
        carry_identity(old, &mut params);
        self.issue_recorded(actor, ca, &mut params, profile, how)
            .await
    }
}

fn has_key_usage(cert: &Certificate, bit: x509_cert::ext::pkix::KeyUsages) -> bool {
    matches!(
        cert.tbs_certificate().get_extension::<x509_cert::ext::pkix::KeyUsage>(),
        Ok(Some((_, ku))) if ku.0.contains(bit)
    )
}

fn sans_of(cert: &Certificate) -> Vec<San> {
    use x509_cert::ext::pkix::name::GeneralName;
    let Ok(Some((_, san))) = cert
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::SubjectAltName>()
    else {
        return Vec::new();
    };
    san.0
        .iter()
        .filter_map(|g| match g {
            GeneralName::DnsName(d) => Some(San::Dns(d.to_string())),
            GeneralName::Rfc822Name(e) => Some(San::Email(e.to_string())),
            GeneralName::IpAddress(ip) => match ip.as_bytes().len() {
                4 => <[u8; 4]>::try_from(ip.as_bytes())
                    .ok()
                    .map(|b| San::Ip(std::net::IpAddr::from(b))),
                16 => <[u8; 16]>::try_from(ip.as_bytes())
                    .ok()
                    .map(|b| San::Ip(std::net::IpAddr::from(b))),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Carry GM/T 0015 identity extensions over to a renewed certificate, as their raw values.
fn carry_identity(old: &Certificate, params: &mut IssueParams) {
    use yinxin_pki::profile::gmt0015;
    let Some(exts) = old.tbs_certificate().extensions() else {
        return;
    };
    for ext in exts {
        let value = ext.extn_value.as_bytes();
        let printable = || {
            der::asn1::PrintableStringRef::from_der(value)
                .ok()
                .map(|s| s.as_str().to_string())
        };
        let id = match ext.extn_id {
            o if o == gmt0015::ORGANIZATION_CODE => {
                printable().map(IdentityExtension::OrganizationCode)
            }
            o if o == gmt0015::TAXATION_NUMBER => {
                printable().map(IdentityExtension::TaxationNumber)
            }
            o if o == gmt0015::INSURANCE_NUMBER => {
                printable().map(IdentityExtension::InsuranceNumber)
            }
            o if o == gmt0015::IC_REGISTRATION_NUMBER => {
                printable().map(IdentityExtension::IcRegistrationNumber)
            }
            _ => None,
        };
        if let Some(id) = id {
            params.identity.push(id);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use yinxin_crypto::KeySpec;
    use yinxin_pki::profile::{IdentifyCode, IdentityExtension, San};

    use crate::Role;
    use crate::test_support::{actor, enrol, trial};

    /// Finding 6 of the probe: 5,000 DNS SANs gave an 89.6 KB certificate, a 100,000-character
    /// organisation code a 100.7 KB one, and any text passed as a code.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn request_inputs_are_bounded_and_identifiers_checked() {
        let dir = tempfile::tempdir().unwrap();
        let (a, _) = trial(&dir).await;
        let ra = actor(Role::RaOperator);
        let refused = |request, code: &'static str, reason: &'static str| {
            let a = a.clone();
            let ra = ra.clone();
            async move {
                let e = a.issue(&ra, &request).await.unwrap_err();
                assert_eq!(e.code(), code, "{e}");
                assert!(e.to_string().contains(reason), "{e}");
                let e = a.enrol_dual(&ra, &request).await.unwrap_err();
                assert_eq!(e.code(), code, "{e}");
            }
        };
        let mut many = enrol(KeySpec::Sm2, "CN=Many,O=Hospital,C=CN");
        many.sans = (0..5000)
            .map(|i| San::Dns(format!("h{i}.example.cn")))
            .collect();
        refused(many, "limit-exceeded", "5000").await;
        let mut long = enrol(KeySpec::Sm2, "CN=Long,O=Hospital,C=CN");
        long.identity = vec![IdentityExtension::OrganizationCode("9".repeat(100_000))];
        refused(long, "limit-exceeded", "100000").await;
        let mut bad = enrol(KeySpec::Sm2, "CN=Bad,O=Hospital,C=CN");
        bad.identity = vec![IdentityExtension::OrganizationCode(
            "91110000600037341M".into(),
        )];
        refused(bad, "bad-identifier", "expected 'L'").await;
        let mut bad_id = enrol(KeySpec::Sm2, "CN=张三,O=Hospital,C=CN");
        bad_id.identity = vec![IdentityExtension::IdentifyCode(
            IdentifyCode::ResidentCardNumber("110105194912310021".into()),
        )];
        refused(bad_id, "bad-identifier", "check character").await;
        let cn = "字".repeat(129);
        refused(
            enrol(KeySpec::Sm2, &format!("CN={cn},O=Hospital,C=CN")),
            "limit-exceeded",
            "129",
        )
        .await;
        // Two requests in one PEM: which one was meant is not guessed.
        let mut two = enrol(KeySpec::Sm2, "CN=Two,O=Hospital,C=CN");
        two.csr
            .extend_from_slice(&crate::test_support::csr(KeySpec::Sm2, "CN=Other,O=X,C=CN"));
        let e = a.issue(&ra, &two).await.unwrap_err();
        assert!(e.to_string().contains("more than one"), "{e}");
        // Within the limits: 100 SANs, a lower-case code written in its normal form.
        let mut fine = enrol(
            KeySpec::Sm2,
            &format!("CN={},O=Hospital,C=CN", "字".repeat(64)),
        );
        fine.sans = (0..100)
            .map(|i| San::Dns(format!("h{i}.example.cn")))
            .collect();
        fine.identity = vec![IdentityExtension::OrganizationCode(
            "91110000600037341l".into(),
        )];
        let issued = a.issue(&ra, &fine).await.unwrap();
        let der = issued.der;
        assert!(der.windows(18).any(|w| w == b"91110000600037341L"));
    }
}
