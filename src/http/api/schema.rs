//! Schemas for input the domain checks beyond its JSON type, so that the API contract states the
//! rule and a client (or the fuzzer) can meet it. Used with `#[schema(schema_with = …)]`.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// One character that is not a control character (`char::is_control`: C0, DEL and C1).
const NOT_CONTROL: &str = r"[^\x00-\x1f\x7f-\x9f]";

/// `domain::text::label`: some text that is not all spaces, no control characters, at most
/// `max` characters.
fn label(max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!(
            r"^{NOT_CONTROL}*[^\s\x00-\x1f\x7f-\x9f]{NOT_CONTROL}*$"
        )))
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

/// Sections.
pub fn optional_label_64() -> Object {
    optional_label(64)
}

/// Seats.
pub fn optional_label_32() -> Object {
    optional_label(32)
}
