//! What the patron's pages show, read in one transaction each: the ticket page (`/t/…`), its
//! calendar file, and a friend's claim page (`/claim/…`). Plain read models with the rules
//! already applied (what may be changed now, whether an offer is still open); the pages only
//! format and render them.

use chrono::{DateTime, Utc};

use super::exchanges::exchange_targets;
use super::rotating::barcode_of;
use super::tickets::{token_for, view_link, TicketInContext};
use super::{Encore, Error, Result};
use crate::db::{cancellations, credit, tickets, transfers as offers};
use crate::domain::cancellation::TicketCancellation;
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::locale::Locale;
use crate::domain::offer::OfferStatus;
use crate::domain::policy::{Change, ExchangeValue, Refusal};
use crate::domain::rotating::RotatingBarcode;
use crate::domain::ticket::Admission;
use crate::domain::venue::VenueDetails;
use crate::domain::TicketStatus;
use crate::email::messages::{calendar, TicketFacts};
use crate::tokens::render_svg;

/// Everything the ticket page shows.
pub struct TicketPage {
    pub ticket_id: TicketId,
    /// The ticket's language, which the page speaks.
    pub locale: Locale,
    pub event_name: String,
    pub venue: String,
    /// The venue's time zone, in which the page shows every time.
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub doors_open_at: DateTime<Utc>,
    pub holder_name: String,
    pub seat: Option<String>,
    pub section: Option<String>,
    pub price_minor: i64,
    pub currency: String,
    pub status: TicketStatus,
    pub admitted: bool,
    /// When and at which gate the door admitted it.
    pub admission: Option<Admission>,
    /// What an exchanged ticket became, when it became a ticket for another performance.
    pub successor: Option<SuccessorTicket>,
    /// A canceled ticket's reason and what was refunded.
    pub cancellation: Option<TicketCancellation>,
    /// The QR code (SVG) while the ticket admits, when its event's codes are static.
    pub qr_svg: Option<String>,
    /// The rotating code while the ticket admits, when its event's codes rotate.
    pub rotating: Option<RotatingOnPage>,
    /// The open offer of a ticket on offer to a friend.
    pub offer: Option<OpenOffer>,
    /// Who claimed a transferred ticket.
    pub claimed_by: Option<String>,
    /// When changes close, by the event's policy.
    pub closes_at: DateTime<Utc>,
    /// Why the ticket cannot be transferred now, if it cannot.
    pub transfer_refusal: Option<Refusal>,
    /// Why the ticket cannot be exchanged now, if it cannot.
    pub exchange_refusal: Option<Refusal>,
    /// What an exchange into credit would give.
    pub exchange_value: ExchangeValue,
    /// The holder's stored credit in the ticket's currency, if they have an account of it.
    pub balance_minor: Option<i64>,
    /// The performances the ticket may be exchanged into now (none when it may not be).
    pub targets: Vec<ExchangeOption>,
    /// The venue's address and help contact, as the event sets them.
    pub venue_details: VenueDetails,
    /// When the page was read: a copy kept on the patron's phone says it was saved then.
    pub loaded_at: DateTime<Utc>,
}

/// The ticket an exchange gave in place of this one, with the path of its own page.
pub struct SuccessorTicket {
    pub path: String,
    pub event_name: String,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub seat: Option<String>,
}

/// The ticket page's rotating code: the barcode (its secret is for the holder's page only),
/// or, before the event reveals it, when it will appear.
pub enum RotatingOnPage {
    Shown(RotatingBarcode),
    From(DateTime<Utc>),
}

/// A ticket's open offer to a friend.
pub struct OpenOffer {
    pub to_name: String,
    pub expires_at: DateTime<Utc>,
}

/// A performance the ticket may be exchanged into, at its price in the ticket's currency.
pub struct ExchangeOption {
    pub performance_id: PerformanceId,
    pub event_name: String,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub price_minor: i64,
}

/// The ticket page of a link to the ticket at `generation`: `LinkSuperseded` when the ticket
/// has moved on since.
pub fn ticket_page(encore: &Encore, ticket_id: TicketId, generation: i32) -> Result<TicketPage> {
    let now = super::now();
    encore.db.read(|conn| {
        let current = current_at(conn, ticket_id, generation)?;
        let TicketInContext {
            ticket,
            performance,
            event,
            policy,
        } = &current;
        let status = current.status();
        // A transferred ticket is either still on offer, or was claimed by the friend.
        let (offer, claimed) = match status {
            TicketStatus::Transferred => {
                match offers::for_generation(conn, ticket.id, ticket.generation)? {
                    Some(o) if o.status == OfferStatus::Offered => (Some(o), None),
                    claimed => (None, claimed),
                }
            }
            _ => (None, None),
        };
        let rotating = Some(status)
            .filter(|s| *s == TicketStatus::Valid)
            .and_then(|_| barcode_of(encore, ticket, event))
            .map(
                |barcode| match event.barcode.revealed_at(performance.doors_open_at()) {
                    Some(from) if now < from => RotatingOnPage::From(from),
                    _ => RotatingOnPage::Shown(barcode),
                },
            );
        let qr_svg = if status == TicketStatus::Valid && rotating.is_none() {
            let token = token_for(encore, ticket, performance)?;
            Some(render_svg(&token).map_err(|e| Error::Internal(e.to_string()))?)
        } else {
            None
        };
        let refusal = |change| {
            current
                .check(change, now)
                .err()
                .map(|refusal| match &offer {
                    Some(o) => Refusal::OfferPending(o.to.name.clone()),
                    None => refusal,
                })
        };
        let transfer_refusal = refusal(Change::Transfer);
        let exchange_refusal = refusal(Change::Exchange);
        let balance_minor = credit::balances(conn, &ticket.holder_email)?
            .into_iter()
            .find(|(currency, _)| currency == ticket.price.currency.as_str())
            .map(|(_, minor)| minor);
        let targets = if exchange_refusal.is_none() {
            exchange_targets(conn, &current, now)?
                .into_iter()
                .filter_map(|t| {
                    Some(ExchangeOption {
                        price_minor: t.price_for(ticket.price.currency.as_str()).ok()?,
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
        // Only an exchange leads on to the new ticket: a claimed transfer's is the friend's.
        let successor = match status {
            TicketStatus::Exchanged => match tickets::successor_of(conn, ticket.id)? {
                Some(next) => {
                    let next = TicketInContext::load(conn, next.id)?;
                    Some(SuccessorTicket {
                        path: view_link(encore, "", &next.ticket, &next.performance)?,
                        event_name: next.event.name,
                        starts_at: next.performance.starts_at(),
                        time_zone: next.event.time_zone,
                        seat: next.ticket.seat,
                    })
                }
                None => None,
            },
            _ => None,
        };
        let cancellation = match status {
            TicketStatus::Canceled => cancellations::of_tickets(conn, &[ticket.id])?.pop(),
            _ => None,
        };
        Ok(TicketPage {
            ticket_id: ticket.id,
            locale: ticket.locale,
            event_name: event.name.clone(),
            venue: event.venue.clone(),
            time_zone: event.time_zone.clone(),
            starts_at: performance.starts_at(),
            doors_open_at: performance.doors_open_at(),
            holder_name: ticket.holder_name.clone(),
            seat: ticket.seat.clone(),
            section: ticket.section.clone(),
            price_minor: ticket.price.minor,
            currency: ticket.price.currency.as_str().to_string(),
            status,
            admitted: ticket.is_admitted(),
            admission: ticket.admission.clone(),
            successor,
            cancellation,
            qr_svg,
            rotating,
            offer: offer.map(|o| OpenOffer {
                to_name: o.to.name,
                expires_at: o.expires_at,
            }),
            claimed_by: claimed.map(|o| o.to.name),
            closes_at: policy.closes_at(performance.starts_at()),
            transfer_refusal,
            exchange_refusal,
            exchange_value: policy.exchange_value(ticket.price.minor),
            balance_minor,
            targets,
            venue_details: event.venue_details.clone(),
            loaded_at: now,
        })
    })
}

/// The performance of a link to the ticket at `generation`, as a calendar file (iCalendar)
/// whose event links back to `link`.
pub fn calendar_file(
    encore: &Encore,
    ticket_id: TicketId,
    generation: i32,
    link: &str,
) -> Result<String> {
    let current = encore
        .db
        .read(|conn| current_at(conn, ticket_id, generation))?;
    Ok(calendar(&TicketFacts {
        ticket: &current.ticket,
        performance: &current.performance,
        event: &current.event,
        link,
        apple_wallet_link: None,
    }))
}

/// How a ticket's pages write: its language, the venue's time zone, the ticket's currency.
pub struct Voice {
    pub locale: Locale,
    pub time_zone: String,
    pub currency: String,
}

/// The voice of a ticket's pages, for a page that shows nothing else of it (a link out of
/// date, a refusal): whatever the ticket's state or generation.
pub fn voice_of(encore: &Encore, ticket_id: TicketId) -> Result<Voice> {
    let current = encore
        .db
        .read(|conn| TicketInContext::load(conn, ticket_id))?;
    Ok(Voice {
        locale: current.ticket.locale,
        time_zone: current.event.time_zone,
        currency: current.ticket.price.currency.as_str().to_string(),
    })
}

/// The ticket in its context, if a link to it at `generation` still leads to it.
fn current_at(
    conn: &mut crate::db::Conn<'_>,
    ticket_id: TicketId,
    generation: i32,
) -> Result<TicketInContext> {
    let current = TicketInContext::load(conn, ticket_id)?;
    if current.ticket.generation != generation {
        return Err(Error::LinkSuperseded);
    }
    Ok(current)
}

/// Everything a friend's claim page shows.
pub struct ClaimPage {
    /// The offered ticket's language, which the page speaks.
    pub locale: Locale,
    pub event_name: String,
    pub venue: String,
    /// The venue's time zone, in which the page shows every time.
    pub time_zone: String,
    pub starts_at: DateTime<Utc>,
    pub from_name: String,
    pub to_name: String,
    pub expires_at: DateTime<Utc>,
    pub offer: OfferState,
    pub seat: Option<String>,
    pub section: Option<String>,
    /// Once claimed: the path of the friend's own ticket page.
    pub claimed_path: Option<String>,
}

/// Whether an offer can still be claimed, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferState {
    Open,
    Claimed,
    TakenBack,
    Expired,
}

/// The claim page of a claim link (the ticket's id and generation when it was offered).
pub fn claim_page(encore: &Encore, ticket_id: TicketId, generation: i32) -> Result<ClaimPage> {
    let now = super::now();
    encore.db.read(|conn| {
        let offer =
            offers::for_generation(conn, ticket_id, generation)?.ok_or(Refusal::NoOpenOffer)?;
        let TicketInContext {
            ticket,
            performance,
            event,
            ..
        } = TicketInContext::load(conn, ticket_id)?;
        // The claim link was the friend's: once claimed, it leads to the ticket they got.
        let claimed_path = match offer.claimed_ticket_id {
            Some(id) if offer.status == OfferStatus::Claimed => {
                let claimed = TicketInContext::load(conn, id)?;
                Some(view_link(
                    encore,
                    "",
                    &claimed.ticket,
                    &claimed.performance,
                )?)
            }
            _ => None,
        };
        let state = match offer.status {
            OfferStatus::Offered if offer.expires_at > now => OfferState::Open,
            OfferStatus::Claimed => OfferState::Claimed,
            OfferStatus::Canceled => OfferState::TakenBack,
            OfferStatus::Offered | OfferStatus::Expired => OfferState::Expired,
        };
        Ok(ClaimPage {
            locale: ticket.locale,
            event_name: event.name,
            venue: event.venue,
            time_zone: event.time_zone,
            starts_at: performance.starts_at(),
            from_name: offer.from.name,
            to_name: offer.to.name,
            expires_at: offer.expires_at,
            offer: state,
            seat: ticket.seat,
            section: ticket.section,
            claimed_path,
        })
    })
}
