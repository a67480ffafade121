//! Building `SignedData` from precomputed pieces.

use std::sync::Arc;
use std::time::SystemTime;

use const_oid::ObjectIdentifier;
use yinxin_crypto::{HashAlgorithm, KeyAlgorithm, SignatureScheme, Signer, hash};
use yinxin_pki::certificate::Certificate;

use super::der_out::{self, CONTEXT_0, OCTET_STRING, SEQUENCE, SET, tlv};
use super::{Form, encode};
use crate::error::{Error, Result};
use crate::oid;

/// Everything about one signer that does not change from message to message, DER-encoded.
#[derive(Clone, Debug)]
pub(crate) struct SignerParts {
    scheme: SignatureScheme,
    hash: HashAlgorithm,
    /// `digestAlgorithm`.
    digest_algorithm: Vec<u8>,
    /// `sid`: `IssuerAndSerialNumber`.
    sid: Vec<u8>,
    /// `signatureAlgorithm`.
    signature_algorithm: Vec<u8>,
    /// The whole `signingCertificateV2` attribute, if written.
    signing_certificate: Option<Vec<u8>>,
}

impl SignerParts {
    /// Check that `signer` holds the key of `certificate` and that `scheme` fits it, and
    /// encode the signer's fixed fields for `form`.
    pub(crate) fn new(
        signer: &dyn Signer,
        scheme: &SignatureScheme,
        certificate: &Certificate,
        certificate_der: &[u8],
        form: Form,
        signing_certificate_v2: bool,
    ) -> Result<Self> {
        let certified = yinxin_pki::certificate::public_key(certificate)?;
        if certified.to_der() != signer.public_key().to_der() {
            return Err(Error::CertificateKeyMismatch {
                subject: certificate.tbs_certificate().subject().to_string(),
            });
        }
        scheme.check_fits(signer.algorithm())?;
        let hash = scheme.hash();
        let signature_algorithm = match (form, signer.algorithm()) {
            (Form::GmT0010, KeyAlgorithm::Sm2) => {
                tlv(SEQUENCE, &[&der_out::oid(&yinxin_crypto::oid::SM2_SIGN)])
            }
            (Form::GmT0010, other) => {
                return Err(Error::Unsupported(format!(
                    "GM/T 0010 defines SM2 signatures only, not {other}"
                )));
            }
            (Form::Rfc5652, _) => encode(
                "signature algorithm",
                &yinxin_pki::algorithm::signature_algorithm(scheme)?,
            )?,
        };
        let tbs = certificate.tbs_certificate();
        let issuer = encode("issuer name", tbs.issuer())?;
        let serial = encode("serial number", tbs.serial_number())?;
        let sid = tlv(SEQUENCE, &[&issuer, &serial]);
        let signing_certificate = signing_certificate_v2.then(|| {
            // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT id-sha256, certHash,
            //     issuerSerial IssuerSerial { issuer GeneralNames, serialNumber } }
            let cert_hash = hash::digest(HashAlgorithm::Sha256, certificate_der);
            let directory_name = tlv(der_out::CONTEXT_4, &[&issuer]);
            let general_names = tlv(SEQUENCE, &[&directory_name]);
            let issuer_serial = tlv(SEQUENCE, &[&general_names, &serial]);
            let cert_id = tlv(
                SEQUENCE,
                &[&der_out::octet_string(&cert_hash), &issuer_serial],
            );
            let value = tlv(SEQUENCE, &[&tlv(SEQUENCE, &[&cert_id])]);
            attribute(&oid::ID_AA_SIGNING_CERTIFICATE_V2, &value)
        });
        Ok(SignerParts {
            scheme: scheme.clone(),
            hash,
            digest_algorithm: tlv(SEQUENCE, &[&der_out::oid(&hash.oid())]),
            sid,
            signature_algorithm,
            signing_certificate,
        })
    }

    /// The `SignerInfo` over content of `content_type` whose digest is `digest`.
    fn signer_info(
        &self,
        signer: &dyn Signer,
        content_type: &[u8],
        digest: &[u8],
        signing_time: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        let mut attributes: Vec<Vec<u8>> = Vec::with_capacity(4);
        attributes.push(attribute(&oid::ID_CONTENT_TYPE, content_type));
        attributes.push(attribute(
            &oid::ID_MESSAGE_DIGEST,
            &der_out::octet_string(digest),
        ));
        if let Some(time) = signing_time {
            attributes.push(attribute(&oid::ID_SIGNING_TIME, time));
        }
        if let Some(ess) = &self.signing_certificate {
            attributes.push(ess.clone());
        }
        attributes.sort();
        let parts: Vec<&[u8]> = attributes.iter().map(Vec::as_slice).collect();
        let signed_attributes = tlv(SET, &parts);
        let signature = signer.sign(&self.scheme, &signed_attributes)?;
        let mut implicit = signed_attributes;
        implicit[0] = CONTEXT_0;
        Ok(tlv(
            SEQUENCE,
            &[
                &der_out::small_integer(1),
                &self.sid,
                &self.digest_algorithm,
                &implicit,
                &self.signature_algorithm,
                &tlv(OCTET_STRING, &[&signature]),
            ],
        ))
    }
}

/// `Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF ANY }` with one
/// value.
fn attribute(attribute_type: &ObjectIdentifier, value: &[u8]) -> Vec<u8> {
    tlv(
        SEQUENCE,
        &[&der_out::oid(attribute_type), &tlv(SET, &[value])],
    )
}

/// `signingTime`'s value: UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5652 §11.3),
/// whole seconds.
fn signing_time_value(time: SystemTime) -> Result<Vec<u8>> {
    let time =
        x509_cert::time::Time::try_from(time).map_err(|e| Error::decode("signing time", e))?;
    encode("signing time", &time)
}

/// Assemble the `ContentInfo` of a `SignedData`: hash the content once per digest algorithm,
/// sign for every signer, and concatenate.
pub(crate) fn assemble(
    form: Form,
    content_type: &ObjectIdentifier,
    content: &[u8],
    detached: bool,
    signers: &[(&dyn Signer, &SignerParts)],
    certificates: Option<&[u8]>,
    signing_time: Option<SystemTime>,
) -> Result<Vec<u8>> {
    let content_type_der = der_out::oid(content_type);
    let time = signing_time.map(signing_time_value).transpose()?;
    let mut digests: Vec<(HashAlgorithm, Vec<u8>)> = Vec::with_capacity(1);
    let mut infos = Vec::with_capacity(signers.len());
    let mut digest_algorithms: Vec<Vec<u8>> = Vec::with_capacity(1);
    for (signer, parts) in signers {
        let digest = match digests.iter().find(|(h, _)| *h == parts.hash) {
            Some((_, d)) => d.clone(),
            None => {
                let d = hash::digest(parts.hash, content);
                digests.push((parts.hash, d.clone()));
                digest_algorithms.push(parts.digest_algorithm.clone());
                d
            }
        };
        infos.push(parts.signer_info(*signer, &content_type_der, &digest, time.as_deref())?);
    }
    let version = match form {
        Form::Rfc5652 if *content_type != oid::ID_DATA => 3,
        _ => 1,
    };
    let econtent = (!detached).then(|| tlv(CONTEXT_0, &[&der_out::octet_string(content)]));
    let encap = tlv(
        SEQUENCE,
        &[&content_type_der, econtent.as_deref().unwrap_or_default()],
    );
    let signed_data = tlv(
        SEQUENCE,
        &[
            &der_out::small_integer(version),
            &der_out::set_of(digest_algorithms),
            &encap,
            certificates.unwrap_or_default(),
            &der_out::set_of(infos),
        ],
    );
    Ok(tlv(
        SEQUENCE,
        &[
            &der_out::oid(&form.signed_data_oid()),
            &tlv(CONTEXT_0, &[&signed_data]),
        ],
    ))
}

/// A signer prepared for many messages: its key handle and every fixed field already encoded.
#[derive(Clone, Debug)]
pub struct PreparedSigner {
    signer: Arc<dyn Signer>,
    parts: SignerParts,
    certificates: Vec<Vec<u8>>,
}

impl PreparedSigner {
    /// Prepare `signer` (whose key `certificate` certifies) to sign under `scheme` in `form`,
    /// including `chain` with its certificate when certificates are asked for.
    pub fn new(
        signer: Arc<dyn Signer>,
        scheme: SignatureScheme,
        certificate: &Certificate,
        chain: &[Certificate],
        form: Form,
        signing_certificate_v2: bool,
    ) -> Result<Self> {
        let certificate_der = encode("certificate", certificate)?;
        let parts = SignerParts::new(
            signer.as_ref(),
            &scheme,
            certificate,
            &certificate_der,
            form,
            signing_certificate_v2,
        )?;
        let mut certificates = vec![certificate_der];
        for c in chain {
            certificates.push(encode("certificate", c)?);
        }
        Ok(PreparedSigner {
            signer,
            parts,
            certificates,
        })
    }

    /// The signature scheme.
    pub fn scheme(&self) -> &SignatureScheme {
        &self.parts.scheme
    }
}

/// Per-message choices of [`SignedDataBuilder::build`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Leave the content out.
    pub detached: bool,
    /// The `signingTime` attribute's value, if one is written.
    pub signing_time: Option<SystemTime>,
    /// Include the signers' certificates.
    pub include_certificates: bool,
}

/// Builds `SignedData` messages for fixed signers, fast: certificates, identifiers and the
/// `signingCertificateV2` attributes are encoded once, so a message costs one hash of the
/// content, one signature per signer and concatenation. `Send + Sync`; share it in an `Arc`.
#[derive(Clone, Debug)]
pub struct SignedDataBuilder {
    form: Form,
    signers: Vec<PreparedSigner>,
    certificates: Vec<u8>,
}

impl SignedDataBuilder {
    /// A builder for these signers (at least one) in `form`.
    pub fn new(form: Form, signers: Vec<PreparedSigner>) -> Result<Self> {
        if signers.is_empty() {
            return Err(Error::Unsupported(
                "a SignedData needs at least one signer".into(),
            ));
        }
        let mut all: Vec<&[u8]> = signers
            .iter()
            .flat_map(|s| s.certificates.iter().map(Vec::as_slice))
            .collect();
        all.sort();
        all.dedup();
        Ok(SignedDataBuilder {
            form,
            certificates: tlv(CONTEXT_0, &all),
            signers,
        })
    }

    /// The form written.
    pub fn form(&self) -> Form {
        self.form
    }

    /// The DER `ContentInfo` of a `SignedData` over `content` of `content_type` (written as
    /// the form spells it; anything but data makes an RFC 5652 `SignedData` version 3).
    pub fn build(
        &self,
        content_type: &ObjectIdentifier,
        content: &[u8],
        options: &BuildOptions,
    ) -> Result<Vec<u8>> {
        let signing: Vec<(&dyn Signer, &SignerParts)> = self
            .signers
            .iter()
            .map(|s| (s.signer.as_ref(), &s.parts))
            .collect();
        assemble(
            self.form,
            &self.form.spell(*content_type),
            content,
            options.detached,
            &signing,
            options
                .include_certificates
                .then_some(self.certificates.as_slice()),
            options.signing_time,
        )
    }
}
