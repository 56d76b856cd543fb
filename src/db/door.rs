//! The door's storage beyond the single scan: the journal of ticket changes a scanner refuses by
//! (written by the triggers of migration 000006, never by this code), scans uploaded after
//! working offline, and the lobby email queued with admissions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use super::models::TicketRow;
use super::schema::{arrival_events, door_changes, events, performances, tickets};
use super::{with_conn, Conn};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::rotating::Barcode;
use crate::domain::scan::DoorEntry;
use crate::domain::ticket::Ticket;
use crate::domain::{ScanOutcome, TicketStatus};

fn entries(rows: Vec<(TicketId, i32, TicketStatus)>) -> Vec<DoorEntry> {
    rows.into_iter()
        .map(|(ticket_id, generation, status)| DoorEntry {
            ticket_id,
            generation,
            status,
        })
        .collect()
}

/// The performance's count of door changes; `None` when there is no such performance.
pub fn door_version(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
) -> QueryResult<Option<i64>> {
    with_conn!(conn, c => performances::table
        .find(performance_id)
        .select(performances::door_version)
        .get_result(c)
        .optional())
}

/// Every ticket of the performance that is not valid at its first generation: for each, some
/// token that was issued must be refused (or, for a ticket born at a later generation, no
/// earlier one exists, and listing it is harmless).
pub fn refused_tickets(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
) -> QueryResult<Vec<DoorEntry>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq(performance_id))
        .filter(tickets::status.ne(TicketStatus::Valid).or(tickets::generation.ne(1)))
        .order(tickets::id)
        .select((tickets::id, tickets::generation, tickets::status))
        .load(c))
    .map(entries)
}

/// Who holds a ticket that still admits, and where they sit: what an offline scanner shows
/// beside its answer.
#[derive(Debug, Clone, Queryable)]
pub struct BundleHolder {
    pub ticket_id: TicketId,
    pub holder_name: String,
    pub seat: Option<String>,
    pub section: Option<String>,
}

/// Every ticket of the performance that still admits, with its holder and seat, in id order.
pub fn holders(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
) -> QueryResult<Vec<BundleHolder>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq(performance_id))
        .filter(tickets::status.eq(TicketStatus::Valid))
        .order(tickets::id)
        .select((tickets::id, tickets::holder_name, tickets::seat, tickets::section))
        .load(c))
}

/// The journal's entries with `after < version <= up_to`, oldest first.
pub fn changes_between(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
    after: i64,
    up_to: i64,
) -> QueryResult<Vec<DoorEntry>> {
    with_conn!(conn, c => door_changes::table
        .filter(door_changes::performance_id.eq(performance_id))
        .filter(door_changes::version.gt(after))
        .filter(door_changes::version.le(up_to))
        .order(door_changes::version)
        .select((door_changes::ticket_id, door_changes::generation, door_changes::status))
        .load(c))
    .map(entries)
}

/// The tickets named, in id order; on PostgreSQL locked for the rest of the transaction, in
/// the order every scan batch locks in, so an upload and the scan writer never deadlock.
/// (SQLite's single writer already holds everything still.)
pub fn lock_tickets(conn: &mut Conn<'_>, ids: &[TicketId]) -> QueryResult<Vec<Ticket>> {
    let query = tickets::table
        .filter(tickets::id.eq_any(ids))
        .order(tickets::id);
    super::tickets::records(match conn {
        Conn::Sqlite(c) => query.select(TicketRow::as_select()).load(&mut **c)?,
        Conn::Postgres(c) => query
            .select(TicketRow::as_select())
            .for_update()
            .load(&mut **c)?,
    })
}

/// Which devices have admitted each of these tickets (an admission or a conflict on record).
pub fn admitting_devices(
    conn: &mut Conn<'_>,
    ticket_ids: &[TicketId],
) -> QueryResult<Vec<(TicketId, String)>> {
    with_conn!(conn, c => arrival_events::table
        .filter(arrival_events::ticket_id.eq_any(ticket_ids))
        .filter(arrival_events::outcome.eq_any([ScanOutcome::Admitted, ScanOutcome::Conflict]))
        .select((arrival_events::ticket_id.assume_not_null(), arrival_events::device))
        .distinct()
        .load(c))
}

/// Records a ticket's (earliest known) admission. The caller holds the ticket's lock.
pub fn set_admission(
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    at: DateTime<Utc>,
    gate: &str,
    device: &str,
) -> QueryResult<()> {
    let at = at.naive_utc();
    with_conn!(conn, c => diesel::update(tickets::table.find(ticket_id))
        .set((
            tickets::admitted_at.eq(at),
            tickets::admitted_gate.eq(gate),
            tickets::admitted_device.eq(device),
        ))
        .execute(c))
    .map(drop)
}

/// An uploaded scan as it was recorded: its key, its ticket, what it was answered.
#[derive(Debug, Clone, Queryable)]
pub struct UploadedScan {
    pub upload_key: String,
    pub ticket_id: Option<TicketId>,
    pub outcome: ScanOutcome,
}

/// The scans among `keys` that were uploaded before.
pub fn uploaded(conn: &mut Conn<'_>, keys: &[String]) -> QueryResult<Vec<UploadedScan>> {
    with_conn!(conn, c => arrival_events::table
        .filter(arrival_events::upload_key.eq_any(keys))
        .select((
            arrival_events::upload_key.assume_not_null(),
            arrival_events::ticket_id,
            arrival_events::outcome,
        ))
        .load(c))
}

/// Whether the performance's event has a lobby message. A statement diesel prepares once per
/// connection: the admitting transaction asks it before the (costlier) queueing statement,
/// which most events, having no message, never need.
pub fn has_lobby_message(conn: &mut Conn<'_>, performance_id: PerformanceId) -> QueryResult<bool> {
    with_conn!(conn, c => performances::table
        .inner_join(events::table)
        .filter(performances::id.eq(performance_id))
        .select(events::lobby_message.is_not_null())
        .get_result(c)
        .optional())
    .map(|found| found.unwrap_or(false))
}

const QUEUE_LOBBY_SQLITE: &str = "
    INSERT INTO outbox (kind, dedupe_key, ticket_id, detail, recipient, message_id, status, attempts,
                        next_attempt_at, created_at)
    SELECT ?1, ?1 || ':' || t.id, t.id, NULL, t.holder_email,
           '<' || lower(hex(randomblob(16))) || '@' || ?2 || '>', 'pending', 0, ?3, ?3
    FROM tickets t
    JOIN performances p ON p.id = t.performance_id
    JOIN events e ON e.id = p.event_id
    WHERE e.lobby_message IS NOT NULL AND t.id IN (SELECT value FROM json_each(?4))
    ON CONFLICT (dedupe_key) DO NOTHING";

const QUEUE_LOBBY_POSTGRES: &str = "
    INSERT INTO outbox (kind, dedupe_key, ticket_id, detail, recipient, message_id, status, attempts,
                        next_attempt_at, created_at)
    SELECT $1, $1 || ':' || t.id, t.id, NULL, t.holder_email,
           '<' || md5(random()::text || t.id::text || clock_timestamp()::text) || '@' || $2 || '>',
           'pending', 0, $3, $3
    FROM tickets t
    JOIN performances p ON p.id = t.performance_id
    JOIN events e ON e.id = p.event_id
    WHERE e.lobby_message IS NOT NULL AND t.id IN (SELECT json_array_elements_text($4::json)::bigint)
    ON CONFLICT (dedupe_key) DO NOTHING";

/// Queues the `kind` email (the lobby message) for each of these just-admitted tickets whose
/// event has one: one statement for a whole batch, at most one email per ticket ever (the
/// dedupe key is `kind:ticket`). Returns how many were queued.
pub fn queue_lobby_emails(
    conn: &mut Conn<'_>,
    kind: &str,
    ticket_ids: &[TicketId],
    message_id_domain: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let now = now.naive_utc();
    if ticket_ids.is_empty() {
        return Ok(0);
    }
    // The ids travel as one JSON array parameter, whatever their number.
    let ids = serde_json::to_string(ticket_ids).expect("integers serialise");
    let sql = match conn {
        Conn::Sqlite(_) => QUEUE_LOBBY_SQLITE,
        Conn::Postgres(_) => QUEUE_LOBBY_POSTGRES,
    };
    with_conn!(conn, c => diesel::sql_query(sql)
        .bind::<Text, _>(kind)
        .bind::<Text, _>(message_id_domain)
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(&ids)
        .execute(c))
}

/// What the door checks of a performance beyond a code itself: its event's barcode (a static
/// code of a rotating event is refused; a rotating code waits for its reveal and the scan
/// window), its times, and whether its event greets admissions with a lobby message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoorRules {
    pub performance_id: PerformanceId,
    pub barcode: Barcode,
    pub doors_open_at: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub has_lobby_message: bool,
}

/// A performance's door rules as stored: read by [`door_rules`] (by position) and with each
/// locked ticket by [`lock_for_scans`] (by name).
#[derive(Queryable, QueryableByName)]
struct StoredDoorRules {
    #[diesel(sql_type = Timestamp)]
    doors_open_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Timestamp)]
    starts_at: chrono::NaiveDateTime,
    #[diesel(sql_type = Text)]
    barcode: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    rotation_seconds: i32,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    reveal_hours_before_doors: Option<i32>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    has_lobby_message: bool,
}

impl StoredDoorRules {
    fn rules(self, performance_id: PerformanceId) -> DoorRules {
        DoorRules {
            performance_id,
            barcode: super::models::stored_barcode(
                &self.barcode,
                self.rotation_seconds,
                self.reveal_hours_before_doors,
            ),
            doors_open_at: self.doors_open_at.and_utc(),
            starts_at: self.starts_at.and_utc(),
            has_lobby_message: self.has_lobby_message,
        }
    }
}

/// The door rules of each of these performances (one that does not exist is left out), in one
/// query per performance: a statement prepared once per connection, and a batch of scans
/// rarely spans more than one performance.
pub fn door_rules(
    conn: &mut Conn<'_>,
    performance_ids: &[PerformanceId],
) -> QueryResult<Vec<DoorRules>> {
    let mut rules = Vec::with_capacity(performance_ids.len());
    for &performance_id in performance_ids {
        let stored: Option<StoredDoorRules> = with_conn!(conn, c => performances::table
            .inner_join(events::table)
            .filter(performances::id.eq(performance_id))
            .select((
                performances::doors_open_at,
                performances::starts_at,
                events::barcode,
                events::rotation_seconds,
                events::reveal_hours_before_doors,
                events::lobby_message.is_not_null(),
            ))
            .get_result(c)
            .optional())?;
        rules.extend(stored.map(|stored| stored.rules(performance_id)));
    }
    Ok(rules)
}

/// A ticket locked by [`lock_for_scans`], with its performance's door rules.
#[derive(QueryableByName)]
struct LockedAtDoor {
    #[diesel(embed)]
    ticket: TicketRow,
    #[diesel(embed)]
    rules: StoredDoorRules,
}

/// PostgreSQL: the tickets `ids` (ascending), locked for the rest of the transaction in id
/// order, the order every batch of scans locks in, so batches and uploads wait for each other
/// but never deadlock; each with the door rules of its performance. What a batch of scans reads
/// before it admits, in one round trip. Only the tickets' rows are locked (`FOR UPDATE OF t`):
/// every batch reads the same performance and event.
pub fn lock_for_scans(
    conn: &mut diesel::PgConnection,
    ids: &[TicketId],
) -> QueryResult<Vec<(Ticket, DoorRules)>> {
    LockForScans { ids }
        .load::<LockedAtDoor>(conn)?
        .into_iter()
        .map(|row| {
            let rules = row.rules.rules(row.ticket.performance_id);
            Ok((row.ticket.record()?, rules))
        })
        .collect()
}

/// [`lock_for_scans`]'s statement as a type of its own, so that diesel prepares it once per
/// connection (a `sql_query` is parsed and planned again on every run).
struct LockForScans<'a> {
    ids: &'a [TicketId],
}

impl diesel::query_builder::QueryId for LockForScans<'_> {
    type QueryId = LockForScans<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for LockForScans<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Connection> RunQueryDsl<Connection> for LockForScans<'_> {}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for LockForScans<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        out.push_sql(
            "SELECT t.id, t.performance_id, t.holder_name, t.holder_email, t.price_minor, \
             t.currency, t.seat, t.section, t.status, t.generation, t.external_ref, t.issued_at, \
             t.admitted_at, t.admitted_gate, t.admitted_device, t.replaces_ticket_id, t.locale, \
             p.doors_open_at, p.starts_at, e.barcode, e.rotation_seconds, \
             e.reveal_hours_before_doors, e.lobby_message IS NOT NULL AS has_lobby_message \
             FROM tickets t JOIN performances p ON p.id = t.performance_id \
             JOIN events e ON e.id = p.event_id WHERE t.id = ANY(",
        );
        out.push_bind_param::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(self.ids)?;
        out.push_sql(") ORDER BY t.id FOR UPDATE OF t");
        Ok(())
    }
}

/// The per-ticket facts a scanner needs to check rotating codes offline: every ticket of the
/// performance that admits now, with its current generation.
pub fn admitting_tickets(
    conn: &mut Conn<'_>,
    performance_id: PerformanceId,
) -> QueryResult<Vec<(TicketId, i32)>> {
    with_conn!(conn, c => tickets::table
        .filter(tickets::performance_id.eq(performance_id))
        .filter(tickets::status.eq(TicketStatus::Valid))
        .order(tickets::id)
        .select((tickets::id, tickets::generation))
        .load(c))
}
