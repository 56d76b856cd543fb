//! Encore: a digital-ticket lifecycle service.
//!
//! The arrows run one way: `http`, `cli` and `worker` → `service` → `domain`, `tokens`,
//! `email` and `db`. `domain` knows no HTTP and no SQL; `db` knows no HTTP. The layers, their
//! rules and the places where an arrow still runs the wrong way: `docs/architecture.md`.

pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod email;
pub mod files;
pub mod http;
pub mod i18n;
pub mod metrics;
pub mod service;
pub mod telemetry;
pub mod tokens;
pub mod wallet;
pub mod webhook_client;
pub mod worker;
