//! Idempotency keys: a retried staff write is answered as the first one was and is never made
//! twice. The key is claimed with `INSERT … ON CONFLICT DO NOTHING` in the transaction of the
//! write it guards (Zero To Production's idempotency, in one transaction): the claim commits
//! with the write or rolls back with it, so a crash leaves neither, and a concurrent retry waits
//! for the first to finish (PostgreSQL blocks on the uncommitted key; SQLite's writers take
//! turns) and then finds its answer.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{Encore, Error, Result};
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

/// What a staff change answered: the status its caller answers with and the JSON body, as the
/// first request got them and a retry under the same key gets them again.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// True for a retry answered from the first request: nothing was changed.
    pub replayed: bool,
}

/// Makes a staff change in one write transaction and answers `status` with what `change`
/// returns, as JSON. Under a key, the key is claimed first in that transaction and the answer
/// is stored with the change: a retry with the same key and request gets the stored answer and
/// changes nothing; concurrent retries wait for the first and then get its answer; the same key
/// with another request is refused (`IdempotencyKeyReused`).
///
/// Only a change that happened is remembered. A refused change (any error: a refusal by the
/// rules, a missing ticket, a database error) rolls the claim back with the change, so the key
/// is not spent: the corrected request can be sent under the same key, and a retry of the
/// refused one is judged again, on the state of things then.
///
/// Every staff change queues email, so the worker is woken once a change has committed.
pub fn run_change<T: Serialize>(
    encore: &Encore,
    key: Option<&IdempotencyKey>,
    status: u16,
    change: impl FnOnce(&mut Conn<'_>) -> Result<T>,
) -> Result<Answer> {
    let answer = encore.db.write(|conn| {
        if let Some(key) = key {
            if let Some(seen) = claim(conn, key, super::now().naive_utc())? {
                return replay(seen);
            }
        }
        let body = serde_json::to_string(&change(conn)?)
            .map_err(|e| Error::Internal(format!("the answer does not serialise: {e}")))?;
        if let Some(key) = key {
            let stored = i32::from(status);
            idempotency::record_response(conn, key.api_key_id, &key.key, stored, &body)?;
        }
        Ok(Answer {
            status,
            body,
            replayed: false,
        })
    })?;
    if !answer.replayed {
        encore.outbox_wakeup.notify_one();
    }
    Ok(answer)
}

/// The answer stored with the first request made under the key.
fn replay(seen: SeenRequest) -> Result<Answer> {
    let (Some(status), Some(body)) = (seen.response_status, seen.response_body) else {
        return Err(Error::Internal(
            "the idempotency record of a change holds no answer".into(),
        ));
    };
    Ok(Answer {
        status: u16::try_from(status)
            .map_err(|_| Error::Internal(format!("bad stored status {status}")))?,
        body,
        replayed: true,
    })
}
