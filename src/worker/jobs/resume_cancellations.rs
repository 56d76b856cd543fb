//! Carries on the performance cancellations a stopped process left unfinished.

use crate::service::{self, cancellations, Encore};

/// Starts, each on its own thread, every cancellation job still marked running. Called once
/// as `encore serve` starts.
pub fn run(encore: &Encore) -> service::Result<()> {
    cancellations::resume_unfinished(encore)
}
