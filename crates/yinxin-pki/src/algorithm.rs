//! X.509 / CMS signature `AlgorithmIdentifier`s for each signature scheme, both ways.

use der::asn1::{Any, Null, ObjectIdentifier};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use yinxin_crypto::oid::{self, Meaning};
use yinxin_crypto::{DistinguishingId, HashAlgorithm, SignatureScheme};

use crate::{Error, Result};

/// `RSASSA-PSS-params` (RFC 4055 §3.1), with the defaults written out as OpenSSL does.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct RsassaPssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    hash_algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    mask_gen_algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    salt_length: u32,
}

fn hash_identifier(h: HashAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: h.oid(),
        parameters: None,
    }
}

fn any_of(value: &impl Encode) -> Result<Any> {
    let der = value
        .to_der()
        .map_err(|e| Error::decode("algorithm parameters", e))?;
    Any::from_der(&der).map_err(|e| Error::decode("algorithm parameters", e))
}

/// The `AlgorithmIdentifier` to write for `scheme`.
pub fn signature_algorithm(scheme: &SignatureScheme) -> Result<AlgorithmIdentifierOwned> {
    let (oid, parameters) = match scheme {
        SignatureScheme::Sm2WithSm3 { .. } => (oid::SM2_WITH_SM3, None),
        SignatureScheme::RsaPkcs1v15(h) => {
            let oid = match h {
                HashAlgorithm::Sha256 => oid::SHA256_WITH_RSA,
                HashAlgorithm::Sha384 => oid::SHA384_WITH_RSA,
                HashAlgorithm::Sha512 => oid::SHA512_WITH_RSA,
                HashAlgorithm::Sm3 => oid::SM3_WITH_RSA,
            };
            (oid, Some(any_of(&Null)?))
        }
        SignatureScheme::RsaPss(h) => {
            let params = RsassaPssParams {
                hash_algorithm: hash_identifier(*h),
                mask_gen_algorithm: AlgorithmIdentifierOwned {
                    oid: oid::ID_MGF1,
                    parameters: Some(any_of(&hash_identifier(*h))?),
                },
                salt_length: h.output_len() as u32,
            };
            (oid::ID_RSASSA_PSS, Some(any_of(&params)?))
        }
        SignatureScheme::Ecdsa(h) => {
            let oid = match h {
                HashAlgorithm::Sha256 => oid::ECDSA_WITH_SHA256,
                HashAlgorithm::Sha384 => oid::ECDSA_WITH_SHA384,
                HashAlgorithm::Sha512 => oid::ECDSA_WITH_SHA512,
                HashAlgorithm::Sm3 => {
                    return Err(Error::UnsupportedAlgorithm("ECDSA with SM3".into()));
                }
            };
            (oid, None)
        }
    };
    Ok(AlgorithmIdentifierOwned { oid, parameters })
}

/// The scheme an `AlgorithmIdentifier` names. SM2 identifiers carry no ID: the caller says
/// which one the signer used (normally the default).
pub fn scheme_of(
    alg: &AlgorithmIdentifierOwned,
    sm2_id: Option<DistinguishingId>,
) -> Result<SignatureScheme> {
    let o = alg.oid;
    let pick = |pairs: &[(ObjectIdentifier, HashAlgorithm)]| {
        pairs.iter().find(|(x, _)| *x == o).map(|(_, h)| *h)
    };
    if oid::means(&o, Meaning::Sm2Signature) {
        return Ok(SignatureScheme::Sm2WithSm3 {
            id: sm2_id.unwrap_or_default(),
        });
    }
    if let Some(h) = pick(&[
        (oid::SHA256_WITH_RSA, HashAlgorithm::Sha256),
        (oid::SHA384_WITH_RSA, HashAlgorithm::Sha384),
        (oid::SHA512_WITH_RSA, HashAlgorithm::Sha512),
    ]) {
        return Ok(SignatureScheme::RsaPkcs1v15(h));
    }
    if let Some(h) = pick(&[
        (oid::ECDSA_WITH_SHA256, HashAlgorithm::Sha256),
        (oid::ECDSA_WITH_SHA384, HashAlgorithm::Sha384),
        (oid::ECDSA_WITH_SHA512, HashAlgorithm::Sha512),
    ]) {
        return Ok(SignatureScheme::Ecdsa(h));
    }
    if o == oid::ID_RSASSA_PSS {
        let params = alg.parameters.as_ref().ok_or_else(|| {
            Error::UnsupportedAlgorithm("RSA-PSS without parameters (SHA-1)".into())
        })?;
        let p: RsassaPssParams = params
            .decode_as()
            .map_err(|e| Error::decode("RSA-PSS parameters", e))?;
        let h = HashAlgorithm::ALL
            .into_iter()
            .find(|h| h.oid() == p.hash_algorithm.oid && *h != HashAlgorithm::Sm3)
            .ok_or_else(|| {
                Error::UnsupportedAlgorithm(format!("RSA-PSS with hash {}", p.hash_algorithm.oid))
            })?;
        // Any salt length: verification accepts them all, as OpenSSL signs with the longest.
        return Ok(SignatureScheme::RsaPss(h));
    }
    Err(Error::UnsupportedAlgorithm(o.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_round_trips() {
        let id = DistinguishingId::default();
        let schemes = [
            SignatureScheme::Sm2WithSm3 { id: id.clone() },
            SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha256),
            SignatureScheme::RsaPkcs1v15(HashAlgorithm::Sha512),
            SignatureScheme::RsaPss(HashAlgorithm::Sha256),
            SignatureScheme::RsaPss(HashAlgorithm::Sha384),
            SignatureScheme::Ecdsa(HashAlgorithm::Sha384),
        ];
        for s in schemes {
            let alg = signature_algorithm(&s).unwrap();
            assert_eq!(scheme_of(&alg, None).unwrap(), s);
        }
    }

    #[test]
    fn the_gmt0010_sm2_signature_oid_is_read_too() {
        let alg = AlgorithmIdentifierOwned {
            oid: oid::SM2_SIGN,
            parameters: None,
        };
        assert!(matches!(
            scheme_of(&alg, None).unwrap(),
            SignatureScheme::Sm2WithSm3 { .. }
        ));
    }
}
