//! The door without a network: the bundle a scanner takes along to decide admit/refuse on its
//! own, the upload of the scans it made meanwhile (merged into the arrival events), and the
//! lobby email that every admission, online or uploaded, queues in its own transaction.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::scans::{enforce_door_rules, judge, presented, verify_any, FirstAdmission, Verdict};
use super::tickets::scan_window;
use super::{signing, Encore, Error, Result};
pub use crate::db::door::BundleHolder;
use crate::db::door::{self, UploadedScan};
use crate::db::{events, scans, Conn};
use crate::domain::event::{Performance, ScanWindow};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::outbox::EmailKind;
use crate::domain::rotating::{Barcode, CodeKind, CodeSubject};
use crate::domain::scan::{decide, refused_by_device, ClockBounds, DoorEntry, NewArrival};
use crate::domain::text::label;
use crate::domain::ticket::{self, Ticket};
use crate::domain::{Invalid, ScanOutcome};
use crate::tokens::{PublicJwk, TicketClaims};

/// What a scanner needs to decide at the door with no server.
#[derive(Debug, Clone)]
pub struct OfflineBundle {
    pub performance: Performance,
    /// Pass it back as `since` to get only what changed after this bundle.
    pub version: i64,
    /// Whether `refused` is everything (true) or only the changes after `since`.
    pub complete: bool,
    pub keys: Vec<PublicJwk>,
    /// The latest state of every ticket whose earlier tokens must be refused.
    pub refused: Vec<DoorEntry>,
    /// Every ticket that still admits, with its holder and seat, for the scanner to show
    /// offline; in complete bundles only (a later one carries `refused` changes only).
    pub holders: Vec<BundleHolder>,
    /// How many tickets still admit now: a scanner whose holders differ in number asks for a
    /// complete bundle again.
    pub tickets: usize,
    /// When the performance's codes rotate: what checking them takes. Always complete.
    pub rotating: Option<RotatingDoor>,
}

/// What a scanner needs to check a rotating performance's codes with no network: the rotation,
/// the leeway, the reveal, and the secret of each ticket that admits now — of this performance
/// only, and nothing more. A static code there is refused offline as `static_code_not_accepted`
/// unless it is a paper code.
#[derive(Debug, Clone)]
pub struct RotatingDoor {
    pub period_seconds: u32,
    pub digits: u32,
    pub leeway_steps: u32,
    /// Before this, the performance's rotating codes are `not_yet_valid`.
    pub revealed_at: Option<DateTime<Utc>>,
    pub codes: Vec<DoorCode>,
}

/// One ticket's entry in [`RotatingDoor`]: its current generation and its TOTP secret, and no
/// more (a bundle holds one per ticket of the house, so each is kept small and heap-free).
#[derive(Clone, PartialEq, Eq)]
pub struct DoorCode {
    pub ticket_id: TicketId,
    pub generation: i32,
    pub secret: [u8; crate::domain::rotating::SECRET_BYTES],
}

impl std::fmt::Debug for DoorCode {
    // The secret stays out of every log line a `{:?}` could make.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoorCode")
            .field("ticket_id", &self.ticket_id)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// The bundle for a performance: complete, or the changes after `since` (a version an earlier
/// bundle gave). A `since` this database never gave (newer than its version: a restored
/// backup) gets a complete bundle.
pub fn offline_bundle(
    encore: &Encore,
    performance_id: PerformanceId,
    since: Option<i64>,
) -> Result<OfflineBundle> {
    let keys = signing::public_keys(encore)?;
    encore.db.read(|conn| {
        let missing = || Error::not_found("performance", performance_id);
        // The version is read first. Versions commit in order, so every change up to it is
        // already visible to what is read next; a change committed in between may show up
        // too, and again in the next refresh, where it replaces itself: harmless.
        let version = door::door_version(conn, performance_id)?.ok_or_else(missing)?;
        let performance = events::find_performance(conn, performance_id)?.ok_or_else(missing)?;
        let (complete, refused) = match since {
            Some(since) if since <= version => (
                false,
                latest_per_ticket(door::changes_between(conn, performance_id, since, version)?),
            ),
            _ => (true, door::refused_tickets(conn, performance_id)?),
        };
        let holders = door::holders(conn, performance_id)?;
        let tickets = holders.len();
        let event = events::find_event(conn, performance.event_id)?
            .ok_or_else(|| Error::not_found("event", performance.event_id))?;
        // The secrets go whole with every bundle, changed or not: a scanner that missed a
        // claim (a new generation) must not refuse its holder at the door.
        let rotating = match event.barcode {
            Barcode::Static => None,
            barcode => Some(RotatingDoor {
                period_seconds: barcode.period_seconds(),
                digits: crate::domain::rotating::DIGITS,
                leeway_steps: encore.settings.rotation_leeway_steps,
                revealed_at: barcode.revealed_at(performance.doors_open_at()),
                codes: door::admitting_tickets(conn, performance_id)?
                    .into_iter()
                    .map(|(ticket_id, generation)| DoorCode {
                        ticket_id,
                        generation,
                        secret: encore.code_key.secret(&CodeSubject {
                            performance_id,
                            ticket_id,
                            generation,
                            period_seconds: barcode.period_seconds(),
                        }),
                    })
                    .collect(),
            }),
        };
        Ok(OfflineBundle {
            performance,
            version,
            complete,
            keys,
            refused,
            holders: if complete { holders } else { Vec::new() },
            tickets,
            rotating,
        })
    })
}

/// Of several journal entries for one ticket, only the last counts; kept in journal order.
fn latest_per_ticket(entries: Vec<DoorEntry>) -> Vec<DoorEntry> {
    let mut seen = HashSet::new();
    let mut latest: Vec<DoorEntry> = entries
        .into_iter()
        .rev()
        .filter(|e| seen.insert(e.ticket_id))
        .collect();
    latest.reverse();
    latest
}

/// Most scans in one upload.
pub const MAX_UPLOAD: usize = 1000;

/// Longest refusal code a device may give.
pub const MAX_REFUSAL: usize = 64;

/// A scan made offline, as the device recorded it.
#[derive(Debug, Clone)]
pub struct OfflineScan {
    pub token: String,
    pub gate: String,
    /// The device's own clock.
    pub scanned_at: DateTime<Utc>,
    /// The reason the device refused the patron (a short code of its own, e.g. `no_bundle`,
    /// `canceled`); `None` when it admitted them. A refused scan never admits.
    pub refused: Option<String>,
}

/// An upload, parsed: one device's offline scans.
#[derive(Debug, Clone)]
pub struct Upload {
    device: String,
    scans: Vec<OfflineScan>,
}

impl Upload {
    pub fn parse(device: &str, mut scans: Vec<OfflineScan>) -> Result<Upload, Invalid> {
        let device = label("device", device, 64)?;
        if scans.is_empty() || scans.len() > MAX_UPLOAD {
            return Err(Invalid::new(
                "scans",
                format!("must hold 1 to {MAX_UPLOAD} scans, not {}", scans.len()),
            ));
        }
        for (i, scan) in scans.iter_mut().enumerate() {
            let in_scan = |e: Invalid| Invalid::new("scans", format!("scan {i}: {e}"));
            scan.gate = label("gate", &scan.gate, 64).map_err(in_scan)?;
            scan.refused = match scan.refused.as_deref() {
                None => None,
                Some(code) => Some(label("refused", code, MAX_REFUSAL).map_err(in_scan)?),
            };
            // What both backends store, so a replay's key matches the recorded scan's.
            scan.scanned_at = scan.scanned_at.trunc_subsecs(6);
        }
        Ok(Upload { device, scans })
    }
}

/// What the server made of one uploaded scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadResult {
    pub outcome: ScanOutcome,
    pub ticket_id: Option<TicketId>,
    pub holder_name: Option<String>,
    /// For `already_admitted` and `conflict`: the ticket's earliest admission.
    pub first_admission: Option<FirstAdmission>,
    /// This scan had been uploaded before; the outcome is the one it got then.
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSummary {
    /// One per uploaded scan, in the upload's order.
    pub results: Vec<UploadResult>,
    pub admitted: usize,
    pub conflicts: usize,
    /// The scans whose time the device's clock cannot have given (recorded, never admitted).
    pub clock_out_of_bounds: usize,
    /// The scans the device had refused (recorded, never admitted).
    pub refused: usize,
}

/// A scan with what its token alone says, and the key that makes its upload idempotent.
struct Judged {
    scan: OfflineScan,
    verdict: Verdict,
    code: CodeKind,
    key: String,
}

/// Merges a device's offline scans into the arrival events, in one transaction. Each token is
/// judged as at the device's `scanned_at` (signature, key, window); then a time the device's
/// clock cannot have given (before the ticket was issued, after this upload, outside the
/// performance's scan window: [`ClockBounds`]) is recorded as `clock_out_of_bounds`, and
/// otherwise the ticket's state decides — except for a scan the device refused, which is
/// recorded (with the device's reason) but never admits nor moves an admission. Uploading the
/// same scans again records nothing and answers as the first time.
pub fn upload(encore: &Encore, upload: Upload) -> Result<UploadSummary> {
    let received = super::now();
    let Upload { device, scans } = upload;
    let mut judged: Vec<Judged> = scans
        .into_iter()
        .map(|scan| {
            // A rotating code is checked as of the device's clock, which `ClockBounds` bounds.
            let (verified, code) = verify_any(encore, &scan.token, scan.scanned_at);
            Judged {
                verdict: judge(encore, verified, scan.scanned_at, None),
                code,
                key: upload_key(&device, &scan),
                scan,
            }
        })
        .collect();
    // A retried upload racing its original (PostgreSQL) finds its scans new, then trips on
    // their keys at insert; tried again, it finds them recorded.
    let mut attempt = 1;
    let (results, queued) = loop {
        match encore
            .db
            .write(|conn| merge(encore, conn, &device, &mut judged, received))
        {
            Err(Error::Database(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ))) if attempt == 1 => attempt += 1,
            other => break other?,
        }
    };
    if queued > 0 {
        encore.outbox_wakeup.notify_one();
    }
    for result in results.iter().filter(|r| !r.replayed) {
        encore.metrics.scanned_offline(result.outcome);
    }
    let count = |o: ScanOutcome| results.iter().filter(|r| r.outcome == o).count();
    Ok(UploadSummary {
        admitted: count(ScanOutcome::Admitted),
        conflicts: count(ScanOutcome::Conflict),
        clock_out_of_bounds: count(ScanOutcome::ClockOutOfBounds),
        refused: judged.iter().filter(|j| j.scan.refused.is_some()).count(),
        results,
    })
}

/// One scan, however often uploaded: the device, the gate, the device's time, the token, and
/// the device's refusal if it refused. A scan without a refusal keeps the key it always had;
/// a refusal follows a 0xFF byte, which no UTF-8 text holds, so no other scan shares its key.
fn upload_key(device: &str, scan: &OfflineScan) -> String {
    let mut hasher = Sha256::new();
    for part in [
        device,
        &scan.gate,
        &scan.scanned_at.timestamp_micros().to_string(),
        &scan.token,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    if let Some(refused) = &scan.refused {
        hasher.update([0xFF]);
        hasher.update(refused.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// What became of a scan of the upload.
enum Fate<'a> {
    New,
    /// Uploaded before, in an earlier upload.
    Recorded(&'a UploadedScan),
    /// The same scan as an earlier one of this upload.
    SameAs(usize),
}

fn merge(
    encore: &Encore,
    conn: &mut Conn<'_>,
    device: &str,
    judged: &mut [Judged],
    received: DateTime<Utc>,
) -> Result<(Vec<UploadResult>, usize)> {
    let mut verdicts: Vec<_> = judged
        .iter_mut()
        .map(|j| (&mut j.verdict, j.code, j.scan.scanned_at))
        .collect();
    enforce_door_rules(&encore.settings, conn, &mut verdicts)?;
    let judged: &[Judged] = judged;
    let keys: Vec<String> = judged.iter().map(|j| j.key.clone()).collect();
    let recorded: HashMap<String, UploadedScan> = door::uploaded(conn, &keys)?
        .into_iter()
        .map(|u| (u.upload_key.clone(), u))
        .collect();
    let mut first_with_key: HashMap<&str, usize> = HashMap::new();
    let fates: Vec<Fate<'_>> = judged
        .iter()
        .enumerate()
        .map(|(i, j)| match recorded.get(&j.key) {
            Some(r) => Fate::Recorded(r),
            None => match first_with_key.entry(&j.key) {
                Entry::Occupied(first) => Fate::SameAs(*first.get()),
                Entry::Vacant(slot) => {
                    slot.insert(i);
                    Fate::New
                }
            },
        })
        .collect();

    let mut ids: Vec<TicketId> = judged
        .iter()
        .zip(&fates)
        .filter_map(|(j, fate)| match fate {
            Fate::New => j.verdict.claims().map(|c| c.ticket_id),
            Fate::Recorded(r) => r.ticket_id,
            Fate::SameAs(_) => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut tickets: HashMap<TicketId, Ticket> = door::lock_tickets(conn, &ids)?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let clock = DeviceClock::load(encore, conn, &tickets, received)?;
    let mut admitted_by: HashMap<TicketId, HashSet<String>> = HashMap::new();
    for (ticket_id, by) in door::admitting_devices(conn, &ids)? {
        admitted_by.entry(ticket_id).or_default().insert(by);
    }

    // In the device's time order, so its first scan of a ticket is the one that admits.
    let mut order: Vec<usize> = (0..judged.len())
        .filter(|&i| matches!(fates[i], Fate::New))
        .collect();
    order.sort_by_key(|&i| judged[i].scan.scanned_at);
    let mut outcomes: Vec<Option<ScanOutcome>> = vec![None; judged.len()];
    let mut moved: HashSet<TicketId> = HashSet::new();
    let mut newly_admitted: Vec<Admission> = Vec::new();
    for i in order {
        let j = &judged[i];
        outcomes[i] = Some(match &j.verdict {
            Verdict::Refused { outcome, .. } => *outcome,
            Verdict::Genuine(claims)
                if clock.out_of_bounds(tickets.get(&claims.ticket_id), claims, &j.scan) =>
            {
                ScanOutcome::ClockOutOfBounds
            }
            Verdict::Genuine(claims) if j.scan.refused.is_some() => refused_by_device(
                tickets.get(&claims.ticket_id).map(Ticket::at_door),
                presented(claims),
                j.scan.scanned_at,
            ),
            Verdict::Genuine(claims) => {
                let admitting_devices = admitted_by.entry(claims.ticket_id).or_default();
                let ticket = tickets.get_mut(&claims.ticket_id);
                let decision = decide(
                    ticket.as_deref().map(Ticket::at_door),
                    presented(claims),
                    j.scan.scanned_at,
                    admitting_devices.contains(device),
                );
                // What `door::admitting_devices` counts: an admission or a conflict.
                if matches!(
                    decision.outcome,
                    ScanOutcome::Admitted | ScanOutcome::Conflict
                ) {
                    admitting_devices.insert(device.to_string());
                }
                if let Some(ticket) = ticket.filter(|_| decision.admits_earliest) {
                    ticket.admission = Some(ticket::Admission {
                        at: j.scan.scanned_at,
                        gate: j.scan.gate.clone(),
                        device: device.to_string(),
                    });
                    moved.insert(claims.ticket_id);
                }
                if decision.outcome == ScanOutcome::Admitted {
                    newly_admitted.push(Admission {
                        ticket_id: claims.ticket_id,
                        performance_id: claims.performance_id,
                    });
                }
                decision.outcome
            }
        });
    }

    for id in &moved {
        if let Some(admission) = &tickets[id].admission {
            door::set_admission(conn, *id, admission.at, &admission.gate, &admission.device)?;
        }
    }
    let arrivals: Vec<NewArrival<'_>> = judged
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(fates[*i], Fate::New))
        .map(|(i, j)| {
            let claims = j.verdict.claims();
            NewArrival {
                ticket_id: claims.map(|c| c.ticket_id),
                performance_id: claims.map(|c| c.performance_id),
                token_generation: claims.map(|c| c.generation),
                gate: &j.scan.gate,
                device,
                outcome: outcomes[i].expect("every new scan decided"),
                scanned_at: j.scan.scanned_at,
                upload: Some(crate::domain::scan::Upload {
                    key: &j.key,
                    at: received,
                }),
                device_refusal: j.scan.refused.as_deref(),
                code_kind: claims.map(|_| j.code),
            }
        })
        .collect();
    scans::insert_arrival_events(conn, &arrivals)?;
    let queued = queue_lobby_emails(
        conn,
        &newly_admitted,
        &encore.settings.message_id_domain,
        received,
    )?;

    let mut results: Vec<UploadResult> = Vec::with_capacity(judged.len());
    for (i, fate) in fates.iter().enumerate() {
        let (outcome, ticket_id) = match fate {
            Fate::New => (
                outcomes[i].expect("every new scan decided"),
                judged[i].verdict.claims().map(|c| c.ticket_id),
            ),
            Fate::Recorded(r) => (r.outcome, r.ticket_id),
            Fate::SameAs(first) => (results[*first].outcome, results[*first].ticket_id),
        };
        results.push(shown(
            outcome,
            ticket_id.and_then(|id| tickets.get(&id)),
            ticket_id,
            !matches!(fate, Fate::New),
        ));
    }
    Ok((results, queued))
}

/// Where the device's clock may place the scans of an upload's tickets ([`ClockBounds`]).
struct DeviceClock {
    /// The scan window of each performance of the upload's tickets.
    windows: HashMap<PerformanceId, ScanWindow>,
    uploaded_at: DateTime<Utc>,
    leeway: chrono::Duration,
}

impl DeviceClock {
    fn load(
        encore: &Encore,
        conn: &mut Conn<'_>,
        tickets: &HashMap<TicketId, Ticket>,
        uploaded_at: DateTime<Utc>,
    ) -> Result<DeviceClock> {
        let mut windows = HashMap::new();
        for ticket in tickets.values() {
            if let Entry::Vacant(slot) = windows.entry(ticket.performance_id) {
                let performance = events::find_performance(conn, ticket.performance_id)?
                    .ok_or_else(|| Error::not_found("performance", ticket.performance_id))?;
                slot.insert(scan_window(encore, &performance));
            }
        }
        Ok(DeviceClock {
            windows,
            uploaded_at,
            leeway: encore.settings.offline_clock_leeway,
        })
    }

    /// Whether the device's time for a scan of this ticket cannot be true. A ticket not of the
    /// token's performance (or not on record) is left to be told `unknown_ticket`.
    fn out_of_bounds(
        &self,
        ticket: Option<&Ticket>,
        claims: &TicketClaims,
        scan: &OfflineScan,
    ) -> bool {
        let Some(ticket) = ticket.filter(|t| t.performance_id == claims.performance_id) else {
            return false;
        };
        self.windows
            .get(&ticket.performance_id)
            .is_some_and(|&window| {
                ClockBounds::new(ticket.issued_at, window, self.uploaded_at, self.leeway)
                    .check(scan.scanned_at)
                    .is_err()
            })
    }
}

/// A result as the device is told it: the holder for any admission, where the ticket first
/// came in for a duplicate or a conflict.
fn shown(
    outcome: ScanOutcome,
    ticket: Option<&Ticket>,
    ticket_id: Option<TicketId>,
    replayed: bool,
) -> UploadResult {
    let admission = matches!(
        outcome,
        ScanOutcome::Admitted | ScanOutcome::AlreadyAdmitted | ScanOutcome::Conflict
    );
    let ticket = ticket.filter(|_| admission);
    UploadResult {
        outcome,
        ticket_id,
        holder_name: ticket.map(|t| t.holder_name.clone()),
        first_admission: ticket
            .filter(|_| outcome != ScanOutcome::Admitted)
            .and_then(|t| t.admission.as_ref())
            .map(|admission| FirstAdmission {
                at: admission.at,
                gate: admission.gate.clone(),
            }),
        replayed,
    }
}

/// A just-admitted ticket, and its performance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admission {
    pub ticket_id: TicketId,
    pub performance_id: PerformanceId,
}

/// Queues the lobby email of each just-admitted ticket whose event has a lobby message, in the
/// admitting transaction: at most one email per ticket. The performances are asked first (a
/// batch rarely spans more than one), so an event without a message costs no more than that
/// question; the emails of the rest are queued in one statement.
pub(crate) fn queue_lobby_emails(
    conn: &mut Conn<'_>,
    admitted: &[Admission],
    message_id_domain: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut performances: Vec<PerformanceId> = admitted.iter().map(|a| a.performance_id).collect();
    performances.sort_unstable();
    performances.dedup();
    let mut with_message = Vec::new();
    for performance in performances {
        if door::has_lobby_message(conn, performance)? {
            with_message.push(performance);
        }
    }
    queue_greetings(conn, admitted, &with_message, message_id_domain, now)
}

/// Queues the lobby email of each just-admitted ticket of a performance in `with_message`
/// (those whose event has a lobby message, already known), in one statement.
pub(crate) fn queue_greetings(
    conn: &mut Conn<'_>,
    admitted: &[Admission],
    with_message: &[PerformanceId],
    message_id_domain: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    let greeted: Vec<TicketId> = admitted
        .iter()
        .filter(|a| with_message.contains(&a.performance_id))
        .map(|a| a.ticket_id)
        .collect();
    Ok(door::queue_lobby_emails(
        conn,
        EmailKind::Lobby.as_str(),
        &greeted,
        message_id_domain,
        now,
    )?)
}

/// What the scan writer needs to queue lobby emails with its admissions, and to wake the
/// email worker once they are committed.
#[derive(Clone)]
pub struct LobbyMail {
    pub message_id_domain: String,
    pub wakeup: Arc<Notify>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn scan(refused: Option<&str>) -> OfflineScan {
        OfflineScan {
            token: "a.b.c".into(),
            gate: "north".into(),
            scanned_at: Utc.timestamp_micros(1_796_155_200_123_456).unwrap(),
            refused: refused.map(str::to_string),
        }
    }

    #[test]
    fn the_refusal_is_part_of_the_upload_key() {
        // A scan without a refusal keeps the key it had before refusals were uploaded, so a
        // retry of an upload from then is still a replay.
        assert_eq!(
            upload_key("phone-1", &scan(None)),
            "20d0115e5d9b55fe081de7d4129a9468d7993df010e56f1bc65077140063ef08"
        );
        let keys: HashSet<String> = [None, Some("no_bundle"), Some("expired"), Some("")]
            .into_iter()
            .map(|refused| upload_key("phone-1", &scan(refused)))
            .collect();
        assert_eq!(keys.len(), 4);
    }

    #[test]
    fn a_refusal_is_a_short_label() {
        let parse = |refused: &str| Upload::parse("phone-1", vec![scan(Some(refused))]);
        let upload = parse("  no_bundle ").unwrap();
        assert_eq!(upload.scans[0].refused.as_deref(), Some("no_bundle"));
        for bad in ["", " ", "a\u{7}b", &"x".repeat(MAX_REFUSAL + 1)] {
            let invalid = parse(bad).unwrap_err();
            assert_eq!(invalid.field, "scans");
            assert!(invalid.reason.starts_with("scan 0: refused: "), "{invalid}");
        }
        assert!(parse(&"x".repeat(MAX_REFUSAL)).is_ok());
    }
}
