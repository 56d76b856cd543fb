use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::compact::{self, Decoded, KeyHint};
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
    /// The signing key's hint in compact codes.
    active_hint: KeyHint,
    signing: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    /// The verifying keys by their hint in compact codes, for the door's lookup: decoded once
    /// here, where a `DecodingKey` would decompress its curve point again for every scan.
    by_hint: Vec<(KeyHint, VerifyingKey)>,
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
        let mut by_hint = Vec::with_capacity(keys.len());
        let mut published = Vec::with_capacity(keys.len());
        let mut active_hint = [0; compact::HINT_LEN];
        for key in keys {
            let decoding = DecodingKey::from_ed_components(&key.public_key)
                .map_err(|e| bad_key(&key.kid, e.to_string()))?;
            let public = URL_SAFE_NO_PAD
                .decode(&key.public_key)
                .map_err(|e| bad_key(&key.kid, e.to_string()))?;
            let hint = compact::key_hint(&public);
            if key.kid == newest.kid {
                active_hint = hint;
            }
            let point: [u8; 32] = public
                .as_slice()
                .try_into()
                .map_err(|_| bad_key(&key.kid, "an Ed25519 public key is 32 bytes".into()))?;
            let point =
                VerifyingKey::from_bytes(&point).map_err(|e| bad_key(&key.kid, e.to_string()))?;
            by_hint.push((hint, point));
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
            active_hint,
            signing: EncodingKey::from_ed_der(&der),
            verifying,
            by_hint,
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

    /// A ticket's code: the compact code ([`compact`]), or a JWT for claims its layout cannot
    /// hold (which no stored ticket has). Deterministic for a given key, as Ed25519 is.
    pub fn sign_ticket(&self, claims: &TicketClaims) -> Result<String, KeyRingError> {
        let keys = self.current();
        let Some(input) = compact::signing_input(keys.active_hint, claims) else {
            return self.sign(claims);
        };
        let signature = jsonwebtoken::crypto::sign(&input, &keys.signing, Algorithm::EdDSA)?;
        // Room for base64's estimate of 86 characters (66 bytes); a signature is 64.
        let mut raw = [0u8; compact::SIGNATURE_LEN + 2];
        match URL_SAFE_NO_PAD.decode_slice(&signature, &mut raw) {
            Ok(compact::SIGNATURE_LEN) => {
                let raw = raw[..compact::SIGNATURE_LEN].try_into().expect("64 bytes");
                Ok(compact::assemble(&input, raw))
            }
            _ => Err(KeyRingError::BadKey {
                kid: keys.active_kid.clone(),
                reason: "an Ed25519 signature is not 64 bytes".into(),
            }),
        }
    }

    /// Checks a ticket code — a compact code or a JWT — its shape, key and signature. The
    /// window and the ticket's state are the caller's to check.
    pub fn verify(&self, token: &str) -> Result<TicketClaims, ScanOutcome> {
        if compact::is_compact(token) {
            self.verify_compact(token)
        } else {
            self.verify_jwt(token)
        }
    }

    /// The id of the key a ticket code says signed it (the JWT's `kid`, or the first key whose
    /// hint the compact code carries), its signature unchecked: for operators and tests.
    pub fn kid_of(&self, token: &str) -> Option<String> {
        if !compact::is_compact(token) {
            return parse_header(token).ok()?.kid;
        }
        let hint = Decoded::parse(token).ok()?.hint();
        let keys = self.current();
        keys.published
            .iter()
            .zip(&keys.by_hint)
            .find(|(_, (h, _))| *h == hint)
            .map(|(jwk, _)| jwk.kid.clone())
    }

    /// A compact code: every key with the code's hint is tried (nearly always one). No
    /// allocation of its own beyond Base45's decoding.
    fn verify_compact(&self, token: &str) -> Result<TicketClaims, ScanOutcome> {
        let code = Decoded::parse(token)?;
        let keys = self.current();
        let mut candidates = keys
            .by_hint
            .iter()
            .filter(|(hint, _)| *hint == code.hint())
            .peekable();
        if candidates.peek().is_none() {
            return Err(ScanOutcome::UnknownKey);
        }
        let genuine = candidates.any(|(_, key)| signed_by(&code, key));
        if genuine {
            code.claims()
        } else {
            Err(ScanOutcome::InvalidSignature)
        }
    }

    /// Checks a JWT's shape, algorithm, key and signature. Only `EdDSA` is accepted: `none` and
    /// HMAC tokens (the classic "sign with the public key as secret" forgery) are refused
    /// before any key is used.
    fn verify_jwt(&self, token: &str) -> Result<TicketClaims, ScanOutcome> {
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

/// Whether `key` made the code's signature. Ed25519's standard verification, as the JWT path's:
/// a non-canonical `S` is refused; "strict" verification's further checks on the order of the
/// key and of `R` would decompress `R` for every scan (a tenth of a scan's work), and guard
/// against crafted keys, which ours are not.
fn signed_by(code: &Decoded, key: &VerifyingKey) -> bool {
    let signature = Signature::from_bytes(code.signature());
    key.verify(code.signing_input(), &signature).is_ok()
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
    fn a_compact_code_verifies_and_carries_its_claims_paper_or_not() {
        let ring = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
        for claims in [
            claims(),
            TicketClaims {
                paper: true,
                ..claims()
            },
        ] {
            let code = ring.sign_ticket(&claims).unwrap();
            assert!(code.starts_with('E'), "{code}");
            assert_eq!(ring.sign_ticket(&claims).unwrap(), code, "deterministic");
            assert_eq!(ring.verify(&code), Ok(claims));
        }
        // The JWT of earlier versions, from the same ring, still verifies.
        assert_eq!(ring.verify(&ring.sign(&claims()).unwrap()), Ok(claims()));
    }

    #[test]
    fn every_tampered_byte_of_a_compact_code_is_refused() {
        let ring = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
        let code = ring.sign_ticket(&claims()).unwrap();
        let bytes = base45::decode(&code[1..]).unwrap();
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut tampered = bytes.clone();
                tampered[i] ^= flip;
                let text = format!("E{}", base45::encode(&tampered));
                // The key hint names another key, which this ring does not have, as a JWT
                // whose `kid` was changed; every other byte breaks the signature.
                let expected = if i < compact::HINT_LEN {
                    ScanOutcome::UnknownKey
                } else {
                    ScanOutcome::InvalidSignature
                };
                assert_eq!(ring.verify(&text), Err(expected), "byte {i} ^ {flip:#x}");
            }
        }
        // Each character changed into another of the alphabet: refused, never admitted,
        // never taken for something else than a ticket code.
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
        for i in 1..code.len() {
            for &other in alphabet.iter().step_by(7) {
                let mut tampered = code.clone().into_bytes();
                if tampered[i] == other {
                    continue;
                }
                tampered[i] = other;
                let text = String::from_utf8(tampered).unwrap();
                let outcome = ring.verify(&text);
                assert!(
                    matches!(
                        outcome,
                        Err(ScanOutcome::InvalidSignature | ScanOutcome::UnknownKey)
                    ),
                    "character {i} as {:?}: {outcome:?}",
                    other as char
                );
            }
        }
    }

    #[test]
    fn a_compact_code_of_the_wrong_length_or_from_a_stranger_is_refused() {
        let ring = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
        let code = ring.sign_ticket(&claims()).unwrap();
        for cut in [1, 2, 3, 6, 60] {
            let shorter = &code[..code.len() - cut];
            assert!(
                matches!(
                    ring.verify(shorter),
                    Err(ScanOutcome::Malformed | ScanOutcome::InvalidSignature)
                ),
                "{shorter}"
            );
        }
        for extra in ["0", "00", "000", "AB0"] {
            let longer = format!("{code}{extra}");
            assert!(
                matches!(
                    ring.verify(&longer),
                    Err(ScanOutcome::Malformed | ScanOutcome::InvalidSignature)
                ),
                "{longer}"
            );
        }
        let stranger = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
        let theirs = stranger.sign_ticket(&claims()).unwrap();
        // A stranger's key whose hint happens to be ours (1 in 65536) fails its signature.
        assert!(matches!(
            ring.verify(&theirs),
            Err(ScanOutcome::UnknownKey | ScanOutcome::InvalidSignature)
        ));
    }

    #[test]
    fn rotation_keeps_old_compact_codes_and_retiring_ends_them() {
        let old = GeneratedKey::generate().unwrap();
        let new = GeneratedKey::generate().unwrap();
        let ring = KeyRing::new(std::slice::from_ref(&old)).unwrap();
        let old_code = ring.sign_ticket(&claims()).unwrap();
        ring.replace(&[old.clone(), new.clone()]).unwrap();
        let new_code = ring.sign_ticket(&claims()).unwrap();
        assert_ne!(new_code, old_code);
        assert_eq!(ring.verify(&old_code), Ok(claims()));
        assert_eq!(ring.verify(&new_code), Ok(claims()));
        ring.replace(std::slice::from_ref(&new)).unwrap();
        assert_eq!(ring.verify(&old_code), Err(ScanOutcome::UnknownKey));
    }

    #[test]
    fn garbage_is_malformed() {
        let ring = KeyRing::new(&[GeneratedKey::generate().unwrap()]).unwrap();
        for junk in ["", "abc", "a.b.c", "....", &"x".repeat(5000)] {
            assert_eq!(ring.verify(junk), Err(ScanOutcome::Malformed), "{junk:?}");
        }
    }
}
