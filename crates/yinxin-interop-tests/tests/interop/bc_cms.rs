//! CMS SignedData and RFC 3161 timestamp tokens checked by BouncyCastle (SM2, RSA, ECDSA).
