//! The Cryptographic Message Syntax (RFC 5652) for yinxin, over the RustCrypto `cms` crate's
//! ASN.1 types, with every private-key operation done through a
//! [`Decrypter`](yinxin_crypto::Decrypter) handle.
//!
//! ```text
//!   content ──seal──▶ EnvelopedData (AES-CBC content, RSAES-OAEP key transport per recipient)
//!   EnvelopedData ──open with &dyn Decrypter (token, vault, key file)──▶ content
//!   KMC's escrowed key ──key_delivery::seal──▶ SM2EnvelopedKey (SM2) | EnvelopedData (RSA)
//! ```
//!
//! * [`content_info`]: the outer `ContentInfo`, read from DER or PEM (`-----BEGIN CMS-----`);
//! * [`enveloped_data`]: `EnvelopedData` with `KeyTransRecipientInfo` for RSA recipients;
//! * [`algorithm`]: content-encryption and key-transport algorithm identifiers;
//! * [`key_delivery`]: the key-management centre's envelope around an escrowed encryption key,
//!   chosen by algorithm, and its opening inside the token that owns the signing key.
//!
//! * [`signed_data`]: `SignedData` (RFC 5652 §5) signed through [`Signer`](yinxin_crypto::Signer)
//!   handles and verified to a per-signer verdict, in the RFC 5652 or the GM/T 0010 form
//!   (SM2), with RFC 3161 timestamps on signatures;
//! * [`timestamp`]: RFC 3161 requests, responses, the TSA's `TimestampSigner` and token
//!   verification.
//!
//! ```
//! use yinxin_cms::enveloped_data::{self, Recipient, SealOptions};
//! use yinxin_crypto::{KeySpec, PrivateKey};
//! let key = PrivateKey::generate(KeySpec::Rsa2048)?;
//! let recipient = Recipient::by_key_identifier(key.public_key())?;
//! let envelope = enveloped_data::seal(b"bid", &[recipient], &SealOptions::default())?;
//! let der = enveloped_data::to_der(&envelope)?;
//! let opened = enveloped_data::open(&enveloped_data::decode(&der)?, &key)?;
//! assert_eq!(&opened[..], b"bid");
//! # Ok::<(), yinxin_cms::Error>(())
//! ```
#![forbid(unsafe_code)]

pub mod algorithm;
pub mod content_info;
pub mod enveloped_data;
mod error;
mod form;
pub mod key_delivery;
pub mod oid;
pub mod signed_data;
pub mod timestamp;

pub use error::{Error, Result};
pub use form::Form;

/// The RustCrypto `cms` crate whose ASN.1 types this crate uses, for callers that need more
/// of them.
pub use cms;
