//! The use cases: issue, scan, look up, manage keys. Each write is one transaction. Services are
//! plain blocking functions over [`Encore`]; the HTTP layer runs them off the async threads and
//! the CLI calls them directly.

pub mod accounts;
pub mod arrivals;
pub mod box_office;
pub mod cancellations;
pub mod consent;
pub mod console_events;
pub mod console_patrons;
pub mod console_performance;
pub mod credit;
pub mod door;
pub mod events;
pub mod exchanges;
pub mod idempotency;
pub mod import;
pub mod imports;
pub mod journey;
pub mod maintenance;
pub mod message_rules;
pub mod no_show;
pub mod outbox;
pub mod patron_pages;
pub mod readiness;
pub mod rotating;
pub mod scan_writer;
pub mod scans;
pub mod search;
mod secrets;
pub mod signing;
pub mod staff;
pub mod tickets;
pub mod transfers;
pub mod wallet;
pub mod webhooks;

use std::sync::Arc;

use tokio::sync::Notify;

use chrono::Duration;

use crate::config::Config;
use crate::db::{Db, PoolError};
use crate::domain::Invalid;
use crate::tokens::{KeyRing, KeyRingError};

/// Everything a use case needs: the database, the token keys and the rules' settings.
/// Cheap to clone; one per process.
#[derive(Clone)]
pub struct Encore {
    pub db: Db,
    pub keys: Arc<KeyRing>,
    pub settings: Settings,
    /// Woken when this process queues email, so the worker sends it at once.
    pub outbox_wakeup: Arc<Notify>,
    /// Where scans are written, in batches (group commit).
    pub scan_writer: scan_writer::ScanWriter,
    /// This process's metrics (no-ops when `metrics_enabled` is off).
    pub metrics: Arc<crate::metrics::Metrics>,
    key_refresh: Arc<signing::RefreshGate>,
    /// The key file's key, which seals the signing keys in the database.
    sealer: Arc<signing::Sealer>,
    /// What signs Apple Wallet passes; `None` when the operator configured none.
    pub apple_passes: Option<Arc<crate::wallet::apple::PassSigner>>,
    /// What signs Google Wallet links and updates their objects; `None` when not configured.
    pub google_wallet: Option<Arc<crate::wallet::google::GoogleWallet>>,
    /// The key rotating codes' per-ticket secrets are derived from (`service::rotating`).
    code_key: Arc<crate::tokens::CodeKey>,
}

/// The settings the rules read (a subset of [`Config`]).
#[derive(Debug, Clone)]
pub struct Settings {
    pub scan_window_before_doors: Duration,
    pub scan_window_after_start: Duration,
    pub scan_clock_leeway: Duration,
    /// How far an offline scanner's clock may be off (see `domain::scan::ClockBounds`).
    pub offline_clock_leeway: Duration,
    pub max_bulk_tickets: usize,
    /// The domain of our Message-IDs (that of the From address).
    pub message_id_domain: String,
    /// Where patron links point (no trailing slash).
    pub public_base_url: String,
    /// How many offers a ticket page may make, of one ticket and to one address, per window.
    pub offer_limits: crate::domain::policy::OfferLimits,
    /// A patron link's opens are recorded at most once per this long.
    pub link_open_record_every: Duration,
    /// How long a box-office console session lives.
    pub staff_sessions: crate::domain::staff::SessionLimits,
    /// The reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Whether this process serves HTTPS itself (`tls_cert_file`): its cookies are `Secure`.
    pub served_over_tls: bool,
    /// How many rotation periods either side of now a rotating code is still accepted.
    pub rotation_leeway_steps: u32,
    /// Where webhooks may be delivered (`webhook_allow_http`, `webhook_allow_private_addresses`).
    pub webhook_reach: crate::domain::webhook::Reach,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        Settings {
            scan_window_before_doors: Duration::hours(config.scan_window_before_doors_hours),
            scan_window_after_start: Duration::hours(config.scan_window_after_start_hours),
            scan_clock_leeway: Duration::seconds(config.scan_clock_leeway_seconds),
            offline_clock_leeway: Duration::seconds(config.offline_clock_leeway_seconds),
            max_bulk_tickets: config.max_bulk_tickets,
            message_id_domain: config
                .mail_from
                .parse::<lettre::message::Mailbox>()
                .map(|m| m.email.domain().to_string())
                .unwrap_or_else(|_| "encore.localhost".into()),
            public_base_url: config.public_base_url.trim_end_matches('/').to_string(),
            offer_limits: crate::domain::policy::OfferLimits {
                window: Duration::minutes(config.transfer_offer_window_minutes),
                per_ticket: config.transfer_offers_per_ticket,
                per_recipient: config.transfer_offers_per_recipient,
            },
            link_open_record_every: Duration::minutes(config.link_open_record_minutes),
            staff_sessions: crate::domain::staff::SessionLimits {
                idle: Duration::minutes(config.staff_session_idle_minutes),
                absolute: Duration::hours(config.staff_session_hours),
            },
            // Checked by `Config::validate`.
            trusted_proxies: config
                .trusted_proxies
                .iter()
                .filter_map(|proxy| proxy.parse().ok())
                .collect(),
            served_over_tls: config.tls_files().is_some(),
            rotation_leeway_steps: config.rotation_leeway_steps,
            webhook_reach: config.webhook_reach(),
        }
    }
}

impl Encore {
    /// Opens the database, applies migrations, and loads (or on first start, creates) the
    /// signing key.
    pub fn start(config: &Config) -> anyhow::Result<Encore> {
        use anyhow::Context as _;
        let db = Db::connect(
            &config.database_url,
            config.db_pool_size,
            config.sqlite_busy_timeout(),
        )?;
        let applied = db.migrate()?;
        if applied > 0 {
            tracing::info!(applied, backend = db.backend().name(), "applied migrations");
        }
        let (keys, sealer) = signing::load_keyring(&db, signing::key_file(config))
            .context("cannot load the token signing keys")?;
        let code_key = signing::load_code_key(&db, &sealer)
            .context("cannot derive the rotating codes' key")?;
        let settings = Settings::from_config(config);
        let apple_passes = crate::wallet::apple::PassSigner::load(&config.apple_wallet())
            .context("cannot load the Apple Wallet pass certificate")?
            .map(Arc::new);
        let google_wallet = crate::wallet::google::GoogleWallet::load(&config.google_wallet())
            .context("cannot load the Google Wallet service account")?
            .map(Arc::new);
        let outbox_wakeup = Arc::new(Notify::new());
        let lobby = door::LobbyMail {
            message_id_domain: settings.message_id_domain.clone(),
            wakeup: outbox_wakeup.clone(),
        };
        Ok(Encore {
            scan_writer: scan_writer::ScanWriter::start(
                db.clone(),
                config.postgres_scan_writers,
                lobby,
                settings.clone(),
            ),
            db,
            keys: Arc::new(keys),
            settings,
            outbox_wakeup,
            metrics: if config.metrics_enabled {
                crate::metrics::Metrics::enabled()
            } else {
                crate::metrics::Metrics::disabled()
            },
            key_refresh: Arc::new(signing::RefreshGate::default()),
            sealer: Arc::new(sealer),
            apple_passes,
            google_wallet,
            code_key: Arc::new(code_key),
        })
    }
}

/// Why a use case did not happen. The HTTP layer maps each to a status and a stable code in
/// one place (`http::error`); the CLI prints it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("only {available} of the {requested} requested tickets are left for this performance")]
    SoldOut { requested: i64, available: i64 },
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A patron change the rules do not allow now (policy, cut-off, the ticket's state).
    #[error(transparent)]
    Refused(#[from] crate::domain::policy::Refusal),
    #[error("the database is unavailable: {0}")]
    Unavailable(#[from] PoolError),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    #[error("token keys: {0}")]
    Keys(#[from] KeyRingError),
    #[error("the scan could not be recorded: {0}")]
    Unwritten(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// A patron link made for an earlier generation of its ticket: it no longer leads anywhere.
    #[error("This link is for an earlier state of the ticket.")]
    LinkSuperseded,
    /// A ticket page made too many transfer offers (of the ticket, or to the address) lately.
    #[error(
        "Too many offers were made of this ticket or to this address lately; try again in {}.",
        minutes_text(.retry_after)
    )]
    TooManyOffers { retry_after: Duration },
    /// A wallet asked about a pass without that pass's authentication token.
    #[error("The wallet's authentication token is not this pass's.")]
    WalletUnauthorized,
}

/// A wait in whole minutes, rounded up: "1 minute", "25 minutes".
fn minutes_text(wait: &Duration) -> String {
    match (wait.num_seconds() + 59) / 60 {
        n if n <= 1 => "1 minute".to_string(),
        n => format!("{n} minutes"),
    }
}

impl Error {
    pub fn not_found(what: &'static str, id: impl ToString) -> Error {
        Error::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The current time to the microsecond: what both backends store, so what a service answers
/// equals what it recorded.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
