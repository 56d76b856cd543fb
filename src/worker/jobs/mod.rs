//! The worker's jobs, one per file: each calls services, never the database.

pub mod deliver_emails;
pub mod deliver_webhooks;
pub mod expire_transfer_offers;
pub mod queue_messages;
pub mod queue_reminders;
pub mod refresh_keys;
pub mod resume_cancellations;
pub mod resume_imports;
pub mod update_wallets;
