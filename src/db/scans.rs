use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamp};

use super::models::NewArrivalEventRow;
use super::schema::arrival_events;
use super::{webhooks, with_conn, Conn};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::scan::NewArrival;
use crate::domain::ScanOutcome;

diesel::define_sql_function! {
    /// SQLite: the rowid of the connection's latest successful `INSERT`.
    fn last_insert_rowid() -> BigInt;
}

/// Records scan attempts, and queues their `scanned` webhook touches in the same transaction.
pub fn insert_arrival_events(conn: &mut Conn<'_>, arrivals: &[NewArrival<'_>]) -> QueryResult<()> {
    match conn {
        // One row per statement: in-process, each costs only its own work once prepared, and
        // diesel prepares a one-row insert once per connection. A many-row insert is a new
        // statement for every batch size, prepared again each time. Each row is built on the
        // stack from its record. Then one statement queues the batch's webhook touches: those
        // of the rows from the batch's first on, which this transaction has just written
        // (it holds SQLite's write lock). The first id is asked for once: SQLite's `RETURNING`
        // runs a trigger program of its own for every row.
        Conn::Sqlite(c) => {
            let Some((head, rest)) = arrivals.split_first() else {
                return Ok(());
            };
            let insert = |c: &mut SqliteConnection, arrival| {
                diesel::insert_into(arrival_events::table)
                    .values(&NewArrivalEventRow::from_record(arrival))
                    .execute(c)
            };
            insert(c, head)?;
            let first: i64 = diesel::select(last_insert_rowid()).get_result(&mut **c)?;
            for arrival in rest {
                insert(c, arrival)?;
            }
            webhooks::queue_scanned(c, first)?;
        }
        // One round trip for the whole batch, one statement prepared once per connection; the
        // `webhook_scanned` statement trigger queues its touches.
        Conn::Postgres(c) => {
            if !arrivals.is_empty() {
                InsertArrivals::of(arrivals).execute(&mut **c)?;
            }
        }
    }
    Ok(())
}

/// PostgreSQL: a batch of arrival events as one `INSERT … SELECT FROM unnest(…)`, one array per
/// column: the same text for any number of rows, so diesel prepares it once per connection (a
/// many-row `VALUES` is a new statement, parsed and planned, for every batch size).
struct InsertArrivals<'a> {
    ticket_id: Vec<Option<TicketId>>,
    performance_id: Vec<Option<PerformanceId>>,
    token_generation: Vec<Option<i32>>,
    gate: Vec<&'a str>,
    device: Vec<&'a str>,
    outcome: Vec<&'static str>,
    scanned_at: Vec<NaiveDateTime>,
    upload_key: Vec<Option<&'a str>>,
    uploaded_at: Vec<Option<NaiveDateTime>>,
    device_refusal: Vec<Option<&'a str>>,
    code_kind: Vec<Option<&'static str>>,
}

impl<'a> InsertArrivals<'a> {
    fn of(arrivals: &[NewArrival<'a>]) -> Self {
        let n = arrivals.len();
        let mut columns = InsertArrivals {
            ticket_id: Vec::with_capacity(n),
            performance_id: Vec::with_capacity(n),
            token_generation: Vec::with_capacity(n),
            gate: Vec::with_capacity(n),
            device: Vec::with_capacity(n),
            outcome: Vec::with_capacity(n),
            scanned_at: Vec::with_capacity(n),
            upload_key: Vec::with_capacity(n),
            uploaded_at: Vec::with_capacity(n),
            device_refusal: Vec::with_capacity(n),
            code_kind: Vec::with_capacity(n),
        };
        for arrival in arrivals {
            let row = NewArrivalEventRow::from_record(arrival);
            columns.ticket_id.push(row.ticket_id);
            columns.performance_id.push(row.performance_id);
            columns.token_generation.push(row.token_generation);
            columns.gate.push(row.gate);
            columns.device.push(row.device);
            columns.outcome.push(row.outcome);
            columns.scanned_at.push(row.scanned_at);
            columns.upload_key.push(row.upload_key);
            columns.uploaded_at.push(row.uploaded_at);
            columns.device_refusal.push(row.device_refusal);
            columns.code_kind.push(row.code_kind);
        }
        columns
    }
}

impl diesel::query_builder::QueryId for InsertArrivals<'_> {
    type QueryId = InsertArrivals<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Connection> RunQueryDsl<Connection> for InsertArrivals<'_> {}

impl diesel::query_builder::QueryFragment<Pg> for InsertArrivals<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO arrival_events (ticket_id, performance_id, token_generation, gate, \
             device, outcome, scanned_at, upload_key, uploaded_at, device_refusal, code_kind) \
             SELECT ticket_id, performance_id, token_generation, gate, device, outcome, \
             scanned_at, upload_key, uploaded_at, device_refusal, code_kind FROM unnest(",
        );
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.ticket_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.performance_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Integer>>, _>(&self.token_generation)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.gate)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.device)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.outcome)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.scanned_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.upload_key)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Timestamp>>, _>(&self.uploaded_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.device_refusal)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.code_kind)?;
        // In the batch's order: ids follow it, and so do the webhook touches per ticket.
        out.push_sql(
            ") WITH ORDINALITY AS r(ticket_id, performance_id, token_generation, gate, device, \
             outcome, scanned_at, upload_key, uploaded_at, device_refusal, code_kind, n) \
             ORDER BY n",
        );
        Ok(())
    }
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
