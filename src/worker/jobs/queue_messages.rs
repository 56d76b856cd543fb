//! Queues events' message rules as their moments come (once per rule and performance).

use crate::service::{self, message_rules, Encore};

/// Queues every rule whose moment has come, with Message-IDs in `message_id_domain`. Returns
/// how many emails were queued.
pub async fn run(encore: &Encore, message_id_domain: String) -> service::Result<usize> {
    let encore = encore.clone();
    crate::worker::blocking(move || message_rules::queue_due(&encore, &message_id_domain)).await
}
