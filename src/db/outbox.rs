//! The email outbox: rows written in the transaction that causes an email, claimed and marked
//! by the delivery worker. The two statements that differ per backend (claiming with
//! `FOR UPDATE SKIP LOCKED`, and a random Message-ID in SQL) are spelled out here side by side.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::models::{NewOutboxRow, OutboxRow};
use super::schema::{events, outbox, performances, reminder_runs};
use super::{with_conn, Conn};
use crate::domain::ids::{EmailId, PerformanceId, TicketId};
use crate::domain::outbox::{
    EmailKind, EmailStatus, FailedFilter, NewEmail, OutboxEmail, WITH_CALENDAR,
};
use crate::domain::TicketStatus;

fn records(rows: Vec<OutboxRow>) -> Vec<OutboxEmail> {
    rows.into_iter().map(OutboxRow::record).collect()
}

/// Queues emails; an email whose dedupe key is already queued is left alone. Returns how many
/// were queued.
pub fn enqueue(conn: &mut Conn<'_>, emails: &[NewEmail]) -> QueryResult<usize> {
    if emails.is_empty() {
        return Ok(0);
    }
    let rows: Vec<NewOutboxRow> = emails.iter().map(NewOutboxRow::from_record).collect();
    with_conn!(conn, c => diesel::insert_into(outbox::table)
        .values(&rows)
        .on_conflict(outbox::dedupe_key)
        .do_nothing()
        .execute(c))
}

// The statuses are bound (`claim_due`), not written as literals, so that their names live only
// in `EmailStatus`.
const CLAIM_SQLITE: &str = "
    UPDATE outbox SET status = ?, locked_until = ?, claim_token = ?, attempts = attempts + 1
    WHERE id IN (
        SELECT id FROM outbox
        WHERE (status = ? AND next_attempt_at <= ?) OR (status = ? AND locked_until < ?)
        ORDER BY next_attempt_at, id
        LIMIT ?)
    RETURNING *";

const CLAIM_POSTGRES: &str = "
    UPDATE outbox SET status = $1, locked_until = $2, claim_token = $3, attempts = attempts + 1
    WHERE id IN (
        SELECT id FROM outbox
        WHERE (status = $4 AND next_attempt_at <= $5) OR (status = $6 AND locked_until < $7)
        ORDER BY next_attempt_at, id
        LIMIT $8
        FOR UPDATE SKIP LOCKED)
    RETURNING *";

/// Claims up to `limit` due emails until `lease_until` under `claim_token`: pending ones whose
/// time has come, and ones whose sender died holding them (lease expired). Concurrent workers,
/// in this process or others, never claim the same row: PostgreSQL skips rows another claim has
/// locked; SQLite has a single writer.
pub fn claim_due(
    conn: &mut Conn<'_>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    claim_token: &str,
    limit: i64,
) -> QueryResult<Vec<OutboxEmail>> {
    let now = now.naive_utc();
    let lease_until = lease_until.naive_utc();
    let sql = match conn {
        Conn::Sqlite(_) => CLAIM_SQLITE,
        Conn::Postgres(_) => CLAIM_POSTGRES,
    };
    with_conn!(conn, c => diesel::sql_query(sql)
        .bind::<Text, _>(EmailStatus::Sending)
        .bind::<Timestamp, _>(lease_until)
        .bind::<Text, _>(claim_token)
        .bind::<Text, _>(EmailStatus::Pending)
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(EmailStatus::Sending)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .load::<OutboxRow>(c))
    .map(records)
}

/// Rows whose claims kept expiring (a worker died, or hung, with them every time) and that have
/// had all their attempts: marked failed, so they stop being claimed.
pub fn fail_abandoned(
    conn: &mut Conn<'_>,
    now: DateTime<Utc>,
    max_attempts: i32,
) -> QueryResult<usize> {
    let now = now.naive_utc();
    with_conn!(conn, c => diesel::update(
        outbox::table
            .filter(outbox::status.eq(EmailStatus::Sending))
            .filter(outbox::locked_until.lt(now))
            .filter(outbox::attempts.ge(max_attempts)),
    )
    .set((
        outbox::status.eq(EmailStatus::Failed),
        outbox::locked_until.eq(None::<NaiveDateTime>),
        outbox::last_error.eq("gave up: every attempt's claim expired before its result was recorded"),
    ))
    .execute(c))
}

/// Records sends; only rows still held under `claim_token` (a newer claim wins).
pub fn mark_sent(
    conn: &mut Conn<'_>,
    ids: &[EmailId],
    claim_token: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let now = now.naive_utc();
    with_conn!(conn, c => diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::status.eq(EmailStatus::Sending))
            .filter(outbox::claim_token.eq(claim_token)),
    )
        .set((
            outbox::status.eq(EmailStatus::Sent),
            outbox::sent_at.eq(now),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(c))?;
    Ok(())
}

/// Ends a claim without sending: back to pending at `next_attempt_at`, or for good with
/// `status` failed or skipped. The reason is kept for the box office to read. Only a row still
/// held under `claim_token` is changed.
pub fn release(
    conn: &mut Conn<'_>,
    id: EmailId,
    claim_token: &str,
    status: EmailStatus,
    next_attempt_at: DateTime<Utc>,
    reason: &str,
) -> QueryResult<()> {
    let next_attempt_at = next_attempt_at.naive_utc();
    with_conn!(conn, c => diesel::update(
        outbox::table
            .find(id)
            .filter(outbox::status.eq(EmailStatus::Sending))
            .filter(outbox::claim_token.eq(claim_token)),
    )
        .set((
            outbox::status.eq(status),
            outbox::next_attempt_at.eq(next_attempt_at),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(reason),
        ))
        .execute(c))?;
    Ok(())
}

/// Puts failed emails matching `filter` back in line, due at `now` with a full set of
/// attempts (their last error stays until they are sent). Returns them as they are now.
pub fn retry_failed(
    conn: &mut Conn<'_>,
    filter: &FailedFilter,
    now: DateTime<Utc>,
) -> QueryResult<Vec<OutboxEmail>> {
    let now = now.naive_utc();
    // Boxed queries are per backend: the macro spells this out for each.
    let ids: Vec<EmailId> = with_conn!(conn, c => {
        let mut query = outbox::table
            .filter(outbox::status.eq(EmailStatus::Failed))
            .select(outbox::id)
            .into_boxed();
        if let Some(id) = filter.id {
            query = query.filter(outbox::id.eq(id));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(outbox::kind.eq(kind));
        }
        if let Some(ticket_id) = filter.ticket_id {
            query = query.filter(outbox::ticket_id.eq(ticket_id));
        }
        if let Some(since) = filter.queued_since {
            query = query.filter(outbox::created_at.ge(since.naive_utc()));
        }
        query.load(c)
    })?;
    with_conn!(conn, c => diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(&ids))
            .filter(outbox::status.eq(EmailStatus::Failed)),
    )
    .set((
        outbox::status.eq(EmailStatus::Pending),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
        outbox::locked_until.eq(None::<NaiveDateTime>),
    ))
    .returning(OutboxRow::as_returning())
    .get_results(c))
    .map(records)
}

/// Failed emails, the most recent first, at most `limit`.
pub fn failed(conn: &mut Conn<'_>, limit: i64) -> QueryResult<Vec<OutboxEmail>> {
    with_conn!(conn, c => outbox::table
        .filter(outbox::status.eq(EmailStatus::Failed))
        .order(outbox::id.desc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(c))
    .map(records)
}

/// One email, by id.
pub fn find(conn: &mut Conn<'_>, id: EmailId) -> QueryResult<Option<OutboxEmail>> {
    with_conn!(conn, c => outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(c)
        .optional())
    .map(|row: Option<OutboxRow>| row.map(OutboxRow::record))
}

/// Every email queued about these tickets, oldest first.
pub fn for_tickets(conn: &mut Conn<'_>, ticket_ids: &[TicketId]) -> QueryResult<Vec<OutboxEmail>> {
    with_conn!(conn, c => outbox::table
        .filter(outbox::ticket_id.eq_any(ticket_ids))
        .order(outbox::id)
        .select(OutboxRow::as_select())
        .load(c))
    .map(records)
}

/// How many emails are in each state, by the stored text: a state this build does not know
/// (written by a newer one) is counted too.
pub fn status_counts(conn: &mut Conn<'_>) -> QueryResult<Vec<(String, i64)>> {
    with_conn!(conn, c => outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .order(outbox::status)
        .load(c))
}

/// When the oldest email still waiting to go out was queued.
pub fn oldest_unsent(conn: &mut Conn<'_>) -> QueryResult<Option<DateTime<Utc>>> {
    let oldest: Option<NaiveDateTime> = with_conn!(conn, c => outbox::table
        .filter(outbox::status.eq_any([EmailStatus::Pending, EmailStatus::Sending]))
        .select(diesel::dsl::min(outbox::created_at))
        .first(c))?;
    Ok(oldest.map(|at| at.and_utc()))
}

/// Performances starting within `(now, horizon]`, with their events' reminder offsets.
pub fn upcoming_performances(
    conn: &mut Conn<'_>,
    now: DateTime<Utc>,
    horizon: DateTime<Utc>,
) -> QueryResult<Vec<(PerformanceId, DateTime<Utc>, String)>> {
    let now = now.naive_utc();
    let horizon = horizon.naive_utc();
    let found: Vec<(PerformanceId, NaiveDateTime, String)> = with_conn!(conn, c => performances::table
        .inner_join(events::table)
        .filter(performances::starts_at.gt(now))
        .filter(performances::starts_at.le(horizon))
        .select((performances::id, performances::starts_at, events::reminder_offsets_minutes))
        .load(c))?;
    Ok(found
        .into_iter()
        .map(|(id, starts_at, offsets)| (id, starts_at.and_utc(), offsets))
        .collect())
}

/// Records that one reminder batch is being queued; false if it already was.
pub fn claim_reminder_run(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    offset_minutes: i32,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let now = now.naive_utc();
    let row = (
        reminder_runs::performance_id.eq(performance_id),
        reminder_runs::offset_minutes.eq(offset_minutes),
        reminder_runs::queued.eq(0_i64),
        reminder_runs::run_at.eq(now),
    );
    with_conn!(conn, c => diesel::insert_into(reminder_runs::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
    .map(|n| n == 1)
}

// The kind, its dedupe key's prefix and the statuses are bound (`queue_reminders`), not written
// as literals, so that their names live only in `EmailKind`, `EmailStatus` and `TicketStatus`.
const QUEUE_REMINDERS_SQLITE: &str = "
    INSERT INTO outbox (kind, dedupe_key, ticket_id, detail, recipient, message_id, status, attempts,
                        next_attempt_at, created_at)
    SELECT ?, ? || t.id || ':' || ?, t.id, ?, t.holder_email,
           '<' || lower(hex(randomblob(16))) || '@' || ? || '>', ?, 0, ?, ?
    FROM tickets t
    WHERE t.performance_id = ? AND t.status = ?
    ON CONFLICT (dedupe_key) DO NOTHING";

const QUEUE_REMINDERS_POSTGRES: &str = "
    INSERT INTO outbox (kind, dedupe_key, ticket_id, detail, recipient, message_id, status, attempts,
                        next_attempt_at, created_at)
    SELECT $1, $2 || t.id || ':' || $3, t.id, $4, t.holder_email,
           '<' || md5(random()::text || t.id::text || clock_timestamp()::text) || '@' || $5 || '>',
           $6, 0, $7, $8
    FROM tickets t
    WHERE t.performance_id = $9 AND t.status = $10
    ON CONFLICT (dedupe_key) DO NOTHING";

/// Whether any reminder batch of this performance queued emails already.
pub fn any_reminders_queued(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::select(diesel::dsl::exists(
        reminder_runs::table
            .filter(reminder_runs::performance_id.eq(performance_id))
            .filter(reminder_runs::queued.gt(0)),
    ))
    .get_result(c))
}

/// Queues one reminder (at `offset_minutes` before the start) for every valid ticket of a
/// performance, in one statement however many tickets there are. Returns how many.
pub fn queue_reminders(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    offset_minutes: i32,
    with_calendar: bool,
    message_id_domain: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let now = now.naive_utc();
    let sql = match conn {
        Conn::Sqlite(_) => QUEUE_REMINDERS_SQLITE,
        Conn::Postgres(_) => QUEUE_REMINDERS_POSTGRES,
    };
    let offset = offset_minutes.to_string();
    let detail = if with_calendar {
        format!("{offset}{WITH_CALENDAR}")
    } else {
        offset.clone()
    };
    // As every dedupe key starts: the kind's name and a colon (see `email::confirmation_row`).
    let dedupe_prefix = format!("{}:", EmailKind::Reminder);
    let queued = with_conn!(conn, c => diesel::sql_query(sql)
        .bind::<Text, _>(EmailKind::Reminder)
        .bind::<Text, _>(&dedupe_prefix)
        .bind::<Text, _>(&offset)
        .bind::<Text, _>(&detail)
        .bind::<Text, _>(message_id_domain)
        .bind::<Text, _>(EmailStatus::Pending)
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(performance_id)
        .bind::<Text, _>(TicketStatus::Valid)
        .execute(c))?;
    with_conn!(conn, c => diesel::update(reminder_runs::table.find((performance_id, offset_minutes)))
        .set(reminder_runs::queued.eq(queued as i64))
        .execute(c))?;
    Ok(queued)
}
