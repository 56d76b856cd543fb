//! A no-show's second chance: when the event's policy offers it, a holder who never came may
//! turn the unused ticket into a share of its price as stored credit, once, from the signed
//! link in the no-show message, until the link's deadline.

use chrono::{DateTime, Duration, Utc};

use super::tickets::TicketInContext;
use super::{credit, Encore, Error, Result};
use crate::db::{authors, credit as ledger, outbox};
use crate::domain::actor::{Actor, AuthoredChange};
use crate::domain::credit::CreditReason;
use crate::domain::event::Performance;
use crate::domain::ids::TicketId;
use crate::domain::message_rule::{no_show_credit, NO_SHOW_CREDIT_DAYS};
use crate::domain::outbox::EmailKind;
use crate::domain::policy::{ExchangeValue, Refusal};
use crate::domain::receipt::Receipt;
use crate::domain::ticket::Ticket;
use crate::domain::TicketStatus;
use crate::email;
use crate::tokens::LinkPurpose;

/// Until when a performance's no-shows may take their credit.
pub fn deadline(performance: &Performance) -> DateTime<Utc> {
    performance.ends_at() + Duration::days(NO_SHOW_CREDIT_DAYS)
}

/// The signed one-click link, valid until the deadline, for the ticket as it is now.
pub fn credit_link(
    encore: &Encore,
    base_url: &str,
    ticket: &Ticket,
    performance: &Performance,
) -> Result<String> {
    let until = deadline(performance);
    super::tickets::patron_link(
        encore,
        base_url,
        "no-show",
        ticket,
        LinkPurpose::NoShowCredit,
        until,
    )
}

/// What the link offers, as its page shows it before the patron decides.
pub struct Offer {
    pub holder_name: String,
    pub event_name: String,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub credit_minor: i64,
    pub currency: String,
    pub deadline: DateTime<Utc>,
}

/// The offer for this ticket, or why there is none (any more).
pub fn offer(encore: &Encore, ticket_id: TicketId) -> Result<Offer> {
    let current = encore
        .db
        .read(|conn| TicketInContext::load(conn, ticket_id))?;
    let credit_minor = check(&current, super::now())?;
    Ok(Offer {
        holder_name: current.ticket.holder_name.clone(),
        event_name: current.event.name.clone(),
        starts_at: current.performance.starts_at(),
        time_zone: current.event.time_zone.clone(),
        credit_minor,
        currency: current.ticket.price.currency.as_str().to_string(),
        deadline: deadline(&current.performance),
    })
}

/// May the ticket be turned into no-show credit now? The credit it would give, or why not.
fn check(current: &TicketInContext, now: DateTime<Utc>) -> Result<i64, Refusal> {
    let percent = current
        .policy
        .no_show_credit_percent
        .ok_or(Refusal::NoShowCreditNotOffered)?;
    let ticket = &current.ticket;
    if ticket.admission.is_some() {
        return Err(Refusal::AlreadyAdmitted);
    }
    match ticket.status {
        TicketStatus::Valid => {}
        TicketStatus::Exchanged => return Err(Refusal::NoShowCreditGiven),
        status => return Err(Refusal::NotValid(status)),
    }
    if now < current.performance.ends_at() {
        return Err(Refusal::NoShowCreditTooEarly);
    }
    if now > deadline(&current.performance) {
        return Err(Refusal::NoShowCreditExpired);
    }
    // A free ticket is worth no credit: there is nothing to offer.
    match no_show_credit(ticket.price.minor, percent) {
        0 => Err(Refusal::NoShowCreditNotOffered),
        credit => Ok(credit),
    }
}

/// Turns the never-admitted ticket named by the link into credit, in one transaction: the
/// ticket ends (exchanged) with a conditional write, so a late scan or a second click cannot
/// also succeed; the credit is posted, the receipt queued, the change recorded.
pub fn redeem(encore: &Encore, ticket_id: TicketId, generation: i32) -> Result<Receipt> {
    super::tickets::change_from_link(encore, ticket_id, generation, |conn| {
        let now = super::now();
        let current = TicketInContext::load(conn, ticket_id)?;
        let credit_minor = check(&current, now)?;
        let ticket = &current.ticket;
        if !crate::db::tickets::end_unused(
            conn,
            ticket.id,
            ticket.generation,
            TicketStatus::Exchanged,
        )? {
            // Something changed it since it was read: say what, as a fresh read sees it.
            let again = TicketInContext::load(conn, ticket_id)?;
            return Err(check(&again, now)
                .err()
                .unwrap_or(Refusal::NoShowCreditGiven)
                .into());
        }
        let (email, currency) = (ticket.holder_email.as_str(), ticket.price.currency);
        let posting = credit::Posting {
            email,
            currency,
            reason: CreditReason::NoShowCredit,
            ticket_id: Some(ticket.id),
            at: now,
        };
        credit::add(conn, &posting, credit_minor)?;
        let receipt = Receipt {
            ticket_id: ticket.id,
            currency: currency.as_str().to_string(),
            value: ExchangeValue {
                price_minor: ticket.price.minor,
                fee_minor: ticket.price.minor - credit_minor,
                value_minor: credit_minor,
            },
            credited_minor: credit_minor,
            spent_minor: 0,
            new_ticket_id: None,
            new_ticket_label: None,
            balance_minor: ledger::balance_for_update(conn, email, currency.as_str())?,
            no_show: true,
        };
        let detail = serde_json::to_string(&receipt).map_err(|e| Error::Internal(e.to_string()))?;
        outbox::enqueue(
            conn,
            &[email::ticket_email(
                EmailKind::ExchangeReceipt,
                format!("{}:{}", EmailKind::ExchangeReceipt, ticket.id),
                ticket.id,
                Some(detail),
                email,
                &encore.settings.message_id_domain,
                now,
            )],
        )?;
        let by = Actor::Holder.describe_for(&ticket.holder_name);
        authors::record(conn, &[ticket.id], AuthoredChange::Exchanged, now, &by)?;
        Ok(receipt)
    })
}
