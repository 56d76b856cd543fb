//! An event's message rules: kept by the box office, and queued by the worker when each
//! performance reaches a rule's moment, once, for exactly the tickets in its audience.

use chrono::Duration;

use super::{Encore, Error, Result};
use crate::db::{events, message_rules};
use crate::domain::ids::EventId;
use crate::domain::message_rule::{performance_end, MessageRule, RuleToStore};

/// How late a rule's moment may be noticed and still be queued (a worker that was down, a rule
/// added after the show): older moments send nothing, rather than a thank-you a week late.
pub const LATEST_CATCH_UP_HOURS: i64 = 48;

fn event_must_exist(conn: &mut crate::db::Conn<'_>, event_id: EventId) -> Result<()> {
    match events::find_event(conn, event_id)? {
        Some(_) => Ok(()),
        None => Err(Error::not_found("event", event_id)),
    }
}

pub fn create(encore: &Encore, event_id: EventId, rule: &RuleToStore) -> Result<MessageRule> {
    encore.db.write(|conn| {
        event_must_exist(conn, event_id)?;
        Ok(message_rules::insert(conn, event_id, rule, super::now())?)
    })
}

pub fn list(encore: &Encore, event_id: EventId) -> Result<Vec<MessageRule>> {
    encore.db.read(|conn| {
        event_must_exist(conn, event_id)?;
        Ok(message_rules::for_event(conn, event_id)?)
    })
}

pub fn get(encore: &Encore, event_id: EventId, id: i64) -> Result<MessageRule> {
    encore
        .db
        .read(|conn| message_rules::find(conn, id).map_err(Error::from))?
        .filter(|rule| rule.event_id == event_id)
        .ok_or_else(|| Error::not_found("message rule", id))
}

/// Replaces a rule. Performances it was already queued for keep what was queued; messages not
/// yet sent go out with the new texts (they are written when sent).
pub fn update(
    encore: &Encore,
    event_id: EventId,
    id: i64,
    rule: &RuleToStore,
) -> Result<MessageRule> {
    encore
        .db
        .write(|conn| {
            message_rules::update(conn, event_id, id, rule, super::now()).map_err(Error::from)
        })?
        .ok_or_else(|| Error::not_found("message rule", id))
}

/// Deletes a rule; its messages not yet sent are skipped.
pub fn delete(encore: &Encore, event_id: EventId, id: i64) -> Result<()> {
    if encore
        .db
        .write(|conn| message_rules::delete(conn, event_id, id).map_err(Error::from))?
    {
        Ok(())
    } else {
        Err(Error::not_found("message rule", id))
    }
}

/// Queues every rule whose moment has come for a performance, each in its own transaction:
/// the run is recorded with the messages, so a restart (or a second worker) never queues a
/// rule twice for one performance. Returns how many emails were queued.
pub fn queue_due(encore: &Encore, message_id_domain: &str) -> Result<usize> {
    let now = super::now();
    // A rule's moment is at most a week after the end, and the end a day after the start.
    let since = now - Duration::days(8) - Duration::hours(LATEST_CATCH_UP_HOURS);
    let candidates = encore
        .db
        .read(|conn| message_rules::candidates(conn, since, now).map_err(Error::from))?;
    let mut queued = 0;
    for candidate in candidates {
        let ends_at = performance_end(candidate.starts_at, candidate.ends_at);
        let moment = candidate.rule.rule.moment.at(candidate.starts_at, ends_at);
        if moment > now {
            continue;
        }
        let too_late = now - moment > Duration::hours(LATEST_CATCH_UP_HOURS);
        queued += encore.db.write(|conn| {
            if !message_rules::claim_run(conn, candidate.rule.id, candidate.performance_id, now)? {
                return Ok::<_, Error>(0);
            }
            if too_late {
                tracing::info!(
                    rule = candidate.rule.id,
                    performance_id = candidate.performance_id.0,
                    "a message rule's moment passed long ago; recorded, nothing sent"
                );
                return Ok(0);
            }
            let queued = message_rules::queue_rule(
                conn,
                &candidate.rule,
                candidate.performance_id,
                message_id_domain,
                now,
            )?;
            tracing::info!(
                rule = candidate.rule.id,
                performance_id = candidate.performance_id.0,
                queued,
                "queued a message rule"
            );
            Ok(queued)
        })?;
    }
    if queued > 0 {
        encore.outbox_wakeup.notify_one();
    }
    Ok(queued)
}
