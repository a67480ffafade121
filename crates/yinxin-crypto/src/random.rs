//! The one source of randomness: the operating system's generator.

use crate::error::{Error, Result};

/// Fill `buf` with random bytes from the operating system.
pub fn fill(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|_| Error::Random)
}

/// `n` random bytes.
pub fn bytes(n: usize) -> Result<Vec<u8>> {
    let mut v = vec![0u8; n];
    fill(&mut v)?;
    Ok(v)
}
