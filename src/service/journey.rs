//! The patron journey: every touch of a ticket, in order, so the box office can answer for it —
//! issued, each email queued / sent / failed, each patron-link open, transfers, exchanges,
//! credit, cancellation, every scan attempt. Read from the rows each use case writes in its own
//! transaction (tickets, outbox, link opens, transfers, ledger, cancellations, arrival events):
//! there is no second copy that could drift.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::credit::{self, PatronCredit};
use super::{Encore, Error, Result};
use crate::db::{authors, cancellations, consent, journey, outbox, tickets, Conn};
use crate::domain::actor::Authorship;
use crate::domain::ids::TicketId;
use crate::domain::link::LinkPurpose;
use crate::domain::offer::OfferStatus;
use crate::domain::outbox::{EmailKind, EmailStatus};
use crate::domain::ticket::Ticket;
use crate::domain::EmailAddress;

/// One touch of the journey.
#[derive(Debug, Clone, Serialize)]
pub struct Touch {
    pub at: DateTime<Utc>,
    /// The ticket it concerns (an offer received names the offered ticket).
    pub ticket_id: TicketId,
    /// What happened: `issued`, `email_queued`, `email_sent`, `email_failed`, `email_skipped`,
    /// `email_retry_scheduled`, `link_opened`, `transfer_offered`, `transfer_claimed`,
    /// `transfer_canceled`, `transfer_expired`, `exchanged`, `credit`, `canceled`, `scan`,
    /// `unsubscribed` and `resubscribed` (marketing email, from the ticket's links).
    pub what: &'static str,
    /// The facts of that touch (gate and outcome of a scan, an email's kind, an amount…). A
    /// change a person asked for (`issued`, `exchanged`, `transfer_offered`, `transfer_canceled`,
    /// `transfer_claimed`, `canceled`, and an `email_queued` sent again by hand) names its author
    /// in `by` ("Ada Lovelace (box office)", "API key “till-2” (admin)", "Grace Hopper
    /// (patron)"); absent for changes made before authors were kept. A scan's `uploaded_at` is when a scan made offline reached the server (null for a scan
    /// made online; its `at` is then the device's clock), and its `device_refusal` the reason
    /// an offline scanner gave for turning the patron away (null for a scan made online or
    /// admitted offline).
    pub detail: Value,
}

/// A ticket's journey, and the tickets before and after it.
pub struct TicketHistory {
    pub ticket: Ticket,
    /// The tickets that took this one's place (an exchange's new ticket, a friend's claim).
    pub replaced_by: Vec<TicketId>,
    pub timeline: Vec<Touch>,
}

pub fn of_ticket(encore: &Encore, ticket_id: TicketId) -> Result<TicketHistory> {
    encore.db.read(|conn| {
        let ticket =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        let timeline = timeline(conn, std::slice::from_ref(&ticket), None)?;
        let replaced_by = journey::successors(conn, &[ticket_id])?
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        Ok(TicketHistory {
            ticket,
            replaced_by,
            timeline,
        })
    })
}

/// Everything about one email address: its tickets, its credit, and one timeline.
pub struct PatronJourney {
    pub tickets: Vec<Ticket>,
    pub credit: PatronCredit,
    pub timeline: Vec<Touch>,
}

pub fn of_patron(encore: &Encore, email: &EmailAddress) -> Result<PatronJourney> {
    let credit = credit::of_patron(encore, email)?;
    encore.db.read(|conn| {
        let held = tickets::held_by(conn, email.as_str())?;
        let timeline = timeline(conn, &held, Some(email.as_str()))?;
        Ok(PatronJourney {
            tickets: held,
            credit,
            timeline,
        })
    })
}

/// Records that a patron opened a signed link to a ticket, at most once per
/// `Settings::link_open_record_every` for each ticket and purpose: a page reloaded (or fetched
/// in a loop) is one touch, not a flood of them. True when this open was recorded.
pub fn link_opened(encore: &Encore, ticket_id: TicketId, purpose: LinkPurpose) -> Result<bool> {
    let now = super::now();
    let since = now - encore.settings.link_open_record_every;
    encore.db.write(|conn| {
        journey::record_link_open_unless_since(conn, ticket_id, purpose, now, since)
            .map_err(Error::from)
    })
}

/// The touches of `tickets` (and of offers made to `offers_to`), oldest first.
fn timeline(
    conn: &mut Conn<'_>,
    tickets: &[Ticket],
    offers_to: Option<&str>,
) -> Result<Vec<Touch>> {
    let ids: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
    let mut touches = Vec::new();
    let mut touch = |at: DateTime<Utc>, ticket_id: TicketId, what: &'static str, detail: Value| {
        touches.push(Touch {
            at,
            ticket_id,
            what,
            detail,
        })
    };

    for t in tickets {
        touch(
            t.issued_at,
            t.id,
            "issued",
            json!({"holder_name": t.holder_name, "holder_email": t.holder_email,
                   "performance_id": t.performance_id, "price_minor": t.price.minor,
                   "currency": t.price.currency, "generation": t.generation,
                   "replaces_ticket_id": t.replaces}),
        );
    }
    for e in outbox::for_tickets(conn, &ids)? {
        let ticket_id = e.ticket_id.unwrap_or(TicketId(0));
        let about = json!({"email_id": e.id, "kind": e.kind, "recipient": e.recipient});
        touch(e.queued_at, ticket_id, "email_queued", about.clone());
        if e.kind == EmailKind::ExchangeReceipt {
            // The receipt is queued in the exchange's own transaction: it dates the exchange.
            let receipt = e
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok());
            touch(
                e.queued_at,
                ticket_id,
                "exchanged",
                receipt.unwrap_or(Value::Null),
            );
        }
        let with = |key: &str, value: Value| {
            let mut detail = about.clone();
            detail[key] = value;
            detail["attempts"] = json!(e.attempts);
            detail
        };
        match e.status {
            EmailStatus::Sent => {
                let sent_at = e.sent_at.unwrap_or(e.next_attempt_at);
                touch(
                    sent_at,
                    ticket_id,
                    "email_sent",
                    with("message_id", json!(e.message_id)),
                );
            }
            // A final failure or skip is dated by its release (its `next_attempt_at`).
            EmailStatus::Failed => touch(
                e.next_attempt_at,
                ticket_id,
                "email_failed",
                with("error", json!(e.last_error)),
            ),
            EmailStatus::Skipped => touch(
                e.next_attempt_at,
                ticket_id,
                "email_skipped",
                with("reason", json!(e.last_error)),
            ),
            _ if e.last_error.is_some() => touch(
                e.next_attempt_at,
                ticket_id,
                "email_retry_scheduled",
                with("error", json!(e.last_error)),
            ),
            _ => {}
        }
    }
    for open in journey::link_opens(conn, &ids)? {
        touch(
            open.opened_at,
            open.ticket_id,
            "link_opened",
            json!({"purpose": open.purpose}),
        );
    }
    for change in consent::changes(conn, &ids)? {
        let what = if change.opted_out {
            "unsubscribed"
        } else {
            "resubscribed"
        };
        touch(change.at, change.ticket_id, what, json!({}));
    }
    for offer in journey::offers(conn, &ids, offers_to)? {
        let about = json!({"transfer_id": offer.id, "from_name": offer.from.name,
                           "from_email": offer.from.email, "to_name": offer.to.name,
                           "to_email": offer.to.email, "expires_at": offer.expires_at,
                           "claimed_ticket_id": offer.claimed_ticket_id});
        touch(
            offer.offered_at,
            offer.ticket_id,
            "transfer_offered",
            about.clone(),
        );
        if let Some(resolved_at) = offer.resolved_at {
            let what = match offer.status {
                OfferStatus::Claimed => "transfer_claimed",
                OfferStatus::Canceled => "transfer_canceled",
                OfferStatus::Offered | OfferStatus::Expired => "transfer_expired",
            };
            touch(resolved_at, offer.ticket_id, what, about);
        }
    }
    for entry in journey::ledger(conn, &ids)? {
        touch(
            entry.at,
            entry.ticket_id.unwrap_or(TicketId(0)),
            "credit",
            json!({"reason": entry.reason.as_str(), "amount_minor": entry.amount_minor,
                   "currency": entry.currency, "patron_email": entry.patron_email}),
        );
    }
    for c in cancellations::of_tickets(conn, &ids)? {
        touch(
            c.canceled_at,
            c.ticket_id,
            "canceled",
            json!({"reason": c.reason, "refund_minor": c.refund_minor, "currency": c.currency,
                   "performance_cancellation_id": c.cancellation_id}),
        );
    }
    for scan in journey::scans(conn, &ids)? {
        touch(
            scan.scanned_at,
            scan.named.map_or(TicketId(0), |n| n.ticket_id),
            "scan",
            json!({"outcome": scan.outcome, "gate": scan.gate, "device": scan.device,
                   "token_generation": scan.named.map(|n| n.generation),
                   "uploaded_at": scan.uploaded_at,
                   "device_refusal": scan.device_refusal}),
        );
    }
    touches.sort_by_key(|t| (t.at, rank(t.what)));
    let touched: Vec<TicketId> = touches.iter().map(|t| t.ticket_id).collect();
    name_authors(&mut touches, &authors::of_tickets(conn, &touched)?);
    Ok(touches)
}

/// Names who made each change a person asked for (`detail.by`): the author stored with it for
/// the same ticket and change at the same moment (within a second; the change writes one `now`
/// to both).
fn name_authors(touches: &mut [Touch], authors: &[Authorship]) {
    // Each author explains one touch: the nearest of its ticket and change not yet named, so
    // that a confirmation sent again by hand does not name the one the issue queued before it.
    for author in authors {
        let nearest = touches
            .iter_mut()
            .filter(|t| t.ticket_id == author.ticket_id && t.what == author.change.as_str())
            .filter(|t| t.detail.get("by").is_none())
            .map(|t| ((author.at - t.at).abs(), t))
            .filter(|(apart, _)| *apart <= chrono::TimeDelta::seconds(1))
            .min_by_key(|(apart, _)| *apart);
        let Some((_, touch)) = nearest else {
            continue;
        };
        match &mut touch.detail {
            Value::Object(detail) => {
                detail.insert("by".into(), json!(author.by));
            }
            detail => *detail = json!({ "by": author.by }),
        }
    }
}

/// Among touches of the same moment, the cause comes before what it caused: a ticket is issued,
/// then changed, then credited, then its email is queued.
fn rank(what: &str) -> u8 {
    match what {
        "issued" => 0,
        "credit" => 2,
        w if w.starts_with("email_") => 3,
        _ => 1,
    }
}
