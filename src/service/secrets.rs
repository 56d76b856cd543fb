//! The secrets the service hands out once and stores only as hashes: API keys, console session
//! tokens, CSRF tokens, one-time set-password links.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::{Error, Result};

/// `BYTES` fresh bytes from the operating system's random source.
pub(super) fn random_bytes<const BYTES: usize>() -> Result<[u8; BYTES]> {
    let mut random = [0u8; BYTES];
    getrandom::fill(&mut random).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(random)
}

/// `BYTES` fresh random bytes, URL-safe base64 without padding.
pub(super) fn random_token<const BYTES: usize>() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<BYTES>()?))
}

/// How a secret is stored and looked up: its hex SHA-256.
pub(super) fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
