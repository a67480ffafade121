//! Interop tests of `yinxin-crypto` against independent implementations, run as subprocesses:
//!
//! - `openssl`: OpenSSL 3 command line (SM2/SM3/SM4, RSA, ECDSA, key encodings);
//! - `bouncycastle`: BouncyCastle's lightweight API through `peers/Sm2Peer.java` (SM2, GCM);
//! - `bc_pkix`: yinxin-pki's certificates, CRLs and OCSP responses (SM2 and RSA) checked by
//!   BouncyCastle's PKIX API through `peers/Sm2PkixPeer.java`;
//! - `bc_cms`: yinxin-cms's SM2 SignedData and RFC 3161 tokens verified by BouncyCastle's CMS
//!   and TSP APIs, and BouncyCastle's SM2 SignedData verified by yinxin (`peers/CmsPeer.java`);
//! - `sm_crypto`: the `sm-crypto` npm package through `peers/sm_crypto_peer.js` (SM2);
//! - `gmt0003`: the published GM/T 0003.5 (GB/T 32918.5) SM2 examples.
//!
//! What each needs installed is listed in the crate documentation (`src/lib.rs`); a missing
//! peer fails the tests that need it, naming the package to install.

// A test crate's root looks for modules beside it, so name the submodule files explicitly.
#[path = "interop/bc_authority.rs"]
mod bc_authority;
#[path = "interop/bc_cms.rs"]
mod bc_cms;
#[path = "interop/bc_pkix.rs"]
mod bc_pkix;
#[path = "interop/bouncycastle.rs"]
mod bouncycastle;
#[path = "interop/gmt0003.rs"]
mod gmt0003;
#[path = "interop/openssl.rs"]
mod openssl;
#[path = "interop/sm_crypto.rs"]
mod sm_crypto;
