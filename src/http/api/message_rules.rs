//! An event's message rules: `/api/v1/events/{id}/message-rules`.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::ids::EventId;
use crate::domain::message_rule::{self as rule, MessageRule, Moment, RuleToStore};
use crate::http::error::ApiError;
use crate::http::run_blocking;
use crate::service::{message_rules, Encore};

/// The API's names for the domain's words (the domain knows nothing of OpenAPI): each maps
/// one to one.
macro_rules! api_words {
    ($api:ident => $domain:path { $($variant:ident),+ }) => {
        #[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $api {
            $($variant),+
        }

        impl From<$api> for $domain {
            fn from(word: $api) -> Self {
                match word {
                    $($api::$variant => <$domain>::$variant),+
                }
            }
        }

        impl From<$domain> for $api {
            fn from(word: $domain) -> Self {
                match word {
                    $(<$domain>::$variant => $api::$variant),+
                }
            }
        }
    };
}

api_words!(Audience => rule::Audience { Admitted, NotAdmitted });
api_words!(Anchor => rule::Anchor { Start, End });
api_words!(Purpose => rule::Purpose { Service, Marketing });

/// A message rule as the box office writes it (the whole rule, on create and on change).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// `admitted`: holders who were admitted; `not_admitted`: holders of valid tickets never
    /// admitted (only after the show: `anchor` must be `end`).
    audience: Audience,
    /// What `offset_minutes` counts from: the performance's `start` or `end`.
    anchor: Anchor,
    /// Minutes after the anchor (0 to 10080, a week).
    #[schema(minimum = 0, maximum = 10_080)]
    offset_minutes: i64,
    /// `service` messages always go; `marketing` ones only to patrons who have not opted out,
    /// with an unsubscribe link (and after the show, to those admitted, suggestions of what
    /// to see next).
    purpose: Purpose,
    /// One line; placeholders as in the lobby message: {holder_name}, {event_name}, {venue},
    /// {seat}, {section}, {gate}.
    #[schema(example = "Thank you for coming, {holder_name}")]
    subject: String,
    /// The text, with the same placeholders.
    #[schema(example = "We hope you enjoyed {event_name}.")]
    body: String,
    /// The message in other languages: a ticket in one of them gets its translation, any other
    /// the `subject` and `body` above.
    #[serde(default)]
    #[schema(max_items = 2)]
    translations: Vec<RuleTextInput>,
}

/// A rule's subject and body in one language.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleTextInput {
    #[schema(schema_with = super::schema::locale)]
    locale: String,
    /// One line, placeholders as in `subject`.
    #[schema(example = "Danke für Ihren Besuch, {holder_name}")]
    subject: String,
    #[schema(example = "Wir hoffen, {event_name} hat Ihnen gefallen.")]
    body: String,
}

impl RuleInput {
    fn parse(self) -> Result<RuleToStore, ApiError> {
        let moment = Moment::parse(self.anchor.into(), self.offset_minutes)?;
        Ok(RuleToStore::parse(
            self.audience.into(),
            moment,
            self.purpose.into(),
            &self.subject,
            &self.body,
        )?
        .with_translations(
            &(self.translations.iter())
                .map(|t| (t.locale.as_str(), t.subject.as_str(), t.body.as_str()))
                .collect::<Vec<_>>(),
        )?)
    }
}

/// A message rule as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    id: i64,
    event_id: i64,
    audience: Audience,
    anchor: Anchor,
    offset_minutes: i32,
    purpose: Purpose,
    subject: String,
    body: String,
    translations: Vec<RuleTextInput>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<MessageRule> for RuleView {
    fn from(stored: MessageRule) -> Self {
        let rule = stored.rule;
        RuleView {
            id: stored.id,
            event_id: stored.event_id.0,
            audience: rule.audience.into(),
            anchor: rule.moment.anchor.into(),
            offset_minutes: rule.moment.offset_minutes,
            purpose: rule.purpose.into(),
            subject: rule.subject.as_str().to_string(),
            body: rule.body.as_str().to_string(),
            translations: (rule.translations.iter())
                .map(|t| RuleTextInput {
                    locale: t.locale.as_str().to_string(),
                    subject: t.subject.as_str().to_string(),
                    body: t.body.as_str().to_string(),
                })
                .collect(),
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        }
    }
}

/// `POST /api/v1/events/{id}/message-rules` (box_office)
#[utoipa::path(post, path = "/api/v1/events/{id}/message-rules",
    params(("id" = i64, Path, description = "The event's id")),
    request_body = RuleInput,
    responses((status = 201, body = RuleView), (status = 403), (status = 404)))]
pub async fn create(
    encore: web::Data<Encore>,
    event_id: web::Path<EventId>,
    body: web::Json<RuleInput>,
) -> Result<HttpResponse, ApiError> {
    let event_id = event_id.into_inner();
    let rule = body.into_inner().parse()?;
    let stored = run_blocking(move || message_rules::create(&encore, event_id, &rule)).await?;
    Ok(HttpResponse::Created().json(RuleView::from(stored)))
}

/// `GET /api/v1/events/{id}/message-rules` (any staff)
#[utoipa::path(get, path = "/api/v1/events/{id}/message-rules",
    params(("id" = i64, Path, description = "The event's id")),
    responses((status = 200, body = Vec<RuleView>), (status = 404)))]
pub async fn list(
    encore: web::Data<Encore>,
    event_id: web::Path<EventId>,
) -> Result<HttpResponse, ApiError> {
    let event_id = event_id.into_inner();
    let rules = run_blocking(move || message_rules::list(&encore, event_id)).await?;
    Ok(HttpResponse::Ok().json(rules.into_iter().map(RuleView::from).collect::<Vec<_>>()))
}

/// `GET /api/v1/events/{id}/message-rules/{rule_id}` (any staff)
#[utoipa::path(get, path = "/api/v1/events/{id}/message-rules/{rule_id}",
    params(("id" = i64, Path, description = "The event's id"),
           ("rule_id" = i64, Path, description = "The rule's id")),
    responses((status = 200, body = RuleView), (status = 404)))]
pub async fn get(
    encore: web::Data<Encore>,
    path: web::Path<(EventId, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (event_id, id) = path.into_inner();
    let rule = run_blocking(move || message_rules::get(&encore, event_id, id)).await?;
    Ok(HttpResponse::Ok().json(RuleView::from(rule)))
}

/// `PUT /api/v1/events/{id}/message-rules/{rule_id}` (box_office): replaces the rule. Messages
/// already queued and not yet sent go out with the new texts.
#[utoipa::path(put, path = "/api/v1/events/{id}/message-rules/{rule_id}",
    params(("id" = i64, Path, description = "The event's id"),
           ("rule_id" = i64, Path, description = "The rule's id")),
    request_body = RuleInput,
    responses((status = 200, body = RuleView), (status = 403), (status = 404)))]
pub async fn replace(
    encore: web::Data<Encore>,
    path: web::Path<(EventId, i64)>,
    body: web::Json<RuleInput>,
) -> Result<HttpResponse, ApiError> {
    let (event_id, id) = path.into_inner();
    let rule = body.into_inner().parse()?;
    let stored = run_blocking(move || message_rules::update(&encore, event_id, id, &rule)).await?;
    Ok(HttpResponse::Ok().json(RuleView::from(stored)))
}

/// `DELETE /api/v1/events/{id}/message-rules/{rule_id}` (box_office): its messages not yet
/// sent are not sent.
#[utoipa::path(delete, path = "/api/v1/events/{id}/message-rules/{rule_id}",
    params(("id" = i64, Path, description = "The event's id"),
           ("rule_id" = i64, Path, description = "The rule's id")),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete(
    encore: web::Data<Encore>,
    path: web::Path<(EventId, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (event_id, id) = path.into_inner();
    run_blocking(move || message_rules::delete(&encore, event_id, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
