//! The JSON API under `/api/v1`, one module per resource. Handlers parse, call a service, shape
//! the answer; nothing more.

pub mod changes;
pub mod events;
pub mod keys;
pub mod performances;
pub mod scans;
pub mod tickets;
pub mod views;
