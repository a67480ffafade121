//! `yinxin doctor`: finds out why the client does not work and says so in plain words.
//!
//! Named after the field failures it exists for: a soft-token store baked into a cloned OS
//! image (every PC says "no key inserted"), and a service binary replaced by other software
//! (the service keeps crashing). See `docs/doctor.md` for the checks and the JSON report.

pub mod manifest;
pub mod redact;
pub mod services;
