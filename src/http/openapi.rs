//! The API contract: an OpenAPI 3.1 document generated from the handlers' `#[utoipa::path]`
//! annotations and the request and response types, served at `GET /api/v1/openapi.json`.
//!
//! To document a new route: give its handler a `#[utoipa::path(...)]` naming its method, full
//! path, path parameters, request body and success responses (plus any 403, 409 or 422 it can
//! answer), then add the handler to `paths(...)` below. [`ErrorResponses`] fills in the
//! problem+json body of every error status and the statuses all routes of a kind share. A
//! write that takes an `Idempotency-Key` lists `IdempotencyKeyHeader` in its `params(...)`;
//! [`Replays`] documents the replay header of its answers.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use serde_json::Value;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use super::api::idempotency;
use super::error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Encore",
        description = "Digital tickets: signed QR codes, atomic door scans, arrivals, and the \
                       box office's changes. Staff authenticate with an API key \
                       (`encore keys create`). Errors are `application/problem+json` with a \
                       stable `code`."
    ),
    paths(
        crate::http::ops::healthz,
        crate::http::ops::readyz,
        crate::http::metrics::scrape,
        crate::http::api::keys::jwks,
        document,
        crate::http::api::scans::scan,
        crate::http::api::door::upload,
        crate::http::api::door::offline_bundle,
        crate::http::api::events::create,
        crate::http::api::events::list,
        crate::http::api::events::get,
        crate::http::api::events::update,
        crate::http::api::performances::create,
        crate::http::api::performances::list,
        crate::http::api::message_rules::create,
        crate::http::api::message_rules::list,
        crate::http::api::message_rules::get,
        crate::http::api::message_rules::replace,
        crate::http::api::message_rules::delete,
        crate::http::api::performances::get,
        crate::http::api::performances::arrivals,
        crate::http::api::search::tickets,
        crate::http::api::tickets::issue_one,
        crate::http::api::tickets::issue_bulk,
        crate::http::api::tickets::get,
        crate::http::api::tickets::qr_png,
        crate::http::api::tickets::qr_svg,
        crate::http::api::tickets::paper_code,
        crate::http::api::tickets::paper_code_png,
        crate::http::api::tickets::emails,
        crate::http::api::tickets::resend_email,
        crate::http::api::tickets::resend_confirmation,
        crate::http::api::changes::exchange,
        crate::http::api::changes::transfer,
        crate::http::api::changes::cancel_transfer,
        crate::http::api::changes::list_transfers,
        crate::http::api::search::patrons,
        crate::http::api::changes::patron_credit,
        crate::http::api::cancellations::cancel_ticket,
        crate::http::api::cancellations::cancel_performance,
        crate::http::api::cancellations::cancellation_job,
        crate::http::api::journey::ticket_history,
        crate::http::api::journey::patron,
        crate::http::api::staff::list_accounts,
        crate::http::api::staff::create_account,
        crate::http::api::staff::list_keys,
        crate::http::api::staff::create_key,
        crate::http::api::staff::revoke_key,
        crate::http::api::webhooks::create,
        crate::http::api::webhooks::list,
        crate::http::api::webhooks::get,
        crate::http::api::webhooks::update,
        crate::http::api::webhooks::delete,
        crate::http::api::webhooks::deliveries,
        crate::http::api::webhooks::replay,
    ),
    components(schemas(ApiError)),
    modifiers(&ApiKeys, &Naming, &ErrorResponses, &Replays, &Links),
    security(("bearer" = []), ("api_key" = []))
)]
pub struct ApiDoc;

/// The document as served, built once.
pub fn spec() -> Result<&'static Value, ApiError> {
    static DOCUMENT: OnceLock<Result<Value, String>> = OnceLock::new();
    let built = DOCUMENT.get_or_init(|| {
        let mut document = serde_json::to_value(ApiDoc::openapi()).map_err(|e| e.to_string())?;
        camel_case_links(&mut document);
        Ok(document)
    });
    built.as_ref().map_err(|e| {
        tracing::error!(error = %e, "the OpenAPI document does not serialise");
        ApiError::internal()
    })
}

/// utoipa 5 writes a link's `operationId` and `requestBody` in snake case; OpenAPI (and every
/// client that follows links) wants camel case.
fn camel_case_links(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let links = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.get_mut("responses")?.as_object_mut())
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links")?.as_object_mut())
        .flat_map(|links| links.values_mut())
        .filter_map(Value::as_object_mut);
    for link in links {
        for (snake, camel) in [
            ("operation_id", "operationId"),
            ("request_body", "requestBody"),
        ] {
            if let Some(value) = link.remove(snake) {
                link.insert(camel.to_string(), value);
            }
        }
    }
}

/// `GET /api/v1/openapi.json`: this document. Public.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "ops", security(()),
    responses((status = 200, body = Object, description = "The OpenAPI 3.1 document")))]
pub async fn document() -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(spec()?))
}

/// A staff key goes in `Authorization: Bearer …` or in `X-Api-Key` (see `auth.rs`).
struct ApiKeys;

impl Modify for ApiKeys {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("enc_…")
                    .description(Some("A staff API key: `Authorization: Bearer enc_…`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "The same staff API key, in its own header.",
            ))),
        );
    }
}

/// Each operation of a path item, whatever its method.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
}

/// Tags name the handler's module (`events`, not `crate::http::api::events`), and operation
/// ids are `{tag}_{handler}`, unique although several modules have a `get` or a `create`.
struct Naming;

impl Modify for Naming {
    fn modify(&self, openapi: &mut Document) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let tags = operation.tags.get_or_insert_with(Vec::new);
                for tag in tags.iter_mut() {
                    if let Some((_, last)) = tag.rsplit_once("::") {
                        *tag = last.to_string();
                    }
                }
                if let (Some(tag), Some(id)) = (tags.first(), operation.operation_id.as_mut()) {
                    *id = format!("{tag}_{id}");
                }
            }
        }
    }
}

/// Does the operation take an `Idempotency-Key`?
fn takes_idempotency_key(operation: &Operation) -> bool {
    operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Header && p.name == idempotency::HEADER)
}

/// The success answers of an operation that takes an `Idempotency-Key` may be replays.
struct Replays;

impl Modify for Replays {
    fn modify(&self, openapi: &mut Document) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item).filter(|o| takes_idempotency_key(o)) {
                let successes = operation
                    .responses
                    .responses
                    .iter_mut()
                    .filter(|(status, _)| status.starts_with('2'));
                for (_, response) in successes {
                    let RefOr::T(response) = response else {
                        continue;
                    };
                    let header = HeaderBuilder::new()
                        .schema(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .enum_values(Some(["true"])),
                        )
                        .description(Some(
                            "`true` when this answers a retry with the first request's answer \
                             (the same `Idempotency-Key` and request); nothing was changed again.",
                        ))
                        .build();
                    response
                        .headers
                        .insert(idempotency::REPLAYED.to_string(), header);
                }
            }
        }
    }
}

/// Where a created resource leads: (operation, parameter, value, the operations it feeds).
/// Clients may follow these links; the fuzzer's stateful phase does.
const LINKS: &[(&str, &str, &str, &[&str])] = &[
    (
        "events_create",
        "id",
        "$response.body#/id",
        &[
            "events_get",
            "events_update",
            "performances_create",
            "performances_list",
        ],
    ),
    (
        "performances_create",
        "id",
        "$response.body#/id",
        &[
            "performances_get",
            "performances_arrivals",
            "tickets_issue_one",
            "tickets_issue_bulk",
            "search_tickets",
            "door_offline_bundle",
            "cancellations_cancel_performance",
            "cancellations_cancellation_job",
        ],
    ),
    (
        "tickets_issue_one",
        "id",
        "$response.body#/id",
        &[
            "tickets_get",
            "tickets_emails",
            "tickets_resend_email",
            "tickets_resend_confirmation",
            "tickets_qr_png",
            "tickets_qr_svg",
            "tickets_paper_code",
            "tickets_paper_code_png",
            "changes_exchange",
            "changes_transfer",
            "changes_cancel_transfer",
            "changes_list_transfers",
            "cancellations_cancel_ticket",
            "journey_ticket_history",
        ],
    ),
    (
        "staff_create_key",
        "id",
        "$response.body#/id",
        &["staff_revoke_key"],
    ),
    (
        "tickets_issue_one",
        "email",
        "$response.body#/holder_email",
        &["changes_patron_credit", "journey_patron"],
    ),
];

struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut Document) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let id = operation.operation_id.clone().unwrap_or_default();
                // A link leaves the operation's first success response.
                let Some(RefOr::T(created)) = operation
                    .responses
                    .responses
                    .iter_mut()
                    .find(|(status, _)| status.starts_with('2'))
                    .map(|(_, response)| response)
                else {
                    continue;
                };
                for (_, parameter, value, targets) in LINKS.iter().filter(|l| l.0 == id) {
                    for target in *targets {
                        let link = LinkBuilder::new()
                            .operation_id(*target)
                            .parameter(*parameter, *value)
                            .build();
                        created.links.insert(target.to_string(), link.into());
                    }
                }
                if id == "tickets_issue_one" {
                    // A new ticket's token admits once at the door.
                    let scan = LinkBuilder::new()
                        .operation_id("scans_scan")
                        .request_body(Some(serde_json::json!({
                            "token": "$response.body#/token",
                            "gate": "A",
                            "device": "fuzz",
                        })))
                        .build();
                    created.links.insert("scans_scan".to_string(), scan.into());
                }
            }
        }
    }
}

/// An error status: what it means and the codes `error.rs` answers it with. An empty list is
/// an open set (409: each refusal of the domain has its own code).
struct ErrorStatus {
    status: u16,
    meaning: &'static str,
    codes: &'static [&'static str],
}

const ERROR_STATUSES: &[ErrorStatus] = &[
    ErrorStatus {
        status: 400,
        meaning: "The request is malformed (not JSON, a bad query).",
        codes: &["malformed_json", "bad_request", "invalid_query"],
    },
    ErrorStatus {
        status: 401,
        meaning: "No API key, or one that is unknown, revoked or expired.",
        codes: &["unauthenticated", "invalid_api_key", "api_key_expired"],
    },
    ErrorStatus {
        status: 403,
        meaning: "The key's role does not permit this.",
        codes: &["forbidden"],
    },
    ErrorStatus {
        status: 404,
        meaning: "No such resource (or route).",
        codes: &["not_found"],
    },
    ErrorStatus {
        status: 409,
        meaning: "The resource's state refuses this; `code` says why (e.g. `sold_out`, \
                  `past_cutoff`, `transfer_pending`, `already_admitted`).",
        codes: &[],
    },
    ErrorStatus {
        status: 413,
        meaning: "The request body is too large.",
        codes: &["payload_too_large"],
    },
    ErrorStatus {
        status: 415,
        meaning: "The request body is not JSON.",
        codes: &["unsupported_media_type"],
    },
    ErrorStatus {
        status: 422,
        meaning: "The input is not acceptable; `field` names the culprit when there is one.",
        codes: &[
            "validation_failed",
            "invalid_body",
            "idempotency_key_reused",
        ],
    },
    ErrorStatus {
        status: 500,
        meaning: "Something failed on our side; the body says nothing more.",
        codes: &["internal_error"],
    },
    ErrorStatus {
        status: 503,
        meaning: "The database is unavailable or busy; try again shortly.",
        codes: &["database_unavailable", "database_busy", "scan_not_recorded"],
    },
];

const PROBLEM_JSON: &str = "application/problem+json";

/// Gives every error response the problem+json body, with the codes of its status, and adds
/// the statuses a route answers by its kind: any route 500; a route behind a key 401 and 503;
/// one with path parameters 404; one with a JSON body 400, 413, 415 and 422; one that takes
/// an `Idempotency-Key` 422 (a malformed key, or one used for another request).
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut Document) {
        for item in openapi.paths.paths.values_mut() {
            operations(item).for_each(add_error_responses);
        }
    }
}

fn add_error_responses(operation: &mut Operation) {
    let public = operation
        .security
        .as_ref()
        .is_some_and(|s| s.contains(&SecurityRequirement::default()));
    let has_path_params = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Path);
    let has_body = operation.request_body.is_some();
    let takes_key = takes_idempotency_key(operation);
    let by_kind = |status: u16| match status {
        500 => true,
        401 | 503 => !public,
        404 => has_path_params,
        400 | 413 | 415 => has_body,
        422 => has_body || takes_key,
        _ => false,
    };
    for error in ERROR_STATUSES {
        let key = error.status.to_string();
        let responses = &mut operation.responses.responses;
        let by_kind = by_kind(error.status);
        if !by_kind && !responses.contains_key(&key) {
            continue;
        }
        let response = responses
            .entry(key)
            .or_insert_with(|| RefOr::T(Response::new(error.meaning)));
        let RefOr::T(response) = response else {
            continue;
        };
        if response.description.is_empty() {
            response.description = error.meaning.to_string();
        }
        // A route's own body for this status (a scan's answer) stays; a problem may join it
        // when the route's kind can also answer this status with one.
        if response.content.is_empty() || by_kind {
            response
                .content
                .entry(PROBLEM_JSON.to_string())
                .or_insert_with(|| Content::new(Some(problem_schema(error.codes))));
        }
    }
}

/// The problem body, its `code` narrowed to the status's codes when they are a closed set.
fn problem_schema(codes: &'static [&'static str]) -> RefOr<Schema> {
    let problem = Ref::from_schema_name("Problem");
    if codes.is_empty() {
        return problem.into();
    }
    let narrowed = ObjectBuilder::new().property(
        "code",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(codes.iter().copied())),
    );
    AllOfBuilder::new().item(problem).item(narrowed).into()
}
