//! Idempotency keys: a retried staff write is answered as the first one was and is never made
//! twice. The key is claimed with `INSERT … ON CONFLICT DO NOTHING` in the transaction of the
//! write it guards (Zero To Production's idempotency, in one transaction): the claim commits
//! with the write or rolls back with it, so a crash leaves neither, and a concurrent retry waits
//! for the first to finish (PostgreSQL blocks on the uncommitted key; SQLite's writers take
//! turns) and then finds its answer.

use chrono::NaiveDateTime;

use super::{Error, Result};
use crate::db::idempotency::{self, SeenRequest};
use crate::db::Conn;
use crate::domain::Invalid;

/// A caller's promise that a retried request is the same request: the key it sent, and a
/// fingerprint of the request, so reusing a key for a different request is caught.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub api_key_id: i64,
    pub key: String,
    pub fingerprint: String,
}

impl IdempotencyKey {
    pub fn parse(api_key_id: i64, key: &str, fingerprint: String) -> Result<Self, Invalid> {
        let key = key.trim();
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Invalid::new(
                "Idempotency-Key",
                "must be 1 to 255 printable ASCII characters",
            ));
        }
        Ok(IdempotencyKey {
            api_key_id,
            key: key.to_string(),
            fingerprint,
        })
    }
}

/// Claims `key` in the caller's transaction. `None`: the key is new, make the write (the claim
/// stands or falls with it). `Some`: the same request was made under this key before, and
/// committed; what it recorded. The key used before for a different request is refused.
pub(super) fn claim(
    conn: &mut Conn<'_>,
    key: &IdempotencyKey,
    now: NaiveDateTime,
) -> Result<Option<SeenRequest>> {
    if idempotency::claim(conn, key.api_key_id, &key.key, &key.fingerprint, now)? {
        return Ok(None);
    }
    let seen = idempotency::find(conn, key.api_key_id, &key.key)?
        .ok_or_else(|| Error::Internal("idempotency record vanished".into()))?;
    if seen.request_fingerprint != key.fingerprint {
        return Err(Error::IdempotencyKeyReused);
    }
    Ok(Some(seen))
}
