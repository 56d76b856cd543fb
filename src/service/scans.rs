//! The door. A scan verifies the token without touching the database, then admits with one
//! conditional write and records the attempt as an arrival event in the same transaction: an
//! "admitted" answer is only given once both are committed.

use chrono::{DateTime, SubsecRound, Utc};

use super::{signing, Encore, Error, Result};
use crate::db::models::NewArrivalEventRow;
use crate::db::{scans, tickets, Conn};
use crate::domain::scan::{check_window, refusal_reason, TicketAtDoor};
use crate::domain::text::label;
use crate::domain::{Invalid, ScanOutcome, TicketStatus};
use crate::tokens::TicketClaims;

/// A scan as the door sends it, parsed.
#[derive(Debug, Clone)]
pub struct Scan {
    pub token: String,
    pub gate: String,
    pub device: String,
    /// The performance the scanner is admitting to, if it says; a ticket for another one is
    /// refused as `wrong_performance`.
    pub performance_id: Option<i64>,
}

impl Scan {
    pub fn parse(
        token: String,
        gate: &str,
        device: &str,
        performance_id: Option<i64>,
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
    pub ticket_id: Option<i64>,
    pub performance_id: Option<i64>,
    pub holder_name: Option<String>,
    pub seat: Option<String>,
    pub section: Option<String>,
    pub first_admission: Option<FirstAdmission>,
    pub scanned_at: DateTime<Utc>,
}

impl ScanResult {
    fn refused(outcome: ScanOutcome, claims: Option<&TicketClaims>, at: DateTime<Utc>) -> Self {
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

pub fn scan(encore: &Encore, scan: &Scan) -> Result<ScanResult> {
    // Microseconds: what both backends store, so the answer equals what is recorded.
    let now = Utc::now().trunc_subsecs(6);
    let claims = match verify(encore, &scan.token) {
        Ok(claims) => claims,
        Err(outcome) => {
            let result = ScanResult::refused(outcome, None, now);
            encore.db.write(|conn| record(conn, scan, &result, None))?;
            return Ok(result);
        }
    };
    let early_refusal = check_window(
        timestamp(claims.nbf),
        timestamp(claims.exp),
        now,
        encore.settings.scan_clock_leeway,
    )
    .err()
    .or_else(|| {
        scan.performance_id
            .filter(|&at_door| at_door != claims.performance_id)
            .map(|_| ScanOutcome::WrongPerformance)
    });
    if let Some(outcome) = early_refusal {
        let result = ScanResult::refused(outcome, Some(&claims), now);
        encore
            .db
            .write(|conn| record(conn, scan, &result, Some(claims.generation)))?;
        return Ok(result);
    }

    encore.db.write(|conn| {
        let naive_now = now.naive_utc();
        let admitted = tickets::admit(
            conn,
            claims.ticket_id,
            claims.performance_id,
            claims.generation,
            naive_now,
            &scan.gate,
            &scan.device,
        )?;
        let result = match admitted {
            Some(holder) => ScanResult {
                outcome: ScanOutcome::Admitted,
                holder_name: Some(holder.holder_name),
                seat: holder.seat,
                section: holder.section,
                ..ScanResult::refused(ScanOutcome::Admitted, Some(&claims), now)
            },
            None => explain_refusal(conn, &claims, now)?,
        };
        record(conn, scan, &result, Some(claims.generation))?;
        Ok(result)
    })
}

/// Verifies the token; meeting an unknown key id, re-reads the keys once (another process may
/// have rotated) before refusing.
fn verify(encore: &Encore, token: &str) -> Result<TicketClaims, ScanOutcome> {
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

fn explain_refusal(
    conn: &mut Conn<'_>,
    claims: &TicketClaims,
    now: DateTime<Utc>,
) -> Result<ScanResult> {
    let Some(ticket) = tickets::find(conn, claims.ticket_id)? else {
        return Ok(ScanResult::refused(
            ScanOutcome::UnknownTicket,
            Some(claims),
            now,
        ));
    };
    if ticket.performance_id != claims.performance_id {
        return Ok(ScanResult::refused(
            ScanOutcome::UnknownTicket,
            Some(claims),
            now,
        ));
    }
    let at_door = TicketAtDoor {
        status: TicketStatus::from_stored(&ticket.status),
        generation: ticket.generation,
        admitted: ticket.admitted_at.is_some(),
    };
    let outcome = refusal_reason(at_door, claims.generation);
    let mut result = ScanResult::refused(outcome, Some(claims), now);
    if outcome == ScanOutcome::AlreadyAdmitted {
        result.holder_name = Some(ticket.holder_name);
        result.seat = ticket.seat;
        result.section = ticket.section;
        result.first_admission = ticket
            .admitted_at
            .zip(ticket.admitted_gate)
            .map(|(at, gate)| FirstAdmission {
                at: at.and_utc(),
                gate,
            });
    }
    Ok(result)
}

fn record(
    conn: &mut Conn<'_>,
    scan: &Scan,
    result: &ScanResult,
    generation: Option<i32>,
) -> Result<(), Error> {
    scans::insert_arrival_event(
        conn,
        &NewArrivalEventRow {
            ticket_id: result.ticket_id,
            performance_id: result.performance_id,
            token_generation: generation,
            gate: &scan.gate,
            device: &scan.device,
            outcome: result.outcome.code(),
            scanned_at: result.scanned_at.naive_utc(),
        },
    )?;
    Ok(())
}

fn timestamp(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}
