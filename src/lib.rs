//! Encore: a digital-ticket lifecycle service.
//!
//! The arrows run one way: `http` (and `cli`) → `service` → `domain`, `tokens` and `db`.
//! `domain` knows no HTTP and no SQL; `db` knows no HTTP.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod email;
pub mod files;
pub mod http;
pub mod metrics;
pub mod service;
pub mod telemetry;
pub mod tokens;
