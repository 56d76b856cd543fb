//! Queues pre-show reminders as they fall due (once per performance and offset).

use crate::service::{self, outbox, Encore};

/// Queues every reminder whose time has come, with Message-IDs in `message_id_domain`.
/// Returns how many emails were queued.
pub async fn run(encore: &Encore, message_id_domain: String) -> service::Result<usize> {
    let encore = encore.clone();
    crate::worker::blocking(move || outbox::queue_due_reminders(&encore, &message_id_domain)).await
}
