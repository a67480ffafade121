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
        member: None,
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

/// An administrator of a formed list: their actor (from their own token) and key.
pub(crate) struct Member {
    pub(crate) actor: Actor,
    pub(crate) token: zeroize::Zeroizing<String>,
    pub(crate) key: KeyHandle,
}

impl Member {
    /// Sign request `id`'s statement and approve it.
    pub(crate) async fn approve(
        &self,
        a: &crate::Authority,
        id: &str,
    ) -> crate::Result<crate::ApprovalView> {
        let view = a.approval(&self.actor, id).await?;
        let scheme = yinxin_crypto::Signer::public_key(&self.key)
            .algorithm()
            .default_signature_scheme();
        let signature =
            yinxin_crypto::Signer::sign(&self.key, &scheme, view.statement.as_bytes()).unwrap();
        a.approve(&self.actor, id, &signature).await
    }
}

/// Form an administrator list of `n` members needing 2 approvals: each gets an employee
/// certificate from the platform for a key made here and registers by signing the nonce.
pub(crate) async fn form_list(a: &crate::Authority, n: u8) -> Vec<Member> {
    let bootstrap = actor(Role::Admin);
    a.open_formation(&bootstrap, n, 2).await.unwrap();
    let mut members = Vec::new();
    for i in 0..n {
        let key = KeyHandle::new(Arc::new(PrivateKey::generate(KeySpec::Sm2).unwrap()));
        let scheme = yinxin_crypto::Signer::public_key(&key)
            .algorithm()
            .default_signature_scheme();
        let subject = format!("CN=Administrator {i},O=yinxin Operations,C=CN");
        let req = yinxin_pki::csr::build(&key, yinxin_pki::name::parse(&subject).unwrap(), &scheme)
            .unwrap();
        let mut request = enrol(KeySpec::Sm2, &subject);
        request.profile = ProfileName::Employee;
        request.csr = yinxin_pki::csr::to_pem(&req).unwrap().into_bytes();
        let issued = a.issue(&actor(Role::RaOperator), &request).await.unwrap();
        let f = a.formation(&bootstrap).await.unwrap();
        let name = format!("admin {i}");
        let statement = crate::join_statement(
            f.id.as_deref().unwrap(),
            f.nonce.as_deref().unwrap(),
            &name,
            &issued.der,
        );
        let signature = yinxin_crypto::Signer::sign(&key, &scheme, statement.as_bytes()).unwrap();
        let (_, token) = a
            .join_formation(&bootstrap, &name, &issued.der, &signature)
            .await
            .unwrap();
        members.push(Member {
            actor: a.authenticate(&token).await.unwrap(),
            token,
            key,
        });
    }
    members
}
