//! Idempotency keys: a retried staff write (issuing, or a change: exchange, transfer, taking an
//! offer back, cancel) is answered as the first one was and is never made twice. One mechanism
//! for all of them, [`once`], which each such service function runs its write in: the answer
//! (status and JSON body) is stored with the key. The key is claimed with `INSERT … ON CONFLICT DO NOTHING` in the transaction of the
//! write it guards (Zero To Production's idempotency, in one transaction): the claim commits
//! with the write or rolls back with it, so a crash leaves neither, and a concurrent retry waits
//! for the first to finish (PostgreSQL blocks on the uncommitted key; SQLite's writers take
//! turns) and then finds its answer.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Encore, Error, Result};
use crate::db::idempotency::{self, SeenRequest};
use crate::db::Conn;
use crate::domain::ids::ApiKeyId;
use crate::domain::Invalid;

/// A caller's promise that a retried request is the same request: the key it sent, and a
/// fingerprint of the request, so reusing a key for a different request is caught.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub api_key_id: ApiKeyId,
    pub key: String,
    pub fingerprint: String,
}

impl IdempotencyKey {
    pub fn parse(api_key_id: ApiKeyId, key: &str, fingerprint: String) -> Result<Self, Invalid> {
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

/// Claims `key` in the write's transaction. `None`: the key is new, make the write (the claim
/// stands or falls with it). `Some`: the same request was made under this key before, and
/// committed; what it recorded. The key used before for a different request is refused.
fn claim(
    conn: &mut Conn<'_>,
    key: &IdempotencyKey,
    now: DateTime<Utc>,
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

/// How a staff write is answered: the status and the view of its result the caller answers
/// with. Under a key the view is stored, as JSON, with the write, so a retry is answered alike.
pub struct Reply<T, V> {
    pub status: u16,
    pub view: fn(T) -> V,
}

/// A staff write's answer: made now, or replayed to a retry from the first request made under
/// its key.
#[derive(Debug)]
pub enum Idempotent<V> {
    /// The write was made by this request: answer `status` with `view` (as stored with the key).
    Made { status: u16, view: V },
    /// A retry: the first request's status and JSON body, as they were stored. Nothing was
    /// changed.
    Replayed { status: u16, body: String },
}

/// Makes a staff write once per key: `write` runs in one write transaction, and its result is
/// answered as `reply` says. Under a key, the key is claimed first in that transaction and the
/// answer is stored with the write: a retry with the same key and request gets the stored
/// answer and changes nothing; concurrent retries wait for the first and then get its answer;
/// the same key with another request is refused (`IdempotencyKeyReused`).
///
/// Only a write that happened is remembered. A refused write (any error: a refusal by the
/// rules, a missing ticket, a database error) rolls the claim back with it, so the key is not
/// spent: the corrected request can be sent under the same key, and a retry of the refused
/// one is judged again, on the state of things then.
///
/// Every staff write queues email, so the worker is woken once one has committed.
pub(super) fn once<T, V: Serialize>(
    encore: &Encore,
    key: Option<&IdempotencyKey>,
    reply: Reply<T, V>,
    write: impl FnOnce(&mut Conn<'_>) -> Result<T>,
) -> Result<Idempotent<V>> {
    let Reply { status, view } = reply;
    let answer = encore.db.write(|conn| {
        if let Some(key) = key {
            if let Some(seen) = claim(conn, key, super::now())? {
                return replay(seen);
            }
        }
        let view = view(write(conn)?);
        if let Some(key) = key {
            let body = serde_json::to_string(&view)
                .map_err(|e| Error::Internal(format!("the answer does not serialise: {e}")))?;
            idempotency::record_response(conn, key.api_key_id, &key.key, status.into(), &body)?;
        }
        Ok(Idempotent::Made { status, view })
    })?;
    if let Idempotent::Made { .. } = answer {
        encore.outbox_wakeup.notify_one();
    }
    Ok(answer)
}

/// The answer stored with the first request made under the key.
fn replay<V>(seen: SeenRequest) -> Result<Idempotent<V>> {
    let (Some(status), Some(body)) = (seen.response_status, seen.response_body) else {
        // Issuing kept only its tickets' ids until answers were stored for every write (before
        // issue 15): such a request was made and is not made again, but cannot be replayed.
        return Err(Error::Conflict {
            code: "idempotency_key_unanswerable",
            message: "the request made under this Idempotency-Key was made by an earlier \
                      version of Encore, which kept no answer to replay; it is not made again: \
                      list the performance's tickets to find what it issued"
                .into(),
        });
    };
    Ok(Idempotent::Replayed {
        status: u16::try_from(status)
            .map_err(|_| Error::Internal(format!("bad stored status {status}")))?,
        body,
    })
}
