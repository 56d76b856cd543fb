//! Gives transfer offers nobody claimed in time back to their senders.

use crate::service::{self, transfers, Encore};

/// Expires every offer whose time ran out. Returns how many.
pub async fn run(encore: &Encore) -> service::Result<usize> {
    let encore = encore.clone();
    crate::worker::blocking(move || transfers::expire_due(&encore)).await
}
