//! `staff_sessions` and `sign_in_failures`: the console's server-side sessions (found by the
//! SHA-256 of the cookie's token) and the failed sign-ins the throttle counts. The rows stay in
//! this module; callers get `domain::staff` records.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{sign_in_failures, staff_accounts, staff_sessions};
use super::staff_accounts::AccountRow;
use super::{with_conn, Conn};
use crate::domain::staff::{StaffId, StaffSession};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_sessions)]
struct SessionRow {
    id: i64,
    csrf_token: String,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = staff_sessions)]
struct NewSessionRow<'a> {
    token_hash: &'a str,
    staff_id: i64,
    csrf_token: &'a str,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sign_in_failures)]
struct NewFailureRow<'a> {
    subject: &'a str,
    failed_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut Conn<'_>,
    token_hash: &str,
    staff_id: StaffId,
    csrf_token: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let row = NewSessionRow {
        token_hash,
        staff_id: staff_id.0,
        csrf_token,
        created_at: now.naive_utc(),
        last_seen_at: now.naive_utc(),
    };
    with_conn!(conn, c => diesel::insert_into(staff_sessions::table)
        .values(&row)
        .execute(c))
    .map(drop)
}

/// The session with this token hash and its account, unless the session was revoked. (Its
/// expiry is the service's rule.)
pub fn find_unrevoked(conn: &mut Conn<'_>, token_hash: &str) -> QueryResult<Option<StaffSession>> {
    let found: Option<(SessionRow, AccountRow)> = with_conn!(conn, c => staff_sessions::table
        .inner_join(staff_accounts::table)
        .filter(staff_sessions::token_hash.eq(token_hash))
        .filter(staff_sessions::revoked_at.is_null())
        .select((SessionRow::as_select(), AccountRow::as_select()))
        .get_result(c)
        .optional())?;
    found
        .map(|(session, account)| {
            Ok(StaffSession {
                id: session.id,
                staff: account.into_record()?,
                csrf_token: session.csrf_token,
                created_at: session.created_at.and_utc(),
                last_seen_at: session.last_seen_at.and_utc(),
            })
        })
        .transpose()
}

/// Sets the session's `last_seen_at` to `at` if it is older than `stale_before`.
pub fn touch(
    conn: &mut Conn<'_>,
    id: i64,
    at: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> QueryResult<()> {
    with_conn!(conn, c => diesel::update(staff_sessions::table)
        .filter(staff_sessions::id.eq(id))
        .filter(staff_sessions::last_seen_at.lt(stale_before.naive_utc()))
        .set(staff_sessions::last_seen_at.eq(at.naive_utc()))
        .execute(c))
    .map(drop)
}

/// Ends the session with this token hash; whether a live one was ended.
pub fn revoke_by_hash(
    conn: &mut Conn<'_>,
    token_hash: &str,
    at: DateTime<Utc>,
) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::update(staff_sessions::table)
        .filter(staff_sessions::token_hash.eq(token_hash))
        .filter(staff_sessions::revoked_at.is_null())
        .set(staff_sessions::revoked_at.eq(at.naive_utc()))
        .execute(c))
    .map(|n| n == 1)
}

/// Ends every session of an account; how many were live.
pub fn revoke_all_of(
    conn: &mut Conn<'_>,
    staff_id: StaffId,
    at: DateTime<Utc>,
) -> QueryResult<usize> {
    with_conn!(conn, c => diesel::update(staff_sessions::table)
        .filter(staff_sessions::staff_id.eq(staff_id.0))
        .filter(staff_sessions::revoked_at.is_null())
        .set(staff_sessions::revoked_at.eq(at.naive_utc()))
        .execute(c))
}

/// Records one failed sign-in under each subject.
pub fn record_failure(
    conn: &mut Conn<'_>,
    subjects: &[&str],
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let rows: Vec<NewFailureRow<'_>> = subjects
        .iter()
        .map(|subject| NewFailureRow {
            subject,
            failed_at: at.naive_utc(),
        })
        .collect();
    with_conn!(conn, c => diesel::insert_into(sign_in_failures::table)
        .values(&rows)
        .execute(c))
    .map(drop)
}

/// The subject's failures after `since`, oldest first.
pub fn failures_since(
    conn: &mut Conn<'_>,
    subject: &str,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    let times: Vec<NaiveDateTime> = with_conn!(conn, c => sign_in_failures::table
        .filter(sign_in_failures::subject.eq(subject))
        .filter(sign_in_failures::failed_at.gt(since.naive_utc()))
        .order(sign_in_failures::failed_at)
        .select(sign_in_failures::failed_at)
        .load(c))?;
    Ok(times.into_iter().map(|t| t.and_utc()).collect())
}

/// Forgets a subject's failures (after a successful sign-in), and everyone's older than
/// `before` (they no longer count).
pub fn clear_failures(
    conn: &mut Conn<'_>,
    subject: &str,
    before: DateTime<Utc>,
) -> QueryResult<()> {
    with_conn!(conn, c => diesel::delete(sign_in_failures::table)
        .filter(
            sign_in_failures::subject
                .eq(subject)
                .or(sign_in_failures::failed_at.le(before.naive_utc())),
        )
        .execute(c))
    .map(drop)
}
