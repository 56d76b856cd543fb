//! The box-office console's read models: what its pages show, built from the same services
//! and queries as the JSON API (no rule written twice).

use chrono::{DateTime, Duration, Utc};

use super::{Encore, Error, Result};
use crate::db::{events, tickets};
use crate::domain::event::{Event, Performance};
use crate::domain::ids::{EventId, PerformanceId};
use crate::domain::money::Money;

/// A performance at a glance, as the Today page lists it and the performance page heads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerformanceSummary {
    pub id: PerformanceId,
    pub event_id: EventId,
    pub event_name: String,
    pub venue: String,
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub doors_open_at: DateTime<Utc>,
    pub capacity: i64,
    pub issued: i64,
    /// Admitted at the door so far.
    pub arrived: i64,
    /// The performance's one price, when it has one (the walk-up form's default).
    pub price: Option<Money>,
    pub canceled: bool,
}

impl PerformanceSummary {
    fn of(performance: Performance, event: Event, arrived: i64) -> Self {
        PerformanceSummary {
            id: performance.id,
            event_id: event.id,
            event_name: event.name,
            venue: event.venue,
            time_zone: event.time_zone,
            starts_at: performance.starts_at(),
            doors_open_at: performance.doors_open_at(),
            capacity: performance.schedule.capacity,
            issued: performance.tickets_issued,
            arrived,
            price: performance.price,
            canceled: performance.is_canceled(),
        }
    }
}

/// The performances not canceled that start within `days` from `now`, and those that started
/// less than the door's scan window ago (their doors may still be admitting), soonest first:
/// each with its capacity, tickets issued and arrivals so far (counted in one query for all).
pub fn today(encore: &Encore, now: DateTime<Utc>, days: i64) -> Result<Vec<PerformanceSummary>> {
    let from = now - encore.settings.scan_window_after_start;
    let until = now + Duration::days(days);
    encore.db.read(|conn| -> Result<_> {
        let mut listed = events::upcoming_performances(conn, None, from)?;
        listed.retain(|(performance, _)| performance.starts_at() < until);
        let ids: Vec<PerformanceId> = listed.iter().map(|(p, _)| p.id).collect();
        let arrived = tickets::admitted_counts(conn, &ids)?;
        Ok(listed
            .into_iter()
            .map(|(performance, event)| {
                let arrived = arrived.get(&performance.id).copied().unwrap_or(0);
                PerformanceSummary::of(performance, event, arrived)
            })
            .collect())
    })
}

/// One performance's summary; `NotFound` for an unknown performance.
pub fn performance(encore: &Encore, id: PerformanceId) -> Result<PerformanceSummary> {
    encore.db.read(|conn| -> Result<_> {
        let performance = events::find_performance(conn, id)?
            .ok_or_else(|| Error::not_found("performance", id))?;
        let event = events::find_event(conn, performance.event_id)?
            .ok_or_else(|| Error::not_found("event", performance.event_id))?;
        let arrived = tickets::admitted_counts(conn, &[id])?
            .get(&id)
            .copied()
            .unwrap_or(0);
        Ok(PerformanceSummary::of(performance, event, arrived))
    })
}
