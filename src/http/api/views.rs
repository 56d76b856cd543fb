//! What the API answers with: response shapes, made from the domain's records. A view spells
//! out its fields on purpose: the view is the API's published contract (OpenAPI), the record
//! follows the domain, and a field added there is no API field until a view says so.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::event::{Event, Performance};
use crate::domain::outbox::OutboxEmail;
use crate::domain::policy::ChangePolicy;
use crate::domain::ticket::{Admission, Ticket};
use crate::service::tickets::{IssuedTicket, TicketWithToken};

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    pub name: String,
    pub venue: String,
    pub time_zone: String,
    pub reminder_offsets_minutes: Vec<i32>,
    pub created_at: DateTime<Utc>,
    pub lobby_message: Option<String>,
    pub policy: PolicyView,
    /// `static` (the signed QR) or `rotating` (a TOTP code that changes every
    /// `rotation_seconds`).
    #[schema(example = "rotating")]
    pub barcode: &'static str,
    /// The rotation period (kept, unused, while the barcode is static).
    pub rotation_seconds: u32,
    /// A rotating code appears on the ticket page only this many hours before doors open;
    /// `null`: from the start.
    pub reveal_hours_before_doors: Option<u32>,
    /// The venue's postal address, its lines separated by line breaks; `null`: not set.
    #[schema(example = "Shakespeare's Globe\n21 New Globe Walk\nLondon SE1 9DT")]
    pub venue_address: Option<String>,
    /// An OpenStreetMap search for `venue_address`, as the ticket page links it; `null` without
    /// an address.
    #[schema(
        example = "https://www.openstreetmap.org/search?query=Shakespeare%27s%20Globe%2C%2021%20New%20Globe%20Walk%2C%20London%20SE1%209DT"
    )]
    pub map_url: Option<String>,
    /// The phone number patrons may call for help; `null`: not set.
    pub help_phone: Option<String>,
    /// The email address patrons may write to for help; `null`: not set.
    pub help_email: Option<String>,
    /// The language of its tickets unless one is given on issue: `en` or `de`.
    #[schema(example = "en")]
    pub locale: &'static str,
}

/// An event's change policy, as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    pub exchange_allowed: bool,
    pub exchange_any_event: bool,
    pub exchange_fee_minor: i64,
    pub transfer_allowed: bool,
    pub change_cutoff_minutes: i64,
    pub transfer_offer_hours: i64,
    pub refund_on_cancel: bool,
    /// The share of a no-show's ticket price offered back as credit; `null`: none.
    pub no_show_credit_percent: Option<u8>,
}

impl From<ChangePolicy> for PolicyView {
    fn from(policy: ChangePolicy) -> Self {
        PolicyView {
            exchange_allowed: policy.exchange_allowed,
            exchange_any_event: policy.exchange_any_event,
            exchange_fee_minor: policy.exchange_fee_minor,
            transfer_allowed: policy.transfer_allowed,
            change_cutoff_minutes: policy.cutoff.num_minutes(),
            transfer_offer_hours: policy.offer_lifetime.num_hours(),
            refund_on_cancel: policy.refund_on_cancel,
            no_show_credit_percent: policy.no_show_credit_percent,
        }
    }
}

impl From<Event> for EventView {
    fn from(event: Event) -> Self {
        EventView {
            policy: event.policy.into(),
            id: event.id.0,
            name: event.name,
            venue: event.venue,
            time_zone: event.time_zone,
            reminder_offsets_minutes: event.reminder_offsets_minutes,
            created_at: event.created_at,
            lobby_message: event.lobby_message,
            barcode: event.barcode.mode(),
            rotation_seconds: event.barcode.period_seconds(),
            reveal_hours_before_doors: event.barcode.reveal_hours_before_doors(),
            map_url: event.venue_details.address.as_ref().map(|a| a.map_url()),
            venue_address: event.venue_details.address.map(|a| a.as_str().to_string()),
            help_phone: event
                .venue_details
                .help_phone
                .map(|p| p.as_str().to_string()),
            help_email: event.venue_details.help_email.map(|e| e.into_string()),
            locale: event.locale.as_str(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceView {
    pub id: i64,
    pub event_id: i64,
    pub starts_at: DateTime<Utc>,
    pub doors_open_at: DateTime<Utc>,
    /// When the show is over: as given, or two and a half hours after the start.
    pub ends_at: DateTime<Utc>,
    pub capacity: i64,
    pub tickets_issued: i64,
    pub available: i64,
    /// Set when the performance was canceled.
    pub canceled_at: Option<DateTime<Utc>>,
}

impl From<Performance> for PerformanceView {
    fn from(performance: Performance) -> Self {
        PerformanceView {
            available: performance.available(),
            id: performance.id.0,
            event_id: performance.event_id.0,
            starts_at: performance.schedule.starts_at,
            doors_open_at: performance.schedule.doors_open_at,
            ends_at: performance.ends_at(),
            capacity: performance.schedule.capacity,
            tickets_issued: performance.tickets_issued,
            canceled_at: performance.canceled_at,
        }
    }
}

/// The API's ticket, with its token and the paths of its QR code. Its flat fields look like the
/// stored row's (`db/models.rs`) on purpose: this is the JSON contract, which must not move when
/// storage does.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub id: i64,
    pub performance_id: i64,
    pub holder_name: String,
    pub holder_email: String,
    pub price_minor: i64,
    pub currency: String,
    pub seat: Option<String>,
    pub section: Option<String>,
    pub status: String,
    pub generation: i32,
    pub issued_at: DateTime<Utc>,
    pub admitted_at: Option<DateTime<Utc>>,
    pub admitted_gate: Option<String>,
    /// The signed token the QR code carries.
    pub token: String,
    pub qr_png: String,
    pub qr_svg: String,
    /// The ticket this one replaced (after an exchange or a claimed transfer).
    pub replaces_ticket_id: Option<i64>,
    /// The language of its emails and pages: `en` or `de`.
    #[schema(example = "en")]
    pub locale: &'static str,
    /// Stored credit spent on this ticket when it was issued with `apply_credit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_applied_minor: Option<i64>,
}

impl TicketView {
    pub fn new(ticket: Ticket, token: String) -> Self {
        let (admitted_at, admitted_gate) = admitted(ticket.admission);
        TicketView {
            qr_png: format!("/api/v1/tickets/{}/qr.png", ticket.id),
            qr_svg: format!("/api/v1/tickets/{}/qr.svg", ticket.id),
            id: ticket.id.0,
            performance_id: ticket.performance_id.0,
            holder_name: ticket.holder_name,
            holder_email: ticket.holder_email,
            price_minor: ticket.price.minor,
            currency: ticket.price.currency.as_str().into(),
            seat: ticket.seat,
            section: ticket.section,
            status: ticket.status.as_str().into(),
            generation: ticket.generation,
            issued_at: ticket.issued_at,
            admitted_at,
            admitted_gate,
            replaces_ticket_id: ticket.replaces.map(|id| id.0),
            locale: ticket.locale.as_str(),
            credit_applied_minor: None,
            token,
        }
    }
}

/// An admission as the API shows it: its time and gate, each null while the ticket is unused.
pub fn admitted(admission: Option<Admission>) -> (Option<DateTime<Utc>>, Option<String>) {
    match admission {
        Some(admission) => (Some(admission.at), Some(admission.gate)),
        None => (None, None),
    }
}

impl From<TicketWithToken> for TicketView {
    fn from(t: TicketWithToken) -> Self {
        TicketView::new(t.ticket, t.token)
    }
}

impl From<IssuedTicket> for TicketView {
    fn from(t: IssuedTicket) -> Self {
        TicketView {
            credit_applied_minor: t.credit_applied,
            ..TicketView::new(t.ticket, t.token)
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmailView {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i32,
    pub message_id: String,
    pub last_error: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<OutboxEmail> for EmailView {
    fn from(email: OutboxEmail) -> Self {
        EmailView {
            id: email.id.0,
            kind: email.kind.to_string(),
            recipient: email.recipient,
            status: email.status.to_string(),
            attempts: email.attempts,
            message_id: email.message_id,
            last_error: email.last_error,
            queued_at: email.queued_at,
            next_attempt_at: email.next_attempt_at,
            sent_at: email.sent_at,
        }
    }
}
