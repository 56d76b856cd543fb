//! What recommendations are made from: patrons' ticket histories, and the performances ahead
//! with free seats. Each is one query for a whole batch of emails.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{events, performances, tickets};
use super::{with_conn, Conn};
use crate::domain::ids::{EventId, PerformanceId, TicketId};
use crate::domain::message_rule::performance_end;
use crate::domain::recommend::{PastTicket, Upcoming};
use crate::domain::TicketStatus;

/// Every ticket these addresses held, by address, as the recommendation rule reads them.
pub fn histories(
    conn: &mut Conn<'_>,
    emails: &[&str],
    now: DateTime<Utc>,
) -> QueryResult<HashMap<String, Vec<PastTicket>>> {
    type Row = (
        String,
        PerformanceId,
        EventId,
        String,
        String,
        Option<NaiveDateTime>,
        Option<TicketId>,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = with_conn!(conn, c => tickets::table
        .inner_join(performances::table.inner_join(events::table))
        .filter(tickets::holder_email.eq_any(emails))
        .select((
            tickets::holder_email,
            tickets::performance_id,
            performances::event_id,
            events::venue,
            tickets::status,
            tickets::admitted_at,
            tickets::replaces_ticket_id,
            performances::starts_at,
            performances::ends_at,
        ))
        .load(c))?;
    // A ticket that replaced one exchanged (not one transferred) was chosen in an exchange.
    let replaced: Vec<TicketId> = rows.iter().filter_map(|r| r.6).collect();
    let exchanged: HashSet<TicketId> = if replaced.is_empty() {
        HashSet::new()
    } else {
        with_conn!(conn, c => tickets::table
            .filter(tickets::id.eq_any(&replaced))
            .filter(tickets::status.eq(TicketStatus::Exchanged))
            .select(tickets::id)
            .load::<TicketId>(c))?
        .into_iter()
        .collect()
    };
    let valid = TicketStatus::Valid.as_str();
    let mut by_email: HashMap<String, Vec<PastTicket>> = HashMap::new();
    for (email, performance_id, event_id, venue, status, admitted_at, replaces, starts, ends) in
        rows
    {
        let unused = status == valid && admitted_at.is_none();
        let over = performance_end(starts.and_utc(), ends.map(|e| e.and_utc())) < now;
        by_email.entry(email).or_default().push(PastTicket {
            performance_id,
            event_id,
            venue,
            attended: admitted_at.is_some(),
            missed: unused && over,
            exchanged_into: replaces.is_some_and(|r| exchanged.contains(&r)),
            held: unused && !over,
        });
    }
    Ok(by_email)
}

/// A performance ahead, with what a suggestion shows of it.
#[derive(Debug, Clone)]
pub struct UpcomingShow {
    pub upcoming: Upcoming,
    pub event_name: String,
    pub time_zone: String,
}

/// Performances starting within `(now, until]`, not canceled, with free seats.
pub fn upcoming(
    conn: &mut Conn<'_>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> QueryResult<Vec<UpcomingShow>> {
    let rows: Vec<(
        PerformanceId,
        EventId,
        String,
        String,
        String,
        NaiveDateTime,
        i64,
    )> = with_conn!(conn, c => performances::table
        .inner_join(events::table)
        .filter(performances::starts_at.gt(now.naive_utc()))
        .filter(performances::starts_at.le(until.naive_utc()))
        .filter(performances::canceled_at.is_null())
        .filter(performances::tickets_issued.lt(performances::capacity))
        .order(performances::starts_at)
        .select((
            performances::id,
            performances::event_id,
            events::venue,
            events::name,
            events::time_zone,
            performances::starts_at,
            performances::capacity - performances::tickets_issued,
        ))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(
            |(performance_id, event_id, venue, event_name, time_zone, starts_at, available)| {
                UpcomingShow {
                    upcoming: Upcoming {
                        performance_id,
                        event_id,
                        venue,
                        starts_at: starts_at.and_utc(),
                        available,
                    },
                    event_name,
                    time_zone,
                }
            },
        )
        .collect())
}
