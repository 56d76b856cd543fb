//! What the patron journey reads: the rows every use case writes anyway, by ticket.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{ArrivalEventRow, CreditEntryRow, LinkOpenRow, TransferRow};
use super::schema::{arrival_events, credit_ledger, link_opens, tickets, transfers};
use super::{with_conn, Conn};

pub fn scans(conn: &mut Conn<'_>, ticket_ids: &[i64]) -> QueryResult<Vec<ArrivalEventRow>> {
    with_conn!(conn, c => arrival_events::table
        .filter(arrival_events::ticket_id.eq_any(ticket_ids))
        .order(arrival_events::id)
        .select(ArrivalEventRow::as_select())
        .load(c))
}

/// Offers made of these tickets, or that became them (a claimed offer's new ticket), or made
/// to `to_email`.
pub fn offers(
    conn: &mut Conn<'_>,
    ticket_ids: &[i64],
    to_email: Option<&str>,
) -> QueryResult<Vec<TransferRow>> {
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
}

pub fn ledger(conn: &mut Conn<'_>, ticket_ids: &[i64]) -> QueryResult<Vec<CreditEntryRow>> {
    with_conn!(conn, c => credit_ledger::table
        .filter(credit_ledger::ticket_id.eq_any(ticket_ids))
        .order(credit_ledger::id)
        .select(CreditEntryRow::as_select())
        .load(c))
}

pub fn link_opens(conn: &mut Conn<'_>, ticket_ids: &[i64]) -> QueryResult<Vec<LinkOpenRow>> {
    with_conn!(conn, c => link_opens::table
        .filter(link_opens::ticket_id.eq_any(ticket_ids))
        .order(link_opens::id)
        .select(LinkOpenRow::as_select())
        .load(c))
}

pub fn record_link_open(
    conn: &mut Conn<'_>,
    ticket_id: i64,
    purpose: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    with_conn!(conn, c => diesel::insert_into(link_opens::table)
        .values((
            link_opens::ticket_id.eq(ticket_id),
            link_opens::purpose.eq(purpose),
            link_opens::opened_at.eq(at),
        ))
        .execute(c))
    .map(drop)
}

/// The tickets that took these tickets' place (after an exchange or a claimed transfer).
pub fn successors(conn: &mut Conn<'_>, ticket_ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::replaces_ticket_id.eq_any(ticket_ids))
        .order(tickets::id)
        .select((tickets::replaces_ticket_id.assume_not_null(), tickets::id))
        .load(c))
}
