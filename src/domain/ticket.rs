use chrono::{DateTime, Utc};
use serde::Serialize;

use super::ids::{PerformanceId, TicketId};
use super::scan::TicketAtDoor;
use super::text::{label, optional_label};
use super::{EmailAddress, Invalid, Money};

/// Where a ticket is in its life. Only `valid` tickets admit; the others end it for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Valid,
    Exchanged,
    Transferred,
    Canceled,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 4] = [
        TicketStatus::Valid,
        TicketStatus::Exchanged,
        TicketStatus::Transferred,
        TicketStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Valid => "valid",
            TicketStatus::Exchanged => "exchanged",
            TicketStatus::Transferred => "transferred",
            TicketStatus::Canceled => "canceled",
        }
    }
}

/// A ticket the box office asked for, checked field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    pub holder_name: String,
    pub holder_email: EmailAddress,
    pub price: Money,
    pub seat: Option<String>,
    pub section: Option<String>,
    /// The caller's own key for this ticket (a CSV row), so that a re-run issues nothing twice.
    pub external_ref: Option<String>,
    /// Pay what the holder's stored credit covers of the price.
    pub apply_credit: bool,
    /// The language its emails and pages speak; `None`: its event's.
    pub locale: Option<super::locale::Locale>,
}

impl NewTicket {
    pub fn parse(
        holder_name: &str,
        holder_email: &str,
        price_minor: i64,
        currency: &str,
        seat: Option<&str>,
        section: Option<&str>,
    ) -> Result<Self, Invalid> {
        Ok(NewTicket {
            holder_name: label("holder_name", holder_name, 200)?,
            holder_email: EmailAddress::parse("holder_email", holder_email)?,
            price: Money::parse(price_minor, currency)?,
            seat: optional_label("seat", seat, 32)?,
            section: optional_label("section", section, 64)?,
            external_ref: None,
            apply_credit: false,
            locale: None,
        })
    }

    pub fn paying_with_credit(mut self, apply_credit: bool) -> Self {
        self.apply_credit = apply_credit;
        self
    }

    pub fn speaking(mut self, locale: Option<super::locale::Locale>) -> Self {
        self.locale = locale;
        self
    }

    pub fn with_external_ref(mut self, external_ref: String) -> Self {
        self.external_ref = Some(external_ref);
        self
    }
}

/// A ticket as it stands: whose it is, what it cost, where it is in its life and, once used,
/// its admission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: TicketId,
    pub performance_id: PerformanceId,
    pub holder_name: String,
    /// As stored when the ticket was issued (checked then).
    pub holder_email: String,
    pub price: Money,
    pub seat: Option<String>,
    pub section: Option<String>,
    pub status: TicketStatus,
    /// Bumped whenever an earlier QR of the ticket must stop admitting.
    pub generation: i32,
    /// The issuer's own key for it (a CSV row), if it gave one.
    pub external_ref: Option<String>,
    pub issued_at: DateTime<Utc>,
    /// Its (earliest known) admission; `None` while unused.
    pub admission: Option<Admission>,
    /// The ticket this one replaced (after an exchange or a claimed transfer).
    pub replaces: Option<TicketId>,
    /// The language its emails and pages speak.
    pub locale: super::locale::Locale,
}

impl Ticket {
    /// What the door's rules need of the ticket.
    pub fn at_door(&self) -> TicketAtDoor {
        TicketAtDoor {
            performance_id: self.performance_id,
            status: self.status,
            generation: self.generation,
            admitted_at: self.admission.as_ref().map(|a| a.at),
        }
    }

    pub fn is_admitted(&self) -> bool {
        self.admission.is_some()
    }
}

/// When, at which gate and by which device a ticket was admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub at: DateTime<Utc>,
    pub gate: String,
    pub device: String,
}

/// A ticket to store: a new one issued by the box office, or one taking another's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketToStore {
    // Where and when it comes from.
    pub performance_id: PerformanceId,
    pub issued_at: DateTime<Utc>,
    /// 1 for a new ticket; a successor continues its predecessor's count.
    pub generation: i32,
    pub replaces: Option<TicketId>,
    // Whose it is and what it holds.
    pub holder_name: String,
    pub holder_email: String,
    pub price: Money,
    pub external_ref: Option<String>,
    pub seat: Option<String>,
    pub section: Option<String>,
    /// The language its emails and pages speak.
    pub locale: super::locale::Locale,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_door_sees_the_tickets_state_and_the_time_of_its_admission() {
        let at = DateTime::from_timestamp(1_796_155_200, 0).unwrap();
        let mut ticket = Ticket {
            id: TicketId(7),
            performance_id: PerformanceId(3),
            holder_name: "Ada".into(),
            holder_email: "ada@example.org".into(),
            price: Money::parse(4500, "EUR").unwrap(),
            seat: None,
            section: None,
            status: TicketStatus::Valid,
            generation: 2,
            external_ref: None,
            issued_at: at,
            admission: None,
            replaces: None,
            locale: crate::domain::locale::Locale::En,
        };
        assert!(!ticket.is_admitted());
        assert_eq!(ticket.at_door().admitted_at, None);
        ticket.admission = Some(Admission {
            at,
            gate: "north".into(),
            device: "phone-1".into(),
        });
        let door = ticket.at_door();
        assert_eq!(
            (door.performance_id, door.generation, door.admitted_at),
            (PerformanceId(3), 2, Some(at))
        );
    }

    #[test]
    fn a_new_ticket_is_checked_field_by_field() {
        let t =
            NewTicket::parse(" Ada ", "ada@example.org", 4500, "EUR", Some("A1"), None).unwrap();
        assert_eq!(t.holder_name, "Ada");
        assert_eq!(t.seat.as_deref(), Some("A1"));
        assert_eq!(
            NewTicket::parse("", "ada@example.org", 1, "EUR", None, None)
                .unwrap_err()
                .field,
            "holder_name"
        );
        assert_eq!(
            NewTicket::parse("Ada", "nope", 1, "EUR", None, None)
                .unwrap_err()
                .field,
            "holder_email"
        );
        assert_eq!(
            NewTicket::parse("Ada", "a@b.org", -5, "EUR", None, None)
                .unwrap_err()
                .field,
            "price_minor"
        );
    }
}
