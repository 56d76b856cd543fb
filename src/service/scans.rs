//! The door. A scan verifies the token without touching the database, then admits with one
//! conditional write and records the attempt as an arrival event in the same transaction: an
//! "admitted" answer is only given once both are committed.

use chrono::{DateTime, Utc};

use super::{rotating, signing, Encore, Error, Result};
use crate::db::door::{self, DoorRules};
use crate::db::{scans, tickets, Conn};
use crate::domain::event::ScanWindow;
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::rotating::CodeKind;
use crate::domain::scan::refused_by_rules;
use crate::domain::scan::{check_window, refused_online, NewArrival, Presented};
use crate::domain::text::label;
use crate::domain::ticket::Ticket;
use crate::domain::{Invalid, ScanOutcome};
use crate::tokens::TicketClaims;

/// A scan as the door sends it, parsed.
#[derive(Debug, Clone)]
pub struct Scan {
    pub token: String,
    pub gate: String,
    pub device: String,
    /// The performance the scanner is admitting to, if it says; a ticket for another one is
    /// refused as `wrong_performance`.
    pub performance_id: Option<PerformanceId>,
}

impl Scan {
    pub fn parse(
        token: String,
        gate: &str,
        device: &str,
        performance_id: Option<PerformanceId>,
    ) -> Result<Scan, Invalid> {
        Ok(Scan {
            token,
            gate: label("gate", gate, 64)?,
            device: label("device", device, 64)?,
            performance_id,
        })
    }
}

/// When and where a ticket was first admitted: what the door needs to answer a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstAdmission {
    pub at: DateTime<Utc>,
    pub gate: String,
}

/// The door's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanResult {
    pub outcome: ScanOutcome,
    pub ticket_id: Option<TicketId>,
    pub performance_id: Option<PerformanceId>,
    pub holder_name: Option<String>,
    pub seat: Option<String>,
    pub section: Option<String>,
    pub first_admission: Option<FirstAdmission>,
    pub scanned_at: DateTime<Utc>,
}

impl ScanResult {
    pub(crate) fn admitted(
        claims: &TicketClaims,
        at: DateTime<Utc>,
        holder_name: String,
        seat: Option<String>,
        section: Option<String>,
    ) -> Self {
        ScanResult {
            holder_name: Some(holder_name),
            seat,
            section,
            ..ScanResult::refused(ScanOutcome::Admitted, Some(claims), at)
        }
    }

    pub(crate) fn refused(
        outcome: ScanOutcome,
        claims: Option<&TicketClaims>,
        at: DateTime<Utc>,
    ) -> Self {
        ScanResult {
            outcome,
            ticket_id: claims.map(|c| c.ticket_id),
            performance_id: claims.map(|c| c.performance_id),
            holder_name: None,
            seat: None,
            section: None,
            first_admission: None,
            scanned_at: at,
        }
    }
}

/// A scan, its time, and what the token alone says: refused already, or up to the ticket.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub scan: Scan,
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    /// Which kind of code it presented (recorded with the scan when it names a ticket).
    pub code: CodeKind,
}

impl Attempt {
    /// The ticket this attempt may admit; `None` when the token alone refuses it.
    pub fn ticket_id(&self) -> Option<TicketId> {
        match &self.verdict {
            Verdict::Genuine(claims) => Some(claims.ticket_id),
            Verdict::Refused { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Verdict {
    /// The token settles it (garbage, bad signature, wrong window, wrong door). `claims` are
    /// known when the signature held, so the refusal can name its ticket.
    Refused {
        outcome: ScanOutcome,
        claims: Option<TicketClaims>,
    },
    /// A genuine token in its window: the ticket's state decides.
    Genuine(TicketClaims),
}

impl Verdict {
    /// The token's claims, when its signature held.
    pub fn claims(&self) -> Option<&TicketClaims> {
        match self {
            Verdict::Genuine(claims) => Some(claims),
            Verdict::Refused { claims, .. } => claims.as_ref(),
        }
    }
}

/// Admit or refuse, and record the attempt. The token is checked here, with no database work;
/// the writer then applies the attempt with others in one transaction, and this answers once
/// it is committed.
pub async fn scan(encore: &Encore, scan: Scan) -> Result<ScanResult> {
    // Microseconds: what both backends store, so the answer equals what is recorded.
    let at = crate::service::now();
    let (verified, code) = match rotating::scanned(&scan.token) {
        Some(scanned) => (rotating::verify(encore, &scanned, at), CodeKind::Rotating),
        None => {
            let verified = verify(encore, &scan.token).await;
            (verified, code_kind(&verified))
        }
    };
    let verdict = judge(encore, verified, at, scan.performance_id);
    let result = encore
        .scan_writer
        .submit(Attempt {
            scan,
            at,
            verdict,
            code,
        })
        .await;
    if let Ok(answer) = &result {
        encore.metrics.scanned(answer.outcome);
    }
    result
}

/// What the token alone says of a scan made at `at`: refused (garbage, bad signature, outside
/// its window, another performance's door), or genuine, and then the ticket's state decides.
pub(crate) fn judge(
    encore: &Encore,
    verified: Result<TicketClaims, ScanOutcome>,
    at: DateTime<Utc>,
    performance_at_door: Option<PerformanceId>,
) -> Verdict {
    let claims = match verified {
        Err(outcome) => {
            return Verdict::Refused {
                outcome,
                claims: None,
            }
        }
        Ok(claims) => claims,
    };
    let early_refusal = check_window(
        timestamp(claims.nbf),
        timestamp(claims.exp),
        at,
        encore.settings.scan_clock_leeway,
    )
    .err()
    .or_else(|| {
        performance_at_door
            .filter(|&at_door| at_door != claims.performance_id)
            .map(|_| ScanOutcome::WrongPerformance)
    });
    match early_refusal {
        Some(outcome) => Verdict::Refused {
            outcome,
            claims: Some(claims),
        },
        None => Verdict::Genuine(claims),
    }
}

/// Which kind of signed token a verified one is: a paper code, or any other static code.
pub(crate) fn code_kind(verified: &Result<TicketClaims, ScanOutcome>) -> CodeKind {
    match verified {
        Ok(claims) if claims.paper => CodeKind::Paper,
        _ => CodeKind::Static,
    }
}

/// Verifies a scanned text as of `at`: a rotating code against its secret, anything else as a
/// signed token (blocking: an unknown key id is refreshed). For offline uploads.
pub(crate) fn verify_any(
    encore: &Encore,
    text: &str,
    at: DateTime<Utc>,
) -> (Result<TicketClaims, ScanOutcome>, CodeKind) {
    match rotating::scanned(text) {
        Some(scanned) => (rotating::verify(encore, &scanned, at), CodeKind::Rotating),
        None => {
            let verified = verify_refreshing(encore, text);
            let kind = code_kind(&verified);
            (verified, kind)
        }
    }
}

/// Reads the door rules of the performances the genuine `verdicts` name, in the writing
/// transaction, and turns away each code the rules refuse: see [`refuse_by_door_rules`].
/// Returns the rules read.
pub(crate) fn enforce_door_rules(
    settings: &super::Settings,
    conn: &mut Conn<'_>,
    verdicts: &mut [(&mut Verdict, CodeKind, DateTime<Utc>)],
) -> Result<Vec<DoorRules>> {
    let performances = performances_named(verdicts);
    if performances.is_empty() {
        return Ok(Vec::new());
    }
    let rules = door::door_rules(conn, &performances)?;
    refuse_by_door_rules(settings, &rules, verdicts);
    Ok(rules)
}

/// The performances the genuine `verdicts` name, each once, ascending.
pub(crate) fn performances_named(
    verdicts: &[(&mut Verdict, CodeKind, DateTime<Utc>)],
) -> Vec<PerformanceId> {
    let mut performances: Vec<PerformanceId> = verdicts
        .iter()
        .filter_map(|(verdict, ..)| match verdict {
            Verdict::Genuine(claims) => Some(claims.performance_id),
            Verdict::Refused { .. } => None,
        })
        .collect();
    performances.sort_unstable();
    performances.dedup();
    performances
}

/// Turns away each genuine code that its performance's door `rules` refuse (a static code of a
/// rotating event, a rotating code before its reveal or outside the scan window): see
/// [`crate::domain::scan::refused_by_rules`]. A code of a performance without rules (there is
/// no such performance) is left to the admission, which finds no ticket and says so.
pub(crate) fn refuse_by_door_rules(
    settings: &super::Settings,
    rules: &[DoorRules],
    verdicts: &mut [(&mut Verdict, CodeKind, DateTime<Utc>)],
) {
    for (verdict, code, at) in verdicts.iter_mut() {
        let Verdict::Genuine(claims) = &**verdict else {
            continue;
        };
        let Some(rule) = rules
            .iter()
            .find(|r| r.performance_id == claims.performance_id)
        else {
            continue;
        };
        let window = ScanWindow::for_performance(
            rule.doors_open_at,
            rule.starts_at,
            settings.scan_window_before_doors,
            settings.scan_window_after_start,
        );
        if let Some(outcome) = refused_by_rules(
            *code,
            rule.barcode,
            window,
            rule.barcode.revealed_at(rule.doors_open_at),
            *at,
            settings.scan_clock_leeway,
        ) {
            **verdict = Verdict::Refused {
                outcome,
                claims: Some(*claims),
            };
        }
    }
}

/// Verifies the token on the async path; only an unknown key id needs the blocking refresh.
async fn verify(encore: &Encore, token: &str) -> Result<TicketClaims, ScanOutcome> {
    match encore.keys.verify(token) {
        Err(ScanOutcome::UnknownKey) => {
            let (refreshing, token) = (encore.clone(), token.to_owned());
            tokio::task::spawn_blocking(move || verify_refreshing(&refreshing, &token))
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "key refresh task failed");
                    Err(ScanOutcome::UnknownKey)
                })
        }
        other => other,
    }
}

/// Verifies the token; meeting an unknown key id, re-reads the keys once (another process may
/// have rotated) before refusing. Blocking.
pub(crate) fn verify_refreshing(encore: &Encore, token: &str) -> Result<TicketClaims, ScanOutcome> {
    match encore.keys.verify(token) {
        Err(ScanOutcome::UnknownKey) => match signing::refresh(encore) {
            Ok(true) => encore.keys.verify(token),
            Ok(false) => Err(ScanOutcome::UnknownKey),
            Err(e) => {
                tracing::warn!(error = %e, "could not refresh signing keys");
                Err(ScanOutcome::UnknownKey)
            }
        },
        other => other,
    }
}

/// Inside the writer's transaction: the admission (one conditional write), or why not.
pub(crate) fn admit_or_explain(conn: &mut Conn<'_>, attempt: &Attempt) -> Result<ScanResult> {
    let claims = match &attempt.verdict {
        Verdict::Refused { outcome, claims } => {
            return Ok(ScanResult::refused(*outcome, claims.as_ref(), attempt.at));
        }
        Verdict::Genuine(claims) => claims,
    };
    let admitted = tickets::admit(
        conn,
        claims.ticket_id,
        claims.performance_id,
        claims.generation,
        attempt.at,
        &attempt.scan.gate,
        &attempt.scan.device,
    )?;
    match admitted {
        Some(holder) => Ok(ScanResult::admitted(
            claims,
            attempt.at,
            holder.holder_name,
            holder.seat,
            holder.section,
        )),
        None => explain_refusal(conn, claims, attempt.at),
    }
}

fn explain_refusal(
    conn: &mut Conn<'_>,
    claims: &TicketClaims,
    now: DateTime<Utc>,
) -> Result<ScanResult> {
    let ticket = tickets::find(conn, claims.ticket_id)?;
    Ok(explain(ticket.as_ref(), claims, now))
}

/// Why a genuine token did not admit, from the ticket as it is now (`None`: not on record).
pub(crate) fn explain(
    ticket: Option<&Ticket>,
    claims: &TicketClaims,
    now: DateTime<Utc>,
) -> ScanResult {
    let outcome = refused_online(ticket.map(Ticket::at_door), presented(claims));
    let mut result = ScanResult::refused(outcome, Some(claims), now);
    if let Some(ticket) = ticket.filter(|_| outcome == ScanOutcome::AlreadyAdmitted) {
        result.holder_name = Some(ticket.holder_name.clone());
        result.seat = ticket.seat.clone();
        result.section = ticket.section.clone();
        result.first_admission = ticket.admission.as_ref().map(|admission| FirstAdmission {
            at: admission.at,
            gate: admission.gate.clone(),
        });
    }
    result
}

/// Records every attempt of a batch as an arrival event, in one statement.
pub(crate) fn record_all<'a>(
    conn: &mut Conn<'_>,
    attempts: impl Iterator<Item = (&'a Attempt, &'a ScanResult)>,
) -> Result<(), Error> {
    let arrivals: Vec<NewArrival<'_>> = attempts
        .map(|(attempt, result)| NewArrival {
            ticket_id: result.ticket_id,
            performance_id: result.performance_id,
            token_generation: attempt.verdict.claims().map(|c| c.generation),
            gate: &attempt.scan.gate,
            device: &attempt.scan.device,
            outcome: result.outcome,
            scanned_at: result.scanned_at,
            upload: None,
            device_refusal: None,
            code_kind: result.ticket_id.map(|_| attempt.code),
        })
        .collect();
    scans::insert_arrival_events(conn, &arrivals)?;
    Ok(())
}

/// What a genuine token asks the door to admit.
pub(crate) fn presented(claims: &TicketClaims) -> Presented {
    Presented {
        performance_id: claims.performance_id,
        generation: claims.generation,
    }
}

fn timestamp(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}
