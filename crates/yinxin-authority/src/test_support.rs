//! Helpers for the crate's unit tests.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use yinxin_crypto::{KeyHandle, KeySpec, PrivateKey};

use crate::{Actor, EnrolRequest, ProfileName, Role};

pub(crate) fn actor(role: Role) -> Actor {
    Actor {
        name: role.as_str().into(),
        token_id: format!("id-{role}"),
        role,
    }
}

pub(crate) fn csr(spec: KeySpec, subject: &str) -> Vec<u8> {
    let key = KeyHandle::new(Arc::new(PrivateKey::generate(spec).unwrap()));
    let scheme = yinxin_crypto::Signer::public_key(&key)
        .algorithm()
        .default_signature_scheme();
    let req =
        yinxin_pki::csr::build(&key, yinxin_pki::name::parse(subject).unwrap(), &scheme).unwrap();
    yinxin_pki::csr::to_pem(&req).unwrap().into_bytes()
}

pub(crate) fn enrol(spec: KeySpec, subject: &str) -> EnrolRequest {
    EnrolRequest {
        profile: ProfileName::Organisation,
        csr: csr(spec, subject),
        ca: None,
        validity_days: None,
        sans: Vec::new(),
        identity: Vec::new(),
    }
}

/// A trial (1-of-1) authority on a fresh SQLite store in `dir`, unsealed.
pub(crate) async fn trial(dir: &tempfile::TempDir) -> (crate::Authority, crate::Initialised) {
    let url = format!("sqlite://{}", dir.path().join("y.db").display());
    crate::Authority::initialise(
        yinxin_store::Store::open(&url).await.unwrap(),
        crate::AuthorityConfig::new("http://127.0.0.1:1"),
        crate::InitOptions::default(),
    )
    .await
    .unwrap()
}
