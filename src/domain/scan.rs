//! How the door decides. The admission itself is one conditional write in storage; these rules
//! say why a ticket was refused when that write did not admit, and check the token's window.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::event::ScanWindow;
use super::ids::{PerformanceId, TicketId};
use super::rotating::{Barcode, CodeKind};
use super::TicketStatus;

/// A scan attempt as recorded (an arrival event), accepted or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// What the token named, known when its signature held.
    pub named: Option<Named>,
    pub gate: String,
    pub device: String,
    pub outcome: ScanOutcome,
    /// For a scan made offline, the device's clock.
    pub scanned_at: DateTime<Utc>,
    /// For a scan made offline: when its upload reached the server.
    pub uploaded_at: Option<DateTime<Utc>>,
    /// The reason an offline scanner gave for refusing the patron (its own code).
    pub device_refusal: Option<String>,
    /// Which kind of code was presented, when it named a ticket (unknown for scans recorded
    /// before rotating codes).
    pub code_kind: Option<CodeKind>,
}

/// What a genuine token names: a generation of a ticket of a performance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named {
    pub ticket_id: TicketId,
    pub performance_id: PerformanceId,
    pub generation: i32,
}

/// A scan attempt to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewArrival<'a> {
    pub ticket_id: Option<TicketId>,
    pub performance_id: Option<PerformanceId>,
    pub token_generation: Option<i32>,
    pub gate: &'a str,
    pub device: &'a str,
    pub outcome: ScanOutcome,
    pub scanned_at: DateTime<Utc>,
    /// Set for a scan made offline and uploaded later.
    pub upload: Option<Upload<'a>>,
    /// For a scan the device refused offline, the reason it gave (its own short code, e.g.
    /// `no_bundle`); `None` for a scan made online and for an offline admission.
    pub device_refusal: Option<&'a str>,
    /// Which kind of code was presented, when it named a ticket.
    pub code_kind: Option<CodeKind>,
}

/// How an offline scan reached the server: under its idempotency key, at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upload<'a> {
    pub key: &'a str,
    pub at: DateTime<Utc>,
}

/// A ticket's state as a scanner needs it: which generation admits, and whether it is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoorEntry {
    pub ticket_id: TicketId,
    pub generation: i32,
    pub status: TicketStatus,
}

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
    /// A rotating code whose value is not the one of now (give or take the configured leeway):
    /// a screenshot, or a number typed wrong.
    StaleCode,
    /// The signed (static) code of an event whose tickets rotate: an email's or an earlier
    /// download's QR. Only a paper code printed by the box office admits there.
    StaticCodeNotAccepted,
}

impl ScanOutcome {
    pub const ALL: [ScanOutcome; 18] = [
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
        ScanOutcome::StaleCode,
        ScanOutcome::StaticCodeNotAccepted,
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
            ScanOutcome::StaleCode => "stale_code",
            ScanOutcome::StaticCodeNotAccepted => "static_code_not_accepted",
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
            ScanOutcome::StaleCode => {
                "This code is out of date (a screenshot?): ask for the live code on the ticket page."
            }
            ScanOutcome::StaticCodeNotAccepted => {
                "This event admits with the live code on the ticket page, not a printed or emailed one."
            }
        }
    }
}

/// What storage knows of a ticket at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketAtDoor {
    pub performance_id: PerformanceId,
    pub status: TicketStatus,
    pub generation: i32,
    /// Its admission (the earliest known), if it was admitted.
    pub admitted_at: Option<DateTime<Utc>>,
}

/// What a genuine token asks the door to admit: a generation of a ticket of a performance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presented {
    pub performance_id: PerformanceId,
    pub generation: i32,
}

/// The ticket a genuine token names, if it is on record and of the token's performance: one of
/// another performance is as unknown to this door as one never issued.
fn named(ticket: Option<TicketAtDoor>, token: Presented) -> Option<TicketAtDoor> {
    ticket.filter(|t| t.performance_id == token.performance_id)
}

/// Whether the conditional admission admits a genuine token, given its ticket as it is now and
/// held still (locked): the ticket of the token's performance and generation, valid, not yet
/// admitted. The write checks the same condition; this lets a batch skip the write for tokens
/// that cannot admit.
pub fn admits_online(ticket: Option<TicketAtDoor>, token: Presented) -> bool {
    named(ticket, token).is_some_and(|t| {
        t.generation == token.generation
            && t.status == TicketStatus::Valid
            && t.admitted_at.is_none()
    })
}

/// Why a genuine token that the conditional admission did not admit was refused, from the
/// ticket as it is now (`None`: not on record).
pub fn refused_online(ticket: Option<TicketAtDoor>, token: Presented) -> ScanOutcome {
    match named(ticket, token) {
        Some(ticket) => refusal_reason(ticket, token.generation),
        None => ScanOutcome::UnknownTicket,
    }
}

/// Why a ticket of the token's performance does not admit it. The order matters: an old QR of
/// a ticket reports "superseded" even if the ticket has since been admitted.
fn refusal_reason(ticket: TicketAtDoor, token_generation: i32) -> ScanOutcome {
    if token_generation != ticket.generation {
        return ScanOutcome::Superseded;
    }
    match ticket.status {
        TicketStatus::Canceled => ScanOutcome::Canceled,
        TicketStatus::Exchanged => ScanOutcome::Exchanged,
        TicketStatus::Transferred => ScanOutcome::Transferred,
        TicketStatus::Valid if ticket.admitted_at.is_some() => ScanOutcome::AlreadyAdmitted,
        // Valid, current and not admitted, yet the write did not admit: only a ticket of another
        // performance fits, which the caller checks first. Refuse rather than guess.
        TicketStatus::Valid => ScanOutcome::WrongPerformance,
    }
}

/// What a new offline scan of a genuine token made it, given the ticket as merged so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfflineDecision {
    pub outcome: ScanOutcome,
    /// The scan is now the ticket's admission: the earliest one known.
    pub admits_earliest: bool,
}

impl OfflineDecision {
    fn refused(outcome: ScanOutcome) -> Self {
        OfflineDecision {
            outcome,
            admits_earliest: false,
        }
    }
}

/// What a new offline scan of a genuine token is, made at `scanned_at` by a device that has
/// (`by_admitting_device`) or has not admitted this ticket before.
///
/// Earliest wins: the ticket keeps the earliest admission known, so a scan earlier than the one
/// on record takes its place — that is when the holder really came in, what the arrivals count
/// per minute, and what a later duplicate is told. Its outcome still says what it was when it
/// reached us: `conflict` if another device had admitted the ticket (two entries on one
/// ticket: counted whichever device uploads first), `already_admitted` if this device had
/// (its own duplicate, which it refused at the door).
pub fn decide(
    ticket: Option<TicketAtDoor>,
    token: Presented,
    scanned_at: DateTime<Utc>,
    by_admitting_device: bool,
) -> OfflineDecision {
    let Some(ticket) = named(ticket, token) else {
        return OfflineDecision::refused(ScanOutcome::UnknownTicket);
    };
    if ticket.status != TicketStatus::Valid || ticket.generation != token.generation {
        return OfflineDecision::refused(refusal_reason(ticket, token.generation));
    }
    let outcome = match ticket.admitted_at {
        None => ScanOutcome::Admitted,
        Some(_) if by_admitting_device => ScanOutcome::AlreadyAdmitted,
        Some(_) => ScanOutcome::Conflict,
    };
    OfflineDecision {
        outcome,
        admits_earliest: ticket.admitted_at.is_none_or(|first| scanned_at < first),
    }
}

/// What a new offline scan of a genuine token that the device refused is recorded as. The
/// patron was turned away: the scan never admits, and it is judged against the ticket as
/// merged so far, as at the scan's time — an admission after it (however it came to be on
/// record) was not there yet. So it is the server's own refusal when it has one (superseded,
/// canceled, exchanged, transferred, or already admitted by the scan's time), else
/// `refused_offline`: the server would have admitted it.
pub fn refused_by_device(
    ticket: Option<TicketAtDoor>,
    token: Presented,
    scanned_at: DateTime<Utc>,
) -> ScanOutcome {
    let Some(mut ticket) = named(ticket, token) else {
        return ScanOutcome::UnknownTicket;
    };
    ticket.admitted_at = ticket.admitted_at.filter(|&first| first <= scanned_at);
    let admissible = token.generation == ticket.generation
        && ticket.status == TicketStatus::Valid
        && ticket.admitted_at.is_none();
    if admissible {
        ScanOutcome::RefusedOffline
    } else {
        refusal_reason(ticket, token.generation)
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

/// What the performance's rules say of a genuine code presented at `at`, before the ticket's
/// state is asked: a static code of an event whose codes rotate is refused (a paper code the
/// box office printed is not), and a rotating code admits only inside the scan window and
/// from its reveal on (`revealed_at`; each give or take `leeway`). `None`: the ticket decides.
pub fn refused_by_rules(
    code: CodeKind,
    barcode: Barcode,
    window: ScanWindow,
    revealed_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    leeway: Duration,
) -> Option<ScanOutcome> {
    match code {
        CodeKind::Static if barcode.is_rotating() => Some(ScanOutcome::StaticCodeNotAccepted),
        CodeKind::Static | CodeKind::Paper => None,
        CodeKind::Rotating => {
            let from = revealed_at.map_or(window.not_before, |r| r.max(window.not_before));
            check_window(from, window.expires, at, leeway).err()
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

    const PERFORMANCE: PerformanceId = PerformanceId(7);

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 20, minute, 0).unwrap()
    }

    /// A ticket of `PERFORMANCE`, admitted (if it is) at 20:10.
    fn ticket(status: TicketStatus, generation: i32, admitted: bool) -> TicketAtDoor {
        TicketAtDoor {
            performance_id: PERFORMANCE,
            status,
            generation,
            admitted_at: admitted.then(|| at(10)),
        }
    }

    fn token(generation: i32) -> Presented {
        Presented {
            performance_id: PERFORMANCE,
            generation,
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
    fn only_a_current_valid_unused_ticket_of_the_performance_admits_online() {
        assert!(admits_online(
            Some(ticket(TicketStatus::Valid, 2, false)),
            token(2)
        ));
        let elsewhere = Presented {
            performance_id: PerformanceId(PERFORMANCE.0 + 1),
            generation: 2,
        };
        let refused = [
            (Some(ticket(TicketStatus::Valid, 2, false)), token(1)),
            (Some(ticket(TicketStatus::Valid, 2, false)), elsewhere),
            (Some(ticket(TicketStatus::Valid, 2, true)), token(2)),
            (Some(ticket(TicketStatus::Canceled, 2, false)), token(2)),
            (Some(ticket(TicketStatus::Exchanged, 2, false)), token(2)),
            (Some(ticket(TicketStatus::Transferred, 2, false)), token(2)),
            (None, token(2)),
        ];
        for (t, presented) in refused {
            assert!(!admits_online(t, presented), "{t:?} {presented:?}");
            // What the door answers instead is never an admission.
            assert_ne!(refused_online(t, presented), ScanOutcome::Admitted);
        }
    }

    #[test]
    fn a_ticket_of_another_performance_is_unknown_at_this_door() {
        let elsewhere = Presented {
            performance_id: PerformanceId(PERFORMANCE.0 + 1),
            generation: 1,
        };
        let valid = Some(ticket(TicketStatus::Valid, 1, false));
        for t in [valid, None] {
            assert_eq!(refused_online(t, elsewhere), ScanOutcome::UnknownTicket);
            assert_eq!(
                refused_by_device(t, elsewhere, at(20)),
                ScanOutcome::UnknownTicket
            );
            assert_eq!(
                decide(t, elsewhere, at(20), false),
                OfflineDecision::refused(ScanOutcome::UnknownTicket)
            );
        }
        assert_eq!(
            refused_online(Some(ticket(TicketStatus::Valid, 1, true)), token(1)),
            ScanOutcome::AlreadyAdmitted
        );
    }

    #[test]
    fn a_device_refusal_is_never_an_admission() {
        let refused = |t, generation| refused_by_device(Some(t), token(generation), at(20));
        assert_eq!(
            refused(ticket(TicketStatus::Valid, 1, false), 1),
            ScanOutcome::RefusedOffline
        );
        assert_eq!(
            refused(ticket(TicketStatus::Valid, 1, true), 1),
            ScanOutcome::AlreadyAdmitted
        );
        assert_eq!(
            refused(ticket(TicketStatus::Valid, 2, false), 1),
            ScanOutcome::Superseded
        );
        for (status, outcome) in [
            (TicketStatus::Canceled, ScanOutcome::Canceled),
            (TicketStatus::Exchanged, ScanOutcome::Exchanged),
            (TicketStatus::Transferred, ScanOutcome::Transferred),
        ] {
            assert_eq!(refused(ticket(status, 1, false), 1), outcome);
        }
    }

    #[test]
    fn a_device_refusal_before_the_admission_was_a_refusal_of_a_valid_ticket() {
        let admitted = Some(ticket(TicketStatus::Valid, 1, true));
        assert_eq!(
            refused_by_device(admitted, token(1), at(9)),
            ScanOutcome::RefusedOffline
        );
        assert_eq!(
            refused_by_device(admitted, token(1), at(10)),
            ScanOutcome::AlreadyAdmitted
        );
    }

    #[test]
    fn the_earliest_offline_admission_wins() {
        let fresh = Some(ticket(TicketStatus::Valid, 1, false));
        assert_eq!(
            decide(fresh, token(1), at(20), false),
            OfflineDecision {
                outcome: ScanOutcome::Admitted,
                admits_earliest: true
            }
        );
        let admitted = Some(ticket(TicketStatus::Valid, 1, true));
        // Another device came first: a conflict, which takes the admission if it was earlier.
        assert_eq!(
            decide(admitted, token(1), at(5), false),
            OfflineDecision {
                outcome: ScanOutcome::Conflict,
                admits_earliest: true
            }
        );
        assert_eq!(
            decide(admitted, token(1), at(10), false),
            OfflineDecision {
                outcome: ScanOutcome::Conflict,
                admits_earliest: false
            }
        );
        // The same device again: its own duplicate.
        assert_eq!(
            decide(admitted, token(1), at(20), true),
            OfflineDecision {
                outcome: ScanOutcome::AlreadyAdmitted,
                admits_earliest: false
            }
        );
    }

    #[test]
    fn an_offline_scan_of_an_ended_or_old_ticket_never_admits() {
        for (t, generation, outcome) in [
            (
                ticket(TicketStatus::Canceled, 1, false),
                1,
                ScanOutcome::Canceled,
            ),
            (
                ticket(TicketStatus::Exchanged, 1, false),
                1,
                ScanOutcome::Exchanged,
            ),
            (
                ticket(TicketStatus::Valid, 2, false),
                1,
                ScanOutcome::Superseded,
            ),
            (
                ticket(TicketStatus::Valid, 2, true),
                1,
                ScanOutcome::Superseded,
            ),
        ] {
            assert_eq!(
                decide(Some(t), token(generation), at(5), false),
                OfflineDecision::refused(outcome)
            );
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
    fn a_rotating_event_refuses_static_codes_and_holds_rotating_ones_to_their_window() {
        let t = |h| Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap();
        let window = ScanWindow {
            not_before: t(12),
            expires: t(23),
        };
        let rotating = Barcode::Rotating {
            period_seconds: 15,
            reveal_hours_before_doors: Some(1),
        };
        let leeway = Duration::seconds(30);
        let rules = |code, barcode, revealed_at, at| {
            refused_by_rules(code, barcode, window, revealed_at, at, leeway)
        };
        assert_eq!(
            rules(CodeKind::Static, rotating, None, t(19)),
            Some(ScanOutcome::StaticCodeNotAccepted)
        );
        assert_eq!(rules(CodeKind::Paper, rotating, None, t(19)), None);
        assert_eq!(rules(CodeKind::Static, Barcode::Static, None, t(19)), None);
        // Revealed at 18:00 (doors at 19:00): not before.
        assert_eq!(
            rules(CodeKind::Rotating, rotating, Some(t(18)), t(17)),
            Some(ScanOutcome::NotYetValid)
        );
        assert_eq!(
            rules(CodeKind::Rotating, rotating, Some(t(18)), t(18)),
            None
        );
        assert_eq!(
            rules(CodeKind::Rotating, rotating, None, t(22)),
            None,
            "until the window ends"
        );
        let after = t(23) + Duration::minutes(1);
        assert_eq!(
            rules(CodeKind::Rotating, rotating, None, after),
            Some(ScanOutcome::Expired)
        );
    }

    #[test]
    fn codes_are_stable_and_unique() {
        for o in ScanOutcome::ALL {
            assert_eq!(ScanOutcome::from_code(o.code()), Some(o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.code());
        }
    }
}
