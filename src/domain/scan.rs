//! How the door decides. The admission itself is one conditional write in storage; these rules
//! say why a ticket was refused when that write did not admit, and check the token's window.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::event::ScanWindow;
use super::TicketStatus;

/// Every answer the door can give, with a stable machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanOutcome {
    Admitted,
    AlreadyAdmitted,
    InvalidSignature,
    UnknownKey,
    Malformed,
    Expired,
    NotYetValid,
    WrongPerformance,
    Superseded,
    Canceled,
    Exchanged,
    Transferred,
    /// A correctly signed token whose ticket this database does not hold (e.g. restored from
    /// an older backup). Never expected in normal operation.
    UnknownTicket,
    /// An offline upload: the ticket was also admitted by another device (two entries on one
    /// ticket). Only uploads of offline scans give it.
    Conflict,
    /// An offline upload: the device refused the ticket (it had no bundle, a stale one, or
    /// another reason of its own) although the server would have admitted it then. The patron
    /// was turned away, so nothing was admitted. Only uploads of offline scans give it.
    RefusedOffline,
    /// An offline upload: the device's clock put the scan where it cannot have been — before
    /// its ticket was issued, after the upload, or outside the performance's scan window (see
    /// [`ClockBounds`]). Recorded as it came, it admits nobody and moves no admission. Only
    /// uploads of offline scans give it.
    ClockOutOfBounds,
}

impl ScanOutcome {
    pub const ALL: [ScanOutcome; 16] = [
        ScanOutcome::Admitted,
        ScanOutcome::AlreadyAdmitted,
        ScanOutcome::InvalidSignature,
        ScanOutcome::UnknownKey,
        ScanOutcome::Malformed,
        ScanOutcome::Expired,
        ScanOutcome::NotYetValid,
        ScanOutcome::WrongPerformance,
        ScanOutcome::Superseded,
        ScanOutcome::Canceled,
        ScanOutcome::Exchanged,
        ScanOutcome::Transferred,
        ScanOutcome::UnknownTicket,
        ScanOutcome::Conflict,
        ScanOutcome::RefusedOffline,
        ScanOutcome::ClockOutOfBounds,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ScanOutcome::Admitted => "admitted",
            ScanOutcome::AlreadyAdmitted => "already_admitted",
            ScanOutcome::InvalidSignature => "invalid_signature",
            ScanOutcome::UnknownKey => "unknown_key",
            ScanOutcome::Malformed => "malformed",
            ScanOutcome::Expired => "expired",
            ScanOutcome::NotYetValid => "not_yet_valid",
            ScanOutcome::WrongPerformance => "wrong_performance",
            ScanOutcome::Superseded => "superseded",
            ScanOutcome::Canceled => "canceled",
            ScanOutcome::Exchanged => "exchanged",
            ScanOutcome::Transferred => "transferred",
            ScanOutcome::UnknownTicket => "unknown_ticket",
            ScanOutcome::Conflict => "conflict",
            ScanOutcome::RefusedOffline => "refused_offline",
            ScanOutcome::ClockOutOfBounds => "clock_out_of_bounds",
        }
    }

    pub fn from_code(code: &str) -> Option<ScanOutcome> {
        ScanOutcome::ALL.into_iter().find(|o| o.code() == code)
    }

    pub fn is_admitted(self) -> bool {
        self == ScanOutcome::Admitted
    }

    /// Whether the ticket itself refused (its state), as opposed to the token being unusable.
    pub fn is_ticket_state(self) -> bool {
        matches!(
            self,
            ScanOutcome::AlreadyAdmitted
                | ScanOutcome::Conflict
                | ScanOutcome::Superseded
                | ScanOutcome::Canceled
                | ScanOutcome::Exchanged
                | ScanOutcome::Transferred
        )
    }

    /// What the door person reads.
    pub fn message(self) -> &'static str {
        match self {
            ScanOutcome::Admitted => "Welcome in.",
            ScanOutcome::AlreadyAdmitted => "This ticket has already been admitted.",
            ScanOutcome::InvalidSignature => "This code is not a genuine ticket (bad signature).",
            ScanOutcome::UnknownKey => "This code was signed with a key we do not know.",
            ScanOutcome::Malformed => "This is not a ticket code.",
            ScanOutcome::Expired => "This ticket is no longer valid (the performance is over).",
            ScanOutcome::NotYetValid => "This ticket is not valid yet (is it for another day?).",
            ScanOutcome::WrongPerformance => "This ticket is for another performance.",
            ScanOutcome::Superseded => "This code was replaced by a newer one for the same ticket.",
            ScanOutcome::Canceled => "This ticket was canceled.",
            ScanOutcome::Exchanged => "This ticket was exchanged.",
            ScanOutcome::Transferred => "This ticket was transferred to someone else.",
            ScanOutcome::UnknownTicket => "No such ticket is on record.",
            ScanOutcome::Conflict => "This ticket was also admitted by another device.",
            ScanOutcome::RefusedOffline => {
                "The scanner refused this ticket offline, although it was valid then."
            }
            ScanOutcome::ClockOutOfBounds => {
                "The scanner's clock put this scan before the ticket was issued, after its upload, or outside the performance's scan window."
            }
        }
    }
}

/// What storage knows of a ticket when the admitting write did not admit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketAtDoor {
    pub status: TicketStatus,
    pub generation: i32,
    pub admitted: bool,
}

/// Why a ticket that the conditional admission did not admit was refused. The order matters:
/// an old QR of a ticket reports "superseded" even if the ticket has since been admitted.
pub fn refusal_reason(ticket: TicketAtDoor, token_generation: i32) -> ScanOutcome {
    if token_generation != ticket.generation {
        return ScanOutcome::Superseded;
    }
    match ticket.status {
        TicketStatus::Canceled => ScanOutcome::Canceled,
        TicketStatus::Exchanged => ScanOutcome::Exchanged,
        TicketStatus::Transferred => ScanOutcome::Transferred,
        TicketStatus::Valid if ticket.admitted => ScanOutcome::AlreadyAdmitted,
        // Valid, current and not admitted, yet the write did not admit: only a ticket of another
        // performance fits, which the caller checks first. Refuse rather than guess.
        TicketStatus::Valid => ScanOutcome::WrongPerformance,
    }
}

/// What a scan the device refused offline is recorded as, for a genuine token of a ticket of the
/// performance: the server's own refusal when it has one (superseded, canceled, exchanged,
/// transferred, or already admitted when `ticket.admitted` says the ticket was in by the
/// scan's time), else `refused_offline` — the server would have admitted it, but the patron
/// was turned away, so it is never an admission.
pub fn device_refusal(ticket: TicketAtDoor, token_generation: i32) -> ScanOutcome {
    let admissible = token_generation == ticket.generation
        && ticket.status == TicketStatus::Valid
        && !ticket.admitted;
    if admissible {
        ScanOutcome::RefusedOffline
    } else {
        refusal_reason(ticket, token_generation)
    }
}

/// Where the device's clock may place a scan made offline: not before its ticket was issued,
/// not after the upload that brings it, and inside the performance's scan window — each give
/// or take `leeway`, for a clock that drifts. A scan outside is `clock_out_of_bounds`: its time
/// cannot be true, so it must neither admit nor take the place of an admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockBounds {
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
}

impl ClockBounds {
    pub fn new(
        issued_at: DateTime<Utc>,
        window: ScanWindow,
        uploaded_at: DateTime<Utc>,
        leeway: Duration,
    ) -> Self {
        ClockBounds {
            earliest: issued_at.max(window.not_before) - leeway,
            latest: uploaded_at.min(window.expires) + leeway,
        }
    }

    pub fn check(&self, scanned_at: DateTime<Utc>) -> Result<(), ScanOutcome> {
        if (self.earliest..=self.latest).contains(&scanned_at) {
            Ok(())
        } else {
            Err(ScanOutcome::ClockOutOfBounds)
        }
    }
}

/// Checks a token's validity window, with some leeway for clocks that drift.
pub fn check_window(
    not_before: DateTime<Utc>,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
    leeway: Duration,
) -> Result<(), ScanOutcome> {
    if now + leeway < not_before {
        Err(ScanOutcome::NotYetValid)
    } else if now - leeway >= expires {
        Err(ScanOutcome::Expired)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ticket(status: TicketStatus, generation: i32, admitted: bool) -> TicketAtDoor {
        TicketAtDoor {
            status,
            generation,
            admitted,
        }
    }

    #[test]
    fn an_old_generation_is_superseded_whatever_else_happened() {
        assert_eq!(
            refusal_reason(ticket(TicketStatus::Valid, 2, true), 1),
            ScanOutcome::Superseded
        );
        assert_eq!(
            refusal_reason(ticket(TicketStatus::Canceled, 3, false), 2),
            ScanOutcome::Superseded
        );
    }

    #[test]
    fn ended_tickets_say_how_they_ended() {
        assert_eq!(
            refusal_reason(ticket(TicketStatus::Canceled, 1, false), 1),
            ScanOutcome::Canceled
        );
        assert_eq!(
            refusal_reason(ticket(TicketStatus::Exchanged, 1, false), 1),
            ScanOutcome::Exchanged
        );
        assert_eq!(
            refusal_reason(ticket(TicketStatus::Transferred, 1, false), 1),
            ScanOutcome::Transferred
        );
        assert_eq!(
            refusal_reason(ticket(TicketStatus::Valid, 1, true), 1),
            ScanOutcome::AlreadyAdmitted
        );
    }

    #[test]
    fn a_device_refusal_is_never_an_admission() {
        assert_eq!(
            device_refusal(ticket(TicketStatus::Valid, 1, false), 1),
            ScanOutcome::RefusedOffline
        );
        assert_eq!(
            device_refusal(ticket(TicketStatus::Valid, 1, true), 1),
            ScanOutcome::AlreadyAdmitted
        );
        assert_eq!(
            device_refusal(ticket(TicketStatus::Valid, 2, false), 1),
            ScanOutcome::Superseded
        );
        for (status, outcome) in [
            (TicketStatus::Canceled, ScanOutcome::Canceled),
            (TicketStatus::Exchanged, ScanOutcome::Exchanged),
            (TicketStatus::Transferred, ScanOutcome::Transferred),
        ] {
            assert_eq!(device_refusal(ticket(status, 1, false), 1), outcome);
        }
    }

    #[test]
    fn the_window_has_leeway_on_both_sides() {
        let t = |m| Utc.with_ymd_and_hms(2026, 12, 1, 20, m, 0).unwrap();
        let leeway = Duration::seconds(30);
        assert_eq!(
            check_window(t(10), t(50), t(5), leeway),
            Err(ScanOutcome::NotYetValid)
        );
        assert_eq!(check_window(t(10), t(50), t(10), leeway), Ok(()));
        assert_eq!(check_window(t(10), t(50), t(50), leeway), Ok(()));
        assert_eq!(
            check_window(t(10), t(50), t(51), leeway),
            Err(ScanOutcome::Expired)
        );
    }

    #[test]
    fn a_device_clock_is_bounded_by_issue_upload_and_window() {
        let t = |h, m| Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).unwrap();
        let window = ScanWindow {
            not_before: t(12, 0),
            expires: t(23, 0),
        };
        let leeway = Duration::minutes(5);
        // Issued at 14:00, uploaded at 20:00: from 13:55 to 20:05.
        let bounds = ClockBounds::new(t(14, 0), window, t(20, 0), leeway);
        for inside in [t(13, 55), t(14, 0), t(19, 0), t(20, 5)] {
            assert_eq!(bounds.check(inside), Ok(()), "{inside}");
        }
        for outside in [t(11, 0), t(13, 54), t(20, 6), t(22, 0)] {
            assert_eq!(
                bounds.check(outside),
                Err(ScanOutcome::ClockOutOfBounds),
                "{outside}"
            );
        }
        // The window bounds when it is the narrower: issued before it, uploaded after it.
        let bounds = ClockBounds::new(t(9, 0), window, t(23, 30), leeway);
        assert_eq!(bounds.check(t(11, 56)), Ok(()));
        assert_eq!(bounds.check(t(11, 54)), Err(ScanOutcome::ClockOutOfBounds));
        assert_eq!(bounds.check(t(23, 5)), Ok(()));
        assert_eq!(bounds.check(t(23, 6)), Err(ScanOutcome::ClockOutOfBounds));
    }

    #[test]
    fn codes_are_stable_and_unique() {
        for o in ScanOutcome::ALL {
            assert_eq!(ScanOutcome::from_code(o.code()), Some(o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.code());
        }
    }
}
