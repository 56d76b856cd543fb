//! Carries on the console's CSV imports a stopped process left unfinished.

use crate::service::{self, imports, Encore};

/// Starts, each on its own thread, every import still marked running. Called once as
/// `encore serve` starts.
pub fn run(encore: &Encore) -> service::Result<()> {
    imports::resume_unfinished(encore)
}
