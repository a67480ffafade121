//! The TSA side: [`TimestampSigner`] turns judged requests into granted responses.

use std::sync::Arc;
use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use yinxin_crypto::{SignatureScheme, Signer};
use yinxin_pki::certificate::Certificate;

use super::request::TimestampRequest;
use super::{Accuracy, FailureInfo, Rejection};
use crate::error::{Error, Result};
use crate::oid;
use crate::signed_data::der_out::{self, BOOLEAN, CONTEXT_0, SEQUENCE, tlv};
use crate::signed_data::{BuildOptions, Form, PreparedSigner, SignedDataBuilder, encode};

/// How a TSA stamps: its policy OID, the accuracy it claims, whether it claims ordering,
/// whether tokens name it (`tsa` field, its certificate's subject), and the message form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TsaPolicy {
    /// The TSA policy (`TSAPolicyId`); requests for another policy are refused.
    pub policy: ObjectIdentifier,
    /// The accuracy of `genTime`; below one second, `genTime` carries a fraction.
    pub accuracy: Option<Accuracy>,
    /// Claim `ordering` (tokens ordered by `genTime` alone).
    pub ordering: bool,
    /// Put the TSA's name (its certificate's subject) in the `tsa` field.
    pub tsa_name: bool,
    /// The identifiers of the token's `SignedData`.
    pub form: Form,
}

impl TsaPolicy {
    /// A policy with this OID, accuracy one second, no ordering, no name, RFC 5652 form.
    pub fn new(policy: ObjectIdentifier) -> Self {
        TsaPolicy {
            policy,
            accuracy: Some(Accuracy {
                seconds: 1,
                millis: 0,
                micros: 0,
            }),
            ordering: false,
            tsa_name: false,
            form: Form::Rfc5652,
        }
    }
}

/// A timestamp authority's signer: key handle, certificate, chain and policy, with every
/// fixed part of a token encoded once. `Send + Sync`; share it in an `Arc`.
#[derive(Clone, Debug)]
pub struct TimestampSigner {
    builder: SignedDataBuilder,
    policy: TsaPolicy,
    certificate: Certificate,
    /// `policy` as DER.
    policy_der: Vec<u8>,
    /// `accuracy`, `ordering`: the DER between `genTime` and `nonce`.
    accuracy_and_ordering: Vec<u8>,
    /// `tsa [0] GeneralName`, if named.
    tsa_name: Vec<u8>,
    /// Fractional digits of `genTime`.
    fraction_digits: u32,
}

impl TimestampSigner {
    /// A signer for a TSA whose key `signer` holds, certified by `certificate` (with its
    /// `chain` of CA certificates, included when a request asks for certificates).
    ///
    /// The certificate must certify the handle's key and carry the extended key usage
    /// `id-kp-timeStamping` as its only purpose, marked critical (RFC 3161 §2.3); the scheme
    /// must fit the key; [`Form::GmT0010`] needs an SM2 key.
    pub fn new(
        signer: Arc<dyn Signer>,
        scheme: SignatureScheme,
        certificate: Certificate,
        chain: Vec<Certificate>,
        policy: TsaPolicy,
    ) -> Result<Self> {
        check_time_stamping_usage(&certificate).map_err(Error::NotTimeStampingCertificate)?;
        let prepared =
            PreparedSigner::new(signer, scheme, &certificate, &chain, policy.form, true)?;
        let builder = SignedDataBuilder::new(policy.form, vec![prepared])?;
        let mut accuracy_and_ordering = Vec::new();
        if let Some(a) = policy.accuracy.filter(|a| *a != Accuracy::default()) {
            accuracy_and_ordering.extend(encode("Accuracy", &a.to_asn1())?);
        }
        if policy.ordering {
            accuracy_and_ordering.extend(tlv(BOOLEAN, &[&[0xff]]));
        }
        let tsa_name = if policy.tsa_name {
            let subject = encode("TSA name", certificate.tbs_certificate().subject())?;
            tlv(CONTEXT_0, &[&tlv(der_out::CONTEXT_4, &[&subject])])
        } else {
            Vec::new()
        };
        let fraction_digits = policy.accuracy.map_or(0, |a| a.fraction_digits());
        Ok(TimestampSigner {
            builder,
            policy_der: der_out::oid(&policy.policy),
            policy,
            certificate,
            accuracy_and_ordering,
            tsa_name,
            fraction_digits,
        })
    }

    /// The policy.
    pub fn policy(&self) -> &TsaPolicy {
        &self.policy
    }

    /// The TSA's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The granted `TimeStampResp` DER for `request`, with this `serial` (unique per TSA; the
    /// caller allocates it) and `gen_time` (the caller's checked clock).
    ///
    /// A request for another policy is refused with `unacceptedPolicy`; the nonce is echoed;
    /// the certificates are included if and only if the request has `certReq`; a signing
    /// failure is `systemFailure`.
    pub fn respond(
        &self,
        request: &TimestampRequest,
        serial: u128,
        gen_time: SystemTime,
    ) -> std::result::Result<Vec<u8>, Rejection> {
        if let Some(asked) = request.policy()
            && *asked != self.policy.policy
        {
            return Err(Rejection::new(
                FailureInfo::UnacceptedPolicy,
                format!(
                    "this TSA stamps under policy {}, not {asked}",
                    self.policy.policy
                ),
            ));
        }
        let token = self
            .token(request, serial, gen_time)
            .map_err(|e| Rejection::new(FailureInfo::SystemFailure, format!("cannot sign: {e}")))?;
        // TimeStampResp { status PKIStatusInfo { status granted(0) }, timeStampToken }
        const GRANTED: [u8; 5] = [SEQUENCE, 3, 0x02, 1, 0];
        Ok(tlv(SEQUENCE, &[&GRANTED, &token]))
    }

    /// The token (`ContentInfo` DER) alone.
    pub fn token(
        &self,
        request: &TimestampRequest,
        serial: u128,
        gen_time: SystemTime,
    ) -> Result<Vec<u8>> {
        let gen_time_der = der_out::generalized_time(gen_time, self.fraction_digits)?;
        let nonce = request.nonce().map(der_out::unsigned_integer);
        let tst_info = tlv(
            SEQUENCE,
            &[
                &[0x02, 1, 1],
                &self.policy_der,
                &request.message_imprint_der(),
                &der_out::unsigned_integer(&serial.to_be_bytes()),
                &gen_time_der,
                &self.accuracy_and_ordering,
                nonce.as_deref().unwrap_or_default(),
                &self.tsa_name,
            ],
        );
        self.builder.build(
            &oid::ID_CT_TST_INFO,
            &tst_info,
            &BuildOptions {
                detached: false,
                signing_time: None,
                include_certificates: request.cert_req(),
            },
        )
    }
}

/// RFC 3161 §2.3: extKeyUsage present, critical, and `id-kp-timeStamping` its only purpose.
pub(crate) fn check_time_stamping_usage(
    certificate: &Certificate,
) -> std::result::Result<(), String> {
    use x509_cert::ext::pkix::ExtendedKeyUsage;
    let subject = certificate.tbs_certificate().subject();
    match certificate
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
    {
        Err(e) => Err(format!("\"{subject}\": unreadable extKeyUsage: {e}")),
        Ok(None) => Err(format!("\"{subject}\" has no extKeyUsage")),
        Ok(Some((false, _))) => Err(format!("\"{subject}\": extKeyUsage is not critical")),
        Ok(Some((true, eku))) if eku.0 != [oid::ID_KP_TIME_STAMPING] => Err(format!(
            "\"{subject}\": extKeyUsage must be timeStamping alone"
        )),
        Ok(Some(_)) => Ok(()),
    }
}
