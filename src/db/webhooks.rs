//! Webhook endpoints and their delivery outbox. Deliveries are queued in the transaction of the
//! change they report: by database triggers (see the `webhooks` migration), except on SQLite
//! for the two touches written in batches, `issued` and `scanned`, which [`queue_issued`] and
//! [`queue_scanned`] queue once per batch (SQLite has only row triggers). This module also
//! registers endpoints, claims due deliveries and records how each attempt went.

use std::marker::PhantomData;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::Sqlite;

use super::schema::{webhook_deliveries, webhook_endpoints};
use super::{with_conn, Conn};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub kinds: String,
    pub secret: String,
    pub created_at: NaiveDateTime,
    pub failing_since: Option<NaiveDateTime>,
    pub last_success_at: Option<NaiveDateTime>,
    pub disabled_at: Option<NaiveDateTime>,
    pub disabled_reason: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: i64,
    pub endpoint_id: i64,
    pub ticket_id: Option<i64>,
    pub kind: String,
    pub data: String,
    pub occurred_at: NaiveDateTime,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
}

/// A claimed delivery with what sending it needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret: String,
}

fn naive(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

pub fn insert_endpoint(
    conn: &mut Conn<'_>,
    url: &str,
    kinds: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> QueryResult<EndpointRow> {
    with_conn!(conn, c => diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::url.eq(url),
            webhook_endpoints::kinds.eq(kinds),
            webhook_endpoints::secret.eq(secret),
            webhook_endpoints::created_at.eq(naive(now)),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(c))
}

pub fn endpoints(conn: &mut Conn<'_>) -> QueryResult<Vec<EndpointRow>> {
    with_conn!(conn, c => webhook_endpoints::table
        .order(webhook_endpoints::id)
        .select(EndpointRow::as_select())
        .load(c))
}

pub fn endpoint(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<EndpointRow>> {
    with_conn!(conn, c => webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id))
        .select(EndpointRow::as_select())
        .get_result(c)
        .optional())
}

/// Changes an endpoint's URL and/or kinds; false when there is no such endpoint.
pub fn update_endpoint(
    conn: &mut Conn<'_>,
    id: i64,
    url: Option<&str>,
    kinds: Option<&str>,
) -> QueryResult<bool> {
    let target = webhook_endpoints::table.filter(webhook_endpoints::id.eq(id));
    let mut found = endpoint(conn, id)?.is_some();
    if let Some(url) = url {
        found = with_conn!(conn, c => diesel::update(target)
            .set(webhook_endpoints::url.eq(url))
            .execute(c))?
            == 1;
    }
    if let Some(kinds) = kinds {
        found = with_conn!(conn, c => diesel::update(target)
            .set(webhook_endpoints::kinds.eq(kinds))
            .execute(c))?
            == 1;
    }
    Ok(found)
}

/// Enables an endpoint again: its failure streak is forgotten and everything still pending
/// for it (all it missed while disabled) is due at once. False when there is no such endpoint.
pub fn enable(conn: &mut Conn<'_>, id: i64, now: DateTime<Utc>) -> QueryResult<bool> {
    let found = with_conn!(conn, c => diesel::update(
            webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set((
            webhook_endpoints::disabled_at.eq(None::<NaiveDateTime>),
            webhook_endpoints::disabled_reason.eq(None::<String>),
            webhook_endpoints::failing_since.eq(None::<NaiveDateTime>),
        ))
        .execute(c))?;
    with_conn!(conn, c => diesel::update(webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(id))
            .filter(webhook_deliveries::status.eq("pending")))
        .set(webhook_deliveries::next_attempt_at.eq(naive(now)))
        .execute(c))?;
    Ok(found == 1)
}

/// Disables an endpoint by hand (nothing is sent to it; its deliveries wait).
pub fn disable(
    conn: &mut Conn<'_>,
    id: i64,
    now: DateTime<Utc>,
    reason: &str,
) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::update(
            webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set((
            webhook_endpoints::disabled_at.eq(Some(naive(now))),
            webhook_endpoints::disabled_reason.eq(Some(reason)),
        ))
        .execute(c))
    .map(|n| n == 1)
}

/// Queues again every delivery to the endpoint of a touch since `since` that was already
/// delivered (with its own id, so the receiver can tell a replay). Returns how many.
pub fn replay(
    conn: &mut Conn<'_>,
    id: i64,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    with_conn!(conn, c => diesel::update(webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(id))
            .filter(webhook_deliveries::status.eq("delivered"))
            .filter(webhook_deliveries::occurred_at.ge(naive(since))))
        .set((
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::next_attempt_at.eq(naive(now)),
        ))
        .execute(c))
}

pub fn delete_endpoint(conn: &mut Conn<'_>, id: i64) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::delete(
            webhook_deliveries::table.filter(webhook_deliveries::endpoint_id.eq(id)))
        .execute(c))?;
    with_conn!(conn, c => diesel::delete(
            webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .execute(c))
    .map(|n| n == 1)
}

/// The endpoint's deliveries, newest first: `status` (`pending` or `delivered`) if given, ids
/// below `before` if given, at most `limit`.
pub fn deliveries(
    conn: &mut Conn<'_>,
    endpoint_id: i64,
    status: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    with_conn!(conn, c => {
        let mut query = webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(webhook_deliveries::status.eq(status.to_string()));
        }
        if let Some(before) = before {
            query = query.filter(webhook_deliveries::id.lt(before));
        }
        query
            .order(webhook_deliveries::id.desc())
            .limit(limit)
            .select(DeliveryRow::as_select())
            .load(c)
    })
}

/// How many deliveries to the endpoint wait.
pub fn pending_count(conn: &mut Conn<'_>, endpoint_id: i64) -> QueryResult<i64> {
    with_conn!(conn, c => webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .filter(webhook_deliveries::status.eq("pending"))
        .count()
        .get_result(c))
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Claims up to `limit` due deliveries for `token` until `lease_until`: each the earliest
/// undelivered touch of its ticket for its endpoint (a ticket's later touch waits for the
/// earlier one), of an enabled endpoint, not claimed by anyone else. Two workers racing for a
/// row: the conditional UPDATE gives it to one.
pub fn claim_due(
    conn: &mut Conn<'_>,
    token: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    use diesel::sql_types::{BigInt, Timestamp};
    const DUE: &str = "SELECT d.id FROM webhook_deliveries d \
        JOIN webhook_endpoints e ON e.id = d.endpoint_id \
        WHERE d.status = 'pending' AND e.disabled_at IS NULL \
          AND d.next_attempt_at <= {now} AND (d.locked_until IS NULL OR d.locked_until <= {now}) \
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                          WHERE p.endpoint_id = d.endpoint_id AND p.ticket_id = d.ticket_id \
                            AND p.status = 'pending' AND p.id < d.id) \
        ORDER BY d.id LIMIT {limit}";
    let at = naive(now);
    let due: Vec<IdRow> = match conn {
        Conn::Sqlite(c) => diesel::sql_query(DUE.replace("{now}", "?").replace("{limit}", "?"))
            .bind::<Timestamp, _>(at)
            .bind::<Timestamp, _>(at)
            .bind::<BigInt, _>(limit)
            .load(&mut **c)?,
        Conn::Postgres(c) => diesel::sql_query(DUE.replace("{now}", "$1").replace("{limit}", "$2"))
            .bind::<Timestamp, _>(at)
            .bind::<BigInt, _>(limit)
            .load(&mut **c)?,
    };
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = due.into_iter().map(|r| r.id).collect();
    with_conn!(conn, c => diesel::update(webhook_deliveries::table
            .filter(webhook_deliveries::id.eq_any(&ids))
            .filter(webhook_deliveries::status.eq("pending"))
            .filter(webhook_deliveries::locked_until.is_null()
                .or(webhook_deliveries::locked_until.le(at))))
        .set((
            webhook_deliveries::locked_until.eq(Some(naive(lease_until))),
            webhook_deliveries::claim_token.eq(Some(token)),
        ))
        .execute(c))?;
    let rows: Vec<(DeliveryRow, String, String)> = with_conn!(conn, c => webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_deliveries::claim_token.eq(token))
        .filter(webhook_deliveries::status.eq("pending"))
        .order(webhook_deliveries::id)
        .select((DeliveryRow::as_select(), webhook_endpoints::url, webhook_endpoints::secret))
        .load(c))?;
    Ok(rows
        .into_iter()
        .map(|(delivery, url, secret)| Claimed {
            delivery,
            url,
            secret,
        })
        .collect())
}

/// Marks the claim's deliveries `ids` delivered (the endpoint answered `status`).
pub fn delivered(
    conn: &mut Conn<'_>,
    token: &str,
    ids: &[i64],
    status: i32,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    with_conn!(conn, c => diesel::update(webhook_deliveries::table
            .filter(webhook_deliveries::id.eq_any(ids))
            .filter(webhook_deliveries::claim_token.eq(token)))
        .set((
            webhook_deliveries::status.eq("delivered"),
            webhook_deliveries::delivered_at.eq(Some(naive(now))),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::last_attempt_at.eq(Some(naive(now))),
            webhook_deliveries::last_status.eq(Some(status)),
            webhook_deliveries::last_error.eq(None::<String>),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::claim_token.eq(None::<String>),
        ))
        .execute(c))
}

/// Records a failed attempt of the claim's delivery `id`; it is tried again at `retry_at`.
pub fn failed(
    conn: &mut Conn<'_>,
    token: &str,
    id: i64,
    status: Option<i32>,
    error: &str,
    now: DateTime<Utc>,
    retry_at: DateTime<Utc>,
) -> QueryResult<usize> {
    with_conn!(conn, c => diesel::update(webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::claim_token.eq(token)))
        .set((
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::next_attempt_at.eq(naive(retry_at)),
            webhook_deliveries::last_attempt_at.eq(Some(naive(now))),
            webhook_deliveries::last_status.eq(status),
            webhook_deliveries::last_error.eq(Some(error)),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::claim_token.eq(None::<String>),
        ))
        .execute(c))
}

/// The endpoints that answered: their failure streak ends.
pub fn endpoints_succeeded(
    conn: &mut Conn<'_>,
    ids: &[i64],
    now: DateTime<Utc>,
) -> QueryResult<()> {
    with_conn!(conn, c => diesel::update(
            webhook_endpoints::table.filter(webhook_endpoints::id.eq_any(ids)))
        .set((
            webhook_endpoints::failing_since.eq(None::<NaiveDateTime>),
            webhook_endpoints::last_success_at.eq(Some(naive(now))),
        ))
        .execute(c))?;
    Ok(())
}

/// The endpoints that only failed: their failure streak starts (if it had not), and those
/// failing since `disable_before` or earlier are disabled. Returns the ids disabled now.
pub fn endpoints_failed(
    conn: &mut Conn<'_>,
    ids: &[i64],
    now: DateTime<Utc>,
    disable_before: DateTime<Utc>,
    reason: &str,
) -> QueryResult<Vec<i64>> {
    with_conn!(conn, c => diesel::update(webhook_endpoints::table
            .filter(webhook_endpoints::id.eq_any(ids))
            .filter(webhook_endpoints::failing_since.is_null()))
        .set(webhook_endpoints::failing_since.eq(Some(naive(now))))
        .execute(c))?;
    with_conn!(conn, c => diesel::update(webhook_endpoints::table
            .filter(webhook_endpoints::id.eq_any(ids))
            .filter(webhook_endpoints::disabled_at.is_null())
            .filter(webhook_endpoints::failing_since.le(naive(disable_before))))
        .set((
            webhook_endpoints::disabled_at.eq(Some(naive(now))),
            webhook_endpoints::disabled_reason.eq(Some(reason)),
        ))
        .returning(webhook_endpoints::id)
        .get_results(c))
}

/// SQLite: queues the `issued` touch of the tickets from id `first` on, which the caller has
/// just inserted in its transaction (nothing else can insert tickets meanwhile: the transaction
/// holds SQLite's write lock), for every endpoint that wants it: what migration 000021's row
/// trigger did for each ticket, as one statement. With no such endpoint it reads one empty
/// table and writes nothing. (PostgreSQL's statement trigger does the same.)
pub(super) fn queue_issued(conn: &mut SqliteConnection, first: i64) -> QueryResult<usize> {
    QueueTouches::<Issued>::from(first).execute(conn)
}

/// SQLite: queues the `scanned` touch of the arrival events from id `first` on that name a
/// ticket, which the caller has just inserted in its transaction, for every endpoint that
/// wants it: [`queue_issued`]'s twin for a batch of scans.
pub(super) fn queue_scanned(conn: &mut SqliteConnection, first: i64) -> QueryResult<usize> {
    QueueTouches::<Scanned>::from(first).execute(conn)
}

/// A touch queued by the statement that writes its rows, and that statement's SQL. The facts
/// and their order are those of the `webhooks` migration's triggers: one delivery per row and
/// endpoint, in row order, then endpoint order (a ticket's touches keep their order).
trait BatchTouch: 'static {
    /// The statement in two parts, between which the id of the first row written is bound.
    const SQL: [&'static str; 2];
}

/// The endpoints are the outer loop (`CROSS JOIN` keeps SQLite from reordering it): with none
/// that wants the kind, the statement ends at its first step.
struct Issued;
impl BatchTouch for Issued {
    const SQL: [&'static str; 2] = [
        "INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
        SELECT e.id, t.id, 'issued',
               json_object('ticket_id', t.id, 'performance_id', t.performance_id,
                           'holder_name', t.holder_name, 'holder_email', t.holder_email,
                           'price_minor', t.price_minor, 'currency', t.currency,
                           'seat', t.seat, 'section', t.section, 'generation', t.generation,
                           'external_ref', t.external_ref, 'replaces_ticket_id', t.replaces_ticket_id),
               t.issued_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM webhook_endpoints e CROSS JOIN tickets t
        WHERE instr(e.kinds, ',issued,') > 0 AND t.id >= ",
        " ORDER BY t.id, e.id",
    ];
}

struct Scanned;
impl BatchTouch for Scanned {
    const SQL: [&'static str; 2] = [
        "INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
        SELECT e.id, a.ticket_id, 'scanned',
               json_object('ticket_id', a.ticket_id, 'scan_id', a.id,
                           'performance_id', a.performance_id, 'outcome', a.outcome,
                           'gate', a.gate, 'device', a.device,
                           'token_generation', a.token_generation,
                           'offline', json(CASE WHEN a.uploaded_at IS NULL THEN 'false' ELSE 'true' END),
                           'device_refusal', a.device_refusal),
               a.scanned_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM webhook_endpoints e CROSS JOIN arrival_events a
        WHERE instr(e.kinds, ',scanned,') > 0 AND a.ticket_id IS NOT NULL AND a.id >= ",
        " ORDER BY a.id, e.id",
    ];
}

/// A [`BatchTouch`]'s statement as a type of its own, so that diesel prepares it once per
/// connection (a `sql_query` is prepared again on every run, which on the scan path would cost
/// more than running it).
struct QueueTouches<K> {
    first: i64,
    kind: PhantomData<K>,
}

impl<K> From<i64> for QueueTouches<K> {
    fn from(first: i64) -> Self {
        QueueTouches {
            first,
            kind: PhantomData,
        }
    }
}

impl<K: BatchTouch> diesel::query_builder::QueryId for QueueTouches<K> {
    type QueryId = QueueTouches<K>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<K: BatchTouch> diesel::query_builder::QueryFragment<Sqlite> for QueueTouches<K> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, Sqlite>,
    ) -> QueryResult<()> {
        let [head, tail] = K::SQL;
        out.push_sql(head);
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.first)?;
        out.push_sql(tail);
        Ok(())
    }
}

impl<K> RunQueryDsl<SqliteConnection> for QueueTouches<K> {}
