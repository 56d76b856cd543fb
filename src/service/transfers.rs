//! Transferring a ticket to a friend. The offer ends the holder's QR at once (the ticket is
//! `transferred` while on offer); claiming issues the friend a ticket of their own; canceling
//! or letting the offer expire gives the holder their ticket back with a new generation, so no
//! copy of the QR from before the offer ever admits again.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::idempotency::{self, IdempotencyKey, Idempotent, Reply};
use super::tickets::{
    confirmation_email, insert_successor, token_for, TicketInContext, TicketWithToken,
};
use super::{Encore, Error, Result};
use crate::db::transfers::OffersOf;
use crate::db::{authors, events, outbox, tickets, transfers, Conn};
use crate::domain::actor::{Actor, AuthoredChange};
use crate::domain::ids::TicketId;
use crate::domain::offer::{NewOffer, Offer, OfferStatus, Party};
use crate::domain::outbox::EmailKind;
use crate::domain::policy::{Change, OfferEnd, Refusal};
use crate::domain::text::label;
use crate::domain::ticket::{Ticket, TicketToStore};
use crate::domain::{EmailAddress, TicketStatus};
use crate::email;

/// The friend a holder names.
#[derive(Debug, Clone)]
pub struct Friend {
    pub name: String,
    pub email: EmailAddress,
}

impl Friend {
    pub fn parse(name: &str, email: &str) -> Result<Friend> {
        Ok(Friend {
            name: label("name", name, 200)?,
            email: EmailAddress::parse("email", email)?,
        })
    }
}

/// Offers the ticket to a friend, who is emailed a claim link, in a transaction of its own (a
/// patron's page, from a link to the ticket at `generation`); then wakes the email worker.
///
/// A page's offers are limited (`Settings::offer_limits`): so many of this ticket, and so many
/// to this address, within a window, counted from the offers stored, in this transaction, so
/// the limits hold for every process sharing the database. Beyond them the offer is refused
/// with how long to wait. The box office (`offer_at_box_office`) is not limited: its staff act for a
/// patron with a key of their own, and only a link holder, who needs no account, could use the
/// page as a mail relay.
pub fn offer(
    encore: &Encore,
    ticket_id: TicketId,
    generation: i32,
    friend: Friend,
) -> Result<Offer> {
    super::tickets::change_from_link(encore, ticket_id, generation, |conn| {
        within_offer_limits(encore, conn, ticket_id, &friend.email)?;
        offer_in(encore, conn, ticket_id, &friend, &Actor::Holder)
    })
}

/// Refuses (`TooManyOffers`) when the window already holds the most offers allowed of the
/// ticket, or to the address. The ticket's count is exact even under concurrent offers (the
/// link's hold on the ticket serialises them); offers of different tickets to one address made
/// at the same instant may each see the others' uncommitted rows missing.
fn within_offer_limits(
    encore: &Encore,
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    to: &EmailAddress,
) -> Result<()> {
    let limits = encore.settings.offer_limits;
    let now = super::now();
    let since = limits.since(now);
    let mut longest_wait = None;
    for (of, limit) in [
        (OffersOf::Ticket(ticket_id), limits.per_ticket),
        (OffersOf::Recipient(to.as_str()), limits.per_recipient),
    ] {
        let newest = transfers::offered_since(conn, of, since, limit)?;
        longest_wait = longest_wait.max(limits.check(&newest, limit, now).err());
    }
    match longest_wait {
        Some(retry_after) => Err(Error::TooManyOffers { retry_after }),
        None => Ok(()),
    }
}

/// The box office offers the ticket to a friend (for a patron on the phone), under the
/// request's key if it sent one (see `idempotency::once`). Not limited as a page's offers are.
pub fn offer_at_box_office<V: Serialize>(
    encore: &Encore,
    key: Option<&IdempotencyKey>,
    ticket_id: TicketId,
    friend: &Friend,
    by: &Actor,
    reply: Reply<Offer, V>,
) -> Result<Idempotent<V>> {
    idempotency::once(encore, key, reply, |conn| {
        offer_in(encore, conn, ticket_id, friend, by)
    })
}

/// Offers the ticket to a friend in the caller's transaction; the claim link is emailed once it
/// commits.
fn offer_in(
    encore: &Encore,
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    friend: &Friend,
    by: &Actor,
) -> Result<Offer> {
    let now = super::now();
    let current = TicketInContext::load(conn, ticket_id)?;
    current.check_change(conn, Change::Transfer, now)?;
    let ticket = &current.ticket;
    if friend
        .email
        .as_str()
        .eq_ignore_ascii_case(&ticket.holder_email)
    {
        return Err(Refusal::TransferToSelf.into());
    }
    current.end_for(conn, Change::Transfer, TicketStatus::Transferred, now)?;
    let expires_at = current
        .policy
        .offer_expires_at(now, current.performance.starts_at());
    let offer = transfers::insert(
        conn,
        &NewOffer {
            ticket_id: ticket.id,
            generation: ticket.generation,
            from: Party {
                name: ticket.holder_name.clone(),
                email: ticket.holder_email.clone(),
            },
            to: Party {
                name: friend.name.clone(),
                email: friend.email.as_str().to_string(),
            },
            offered_at: now,
            expires_at,
        },
    )?;
    outbox::enqueue(
        conn,
        &[email::ticket_email(
            EmailKind::TransferOffer,
            format!("{}:{}", EmailKind::TransferOffer, offer.id),
            ticket.id,
            Some(offer.id.to_string()),
            friend.email.as_str(),
            &encore.settings.message_id_domain,
            now,
        )],
    )?;
    let by = by.describe_for(&ticket.holder_name);
    authors::record(
        conn,
        &[ticket.id],
        AuthoredChange::TransferOffered,
        now,
        &by,
    )?;
    Ok(offer)
}

/// The holder takes their offer back: the ticket is theirs again, with a new QR. In a
/// transaction of its own (a patron's page, from a link to the ticket at `generation`); then
/// wakes the email worker.
pub fn cancel(encore: &Encore, ticket_id: TicketId, generation: i32) -> Result<Ticket> {
    super::tickets::change_from_link(encore, ticket_id, generation, |conn| {
        cancel_in(encore, conn, ticket_id, &Actor::Holder)
    })
}

/// The box office takes the ticket's open offer back (for its holder on the phone), under the
/// request's key if it sent one (see `idempotency::once`), answered with the ticket and its new
/// token.
pub fn cancel_at_box_office<V: Serialize>(
    encore: &Encore,
    key: Option<&IdempotencyKey>,
    ticket_id: TicketId,
    by: &Actor,
    reply: Reply<TicketWithToken, V>,
) -> Result<Idempotent<V>> {
    idempotency::once(encore, key, reply, |conn| {
        let ticket = cancel_in(encore, conn, ticket_id, by)?;
        let performance = events::find_performance(conn, ticket.performance_id)?
            .ok_or_else(|| Error::not_found("performance", ticket.performance_id))?;
        let token = token_for(encore, &ticket, &performance)?;
        Ok(TicketWithToken { ticket, token })
    })
}

/// Takes the offer back in the caller's transaction; the new confirmation is emailed once it
/// commits.
fn cancel_in(
    encore: &Encore,
    conn: &mut Conn<'_>,
    ticket_id: TicketId,
    by: &Actor,
) -> Result<Ticket> {
    let now = super::now();
    let ticket =
        tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
    let offer = transfers::for_generation(conn, ticket.id, ticket.generation)?
        .filter(|o| o.status == OfferStatus::Offered)
        .ok_or(Refusal::NoOpenOffer)?;
    give_back(encore, conn, &offer, OfferStatus::Canceled, now)?;
    let by = by.describe_for(&offer.from.name);
    authors::record(
        conn,
        &[offer.ticket_id],
        AuthoredChange::TransferCanceled,
        now,
        &by,
    )?;
    Ok(tickets::find(conn, ticket_id)?.expect("the ticket was just read"))
}

/// Every offer made of the ticket.
pub fn of_ticket(encore: &Encore, ticket_id: TicketId) -> Result<Vec<Offer>> {
    encore.db.read(|conn| {
        tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        Ok(transfers::of_ticket(conn, ticket_id)?)
    })
}

/// The friend claims the offer: a ticket in their name (a new id, a new token), confirmed by
/// email. Claiming twice, or after a cancel or expiry, is refused and changes nothing.
pub fn claim(encore: &Encore, ticket_id: TicketId, generation: i32) -> Result<Ticket> {
    let now = super::now();
    let claimed = encore.db.write(|conn| {
        let offer =
            transfers::for_generation(conn, ticket_id, generation)?.ok_or(Refusal::NoOpenOffer)?;
        if offer.status != OfferStatus::Offered {
            return Err(Refusal::OfferClosed(OfferEnd::of(offer.status)).into());
        }
        if offer.expires_at <= now {
            // Expire it here and now: the holder gets the ticket back even if no sweep ran.
            give_back(encore, conn, &offer, OfferStatus::Expired, now)?;
            return Ok(None);
        }
        let old =
            tickets::find(conn, ticket_id)?.ok_or_else(|| Error::not_found("ticket", ticket_id))?;
        let ticket = insert_successor(
            conn,
            TicketToStore {
                performance_id: old.performance_id,
                holder_name: offer.to.name.clone(),
                holder_email: offer.to.email.clone(),
                price: old.price,
                seat: old.seat.clone(),
                section: old.section.clone(),
                external_ref: None,
                issued_at: now,
                generation: old.generation + 1,
                replaces: Some(old.id),
                // The friend reads what the sender read; the box office can tell us otherwise
                // only on issue.
                locale: old.locale,
            },
        )?;
        if !transfers::resolve(conn, offer.id, OfferStatus::Claimed, now, Some(ticket.id))? {
            // Resolved by someone else between our read and this write: nothing happened.
            return Err(Refusal::OfferClosed(OfferEnd::Resolved).into());
        }
        outbox::enqueue(conn, &[confirmation_email(encore, &ticket, now)])?;
        // The friend claims it: their name on the old ticket's history and on the new one.
        let by = Actor::Patron {
            name: offer.to.name.clone(),
        }
        .describe();
        authors::record(
            conn,
            &[offer.ticket_id],
            AuthoredChange::TransferClaimed,
            now,
            &by,
        )?;
        authors::record(conn, &[ticket.id], AuthoredChange::Issued, now, &by)?;
        Ok::<_, Error>(Some(ticket))
    })?;
    encore.outbox_wakeup.notify_one();
    claimed.ok_or_else(|| Refusal::OfferClosed(OfferEnd::Expired).into())
}

/// Returns every offer whose time ran out to its sender. Returns how many.
pub fn expire_due(encore: &Encore) -> Result<usize> {
    let now = super::now();
    let mut expired = 0;
    loop {
        let due = encore
            .db
            .read(|conn| transfers::expired_offers(conn, now, 100).map_err(Error::from))?;
        if due.is_empty() {
            break;
        }
        for offer in &due {
            encore
                .db
                .write(|conn| give_back(encore, conn, offer, OfferStatus::Expired, now))?;
            expired += 1;
        }
    }
    if expired > 0 {
        encore.outbox_wakeup.notify_one();
    }
    Ok(expired)
}

/// Closes an open offer as `status` and gives the ticket back to its holder with a new
/// generation and a fresh confirmation. Refused (`offer_closed`) if the offer was resolved
/// meanwhile.
fn give_back(
    encore: &Encore,
    conn: &mut Conn<'_>,
    offer: &Offer,
    status: OfferStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    if !transfers::resolve(conn, offer.id, status, now, None)? {
        let offer = transfers::find(conn, offer.id)?.expect("the offer exists");
        return Err(Refusal::OfferClosed(OfferEnd::of(offer.status)).into());
    }
    if !tickets::reinstate(conn, offer.ticket_id, offer.generation)? {
        return Err(Error::Internal(format!(
            "ticket {} was not on offer at generation {}",
            offer.ticket_id, offer.generation
        )));
    }
    let ticket = tickets::find(conn, offer.ticket_id)?.expect("the ticket exists");
    outbox::enqueue(conn, &[confirmation_email(encore, &ticket, now)])?;
    Ok(())
}
