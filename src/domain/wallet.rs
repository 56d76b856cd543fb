//! What a ticket's wallet pass says, whichever wallet holds it (Apple's `.pkpass`, Google's
//! event ticket object), and when it has changed enough that the wallets must be told.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::ids::{EventId, TicketId};
use super::rotating::RotatingBarcode;
use super::TicketStatus;

/// A ticket as its wallet pass shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassContent {
    pub ticket_id: TicketId,
    pub event_id: EventId,
    /// The ticket's generation: a new one means a new code at the door.
    pub generation: i32,
    pub status: TicketStatus,
    pub event_name: String,
    pub venue: String,
    pub starts_at: DateTime<Utc>,
    /// The performance's time as the venue reads it ("Fri 18 Dec 2026, 19:30").
    pub starts_at_text: String,
    pub holder_name: String,
    /// Section and seat ("Stalls · F12"), or "Unreserved".
    pub seat: String,
    /// What the pass's QR carries: the ticket's door token (absent once the ticket no longer
    /// admits, so a voided pass shows no code, and for an event whose codes rotate).
    pub barcode: Option<String>,
    /// The ticket's rotating code, when its event's codes rotate: a wallet that can show TOTP
    /// codes (Google's `rotatingBarcode`) shows it, changing as on the ticket page.
    pub rotating: Option<RotatingBarcode>,
}

impl PassContent {
    /// Section and seat as a pass names them.
    pub fn seat_text(section: Option<&str>, seat: Option<&str>) -> String {
        match (section, seat) {
            (Some(section), Some(seat)) => format!("{section} · {seat}"),
            (None, Some(seat)) => seat.to_string(),
            (Some(section), None) => section.to_string(),
            (None, None) => "Unreserved".into(),
        }
    }

    /// The ticket no longer admits (exchanged, transferred, canceled): the wallet greys it out.
    pub fn voided(&self) -> bool {
        self.status != TicketStatus::Valid
    }

    /// A fingerprint of what the holder sees. Two passes with the same digest look the same;
    /// when it moves, the wallets holding the pass are told to fetch it again. The door token
    /// itself is left out: its signature changes when the signing key rotates, which changes
    /// nothing the holder sees or the door accepts (the generation stands for it).
    pub fn digest(&self) -> String {
        let mut hash = Sha256::new();
        for part in [
            self.ticket_id.0.to_string().as_str(),
            self.generation.to_string().as_str(),
            self.status.as_str(),
            &self.event_name,
            &self.venue,
            &self.starts_at.timestamp().to_string(),
            &self.holder_name,
            &self.seat,
        ] {
            // Length-prefixed, so that moving text between fields changes the digest too.
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        hex::encode(hash.finalize())
    }
}

/// A ticket handed out as a pass, with the digest its wallets last heard of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedPass {
    pub ticket_id: TicketId,
    pub digest: String,
    /// Handed out as a Google Wallet object too (its object is updated through Google's API).
    pub in_google: bool,
}

/// An Apple device holding a ticket's pass, and where to push when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassDevice {
    pub device_library_id: String,
    pub ticket_id: TicketId,
    pub push_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass() -> PassContent {
        PassContent {
            ticket_id: TicketId(7),
            event_id: EventId(3),
            generation: 1,
            status: TicketStatus::Valid,
            event_name: "Hamlet".into(),
            venue: "The Old Vic".into(),
            starts_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            starts_at_text: "Fri 15 Jan 2027, 08:00".into(),
            holder_name: "Ada Lovelace".into(),
            seat: "Stalls · F12".into(),
            barcode: Some("token".into()),
            rotating: None,
        }
    }

    #[test]
    fn what_the_holder_sees_moves_the_digest() {
        let before = pass().digest();
        let canceled = PassContent {
            status: TicketStatus::Canceled,
            ..pass()
        };
        let renamed = PassContent {
            holder_name: "Grace Hopper".into(),
            ..pass()
        };
        let reissued = PassContent {
            generation: 2,
            ..pass()
        };
        for changed in [canceled, renamed, reissued] {
            assert_ne!(changed.digest(), before, "{changed:?}");
        }
    }

    #[test]
    fn a_new_signature_on_the_same_token_does_not() {
        let resigned = PassContent {
            barcode: Some("same claims, another key".into()),
            ..pass()
        };
        assert_eq!(resigned.digest(), pass().digest());
    }

    #[test]
    fn text_moved_between_fields_is_a_change() {
        let a = PassContent {
            event_name: "Ham".into(),
            venue: "letThe Old Vic".into(),
            ..pass()
        };
        assert_ne!(a.digest(), pass().digest());
    }
}
