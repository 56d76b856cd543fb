use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::models::{NewTicketRow, TicketRow};
use super::schema::tickets;
use super::{with_conn, Conn};

pub fn insert_many(conn: &mut Conn<'_>, rows: &[NewTicketRow]) -> QueryResult<Vec<TicketRow>> {
    with_conn!(conn, c => diesel::insert_into(tickets::table)
        .values(rows)
        .returning(TicketRow::as_returning())
        .get_results(c))
}

pub fn find(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<TicketRow>> {
    with_conn!(conn, c => tickets::table.find(id).select(TicketRow::as_select()).first(c).optional())
}

pub fn find_many(conn: &mut Conn<'_>, ids: &[i64]) -> QueryResult<Vec<TicketRow>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::id.eq_any(ids))
        .order(tickets::id)
        .select(TicketRow::as_select())
        .load(c))
}

/// Which of `refs` already name a ticket of this performance.
pub fn existing_external_refs(
    conn: &mut Conn<'_>,
    performance_id: i64,
    refs: &[String],
) -> QueryResult<Vec<String>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq(performance_id))
        .filter(tickets::external_ref.eq_any(refs))
        .select(tickets::external_ref.assume_not_null())
        .load(c))
}

/// What the door shows when a ticket is admitted.
#[derive(Debug, Clone, Queryable)]
pub struct AdmittedHolder {
    pub holder_name: String,
    pub seat: Option<String>,
    pub section: Option<String>,
}

/// The admission: one conditional write that succeeds for exactly one scanner, however many
/// scan the same ticket at once, in this process or another. `None` means "not admitted now".
pub fn admit(
    conn: &mut Conn<'_>,
    ticket_id: i64,
    performance_id: i64,
    generation: i32,
    at: NaiveDateTime,
    gate: &str,
    device: &str,
) -> QueryResult<Option<AdmittedHolder>> {
    with_conn!(conn, c => diesel::update(tickets::table)
        .filter(tickets::id.eq(ticket_id))
        .filter(tickets::performance_id.eq(performance_id))
        .filter(tickets::generation.eq(generation))
        .filter(tickets::status.eq("valid"))
        .filter(tickets::admitted_at.is_null())
        .set((
            tickets::admitted_at.eq(at),
            tickets::admitted_gate.eq(gate),
            tickets::admitted_device.eq(device),
        ))
        .returning((tickets::holder_name, tickets::seat, tickets::section))
        .get_result(c)
        .optional())
}

/// When and at which gate each admitted ticket of a performance came in.
pub fn admissions(
    conn: &mut Conn<'_>,
    performance_id: i64,
) -> QueryResult<Vec<(NaiveDateTime, String)>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq(performance_id))
        .filter(tickets::admitted_at.is_not_null())
        .order(tickets::admitted_at)
        .select((tickets::admitted_at.assume_not_null(), tickets::admitted_gate.assume_not_null()))
        .load(c))
}
