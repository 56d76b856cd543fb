//! Webhooks: the endpoints an admin registers, and the delivery of every journey touch to them.
//!
//! Touches are queued by the database itself (triggers, in the change's own transaction; see the
//! `webhooks` migration), one delivery per endpoint that wants the kind. The worker claims due
//! deliveries (`claim_due`), signs and sends them, and records each result (`record`): a failed
//! delivery is tried again after an exponential backoff, a ticket's later touch waits for its
//! earlier one, and an endpoint that has only failed for `disable_after` is disabled until an
//! admin enables it again (then all it missed is sent, in order).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{now, secrets, Encore, Error, Result};
use crate::db::webhooks::{self as db, Claimed, DeliveryRow, EndpointRow};
use crate::domain::webhook::{self, EndpointUrl, Kinds};

/// A registered endpoint (never its secret, except once in `create`'s answer).
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub kinds: Kinds,
    pub created_at: DateTime<Utc>,
    pub enabled: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Deliveries still to make.
    pub pending: i64,
}

impl Endpoint {
    fn from_row(row: EndpointRow, pending: i64) -> Endpoint {
        Endpoint {
            id: row.id,
            url: row.url,
            kinds: Kinds::from_stored(&row.kinds),
            created_at: row.created_at.and_utc(),
            enabled: row.disabled_at.is_none(),
            disabled_at: row.disabled_at.map(|t| t.and_utc()),
            disabled_reason: row.disabled_reason,
            failing_since: row.failing_since.map(|t| t.and_utc()),
            last_success_at: row.last_success_at.map(|t| t.and_utc()),
            pending,
        }
    }
}

/// One delivery of a touch to an endpoint, and how its attempts went.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The `webhook-id`: the same at every attempt.
    pub message_id: String,
    pub ticket_id: Option<i64>,
    /// `ticket.<kind>`.
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub delivered: bool,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Delivery {
        let delivered = row.status == "delivered";
        Delivery {
            message_id: message_id(row.id),
            ticket_id: row.ticket_id,
            event_type: format!("ticket.{}", row.kind),
            occurred_at: row.occurred_at.and_utc(),
            delivered,
            attempts: row.attempts,
            next_attempt_at: (!delivered).then(|| row.next_attempt_at.and_utc()),
            last_attempt_at: row.last_attempt_at.map(|t| t.and_utc()),
            last_status: row.last_status,
            last_error: row.last_error,
            delivered_at: row.delivered_at.map(|t| t.and_utc()),
        }
    }
}

/// The stable id of a delivery: the receiver's key for dropping a duplicate.
pub fn message_id(delivery_id: i64) -> String {
    format!("msg_{delivery_id}")
}

/// Registers an endpoint; the answer's secret is the only time it is shown.
pub fn create(encore: &Encore, url: &EndpointUrl, kinds: &Kinds) -> Result<(Endpoint, String)> {
    let secret = webhook::new_secret(secrets::random_bytes::<32>()?);
    let row = encore.db.write(|conn| {
        db::insert_endpoint(conn, url.as_str(), &kinds.stored(), &secret, now())
            .map_err(Error::from)
    })?;
    Ok((Endpoint::from_row(row, 0), secret))
}

pub fn list(encore: &Encore) -> Result<Vec<Endpoint>> {
    encore.db.read(|conn| {
        db::endpoints(conn)?
            .into_iter()
            .map(|row| {
                let pending = db::pending_count(conn, row.id)?;
                Ok(Endpoint::from_row(row, pending))
            })
            .collect()
    })
}

pub fn get(encore: &Encore, id: i64) -> Result<Endpoint> {
    encore.db.read(|conn| {
        let row = db::endpoint(conn, id)?.ok_or_else(|| Error::not_found("webhook", id))?;
        let pending = db::pending_count(conn, id)?;
        Ok(Endpoint::from_row(row, pending))
    })
}

/// What a change of an endpoint sets; `None` leaves it as it is.
#[derive(Debug, Default)]
pub struct Change {
    pub url: Option<EndpointUrl>,
    pub kinds: Option<Kinds>,
    /// `true` enables a disabled endpoint (what it missed is then sent); `false` disables it.
    pub enabled: Option<bool>,
}

pub fn update(encore: &Encore, id: i64, change: Change) -> Result<Endpoint> {
    encore.db.write(|conn| {
        let kinds = change.kinds.as_ref().map(Kinds::stored);
        let url = change.url.as_ref().map(EndpointUrl::as_str);
        if !db::update_endpoint(conn, id, url, kinds.as_deref())? {
            return Err(Error::not_found("webhook", id));
        }
        match change.enabled {
            Some(true) => {
                db::enable(conn, id, now())?;
            }
            Some(false) => {
                db::disable(conn, id, now(), "disabled by an admin")?;
            }
            None => {}
        }
        Ok(())
    })?;
    get(encore, id)
}

pub fn delete(encore: &Encore, id: i64) -> Result<()> {
    encore
        .db
        .write(|conn| match db::delete_endpoint(conn, id)? {
            true => Ok(()),
            false => Err(Error::not_found("webhook", id)),
        })
}

/// Sends again, with their own ids, the touches since `since` already delivered to the endpoint.
pub fn replay(encore: &Encore, id: i64, since: DateTime<Utc>) -> Result<usize> {
    encore.db.write(|conn| {
        db::endpoint(conn, id)?.ok_or_else(|| Error::not_found("webhook", id))?;
        Ok(db::replay(conn, id, since, now())?)
    })
}

pub fn deliveries(
    encore: &Encore,
    id: i64,
    pending_only: Option<bool>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Delivery>> {
    encore.db.read(|conn| {
        db::endpoint(conn, id)?.ok_or_else(|| Error::not_found("webhook", id))?;
        let status = pending_only.map(|p| if p { "pending" } else { "delivered" });
        Ok(db::deliveries(conn, id, status, before, limit)?
            .into_iter()
            .map(Delivery::from)
            .collect())
    })
}

/// A claimed delivery, ready to send: its id, endpoint, body and secret.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery_id: i64,
    pub endpoint_id: i64,
    pub message_id: String,
    pub url: String,
    pub secret: String,
    pub body: String,
    pub attempts: i32,
}

impl From<Claimed> for Due {
    fn from(claimed: Claimed) -> Due {
        let d = claimed.delivery;
        let data: Value = serde_json::from_str(&d.data).unwrap_or(Value::Null);
        let body = serde_json::json!({
            "type": format!("ticket.{}", d.kind),
            "timestamp": d.occurred_at.and_utc(),
            "data": data,
        });
        Due {
            delivery_id: d.id,
            endpoint_id: d.endpoint_id,
            message_id: message_id(d.id),
            url: claimed.url,
            secret: claimed.secret,
            body: body.to_string(),
            attempts: d.attempts,
        }
    }
}

pub fn claim_due(
    encore: &Encore,
    token: &str,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Due>> {
    let claimed = encore
        .db
        .write(|conn| db::claim_due(conn, token, now(), lease_until, limit).map_err(Error::from))?;
    Ok(claimed.into_iter().map(Due::from).collect())
}

/// How a claimed delivery went.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub delivery_id: i64,
    pub endpoint_id: i64,
    pub attempts_before: i32,
    /// `Ok(status)` for a 2xx answer; else the status (if any) and the reason.
    pub result: std::result::Result<u16, (Option<u16>, String)>,
}

/// The retry and disable policy.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub retry_base: std::time::Duration,
    pub retry_max: std::time::Duration,
    pub disable_after: chrono::Duration,
}

/// Records a round's attempts in one transaction. Returns the endpoints disabled now.
pub fn record(
    encore: &Encore,
    token: &str,
    attempts: &[Attempt],
    policy: &Policy,
) -> Result<Vec<i64>> {
    let at = now();
    encore.db.write(|conn| {
        let mut by_status: std::collections::BTreeMap<u16, Vec<i64>> = Default::default();
        let mut succeeded: Vec<i64> = Vec::new();
        let mut failed: Vec<i64> = Vec::new();
        for attempt in attempts {
            match &attempt.result {
                Ok(status) => {
                    by_status
                        .entry(*status)
                        .or_default()
                        .push(attempt.delivery_id);
                    succeeded.push(attempt.endpoint_id);
                }
                Err((status, reason)) => {
                    let wait = webhook::backoff(
                        attempt.attempts_before + 1,
                        policy.retry_base,
                        policy.retry_max,
                    );
                    let retry_at = at + chrono::Duration::from_std(wait).unwrap_or_default();
                    db::failed(
                        conn,
                        token,
                        attempt.delivery_id,
                        status.map(i32::from),
                        reason,
                        at,
                        retry_at,
                    )?;
                    failed.push(attempt.endpoint_id);
                }
            }
        }
        for (status, ids) in &by_status {
            db::delivered(conn, token, ids, i32::from(*status), at)?;
        }
        succeeded.sort_unstable();
        succeeded.dedup();
        failed.retain(|id| succeeded.binary_search(id).is_err());
        failed.sort_unstable();
        failed.dedup();
        if !succeeded.is_empty() {
            db::endpoints_succeeded(conn, &succeeded, at)?;
        }
        if failed.is_empty() {
            return Ok(Vec::new());
        }
        let reason = format!(
            "every delivery failed for {} hours",
            policy.disable_after.num_minutes() as f64 / 60.0
        );
        Ok(db::endpoints_failed(
            conn,
            &failed,
            at,
            at - policy.disable_after,
            &reason,
        )?)
    })
}
