//! Re-reads the token signing keys periodically, so keys rotated by `encore keys rotate`
//! (possibly on another machine) are picked up by every process that signs or verifies.

use std::time::Duration;

use crate::service::{signing, Encore};

/// Re-reads the keys every `every`, for as long as the process runs.
pub async fn keep_fresh(encore: Encore, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await; // the first tick is immediate; the keys were just loaded
    loop {
        ticks.tick().await;
        let encore = encore.clone();
        match tokio::task::spawn_blocking(move || signing::reload(&encore)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not refresh signing keys"),
            Err(e) => tracing::warn!(error = %e, "key refresh task failed"),
        }
    }
}
