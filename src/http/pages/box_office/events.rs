//! The console's Events pages (`/box-office/events…`, box office and admin): the events, a new
//! event, an event's page (its performances, a form to add one, a form to change the event),
//! and cancelling a performance with its progress page.
//!
//! Each form is parsed into what the JSON API's handler would pass, and the same service is
//! called. A refused or invalid form is shown again with the API's reason: the service error
//! is converted by `ApiError::from`, the one place where that rule lives.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{page, unavailable, Chrome, Fields, ProtectedForm, StaffSession};
use crate::domain::cancellation::{CancellationStatus, PerformanceCancellation};
use crate::domain::event::{venue_time_text, Event};
use crate::domain::ids::{EventId, PerformanceId};
use crate::domain::lobby::LobbyMessage;
use crate::domain::locale::Locale;
use crate::domain::message_rule::{Anchor, Audience, MessageRule, Moment, Purpose, RuleToStore};
use crate::domain::money::format_money;
use crate::domain::policy::{self, ChangePolicy, PolicyChanges};
use crate::domain::venue::{VenueDetails, MAX_ADDRESS_CHARS, MAX_PHONE_CHARS};
use crate::domain::{Invalid, Money};
use crate::http::error::ApiError;
use crate::service::cancellations::{self, Reason};
use crate::service::console_events::{self, EventPage};
use crate::service::{self, events, message_rules, Encore};

/// Why a form was not accepted: the status, code and message the JSON API answers with.
pub struct Refusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The form field at fault, when there is one.
    pub field: Option<&'static str>,
}

/// What a form's service call came to: done, refused with the API's 4xx answer (to show on the
/// form), or failed (a 5xx, or a failed thread): the console's "try again" page.
pub enum Answer<T> {
    Done(T),
    Refused(Refusal),
    Failed(HttpResponse),
}

/// A service call off the async threads, its error as a form's refusal.
pub async fn attempt<T: Send + 'static>(
    f: impl FnOnce() -> service::Result<T> + Send + 'static,
) -> Answer<T> {
    match super::call(f).await {
        Ok(value) => Answer::Done(value),
        Err(error) => refusal(error),
    }
}

/// The API's answer to an error, as a form's refusal (or, for a 5xx, the "try again" page).
pub fn refusal<T>(error: ApiError) -> Answer<T> {
    if error.status.is_server_error() {
        tracing::error!(error = %error, "console request failed");
        return Answer::Failed(unavailable());
    }
    Answer::Refused(Refusal {
        status: error.status,
        code: error.code,
        message: error.message,
        field: error.field,
    })
}

/// An input the form could not even read (not a number), refused as the API refuses a value.
fn invalid<T>(invalid: Invalid) -> Answer<T> {
    refusal(ApiError::from(invalid))
}

fn whole_number(fields: &Fields, name: &'static str) -> Result<i64, Invalid> {
    let raw = fields.get(name).trim();
    raw.parse()
        .map_err(|_| Invalid::new(name, format!("{raw:?} is not a whole number")))
}

fn checked(fields: &Fields, name: &str) -> bool {
    !fields.get(name).is_empty()
}

/// The languages patrons may read, `chosen` marked.
fn locale_choices(chosen: &str) -> Vec<(&'static str, &'static str, bool)> {
    (Locale::ALL.iter())
        .map(|l| (l.as_str(), l.name(), l.as_str() == chosen))
        .collect()
}

/// The event form's values as typed, to show again.
pub struct EventForm {
    name: String,
    venue: String,
    time_zone: String,
    reminders: String,
    lobby_message: String,
    exchange_allowed: bool,
    exchange_any_event: bool,
    exchange_fee_minor: String,
    transfer_allowed: bool,
    change_cutoff_minutes: String,
    transfer_offer_hours: String,
    refund_on_cancel: bool,
    venue_address: String,
    help_phone: String,
    help_email: String,
    /// The patrons' language: each choice's code and name, and whether it is the one chosen.
    locales: Vec<(&'static str, &'static str, bool)>,
    /// The fields' limits, for the form's `maxlength`.
    max_address: usize,
    max_phone: usize,
}

impl EventForm {
    /// A new event's form: the API's defaults.
    fn blank() -> EventForm {
        let d = ChangePolicy::default();
        EventForm::with_policy(String::new(), String::new(), String::new(), &d)
            .reminders(&events::DEFAULT_REMINDER_OFFSETS)
    }

    fn with_policy(name: String, venue: String, lobby: String, p: &ChangePolicy) -> EventForm {
        EventForm {
            name,
            venue,
            time_zone: String::new(),
            reminders: String::new(),
            lobby_message: lobby,
            exchange_allowed: p.exchange_allowed,
            exchange_any_event: p.exchange_any_event,
            exchange_fee_minor: p.exchange_fee_minor.to_string(),
            transfer_allowed: p.transfer_allowed,
            change_cutoff_minutes: p.cutoff.num_minutes().to_string(),
            transfer_offer_hours: p.offer_lifetime.num_hours().to_string(),
            refund_on_cancel: p.refund_on_cancel,
            venue_address: String::new(),
            help_phone: String::new(),
            help_email: String::new(),
            locales: locale_choices(Locale::default().as_str()),
            max_address: MAX_ADDRESS_CHARS,
            max_phone: MAX_PHONE_CHARS,
        }
    }

    fn reminders(mut self, minutes: &[i64]) -> EventForm {
        self.reminders = minutes
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        self
    }

    /// An existing event's form.
    fn of(event: &Event) -> EventForm {
        let mut form = EventForm::with_policy(
            event.name.clone(),
            event.venue.clone(),
            event.lobby_message.clone().unwrap_or_default(),
            &event.policy,
        );
        form.time_zone = event.time_zone.clone();
        let details = &event.venue_details;
        form.venue_address = details
            .address
            .as_ref()
            .map(|a| a.as_str().to_string())
            .unwrap_or_default();
        form.help_phone = details
            .help_phone
            .as_ref()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        form.help_email = details
            .help_email
            .as_ref()
            .map(|e| e.as_str().to_string())
            .unwrap_or_default();
        form.locales = locale_choices(event.locale.as_str());
        form.reminders = event
            .reminder_offsets_minutes
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        form
    }

    fn posted(fields: &Fields) -> EventForm {
        EventForm {
            name: fields.get("name").into(),
            venue: fields.get("venue").into(),
            time_zone: fields.get("time_zone").into(),
            reminders: fields.get("reminder_offsets_minutes").into(),
            lobby_message: fields.get("lobby_message").into(),
            exchange_allowed: checked(fields, "exchange_allowed"),
            exchange_any_event: checked(fields, "exchange_any_event"),
            exchange_fee_minor: fields.get("exchange_fee_minor").into(),
            transfer_allowed: checked(fields, "transfer_allowed"),
            change_cutoff_minutes: fields.get("change_cutoff_minutes").into(),
            transfer_offer_hours: fields.get("transfer_offer_hours").into(),
            refund_on_cancel: checked(fields, "refund_on_cancel"),
            venue_address: fields.get("venue_address").into(),
            help_phone: fields.get("help_phone").into(),
            help_email: fields.get("help_email").into(),
            locales: locale_choices(fields.get("locale")),
            max_address: MAX_ADDRESS_CHARS,
            max_phone: MAX_PHONE_CHARS,
        }
    }

    /// The venue's address and help contact as `POST /api/v1/events` checks them; a field
    /// left empty is none.
    fn venue_details(fields: &Fields) -> Result<VenueDetails, Invalid> {
        let given = |name| Some(fields.get(name)).filter(|v| !v.trim().is_empty());
        VenueDetails::parse(
            given("venue_address"),
            given("help_phone"),
            given("help_email"),
        )
    }

    /// The patrons' language, as `POST /api/v1/events` checks it (a form from before the field
    /// existed sends none: English).
    fn locale(fields: &Fields) -> Result<Locale, Invalid> {
        match fields.get("locale") {
            "" => Ok(Locale::default()),
            code => Locale::parse("locale", code),
        }
    }

    /// The policy as `POST /api/v1/events` checks it.
    fn policy(fields: &Fields) -> Result<ChangePolicy, Invalid> {
        Ok(ChangePolicy {
            refund_on_cancel: checked(fields, "refund_on_cancel"),
            ..ChangePolicy::parse(
                checked(fields, "exchange_allowed"),
                checked(fields, "exchange_any_event"),
                whole_number(fields, "exchange_fee_minor")?,
                checked(fields, "transfer_allowed"),
                whole_number(fields, "change_cutoff_minutes")?,
                whole_number(fields, "transfer_offer_hours")?,
            )?
        })
    }

    /// The reminder offsets, comma-separated minutes; empty is none.
    fn reminder_offsets(fields: &Fields) -> Result<Vec<i64>, Invalid> {
        fields
            .get("reminder_offsets_minutes")
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(|m| {
                m.parse().map_err(|_| {
                    Invalid::new(
                        "reminder_offsets_minutes",
                        format!("{m:?} is not a number of minutes"),
                    )
                })
            })
            .collect()
    }

    /// The lobby message: empty is none.
    fn lobby_message(fields: &Fields) -> Result<Option<LobbyMessage>, Invalid> {
        match fields.get("lobby_message").trim() {
            "" => Ok(None),
            message => LobbyMessage::parse("lobby_message", message).map(Some),
        }
    }

    /// The whole edit form as a merge patch: every field given, as `PATCH` would take it.
    fn changes(fields: &Fields) -> Result<events::EventChanges, Invalid> {
        // Every field given: one left empty removes what was set.
        let details = EventForm::venue_details(fields)?;
        Ok(events::EventChanges {
            venue_address: Some(details.address),
            help_phone: Some(details.help_phone),
            help_email: Some(details.help_email),
            locale: Some(EventForm::locale(fields)?),
            name: Some(fields.get("name").into()),
            venue: Some(fields.get("venue").into()),
            lobby_message: Some(EventForm::lobby_message(fields)?),
            // The console's form does not show the barcode yet: the API sets it.
            barcode: None,
            policy: PolicyChanges {
                exchange_allowed: Some(checked(fields, "exchange_allowed")),
                exchange_any_event: Some(checked(fields, "exchange_any_event")),
                exchange_fee_minor: Some(policy::parse_exchange_fee(whole_number(
                    fields,
                    "exchange_fee_minor",
                )?)?),
                transfer_allowed: Some(checked(fields, "transfer_allowed")),
                cutoff: Some(policy::parse_cutoff(whole_number(
                    fields,
                    "change_cutoff_minutes",
                )?)?),
                offer_lifetime: Some(policy::parse_offer_lifetime(whole_number(
                    fields,
                    "transfer_offer_hours",
                )?)?),
                refund_on_cancel: Some(checked(fields, "refund_on_cancel")),
                // The console's form does not show it yet: the API sets it.
                no_show_credit_percent: None,
            },
        })
    }
}

struct EventRow {
    id: EventId,
    name: String,
    venue: String,
    time_zone: String,
}

#[derive(Template)]
#[template(path = "box_office/events.html")]
struct EventsPage {
    chrome: Chrome,
    events: Vec<EventRow>,
    form: EventForm,
    refusal: Option<Refusal>,
}

/// `GET /box-office/events`: the events, and the form for a new one.
pub async fn list(staff: StaffSession, encore: web::Data<Encore>) -> HttpResponse {
    events_page(staff, encore, EventForm::blank(), None).await
}

async fn events_page(
    staff: StaffSession,
    encore: web::Data<Encore>,
    form: EventForm,
    refusal: Option<Refusal>,
) -> HttpResponse {
    let all = match super::blocking(move || events::list_events(&encore)).await {
        Ok(all) => all,
        Err(response) => return response,
    };
    let status = refusal.as_ref().map_or(StatusCode::OK, |r| r.status);
    let events = all
        .into_iter()
        .map(|e| EventRow {
            id: e.id,
            name: e.name,
            venue: e.venue,
            time_zone: e.time_zone,
        })
        .collect();
    page(
        status,
        &EventsPage {
            chrome: staff.chrome(),
            events,
            form,
            refusal,
        },
    )
}

/// `POST /box-office/events`: creates the event as `POST /api/v1/events` does, and goes to
/// its page; or the form again with the API's reason.
pub async fn create(form: ProtectedForm, encore: web::Data<Encore>) -> HttpResponse {
    let fields = &form.fields;
    let parsed = (|| {
        Ok::<_, Invalid>((
            EventForm::reminder_offsets(fields)?,
            EventForm::policy(fields)?,
            EventForm::lobby_message(fields)?,
            EventForm::venue_details(fields)?,
            EventForm::locale(fields)?,
        ))
    })();
    let again = EventForm::posted(fields);
    let outcome = match parsed {
        Err(e) => invalid(e),
        Ok((reminders, policy, lobby, details, locale)) => {
            let (name, venue, zone) = (
                again.name.clone(),
                again.venue.clone(),
                again.time_zone.clone(),
            );
            let service = encore.clone();
            attempt(move || {
                events::create_event(
                    &service,
                    &name,
                    &venue,
                    &zone,
                    &reminders,
                    events::EventRules {
                        policy: &policy,
                        lobby_message: lobby.as_ref(),
                        // The console's form does not show the barcode yet: the API sets it.
                        barcode: crate::domain::rotating::Barcode::Static,
                        venue_details: &details,
                        locale,
                    },
                )
            })
            .await
        }
    };
    match outcome {
        Answer::Done(event) => super::super::see_other(format!("/box-office/events/{}", event.id)),
        Answer::Refused(refusal) => events_page(form.session, encore, again, Some(refusal)).await,
        Answer::Failed(response) => response,
    }
}

struct PerformanceRow {
    id: PerformanceId,
    starts_at: String,
    doors_open_at: String,
    capacity: i64,
    issued: i64,
    price: String,
    canceled: bool,
    progress: Option<String>,
}

/// The add-a-performance form's values as typed.
pub struct PerformanceForm {
    starts_at: String,
    doors_open_at: String,
    capacity: String,
    price: String,
    currency: String,
}

impl PerformanceForm {
    fn blank() -> PerformanceForm {
        PerformanceForm {
            starts_at: String::new(),
            doors_open_at: String::new(),
            capacity: String::new(),
            price: String::new(),
            currency: "EUR".into(),
        }
    }

    fn posted(fields: &Fields) -> PerformanceForm {
        PerformanceForm {
            starts_at: fields.get("starts_at").into(),
            doors_open_at: fields.get("doors_open_at").into(),
            capacity: fields.get("capacity").into(),
            price: fields.get("price").into(),
            currency: fields.get("currency").into(),
        }
    }
}

#[derive(Template)]
#[template(path = "box_office/events_event.html")]
struct EventPageView {
    chrome: Chrome,
    id: EventId,
    name: String,
    venue: String,
    time_zone: String,
    performances: Vec<PerformanceRow>,
    form: EventForm,
    add: PerformanceForm,
    rules: Vec<RuleRow>,
    rule: RuleForm,
    /// A refusal of the edit form, of the add-a-performance form, or of the add-a-rule form.
    edit_refusal: Option<Refusal>,
    add_refusal: Option<Refusal>,
    rule_refusal: Option<Refusal>,
    notice: Option<&'static str>,
}

fn progress_text(job: &PerformanceCancellation) -> String {
    match job.status {
        CancellationStatus::Done => format!("canceled, {} tickets", job.progress.canceled),
        CancellationStatus::Running => format!(
            "canceling: {} of {}",
            job.progress.canceled, job.progress.total
        ),
    }
}

fn event_view(
    staff: &StaffSession,
    page_model: EventPage,
    form: Option<EventForm>,
    add: PerformanceForm,
) -> EventPageView {
    let EventPage {
        event,
        performances,
        rules,
    } = page_model;
    let rules = rules.into_iter().map(RuleRow::of).collect();
    let zone = event.time_zone.clone();
    let performances = performances
        .into_iter()
        .map(|line| {
            let p = line.performance;
            PerformanceRow {
                id: p.id,
                starts_at: venue_time_text(p.starts_at(), &zone),
                doors_open_at: venue_time_text(p.doors_open_at(), &zone),
                capacity: p.schedule.capacity,
                issued: p.tickets_issued,
                price: p
                    .price
                    .map_or("—".into(), |m| format_money(m.minor, m.currency.as_str())),
                canceled: p.is_canceled(),
                progress: line.cancellation.as_ref().map(progress_text),
            }
        })
        .collect();
    EventPageView {
        chrome: staff.chrome(),
        id: event.id,
        form: form.unwrap_or_else(|| EventForm::of(&event)),
        name: event.name,
        venue: event.venue,
        time_zone: event.time_zone,
        performances,
        add,
        rules,
        rule: RuleForm::blank(),
        edit_refusal: None,
        add_refusal: None,
        rule_refusal: None,
        notice: None,
    }
}

/// A message rule as the event page lists it.
struct RuleRow {
    id: i64,
    /// "Those admitted, 30 minutes after the end".
    when: String,
    purpose: &'static str,
    subject: String,
}

impl RuleRow {
    fn of(stored: MessageRule) -> RuleRow {
        let rule = &stored.rule;
        let whom = match rule.audience {
            Audience::Admitted => "Those admitted",
            Audience::NotAdmitted => "Those who never came",
        };
        let anchor = match rule.moment.anchor {
            Anchor::Start => "start",
            Anchor::End => "end",
        };
        let when = match rule.moment.offset_minutes {
            0 => format!("{whom}, at the {anchor}"),
            m => format!("{whom}, {m} minutes after the {anchor}"),
        };
        RuleRow {
            id: stored.id,
            when,
            purpose: rule.purpose.as_str(),
            subject: rule.subject.as_str().to_string(),
        }
    }
}

/// The add-a-rule form's values as typed.
pub struct RuleForm {
    audience: String,
    anchor: String,
    offset_minutes: String,
    purpose: String,
    subject: String,
    body: String,
}

impl RuleForm {
    fn blank() -> RuleForm {
        RuleForm {
            audience: "admitted".into(),
            anchor: "end".into(),
            offset_minutes: "30".into(),
            purpose: "service".into(),
            subject: String::new(),
            body: String::new(),
        }
    }

    fn posted(fields: &Fields) -> RuleForm {
        RuleForm {
            audience: fields.get("audience").into(),
            anchor: fields.get("anchor").into(),
            offset_minutes: fields.get("offset_minutes").into(),
            purpose: fields.get("purpose").into(),
            subject: fields.get("subject").into(),
            body: fields.get("body").into(),
        }
    }

    /// The rule as `POST /api/v1/events/{id}/message-rules` checks it.
    fn rule(fields: &Fields) -> Result<RuleToStore, Invalid> {
        let word = |field: &'static str| {
            let text = fields.get(field);
            move |what: &str| Invalid::new(field, format!("{text:?} is not {what}"))
        };
        let audience = Audience::from_stored(fields.get("audience"))
            .ok_or_else(|| word("audience")("admitted or not_admitted"))?;
        let anchor = Anchor::from_stored(fields.get("anchor"))
            .ok_or_else(|| word("anchor")("start or end"))?;
        let purpose = Purpose::from_stored(fields.get("purpose"))
            .ok_or_else(|| word("purpose")("service or marketing"))?;
        let moment = Moment::parse(anchor, whole_number(fields, "offset_minutes")?)?;
        RuleToStore::parse(
            audience,
            moment,
            purpose,
            fields.get("subject"),
            fields.get("body"),
        )
    }
}

/// `POST /box-office/events/{id}/message-rules`: adds a message rule as the API does.
pub async fn add_rule(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    id: web::Path<EventId>,
) -> HttpResponse {
    let id = id.into_inner();
    let outcome = match RuleForm::rule(&form.fields) {
        Err(e) => invalid(e),
        Ok(rule) => {
            let service = encore.clone();
            attempt(move || message_rules::create(&service, id, &rule)).await
        }
    };
    let refusal = match outcome {
        Answer::Done(_) => {
            return super::super::see_other(format!("/box-office/events/{id}?done=rule_added"))
        }
        Answer::Refused(refusal) => refusal,
        Answer::Failed(response) => return response,
    };
    match load_event(encore, id).await {
        Answer::Done(model) => {
            let mut view = event_view(&form.session, model, None, PerformanceForm::blank());
            view.rule = RuleForm::posted(&form.fields);
            let status = refusal.status;
            view.rule_refusal = Some(refusal);
            page(status, &view)
        }
        Answer::Refused(missing) => not_found(missing),
        Answer::Failed(response) => response,
    }
}

/// `POST /box-office/events/{id}/message-rules/{rule_id}/delete`: its messages not yet sent
/// are not sent.
pub async fn delete_rule(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    path: web::Path<(EventId, i64)>,
) -> HttpResponse {
    // The form is taken for its CSRF check; it has no fields.
    let _ = form;
    let (id, rule_id) = path.into_inner();
    match attempt(move || message_rules::delete(&encore, id, rule_id)).await {
        Answer::Done(()) => {
            super::super::see_other(format!("/box-office/events/{id}?done=rule_deleted"))
        }
        Answer::Refused(refusal) => not_found(refusal),
        Answer::Failed(response) => response,
    }
}

async fn load_event(encore: web::Data<Encore>, id: EventId) -> Answer<EventPage> {
    attempt(move || console_events::event_page(&encore, id)).await
}

fn not_found(refusal: Refusal) -> HttpResponse {
    super::problem(refusal.status, "Not found", &refusal.message)
}

/// `GET /box-office/events/{id}`: the event, its performances and its forms.
pub async fn show(
    staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<EventId>,
    query: web::Query<Notice>,
) -> HttpResponse {
    match load_event(encore, id.into_inner()).await {
        Answer::Done(model) => {
            let mut view = event_view(&staff, model, None, PerformanceForm::blank());
            view.notice = match query.done.as_deref() {
                Some("saved") => Some("The event is saved."),
                Some("added") => Some("The performance is added."),
                Some("rule_added") => Some("The message rule is added."),
                Some("rule_deleted") => Some("The message rule is deleted."),
                _ => None,
            };
            page(StatusCode::OK, &view)
        }
        Answer::Refused(refusal) => not_found(refusal),
        Answer::Failed(response) => response,
    }
}

#[derive(serde::Deserialize)]
pub struct Notice {
    done: Option<String>,
}

/// `POST /box-office/events/{id}`: changes the event as `PATCH /api/v1/events/{id}` does.
pub async fn update(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    id: web::Path<EventId>,
) -> HttpResponse {
    let id = id.into_inner();
    let outcome = match EventForm::changes(&form.fields) {
        Err(e) => invalid(e),
        Ok(changes) => {
            let service = encore.clone();
            attempt(move || events::update_event(&service, id, &changes)).await
        }
    };
    let refusal = match outcome {
        Answer::Done(_) => {
            return super::super::see_other(format!("/box-office/events/{id}?done=saved"))
        }
        Answer::Refused(refusal) => refusal,
        Answer::Failed(response) => return response,
    };
    match load_event(encore, id).await {
        Answer::Done(model) => {
            let mut again = EventForm::posted(&form.fields);
            again.time_zone = model.event.time_zone.clone();
            again.reminders = EventForm::of(&model.event).reminders;
            let mut view = event_view(&form.session, model, Some(again), PerformanceForm::blank());
            let status = refusal.status;
            view.edit_refusal = Some(refusal);
            page(status, &view)
        }
        Answer::Refused(missing) => not_found(missing),
        Answer::Failed(response) => response,
    }
}

/// `POST /box-office/events/{id}/performances`: adds a performance as
/// `POST /api/v1/events/{id}/performances` does, its times typed in the venue's time.
pub async fn add_performance(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    id: web::Path<EventId>,
) -> HttpResponse {
    let id = id.into_inner();
    let fields = &form.fields;
    let parsed = (|| {
        let capacity = whole_number(fields, "capacity")?;
        let price = match console_events::parse_price_major(fields.get("price"))? {
            Some(minor) => Some(Money::parse(minor, fields.get("currency").trim())?),
            None => None,
        };
        Ok::<_, Invalid>((capacity, price))
    })();
    let outcome = match parsed {
        Err(e) => invalid(e),
        Ok((capacity, price)) => {
            let (starts, doors) = (
                fields.get("starts_at").to_string(),
                fields.get("doors_open_at").to_string(),
            );
            let service = encore.clone();
            attempt(move || {
                console_events::add_performance(&service, id, &starts, &doors, capacity, price)
            })
            .await
        }
    };
    let refusal = match outcome {
        Answer::Done(_) => {
            return super::super::see_other(format!("/box-office/events/{id}?done=added"))
        }
        Answer::Refused(refusal) => refusal,
        Answer::Failed(response) => return response,
    };
    match load_event(encore, id).await {
        Answer::Done(model) => {
            let mut view = event_view(&form.session, model, None, PerformanceForm::posted(fields));
            let status = refusal.status;
            view.add_refusal = Some(refusal);
            page(status, &view)
        }
        Answer::Refused(missing) => not_found(missing),
        Answer::Failed(response) => response,
    }
}

#[derive(Template)]
#[template(path = "box_office/cancellation_form.html")]
struct CancelPage {
    chrome: Chrome,
    id: PerformanceId,
    event_id: EventId,
    event_name: String,
    starts_at: String,
    issued: i64,
    reason: String,
    refund: bool,
    refusal: Option<Refusal>,
}

async fn cancel_form(
    staff: &StaffSession,
    encore: web::Data<Encore>,
    id: PerformanceId,
    reason: String,
    refusal: Option<Refusal>,
) -> HttpResponse {
    match attempt(move || console_events::cancellation_page(&encore, id)).await {
        Answer::Done(model) if model.cancellation.is_some() => {
            super::super::see_other(format!("/box-office/performances/{id}/cancellation"))
        }
        Answer::Done(model) => page(
            refusal.as_ref().map_or(StatusCode::OK, |r| r.status),
            &CancelPage {
                chrome: staff.chrome(),
                id,
                event_id: model.event.id,
                starts_at: venue_time_text(model.performance.starts_at(), &model.event.time_zone),
                event_name: model.event.name,
                issued: model.performance.tickets_issued,
                reason,
                refund: model.event.policy.refund_on_cancel,
                refusal,
            },
        ),
        Answer::Refused(refusal) => not_found(refusal),
        Answer::Failed(response) => response,
    }
}

/// `GET /box-office/performances/{id}/cancel`: the form that cancels a performance (or, once
/// canceled, its progress).
pub async fn cancel_page(
    staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
) -> HttpResponse {
    cancel_form(&staff, encore, id.into_inner(), String::new(), None).await
}

/// `POST /box-office/performances/{id}/cancel` with `reason`: starts the resumable job as
/// `POST /api/v1/performances/{id}/cancel` does, and shows its progress.
pub async fn cancel(
    form: ProtectedForm,
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
) -> HttpResponse {
    let id = id.into_inner();
    let typed = form.fields.get("reason").to_string();
    let outcome = match Reason::parse(&typed) {
        Err(e) => invalid(e),
        Ok(reason) => {
            let service = encore.clone();
            let by = form.session.actor();
            attempt(move || {
                cancellations::begin_performance_cancellation(&service, id, &reason, &by)
            })
            .await
        }
    };
    match outcome {
        Answer::Done((job, started)) => {
            if started {
                cancellations::run_in_background(encore.get_ref().clone(), job.id);
            }
            super::super::see_other(format!("/box-office/performances/{id}/cancellation"))
        }
        Answer::Refused(refusal) => {
            cancel_form(&form.session, encore, id, typed, Some(refusal)).await
        }
        Answer::Failed(response) => response,
    }
}

/// `GET /assets/console-cancellation.js`: the progress page's script, compiled in.
pub async fn progress_script() -> HttpResponse {
    super::super::asset(
        super::super::JAVASCRIPT,
        include_str!("../../../../templates/box_office/cancellation.js"),
    )
}

#[derive(Template)]
#[template(path = "box_office/cancellation.html")]
struct ProgressPage {
    chrome: Chrome,
    id: PerformanceId,
    event_id: EventId,
    event_name: String,
    starts_at: String,
    reason: String,
    refund: bool,
    /// Who started the job, as the journey names them (unknown for jobs of older versions).
    started_by: Option<String>,
    done: bool,
    total: i64,
    canceled: i64,
    /// `<progress>` needs a positive maximum: a job with nothing to cancel is full.
    max: i64,
    value: i64,
    percent: i64,
}

/// `GET /box-office/performances/{id}/cancellation`: the job's progress; the page reloads
/// itself every 2 seconds until the job is done.
pub async fn progress(
    staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
) -> HttpResponse {
    let id = id.into_inner();
    match attempt(move || console_events::cancellation_page(&encore, id)).await {
        Answer::Done(model) => {
            let Some(job) = model.cancellation else {
                return super::problem(
                    StatusCode::NOT_FOUND,
                    "Not canceled",
                    "This performance has not been canceled.",
                );
            };
            let done = job.status == CancellationStatus::Done;
            let (total, canceled) = (job.progress.total, job.progress.canceled);
            let (max, value) = if total == 0 {
                (1, i64::from(done))
            } else {
                (total, canceled.min(total))
            };
            super::super::html_under(
                StatusCode::OK,
                &ProgressPage {
                    chrome: staff.chrome(),
                    id,
                    event_id: model.event.id,
                    starts_at: venue_time_text(
                        model.performance.starts_at(),
                        &model.event.time_zone,
                    ),
                    event_name: model.event.name,
                    reason: job.reason,
                    refund: job.refund_to_credit,
                    started_by: job.started_by,
                    done,
                    total,
                    canceled,
                    max,
                    value,
                    percent: value * 100 / max,
                },
                super::LIVE_POLICY,
            )
        }
        Answer::Refused(refusal) => not_found(refusal),
        Answer::Failed(response) => response,
    }
}

/// The job's progress as the progress page's script reads it.
#[derive(serde::Serialize)]
struct ProgressView {
    /// `running` or `done`.
    status: &'static str,
    total: i64,
    canceled: i64,
}

/// `GET /box-office/performances/{id}/cancellation.json`: the job's progress, for the page's
/// script (a signed-in session, as every console page).
pub async fn progress_json(
    _staff: StaffSession,
    encore: web::Data<Encore>,
    id: web::Path<PerformanceId>,
) -> HttpResponse {
    let id = id.into_inner();
    match attempt(move || cancellations::job_of_performance(&encore, id)).await {
        Answer::Done(job) => super::super::private(StatusCode::OK).json(ProgressView {
            status: job.status.as_str(),
            total: job.progress.total,
            canceled: job.progress.canceled,
        }),
        Answer::Refused(refusal) => super::super::private(refusal.status)
            .json(serde_json::json!({"code": refusal.code, "message": refusal.message})),
        Answer::Failed(response) => response,
    }
}
