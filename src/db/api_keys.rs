use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::models::{ApiKeyRow, NewApiKeyRow};
use super::schema::api_keys;
use super::{with_conn, Conn};
use crate::domain::ids::ApiKeyId;
use crate::domain::role::{ApiKey, NewApiKey};

pub fn insert(conn: &mut Conn<'_>, key: &NewApiKey<'_>) -> QueryResult<ApiKey> {
    let row = NewApiKeyRow::from_record(key);
    with_conn!(conn, c => diesel::insert_into(api_keys::table)
        .values(&row)
        .returning(ApiKeyRow::as_returning())
        .get_result(c))
    .map(ApiKeyRow::record)
}

/// The key with this hash, unless it was revoked.
pub fn find_active_by_hash(conn: &mut Conn<'_>, key_hash: &str) -> QueryResult<Option<ApiKey>> {
    with_conn!(conn, c => api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .get_result(c)
        .optional())
    .map(|row: Option<ApiKeyRow>| row.map(ApiKeyRow::record))
}

pub fn list(conn: &mut Conn<'_>) -> QueryResult<Vec<ApiKey>> {
    with_conn!(conn, c => api_keys::table
        .order(api_keys::id)
        .select(ApiKeyRow::as_select())
        .load(c))
    .map(|rows: Vec<ApiKeyRow>| rows.into_iter().map(ApiKeyRow::record).collect())
}

/// Revokes a key; returns whether a live key was revoked.
pub fn revoke(conn: &mut Conn<'_>, id: ApiKeyId, at: DateTime<Utc>) -> QueryResult<bool> {
    let at = at.naive_utc();
    with_conn!(conn, c => diesel::update(api_keys::table)
        .filter(api_keys::id.eq(id))
        .filter(api_keys::revoked_at.is_null())
        .set(api_keys::revoked_at.eq(at))
        .execute(c))
    .map(|n| n == 1)
}

/// Sets the key's `last_used_at` to `at` if it has none, or one before `stale_before`.
pub fn record_use(
    conn: &mut Conn<'_>,
    id: ApiKeyId,
    at: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> QueryResult<()> {
    let at = at.naive_utc();
    let stale_before = stale_before.naive_utc();
    with_conn!(conn, c => diesel::update(api_keys::table)
        .filter(api_keys::id.eq(id))
        .filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.le(stale_before)),
        )
        .set(api_keys::last_used_at.eq(at))
        .execute(c))
    .map(|_| ())
}
