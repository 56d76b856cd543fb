//! What the box office and operators can ask of the email outbox.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Encore, Error, Result};
use crate::db::models::OutboxRow;
use crate::db::outbox::FailedFilter;
use crate::db::{outbox, tickets, Db};

/// Every email queued for a ticket, oldest first, with its state.
pub fn history(db: &Db, ticket_id: i64) -> Result<Vec<OutboxRow>> {
    db.read(|conn| {
        if tickets::find(conn, ticket_id)?.is_none() {
            return Err(Error::not_found("ticket", ticket_id));
        }
        Ok(outbox::for_tickets(conn, &[ticket_id])?)
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxStatus {
    pub by_status: BTreeMap<String, i64>,
    /// When the oldest email not yet sent was queued.
    pub oldest_unsent: Option<DateTime<Utc>>,
}

pub fn status(db: &Db) -> Result<OutboxStatus> {
    db.read(|conn| {
        Ok(OutboxStatus {
            by_status: outbox::status_counts(conn)?.into_iter().collect(),
            oldest_unsent: outbox::oldest_unsent(conn)?.map(|t| t.and_utc()),
        })
    })
}

/// Failed emails, the most recent first (at most `limit`), with their last error.
pub fn failed(db: &Db, limit: i64) -> Result<Vec<OutboxRow>> {
    db.read(|conn| Ok(outbox::failed(conn, limit)?))
}

/// Puts the failed emails that `filter` picks back in line, with a full set of attempts, and
/// wakes this process's worker. Returns them.
pub fn retry_failed(encore: &Encore, filter: &FailedFilter) -> Result<Vec<OutboxRow>> {
    let now = super::now().naive_utc();
    let retried = encore
        .db
        .write(|conn| Ok::<_, Error>(outbox::retry_failed(conn, filter, now)?))?;
    if !retried.is_empty() {
        tracing::info!(
            emails = retried.len(),
            ?filter,
            "failed emails put back in line"
        );
        encore.outbox_wakeup.notify_one();
    }
    Ok(retried)
}

/// Sends one failed email of a ticket again (the box office, after the patron's address or
/// mailbox was fixed). Only a failed email: one sent, skipped or still on its way is refused,
/// so no email goes twice.
pub fn resend(encore: &Encore, ticket_id: i64, email_id: i64) -> Result<OutboxRow> {
    let email = encore.db.read(|conn| {
        if tickets::find(conn, ticket_id)?.is_none() {
            return Err(Error::not_found("ticket", ticket_id));
        }
        Ok(outbox::find(conn, email_id)?)
    })?;
    let email = email
        .filter(|e| e.ticket_id == Some(ticket_id))
        .ok_or_else(|| Error::not_found("email", email_id))?;
    let filter = FailedFilter {
        id: Some(email.id),
        ..FailedFilter::default()
    };
    retry_failed(encore, &filter)?
        .pop()
        .ok_or_else(|| Error::Conflict {
            code: "email_not_failed",
            message: format!(
                "email {email_id} is {}: only a failed email can be sent again",
                email.status
            ),
        })
}
