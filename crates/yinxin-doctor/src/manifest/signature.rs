//! Signing a manifest with a code-signing certificate, and judging such a signature.

use std::time::SystemTime;

use x509_cert::ext::pkix::ExtendedKeyUsage;
use yinxin_cms::signed_data::{self, Form, SignOptions, SignerProblem, SignerSpec, VerifyOptions};
use yinxin_crypto::Signer;
use yinxin_pki::certificate::{self, Certificate};
use yinxin_pki::path::Purpose;

use super::{Manifest, ManifestError};

/// Whether a manifest's signature can be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureVerdict {
    /// A code-signing certificate that chains to a trust anchor signed exactly this manifest.
    Trusted {
        /// The signer's certificate subject (RFC 4514).
        signer: String,
        /// The signer's certificate serial number, hex.
        serial: String,
    },
    /// Anything else, with the reason in plain words.
    Untrusted {
        /// Why.
        reason: String,
    },
}

impl SignatureVerdict {
    /// Whether the signature is trusted.
    pub fn is_trusted(&self) -> bool {
        matches!(self, SignatureVerdict::Trusted { .. })
    }

    fn untrusted(reason: impl Into<String>) -> Self {
        SignatureVerdict::Untrusted {
            reason: reason.into(),
        }
    }
}

/// Sign a manifest's exact bytes: a detached CMS `SignedData` in DER, RFC 5652 form (module
/// docs), with `signingTime`, the signer's certificate and `chain_der` included.
///
/// Refuses bytes that are not a valid manifest, a certificate without the codeSigning
/// extended key usage, and one that is not valid now; the key must be the certificate's.
pub fn sign(
    manifest_json: &[u8],
    signer: &dyn Signer,
    certificate_der: &[u8],
    chain_der: &[Vec<u8>],
) -> Result<Vec<u8>, ManifestError> {
    Manifest::from_json(manifest_json)?;
    let certificate = certificate::from_pem_or_der(certificate_der).map_err(|error| {
        ManifestError::Certificate {
            what: "signer's",
            error,
        }
    })?;
    let chain = chain_der
        .iter()
        .map(|der| certificate::from_pem_or_der(der))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ManifestError::Certificate {
            what: "chain",
            error,
        })?;
    let subject = certificate.tbs_certificate().subject().to_string();
    if !allows_code_signing(&certificate) {
        return Err(ManifestError::NotCodeSigning { subject });
    }
    if let Some(reason) = outside_validity(&certificate, SystemTime::now()) {
        return Err(ManifestError::CertificateNotValid { subject, reason });
    }
    let options = SignOptions {
        form: Form::Rfc5652,
        detached: true,
        ..SignOptions::default()
    };
    let spec = SignerSpec::new(signer, &certificate).with_chain(&chain);
    signed_data::sign(manifest_json, &[spec], &options).map_err(ManifestError::Signing)
}

/// Judge the signature `signature_der` (DER, BER or PEM) of the manifest bytes
/// `manifest_json` at time `at`: trusted only if every signer is valid, the first signer's
/// certificate chains to one of `anchors`, carries the codeSigning extended key usage and is
/// valid at `at`, and the signature covers exactly these bytes.
pub fn verify_signature(
    manifest_json: &[u8],
    signature_der: &[u8],
    anchors: &[Certificate],
    at: SystemTime,
) -> SignatureVerdict {
    if anchors.is_empty() {
        return SignatureVerdict::untrusted("no trust anchor was given to check it against");
    }
    let options = VerifyOptions::new(anchors)
        .at(at)
        .with_purposes([Purpose::CodeSigning]);
    let report = match signed_data::verify(signature_der, Some(manifest_json), &options) {
        Ok(report) => report,
        Err(e) => {
            return SignatureVerdict::untrusted(format!(
                "the signature file is not a usable CMS signature: {e}"
            ));
        }
    };
    // An attached signature is checked against its own content, not the manifest's bytes.
    if let Some(content) = &report.content
        && content.as_slice() != manifest_json
    {
        return SignatureVerdict::untrusted(
            "the signature carries another document than this manifest",
        );
    }
    let Some(first) = report.signers.first() else {
        return SignatureVerdict::untrusted("the signature file has no signer");
    };
    if let Some((i, problem)) = report
        .signers
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.problem.as_ref().map(|p| (i, p)))
    {
        let who = report.signers.get(i).and_then(|s| s.subject.clone());
        let by = who
            .map(|s| format!(" (signer \"{s}\")"))
            .unwrap_or_default();
        return SignatureVerdict::untrusted(format!("{}{by}", explain(problem)));
    }
    for s in &report.signers {
        let Some(certificate) = &s.certificate else {
            return SignatureVerdict::untrusted("the signer's certificate was not found");
        };
        // The validator reads a certificate without EKU as "any purpose"; a manifest asks more.
        if !allows_code_signing(certificate) {
            return SignatureVerdict::untrusted(format!(
                "the signer \"{}\" is not a code-signing certificate (no codeSigning extended \
                 key usage)",
                s.subject.as_deref().unwrap_or("?")
            ));
        }
    }
    SignatureVerdict::Trusted {
        signer: first.subject.clone().unwrap_or_default(),
        serial: first.serial.clone().unwrap_or_default(),
    }
}

/// A signer's problem in the words a person checking an installation needs.
fn explain(problem: &SignerProblem) -> String {
    match problem {
        SignerProblem::ContentDigestMismatch | SignerProblem::SignatureInvalid => format!(
            "the manifest does not match its signature: it was changed after signing ({problem})"
        ),
        SignerProblem::Chain(e) => format!(
            "the signer's certificate is not trusted: {}",
            e.to_string().replace('\n', " ")
        ),
        other => other.to_string().replace('\n', " "),
    }
}

/// Whether the certificate itself lists id-kp-codeSigning (not merely "no EKU": see the
/// module docs).
fn allows_code_signing(certificate: &Certificate) -> bool {
    match certificate
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
    {
        Ok(Some((_, eku))) => eku.0.contains(&Purpose::CodeSigning.oid()),
        _ => false,
    }
}

/// Why the certificate is not valid at `at`, if it is not.
fn outside_validity(certificate: &Certificate, at: SystemTime) -> Option<String> {
    let validity = certificate.tbs_certificate().validity();
    let not_before = validity.not_before.to_system_time();
    let not_after = validity.not_after.to_system_time();
    if at < not_before {
        Some(format!("is not valid before {}", validity.not_before))
    } else if at > not_after {
        Some(format!("expired on {}", validity.not_after))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_untrusted_not_a_panic() {
        let json = Manifest {
            product: "yinxin".into(),
            version: "1".into(),
            created_at: "2026-01-27T12:00:00Z".into(),
            files: vec![],
        }
        .to_json();
        let verdict = verify_signature(&json, b"not cms", &[], SystemTime::now());
        assert!(!verdict.is_trusted());
    }
}
