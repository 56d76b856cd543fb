//! One integration-test binary: every test drives the real app over HTTP against a real
//! database, on SQLite and on PostgreSQL.

mod helpers;
mod smtp;

mod auth;
mod auth_keys;
mod auth_routes;
mod auth_scanner_page;
mod authors;
mod backup;
mod bad_input;
mod browser;
mod cancellations;
mod changes;
mod cli;
mod console_arrivals;
mod console_auth;
mod console_browser;
mod console_events;
mod console_imports;
mod console_patrons;
mod console_performance;
mod console_proxies;
mod console_resend;
mod console_staff;
mod door;
mod email;
mod event_update;
mod issuance;
mod journey;
mod journey_page;
mod lifecycle;
mod links_hardening;
mod mail_faults;
mod metrics;
mod openapi;
mod processes;
mod races_cancel;
mod races_clock;
mod rotating_codes;
mod scanner_page;
mod scans;
mod search;
mod secrets_at_rest;
mod secrets_hardening;
mod staff_idempotency;
