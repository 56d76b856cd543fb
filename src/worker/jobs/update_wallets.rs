//! Tells the wallets that hold a ticket's pass when the ticket changed: a transfer, a claim,
//! an exchange, a cancellation, a new generation, the event renamed or moved. Each round
//! compares the passes handed out with their tickets (`service::wallet::detect_changes`), then
//! replaces a changed pass's Google Wallet object and pushes to every Apple device holding it.
//! A pass stays pending until all its wallets were reached (or are gone), so an update that
//! fails, or a crash between the two steps, is made again on the next round.

use crate::service::wallet::{self, PendingUpdate};
use crate::service::{self, Encore};
use crate::wallet::apns::{Apns, PushOutcome};
use crate::wallet::google::UpdateOutcome;

/// Changed passes taken in one round.
const ROUND: i64 = 100;

/// One round. Returns how many passes' wallets were told.
pub async fn run(encore: &Encore, apns: Option<&Apns>) -> service::Result<usize> {
    let e = encore.clone();
    let changed = crate::worker::blocking(move || wallet::detect_changes(&e)).await?;
    if changed > 0 {
        tracing::info!(changed, "wallet passes changed");
    }
    let e = encore.clone();
    let pending = crate::worker::blocking(move || wallet::pending_updates(&e, ROUND)).await?;
    let mut told = 0;
    for update in pending {
        if tell(encore, apns, &update).await? {
            let (e, pass) = (encore.clone(), update.pass.clone());
            crate::worker::blocking(move || wallet::updates_sent(&e, &pass)).await?;
            told += 1;
        }
    }
    Ok(told)
}

/// Replaces the pass's Google Wallet object (if one was handed out) and pushes to each Apple
/// device holding the pass; true when nothing is left to try again.
async fn tell(
    encore: &Encore,
    apns: Option<&Apns>,
    update: &PendingUpdate,
) -> service::Result<bool> {
    let mut done = true;
    if let (true, Some(google)) = (update.pass.in_google, encore.google_wallet.clone()) {
        let (e, ticket_id) = (encore.clone(), update.pass.ticket_id);
        let pass = crate::worker::blocking(move || wallet::current_pass(&e, ticket_id)).await?;
        match google.update(&pass).await {
            UpdateOutcome::Updated | UpdateOutcome::NotSaved => {}
            UpdateOutcome::Later(why) => {
                tracing::warn!(ticket = %ticket_id, reason = %why, "Google Wallet update failed; trying again next round");
                done = false;
            }
        }
    }
    let Some(apns) = apns else {
        // No push service configured: the devices see the change when they refresh.
        return Ok(done);
    };
    for device in &update.devices {
        match apns.push(&device.push_token).await {
            PushOutcome::Delivered => {
                tracing::debug!(ticket = %device.ticket_id, "wallet pushed");
            }
            PushOutcome::Gone => {
                let (e, device) = (encore.clone(), device.clone());
                crate::worker::blocking(move || wallet::forget_device(&e, &device)).await?;
            }
            PushOutcome::Later(why) => {
                tracing::warn!(ticket = %device.ticket_id, reason = %why, "wallet push failed; trying again next round");
                done = false;
            }
        }
    }
    Ok(done)
}
