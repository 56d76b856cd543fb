//! What the patron journey reads: the rows every use case writes anyway, by ticket.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::models::{ArrivalEventRow, CreditEntryRow, LinkOpenRow, TransferRow};
use super::schema::{arrival_events, credit_ledger, link_opens, tickets, transfers};
use super::{with_conn, Conn};
use crate::domain::credit::CreditEntry;
use crate::domain::ids::TicketId;
use crate::domain::link::{LinkOpen, LinkPurpose};
use crate::domain::offer::Offer;
use crate::domain::scan::Arrival;

pub fn scans(conn: &mut Conn<'_>, ticket_ids: &[TicketId]) -> QueryResult<Vec<Arrival>> {
    with_conn!(conn, c => arrival_events::table
        .filter(arrival_events::ticket_id.eq_any(ticket_ids))
        .order(arrival_events::id)
        .select(ArrivalEventRow::as_select())
        .load(c))
    .map(|rows: Vec<ArrivalEventRow>| rows.into_iter().map(ArrivalEventRow::record).collect())
}

/// Offers made of these tickets, or that became them (a claimed offer's new ticket), or made
/// to `to_email`.
pub fn offers(
    conn: &mut Conn<'_>,
    ticket_ids: &[TicketId],
    to_email: Option<&str>,
) -> QueryResult<Vec<Offer>> {
    with_conn!(conn, c => transfers::table
        .filter(
            transfers::ticket_id
                .eq_any(ticket_ids)
                .or(transfers::claimed_ticket_id.eq_any(ticket_ids))
                .or(transfers::to_email.nullable().eq(to_email)),
        )
        .order(transfers::id)
        .select(TransferRow::as_select())
        .load(c))
    .map(super::transfers::records)
}

pub fn ledger(conn: &mut Conn<'_>, ticket_ids: &[TicketId]) -> QueryResult<Vec<CreditEntry>> {
    super::credit::records(with_conn!(conn, c => credit_ledger::table
        .filter(credit_ledger::ticket_id.eq_any(ticket_ids))
        .order(credit_ledger::id)
        .select(CreditEntryRow::as_select())
        .load(c))?)
}

pub fn link_opens(conn: &mut Conn<'_>, ticket_ids: &[TicketId]) -> QueryResult<Vec<LinkOpen>> {
    with_conn!(conn, c => link_opens::table
        .filter(link_opens::ticket_id.eq_any(ticket_ids))
        .order(link_opens::id)
        .select(LinkOpenRow::as_select())
        .load(c))
    .map(|rows: Vec<LinkOpenRow>| rows.into_iter().map(LinkOpenRow::record).collect())
}

/// An arbitrary constant: the first key of the PostgreSQL advisory locks that serialise the
/// recording of one ticket's link opens (the second key is the ticket id).
const LINK_OPEN_LOCK: i32 = 0x006c_6e6b;

/// Records that a link to the ticket was opened for `purpose`, unless an open of it was already
/// recorded after `since`. True when this one was recorded. Concurrent calls record at most
/// one: on SQLite each write transaction has the database to itself, and on PostgreSQL the
/// caller's transaction first takes an advisory lock on the ticket (held until it ends).
pub fn record_link_open_unless_since(
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    purpose: LinkPurpose,
    at: DateTime<Utc>,
    since: DateTime<Utc>,
) -> QueryResult<bool> {
    let at = at.naive_utc();
    let since = since.naive_utc();
    use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
    let insert_unless_recent = match conn {
        Conn::Sqlite(_) => {
            "INSERT INTO link_opens (ticket_id, purpose, opened_at) SELECT ?, ?, ? \
             WHERE NOT EXISTS (SELECT 1 FROM link_opens \
                               WHERE ticket_id = ? AND purpose = ? AND opened_at > ?)"
        }
        Conn::Postgres(c) => {
            // Only a collision of the low 32 bits of two ticket ids shares a lock: harmless.
            diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind::<Integer, _>(LINK_OPEN_LOCK)
                .bind::<Integer, _>(ticket_id.0 as i32)
                .execute(&mut **c)?;
            "INSERT INTO link_opens (ticket_id, purpose, opened_at) SELECT $1, $2, $3 \
             WHERE NOT EXISTS (SELECT 1 FROM link_opens \
                               WHERE ticket_id = $4 AND purpose = $5 AND opened_at > $6)"
        }
    };
    with_conn!(conn, c => diesel::sql_query(insert_unless_recent)
        .bind::<BigInt, _>(ticket_id)
        .bind::<Text, _>(purpose)
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(ticket_id)
        .bind::<Text, _>(purpose)
        .bind::<Timestamp, _>(since)
        .execute(c))
    .map(|n| n == 1)
}

/// The tickets that took these tickets' place (after an exchange or a claimed transfer).
pub fn successors(
    conn: &mut Conn<'_>,
    ticket_ids: &[TicketId],
) -> QueryResult<Vec<(TicketId, TicketId)>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::replaces_ticket_id.eq_any(ticket_ids))
        .order(tickets::id)
        .select((tickets::replaces_ticket_id.assume_not_null(), tickets::id))
        .load(c))
}
