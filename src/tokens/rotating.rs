//! The server key behind every rotating code's per-ticket secret.
//!
//! A ticket's TOTP secret is derived, not stored: HMAC-SHA256 of what the code names
//! (performance, ticket, generation, period: `CodeSubject::derivation_input`) under this key,
//! cut to 20 bytes. So nothing new sits in the database per ticket, a new generation (transfer,
//! claim, re-issue) has a new secret by construction, and a code whose named fields were
//! altered no longer matches. The key itself is derived from the oldest signing key, which the
//! database keeps forever and only sealed (see `service::signing`): it is as safe at rest as
//! the signing keys, survives `encore keys rewrap` (which reseals the same key) and a rotation
//! or retirement (the oldest row stays), and every process of one database derives the same.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::rotating::{CodeSubject, RotatingBarcode, SECRET_BYTES};

/// The key rotating codes' secrets are derived from, kept as the HMAC state already keyed with
/// it: every derivation clones it rather than hashing the key's pads again (the door derives
/// one per rotating scan).
#[derive(Clone)]
pub struct CodeKey(Hmac<Sha256>);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(…)")
    }
}

impl CodeKey {
    /// The code key of a signing key's private material, under a label of its own, so that it
    /// reveals nothing of the signing key and no other derivation from it can collide.
    pub fn from_signing_key(private_key: &str) -> CodeKey {
        let key = hmac_sha256(private_key.as_bytes(), b"encore rotating-code key v1");
        CodeKey(Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length"))
    }

    /// The TOTP secret of the code `subject` names.
    pub fn secret(&self, subject: &CodeSubject) -> [u8; SECRET_BYTES] {
        let mut mac = self.0.clone();
        mac.update(&subject.derivation_input());
        let full: [u8; 32] = mac.finalize().into_bytes().into();
        let mut secret = [0u8; SECRET_BYTES];
        secret.copy_from_slice(&full[..SECRET_BYTES]);
        secret
    }

    /// The rotating barcode of `subject`, secret included.
    pub fn barcode(&self, subject: CodeSubject) -> RotatingBarcode {
        RotatingBarcode::new(subject, self.secret(&subject))
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{PerformanceId, TicketId};

    fn subject(generation: i32) -> CodeSubject {
        CodeSubject {
            performance_id: PerformanceId(1),
            ticket_id: TicketId(2),
            generation,
            period_seconds: 15,
        }
    }

    #[test]
    fn each_generation_and_key_has_its_own_secret() {
        let key = CodeKey::from_signing_key("one");
        assert_eq!(key.secret(&subject(1)), key.secret(&subject(1)));
        assert_ne!(key.secret(&subject(1)), key.secret(&subject(2)));
        assert_ne!(
            key.secret(&subject(1)),
            CodeKey::from_signing_key("two").secret(&subject(1))
        );
        let longer = CodeSubject {
            period_seconds: 30,
            ..subject(1)
        };
        assert_ne!(key.secret(&subject(1)), key.secret(&longer));
    }
}
