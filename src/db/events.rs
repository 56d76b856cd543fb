use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::models::{EventChangeset, EventRow, NewEventRow, NewPerformanceRow, PerformanceRow};
use super::schema::{events, performances};
use super::{with_conn, Conn};
use crate::domain::event::{Event, NewEvent, NewPerformance, Performance};
use crate::domain::ids::{EventId, PerformanceId};
use crate::domain::locale::Locale;
use crate::domain::policy::PolicyChanges;
use crate::domain::rotating::Barcode;

pub fn insert_event(conn: &mut Conn<'_>, event: &NewEvent<'_>) -> QueryResult<Event> {
    // By value: a flag's `StoredFlag` conversion is only derived for the owned row.
    let row = NewEventRow::from_record(event);
    with_conn!(conn, c => diesel::insert_into(events::table)
        .values(row)
        .returning(EventRow::as_returning())
        .get_result(c))
    .map(EventRow::record)
}

pub fn list_events(conn: &mut Conn<'_>) -> QueryResult<Vec<Event>> {
    with_conn!(conn, c => events::table.order(events::id).select(EventRow::as_select()).load(c))
        .map(|rows: Vec<EventRow>| rows.into_iter().map(EventRow::record).collect())
}

pub fn find_event(conn: &mut Conn<'_>, id: EventId) -> QueryResult<Option<Event>> {
    with_conn!(conn, c => events::table.find(id).select(EventRow::as_select()).get_result(c).optional())
        .map(|row: Option<EventRow>| row.map(EventRow::record))
}

/// What a change of an event sets: each field given (`Some`) is written, the others left
/// alone (so two box offices changing different fields at once never undo each other's
/// change). `lobby_message: Some(None)` removes the message.
#[derive(Debug, Clone, Copy)]
pub struct EventUpdate<'a> {
    pub name: Option<&'a str>,
    pub venue: Option<&'a str>,
    pub policy: &'a PolicyChanges,
    pub lobby_message: Option<Option<&'a str>>,
    /// The whole barcode (mode, period, reveal), when it changes.
    pub barcode: Option<Barcode>,
    /// The venue's address, help phone and help email: `Some(None)` removes one.
    pub venue_address: Option<Option<&'a str>>,
    pub help_phone: Option<Option<&'a str>>,
    pub help_email: Option<Option<&'a str>>,
    /// The language of the event's tickets issued from now on.
    pub locale: Option<Locale>,
}

impl EventUpdate<'_> {
    /// Sets nothing.
    pub fn is_empty(&self) -> bool {
        self.changeset().is_empty()
    }

    fn changeset(&self) -> EventChangeset<'_> {
        let policy = self.policy;
        EventChangeset {
            name: self.name,
            venue: self.venue,
            exchange_allowed: policy.exchange_allowed,
            exchange_any_event: policy.exchange_any_event,
            exchange_fee_minor: policy.exchange_fee_minor,
            transfer_allowed: policy.transfer_allowed,
            change_cutoff_minutes: policy.cutoff.map(|d| d.num_minutes() as i32),
            transfer_offer_hours: policy.offer_lifetime.map(|d| d.num_hours() as i32),
            refund_on_cancel: policy.refund_on_cancel,
            lobby_message: self.lobby_message,
            barcode: self.barcode.map(|b| b.mode()),
            // A static barcode keeps the period it had, for a later switch back.
            rotation_seconds: self
                .barcode
                .filter(Barcode::is_rotating)
                .map(|b| b.period_seconds() as i32),
            reveal_hours_before_doors: self
                .barcode
                .map(|b| b.reveal_hours_before_doors().map(|h| h as i32)),
            venue_address: self.venue_address,
            help_phone: self.help_phone,
            help_email: self.help_email,
            no_show_credit_percent: policy.no_show_credit_percent.map(|p| p.map(i32::from)),
            locale: self.locale.map(Locale::as_str),
        }
    }
}

/// Sets the columns `update` gives, in one statement; the event as it now is, or `None` when
/// there is no such event. `update` must set at least one column ([`EventUpdate::is_empty`]).
pub fn update_event(
    conn: &mut Conn<'_>,
    id: EventId,
    update: &EventUpdate<'_>,
) -> QueryResult<Option<Event>> {
    let changes = update.changeset();
    with_conn!(conn, c => diesel::update(events::table.find(id))
        .set(changes)
        .returning(EventRow::as_returning())
        .get_result(c)
        .optional())
    .map(|row: Option<EventRow>| row.map(EventRow::record))
}

pub fn insert_performance(
    conn: &mut Conn<'_>,
    performance: &NewPerformance,
) -> QueryResult<Performance> {
    let row = NewPerformanceRow::from_record(performance);
    with_conn!(conn, c => diesel::insert_into(performances::table)
        .values(&row)
        .returning(PerformanceRow::as_returning())
        .get_result(c))
    .and_then(PerformanceRow::record)
}

pub fn list_performances(conn: &mut Conn<'_>, event_id: EventId) -> QueryResult<Vec<Performance>> {
    with_conn!(conn, c => performances::table
        .filter(performances::event_id.eq(event_id))
        .order((performances::starts_at, performances::id))
        .select(PerformanceRow::as_select())
        .load(c))
    .and_then(|rows: Vec<PerformanceRow>| rows.into_iter().map(PerformanceRow::record).collect())
}

pub fn find_performance(
    conn: &mut Conn<'_>,
    id: PerformanceId,
) -> QueryResult<Option<Performance>> {
    with_conn!(conn, c => performances::table
        .find(id)
        .select(PerformanceRow::as_select())
        .get_result(c)
        .optional())
    .and_then(|row: Option<PerformanceRow>| row.map(PerformanceRow::record).transpose())
}

/// What [`reserve_seats`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    Reserved,
    /// The performance is canceled: it takes no more tickets.
    Canceled,
    /// Fewer than the seats asked for are left.
    SoldOut,
}

/// Takes `count` seats of a performance if it is not canceled and that many are left. One
/// conditional write, so two concurrent issuers can never both take the last seat, and an
/// issuer can never take a seat of a performance whose cancellation has committed: on
/// PostgreSQL the write waits for the cancel's lock on the row and then checks the row as the
/// cancel left it. When it takes nothing, the row read again (a new statement, so it sees what
/// that write waited for) says whether the performance is canceled or full.
pub fn reserve_seats(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    count: i64,
) -> QueryResult<Reservation> {
    let reserved = with_conn!(conn, c => diesel::update(performances::table)
        .filter(performances::id.eq(performance_id))
        .filter(performances::canceled_at.is_null())
        .filter((performances::tickets_issued + count).le(performances::capacity))
        .set(performances::tickets_issued.eq(performances::tickets_issued + count))
        .execute(c))?;
    if reserved == 1 {
        return Ok(Reservation::Reserved);
    }
    let canceled = with_conn!(conn, c => performances::table
        .find(performance_id)
        .select(performances::canceled_at.is_not_null())
        .get_result::<bool>(c)
        .optional())?;
    Ok(if canceled == Some(true) {
        Reservation::Canceled
    } else {
        Reservation::SoldOut
    })
}

/// Gives back `count` seats of a performance (tickets exchanged away or canceled).
pub fn release_seats(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    count: i64,
) -> QueryResult<()> {
    with_conn!(conn, c => diesel::update(performances::table)
        .filter(performances::id.eq(performance_id))
        .filter(performances::tickets_issued.ge(count))
        .set(performances::tickets_issued.eq(performances::tickets_issued - count))
        .execute(c))
    .map(drop)
}

/// Performances that start after `after` and are not canceled, with their events: the
/// candidates for an exchange.
pub fn upcoming_performances(
    conn: &mut Conn<'_>,
    event_id: Option<EventId>,
    after: DateTime<Utc>,
) -> QueryResult<Vec<(Performance, Event)>> {
    let after = after.naive_utc();
    let rows: Vec<(PerformanceRow, EventRow)> = with_conn!(conn, c => {
        let mut query = performances::table
            .inner_join(events::table)
            .filter(performances::starts_at.gt(after))
            .filter(performances::canceled_at.is_null())
            .order((performances::starts_at, performances::id))
            .select((PerformanceRow::as_select(), EventRow::as_select()))
            .limit(200)
            .into_boxed();
        if let Some(event_id) = event_id {
            query = query.filter(performances::event_id.eq(event_id));
        }
        query.load(c)
    })?;
    rows.into_iter()
        .map(|(performance, event)| Ok((performance.record()?, event.record())))
        .collect()
}
