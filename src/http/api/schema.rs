//! Schemas for input the domain checks beyond its JSON type, so that the API contract states the
//! rule and a client (or the fuzzer) can meet it. Used with `#[schema(schema_with = …)]`.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// One character that is not a control character (`char::is_control`: C0, DEL and C1).
const NOT_CONTROL: &str = r"[^\x00-\x1f\x7f-\x9f]";

/// `domain::text::label`'s text: not all spaces, no control characters.
fn label_pattern() -> String {
    format!(r"^{NOT_CONTROL}*[^\s\x00-\x1f\x7f-\x9f]{NOT_CONTROL}*$")
}

/// `domain::text::label`: some text that is not all spaces, no control characters, at most
/// `max` characters.
fn label(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(label_pattern()))
        .build()
}

/// `domain::text::optional_label`: left out, empty, or a label.
fn optional_label(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(max))
        .pattern(Some(format!("^{NOT_CONTROL}*$")))
        .build()
}

/// Names and venues.
pub fn label_200() -> Object {
    label(200)
}

/// Gates and devices.
pub fn label_64() -> Object {
    label(64)
}

/// A device's refusal of an offline scan: left out, `null`, or a label (a short code such as
/// `no_bundle`). `schema_with` drops the field's doc comment, so the description is here.
pub fn optional_refusal() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(
            "Left out (or null) when the device admitted the patron; when it refused them, the \
             reason it gave, as a short code of its own (`no_bundle`, `invalid_signature`, \
             `canceled`, `already_admitted`…). A refused scan is recorded but never admits the \
             ticket nor moves its admission: its outcome is the server's own refusal, or \
             `refused_offline` when the server would have admitted it (`clock_out_of_bounds`, \
             as for any scan, when its `scanned_at` is before the ticket's issue, after the \
             upload or outside the scan window).",
        ))
        .min_length(Some(1))
        .max_length(Some(crate::service::door::MAX_REFUSAL))
        .pattern(Some(label_pattern()))
        .examples([serde_json::json!("no_bundle")])
        .build()
}

/// One character that is not a control character, line breaks (LF, CR) excepted.
const NOT_CONTROL_BUT_BREAKS: &str = r"[^\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]";

/// `domain::venue::VenueAddress`, or `null`. `schema_with` drops the field's doc comment, so
/// the description is here.
pub fn venue_address() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(
            "The venue's postal address, a few lines separated by line breaks (at most 6 \
             lines; blank lines are dropped, each line trimmed). The ticket page and the \
             confirmation email show it with a link to an OpenStreetMap search for it \
             (`map_url`). Left out or `null`: none (on a change, `null` removes it).",
        ))
        .min_length(Some(1))
        .max_length(Some(crate::domain::venue::MAX_ADDRESS_CHARS))
        .pattern(Some(format!(
            r"^{NOT_CONTROL_BUT_BREAKS}*[^\s\x00-\x1f\x7f-\x9f]{NOT_CONTROL_BUT_BREAKS}*$"
        )))
        .examples([serde_json::json!(
            "Shakespeare's Globe\n21 New Globe Walk\nLondon SE1 9DT"
        )])
        .build()
}

/// `domain::locale::Locale`, as a language tag.
pub fn locale() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .description(Some(
            "The language patrons read: `en` (English) or `de` (German), optionally with a \
             region (`de-AT`), which changes nothing. The ticket's emails and pages use it: \
             their words, dates and amounts.",
        ))
        .pattern(Some(crate::domain::locale::Locale::PATTERN.to_string()))
        .examples([serde_json::json!("de")])
        .build()
}

/// `domain::venue::HelpPhone`, or `null`.
pub fn help_phone() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(
            "A phone number patrons may call for help: 3 to 15 digits, with spaces, `-`, `.`, \
             `/`, parentheses and a leading `+`. The ticket page links it as `tel:`. Left out \
             or `null`: none (on a change, `null` removes it).",
        ))
        .min_length(Some(3))
        .max_length(Some(crate::domain::venue::MAX_PHONE_CHARS))
        .pattern(Some(
            r"^ *\+?(?:[-/(). ]*[0-9]){3,15}[-/(). ]*$".to_string(),
        ))
        .examples([serde_json::json!("+44 20 7401 9919")])
        .build()
}

/// An email address, or `null`.
pub fn help_email() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .description(Some(
            "An email address patrons may write to for help. The ticket page links it as \
             `mailto:`. Left out or `null`: none (on a change, `null` removes it).",
        ))
        .format(Some(utoipa::openapi::SchemaFormat::Custom("email".into())))
        .max_length(Some(254))
        .examples([serde_json::json!("help@globe.example")])
        .build()
}

/// Sections.
pub fn optional_label_64() -> Object {
    optional_label(64)
}

/// Seats.
pub fn optional_label_32() -> Object {
    optional_label(32)
}
