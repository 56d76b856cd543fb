//! Events (a show at a venue) and their performances (one date of it, with a capacity).

use chrono::{DateTime, Utc};

use super::{Error, Result};
use crate::db::models::{EventRow, NewEventRow, NewPerformanceRow, PerformanceRow};
use crate::db::{events, Db};
use crate::domain::event::{
    parse_event_name, parse_reminder_offsets, parse_time_zone, parse_venue, PerformanceSchedule,
};
use crate::domain::lobby::LobbyMessage;
use crate::domain::policy::ChangePolicy;
use crate::domain::Money;

/// Reminders go out a day and two hours before each performance unless the event says otherwise.
pub const DEFAULT_REMINDER_OFFSETS: [i64; 2] = [1440, 120];

pub fn create_event(
    db: &Db,
    name: &str,
    venue: &str,
    time_zone: &str,
    reminder_offsets_minutes: &[i64],
    policy: &ChangePolicy,
    lobby_message: Option<&LobbyMessage>,
) -> Result<EventRow> {
    let reminders = parse_reminder_offsets(reminder_offsets_minutes)?;
    let name = parse_event_name(name)?;
    let venue = parse_venue(venue)?;
    let time_zone = parse_time_zone(time_zone)?;
    db.write(|conn| {
        events::insert_event(
            conn,
            &NewEventRow {
                name: &name,
                venue: &venue,
                time_zone: time_zone.name(),
                created_at: crate::service::now().naive_utc(),
                reminder_offsets_minutes: &reminders,
                exchange_allowed: policy.exchange_allowed.into(),
                exchange_any_event: policy.exchange_any_event.into(),
                exchange_fee_minor: policy.exchange_fee_minor,
                transfer_allowed: policy.transfer_allowed.into(),
                change_cutoff_minutes: policy.cutoff.num_minutes() as i32,
                transfer_offer_hours: policy.offer_lifetime.num_hours() as i32,
                refund_on_cancel: policy.refund_on_cancel.into(),
                lobby_message: lobby_message.map(LobbyMessage::as_str),
            },
        )
        .map_err(Error::from)
    })
}

pub fn list_events(db: &Db) -> Result<Vec<EventRow>> {
    db.read(|conn| events::list_events(conn).map_err(Error::from))
}

pub fn get_event(db: &Db, id: i64) -> Result<EventRow> {
    db.read(|conn| events::find_event(conn, id).map_err(Error::from))?
        .ok_or_else(|| Error::not_found("event", id))
}

pub fn create_performance(
    db: &Db,
    event_id: i64,
    starts_at: DateTime<Utc>,
    doors_open_at: Option<DateTime<Utc>>,
    capacity: i64,
    price: Option<Money>,
) -> Result<PerformanceRow> {
    let schedule = PerformanceSchedule::parse(starts_at, doors_open_at, capacity)?;
    db.write(|conn| {
        if events::find_event(conn, event_id)?.is_none() {
            return Err(Error::not_found("event", event_id));
        }
        Ok(events::insert_performance(
            conn,
            &NewPerformanceRow {
                event_id,
                starts_at: schedule.starts_at.naive_utc(),
                doors_open_at: schedule.doors_open_at.naive_utc(),
                capacity: schedule.capacity,
                created_at: crate::service::now().naive_utc(),
                price_minor: price.map(|p| p.minor),
                currency: price.map(|p| p.currency.as_str().to_string()),
            },
        )?)
    })
}

pub fn list_performances(db: &Db, event_id: i64) -> Result<Vec<PerformanceRow>> {
    db.read(|conn| {
        if events::find_event(conn, event_id)?.is_none() {
            return Err(Error::not_found("event", event_id));
        }
        Ok(events::list_performances(conn, event_id)?)
    })
}

pub fn get_performance(db: &Db, id: i64) -> Result<PerformanceRow> {
    db.read(|conn| events::find_performance(conn, id).map_err(Error::from))?
        .ok_or_else(|| Error::not_found("performance", id))
}

/// An event's rules for patron changes, as stored.
pub fn change_policy(event: &EventRow) -> ChangePolicy {
    ChangePolicy {
        exchange_allowed: event.exchange_allowed != 0,
        exchange_any_event: event.exchange_any_event != 0,
        exchange_fee_minor: event.exchange_fee_minor,
        transfer_allowed: event.transfer_allowed != 0,
        cutoff: chrono::Duration::minutes(event.change_cutoff_minutes.into()),
        offer_lifetime: chrono::Duration::hours(event.transfer_offer_hours.into()),
        refund_on_cancel: event.refund_on_cancel != 0,
    }
}
