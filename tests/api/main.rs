//! One integration-test binary: every test drives the real app over HTTP against a real
//! database, on SQLite and on PostgreSQL.

mod helpers;
mod smtp;

mod auth;
mod backup;
mod bad_input;
mod browser;
mod cancellations;
mod changes;
mod cli;
mod door;
mod email;
mod event_update;
mod issuance;
mod journey;
mod journey_page;
mod lifecycle;
mod metrics;
mod openapi;
mod processes;
mod races_cancel;
mod races_clock;
mod scanner_page;
mod scans;
mod staff_idempotency;
