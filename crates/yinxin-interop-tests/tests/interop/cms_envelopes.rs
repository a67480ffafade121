//! CMS EnvelopedData against BouncyCastle (SM2 per GM/T 0010).
