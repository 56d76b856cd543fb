//! Who made each change (`change_authors`): written in the change's own transaction, read by
//! the patron journey.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::change_authors;
use super::{with_conn, Conn};
use crate::domain::actor::{AuthoredChange, Authorship};
use crate::domain::ids::TicketId;

/// Records that `by` made `change` to each of `ticket_ids` at `at`.
pub fn record(
    conn: &mut Conn<'_>,
    ticket_ids: &[TicketId],
    change: AuthoredChange,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<()> {
    let at = at.naive_utc();
    let rows: Vec<_> = ticket_ids
        .iter()
        .map(|&id| {
            (
                change_authors::ticket_id.eq(id),
                change_authors::what.eq(change.as_str()),
                change_authors::made_at.eq(at),
                change_authors::made_by.eq(by),
            )
        })
        .collect();
    with_conn!(conn, c => diesel::insert_into(change_authors::table).values(&rows).execute(c))?;
    Ok(())
}

/// The authors of the changes to these tickets, oldest first. A stored change this code does
/// not know (written by a newer version) is left out.
pub fn of_tickets(conn: &mut Conn<'_>, ticket_ids: &[TicketId]) -> QueryResult<Vec<Authorship>> {
    let rows: Vec<(TicketId, String, NaiveDateTime, String)> = with_conn!(conn, c => change_authors::table
        .filter(change_authors::ticket_id.eq_any(ticket_ids))
        .order((change_authors::made_at, change_authors::id))
        .select((
            change_authors::ticket_id,
            change_authors::what,
            change_authors::made_at,
            change_authors::made_by,
        ))
        .load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(|(ticket_id, what, at, by)| {
            Some(Authorship {
                ticket_id,
                change: AuthoredChange::parse(&what)?,
                at: at.and_utc(),
                by,
            })
        })
        .collect())
}
