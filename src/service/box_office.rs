//! The box-office console's read models: what its pages show, built from the same services
//! and queries as the JSON API (no rule written twice).

use chrono::{DateTime, Duration, Utc};

use super::{arrivals, Encore, Error, Result};
use crate::db::events;
use crate::domain::ids::{EventId, PerformanceId};

/// One performance on the Today page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodayPerformance {
    pub id: PerformanceId,
    pub event_id: EventId,
    pub event_name: String,
    pub venue: String,
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub capacity: i64,
    pub issued: i64,
    /// Admitted at the door so far (`service::arrivals`).
    pub arrived: i64,
}

/// The performances not canceled that start within `days` from `now`, and those that started
/// less than the door's scan window ago (their doors may still be admitting), soonest first:
/// each with its capacity, tickets issued and arrivals so far.
pub fn today(encore: &Encore, now: DateTime<Utc>, days: i64) -> Result<Vec<TodayPerformance>> {
    let from = now - encore.settings.scan_window_after_start;
    let until = now + Duration::days(days);
    let rows = encore
        .db
        .read(|conn| events::upcoming_performances(conn, None, from).map_err(Error::from))?;
    rows.into_iter()
        .filter(|(performance, _)| performance.starts_at() < until)
        .map(|(performance, event)| {
            let arrived = arrivals::for_performance(&encore.db, performance.id)?.admitted;
            Ok::<_, Error>(TodayPerformance {
                id: performance.id,
                event_id: event.id,
                event_name: event.name,
                venue: event.venue,
                time_zone: event.time_zone,
                starts_at: performance.starts_at(),
                capacity: performance.schedule.capacity,
                issued: performance.tickets_issued,
                arrived,
            })
        })
        .collect()
}
