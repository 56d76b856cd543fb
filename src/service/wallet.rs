//! Wallet passes of a ticket: what the pass says (read here, from the ticket as it is now), the
//! Apple devices that hold it (Apple's PassKit web service), and telling the wallets when the
//! ticket changes. `wallet::apple` packages and signs; the worker's `update_wallets` job pushes.
//!
//! A pass is authenticated by a signed link made for it (purpose `wallet`), carried in the pass
//! as Apple's `authenticationToken`: nothing new is stored, and only whoever holds the pass (or
//! its ticket page) has it.

use chrono::{DateTime, Duration, Utc};

use super::rotating::barcode_of;
use super::tickets::{token_for, TicketInContext};
use super::{now, Encore, Error, Result};
use crate::db::wallet_passes;
use crate::domain::event::venue_time_text;
use crate::domain::event::{Event, Performance};
use crate::domain::ids::TicketId;
use crate::domain::ticket::Ticket;
use crate::domain::wallet::{PassContent, PassDevice, TrackedPass};
use crate::domain::TicketStatus;
use crate::tokens::{LinkClaims, LinkPurpose};
use crate::wallet::apple::{self, PassSigner, UpdateService};

/// How long after its performance a pass's token still authenticates its wallet.
const PASS_TOKEN_LIFETIME_AFTER_START: i64 = 30;

/// Passes of performances that started longer ago than this no longer change.
const TRACKED_AFTER_START_HOURS: i64 = 24;

/// The ticket as its pass shows it now.
fn content(encore: &Encore, current: &TicketInContext) -> Result<PassContent> {
    let mut pass = shown(&current.ticket, &current.performance, &current.event);
    if current.ticket.status == TicketStatus::Valid {
        // A rotating event's static code is refused at the door: its pass carries the rotating
        // code alone.
        pass.rotating = barcode_of(encore, &current.ticket, &current.event);
        if pass.rotating.is_none() {
            pass.barcode = Some(token_for(encore, &current.ticket, &current.performance)?);
        }
    }
    Ok(pass)
}

/// What the pass shows but its code (which its digest leaves out, so comparing passes signs
/// no token).
fn shown(ticket: &Ticket, performance: &Performance, event: &Event) -> PassContent {
    PassContent {
        ticket_id: ticket.id,
        event_id: event.id,
        generation: ticket.generation,
        status: ticket.status,
        event_name: event.name.clone(),
        venue: event.venue.clone(),
        starts_at: performance.starts_at(),
        starts_at_text: venue_time_text(performance.starts_at(), &event.time_zone),
        holder_name: ticket.holder_name.clone(),
        seat: PassContent::seat_text(ticket.section.as_deref(), ticket.seat.as_deref()),
        barcode: None,
        rotating: None,
    }
}

fn signer(encore: &Encore, ticket_id: TicketId) -> Result<&PassSigner> {
    encore
        .apple_passes
        .as_deref()
        .ok_or_else(|| Error::not_found("apple wallet pass", ticket_id))
}

/// The pass, signed, with where its wallet asks for updates and the token it asks with.
fn signed_pass(encore: &Encore, current: &TicketInContext, pass: &PassContent) -> Result<Vec<u8>> {
    let signer = signer(encore, current.ticket.id)?;
    let token = encore.keys.sign(&LinkClaims {
        ticket_id: current.ticket.id,
        generation: current.ticket.generation,
        purpose: LinkPurpose::Wallet,
        exp: (current.performance.starts_at() + Duration::days(PASS_TOKEN_LIFETIME_AFTER_START))
            .timestamp(),
    })?;
    let updates = UpdateService {
        url: format!("{}/wallet/apple", encore.settings.public_base_url),
        authentication_token: token,
    };
    apple::package(signer, pass, Some(updates)).map_err(|e| Error::Internal(e.to_string()))
}

/// The ticket's Apple Wallet pass (`.pkpass`), for its ticket page's link at `generation`.
/// `NotFound` when the operator configured no Apple credentials; `LinkSuperseded` when the
/// ticket has moved on since the link was made. The pass is remembered, so that its wallet
/// hears of the ticket's later changes.
pub fn apple_pass(encore: &Encore, ticket_id: TicketId, generation: i32) -> Result<Vec<u8>> {
    signer(encore, ticket_id)?;
    let (current, pass) = handed_out(encore, ticket_id, generation, Wallet::Apple)?;
    signed_pass(encore, &current, &pass)
}

/// Which wallet a pass is handed to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wallet {
    Apple,
    Google,
}

/// The ticket's pass as a link at `generation` hands it out (`LinkSuperseded` when the ticket
/// has moved on), remembered so that its wallet hears of the ticket's later changes.
fn handed_out(
    encore: &Encore,
    ticket_id: TicketId,
    generation: i32,
    wallet: Wallet,
) -> Result<(TicketInContext, PassContent)> {
    let current = encore
        .db
        .read(|conn| TicketInContext::load(conn, ticket_id))?;
    if current.ticket.generation != generation {
        return Err(Error::LinkSuperseded);
    }
    let pass = content(encore, &current)?;
    let google = wallet == Wallet::Google;
    encore.db.write(|conn| {
        Ok::<_, Error>(wallet_passes::hand_out(
            conn,
            ticket_id,
            &pass.digest(),
            google,
            now(),
        )?)
    })?;
    Ok((current, pass))
}

/// The ticket's "Add to Google Wallet" address, for its ticket page's link at `generation`
/// (`NotFound` when the operator configured no Google Wallet). The object is remembered, so
/// that it is updated when the ticket changes.
pub fn google_save_url(encore: &Encore, ticket_id: TicketId, generation: i32) -> Result<String> {
    let Some(google) = encore.google_wallet.as_deref() else {
        return Err(Error::not_found("google wallet pass", ticket_id));
    };
    let (_, pass) = handed_out(encore, ticket_id, generation, Wallet::Google)?;
    google
        .save_url(&pass)
        .map_err(|e| Error::Internal(e.to_string()))
}

/// The ticket as its pass shows it now (for the worker's Google Wallet update).
pub fn current_pass(encore: &Encore, ticket_id: TicketId) -> Result<PassContent> {
    let current = encore
        .db
        .read(|conn| TicketInContext::load(conn, ticket_id))?;
    content(encore, &current)
}

/// A wallet's request about one pass, as Apple's web service names it.
pub struct PassRequest<'a> {
    pub pass_type_id: &'a str,
    pub serial_number: &'a str,
    /// The `Authorization` header's value (`ApplePass <token>`).
    pub authorization: Option<&'a str>,
}

/// The web service answers only for the pass type it signs: `NotFound` for any other, or
/// for every one when no Apple credentials are configured.
fn check_pass_type(encore: &Encore, pass_type_id: &str) -> Result<()> {
    match encore.apple_passes.as_deref() {
        Some(signer) if signer.pass_type_id == pass_type_id => Ok(()),
        _ => Err(Error::not_found("pass type", pass_type_id)),
    }
}

/// The ticket the request is about, when it proves it holds that ticket's pass.
fn authenticate(encore: &Encore, request: &PassRequest<'_>) -> Result<TicketId> {
    check_pass_type(encore, request.pass_type_id)?;
    let ticket_id = request
        .serial_number
        .parse::<i64>()
        .map(TicketId)
        .map_err(|_| Error::not_found("pass", request.serial_number))?;
    let token = request
        .authorization
        .and_then(|value| value.strip_prefix("ApplePass "))
        .ok_or(Error::WalletUnauthorized)?;
    let claims = encore
        .keys
        .verify_link(token.trim(), LinkPurpose::Wallet, Utc::now().timestamp())
        .ok_or(Error::WalletUnauthorized)?;
    if claims.ticket_id != ticket_id {
        return Err(Error::WalletUnauthorized);
    }
    Ok(ticket_id)
}

/// The latest pass, for a wallet that holds it, and when it last changed.
pub fn latest_apple_pass(
    encore: &Encore,
    request: &PassRequest<'_>,
) -> Result<(Vec<u8>, DateTime<Utc>)> {
    let ticket_id = authenticate(encore, request)?;
    let current = encore
        .db
        .read(|conn| TicketInContext::load(conn, ticket_id))?;
    let pass = content(encore, &current)?;
    let file = signed_pass(encore, &current, &pass)?;
    let updated_at = encore
        .db
        .read(|conn| Ok::<_, Error>(wallet_passes::updated_at(conn, ticket_id)?))?
        .unwrap_or(current.ticket.issued_at);
    Ok((file, updated_at))
}

/// A device asks to hear of the pass's changes. True when it was not registered yet.
pub fn register_device(
    encore: &Encore,
    device_library_id: &str,
    request: &PassRequest<'_>,
    push_token: &str,
) -> Result<bool> {
    let ticket_id = authenticate(encore, request)?;
    let device = PassDevice {
        device_library_id: device_library_id.to_string(),
        ticket_id,
        push_token: push_token.to_string(),
    };
    encore.db.write(|conn| {
        let current = TicketInContext::load(conn, ticket_id)?;
        // A pass added from a copy the ticket page never handed out (shared by the holder) is
        // tracked from here on.
        let pass = content(encore, &current)?;
        wallet_passes::hand_out(conn, ticket_id, &pass.digest(), false, now())?;
        Ok(wallet_passes::register(conn, &device, now())?)
    })
}

/// A device no longer wants to hear of the pass. True when it was registered.
pub fn unregister_device(
    encore: &Encore,
    device_library_id: &str,
    request: &PassRequest<'_>,
) -> Result<bool> {
    let ticket_id = authenticate(encore, request)?;
    encore.db.write(|conn| {
        Ok::<_, Error>(wallet_passes::unregister(
            conn,
            device_library_id,
            ticket_id,
        )?)
    })
}

/// The serial numbers of a device's passes that changed after `since` (a tag from an earlier
/// answer), and the tag to ask with next time; `None` when nothing changed.
pub fn updated_serials(
    encore: &Encore,
    device_library_id: &str,
    pass_type_id: &str,
    since: Option<&str>,
) -> Result<Option<(Vec<String>, String)>> {
    check_pass_type(encore, pass_type_id)?;
    // The tag is the last change's time in microseconds; a tag we did not make means "all".
    let since = since
        .and_then(|tag| tag.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_micros);
    let updated = encore.db.read(|conn| {
        Ok::<_, Error>(wallet_passes::updated_for_device(
            conn,
            device_library_id,
            since,
        )?)
    })?;
    let Some(last) = updated.iter().map(|(_, at)| *at).max() else {
        return Ok(None);
    };
    let serials = updated.iter().map(|(id, _)| id.to_string()).collect();
    Ok(Some((serials, last.timestamp_micros().to_string())))
}

/// Compares every pass still worth updating with its ticket as it is now, and marks those that
/// changed as updated, their wallets to be told. Returns how many changed.
pub fn detect_changes(encore: &Encore) -> Result<usize> {
    let from = Utc::now() - Duration::hours(TRACKED_AFTER_START_HOURS);
    let tracked = encore
        .db
        .read(|conn| Ok::<_, Error>(wallet_passes::tracked(conn, from)?))?;
    let mut changed = 0;
    for (pass, ticket, performance, event) in tracked {
        let digest = shown(&ticket, &performance, &event).digest();
        if digest != pass.digest {
            encore.db.write(|conn| {
                Ok::<_, Error>(wallet_passes::mark_changed(
                    conn,
                    pass.ticket_id,
                    &digest,
                    now(),
                )?)
            })?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// A changed pass whose wallets are to be told: the Apple devices holding it, and whether a
/// Google Wallet object of it was handed out.
pub struct PendingUpdate {
    pub pass: TrackedPass,
    pub devices: Vec<PassDevice>,
}

/// Up to `limit` changed passes whose wallets have not been told yet.
pub fn pending_updates(encore: &Encore, limit: i64) -> Result<Vec<PendingUpdate>> {
    encore.db.read(|conn| {
        let pending = wallet_passes::pending(conn, limit)?;
        pending
            .into_iter()
            .map(|pass| {
                let devices = wallet_passes::devices_of(conn, pass.ticket_id)?;
                Ok(PendingUpdate { pass, devices })
            })
            .collect::<Result<Vec<_>>>()
    })
}

/// The wallets of `pass` were told (or the ones left cannot be: see the job).
pub fn updates_sent(encore: &Encore, pass: &TrackedPass) -> Result<()> {
    encore
        .db
        .write(|conn| Ok::<_, Error>(wallet_passes::notified(conn, pass.ticket_id, &pass.digest)?))
}

/// Apple says a device no longer holds the pass (its push token is gone): forget it.
pub fn forget_device(encore: &Encore, device: &PassDevice) -> Result<()> {
    encore.db.write(|conn| {
        Ok::<_, Error>(
            wallet_passes::unregister(conn, &device.device_library_id, device.ticket_id)
                .map(drop)?,
        )
    })
}
