use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::TicketClaims;
use crate::domain::ScanOutcome;

/// Tokens longer than this are not ours; refuse before spending any work on them.
const MAX_TOKEN_LEN: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    #[error("no signing key is available")]
    Empty,
    #[error("signing key {kid} is unreadable: {reason}")]
    BadKey { kid: String, reason: String },
    #[error("random number generator failed: {0}")]
    Random(String),
    #[error("signing failed: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
    #[error("signing key {kid} could not be sealed")]
    Sealing { kid: String },
    #[error("the key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error(
        "the signing keys in the database are encrypted, but the key file {path} does not exist: \
         restore it, or name it with key_file (ENCORE_KEY_FILE)"
    )]
    NoKeyFile { path: String },
    #[error(
        "signing key {kid} cannot be decrypted with the key file {path}: is it the key file of \
         this database? (If `encore keys rewrap` was interrupted, {path}.new holds the new key.)"
    )]
    WrongKeyFile { kid: String, path: String },
}

/// An Ed25519 key pair as it is stored: PKCS#8 DER (standard base64) for signing and the raw
/// public key (base64url, the JWK `x`) for verifying.
#[derive(Debug, Clone)]
pub struct GeneratedKey {
    pub kid: String,
    pub private_key: String,
    pub public_key: String,
}

impl GeneratedKey {
    /// A fresh key pair from the operating system's random source. Its id is derived from the
    /// public key, so two keys never share one.
    pub fn generate() -> Result<Self, KeyRingError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyRingError::Random(e.to_string()))?;
        let signing = SigningKey::from_bytes(&seed);
        let der = signing.to_pkcs8_der().map_err(|e| KeyRingError::BadKey {
            kid: "new".into(),
            reason: e.to_string(),
        })?;
        let public = signing.verifying_key().to_bytes();
        let digest = Sha256::digest(public);
        Ok(GeneratedKey {
            kid: format!("ed-{}", hex::encode(&digest[..6])),
            private_key: STANDARD.encode(der.as_bytes()),
            public_key: URL_SAFE_NO_PAD.encode(public),
        })
    }
}

/// One public key as published at `/.well-known/jwks.json` (RFC 8037 OKP key).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublicJwk {
    pub kty: String,
    pub crv: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
    pub kid: String,
    pub x: String,
}

struct KeySet {
    active_kid: String,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    published: Vec<PublicJwk>,
}

/// The keys this process signs and verifies with. The newest key signs; every key that is not
/// retired verifies, so tokens issued before a rotation keep admitting.
pub struct KeyRing {
    keys: RwLock<Arc<KeySet>>,
    validation: Validation,
}

/// Just enough of a JWT header to decide which key and algorithm apply.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
}

impl KeyRing {
    /// `keys` are the keys in force, oldest first; the last one signs.
    pub fn new(keys: &[GeneratedKey]) -> Result<Self, KeyRingError> {
        // The window is checked by the domain (it needs "now" and our leeway), so the library
        // only checks the signature, the algorithm and the claims' shape.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        Ok(KeyRing {
            keys: RwLock::new(Arc::new(Self::key_set(keys)?)),
            validation,
        })
    }

    /// Swaps in a new set of keys (after a rotation, or on meeting an unknown `kid`).
    pub fn replace(&self, keys: &[GeneratedKey]) -> Result<(), KeyRingError> {
        let set = Arc::new(Self::key_set(keys)?);
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = set;
        Ok(())
    }

    fn key_set(keys: &[GeneratedKey]) -> Result<KeySet, KeyRingError> {
        let newest = keys.last().ok_or(KeyRingError::Empty)?;
        let bad_key = |kid: &str, reason: String| KeyRingError::BadKey {
            kid: kid.to_string(),
            reason,
        };
        let der = STANDARD
            .decode(&newest.private_key)
            .map_err(|e| bad_key(&newest.kid, e.to_string()))?;
        let mut verifying = HashMap::with_capacity(keys.len());
        let mut published = Vec::with_capacity(keys.len());
        for key in keys {
            let decoding = DecodingKey::from_ed_components(&key.public_key)
                .map_err(|e| bad_key(&key.kid, e.to_string()))?;
            verifying.insert(key.kid.clone(), decoding);
            published.push(PublicJwk {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                alg: "EdDSA".into(),
                use_: "sig".into(),
                kid: key.kid.clone(),
                x: key.public_key.clone(),
            });
        }
        Ok(KeySet {
            active_kid: newest.kid.clone(),
            signing: EncodingKey::from_ed_der(&der),
            verifying,
            published,
        })
    }

    fn current(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn active_kid(&self) -> String {
        self.current().active_kid.clone()
    }

    pub fn knows(&self, kid: &str) -> bool {
        self.current().verifying.contains_key(kid)
    }

    /// The public keys, for `/.well-known/jwks.json` and offline scanners.
    pub fn jwks(&self) -> Vec<PublicJwk> {
        self.current().published.clone()
    }

    /// Signs ticket tokens and patron links alike; their claims types keep them apart.
    pub fn sign(&self, claims: &impl Serialize) -> Result<String, KeyRingError> {
        let keys = self.current();
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = None; // every byte saved makes the QR easier to read
        header.kid = Some(keys.active_kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, &keys.signing)?)
    }

    /// Checks a token's shape, algorithm, key and signature. The window and the ticket's state
    /// are the caller's to check. Only `EdDSA` is accepted: `none` and HMAC tokens (the classic
    /// "sign with the public key as secret" forgery) are refused before any key is used.
    pub fn verify(&self, token: &str) -> Result<TicketClaims, ScanOutcome> {
        let header = parse_header(token)?;
        if header.alg != "EdDSA" {
            return Err(ScanOutcome::InvalidSignature);
        }
        let kid = header.kid.ok_or(ScanOutcome::UnknownKey)?;
        let keys = self.current();
        let key = keys.verifying.get(&kid).ok_or(ScanOutcome::UnknownKey)?;
        jsonwebtoken::decode::<TicketClaims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                    ScanOutcome::InvalidSignature
                }
                _ => ScanOutcome::Malformed,
            })
    }
}

impl KeyRing {
    /// Verifies a patron link: signature, key, expiry and purpose. `None` for anything wrong
    /// (the page then says the link is invalid or expired, without saying which).
    pub fn verify_link(
        &self,
        token: &str,
        purpose: crate::tokens::LinkPurpose,
        now: i64,
    ) -> Option<crate::tokens::LinkClaims> {
        let header = parse_header(token).ok()?;
        if header.alg != "EdDSA" {
            return None;
        }
        let keys = self.current();
        let key = keys.verifying.get(header.kid.as_deref()?)?;
        let claims =
            jsonwebtoken::decode::<crate::tokens::LinkClaims>(token, key, &self.validation)
                .ok()?
                .claims;
        (claims.purpose == purpose && now < claims.exp).then_some(claims)
    }
}

fn parse_header(token: &str) -> Result<RawHeader, ScanOutcome> {
    if token.len() > MAX_TOKEN_LEN || token.split('.').count() != 3 {
        return Err(ScanOutcome::Malformed);
    }
    let encoded = token.split('.').next().unwrap_or_default();
    let json = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| ScanOutcome::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| ScanOutcome::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{PerformanceId, TicketId};

    fn claims() -> TicketClaims {
        TicketClaims {
            ticket_id: TicketId(7),
            performance_id: PerformanceId(3),
            generation: 1,
            nbf: 1_700_000_000,
            exp: 1_900_000_000,
            paper: false,
        }
    }

    #[test]
    fn a_signed_token_verifies_and_carries_its_claims() {
        let ring = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
        let token = ring.sign(&claims()).unwrap();
        assert_eq!(ring.verify(&token), Ok(claims()));
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_and_signs_with_the_new_key() {
        let old = GeneratedKey::generate().unwrap();
        let new = GeneratedKey::generate().unwrap();
        let ring = KeyRing::new(std::slice::from_ref(&old)).unwrap();
        let old_token = ring.sign(&claims()).unwrap();
        ring.replace(&[old.clone(), new.clone()]).unwrap();
        assert_eq!(ring.active_kid(), new.kid);
        assert_eq!(ring.verify(&old_token), Ok(claims()));
        // Retiring the old key (dropping it from the ring) ends its tokens.
        ring.replace(std::slice::from_ref(&new)).unwrap();
        assert_eq!(ring.verify(&old_token), Err(ScanOutcome::UnknownKey));
    }

    #[test]
    fn a_token_from_a_stranger_key_is_unknown_and_tampering_breaks_the_signature() {
        let ring = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
        let stranger = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
        assert_eq!(
            ring.verify(&stranger.sign(&claims()).unwrap()),
            Err(ScanOutcome::UnknownKey)
        );

        let token = ring.sign(&claims()).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_claims = TicketClaims {
            ticket_id: TicketId(8),
            ..claims()
        };
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap());
        parts[1] = &forged_payload;
        assert_eq!(
            ring.verify(&parts.join(".")),
            Err(ScanOutcome::InvalidSignature)
        );
    }

    #[test]
    fn garbage_is_malformed() {
        let ring = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
        for junk in ["", "abc", "a.b.c", "....", &"x".repeat(5000)] {
            assert_eq!(ring.verify(junk), Err(ScanOutcome::Malformed), "{junk:?}");
        }
    }
}
