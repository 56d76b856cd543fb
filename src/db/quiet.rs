//! Quiet patrons: addresses whose last touch (a ticket issued, an admission, an email sent, a
//! link opened, credit, a consent change) is older than a cut-off, with their lifetime tickets
//! and how often they came. One statement: every touch, the latest per address, then the
//! addresses' ticket counts.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::{with_conn, Conn};
use crate::domain::outbox::EmailStatus;

/// A quiet patron, as the query finds them.
#[derive(Debug, Clone, QueryableByName)]
pub struct QuietPatron {
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Timestamp)]
    pub last_touch_at: NaiveDateTime,
    #[diesel(sql_type = Text)]
    pub last_touch: String,
    #[diesel(sql_type = BigInt)]
    pub tickets: i64,
    /// Tickets whose performance has begun: the ones that could have been used.
    #[diesel(sql_type = BigInt)]
    pub past_tickets: i64,
    #[diesel(sql_type = BigInt)]
    pub attended: i64,
    /// How many quiet patrons there are in all (the same on every row).
    #[diesel(sql_type = BigInt)]
    pub total: i64,
}

/// Every touch, as (email, at, kind). The outbox's recipient is the patron for every kind but
/// the transfer offer (the friend's address): a touch of that friend too.
const TOUCHES: &str = "
    SELECT holder_email AS email, issued_at AS at, 'issued' AS kind FROM tickets
    UNION ALL SELECT holder_email, admitted_at, 'admitted' FROM tickets WHERE admitted_at IS NOT NULL
    UNION ALL SELECT recipient, sent_at, 'email_sent' FROM outbox WHERE status = $1 AND sent_at IS NOT NULL
    UNION ALL SELECT t.holder_email, o.opened_at, 'link_opened' FROM link_opens o JOIN tickets t ON t.id = o.ticket_id
    UNION ALL SELECT patron_email, created_at, 'credit' FROM credit_ledger
    UNION ALL SELECT patron_email, changed_at,
                     CASE WHEN opted_out = 1 THEN 'unsubscribed' ELSE 'resubscribed' END
              FROM consent_changes";

/// Patrons whose last touch is before `quiet_since`, the quietest first, `limit` from
/// `offset`.
pub fn quiet_since(
    conn: &mut Conn<'_>,
    quiet_since: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<QuietPatron>> {
    let sql = format!(
        "WITH touches AS ({TOUCHES}),
         latest AS (
            SELECT email, at, kind,
                   ROW_NUMBER() OVER (PARTITION BY email ORDER BY at DESC, kind) AS n
            FROM touches),
         held AS (
            SELECT t.holder_email AS email, MAX(t.holder_name) AS name, COUNT(*) AS tickets,
                   SUM(CASE WHEN p.starts_at <= $2 THEN 1 ELSE 0 END) AS past_tickets,
                   SUM(CASE WHEN t.admitted_at IS NOT NULL THEN 1 ELSE 0 END) AS attended
            FROM tickets t JOIN performances p ON p.id = t.performance_id
            GROUP BY t.holder_email),
         quiet AS (
            SELECT h.email, h.name, l.at AS last_touch_at, l.kind AS last_touch, h.tickets,
                   h.past_tickets, h.attended
            FROM held h JOIN latest l ON l.email = h.email AND l.n = 1
            WHERE l.at < $3)
         SELECT q.*, (SELECT COUNT(*) FROM quiet) AS total FROM quiet q
         ORDER BY q.last_touch_at, q.email
         LIMIT $4 OFFSET $5"
    );
    let sql = conn.numbered_parameters(sql);
    with_conn!(conn, c => diesel::sql_query(&sql)
        .bind::<Text, _>(EmailStatus::Sent)
        .bind::<Timestamp, _>(now.naive_utc())
        .bind::<Timestamp, _>(quiet_since.naive_utc())
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(c))
}
