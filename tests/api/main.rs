//! One integration-test binary: every test drives the real app over HTTP against a real
//! database, on SQLite and on PostgreSQL.

mod helpers;
mod smtp;

mod auth;
mod bad_input;
mod browser;
mod changes;
mod cli;
mod email;
mod issuance;
mod lifecycle;
mod processes;
mod scans;
