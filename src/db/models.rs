//! Row types (what a `SELECT` returns) and insert forms (what an `INSERT` takes).
//! They carry storage shapes, except that statuses and kinds arrive as the domain's enums and
//! yes/no flags as `bool` (mapped in `stored.rs`); the domain parses the rest into its own types
//! where rules apply.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    api_keys, arrival_events, credit_ledger, events, outbox, performances, signing_keys, tickets,
    transfers,
};
use super::schema::{link_opens, performance_cancellations, ticket_cancellations};
use super::stored::StoredFlag;
use crate::domain::cancellation::CancellationStatus;
use crate::domain::credit::CreditReason;
use crate::domain::ids::{
    ApiKeyId, CancellationId, EmailId, EventId, PerformanceId, TicketId, TransferId,
};
use crate::domain::link::LinkPurpose;
use crate::domain::offer::OfferStatus;
use crate::domain::scan::TicketAtDoor;
use crate::domain::{ScanOutcome, TicketStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub name: String,
    pub role: String,
    pub key_hash: String,
    pub key_prefix: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKeyRow<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub key_hash: &'a str,
    pub key_prefix: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub struct SigningKeyRow {
    pub kid: String,
    pub private_key: String,
    pub public_key: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: EventId,
    pub name: String,
    pub venue: String,
    pub time_zone: String,
    pub created_at: NaiveDateTime,
    pub reminder_offsets_minutes: String,
    #[diesel(deserialize_as = StoredFlag)]
    pub exchange_allowed: bool,
    #[diesel(deserialize_as = StoredFlag)]
    pub exchange_any_event: bool,
    pub exchange_fee_minor: i64,
    #[diesel(deserialize_as = StoredFlag)]
    pub transfer_allowed: bool,
    pub change_cutoff_minutes: i32,
    pub transfer_offer_hours: i32,
    #[diesel(deserialize_as = StoredFlag)]
    pub refund_on_cancel: bool,
    pub lobby_message: Option<String>,
}

#[derive(Debug, Clone, Copy, Insertable)]
#[diesel(table_name = events)]
pub struct NewEventRow<'a> {
    pub name: &'a str,
    pub venue: &'a str,
    pub time_zone: &'a str,
    pub created_at: NaiveDateTime,
    pub reminder_offsets_minutes: &'a str,
    #[diesel(serialize_as = StoredFlag)]
    pub exchange_allowed: bool,
    #[diesel(serialize_as = StoredFlag)]
    pub exchange_any_event: bool,
    pub exchange_fee_minor: i64,
    #[diesel(serialize_as = StoredFlag)]
    pub transfer_allowed: bool,
    pub change_cutoff_minutes: i32,
    pub transfer_offer_hours: i32,
    #[diesel(serialize_as = StoredFlag)]
    pub refund_on_cancel: bool,
    pub lobby_message: Option<&'a str>,
}

/// An update form for an event: the columns that are `Some` are set, the others left alone
/// (so two box offices changing different fields at once never undo each other's change).
/// `lobby_message: Some(None)` sets it to NULL.
#[derive(Debug, Clone, Copy, AsChangeset)]
#[diesel(table_name = events)]
pub struct EventChangeset<'a> {
    pub name: Option<&'a str>,
    pub venue: Option<&'a str>,
    #[diesel(serialize_as = StoredFlag)]
    pub exchange_allowed: Option<bool>,
    #[diesel(serialize_as = StoredFlag)]
    pub exchange_any_event: Option<bool>,
    pub exchange_fee_minor: Option<i64>,
    #[diesel(serialize_as = StoredFlag)]
    pub transfer_allowed: Option<bool>,
    pub change_cutoff_minutes: Option<i32>,
    pub transfer_offer_hours: Option<i32>,
    #[diesel(serialize_as = StoredFlag)]
    pub refund_on_cancel: Option<bool>,
    pub lobby_message: Option<Option<&'a str>>,
}

impl EventChangeset<'_> {
    /// Sets no column (diesel cannot build an `UPDATE` of nothing).
    pub fn is_empty(&self) -> bool {
        let EventChangeset {
            name,
            venue,
            exchange_allowed,
            exchange_any_event,
            exchange_fee_minor,
            transfer_allowed,
            change_cutoff_minutes,
            transfer_offer_hours,
            refund_on_cancel,
            lobby_message,
        } = self;
        name.is_none()
            && venue.is_none()
            && exchange_allowed.is_none()
            && exchange_any_event.is_none()
            && exchange_fee_minor.is_none()
            && transfer_allowed.is_none()
            && change_cutoff_minutes.is_none()
            && transfer_offer_hours.is_none()
            && refund_on_cancel.is_none()
            && lobby_message.is_none()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = performances)]
pub struct PerformanceRow {
    pub id: PerformanceId,
    pub event_id: EventId,
    pub starts_at: NaiveDateTime,
    pub doors_open_at: NaiveDateTime,
    pub capacity: i64,
    pub tickets_issued: i64,
    pub created_at: NaiveDateTime,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    pub canceled_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = performances)]
pub struct NewPerformanceRow {
    pub event_id: EventId,
    pub starts_at: NaiveDateTime,
    pub doors_open_at: NaiveDateTime,
    pub capacity: i64,
    pub created_at: NaiveDateTime,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tickets)]
pub struct TicketRow {
    pub id: TicketId,
    pub performance_id: PerformanceId,
    pub holder_name: String,
    pub holder_email: String,
    pub price_minor: i64,
    pub currency: String,
    pub seat: Option<String>,
    pub section: Option<String>,
    pub status: TicketStatus,
    pub generation: i32,
    pub external_ref: Option<String>,
    pub issued_at: NaiveDateTime,
    pub admitted_at: Option<NaiveDateTime>,
    pub admitted_gate: Option<String>,
    pub admitted_device: Option<String>,
    pub replaces_ticket_id: Option<TicketId>,
}

impl TicketRow {
    /// What the door's rules need of the ticket.
    pub fn at_door(&self) -> TicketAtDoor {
        TicketAtDoor {
            performance_id: self.performance_id,
            status: self.status,
            generation: self.generation,
            admitted_at: self.admitted_at.map(|at| at.and_utc()),
        }
    }
}

/// `None` is stored as NULL (not DEFAULT), which lets a batch insert be one statement on SQLite.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tickets, treat_none_as_default_value = false)]
pub struct NewTicketRow {
    pub performance_id: PerformanceId,
    pub holder_name: String,
    pub holder_email: String,
    pub price_minor: i64,
    pub currency: String,
    pub seat: Option<String>,
    pub section: Option<String>,
    pub external_ref: Option<String>,
    pub issued_at: NaiveDateTime,
    pub generation: i32,
    pub replaces_ticket_id: Option<TicketId>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = arrival_events)]
pub struct ArrivalEventRow {
    pub id: i64,
    pub ticket_id: Option<TicketId>,
    pub performance_id: Option<PerformanceId>,
    pub token_generation: Option<i32>,
    pub gate: String,
    pub device: String,
    pub outcome: ScanOutcome,
    pub scanned_at: NaiveDateTime,
    /// For a scan made offline: when its upload reached the server.
    pub uploaded_at: Option<NaiveDateTime>,
    /// The reason an offline scanner gave for refusing the patron (its own code).
    pub device_refusal: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = arrival_events, treat_none_as_default_value = false)]
pub struct NewArrivalEventRow<'a> {
    pub ticket_id: Option<TicketId>,
    pub performance_id: Option<PerformanceId>,
    pub token_generation: Option<i32>,
    pub gate: &'a str,
    pub device: &'a str,
    /// A [`ScanOutcome`]'s code.
    pub outcome: &'static str,
    /// For a scan made offline, the device's clock.
    pub scanned_at: NaiveDateTime,
    /// Set for a scan made offline and uploaded later: its idempotency key, and when the
    /// upload reached us.
    pub upload_key: Option<&'a str>,
    pub uploaded_at: Option<NaiveDateTime>,
    /// For a scan the device refused offline, the reason it gave (its own short code, e.g.
    /// `no_bundle`); `None` for a scan made online and for an offline admission. Bound as NULL
    /// then, not left out, so the statement stays the same and prepared once.
    pub device_refusal: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: EmailId,
    pub kind: crate::domain::outbox::EmailKind,
    pub dedupe_key: String,
    pub ticket_id: Option<TicketId>,
    pub detail: Option<String>,
    pub recipient: String,
    pub message_id: String,
    pub status: crate::domain::outbox::EmailStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub claim_token: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct NewOutboxRow {
    pub kind: crate::domain::outbox::EmailKind,
    pub dedupe_key: String,
    pub ticket_id: Option<TicketId>,
    pub detail: Option<String>,
    pub recipient: String,
    pub message_id: String,
    pub next_attempt_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = credit_ledger)]
pub struct CreditEntryRow {
    pub id: i64,
    pub patron_email: String,
    pub currency: String,
    pub amount_minor: i64,
    pub reason: CreditReason,
    pub ticket_id: Option<TicketId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = credit_ledger, treat_none_as_default_value = false)]
pub struct NewCreditEntryRow<'a> {
    pub patron_email: &'a str,
    pub currency: &'a str,
    pub amount_minor: i64,
    /// A [`CreditReason`]'s name.
    pub reason: &'static str,
    pub ticket_id: Option<TicketId>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = transfers)]
pub struct TransferRow {
    pub id: TransferId,
    pub ticket_id: TicketId,
    pub generation: i32,
    pub from_name: String,
    pub from_email: String,
    pub to_name: String,
    pub to_email: String,
    pub status: OfferStatus,
    pub offered_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
    pub claimed_ticket_id: Option<TicketId>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = transfers)]
pub struct NewTransferRow<'a> {
    pub ticket_id: TicketId,
    pub generation: i32,
    pub from_name: &'a str,
    pub from_email: &'a str,
    pub to_name: &'a str,
    pub to_email: &'a str,
    pub offered_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = performance_cancellations)]
pub struct PerformanceCancellationRow {
    pub id: CancellationId,
    pub performance_id: PerformanceId,
    pub reason: String,
    #[diesel(deserialize_as = StoredFlag)]
    pub refund_to_credit: bool,
    pub status: CancellationStatus,
    pub total: i64,
    pub canceled: i64,
    pub started_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ticket_cancellations)]
pub struct TicketCancellationRow {
    pub ticket_id: TicketId,
    pub reason: String,
    pub refund_minor: i64,
    pub currency: String,
    pub cancellation_id: Option<CancellationId>,
    pub canceled_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = link_opens)]
pub struct LinkOpenRow {
    pub id: i64,
    pub ticket_id: TicketId,
    pub purpose: LinkPurpose,
    pub opened_at: NaiveDateTime,
}
