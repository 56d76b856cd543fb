use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::service::Encore;

/// `GET /.well-known/jwks.json`: the public keys that verify ticket tokens, for scanners that
/// check QR codes offline. Public by design.
pub async fn jwks(encore: web::Data<Encore>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(json!({ "keys": encore.keys.jwks() }))
}
