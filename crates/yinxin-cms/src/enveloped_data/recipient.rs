//! Recipients of an `EnvelopedData`: how a recipient is named when sealing, and which
//! `RecipientInfo`s a decryption key may open.
//!
//! A recipient's key decides its `RecipientInfo`: RSA and SM2 keys get a
//! `KeyTransRecipientInfo` (RSAES-OAEP, or SM2 encryption per GM/T 0010), P-256 and P-384
//! keys a `KeyAgreeRecipientInfo` (ephemeral-static ECDH, RFC 5753).

use cms::cert::IssuerAndSerialNumber;
use cms::enveloped_data::{KeyAgreeRecipientIdentifier, RecipientIdentifier};
use der::asn1::OctetString;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use yinxin_crypto::{KeyAlgorithm, PublicKey};

use crate::error::{Error, Result};

/// A recipient to seal an envelope for: an RSA, SM2, P-256 or P-384 public key, named in the
/// envelope either by its subject key identifier or by its certificate's issuer and serial
/// number.
#[derive(Clone, Debug)]
pub struct Recipient {
    public_key: PublicKey,
    rid: RecipientIdentifier,
}

impl Recipient {
    /// A recipient known by its public key alone, named by the subject key identifier of
    /// RFC 5280 §4.2.1.2 method 1 (see [`subject_key_identifier`]).
    pub fn by_key_identifier(public_key: &PublicKey) -> Result<Self> {
        key_management(public_key)?;
        let ski = OctetString::new(subject_key_identifier(public_key)?)
            .map_err(|e| Error::decode("subject key identifier", e))?;
        Ok(Recipient {
            public_key: public_key.clone(),
            rid: RecipientIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(ski)),
        })
    }

    /// A recipient known by its certificate (DER), named by the certificate's issuer and
    /// serial number, as `openssl cms -encrypt` names recipients.
    pub fn by_certificate(certificate_der: &[u8]) -> Result<Self> {
        let cert = Certificate::from_der(certificate_der)
            .map_err(|e| Error::decode("recipient certificate", e))?;
        let public_key = certificate_key(&cert)?;
        key_management(&public_key)?;
        let tbs = cert.tbs_certificate();
        Ok(Recipient {
            public_key,
            rid: RecipientIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
        })
    }

    /// The recipient's public key, to which the content-encryption key is encrypted.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// How the envelope names the recipient.
    pub fn identifier(&self) -> &RecipientIdentifier {
        &self.rid
    }
}

/// The subject key identifier of RFC 5280 §4.2.1.2 method 1: the SHA-1 hash of the
/// `subjectPublicKey` BIT STRING's bits, as `yinxin_pki::profile::key_identifier` and OpenSSL
/// compute it for certificates.
pub fn subject_key_identifier(public_key: &PublicKey) -> Result<Vec<u8>> {
    let der = public_key.to_der();
    let spki =
        SubjectPublicKeyInfoRef::from_der(&der).map_err(|e| Error::decode("public key", e))?;
    let ski = SubjectKeyIdentifier::try_from(spki).map_err(|e| Error::decode("public key", e))?;
    Ok(ski.0.as_bytes().to_vec())
}

/// The ways a content-encryption key reaches a recipient's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyManagement {
    /// `KeyTransRecipientInfo` with RSA (RSAES-OAEP, or PKCS#1 v1.5 when asked).
    RsaTransport,
    /// `KeyTransRecipientInfo` with SM2 encryption (GM/T 0010 §9.2).
    Sm2Transport,
    /// `KeyAgreeRecipientInfo` with ephemeral-static ECDH (RFC 5753).
    EcdhAgreement,
}

/// How keys of this algorithm receive a content-encryption key. Every algorithm yinxin has
/// can receive one, so this cannot fail today; it stays a `Result` for algorithms to come.
pub(crate) fn key_management(public_key: &PublicKey) -> Result<KeyManagement> {
    Ok(match public_key.algorithm() {
        KeyAlgorithm::Rsa { .. } => KeyManagement::RsaTransport,
        KeyAlgorithm::Sm2 => KeyManagement::Sm2Transport,
        KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => KeyManagement::EcdhAgreement,
    })
}

fn certificate_key(cert: &Certificate) -> Result<PublicKey> {
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|e| Error::decode("recipient certificate", e))?;
    Ok(PublicKey::from_der(&spki)?)
}

/// Whether a `RecipientInfo` is addressed to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// Named by this key's identifier or certificate.
    Yes,
    /// Named by a certificate the caller did not give: it may be this key's.
    Maybe,
    /// Named otherwise.
    No,
}

/// What a decryption key is known by.
pub(crate) struct Matcher {
    key_identifiers: Vec<Vec<u8>>,
    issuer_and_serial: Option<IssuerAndSerialNumber>,
}

impl Matcher {
    /// A key known by its public key only: its computed subject key identifier matches, a
    /// certificate's issuer and serial number may.
    pub(crate) fn for_key(public_key: &PublicKey) -> Result<Self> {
        Ok(Matcher {
            key_identifiers: vec![subject_key_identifier(public_key)?],
            issuer_and_serial: None,
        })
    }

    /// A key with its certificate (DER), whose public key must be the key's: its issuer and
    /// serial number match, and so do the computed identifier and the certificate's own
    /// subject key identifier extension.
    pub(crate) fn for_certificate(public_key: &PublicKey, certificate_der: &[u8]) -> Result<Self> {
        let cert = Certificate::from_der(certificate_der)
            .map_err(|e| Error::decode("recipient certificate", e))?;
        if certificate_key(&cert)? != *public_key {
            return Err(Error::Unsupported(
                "the certificate given is not the decryption key's certificate".into(),
            ));
        }
        let mut key_identifiers = vec![subject_key_identifier(public_key)?];
        let tbs = cert.tbs_certificate();
        if let Ok(Some((_, ski))) = tbs.get_extension::<SubjectKeyIdentifier>() {
            key_identifiers.push(ski.0.as_bytes().to_vec());
        }
        Ok(Matcher {
            key_identifiers,
            issuer_and_serial: Some(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
        })
    }

    /// Whether a `KeyAgreeRecipientInfo`'s recipient is this key (`rKeyId` carries the
    /// subject key identifier).
    pub(crate) fn check_agree(&self, rid: &KeyAgreeRecipientIdentifier) -> Match {
        match rid {
            KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => {
                self.check(&RecipientIdentifier::IssuerAndSerialNumber(ias.clone()))
            }
            KeyAgreeRecipientIdentifier::RKeyId(k) => self.check(
                &RecipientIdentifier::SubjectKeyIdentifier(k.subject_key_identifier.clone()),
            ),
        }
    }

    pub(crate) fn check(&self, rid: &RecipientIdentifier) -> Match {
        match (rid, &self.issuer_and_serial) {
            (RecipientIdentifier::SubjectKeyIdentifier(ski), _) => {
                if self
                    .key_identifiers
                    .iter()
                    .any(|k| k.as_slice() == ski.0.as_bytes())
                {
                    Match::Yes
                } else {
                    Match::No
                }
            }
            (RecipientIdentifier::IssuerAndSerialNumber(_), None) => Match::Maybe,
            (RecipientIdentifier::IssuerAndSerialNumber(named), Some(ours)) => {
                if named == ours {
                    Match::Yes
                } else {
                    Match::No
                }
            }
        }
    }
}
