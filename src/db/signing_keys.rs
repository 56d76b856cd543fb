use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::models::SigningKeyRow;
use super::schema::signing_keys;
use super::{with_conn, Conn};
use crate::domain::signing_key::SigningKey;

pub fn insert(conn: &mut Conn<'_>, key: &SigningKey) -> QueryResult<()> {
    let row = SigningKeyRow::from_record(key);
    with_conn!(conn, c => diesel::insert_into(signing_keys::table).values(&row).execute(c))?;
    Ok(())
}

fn records(rows: Vec<SigningKeyRow>) -> Vec<SigningKey> {
    rows.into_iter().map(SigningKeyRow::record).collect()
}

/// Every key, oldest first.
pub fn all(conn: &mut Conn<'_>) -> QueryResult<Vec<SigningKey>> {
    with_conn!(conn, c => signing_keys::table
        .order((signing_keys::created_at, signing_keys::kid))
        .select(SigningKeyRow::as_select())
        .load(c))
    .map(records)
}

/// The keys in force (not retired), oldest first: the last one signs.
pub fn in_force(conn: &mut Conn<'_>) -> QueryResult<Vec<SigningKey>> {
    with_conn!(conn, c => signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .order((signing_keys::created_at, signing_keys::kid))
        .select(SigningKeyRow::as_select())
        .load(c))
    .map(records)
}

/// Retires a key; returns whether a key in force was retired.
pub fn retire(conn: &mut Conn<'_>, kid: &str, at: DateTime<Utc>) -> QueryResult<bool> {
    let at = at.naive_utc();
    with_conn!(conn, c => diesel::update(signing_keys::table)
        .filter(signing_keys::kid.eq(kid))
        .filter(signing_keys::retired_at.is_null())
        .set(signing_keys::retired_at.eq(at))
        .execute(c))
    .map(|n| n == 1)
}

/// Replaces a key's stored private key, if it is still `old`; returns whether it was.
pub fn replace_private_key(
    conn: &mut Conn<'_>,
    kid: &str,
    old: &str,
    new: &str,
) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::update(signing_keys::table)
        .filter(signing_keys::kid.eq(kid))
        .filter(signing_keys::private_key.eq(old))
        .set(signing_keys::private_key.eq(new))
        .execute(c))
    .map(|n| n == 1)
}
