//! What the console's patron page shows (`/box-office/patrons/{email}`): the patron's journey
//! (`journey::of_patron`: tickets, credit, timeline) with, for each ticket, its event and
//! performance and the actions the rules allow on it now. A plain read model, the rules already
//! applied; the actions themselves are the services the JSON API calls.

use chrono::{DateTime, Utc};

use super::credit::PatronCredit;
use super::exchanges::exchange_targets;
use super::journey::{self, Touch};
use super::patron_pages::ExchangeOption;
use super::tickets::TicketInContext;
use super::{Encore, Result};
use crate::db::{outbox, transfers as offers};
use crate::domain::ids::TicketId;
use crate::domain::offer::OfferStatus;
use crate::domain::outbox::{EmailKind, EmailStatus, OutboxEmail};
use crate::domain::policy::{Change, Refusal};
use crate::domain::{EmailAddress, TicketStatus};

/// Everything the patron page shows.
pub struct PatronPage {
    pub email: String,
    /// The name on their latest ticket, if they hold any.
    pub name: Option<String>,
    /// Their tickets, the soonest performance first.
    pub tickets: Vec<ConsoleTicket>,
    pub credit: PatronCredit,
    /// Every touch, oldest first.
    pub timeline: Vec<Touch>,
}

/// One of the patron's tickets, with what may be done with it now.
pub struct ConsoleTicket {
    pub id: TicketId,
    pub event_name: String,
    pub venue: String,
    /// The venue's time zone, in which the page shows the performance's time.
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub performance_canceled: bool,
    pub holder_name: String,
    pub seat: Option<String>,
    pub section: Option<String>,
    pub price_minor: i64,
    pub currency: String,
    pub status: TicketStatus,
    pub admitted: bool,
    /// To whom the ticket is on offer, while it is.
    pub offered_to: Option<String>,
    /// Why it cannot be exchanged now (`None`: it can).
    pub exchange_refusal: Option<Refusal>,
    /// Why it cannot be transferred now (`None`: it can).
    pub transfer_refusal: Option<Refusal>,
    /// Whether the box office may cancel it: unused, and valid or on offer.
    pub cancelable: bool,
    /// What an exchange into credit gives.
    pub exchange_value_minor: i64,
    /// The performances it may be exchanged into now.
    pub targets: Vec<ExchangeOption>,
    /// The state of its latest confirmation email, if one was queued.
    pub confirmation: Option<EmailStatus>,
    /// Whether its delivered (or skipped) confirmation may be sent again as a fresh copy: it
    /// still admits, and none is on its way (`outbox::resend_confirmation`).
    pub confirmation_resendable: bool,
    /// Its failed emails: the ones that can be sent again.
    pub failed_emails: Vec<OutboxEmail>,
}

/// The patron page of `email`. A patron with no tickets and no credit has an empty page.
pub fn patron_page(encore: &Encore, email: &EmailAddress) -> Result<PatronPage> {
    let journey = journey::of_patron(encore, email)?;
    let now = super::now();
    let ids: Vec<TicketId> = journey.tickets.iter().map(|t| t.id).collect();
    let mut tickets = encore.db.read(|conn| {
        let emails = outbox::for_tickets(conn, &ids)?;
        let mut tickets = Vec::with_capacity(journey.tickets.len());
        for held in &journey.tickets {
            let current = TicketInContext::load(conn, held.id)?;
            let TicketInContext {
                ticket,
                performance,
                event,
                policy,
            } = &current;
            let offered_to = match ticket.status {
                TicketStatus::Transferred => {
                    offers::for_generation(conn, ticket.id, ticket.generation)?
                        .filter(|o| o.status == OfferStatus::Offered)
                        .map(|o| o.to.name)
                }
                _ => None,
            };
            let refusal = |change| {
                current
                    .check(change, now)
                    .err()
                    .map(|refusal| match &offered_to {
                        Some(to) => Refusal::OfferPending(to.clone()),
                        None => refusal,
                    })
            };
            let exchange_refusal = refusal(Change::Exchange);
            let transfer_refusal = refusal(Change::Transfer);
            let currency = ticket.price.currency.as_str();
            let targets = if exchange_refusal.is_none() {
                exchange_targets(conn, &current, now)?
                    .into_iter()
                    .filter_map(|t| {
                        Some(ExchangeOption {
                            price_minor: t.price_for(currency).ok()?,
                            performance_id: t.performance_id,
                            event_name: t.event_name,
                            starts_at: t.starts_at,
                            time_zone: t.time_zone,
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let of_ticket = || emails.iter().filter(|e| e.ticket_id == Some(ticket.id));
            let confirmation = of_ticket()
                .filter(|e| e.kind == EmailKind::Confirmation)
                .max_by_key(|e| (e.queued_at, e.id))
                .map(|e| e.status);
            let failed_emails = of_ticket()
                .filter(|e| e.status == EmailStatus::Failed)
                .cloned()
                .collect();
            tickets.push(ConsoleTicket {
                id: ticket.id,
                event_name: event.name.clone(),
                venue: event.venue.clone(),
                time_zone: event.time_zone.clone(),
                starts_at: performance.starts_at(),
                performance_canceled: performance.canceled_at.is_some(),
                holder_name: ticket.holder_name.clone(),
                seat: ticket.seat.clone(),
                section: ticket.section.clone(),
                price_minor: ticket.price.minor,
                currency: currency.to_string(),
                status: ticket.status,
                admitted: ticket.is_admitted(),
                cancelable: !ticket.is_admitted()
                    && (ticket.status == TicketStatus::Valid || offered_to.is_some()),
                offered_to,
                exchange_refusal,
                transfer_refusal,
                exchange_value_minor: policy.exchange_value(ticket.price.minor).value_minor,
                targets,
                confirmation,
                // A failed one is offered with the other failed emails.
                confirmation_resendable: ticket.status == TicketStatus::Valid
                    && !matches!(
                        confirmation,
                        Some(EmailStatus::Pending | EmailStatus::Sending | EmailStatus::Failed)
                    ),
                failed_emails,
            });
        }
        Ok::<_, super::Error>(tickets)
    })?;
    tickets.sort_by_key(|t| (t.starts_at, t.id));
    let name = journey
        .tickets
        .iter()
        .max_by_key(|t| (t.issued_at, t.id))
        .map(|t| t.holder_name.clone());
    Ok(PatronPage {
        email: email.as_str().to_string(),
        name,
        tickets,
        credit: journey.credit,
        timeline: journey.timeline,
    })
}
