//! Message rules, the record of which rule was queued for which performance, and the
//! set-based statement that queues one rule's messages for a whole performance.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::schema::{message_rules, message_runs, performances};
use super::{with_conn, Conn};
use crate::domain::ids::{EventId, PerformanceId};
use crate::domain::lobby::LobbyMessage;
use crate::domain::locale::Locale;
use crate::domain::message_rule::{
    Anchor, Audience, MessageRule, Moment, Purpose, RuleText, RuleToStore,
};
use crate::domain::outbox::{EmailKind, EmailStatus};
use crate::domain::TicketStatus;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = message_rules)]
struct RuleRow {
    id: i64,
    event_id: EventId,
    audience: String,
    anchor: String,
    offset_minutes: i32,
    purpose: String,
    subject: String,
    body: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    translations: String,
}

/// One translation as the `translations` column holds it (a JSON array of these).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredText<'a> {
    #[serde(borrow)]
    locale: Cow<'a, str>,
    #[serde(borrow)]
    subject: Cow<'a, str>,
    #[serde(borrow)]
    body: Cow<'a, str>,
}

fn stored_translations(rule: &RuleToStore) -> String {
    let texts: Vec<StoredText<'_>> = (rule.translations.iter())
        .map(|t| StoredText {
            locale: t.locale.as_str().into(),
            subject: t.subject.as_str().into(),
            body: t.body.as_str().into(),
        })
        .collect();
    serde_json::to_string(&texts).expect("strings always serialize")
}

impl RuleRow {
    fn record(self) -> QueryResult<MessageRule> {
        let unknown = |what: &str, value: &str| {
            diesel::result::Error::DeserializationError(
                format!("message rule {}: unknown {what} {value:?}", self.id).into(),
            )
        };
        let audience = Audience::from_stored(&self.audience)
            .ok_or_else(|| unknown("audience", &self.audience))?;
        let anchor =
            Anchor::from_stored(&self.anchor).ok_or_else(|| unknown("anchor", &self.anchor))?;
        let purpose =
            Purpose::from_stored(&self.purpose).ok_or_else(|| unknown("purpose", &self.purpose))?;
        let texts: Vec<StoredText<'_>> = serde_json::from_str(&self.translations)
            .map_err(|e| unknown("translations", &e.to_string()))?;
        let translations = (texts.into_iter())
            .map(|t| RuleText {
                locale: Locale::from_stored(&t.locale),
                subject: LobbyMessage::from_stored(t.subject.into_owned()),
                body: LobbyMessage::from_stored(t.body.into_owned()),
            })
            .collect();
        Ok(MessageRule {
            id: self.id,
            event_id: self.event_id,
            rule: RuleToStore {
                audience,
                moment: Moment {
                    anchor,
                    offset_minutes: self.offset_minutes,
                },
                purpose,
                subject: LobbyMessage::from_stored(self.subject),
                body: LobbyMessage::from_stored(self.body),
                translations,
            },
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

fn records(rows: Vec<RuleRow>) -> QueryResult<Vec<MessageRule>> {
    rows.into_iter().map(RuleRow::record).collect()
}

/// The columns a rule sets, for an insert or a full update.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = message_rules)]
struct RuleColumns<'a> {
    audience: &'static str,
    anchor: &'static str,
    offset_minutes: i32,
    purpose: &'static str,
    subject: &'a str,
    body: &'a str,
    translations: String,
}

fn columns(rule: &RuleToStore) -> RuleColumns<'_> {
    RuleColumns {
        audience: rule.audience.as_str(),
        anchor: rule.moment.anchor.as_str(),
        offset_minutes: rule.moment.offset_minutes,
        purpose: rule.purpose.as_str(),
        subject: rule.subject.as_str(),
        body: rule.body.as_str(),
        translations: stored_translations(rule),
    }
}

pub fn insert(
    conn: &mut Conn<'_>,
    event_id: EventId,
    rule: &RuleToStore,
    now: DateTime<Utc>,
) -> QueryResult<MessageRule> {
    let now = now.naive_utc();
    with_conn!(conn, c => diesel::insert_into(message_rules::table)
        .values((
            message_rules::event_id.eq(event_id),
            columns(rule),
            message_rules::created_at.eq(now),
            message_rules::updated_at.eq(now),
        ))
        .returning(RuleRow::as_returning())
        .get_result(c))
    .and_then(RuleRow::record)
}

/// Replaces the rule's settings and texts; `None` if the event has no such rule.
pub fn update(
    conn: &mut Conn<'_>,
    event_id: EventId,
    id: i64,
    rule: &RuleToStore,
    now: DateTime<Utc>,
) -> QueryResult<Option<MessageRule>> {
    let now = now.naive_utc();
    with_conn!(conn, c => diesel::update(
        message_rules::table
            .filter(message_rules::id.eq(id))
            .filter(message_rules::event_id.eq(event_id)),
    )
    .set((columns(rule), message_rules::updated_at.eq(now)))
    .returning(RuleRow::as_returning())
    .get_result(c)
    .optional())?
    .map(RuleRow::record)
    .transpose()
}

/// Deletes the rule; false if the event has no such rule. Its messages not yet sent are
/// skipped when their turn comes (the worker finds no rule).
pub fn delete(conn: &mut Conn<'_>, event_id: EventId, id: i64) -> QueryResult<bool> {
    with_conn!(conn, c => diesel::delete(
        message_rules::table
            .filter(message_rules::id.eq(id))
            .filter(message_rules::event_id.eq(event_id)),
    )
    .execute(c))
    .map(|n| n == 1)
}

pub fn for_event(conn: &mut Conn<'_>, event_id: EventId) -> QueryResult<Vec<MessageRule>> {
    records(with_conn!(conn, c => message_rules::table
        .filter(message_rules::event_id.eq(event_id))
        .order(message_rules::id)
        .select(RuleRow::as_select())
        .load(c))?)
}

pub fn find(conn: &mut Conn<'_>, id: i64) -> QueryResult<Option<MessageRule>> {
    with_conn!(conn, c => message_rules::table
        .find(id)
        .select(RuleRow::as_select())
        .get_result(c)
        .optional())?
    .map(RuleRow::record)
    .transpose()
}

/// A rule with one performance of its event, not yet queued for it: the candidates whose
/// moment may have come.
pub struct Candidate {
    pub rule: MessageRule,
    pub performance_id: PerformanceId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
}

/// Every rule with each performance of its event that started within `(since, now]`, was not
/// canceled, and has not had the rule queued yet.
pub fn candidates(
    conn: &mut Conn<'_>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Candidate>> {
    let (since, now) = (since.naive_utc(), now.naive_utc());
    let found: Vec<(RuleRow, PerformanceId, NaiveDateTime, Option<NaiveDateTime>)> = with_conn!(conn, c => message_rules::table
        .inner_join(performances::table.on(performances::event_id.eq(message_rules::event_id)))
        .filter(performances::starts_at.gt(since))
        .filter(performances::starts_at.le(now))
        .filter(performances::canceled_at.is_null())
        .filter(diesel::dsl::not(diesel::dsl::exists(
            message_runs::table
                .filter(message_runs::rule_id.eq(message_rules::id))
                .filter(message_runs::performance_id.eq(performances::id)),
        )))
        .select((
            RuleRow::as_select(),
            performances::id,
            performances::starts_at,
            performances::ends_at,
        ))
        .load(c))?;
    found
        .into_iter()
        .map(|(rule, performance_id, starts_at, ends_at)| {
            Ok(Candidate {
                rule: rule.record()?,
                performance_id,
                starts_at: starts_at.and_utc(),
                ends_at: ends_at.map(|at| at.and_utc()),
            })
        })
        .collect()
}

/// Records that a rule is being queued for a performance; false if it already was (by
/// another worker, or before a restart).
pub fn claim_run(
    conn: &mut Conn<'_>,
    rule_id: i64,
    performance_id: PerformanceId,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let row = (
        message_runs::rule_id.eq(rule_id),
        message_runs::performance_id.eq(performance_id),
        message_runs::queued.eq(0_i64),
        message_runs::run_at.eq(now.naive_utc()),
    );
    with_conn!(conn, c => diesel::insert_into(message_runs::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))
    .map(|n| n == 1)
}

/// The statement that queues one rule's message to every ticket of a performance in its
/// audience: valid (not canceled, exchanged or transferred), admitted or never admitted, and
/// for marketing only to patrons who have not opted out. Placeholders are numbered for
/// PostgreSQL and rewritten to `?` for SQLite; the kind, the statuses and the key's prefix are
/// bound, so their names live only in their types.
fn queue_sql(conn: &Conn<'_>, audience: Audience, purpose: Purpose) -> String {
    let message_id = match conn {
        Conn::Sqlite(_) => "'<' || lower(hex(randomblob(16))) || '@' || $4 || '>'",
        Conn::Postgres(_) => {
            "'<' || md5(random()::text || t.id::text || clock_timestamp()::text) || '@' || $4 || '>'"
        }
    };
    let admitted = match audience {
        Audience::Admitted => "t.admitted_at IS NOT NULL",
        Audience::NotAdmitted => "t.admitted_at IS NULL",
    };
    let consent = match purpose {
        Purpose::Service => "",
        Purpose::Marketing => {
            "AND NOT EXISTS (SELECT 1 FROM marketing_opt_outs o WHERE o.patron_email = t.holder_email)"
        }
    };
    let sql = format!(
        "INSERT INTO outbox (kind, dedupe_key, ticket_id, detail, recipient, message_id, status,
                             attempts, next_attempt_at, created_at)
         SELECT $1, $2 || t.id, t.id, $3, t.holder_email, {message_id}, $5, 0, $6, $6
         FROM tickets t
         WHERE t.performance_id = $7 AND t.status = $8 AND {admitted} {consent}
         ON CONFLICT (dedupe_key) DO NOTHING"
    );
    conn.numbered_parameters(sql)
}

/// Queues `rule`'s message for every ticket of the performance in its audience, in one
/// statement however many there are, and records how many on its run. Returns how many.
pub fn queue_rule(
    conn: &mut Conn<'_>,
    rule: &MessageRule,
    performance_id: PerformanceId,
    message_id_domain: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let sql = queue_sql(conn, rule.rule.audience, rule.rule.purpose);
    let now_naive = now.naive_utc();
    // As every dedupe key starts: the kind's name and a colon; then the rule, then the ticket.
    let dedupe_prefix = format!("{}:{}:", EmailKind::RuleMessage, rule.id);
    let detail = rule.id.to_string();
    let queued = with_conn!(conn, c => diesel::sql_query(&sql)
        .bind::<Text, _>(EmailKind::RuleMessage)
        .bind::<Text, _>(&dedupe_prefix)
        .bind::<Text, _>(&detail)
        .bind::<Text, _>(message_id_domain)
        .bind::<Text, _>(EmailStatus::Pending)
        .bind::<Timestamp, _>(now_naive)
        .bind::<BigInt, _>(performance_id)
        .bind::<Text, _>(TicketStatus::Valid)
        .execute(c))?;
    with_conn!(conn, c => diesel::update(message_runs::table.find((rule.id, performance_id)))
        .set(message_runs::queued.eq(queued as i64))
        .execute(c))?;
    Ok(queued)
}
