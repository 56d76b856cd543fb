use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::Encore;
use crate::tokens::PublicJwk;

/// The public keys that verify ticket tokens (RFC 7517 key set).
#[derive(Debug, Serialize, ToSchema)]
pub struct JwksView {
    keys: Vec<JwkView>,
}

/// One Ed25519 public key (RFC 8037 OKP key).
#[derive(Debug, Serialize, ToSchema)]
struct JwkView {
    #[schema(example = "OKP")]
    kty: String,
    #[schema(example = "Ed25519")]
    crv: String,
    #[schema(example = "EdDSA")]
    alg: String,
    #[serde(rename = "use")]
    #[schema(example = "sig")]
    use_: String,
    kid: String,
    /// The public key, base64url.
    x: String,
}

impl From<Vec<PublicJwk>> for JwksView {
    fn from(keys: Vec<PublicJwk>) -> Self {
        JwksView {
            keys: keys.into_iter().map(JwkView::from).collect(),
        }
    }
}

impl From<PublicJwk> for JwkView {
    fn from(jwk: PublicJwk) -> Self {
        JwkView {
            kty: jwk.kty,
            crv: jwk.crv,
            alg: jwk.alg,
            use_: jwk.use_,
            kid: jwk.kid,
            x: jwk.x,
        }
    }
}

/// `GET /.well-known/jwks.json`: the public keys that verify ticket tokens, for scanners that
/// check QR codes offline. Public by design.
#[utoipa::path(get, path = "/.well-known/jwks.json", security(()),
    responses((status = 200, body = JwksView)))]
pub async fn jwks(encore: web::Data<Encore>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(JwksView::from(encore.keys.jwks()))
}
