//! The bodies of yinxin's fuzz targets, one plain function per parser of outside bytes.
//!
//! ```text
//!   fuzz/fuzz_targets/NAME.rs ── libFuzzer (cargo +nightly fuzz run NAME) ─┐
//!                                                                          ├─▶ targets::NAME(&[u8])
//!   tests/replay.rs ── every file of fuzz/corpus/NAME/ (stable, every CI run) ┘
//! ```
//!
//! A target must never panic, whatever the bytes: every parser answers a typed error.
//! Each target also checks what it can about a success (a decoded value re-encodes, a
//! decrypted text came from a ciphertext that authenticates), so that a fuzzer finds wrong
//! answers as well as crashes.
#![forbid(unsafe_code)]

pub mod targets;

/// A target's body: arbitrary bytes in, no panic out.
pub type Target = fn(&[u8]);

/// Every target by name, as `fuzz/fuzz_targets/` and `fuzz/corpus/` name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("key", targets::key),
    ("encrypted_key", targets::encrypted_key),
    ("certificate", targets::certificate),
    ("csr", targets::csr),
    ("crl", targets::crl),
    ("ocsp_request", targets::ocsp_request),
    ("tsa_request", targets::tsa_request),
    ("tsa_response", targets::tsa_response),
    ("cms_signed", targets::cms_signed),
    ("cms_envelope", targets::cms_envelope),
    ("sm2_ciphertext", targets::sm2_ciphertext),
    ("share_text", targets::share_text),
];
