use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use super::models::{NewTicketRow, TicketRow};
use super::schema::tickets;
use super::{with_conn, Conn};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::ticket::{Ticket, TicketToStore};
use crate::domain::TicketStatus;

/// The records of loaded rows; the first that does not parse fails them all.
pub(super) fn records(rows: Vec<TicketRow>) -> QueryResult<Vec<Ticket>> {
    rows.into_iter().map(TicketRow::record).collect()
}

/// Stores new tickets, and queues their `issued` webhook touches in the same transaction (on
/// PostgreSQL the `webhook_issued` statement trigger does).
pub fn insert_many(conn: &mut Conn<'_>, tickets: &[TicketToStore]) -> QueryResult<Vec<Ticket>> {
    let rows: Vec<NewTicketRow> = tickets.iter().map(NewTicketRow::from_record).collect();
    let stored: Vec<TicketRow> = with_conn!(conn, c => diesel::insert_into(tickets::table)
        .values(&rows)
        .returning(TicketRow::as_returning())
        .get_results(c))?;
    if let Conn::Sqlite(c) = conn {
        if let Some(first) = stored.iter().map(|row| row.id.0).min() {
            super::webhooks::queue_issued(c, first)?;
        }
    }
    records(stored)
}

pub fn find(conn: &mut Conn<'_>, id: TicketId) -> QueryResult<Option<Ticket>> {
    with_conn!(conn, c => tickets::table.find(id).select(TicketRow::as_select()).get_result(c).optional())?
        .map(TicketRow::record)
        .transpose()
}

pub fn find_many(conn: &mut Conn<'_>, ids: &[TicketId]) -> QueryResult<Vec<Ticket>> {
    records(with_conn!(conn, c => tickets::table
        .filter(tickets::id.eq_any(ids))
        .order(tickets::id)
        .select(TicketRow::as_select())
        .load(c))?)
}

/// The ticket that replaced `id` (its exchange's new ticket, or a claimed transfer's), if any.
pub fn successor_of(conn: &mut Conn<'_>, id: TicketId) -> QueryResult<Option<Ticket>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::replaces_ticket_id.eq(id))
        .select(TicketRow::as_select())
        .first(c)
        .optional())?
    .map(TicketRow::record)
    .transpose()
}

/// Which of `refs` already name a ticket of this performance.
pub fn existing_external_refs(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
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
    ticket_id: TicketId,
    performance_id: PerformanceId,
    generation: i32,
    at: DateTime<Utc>,
    gate: &str,
    device: &str,
) -> QueryResult<Option<AdmittedHolder>> {
    let at = at.naive_utc();
    let admission = AdmitIfUnused {
        ticket_id,
        performance_id,
        generation,
        at,
        gate,
        device,
    };
    with_conn!(conn, c => admission.get_result(c).optional())
}

/// The admission's `UPDATE … RETURNING` as a statement type of its own, so that diesel prepares
/// it once per connection. Diesel prepares whatever `diesel::update` builds anew on every run
/// (a changeset may differ from one run to the next), and on SQLite, where the door admits
/// ticket by ticket, preparing it cost as many instructions as the rest of the write.
#[derive(Debug, Clone, Copy)]
struct AdmitIfUnused<'a> {
    ticket_id: TicketId,
    performance_id: PerformanceId,
    generation: i32,
    at: NaiveDateTime,
    gate: &'a str,
    device: &'a str,
}

impl diesel::query_builder::QueryId for AdmitIfUnused<'_> {
    type QueryId = AdmitIfUnused<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for AdmitIfUnused<'_> {
    type SqlType = (Text, Nullable<Text>, Nullable<Text>);
}

impl<Connection> RunQueryDsl<Connection> for AdmitIfUnused<'_> {}

impl<DB> diesel::query_builder::QueryFragment<DB> for AdmitIfUnused<'_>
where
    DB: diesel::backend::Backend,
    i64: ToSql<BigInt, DB>,
    i32: ToSql<Integer, DB>,
    NaiveDateTime: ToSql<Timestamp, DB>,
    str: ToSql<Text, DB>,
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> QueryResult<()> {
        // The same condition as every other write that ends a ticket, the other way round:
        // still valid, unused, of this performance and of the token's generation.
        out.push_sql("UPDATE tickets SET admitted_at = ");
        out.push_bind_param::<Timestamp, _>(&self.at)?;
        out.push_sql(", admitted_gate = ");
        out.push_bind_param::<Text, _>(self.gate)?;
        out.push_sql(", admitted_device = ");
        out.push_bind_param::<Text, _>(self.device)?;
        out.push_sql(" WHERE id = ");
        out.push_bind_param::<BigInt, _>(&self.ticket_id)?;
        out.push_sql(" AND performance_id = ");
        out.push_bind_param::<BigInt, _>(&self.performance_id)?;
        out.push_sql(" AND generation = ");
        out.push_bind_param::<Integer, _>(&self.generation)?;
        out.push_sql(
            " AND status = 'valid' AND admitted_at IS NULL \
             RETURNING holder_name, seat, section",
        );
        Ok(())
    }
}

/// How many tickets of each of `performance_ids` have been admitted, in one query; a
/// performance with none is absent from the answer.
pub fn admitted_counts(
    conn: &mut Conn<'_>,
    performance_ids: &[PerformanceId],
) -> QueryResult<std::collections::HashMap<PerformanceId, i64>> {
    use diesel::dsl::count_star;
    let counts: Vec<(PerformanceId, i64)> = with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq_any(performance_ids))
        .filter(tickets::admitted_at.is_not_null())
        .group_by(tickets::performance_id)
        .select((tickets::performance_id, count_star()))
        .load(c))?;
    Ok(counts.into_iter().collect())
}

/// How many of the performance's tickets still admit and have not been admitted: who is still
/// to arrive.
pub fn still_to_arrive(conn: &mut Conn<'_>, performance_id: PerformanceId) -> QueryResult<i64> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq(performance_id))
        .filter(tickets::status.eq(TicketStatus::Valid))
        .filter(tickets::admitted_at.is_null())
        .count()
        .get_result(c))
}

/// When and at which gate each admitted ticket of a performance came in.
pub fn admissions(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
) -> QueryResult<Vec<(DateTime<Utc>, String)>> {
    let admitted: Vec<(NaiveDateTime, String)> = with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq(performance_id))
        .filter(tickets::admitted_at.is_not_null())
        .order(tickets::admitted_at)
        .select((tickets::admitted_at.assume_not_null(), tickets::admitted_gate.assume_not_null()))
        .load(c))?;
    Ok(admitted
        .into_iter()
        .map(|(at, gate)| (at.and_utc(), gate))
        .collect())
}

/// One admission of a batch.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    pub ticket_id: TicketId,
    pub performance_id: PerformanceId,
    pub generation: i32,
    pub at: DateTime<Utc>,
    pub gate: &'a str,
    pub device: &'a str,
}

/// A ticket that [`admit_locked`] admitted, with what the door shows.
#[derive(Debug, Clone, QueryableByName)]
pub struct Admitted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub id: TicketId,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub holder_name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub seat: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub section: Option<String>,
}

/// PostgreSQL: admits many distinct tickets, already locked by the caller
/// ([`super::door::lock_for_scans`]), in one set-based conditional `UPDATE`: exactly those
/// still valid, of the token's generation and performance, and not yet admitted — the same
/// condition as [`admit`]. Returns the admitted ones.
pub fn admit_locked(
    conn: &mut diesel::PgConnection,
    admissions: &[Admission<'_>],
) -> QueryResult<Vec<Admitted>> {
    AdmitAll {
        ids: admissions.iter().map(|a| a.ticket_id).collect(),
        performances: admissions.iter().map(|a| a.performance_id).collect(),
        generations: admissions.iter().map(|a| a.generation).collect(),
        at: admissions.iter().map(|a| a.at.naive_utc()).collect(),
        gates: admissions.iter().map(|a| a.gate).collect(),
        devices: admissions.iter().map(|a| a.device).collect(),
    }
    .load(conn)
}

/// [`admit_locked`]'s statement, its rows bound as one array per column: the same text for any
/// number of tickets, so diesel prepares it once per connection (rows spelled out as `VALUES`
/// made a new statement, parsed and planned, for every batch).
struct AdmitAll<'a> {
    ids: Vec<TicketId>,
    performances: Vec<PerformanceId>,
    generations: Vec<i32>,
    at: Vec<NaiveDateTime>,
    gates: Vec<&'a str>,
    devices: Vec<&'a str>,
}

impl diesel::query_builder::QueryId for AdmitAll<'_> {
    type QueryId = AdmitAll<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for AdmitAll<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Connection> RunQueryDsl<Connection> for AdmitAll<'_> {}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for AdmitAll<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        use diesel::sql_types::Array;
        out.push_sql(
            "UPDATE tickets AS t \
             SET admitted_at = v.at, admitted_gate = v.gate, admitted_device = v.device \
             FROM unnest(",
        );
        out.push_bind_param::<Array<BigInt>, _>(&self.ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.performances)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Integer>, _>(&self.generations)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.gates)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.devices)?;
        out.push_sql(
            ") AS v(id, performance_id, generation, at, gate, device) \
             WHERE t.id = v.id AND t.performance_id = v.performance_id \
             AND t.generation = v.generation AND t.status = 'valid' AND t.admitted_at IS NULL \
             RETURNING t.id, t.holder_name, t.seat, t.section",
        );
        Ok(())
    }
}

/// Ends a ticket (`exchanged`, `transferred`): one conditional write that succeeds only while
/// the ticket is valid, unused and still at `generation`. A scan admitting the same ticket at
/// the same moment writes the same row under the opposite condition, so exactly one of the two
/// happens.
pub fn end_unused(
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    generation: i32,
    new_status: TicketStatus,
) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::update(tickets::table)
        .filter(tickets::id.eq(ticket_id))
        .filter(tickets::generation.eq(generation))
        .filter(tickets::status.eq(TicketStatus::Valid))
        .filter(tickets::admitted_at.is_null())
        .set(tickets::status.eq(new_status))
        .execute(c))
    .map(|n| n == 1)
}

/// Gives a ticket on offer back to its holder with a new generation, so any copy of the QR
/// from before the offer stays dead.
pub fn reinstate(conn: &mut Conn<'_>, ticket_id: TicketId, generation: i32) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::update(tickets::table)
        .filter(tickets::id.eq(ticket_id))
        .filter(tickets::generation.eq(generation))
        .filter(tickets::status.eq(TicketStatus::Transferred))
        .set((
            tickets::status.eq(TicketStatus::Valid),
            tickets::generation.eq(generation + 1),
        ))
        .execute(c))
    .map(|n| n == 1)
}

/// Holds the ticket for the caller's transaction if it is still at `generation`: a write that
/// changes nothing, so on PostgreSQL the row stays locked (a concurrent change of the ticket
/// waits) and on SQLite the transaction already writes alone. False when the ticket has moved on
/// to another generation (or does not exist).
pub fn hold_at_generation(
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    generation: i32,
) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::update(tickets::table)
        .filter(tickets::id.eq(ticket_id))
        .filter(tickets::generation.eq(generation))
        .set(tickets::generation.eq(tickets::generation))
        .execute(c))
    .map(|n| n == 1)
}

/// The valid tickets held by an email address.
pub fn held_by(conn: &mut Conn<'_>, email: &str) -> QueryResult<Vec<Ticket>> {
    records(with_conn!(conn, c => tickets::table
        .filter(tickets::holder_email.eq(email))
        .order(tickets::id)
        .select(TicketRow::as_select())
        .load(c))?)
}
