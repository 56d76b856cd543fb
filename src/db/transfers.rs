//! Transfer offers: one row per (ticket, generation), moved from `offered` to `claimed`,
//! `canceled` or `expired` by conditional writes, so two resolutions can never both happen.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::models::{NewTransferRow, TransferRow};
use super::schema::transfers;
use super::{with_conn, Conn};
use crate::domain::ids::{TicketId, TransferId};
use crate::domain::offer::{NewOffer, Offer, OfferStatus};

/// The records of loaded rows.
pub(super) fn records(rows: Vec<TransferRow>) -> Vec<Offer> {
    rows.into_iter().map(TransferRow::record).collect()
}

pub fn insert(conn: &mut Conn<'_>, offer: &NewOffer) -> QueryResult<Offer> {
    let row = NewTransferRow::from_record(offer);
    with_conn!(conn, c => diesel::insert_into(transfers::table)
        .values(&row)
        .returning(TransferRow::as_returning())
        .get_result(c))
    .map(TransferRow::record)
}

pub fn find(conn: &mut Conn<'_>, id: TransferId) -> QueryResult<Option<Offer>> {
    with_conn!(conn, c => transfers::table.find(id).select(TransferRow::as_select()).get_result(c).optional())
        .map(|row: Option<TransferRow>| row.map(TransferRow::record))
}

/// The offer made of a ticket at one of its generations.
pub fn for_generation(
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    generation: i32,
) -> QueryResult<Option<Offer>> {
    with_conn!(conn, c => transfers::table
        .filter(transfers::ticket_id.eq(ticket_id))
        .filter(transfers::generation.eq(generation))
        .select(TransferRow::as_select())
        .get_result(c)
        .optional())
    .map(|row: Option<TransferRow>| row.map(TransferRow::record))
}

/// Every offer made of a ticket, oldest first.
pub fn of_ticket(conn: &mut Conn<'_>, ticket_id: TicketId) -> QueryResult<Vec<Offer>> {
    with_conn!(conn, c => transfers::table
        .filter(transfers::ticket_id.eq(ticket_id))
        .order(transfers::id)
        .select(TransferRow::as_select())
        .load(c))
    .map(records)
}

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Whose offers [`offered_since`] counts.
pub enum OffersOf<'a> {
    Ticket(TicketId),
    /// Offers to an address, in any letter case.
    Recipient(&'a str),
}

/// When the `limit` newest offers of `of` made after `since` were made, newest first.
pub fn offered_since(
    conn: &mut Conn<'_>,
    of: OffersOf<'_>,
    since: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<DateTime<Utc>>> {
    let since = since.naive_utc();
    let made: Vec<NaiveDateTime> = with_conn!(conn, c => {
        let offers = transfers::table
            .filter(transfers::offered_at.gt(since))
            .into_boxed();
        match &of {
            OffersOf::Ticket(id) => offers.filter(transfers::ticket_id.eq(*id)),
            OffersOf::Recipient(to) => {
                offers.filter(lower(transfers::to_email).eq(to.to_lowercase()))
            }
        }
        .order(transfers::offered_at.desc())
        .limit(limit)
        .select(transfers::offered_at)
        .load(c)
    })?;
    Ok(made.into_iter().map(|at| at.and_utc()).collect())
}

/// Moves an open offer to `status`. False when it was no longer open: someone else resolved it.
pub fn resolve(
    conn: &mut Conn<'_>,
    id: TransferId,
    status: OfferStatus,
    at: DateTime<Utc>,
    claimed_ticket_id: Option<TicketId>,
) -> QueryResult<bool> {
    let at = at.naive_utc();
    with_conn!(conn, c => diesel::update(transfers::table)
        .filter(transfers::id.eq(id))
        .filter(transfers::status.eq(OfferStatus::Offered))
        .set((
            transfers::status.eq(status),
            transfers::resolved_at.eq(at),
            transfers::claimed_ticket_id.eq(claimed_ticket_id),
        ))
        .execute(c))
    .map(|n| n == 1)
}

/// Open offers whose time ran out, a bounded batch at a time.
pub fn expired_offers(
    conn: &mut Conn<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Offer>> {
    let now = now.naive_utc();
    with_conn!(conn, c => transfers::table
        .filter(transfers::status.eq(OfferStatus::Offered))
        .filter(transfers::expires_at.le(now))
        .order(transfers::id)
        .limit(limit)
        .select(TransferRow::as_select())
        .load(c))
    .map(records)
}
