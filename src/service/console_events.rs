//! The console's Events pages: an event with its performances (and their cancellations), a
//! performance with its cancellation job, and the two things the console's forms take that the
//! JSON API does not: a time in the venue's zone (`datetime-local`) and a price in major units.
//! Everything else goes through the same services as the API (`events`, `cancellations`).

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{events, Encore, Error, Result};
use crate::db::{cancellations as store, events as event_store};
use crate::domain::cancellation::PerformanceCancellation;
use crate::domain::event::{parse_time_zone, Event, Performance};
use crate::domain::ids::{EventId, PerformanceId};
use crate::domain::{Invalid, Money};

/// A performance of an event's page, with its cancellation job if it was canceled.
#[derive(Debug, Clone)]
pub struct PerformanceLine {
    pub performance: Performance,
    pub cancellation: Option<PerformanceCancellation>,
}

/// What an event's console page shows.
#[derive(Debug, Clone)]
pub struct EventPage {
    pub event: Event,
    pub performances: Vec<PerformanceLine>,
    /// Its message rules, oldest first.
    pub rules: Vec<crate::domain::message_rule::MessageRule>,
}

/// An event and its performances, soonest first, read in one transaction.
pub fn event_page(encore: &Encore, id: EventId) -> Result<EventPage> {
    encore.db.read(|conn| {
        let event =
            event_store::find_event(conn, id)?.ok_or_else(|| Error::not_found("event", id))?;
        let performances = event_store::list_performances(conn, id)?
            .into_iter()
            .map(|performance| {
                let cancellation = match performance.is_canceled() {
                    true => store::job_of_performance(conn, performance.id)?,
                    false => None,
                };
                Ok::<_, Error>(PerformanceLine {
                    performance,
                    cancellation,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let rules = crate::db::message_rules::for_event(conn, id)?;
        Ok(EventPage {
            event,
            performances,
            rules,
        })
    })
}

/// A performance with its event, and its cancellation job if it has one.
#[derive(Debug, Clone)]
pub struct PerformanceCancellationPage {
    pub event: Event,
    pub performance: Performance,
    pub cancellation: Option<PerformanceCancellation>,
}

pub fn cancellation_page(
    encore: &Encore,
    id: PerformanceId,
) -> Result<PerformanceCancellationPage> {
    encore.db.read(|conn| {
        let performance = event_store::find_performance(conn, id)?
            .ok_or_else(|| Error::not_found("performance", id))?;
        let event = event_store::find_event(conn, performance.event_id)?
            .ok_or_else(|| Error::not_found("event", performance.event_id))?;
        let cancellation = store::job_of_performance(conn, id)?;
        Ok(PerformanceCancellationPage {
            event,
            performance,
            cancellation,
        })
    })
}

/// Adds a performance whose start (and doors, if given) are typed in the venue's time, as a
/// `datetime-local` field sends them ("2026-12-24T19:30"); otherwise as
/// `POST /api/v1/events/{id}/performances`. The event's zone never changes once it exists, so
/// reading it first is safe.
pub fn add_performance(
    encore: &Encore,
    event_id: EventId,
    starts_local: &str,
    doors_local: &str,
    capacity: i64,
    price: Option<Money>,
) -> Result<Performance> {
    let event = events::get_event(encore, event_id)?;
    let zone = parse_time_zone(&event.time_zone)?;
    let starts_at = venue_instant("starts_at", starts_local, zone)?;
    let doors_open_at = match doors_local.trim() {
        "" => None,
        doors => Some(venue_instant("doors_open_at", doors, zone)?),
    };
    events::create_performance(
        encore,
        event_id,
        starts_at,
        doors_open_at,
        None,
        capacity,
        price,
    )
}

/// A wall-clock time in `zone` ("2026-12-24T19:30", seconds optional) as a UTC instant. A time
/// the clocks skip is refused; one they pass twice is the first of the two.
pub fn venue_instant(
    field: &'static str,
    raw: &str,
    zone: Tz,
) -> std::result::Result<DateTime<Utc>, Invalid> {
    let raw = raw.trim();
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            Invalid::new(
                field,
                format!("{raw:?} is not a date and time such as 2026-12-24T19:30"),
            )
        })?;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            Invalid::new(
                field,
                format!("{raw} does not exist in {zone}: the clocks change then"),
            )
        })
}

/// A price typed in major units ("45", "45.5", "45.50") as minor units (cents); empty is none.
pub fn parse_price_major(raw: &str) -> std::result::Result<Option<i64>, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || {
        Invalid::new(
            "price_minor",
            format!("{raw:?} is not an amount such as 45.00"),
        )
    };
    let (whole, cents) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty()
        || cents.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .map(Some)
        .ok_or_else(bad)
}

/// A UTC instant as a `datetime-local` value in the venue's zone.
pub fn local_input_value(at: DateTime<Utc>, time_zone: &str) -> String {
    crate::domain::event::in_venue_time(at, time_zone)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venue_times_become_utc_and_skipped_times_are_refused() {
        let london = chrono_tz::Europe::London;
        let summer = venue_instant("starts_at", "2026-07-01T19:30", london).unwrap();
        assert_eq!(summer, Utc.with_ymd_and_hms(2026, 7, 1, 18, 30, 0).unwrap());
        let seconds = venue_instant("starts_at", "2026-12-01T19:30:00", london).unwrap();
        assert_eq!(
            seconds,
            Utc.with_ymd_and_hms(2026, 12, 1, 19, 30, 0).unwrap()
        );
        // 01:30 on the last Sunday of March does not happen in London.
        let skipped = venue_instant("starts_at", "2026-03-29T01:30", london).unwrap_err();
        assert_eq!(skipped.field, "starts_at");
        assert!(
            skipped.reason.contains("does not exist"),
            "{}",
            skipped.reason
        );
        // 01:30 on the last Sunday of October happens twice: the first.
        let twice = venue_instant("doors_open_at", "2026-10-25T01:30", london).unwrap();
        assert_eq!(twice, Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap());
        assert_eq!(
            venue_instant("doors_open_at", "tomorrow", london)
                .unwrap_err()
                .field,
            "doors_open_at"
        );
        assert_eq!(
            local_input_value(summer, "Europe/London"),
            "2026-07-01T19:30"
        );
    }

    #[test]
    fn prices_are_typed_in_major_units() {
        assert_eq!(parse_price_major("").unwrap(), None);
        assert_eq!(parse_price_major("45").unwrap(), Some(4500));
        assert_eq!(parse_price_major("45.5").unwrap(), Some(4550));
        assert_eq!(parse_price_major(" 0.05 ").unwrap(), Some(5));
        for bad in ["-1", "4.555", "abc", ".5", "1e3", "99999999999999999999"] {
            assert_eq!(
                parse_price_major(bad).unwrap_err().field,
                "price_minor",
                "{bad}"
            );
        }
    }
}
