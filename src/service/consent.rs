//! Marketing consent: a patron opts out from any marketing email's link (one click, RFC 8058),
//! and back in from their ticket page. Each change is instant and recorded for the journey.

use chrono::Duration;

use super::{Encore, Error, Result};
use crate::db::{consent, tickets};
use crate::domain::event::Performance;
use crate::domain::ids::TicketId;
use crate::domain::ticket::Ticket;
use crate::tokens::LinkPurpose;

/// How long an unsubscribe link works after the show it was sent about.
const LINK_DAYS: i64 = 365;

/// The signed unsubscribe link for the holder of `ticket` (any generation's link stands: it
/// speaks for the address, not the ticket's state).
pub fn unsubscribe_link(
    encore: &Encore,
    base_url: &str,
    ticket: &Ticket,
    performance: &Performance,
) -> Result<String> {
    let until = performance.ends_at() + Duration::days(LINK_DAYS);
    let purpose = LinkPurpose::Unsubscribe;
    super::tickets::patron_link(encore, base_url, "unsubscribe", ticket, purpose, until)
}

/// A ticket holder's consent as it stands.
pub struct Consent {
    pub holder_email: String,
    pub opted_out: bool,
}

pub fn of_ticket_holder(encore: &Encore, ticket_id: TicketId) -> Result<Consent> {
    encore.db.read(|conn| {
        let ticket =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        let opted_out = consent::opted_out(conn, &ticket.holder_email)?;
        Ok(Consent {
            holder_email: ticket.holder_email,
            opted_out,
        })
    })
}

/// Opts the ticket's holder out of marketing email (`opt_out`), or back in. Returns the consent
/// as it now stands; doing it twice changes and records nothing more.
pub fn set(encore: &Encore, ticket_id: TicketId, opt_out: bool) -> Result<Consent> {
    encore.db.write(|conn| {
        let ticket =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        if consent::set(conn, &ticket.holder_email, ticket_id, opt_out, super::now())? {
            tracing::info!(
                ticket_id = ticket_id.0,
                opt_out,
                "marketing consent changed"
            );
        }
        Ok(Consent {
            holder_email: ticket.holder_email,
            opted_out: opt_out,
        })
    })
}
