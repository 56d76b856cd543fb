use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::{with_conn, Conn};
use crate::domain::ids::ApiKeyId;

/// A request already seen under an idempotency key.
#[derive(Debug, Clone, Queryable)]
pub struct SeenRequest {
    pub request_fingerprint: String,
    /// What the write answered (HTTP status and JSON body).
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
}

/// Claims `key` for this request; returns false if the key was already used. Inside the
/// transaction of the write it guards: on PostgreSQL a concurrent retry waits here until the
/// first commits (or rolls back, and then claims the key itself); on SQLite writers take turns.
pub fn claim(
    conn: &mut Conn<'_>,
    api_key_id: ApiKeyId,
    key: &str,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let now = now.naive_utc();
    let row = (
        idempotency_keys::api_key_id.eq(api_key_id),
        idempotency_keys::idempotency_key.eq(key),
        idempotency_keys::request_fingerprint.eq(fingerprint),
        idempotency_keys::created_at.eq(now),
    );
    with_conn!(conn, c => diesel::insert_into(idempotency_keys::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
    .map(|n| n == 1)
}

pub fn find(
    conn: &mut Conn<'_>,
    api_key_id: ApiKeyId,
    key: &str,
) -> QueryResult<Option<SeenRequest>> {
    with_conn!(conn, c => idempotency_keys::table
        .find((api_key_id, key))
        .select((
            idempotency_keys::request_fingerprint,
            idempotency_keys::response_status,
            idempotency_keys::response_body,
        ))
        .get_result(c)
        .optional())
}

/// Remembers what the write made under `key` answered, for a retry to be answered the same.
pub fn record_response(
    conn: &mut Conn<'_>,
    api_key_id: ApiKeyId,
    key: &str,
    status: i32,
    body: &str,
) -> QueryResult<()> {
    with_conn!(conn, c => diesel::update(idempotency_keys::table.find((api_key_id, key)))
        .set((
            idempotency_keys::response_status.eq(status),
            idempotency_keys::response_body.eq(body),
        ))
        .execute(c))?;
    Ok(())
}
