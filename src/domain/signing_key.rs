//! A signing key as the key ring's storage keeps it: the private half in its stored form
//! (sealed with the key file, or plain text from before sealing), the public half, and its life.

use chrono::{DateTime, Utc};

/// One Ed25519 signing key on record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The key id tokens name in their header.
    pub kid: String,
    /// As stored: sealed (see `tokens::sealed`) or, from before sealing, plain PEM.
    pub private_key: String,
    pub public_key: String,
    pub created_at: DateTime<Utc>,
    /// Set once the key no longer signs nor verifies.
    pub retired_at: Option<DateTime<Utc>>,
}

impl SigningKey {
    pub fn in_force(&self) -> bool {
        self.retired_at.is_none()
    }
}
