//! Rotating codes (issue 17): a ticket's rotating barcode for the ticket page and the wallet
//! passes, the door's check of a scanned code, and the box office's paper code.
//!
//! For a wallet pass or any other view of a ticket's code:
//! * [`ticket_barcode`] (by ticket id) or [`barcode_of`] (a ticket and its event already
//!   loaded) give the [`RotatingBarcode`]: `value_pattern`, `period`, `secret` (Base16 with
//!   `secret_base16`), `digits` — Google Wallet's `rotatingBarcode.totpDetails` as they are;
//! * [`RotatingBarcode::value_at`] gives the value the door accepts at a Unix time.

use chrono::{DateTime, Utc};

use super::{Encore, Error, Result};
use crate::domain::event::Event;
use crate::domain::ids::TicketId;
use crate::domain::rotating::{
    parse_code, totp_accepts, CodeSubject, RotatingBarcode, ScannedCode, DIGITS,
};
use crate::domain::ticket::Ticket;
use crate::domain::{ScanOutcome, TicketStatus};
use crate::tokens::TicketClaims;

/// The rotating barcode of `ticket`'s current generation, when its event's codes rotate
/// (`None` for a static event). The secret is the holder's: give it only to them (their
/// ticket page, their wallet pass), never in an email, a static QR or a log.
pub fn barcode_of(encore: &Encore, ticket: &Ticket, event: &Event) -> Option<RotatingBarcode> {
    event.barcode.is_rotating().then(|| {
        encore.code_key.barcode(CodeSubject {
            performance_id: ticket.performance_id,
            ticket_id: ticket.id,
            generation: ticket.generation,
            period_seconds: event.barcode.period_seconds(),
        })
    })
}

/// The rotating barcode of a ticket as it is now: `None` when its event's codes are static or
/// the ticket no longer admits (canceled, exchanged, transferred).
pub fn ticket_barcode(encore: &Encore, ticket_id: TicketId) -> Result<Option<RotatingBarcode>> {
    let current = encore
        .db
        .read(|conn| super::tickets::TicketInContext::load(conn, ticket_id))?;
    Ok(Some(&current)
        .filter(|c| c.ticket.status == TicketStatus::Valid)
        .and_then(|c| barcode_of(encore, &c.ticket, &c.event)))
}

/// A scanned code, when `text` is a rotating code (`None`: try it as a signed token).
pub(crate) fn scanned(text: &str) -> Option<ScannedCode> {
    parse_code(text)
}

/// Far in the future: a rotating code carries no window of its own (the door checks the
/// performance's, read with its barcode), and this keeps the signed tokens' check from
/// refusing it.
const NO_EXPIRY: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

/// What a rotating code says when its value is the one of `at` (give or take the configured
/// leeway): the claims of the generation it names, as a genuine signed token would give them.
/// Any other value is `stale_code`: an old screenshot and a mistyped number look the same.
pub(crate) fn verify(
    encore: &Encore,
    code: &ScannedCode,
    at: DateTime<Utc>,
) -> Result<TicketClaims, ScanOutcome> {
    // The secret alone: the door needs no value pattern.
    let secret = encore.code_key.secret(&code.subject);
    if totp_accepts(
        &secret,
        code.subject.period_seconds,
        DIGITS,
        &code.totp,
        at.timestamp(),
        encore.settings.rotation_leeway_steps,
    ) {
        Ok(TicketClaims {
            ticket_id: code.subject.ticket_id,
            performance_id: code.subject.performance_id,
            generation: code.subject.generation,
            nbf: 0,
            exp: NO_EXPIRY,
            paper: false,
        })
    } else {
        Err(ScanOutcome::StaleCode)
    }
}

/// A paper code for a ticket that admits: its signed token marked `paper`, which the door of a
/// rotating event accepts (and records as paper) where other static codes are refused. For the
/// box office to print on purpose, for a patron without a phone.
pub fn paper_code(encore: &Encore, ticket_id: TicketId) -> Result<PaperCode> {
    let current = encore
        .db
        .read(|conn| super::tickets::TicketInContext::load(conn, ticket_id))?;
    if current.ticket.status != TicketStatus::Valid {
        return Err(Error::Conflict {
            code: "ticket_not_valid",
            message: format!(
                "ticket {ticket_id} is {}: it has no code to print",
                current.ticket.status.as_str()
            ),
        });
    }
    let window = super::tickets::scan_window(encore, &current.performance);
    let claims = TicketClaims {
        ticket_id,
        performance_id: current.ticket.performance_id,
        generation: current.ticket.generation,
        nbf: window.not_before.timestamp(),
        exp: window.expires.timestamp(),
        paper: true,
    };
    Ok(PaperCode {
        ticket_id,
        generation: current.ticket.generation,
        token: encore.keys.sign_ticket(&claims)?,
    })
}

/// A paper code: the token its QR carries.
#[derive(Debug, Clone)]
pub struct PaperCode {
    pub ticket_id: TicketId,
    pub generation: i32,
    pub token: String,
}
