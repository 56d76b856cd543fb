//! What the API answers with: response shapes, separate from storage rows. A view repeats
//! many of its row's fields on purpose: the view is the API's published contract (OpenAPI),
//! the row follows the schema, and a column added is no API field until a view says so.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::models::{EventRow, PerformanceRow, TicketRow};
use crate::domain::policy::ChangePolicy;
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
        }
    }
}

impl From<EventRow> for EventView {
    fn from(row: EventRow) -> Self {
        EventView {
            policy: crate::service::events::change_policy(&row).into(),
            id: row.id.0,
            name: row.name,
            venue: row.venue,
            time_zone: row.time_zone,
            reminder_offsets_minutes: crate::domain::event::reminder_offsets(
                &row.reminder_offsets_minutes,
            ),
            created_at: row.created_at.and_utc(),
            lobby_message: row.lobby_message,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PerformanceView {
    pub id: i64,
    pub event_id: i64,
    pub starts_at: DateTime<Utc>,
    pub doors_open_at: DateTime<Utc>,
    pub capacity: i64,
    pub tickets_issued: i64,
    pub available: i64,
    /// Set when the performance was canceled.
    pub canceled_at: Option<DateTime<Utc>>,
}

impl From<PerformanceRow> for PerformanceView {
    fn from(row: PerformanceRow) -> Self {
        PerformanceView {
            id: row.id.0,
            event_id: row.event_id.0,
            starts_at: row.starts_at.and_utc(),
            doors_open_at: row.doors_open_at.and_utc(),
            capacity: row.capacity,
            tickets_issued: row.tickets_issued,
            available: (row.capacity - row.tickets_issued).max(0),
            canceled_at: row.canceled_at.map(|t| t.and_utc()),
        }
    }
}

/// The API's ticket: `TicketRow`'s fields repeated as the contract (see the module's doc).
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
    /// Stored credit spent on this ticket when it was issued with `apply_credit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_applied_minor: Option<i64>,
}

impl TicketView {
    pub fn new(row: TicketRow, token: String) -> Self {
        TicketView {
            qr_png: format!("/api/v1/tickets/{}/qr.png", row.id),
            qr_svg: format!("/api/v1/tickets/{}/qr.svg", row.id),
            id: row.id.0,
            performance_id: row.performance_id.0,
            holder_name: row.holder_name,
            holder_email: row.holder_email,
            price_minor: row.price_minor,
            currency: row.currency,
            seat: row.seat,
            section: row.section,
            status: row.status.as_str().into(),
            generation: row.generation,
            issued_at: row.issued_at.and_utc(),
            admitted_at: row.admitted_at.map(|t| t.and_utc()),
            admitted_gate: row.admitted_gate,
            replaces_ticket_id: row.replaces_ticket_id.map(|id| id.0),
            credit_applied_minor: None,
            token,
        }
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

impl From<crate::db::models::OutboxRow> for EmailView {
    fn from(row: crate::db::models::OutboxRow) -> Self {
        EmailView {
            id: row.id.0,
            kind: row.kind.to_string(),
            recipient: row.recipient,
            status: row.status.to_string(),
            attempts: row.attempts,
            message_id: row.message_id,
            last_error: row.last_error,
            queued_at: row.created_at.and_utc(),
            next_attempt_at: row.next_attempt_at.and_utc(),
            sent_at: row.sent_at.map(|t| t.and_utc()),
        }
    }
}
