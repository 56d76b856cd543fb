//! Events (a show at a venue) and their performances (one date of it, with a capacity).

use chrono::{DateTime, Utc};

use super::{Encore, Error, Result};
use crate::db::events::{self, EventUpdate};
use crate::domain::event::{
    parse_event_name, parse_reminder_offsets, parse_time_zone, parse_venue, Event, NewEvent,
    NewPerformance, Performance, PerformanceSchedule,
};
use crate::domain::ids::{EventId, PerformanceId};
use crate::domain::lobby::LobbyMessage;
use crate::domain::locale::Locale;
use crate::domain::policy::{ChangePolicy, PolicyChanges};
use crate::domain::rotating::Barcode;
use crate::domain::venue::{HelpPhone, VenueAddress, VenueDetails};
use crate::domain::{EmailAddress, Money};

/// Reminders go out a day and two hours before each performance unless the event says otherwise.
pub const DEFAULT_REMINDER_OFFSETS: [i64; 2] = [1440, 120];

/// How a new event runs, beside its name, place and reminders: what patrons may change, the
/// lobby message, the barcode its tickets show at the door, and the venue's address and help
/// contact (parsed, each optional).
#[derive(Debug, Clone, Copy)]
pub struct EventRules<'a> {
    pub policy: &'a ChangePolicy,
    pub lobby_message: Option<&'a LobbyMessage>,
    pub barcode: Barcode,
    pub venue_details: &'a VenueDetails,
    /// The language of its tickets, unless one is given on issue.
    pub locale: Locale,
}

pub fn create_event(
    encore: &Encore,
    name: &str,
    venue: &str,
    time_zone: &str,
    reminder_offsets_minutes: &[i64],
    rules: EventRules<'_>,
) -> Result<Event> {
    let EventRules {
        policy,
        lobby_message,
        barcode,
        venue_details,
        locale,
    } = rules;
    let reminders = parse_reminder_offsets(reminder_offsets_minutes)?;
    let name = parse_event_name(name)?;
    let venue = parse_venue(venue)?;
    let time_zone = parse_time_zone(time_zone)?;
    encore.db.write(|conn| {
        events::insert_event(
            conn,
            &NewEvent {
                name: &name,
                venue: &venue,
                time_zone,
                reminder_offsets: &reminders,
                created_at: crate::service::now(),
                policy,
                lobby_message: lobby_message.map(LobbyMessage::as_str),
                barcode,
                venue_details,
                locale,
            },
        )
        .map_err(Error::from)
    })
}

pub fn list_events(encore: &Encore) -> Result<Vec<Event>> {
    encore
        .db
        .read(|conn| events::list_events(conn).map_err(Error::from))
}

pub fn get_event(encore: &Encore, id: EventId) -> Result<Event> {
    encore
        .db
        .read(|conn| events::find_event(conn, id).map_err(Error::from))?
        .ok_or_else(|| Error::not_found("event", id))
}

/// What the box office changes about an event: each field given (`Some`) replaces the event's
/// own, each left out stays as it is. The name and venue are checked by [`update_event`] as
/// [`create_event`] checks them; the message and the policy come parsed. The time zone and the
/// reminder offsets are not here: the event's performances were set in that zone, and their
/// reminders are scheduled (and recorded as sent) by those offsets.
#[derive(Debug, Clone, Default)]
pub struct EventChanges {
    pub name: Option<String>,
    pub venue: Option<String>,
    /// `Some(None)` removes the message.
    pub lobby_message: Option<Option<LobbyMessage>>,
    pub policy: PolicyChanges,
    /// A new barcode (static or rotating, with its period and reveal), whole. It applies from
    /// the next scan: a static code of an event turned rotating is refused from then on (paper
    /// codes excepted), and the ticket pages show the rotating code from their next load.
    pub barcode: Option<Barcode>,
    /// The venue's address, help phone and help email: `Some(None)` removes one. They show on
    /// the ticket page from its next load, and in the emails rendered from then on.
    pub venue_address: Option<Option<VenueAddress>>,
    pub help_phone: Option<Option<HelpPhone>>,
    pub help_email: Option<Option<EmailAddress>>,
    /// The language of the tickets issued from now on.
    pub locale: Option<Locale>,
}

/// Changes an event: one transaction, in which the event's row is changed by one `UPDATE` of
/// the columns given (so that two changes of different fields at once both stay). No change
/// at all answers with the event as it is. Returns the event as it now is.
///
/// Nothing already done is redone; what is in flight reads the event when it acts:
/// * **Name and venue**: every email not yet sent (confirmations, reminders, offers, lobby
///   welcomes) is rendered when it is sent, from the event as it is then, and so are the
///   patron pages; emails already sent stay as they were. Ticket tokens carry neither.
/// * **Lobby message**: a lobby email is rendered when it is sent, from the event's message
///   then (`worker`, `EmailKind::Lobby`): a changed message reaches every holder whose email
///   is still queued, and a removed one is not sent to them at all (skipped, not failed). The
///   scan writer asks, for each batch it admits, whether the event has a message
///   (`service::door::queue_lobby_emails`), so a message added now greets the next admission;
///   holders admitted before it was added are not emailed after the fact.
/// * **Policy**: each exchange or transfer reads the policy in its own transaction, so a
///   change applies from the next request (on the patron's page from its next load). An open
///   transfer offer keeps the expiry it was given when made (from the lifetime and cut-off of
///   then); a performance cancellation already begun keeps the `refund_on_cancel` it began
///   with.
pub fn update_event(encore: &Encore, id: EventId, changes: &EventChanges) -> Result<Event> {
    let name = changes.name.as_deref().map(parse_event_name).transpose()?;
    let venue = changes.venue.as_deref().map(parse_venue).transpose()?;
    let update = EventUpdate {
        name: name.as_deref(),
        venue: venue.as_deref(),
        policy: &changes.policy,
        lobby_message: changes
            .lobby_message
            .as_ref()
            .map(|m| m.as_ref().map(LobbyMessage::as_str)),
        barcode: changes.barcode,
        venue_address: changes
            .venue_address
            .as_ref()
            .map(|a| a.as_ref().map(VenueAddress::as_str)),
        help_phone: changes
            .help_phone
            .as_ref()
            .map(|p| p.as_ref().map(HelpPhone::as_str)),
        help_email: changes
            .help_email
            .as_ref()
            .map(|e| e.as_ref().map(EmailAddress::as_str)),
        locale: changes.locale,
    };
    if update.is_empty() {
        return get_event(encore, id);
    }
    encore.db.write(|conn| {
        events::update_event(conn, id, &update)?.ok_or_else(|| Error::not_found("event", id))
    })
}

pub fn create_performance(
    encore: &Encore,
    event_id: EventId,
    starts_at: DateTime<Utc>,
    doors_open_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    capacity: i64,
    price: Option<Money>,
) -> Result<Performance> {
    let schedule = PerformanceSchedule::parse(starts_at, doors_open_at, ends_at, capacity)?;
    encore.db.write(|conn| {
        if events::find_event(conn, event_id)?.is_none() {
            return Err(Error::not_found("event", event_id));
        }
        Ok(events::insert_performance(
            conn,
            &NewPerformance {
                event_id,
                schedule,
                created_at: crate::service::now(),
                price,
            },
        )?)
    })
}

pub fn list_performances(encore: &Encore, event_id: EventId) -> Result<Vec<Performance>> {
    encore.db.read(|conn| {
        if events::find_event(conn, event_id)?.is_none() {
            return Err(Error::not_found("event", event_id));
        }
        Ok(events::list_performances(conn, event_id)?)
    })
}

pub fn get_performance(encore: &Encore, id: PerformanceId) -> Result<Performance> {
    encore
        .db
        .read(|conn| events::find_performance(conn, id).map_err(Error::from))?
        .ok_or_else(|| Error::not_found("performance", id))
}
