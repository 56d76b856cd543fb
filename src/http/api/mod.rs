//! The JSON API under `/api/v1`, one module per resource. Handlers parse, call a service, shape
//! the answer; nothing more.

pub mod cancellations;
pub mod changes;
pub mod door;
pub mod events;
pub mod idempotency;
pub mod journey;
pub mod keys;
pub mod message_rules;
pub mod performances;
pub mod scans;
pub mod schema;
pub mod search;
pub mod staff;
pub mod tickets;
pub mod views;
pub mod webhooks;
