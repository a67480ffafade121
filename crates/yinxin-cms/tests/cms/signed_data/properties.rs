//! Property tests: SignedData and envelopes round-trip for random content (empty included),
//! both forms, attached and detached, SM2 and ECDSA signers, SM2, EC and RSA recipients; a
//! changed byte of the content is always caught.

use proptest::prelude::*;
use yinxin_cms::Form;
use yinxin_cms::enveloped_data::{self, Recipient, SealOptions};
use yinxin_cms::signed_data::{self, SignOptions, SignerSpec, VerifyOptions};

use super::*;
use crate::{handle, rsa_key};

fn spec() -> impl Strategy<Value = KeySpec> {
    prop_oneof![Just(KeySpec::Sm2), Just(KeySpec::EcP256)]
}

fn form() -> impl Strategy<Value = Form> {
    prop_oneof![Just(Form::Rfc5652), Just(Form::GmT0010)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn signed_data_round_trips_and_catches_a_changed_byte(
        content in proptest::collection::vec(any::<u8>(), 0..2048),
        spec in spec(),
        form in form(),
        detached in any::<bool>(),
        flip in any::<usize>(),
    ) {
        // GM/T 0010 defines SM2 signatures only (refused for others, tested elsewhere).
        prop_assume!(form == Form::Rfc5652 || spec == KeySpec::Sm2);
        let pki = pki(spec);
        let (key, cert) = pki.signer(spec, "Property Signer", 7);
        let signer = key.signer();
        let options = SignOptions { form, detached, ..SignOptions::default() };
        let signed =
            signed_data::sign(&content, &[SignerSpec::new(signer.as_ref(), &cert)], &options)
                .unwrap();
        let roots = [pki.root.clone()];
        let verify = |data: &[u8]| {
            let given = detached.then_some(data);
            signed_data::verify(&signed, given, &VerifyOptions::new(&roots))
        };
        let report = verify(&content).unwrap();
        prop_assert!(report.is_valid(), "{:?}", report);
        if !detached {
            prop_assert_eq!(report.content.as_deref(), Some(&content[..]));
        }
        if detached && !content.is_empty() {
            let mut changed = content.clone();
            changed[flip % content.len()] ^= 0x01;
            prop_assert!(!verify(&changed).map(|r| r.is_valid()).unwrap_or(false));
        }
    }

    #[test]
    fn envelopes_round_trip_to_every_kind_of_recipient(
        content in proptest::collection::vec(any::<u8>(), 0..4096),
        recipient in prop_oneof![Just(KeySpec::Sm2), Just(KeySpec::EcP256), Just(KeySpec::Rsa2048)],
        form in form(),
    ) {
        prop_assume!(form == Form::Rfc5652 || recipient == KeySpec::Sm2);
        let key = match recipient {
            KeySpec::Rsa2048 => rsa_key(KeySpec::Rsa2048),
            other => Arc::new(PrivateKey::generate(other).unwrap()),
        };
        let to = Recipient::by_key_identifier(key.public_key()).unwrap();
        let options = match recipient {
            KeySpec::Sm2 => SealOptions::sm2(form),
            _ => SealOptions::default(),
        };
        let sealed = enveloped_data::seal_message(&content, &[to], &options).unwrap();
        let opened = enveloped_data::open_message(&sealed, &handle(&key), None).unwrap();
        prop_assert_eq!(&opened[..], &content[..]);
    }
}
