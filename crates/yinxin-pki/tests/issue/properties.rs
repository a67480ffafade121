//! Property tests for the encodings a certificate carries at their edges: serial numbers of 1
//! to 20 octets (a leading 0x00 added when the high bit is set, leading zeros dropped) and
//! validity times from 1970 to 9999 (UTCTime until 2049, GeneralizedTime from 2050, whole
//! seconds), through issue → DER → decode.

use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use x509_cert::time::Time;
use yinxin_crypto::{KeySpec, PrivateKey};
use yinxin_pki::issue::{IssueParams, issue};
use yinxin_pki::name;
use yinxin_pki::profile::Profile;

/// 2050-01-01T00:00:00Z, where RFC 5280 switches from UTCTime to GeneralizedTime.
const Y2050: u64 = 2_524_608_000;
/// 9999-12-31T23:59:59Z, the last second a GeneralizedTime can say.
const Y9999: u64 = 253_402_300_799;

fn instant() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(Y2050 - 1),
        Just(Y2050),
        Just(Y9999 - 1),
        0u64..Y9999,
    ]
}

/// Serials as a CA might hand them over: 1 to 20 octets, possibly with leading zeros and a
/// high bit, whose DER INTEGER fits 20 octets.
fn serial() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 1..=20).prop_filter(
        "positive, at most 20 DER octets",
        |s| {
            let Some(start) = s.iter().position(|b| *b != 0) else {
                return false;
            };
            s.len() - start + usize::from(s[start] >= 0x80) <= 20
        },
    )
}

fn seconds(t: &Time) -> u64 {
    t.to_system_time()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn serials_and_validity_survive_issue_and_decoding(
        serial in serial(),
        start in instant(),
        length in 1u64..(200 * 365 * 86400),
    ) {
        let end = (start + length).min(Y9999);
        prop_assume!(end > start);
        let key = PrivateKey::generate(KeySpec::EcP256).unwrap();
        let scheme = key.algorithm().default_signature_scheme();
        let params = IssueParams::new(
            name::parse("CN=Property Root,O=yinxin,C=CN").unwrap(),
            key.public_key().clone(),
            serial.clone(),
            UNIX_EPOCH + Duration::from_secs(start),
            UNIX_EPOCH + Duration::from_secs(end) + Duration::from_millis(999),
            Profile::RootCa,
        );
        let cert = issue(None, &key, &scheme, &params).unwrap();
        let der = yinxin_pki::certificate::to_der(&cert).unwrap();
        let back = yinxin_pki::certificate::from_pem_or_der(&der).unwrap();
        let tbs = back.tbs_certificate();
        let magnitude: Vec<u8> = serial.iter().copied().skip_while(|b| *b == 0).collect();
        let encoded = tbs.serial_number().as_bytes();
        let encoded = encoded.strip_prefix(&[0u8]).unwrap_or(encoded);
        prop_assert_eq!(encoded, &magnitude[..]);
        let validity = tbs.validity();
        prop_assert_eq!(seconds(&validity.not_before), start);
        prop_assert_eq!(seconds(&validity.not_after), end, "whole seconds, never rounded up");
        for (t, s) in [(&validity.not_before, start), (&validity.not_after, end)] {
            prop_assert_eq!(matches!(t, Time::UtcTime(_)), s < Y2050, "UTCTime until 2049");
        }
    }
}
