use diesel::prelude::*;

use super::models::NewArrivalEventRow;
use super::schema::arrival_events;
use super::{webhooks, with_conn, Conn};
use crate::domain::ids::PerformanceId;
use crate::domain::scan::NewArrival;
use crate::domain::ScanOutcome;

/// Records scan attempts, and queues their `scanned` webhook touches in the same transaction.
pub fn insert_arrival_events(conn: &mut Conn<'_>, arrivals: &[NewArrival<'_>]) -> QueryResult<()> {
    match conn {
        // One row per statement: in-process, each costs only its own work once prepared, and
        // diesel prepares a one-row insert once per connection. A many-row insert is a new
        // statement for every batch size, prepared again each time. Each row is built on the
        // stack from its record. Then one statement queues the batch's webhook touches.
        Conn::Sqlite(c) => {
            let mut ids = None;
            for arrival in arrivals {
                let id: i64 = diesel::insert_into(arrival_events::table)
                    .values(&NewArrivalEventRow::from_record(arrival))
                    .returning(arrival_events::id)
                    .get_result(&mut **c)?;
                ids = Some(ids.map_or((id, id), |(first, _)| (first, id)));
            }
            if let Some((first, last)) = ids {
                webhooks::queue_scanned(c, first, last)?;
            }
        }
        // One round trip for the whole batch; the `webhook_scanned` statement trigger queues
        // its touches.
        Conn::Postgres(c) => {
            let rows: Vec<NewArrivalEventRow<'_>> = arrivals
                .iter()
                .map(NewArrivalEventRow::from_record)
                .collect();
            diesel::insert_into(arrival_events::table)
                .values(&rows)
                .execute(&mut **c)?;
        }
    }
    Ok(())
}

/// How many scan attempts of each outcome a performance has seen.
pub fn outcome_counts(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
) -> QueryResult<Vec<(ScanOutcome, i64)>> {
    with_conn!(conn, c => arrival_events::table
        .filter(arrival_events::performance_id.eq(performance_id))
        .group_by(arrival_events::outcome)
        .select((arrival_events::outcome, diesel::dsl::count_star()))
        .order(arrival_events::outcome)
        .load(c))
}
