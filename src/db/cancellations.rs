//! Cancellations: the tickets a cancellation may still take, the one conditional write that
//! cancels them, and the performance-cancellation job's row.

use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;

use super::models::{PerformanceCancellationRow, TicketCancellationRow, TicketRow};
use super::schema::{
    performance_cancellations as jobs, performances, ticket_cancellations, tickets, transfers,
};
use super::stored::StoredFlag;
use super::{with_conn, Conn};
use crate::domain::cancellation::{
    CancellationStatus, PerformanceCancellation, TicketCancellation,
};
use crate::domain::ids::{CancellationId, PerformanceId, TicketId};
use crate::domain::offer::OfferStatus;
use crate::domain::ticket::Ticket;
use crate::domain::TicketStatus;

/// A ticket a cancellation may still take: unused, and either valid or on offer to a friend
/// (an open offer is withdrawn with it). A ticket whose offer was claimed stays `transferred`
/// for good; the friend's new ticket is the one to cancel.
macro_rules! cancelable {
    () => {
        tickets::admitted_at.is_null().and(
            tickets::status.eq(TicketStatus::Valid).or(tickets::status
                .eq(TicketStatus::Transferred)
                .and(exists(
                    transfers::table
                        .filter(transfers::ticket_id.eq(tickets::id))
                        .filter(transfers::generation.eq(tickets::generation))
                        .filter(transfers::status.eq(OfferStatus::Offered)),
                ))),
        )
    };
}

/// How many tickets of the performance a cancellation would still take.
pub fn count_cancelable(conn: &mut Conn<'_>, performance_id: PerformanceId) -> QueryResult<i64> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq(performance_id))
        .filter(cancelable!())
        .count()
        .get_result(c))
}

/// The next holders (by email) with tickets still to cancel: a batch takes whole holders, so
/// each is emailed once, about all their tickets.
pub fn next_holders(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    limit: i64,
) -> QueryResult<Vec<String>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq(performance_id))
        .filter(cancelable!())
        .select(tickets::holder_email)
        .distinct()
        .order(tickets::holder_email)
        .limit(limit)
        .load(c))
}

/// The tickets of these holders still to cancel, locked in id order on PostgreSQL (the order
/// the scan writer locks in, so the two never deadlock).
pub fn cancelable_of_holders(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    holders: &[String],
) -> QueryResult<Vec<Ticket>> {
    // `as_select` is bound to one backend, so each arm builds its own query.
    macro_rules! query {
        () => {
            tickets::table
                .filter(tickets::performance_id.eq(performance_id))
                .filter(tickets::holder_email.eq_any(holders))
                .filter(cancelable!())
                .order(tickets::id)
                .select(TicketRow::as_select())
        };
    }
    super::tickets::records(match conn {
        Conn::Sqlite(c) => query!().load(&mut **c)?,
        Conn::Postgres(c) => query!().for_update().load(&mut **c)?,
    })
}

/// The cancellation itself: one conditional write per ticket, which succeeds only while the
/// ticket is unused and in the state it was read in. A scan admitting it, an exchange, a claim
/// or a second cancellation contends for the same row, so only one of them happens.
pub fn cancel_unused(conn: &mut Conn<'_>, ticket: &Ticket) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::update(tickets::table)
        .filter(tickets::id.eq(ticket.id))
        .filter(tickets::generation.eq(ticket.generation))
        .filter(tickets::status.eq(ticket.status))
        .filter(tickets::status.eq_any([TicketStatus::Valid, TicketStatus::Transferred]))
        .filter(tickets::admitted_at.is_null())
        .set(tickets::status.eq(TicketStatus::Canceled))
        .execute(c))
    .map(|n| n == 1)
}

pub fn record(conn: &mut Conn<'_>, cancellations: &[TicketCancellation]) -> QueryResult<usize> {
    let rows: Vec<TicketCancellationRow> = cancellations
        .iter()
        .map(TicketCancellationRow::from_record)
        .collect();
    with_conn!(conn, c => diesel::insert_into(ticket_cancellations::table).values(&rows).execute(c))
}

pub fn of_tickets(
    conn: &mut Conn<'_>,
    ticket_ids: &[TicketId],
) -> QueryResult<Vec<TicketCancellation>> {
    let rows: Vec<TicketCancellationRow> = with_conn!(conn, c => ticket_cancellations::table
        .filter(ticket_cancellations::ticket_id.eq_any(ticket_ids))
        .select(TicketCancellationRow::as_select())
        .load(c))?;
    rows.into_iter()
        .map(TicketCancellationRow::record)
        .collect()
}

/// Marks the performance canceled (once; the first time is kept).
pub fn mark_performance_canceled(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let at = at.naive_utc();
    with_conn!(conn, c => diesel::update(performances::table)
        .filter(performances::id.eq(performance_id))
        .filter(performances::canceled_at.is_null())
        .set(performances::canceled_at.eq(at))
        .execute(c))
    .map(drop)
}

/// Starts the job for a performance, or finds the one already started (one per performance).
/// Returns the job and whether this call started it.
pub fn start_job(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    reason: &str,
    refund_to_credit: bool,
    total: i64,
    at: DateTime<Utc>,
    started_by: &str,
) -> QueryResult<(PerformanceCancellation, bool)> {
    let at = at.naive_utc();
    let inserted = with_conn!(conn, c => diesel::insert_into(jobs::table)
        .values((
            jobs::performance_id.eq(performance_id),
            jobs::reason.eq(reason),
            jobs::refund_to_credit.eq(StoredFlag(refund_to_credit)),
            jobs::status.eq(CancellationStatus::Running),
            jobs::total.eq(total),
            jobs::started_at.eq(at),
            jobs::updated_at.eq(at),
            jobs::started_by.eq(started_by),
        ))
        .on_conflict(jobs::performance_id)
        .do_nothing()
        .execute(c))?;
    let job = job_of_performance(conn, performance_id)?.ok_or(diesel::NotFound)?;
    Ok((job, inserted == 1))
}

pub fn job_of_performance(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
) -> QueryResult<Option<PerformanceCancellation>> {
    with_conn!(conn, c => jobs::table
        .filter(jobs::performance_id.eq(performance_id))
        .select(PerformanceCancellationRow::as_select())
        .get_result(c)
        .optional())
    .map(|row: Option<PerformanceCancellationRow>| row.map(PerformanceCancellationRow::record))
}

pub fn find_job(
    conn: &mut Conn<'_>,
    id: CancellationId,
) -> QueryResult<Option<PerformanceCancellation>> {
    with_conn!(conn, c => jobs::table
        .find(id)
        .select(PerformanceCancellationRow::as_select())
        .get_result(c)
        .optional())
    .map(|row: Option<PerformanceCancellationRow>| row.map(PerformanceCancellationRow::record))
}

pub fn unfinished_jobs(conn: &mut Conn<'_>) -> QueryResult<Vec<CancellationId>> {
    with_conn!(conn, c => jobs::table
        .filter(jobs::status.eq(CancellationStatus::Running))
        .order(jobs::id)
        .select(jobs::id)
        .load(c))
}

/// Moves the job's counters by one batch, in the batch's transaction.
pub fn advance_job(
    conn: &mut Conn<'_>,
    id: CancellationId,
    canceled: i64,
    remaining: i64,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    let at = at.naive_utc();
    let finished = remaining == 0;
    with_conn!(conn, c => diesel::update(jobs::table.find(id))
        .set((
            jobs::canceled.eq(jobs::canceled + canceled),
            jobs::total.eq(jobs::canceled + canceled + remaining),
            jobs::updated_at.eq(at),
            jobs::status.eq(if finished {
                CancellationStatus::Done
            } else {
                CancellationStatus::Running
            }),
            jobs::finished_at.eq(finished.then_some(at)),
        ))
        .execute(c))
    .map(drop)
}
