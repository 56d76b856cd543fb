//! What the box office and operators can ask of the email outbox.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{Error, Result};
use crate::db::models::OutboxRow;
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
