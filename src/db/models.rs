//! Row types (what a `SELECT` returns) and insert forms (what an `INSERT` takes), private to
//! `db`. They carry storage shapes, except that statuses and kinds arrive as the domain's enums
//! and yes/no flags as `bool` (mapped in `stored.rs`). Each converts to or from its domain
//! record here (`record`, `from_record`): times become UTC instants, amounts `Money`, column
//! groups their value types; a stored value that does not parse is a storage error.

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
use crate::domain::{ScanOutcome, TicketStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub(in crate::db) struct ApiKeyRow {
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
pub(in crate::db) struct NewApiKeyRow<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub key_hash: &'a str,
    pub key_prefix: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
pub(in crate::db) struct SigningKeyRow {
    pub kid: String,
    pub private_key: String,
    pub public_key: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub(in crate::db) struct EventRow {
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
    pub barcode: String,
    pub rotation_seconds: i32,
    pub reveal_hours_before_doors: Option<i32>,
    pub venue_address: Option<String>,
    pub help_phone: Option<String>,
    pub help_email: Option<String>,
    pub no_show_credit_percent: Option<i32>,
    pub locale: String,
}

#[derive(Debug, Clone, Copy, Insertable)]
#[diesel(table_name = events)]
pub(in crate::db) struct NewEventRow<'a> {
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
    pub barcode: &'static str,
    pub rotation_seconds: i32,
    pub reveal_hours_before_doors: Option<i32>,
    pub venue_address: Option<&'a str>,
    pub help_phone: Option<&'a str>,
    pub help_email: Option<&'a str>,
    pub no_show_credit_percent: Option<i32>,
    pub locale: &'static str,
}

/// An update form for an event: the columns that are `Some` are set, the others left alone
/// (so two box offices changing different fields at once never undo each other's change).
/// `lobby_message: Some(None)` sets it to NULL.
#[derive(Debug, Clone, Copy, AsChangeset)]
#[diesel(table_name = events)]
pub(in crate::db) struct EventChangeset<'a> {
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
    pub barcode: Option<&'static str>,
    pub rotation_seconds: Option<i32>,
    pub reveal_hours_before_doors: Option<Option<i32>>,
    pub venue_address: Option<Option<&'a str>>,
    pub help_phone: Option<Option<&'a str>>,
    pub help_email: Option<Option<&'a str>>,
    pub no_show_credit_percent: Option<Option<i32>>,
    pub locale: Option<&'static str>,
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
            barcode,
            rotation_seconds,
            reveal_hours_before_doors,
            venue_address,
            help_phone,
            help_email,
            no_show_credit_percent,
            locale,
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
            && barcode.is_none()
            && rotation_seconds.is_none()
            && reveal_hours_before_doors.is_none()
            && venue_address.is_none()
            && help_phone.is_none()
            && help_email.is_none()
            && no_show_credit_percent.is_none()
            && locale.is_none()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = performances)]
pub(in crate::db) struct PerformanceRow {
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
    pub ends_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = performances)]
pub(in crate::db) struct NewPerformanceRow {
    pub event_id: EventId,
    pub starts_at: NaiveDateTime,
    pub doors_open_at: NaiveDateTime,
    pub capacity: i64,
    pub created_at: NaiveDateTime,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    pub ends_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = tickets)]
pub(in crate::db) struct TicketRow {
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
    pub locale: String,
}

/// `None` is stored as NULL (not DEFAULT), which lets a batch insert be one statement on SQLite.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = tickets, treat_none_as_default_value = false)]
pub(in crate::db) struct NewTicketRow {
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
    pub locale: &'static str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = arrival_events)]
pub(in crate::db) struct ArrivalEventRow {
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
    pub code_kind: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = arrival_events, treat_none_as_default_value = false)]
pub(in crate::db) struct NewArrivalEventRow<'a> {
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
    /// Which kind of code the scan presented (`static`, `rotating`, `paper`), when it named a
    /// ticket.
    pub code_kind: Option<&'static str>,
}

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub(in crate::db) struct OutboxRow {
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
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub(in crate::db) struct NewOutboxRow {
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
pub(in crate::db) struct CreditEntryRow {
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
pub(in crate::db) struct NewCreditEntryRow<'a> {
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
pub(in crate::db) struct TransferRow {
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
pub(in crate::db) struct NewTransferRow<'a> {
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
pub(in crate::db) struct PerformanceCancellationRow {
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
    pub started_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ticket_cancellations)]
pub(in crate::db) struct TicketCancellationRow {
    pub ticket_id: TicketId,
    pub reason: String,
    pub refund_minor: i64,
    pub currency: String,
    pub cancellation_id: Option<CancellationId>,
    pub canceled_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = link_opens)]
pub(in crate::db) struct LinkOpenRow {
    pub ticket_id: TicketId,
    pub purpose: LinkPurpose,
    pub opened_at: NaiveDateTime,
}

// The conversions between rows and the domain's records.

use chrono::{DateTime, Utc};
use diesel::result::Error as StorageError;

use super::stored::{stored_currency, stored_money};
use crate::domain::cancellation::{PerformanceCancellation, Progress, TicketCancellation};
use crate::domain::credit::{CreditEntry, NewCreditEntry};
use crate::domain::event::{
    reminder_offsets, Event, NewEvent, NewPerformance, Performance, PerformanceSchedule,
};
use crate::domain::link::LinkOpen;
use crate::domain::locale::Locale;
use crate::domain::offer::{NewOffer, Offer, Party};
use crate::domain::outbox::{NewEmail, OutboxEmail};
use crate::domain::policy::ChangePolicy;
use crate::domain::role::{ApiKey, NewApiKey};
use crate::domain::rotating::{Barcode, CodeKind};
use crate::domain::scan::{Arrival, Named, NewArrival};
use crate::domain::signing_key::SigningKey;
use crate::domain::ticket::{Admission, Ticket, TicketToStore};
use crate::domain::venue::{HelpPhone, VenueAddress, VenueDetails};
use crate::domain::EmailAddress;

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

impl ApiKeyRow {
    pub(in crate::db) fn record(self) -> ApiKey {
        ApiKey {
            id: self.id,
            name: self.name,
            role: self.role,
            key_hash: self.key_hash,
            key_prefix: self.key_prefix,
            created_at: utc(self.created_at),
            revoked_at: self.revoked_at.map(utc),
            expires_at: self.expires_at.map(utc),
            last_used_at: self.last_used_at.map(utc),
        }
    }
}

impl<'a> NewApiKeyRow<'a> {
    pub(in crate::db) fn from_record(key: &NewApiKey<'a>) -> Self {
        NewApiKeyRow {
            name: key.name,
            role: key.role.as_str(),
            key_hash: key.key_hash,
            key_prefix: key.key_prefix,
            created_at: key.created_at.naive_utc(),
            expires_at: key.expires_at.map(|at| at.naive_utc()),
        }
    }
}

impl SigningKeyRow {
    pub(in crate::db) fn record(self) -> SigningKey {
        SigningKey {
            kid: self.kid,
            private_key: self.private_key,
            public_key: self.public_key,
            created_at: utc(self.created_at),
            retired_at: self.retired_at.map(utc),
        }
    }

    pub(in crate::db) fn from_record(key: &SigningKey) -> Self {
        SigningKeyRow {
            kid: key.kid.clone(),
            private_key: key.private_key.clone(),
            public_key: key.public_key.clone(),
            created_at: key.created_at.naive_utc(),
            retired_at: key.retired_at.map(|at| at.naive_utc()),
        }
    }
}

impl EventRow {
    pub(in crate::db) fn record(self) -> Event {
        let policy = ChangePolicy {
            exchange_allowed: self.exchange_allowed,
            exchange_any_event: self.exchange_any_event,
            exchange_fee_minor: self.exchange_fee_minor,
            transfer_allowed: self.transfer_allowed,
            cutoff: chrono::Duration::minutes(self.change_cutoff_minutes.into()),
            offer_lifetime: chrono::Duration::hours(self.transfer_offer_hours.into()),
            refund_on_cancel: self.refund_on_cancel,
            // The column's CHECK keeps it within 1..=100.
            no_show_credit_percent: self
                .no_show_credit_percent
                .and_then(|p| u8::try_from(p).ok()),
        };
        Event {
            id: self.id,
            name: self.name,
            venue: self.venue,
            time_zone: self.time_zone,
            reminder_offsets_minutes: reminder_offsets(&self.reminder_offsets_minutes),
            created_at: utc(self.created_at),
            policy,
            lobby_message: self.lobby_message,
            barcode: stored_barcode(
                &self.barcode,
                self.rotation_seconds,
                self.reveal_hours_before_doors,
            ),
            venue_details: VenueDetails {
                address: self.venue_address.map(VenueAddress::from_stored),
                help_phone: self.help_phone.map(HelpPhone::from_stored),
                help_email: self.help_email.map(EmailAddress::from_stored),
            },
            locale: Locale::from_stored(&self.locale),
        }
    }
}

/// An event's barcode from its columns. The columns' CHECK constraints hold every value
/// `Barcode::parse` accepts, so the fallbacks only guard against a hand-edited database.
pub(in crate::db) fn stored_barcode(
    mode: &str,
    rotation_seconds: i32,
    reveal_hours: Option<i32>,
) -> Barcode {
    match mode {
        "rotating" => Barcode::Rotating {
            period_seconds: u32::try_from(rotation_seconds)
                .unwrap_or(crate::domain::rotating::DEFAULT_ROTATION_SECONDS),
            reveal_hours_before_doors: reveal_hours.and_then(|h| u32::try_from(h).ok()),
        },
        _ => Barcode::Static,
    }
}

impl<'a> NewEventRow<'a> {
    pub(in crate::db) fn from_record(event: &NewEvent<'a>) -> Self {
        let policy = event.policy;
        NewEventRow {
            name: event.name,
            venue: event.venue,
            time_zone: event.time_zone.name(),
            created_at: event.created_at.naive_utc(),
            reminder_offsets_minutes: event.reminder_offsets,
            exchange_allowed: policy.exchange_allowed,
            exchange_any_event: policy.exchange_any_event,
            exchange_fee_minor: policy.exchange_fee_minor,
            transfer_allowed: policy.transfer_allowed,
            change_cutoff_minutes: policy.cutoff.num_minutes() as i32,
            transfer_offer_hours: policy.offer_lifetime.num_hours() as i32,
            refund_on_cancel: policy.refund_on_cancel,
            lobby_message: event.lobby_message,
            barcode: event.barcode.mode(),
            rotation_seconds: event.barcode.period_seconds() as i32,
            reveal_hours_before_doors: event.barcode.reveal_hours_before_doors().map(|h| h as i32),
            venue_address: event
                .venue_details
                .address
                .as_ref()
                .map(VenueAddress::as_str),
            help_phone: event
                .venue_details
                .help_phone
                .as_ref()
                .map(HelpPhone::as_str),
            help_email: event
                .venue_details
                .help_email
                .as_ref()
                .map(EmailAddress::as_str),
            no_show_credit_percent: policy.no_show_credit_percent.map(i32::from),
            locale: event.locale.as_str(),
        }
    }
}

impl PerformanceRow {
    pub(in crate::db) fn record(self) -> QueryResult<Performance> {
        let price = match (self.price_minor, self.currency) {
            (Some(minor), Some(currency)) => Some(stored_money(minor, &currency)?),
            (None, None) => None,
            _ => {
                return Err(StorageError::DeserializationError(
                    format!("performance {}: a price without a currency", self.id).into(),
                ))
            }
        };
        Ok(Performance {
            id: self.id,
            event_id: self.event_id,
            schedule: PerformanceSchedule {
                starts_at: utc(self.starts_at),
                doors_open_at: utc(self.doors_open_at),
                ends_at: self.ends_at.map(utc),
                capacity: self.capacity,
            },
            tickets_issued: self.tickets_issued,
            created_at: utc(self.created_at),
            price,
            canceled_at: self.canceled_at.map(utc),
        })
    }
}

impl NewPerformanceRow {
    pub(in crate::db) fn from_record(performance: &NewPerformance) -> Self {
        let schedule = performance.schedule;
        NewPerformanceRow {
            event_id: performance.event_id,
            starts_at: schedule.starts_at.naive_utc(),
            doors_open_at: schedule.doors_open_at.naive_utc(),
            capacity: schedule.capacity,
            created_at: performance.created_at.naive_utc(),
            price_minor: performance.price.map(|p| p.minor),
            currency: performance.price.map(|p| p.currency.as_str().to_string()),
            ends_at: schedule.ends_at.map(|at| at.naive_utc()),
        }
    }
}

impl TicketRow {
    pub(in crate::db) fn record(self) -> QueryResult<Ticket> {
        let admission = self.admitted_at.map(|at| Admission {
            at: utc(at),
            gate: self.admitted_gate.unwrap_or_default(),
            device: self.admitted_device.unwrap_or_default(),
        });
        Ok(Ticket {
            price: stored_money(self.price_minor, &self.currency)?,
            id: self.id,
            performance_id: self.performance_id,
            holder_name: self.holder_name,
            holder_email: self.holder_email,
            seat: self.seat,
            section: self.section,
            status: self.status,
            generation: self.generation,
            external_ref: self.external_ref,
            issued_at: utc(self.issued_at),
            admission,
            replaces: self.replaces_ticket_id,
            locale: Locale::from_stored(&self.locale),
        })
    }
}

impl NewTicketRow {
    pub(in crate::db) fn from_record(ticket: &TicketToStore) -> Self {
        NewTicketRow {
            performance_id: ticket.performance_id,
            holder_name: ticket.holder_name.clone(),
            holder_email: ticket.holder_email.clone(),
            price_minor: ticket.price.minor,
            currency: ticket.price.currency.as_str().to_string(),
            seat: ticket.seat.clone(),
            section: ticket.section.clone(),
            external_ref: ticket.external_ref.clone(),
            issued_at: ticket.issued_at.naive_utc(),
            generation: ticket.generation,
            replaces_ticket_id: ticket.replaces,
            locale: ticket.locale.as_str(),
        }
    }
}

impl ArrivalEventRow {
    pub(in crate::db) fn record(self) -> Arrival {
        // Written together, from the token's claims (all three, or none).
        let named = match (self.ticket_id, self.performance_id, self.token_generation) {
            (Some(ticket_id), Some(performance_id), Some(generation)) => Some(Named {
                ticket_id,
                performance_id,
                generation,
            }),
            _ => None,
        };
        Arrival {
            named,
            gate: self.gate,
            device: self.device,
            outcome: self.outcome,
            scanned_at: utc(self.scanned_at),
            uploaded_at: self.uploaded_at.map(utc),
            device_refusal: self.device_refusal,
            code_kind: self.code_kind.as_deref().and_then(CodeKind::parse),
        }
    }
}

impl<'a> NewArrivalEventRow<'a> {
    pub(in crate::db) fn from_record(arrival: &NewArrival<'a>) -> Self {
        NewArrivalEventRow {
            ticket_id: arrival.ticket_id,
            performance_id: arrival.performance_id,
            token_generation: arrival.token_generation,
            gate: arrival.gate,
            device: arrival.device,
            outcome: arrival.outcome.code(),
            scanned_at: arrival.scanned_at.naive_utc(),
            upload_key: arrival.upload.map(|u| u.key),
            uploaded_at: arrival.upload.map(|u| u.at.naive_utc()),
            device_refusal: arrival.device_refusal,
            code_kind: arrival.code_kind.map(CodeKind::as_str),
        }
    }
}

impl OutboxRow {
    pub(in crate::db) fn record(self) -> OutboxEmail {
        OutboxEmail {
            id: self.id,
            kind: self.kind,
            dedupe_key: self.dedupe_key,
            ticket_id: self.ticket_id,
            detail: self.detail,
            recipient: self.recipient,
            message_id: self.message_id,
            status: self.status,
            attempts: self.attempts,
            next_attempt_at: utc(self.next_attempt_at),
            locked_until: self.locked_until.map(utc),
            last_error: self.last_error,
            queued_at: utc(self.created_at),
            sent_at: self.sent_at.map(utc),
        }
    }
}

impl NewOutboxRow {
    pub(in crate::db) fn from_record(email: &NewEmail) -> Self {
        NewOutboxRow {
            kind: email.kind,
            dedupe_key: email.dedupe_key.clone(),
            ticket_id: email.ticket_id,
            detail: email.detail.clone(),
            recipient: email.recipient.clone(),
            message_id: email.message_id.clone(),
            next_attempt_at: email.queued_at.naive_utc(),
            created_at: email.queued_at.naive_utc(),
        }
    }
}

impl CreditEntryRow {
    pub(in crate::db) fn record(self) -> QueryResult<CreditEntry> {
        Ok(CreditEntry {
            id: self.id,
            currency: stored_currency(&self.currency)?,
            patron_email: self.patron_email,
            amount_minor: self.amount_minor,
            reason: self.reason,
            ticket_id: self.ticket_id,
            at: utc(self.created_at),
        })
    }
}

impl<'a> NewCreditEntryRow<'a> {
    pub(in crate::db) fn from_record(entry: &'a NewCreditEntry<'a>) -> Self {
        NewCreditEntryRow {
            patron_email: entry.account.email,
            currency: entry.account.currency.as_str(),
            amount_minor: entry.amount_minor,
            reason: entry.reason.as_str(),
            ticket_id: entry.ticket_id,
            created_at: entry.at.naive_utc(),
        }
    }
}

impl TransferRow {
    pub(in crate::db) fn record(self) -> Offer {
        Offer {
            id: self.id,
            ticket_id: self.ticket_id,
            generation: self.generation,
            from: Party {
                name: self.from_name,
                email: self.from_email,
            },
            to: Party {
                name: self.to_name,
                email: self.to_email,
            },
            status: self.status,
            offered_at: utc(self.offered_at),
            expires_at: utc(self.expires_at),
            resolved_at: self.resolved_at.map(utc),
            claimed_ticket_id: self.claimed_ticket_id,
        }
    }
}

impl<'a> NewTransferRow<'a> {
    pub(in crate::db) fn from_record(offer: &'a NewOffer) -> Self {
        NewTransferRow {
            ticket_id: offer.ticket_id,
            generation: offer.generation,
            from_name: &offer.from.name,
            from_email: &offer.from.email,
            to_name: &offer.to.name,
            to_email: &offer.to.email,
            offered_at: offer.offered_at.naive_utc(),
            expires_at: offer.expires_at.naive_utc(),
        }
    }
}

impl PerformanceCancellationRow {
    pub(in crate::db) fn record(self) -> PerformanceCancellation {
        PerformanceCancellation {
            id: self.id,
            performance_id: self.performance_id,
            reason: self.reason,
            refund_to_credit: self.refund_to_credit,
            status: self.status,
            progress: Progress {
                total: self.total,
                canceled: self.canceled,
            },
            started_at: utc(self.started_at),
            updated_at: utc(self.updated_at),
            finished_at: self.finished_at.map(utc),
            started_by: self.started_by,
        }
    }
}

impl TicketCancellationRow {
    pub(in crate::db) fn record(self) -> QueryResult<TicketCancellation> {
        Ok(TicketCancellation {
            currency: stored_currency(&self.currency)?,
            ticket_id: self.ticket_id,
            reason: self.reason,
            refund_minor: self.refund_minor,
            cancellation_id: self.cancellation_id,
            canceled_at: utc(self.canceled_at),
        })
    }

    pub(in crate::db) fn from_record(cancellation: &TicketCancellation) -> Self {
        TicketCancellationRow {
            ticket_id: cancellation.ticket_id,
            reason: cancellation.reason.clone(),
            refund_minor: cancellation.refund_minor,
            currency: cancellation.currency.as_str().to_string(),
            cancellation_id: cancellation.cancellation_id,
            canceled_at: cancellation.canceled_at.naive_utc(),
        }
    }
}

impl LinkOpenRow {
    pub(in crate::db) fn record(self) -> LinkOpen {
        LinkOpen {
            ticket_id: self.ticket_id,
            purpose: self.purpose,
            opened_at: utc(self.opened_at),
        }
    }
}
