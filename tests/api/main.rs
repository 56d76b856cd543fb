//! One integration-test binary: every test drives the real app over HTTP against a real
//! database, on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod bad_input;
mod cli;
mod issuance;
mod lifecycle;
mod processes;
mod scans;
