use actix_web::{web, HttpResponse};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;

use super::views::EventView;
use crate::domain::ids::EventId;
use crate::domain::lobby::LobbyMessage;
use crate::domain::locale::Locale;
use crate::domain::message_rule::parse_no_show_credit_percent;
use crate::domain::policy::{self, ChangePolicy, PolicyChanges};
use crate::domain::rotating::Barcode;
use crate::domain::venue::{HelpPhone, VenueAddress, VenueDetails};
use crate::domain::{EmailAddress, Invalid};
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::{events, Encore};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    #[schema(schema_with = super::schema::label_200, example = "Winter Gala")]
    name: String,
    #[schema(schema_with = super::schema::label_200, example = "Main Hall")]
    venue: String,
    /// An IANA time zone.
    #[schema(example = "Europe/Paris")]
    time_zone: String,
    /// Minutes before each performance at which reminders are emailed (default 1440 and 120).
    #[serde(default)]
    #[schema(max_items = 5)]
    reminder_offsets_minutes: Option<Vec<i64>>,
    /// What patrons may change, and until when (each has a default).
    #[serde(default)]
    policy: PolicyInput,
    /// Emailed to each holder on admission; placeholders such as `{holder_name}` are filled in.
    #[serde(default)]
    lobby_message: Option<String>,
    /// `static` (default: the signed QR of emails and the ticket page) or `rotating` (the ticket
    /// page and wallet passes show a TOTP code that changes every `rotation_seconds`; static
    /// codes are then refused at the door as `static_code_not_accepted`, except paper codes
    /// the box office prints).
    #[serde(default)]
    #[schema(example = "rotating")]
    barcode: Option<BarcodeMode>,
    /// The rotation period of a rotating barcode, 5 to 300 seconds (default 15).
    #[serde(default)]
    #[schema(minimum = 5, maximum = 300)]
    rotation_seconds: Option<i64>,
    /// A rotating code appears only this many hours before doors open (0 to 720); left out,
    /// from the start.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 720)]
    reveal_hours_before_doors: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = super::schema::venue_address)]
    venue_address: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::help_phone)]
    help_phone: Option<String>,
    #[serde(default)]
    #[schema(schema_with = super::schema::help_email)]
    help_email: Option<String>,
    /// The language of the event's tickets (default `en`), unless one is given on issue.
    #[serde(default)]
    #[schema(schema_with = super::schema::locale)]
    locale: Option<String>,
}

/// How an event's tickets show their code at the door.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BarcodeMode {
    Static,
    Rotating,
}

impl BarcodeMode {
    fn as_str(self) -> &'static str {
        match self {
            BarcodeMode::Static => "static",
            BarcodeMode::Rotating => "rotating",
        }
    }
}

/// An event's change policy as the API takes it; every field has the default shown.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyInput {
    exchange_allowed: bool,
    exchange_any_event: bool,
    #[schema(minimum = 0, maximum = 100_000_000_000_i64)]
    exchange_fee_minor: i64,
    transfer_allowed: bool,
    #[schema(minimum = 0, maximum = 525_600)]
    change_cutoff_minutes: i64,
    #[schema(minimum = 1, maximum = 8_760)]
    transfer_offer_hours: i64,
    /// Credit holders the ticket price when a performance is canceled.
    refund_on_cancel: bool,
    /// After the show, a holder never admitted may turn the ticket into this share (percent)
    /// of its price as stored credit, from the no-show message's link. `null`: not offered.
    #[schema(minimum = 1, maximum = 100)]
    no_show_credit_percent: Option<i64>,
}

impl Default for PolicyInput {
    fn default() -> Self {
        let d = ChangePolicy::default();
        PolicyInput {
            exchange_allowed: d.exchange_allowed,
            exchange_any_event: d.exchange_any_event,
            exchange_fee_minor: d.exchange_fee_minor,
            transfer_allowed: d.transfer_allowed,
            change_cutoff_minutes: d.cutoff.num_minutes(),
            transfer_offer_hours: d.offer_lifetime.num_hours(),
            refund_on_cancel: d.refund_on_cancel,
            no_show_credit_percent: None,
        }
    }
}

/// `POST /api/v1/events` (box_office)
#[utoipa::path(post, path = "/api/v1/events", request_body = CreateEvent,
    responses((status = 201, body = EventView), (status = 403)))]
pub async fn create(
    encore: web::Data<Encore>,
    body: web::Json<CreateEvent>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let reminders = body
        .reminder_offsets_minutes
        .unwrap_or_else(|| events::DEFAULT_REMINDER_OFFSETS.to_vec());
    let p = &body.policy;
    let policy = ChangePolicy {
        refund_on_cancel: p.refund_on_cancel,
        no_show_credit_percent: p
            .no_show_credit_percent
            .map(parse_no_show_credit_percent)
            .transpose()?,
        ..ChangePolicy::parse(
            p.exchange_allowed,
            p.exchange_any_event,
            p.exchange_fee_minor,
            p.transfer_allowed,
            p.change_cutoff_minutes,
            p.transfer_offer_hours,
        )?
    };
    let lobby_message = body
        .lobby_message
        .as_deref()
        .map(|m| LobbyMessage::parse("lobby_message", m))
        .transpose()?;
    let barcode = Barcode::parse(
        body.barcode.unwrap_or(BarcodeMode::Static).as_str(),
        body.rotation_seconds,
        body.reveal_hours_before_doors,
    )?;
    let venue_details = VenueDetails::parse(
        body.venue_address.as_deref(),
        body.help_phone.as_deref(),
        body.help_email.as_deref(),
    )?;
    let locale = body
        .locale
        .as_deref()
        .map(|l| Locale::parse("locale", l))
        .transpose()?
        .unwrap_or_default();
    let event = run_blocking(move || {
        events::create_event(
            &encore,
            &body.name,
            &body.venue,
            &body.time_zone,
            &reminders,
            events::EventRules {
                policy: &policy,
                lobby_message: lobby_message.as_ref(),
                barcode,
                venue_details: &venue_details,
                locale,
            },
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(EventView::from(event)))
}

/// A change to an event, as a JSON merge patch (RFC 7396): each field given replaces the
/// event's own, each left out stays as it is; `{}` changes nothing. Checked as on creation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEvent {
    #[serde(default, deserialize_with = "given")]
    #[schema(schema_with = super::schema::label_200, example = "Winter Gala")]
    name: Option<String>,
    #[serde(default, deserialize_with = "given")]
    #[schema(schema_with = super::schema::label_200, example = "Main Hall")]
    venue: Option<String>,
    /// A new lobby message (placeholders as on creation), or `null` to remove it. Lobby emails
    /// still queued are sent with the message as it is when they go (none once it is removed);
    /// a message added greets the admissions from now on.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<String>, example = "Welcome {holder_name}: the bar is on the left")]
    lobby_message: Option<Option<String>>,
    /// The policy fields to change; those left out stay as they are. A change applies from the
    /// next exchange or transfer; open transfer offers keep their expiry.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = PolicyPatch)]
    policy: Option<PolicyPatch>,
    /// A new barcode, set whole: `rotation_seconds` and `reveal_hours_before_doors` are read
    /// with it (each with its default when left out) and cannot be given without it. Applies
    /// from the next scan and the next load of a ticket page.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = BarcodeMode)]
    barcode: Option<BarcodeMode>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = i64, minimum = 5, maximum = 300)]
    rotation_seconds: Option<i64>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 720)]
    reveal_hours_before_doors: Option<Option<i64>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(schema_with = super::schema::venue_address)]
    venue_address: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(schema_with = super::schema::help_phone)]
    help_phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    #[schema(schema_with = super::schema::help_email)]
    help_email: Option<Option<String>>,
    /// The language of the tickets issued from now on; those issued keep theirs.
    #[serde(default, deserialize_with = "given")]
    #[schema(schema_with = super::schema::locale)]
    locale: Option<String>,
    // Not changeable, and so not in the schema: read only to be refused with the reason
    // (422 naming the field) rather than as an unknown field.
    #[serde(default, deserialize_with = "given")]
    #[schema(ignore)]
    time_zone: Option<IgnoredAny>,
    #[serde(default, deserialize_with = "given")]
    #[schema(ignore)]
    reminder_offsets_minutes: Option<IgnoredAny>,
}

/// Some of an event's policy fields, each with the range it has on creation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyPatch {
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = bool)]
    exchange_allowed: Option<bool>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = bool)]
    exchange_any_event: Option<bool>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = i64, minimum = 0, maximum = 100_000_000_000_i64)]
    exchange_fee_minor: Option<i64>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = bool)]
    transfer_allowed: Option<bool>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = i64, minimum = 0, maximum = 525_600)]
    change_cutoff_minutes: Option<i64>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = i64, minimum = 1, maximum = 8_760)]
    transfer_offer_hours: Option<i64>,
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = bool)]
    refund_on_cancel: Option<bool>,
    /// `null` turns the no-show credit off.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 100)]
    no_show_credit_percent: Option<Option<i64>>,
}

/// A field that is there, whatever its value: `null` too, for `Option<Option<T>>` (merge patch
/// "remove") or `Option<IgnoredAny>`. A field whose type is not an `Option` refuses `null` as
/// the wrong type, so only a field that can be removed is ever removed.
fn given<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl UpdateEvent {
    /// Parses the patch with create's rules (the name and venue are checked by the service).
    fn into_changes(self) -> Result<events::EventChanges, Invalid> {
        if self.time_zone.is_some() {
            return Err(Invalid::new(
                "time_zone",
                "cannot be changed once the event exists: its performances were set, and are \
                 shown to patrons, in this zone",
            ));
        }
        if self.reminder_offsets_minutes.is_some() {
            return Err(Invalid::new(
                "reminder_offsets_minutes",
                "cannot be changed once the event exists: its performances' reminders are \
                 scheduled, and recorded as sent, by these offsets",
            ));
        }
        let lobby_message = self
            .lobby_message
            .map(|m| {
                m.map(|m| LobbyMessage::parse("lobby_message", &m))
                    .transpose()
            })
            .transpose()?;
        let barcode = match self.barcode {
            Some(mode) => Some(Barcode::parse(
                mode.as_str(),
                self.rotation_seconds,
                self.reveal_hours_before_doors.flatten(),
            )?),
            None if self.rotation_seconds.is_some() => {
                return Err(Invalid::new(
                    "rotation_seconds",
                    "is set with the barcode: give \"barcode\" too",
                ))
            }
            None if self.reveal_hours_before_doors.is_some() => {
                return Err(Invalid::new(
                    "reveal_hours_before_doors",
                    "is set with the barcode: give \"barcode\" too",
                ))
            }
            None => None,
        };
        // Each given: a value is checked as on creation, `null` removes it.
        let venue_address = self
            .venue_address
            .map(|a| {
                a.map(|a| VenueAddress::parse("venue_address", &a))
                    .transpose()
            })
            .transpose()?;
        let help_phone = self
            .help_phone
            .map(|p| p.map(|p| HelpPhone::parse("help_phone", &p)).transpose())
            .transpose()?;
        let help_email = self
            .help_email
            .map(|e| e.map(|e| EmailAddress::parse("help_email", &e)).transpose())
            .transpose()?;
        let p = self.policy.unwrap_or_default();
        let policy = PolicyChanges {
            exchange_allowed: p.exchange_allowed,
            exchange_any_event: p.exchange_any_event,
            exchange_fee_minor: p
                .exchange_fee_minor
                .map(policy::parse_exchange_fee)
                .transpose()?,
            transfer_allowed: p.transfer_allowed,
            cutoff: p
                .change_cutoff_minutes
                .map(policy::parse_cutoff)
                .transpose()?,
            offer_lifetime: p
                .transfer_offer_hours
                .map(policy::parse_offer_lifetime)
                .transpose()?,
            refund_on_cancel: p.refund_on_cancel,
            no_show_credit_percent: p
                .no_show_credit_percent
                .map(|p| p.map(parse_no_show_credit_percent).transpose())
                .transpose()?,
        };
        Ok(events::EventChanges {
            name: self.name,
            venue: self.venue,
            lobby_message,
            policy,
            barcode,
            venue_address,
            help_phone,
            help_email,
            locale: self
                .locale
                .map(|l| Locale::parse("locale", &l))
                .transpose()?,
        })
    }
}

/// `PATCH /api/v1/events/{id}` (box_office)
///
/// Changes an event's name, venue, lobby message, policy, barcode, venue address or help
/// contact, as a JSON merge patch: fields left out stay as they are, `"lobby_message": null`
/// removes the message (and `null` the address, help phone or help email), `{}` changes
/// nothing.
/// Its `time_zone` and `reminder_offsets_minutes` cannot be changed (422 naming the field): the
/// event's performances and their reminders were scheduled by them. Emails not yet sent are
/// rendered with the event as it is when they go; a lobby message added greets the next
/// admissions; a policy change applies from the next exchange or transfer.
#[utoipa::path(patch, path = "/api/v1/events/{id}", params(("id" = i64, Path, description = "The event's id")),
    request_body(content((UpdateEvent = "application/json"), (UpdateEvent = "application/merge-patch+json"))),
    responses((status = 200, body = EventView, description = "The event as it now is"),
        (status = 403), (status = 404),
        (status = 422, description = "A field is not acceptable (or cannot be changed); \
            `field` names it.")))]
pub async fn update(
    encore: web::Data<Encore>,
    id: web::Path<EventId>,
    body: web::Json<UpdateEvent>,
) -> Result<HttpResponse, ApiError> {
    let changes = body.into_inner().into_changes()?;
    let id = id.into_inner();
    let event = run_blocking(move || events::update_event(&encore, id, &changes)).await?;
    Ok(HttpResponse::Ok().json(EventView::from(event)))
}

/// `GET /api/v1/events` (any staff)
#[utoipa::path(get, path = "/api/v1/events", responses((status = 200, body = Vec<EventView>)))]
pub async fn list(encore: web::Data<Encore>) -> Result<HttpResponse, ApiError> {
    let all = run_blocking(move || events::list_events(&encore)).await?;
    Ok(HttpResponse::Ok().json(all.into_iter().map(EventView::from).collect::<Vec<_>>()))
}

/// `GET /api/v1/events/{id}` (any staff)
#[utoipa::path(get, path = "/api/v1/events/{id}", params(("id" = i64, Path, description = "The event's id")),
    responses((status = 200, body = EventView)))]
pub async fn get(
    encore: web::Data<Encore>,
    id: web::Path<EventId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let event = run_blocking(move || events::get_event(&encore, id)).await?;
    Ok(HttpResponse::Ok().json(EventView::from(event)))
}
