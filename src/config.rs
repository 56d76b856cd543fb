//! Every setting in one place, with its default. Loaded once at start-up from, in rising order of
//! precedence: the defaults below, an optional `encore.toml` (or the file named by
//! `ENCORE_CONFIG`), `ENCORE_*` environment variables, and `DATABASE_URL` / `SMTP_URL`.

use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `postgres://…` for PostgreSQL; otherwise a SQLite file path (created if absent).
    pub database_url: String,
    /// Address the HTTP server listens on.
    pub bind: String,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Database connections per process.
    pub db_pool_size: u32,
    /// How long a SQLite writer waits for another process's write lock.
    pub sqlite_busy_timeout_ms: u64,
    /// A QR admits from this many hours before doors open…
    pub scan_window_before_doors_hours: i64,
    /// …until this many hours after the performance starts.
    pub scan_window_after_start_hours: i64,
    /// Clock drift tolerated when checking a token's window, in seconds.
    pub scan_clock_leeway_seconds: i64,
    /// How far a scanner's clock may be off when it uploads scans made offline, in seconds: a
    /// scan it says it made before its ticket was issued, after the upload or outside the
    /// performance's scan window by more than this is recorded as `clock_out_of_bounds`.
    pub offline_clock_leeway_seconds: i64,
    /// How many rotation periods either side of now a rotating code is still accepted at the
    /// door (and by the scanner page offline): 1 accepts the code before and after the current
    /// one, for a clock a few seconds off and a code shown just as it turned. 0 to 10.
    pub rotation_leeway_steps: u32,
    /// How often every process re-reads the token signing keys, in seconds. A retired key's
    /// successor must be this old, twice over, before the retirement is allowed.
    pub key_refresh_seconds: u64,
    /// The file holding the key that encrypts the token signing keys in the database; created
    /// (mode 0600) on first start if absent. Unset: `encore.key` in the SQLite database's
    /// folder, or in the working directory on PostgreSQL.
    pub key_file: Option<String>,
    /// How long a verified API key is trusted without asking the database again.
    pub api_key_cache_seconds: u64,
    /// Largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers, in milliseconds (408 after).
    pub request_header_timeout_ms: u64,
    /// How long a client may take to send a request's body, in milliseconds (408 after).
    pub request_body_timeout_ms: u64,
    /// Scan-writing threads per process on PostgreSQL (SQLite always has one).
    pub postgres_scan_writers: usize,
    /// Most tickets in one bulk issuance request.
    pub max_bulk_tickets: usize,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// Where patrons reach this service; the base of the links in emails.
    pub public_base_url: String,
    /// `smtp://host:25`, `smtps://user:pass@host`, or `smtp://host:587?tls=required` (STARTTLS).
    /// Unset: emails are written as `.eml` files into `mail_dir`.
    pub smtp_url: Option<String>,
    /// SMTP connections kept open and reused.
    pub smtp_pool_size: u32,
    /// Longest wait for each step of opening an SMTP connection (TCP connect, greeting,
    /// STARTTLS, AUTH) and for the `NOOP` check of an idle one, in milliseconds.
    pub smtp_connect_timeout_ms: u64,
    /// Longest one email's SMTP conversation (MAIL, RCPT, DATA) may take, in milliseconds.
    pub smtp_send_timeout_ms: u64,
    /// Longest wait for a pooled SMTP connection (all busy, or checking or opening one), in
    /// milliseconds.
    pub smtp_pool_wait_ms: u64,
    /// Folder for `.eml` files when no SMTP server is configured.
    pub mail_dir: String,
    /// The From address of every email.
    pub mail_from: String,
    /// A folder of the operator's own email texts (`reminder.subject.txt`, `reminder.txt`,
    /// `reminder.html`, … for each kind), used instead of the built-in ones; checked at start.
    pub email_templates_dir: Option<String>,
    /// Whether `encore serve` also runs the email worker (`encore worker` runs it alone).
    pub run_worker: bool,
    /// How often the worker looks for due emails when idle, in milliseconds.
    pub outbox_poll_ms: u64,
    /// Most emails claimed per round (never more than two rounds of `send_concurrency`).
    pub outbox_batch_size: i64,
    /// Emails in flight at once. Each waits tens of milliseconds on the SMTP server's reply
    /// (lettre's writes meet TCP's delayed acknowledgements), so throughput needs many.
    pub send_concurrency: usize,
    /// First retry delay after a failed send, in milliseconds; it doubles with each attempt.
    pub email_retry_base_ms: u64,
    /// Attempts before an email is marked failed.
    pub email_max_attempts: i32,
    /// How long a claimed email is reserved for its worker before another may take it.
    pub email_lease_seconds: i64,
    /// How often the worker checks whether reminders are due, in seconds.
    pub reminder_check_seconds: u64,
    /// Whether this process records metrics and serves them at `/metrics`. Off, every
    /// recording is a no-op (to measure what they cost) and `/metrics` answers 404.
    pub metrics_enabled: bool,
    /// A second listen address serving only `/metrics`, without an API key (for a scraper on a
    /// private network). Unset: `/metrics` is on `bind` only, for an `admin` key.
    pub metrics_bind: Option<String>,
    /// The window, in minutes, over which a ticket page's transfer offers are counted.
    pub transfer_offer_window_minutes: i64,
    /// Most offers of one ticket from its page within the window (429 beyond).
    pub transfer_offers_per_ticket: i64,
    /// Most offers to one email address from ticket pages within the window (429 beyond).
    pub transfer_offers_per_recipient: i64,
    /// A patron link's opens are recorded at most once per this many minutes.
    pub link_open_record_minutes: i64,
    /// A box-office console session ends after this many minutes without a request…
    pub staff_session_idle_minutes: i64,
    /// …and this many hours after sign-in, whatever happens.
    pub staff_session_hours: i64,
    /// The reverse proxies in front of Encore (IP addresses): from these, the client's address
    /// is read from `X-Forwarded-For` (for the sign-in throttle); from anyone else, the header
    /// is ignored.
    pub trusted_proxies: Vec<String>,
    /// Apple Wallet passes: the Pass Type ID (`pass.org.example.tickets`), the team id, the
    /// Pass Type ID certificate and its private key (PEM files), and Apple's WWDR intermediate
    /// (PEM; Apple's G4, built in, when unset). All four first ones or none: without them the
    /// "Add to Apple Wallet" button is hidden.
    pub apple_pass_type_id: Option<String>,
    pub apple_team_id: Option<String>,
    pub apple_pass_certificate_file: Option<String>,
    pub apple_pass_key_file: Option<String>,
    pub apple_wwdr_certificate_file: Option<String>,
    /// Who issues the wallet passes, as the wallet shows it.
    pub wallet_organization_name: String,
    /// Apple's push service, which tells a device that holds a pass to fetch it again: its
    /// address, the operator's APNs auth key (`.p8`) and that key's id. Without the key, passes
    /// are still made and served but the devices are not pushed.
    pub apns_url: String,
    pub apns_key_file: Option<String>,
    pub apns_key_id: Option<String>,
    /// How often the worker compares the passes handed out with their tickets and tells the
    /// wallets of those that changed.
    pub wallet_update_seconds: u64,
    /// Google Wallet: the issuer id (Google Pay & Wallet Console) and the service account's
    /// JSON key file, both or neither; without them the "Add to Google Wallet" link is hidden.
    pub google_wallet_issuer_id: Option<String>,
    pub google_wallet_service_account_file: Option<String>,
    /// Google's Wallet API, where changed tickets' objects are replaced.
    pub google_wallet_api_url: String,
    /// A PEM file of the certificate chain (the server's first) to serve HTTPS on `bind`;
    /// with `tls_key_file`, or neither (plain HTTP). Both are read again when either changes.
    pub tls_cert_file: Option<String>,
    /// The PEM file of the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub tls_key_file: Option<String>,
    /// Webhooks may go to plain `http://` URLs (else HTTPS only).
    pub webhook_allow_http: bool,
    /// Webhooks may go to loopback, private and link-local addresses (else public ones only;
    /// every address a host name resolves to is checked at registration and at each delivery).
    pub webhook_allow_private_addresses: bool,
    /// Webhook deliveries claimed per round, and sent at once.
    pub webhook_batch_size: i64,
    pub webhook_concurrency: usize,
    /// How long one webhook request may take, in milliseconds.
    pub webhook_timeout_ms: u64,
    /// First retry delay after a failed webhook delivery, in milliseconds; it doubles with
    /// each attempt, up to `webhook_retry_max_seconds`.
    pub webhook_retry_base_ms: u64,
    pub webhook_retry_max_seconds: u64,
    /// An endpoint whose every delivery failed for this long is disabled (an admin enables it
    /// again with `PATCH /api/v1/webhooks/{id}` `{"enabled": true}`; what it missed is then sent).
    pub webhook_disable_after_seconds: u64,
    /// How often the worker looks for due webhook deliveries when idle, in milliseconds.
    pub webhook_poll_ms: u64,
}

/// Where the HTTPS certificate chain and its private key are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "encore.db".into(),
            bind: "127.0.0.1:8080".into(),
            workers: 0,
            db_pool_size: 8,
            sqlite_busy_timeout_ms: 5_000,
            scan_window_before_doors_hours: 6,
            scan_window_after_start_hours: 6,
            scan_clock_leeway_seconds: 30,
            offline_clock_leeway_seconds: 300,
            rotation_leeway_steps: 1,
            key_refresh_seconds: 60,
            key_file: None,
            api_key_cache_seconds: 5,
            max_body_bytes: 1 << 20,
            request_header_timeout_ms: 5_000,
            request_body_timeout_ms: 30_000,
            postgres_scan_writers: 2,
            max_bulk_tickets: 1_000,
            log_format: LogFormat::Text,
            public_base_url: "http://127.0.0.1:8080".into(),
            smtp_url: None,
            smtp_pool_size: 64,
            smtp_connect_timeout_ms: 10_000,
            smtp_send_timeout_ms: 60_000,
            smtp_pool_wait_ms: 30_000,
            mail_dir: "mail".into(),
            mail_from: "Encore Box Office <tickets@encore.localhost>".into(),
            email_templates_dir: None,
            run_worker: true,
            outbox_poll_ms: 500,
            outbox_batch_size: 200,
            send_concurrency: 64,
            email_retry_base_ms: 30_000,
            email_max_attempts: 8,
            email_lease_seconds: 300,
            reminder_check_seconds: 30,
            metrics_enabled: true,
            metrics_bind: None,
            transfer_offer_window_minutes: 60,
            transfer_offers_per_ticket: 5,
            transfer_offers_per_recipient: 10,
            link_open_record_minutes: 5,
            staff_session_idle_minutes: 30,
            staff_session_hours: 12,
            trusted_proxies: Vec::new(),
            apple_pass_type_id: None,
            apple_team_id: None,
            apple_pass_certificate_file: None,
            apple_pass_key_file: None,
            apple_wwdr_certificate_file: None,
            wallet_organization_name: "Encore".into(),
            apns_url: crate::wallet::apns::APPLE_PUSH_URL.into(),
            apns_key_file: None,
            apns_key_id: None,
            wallet_update_seconds: 10,
            google_wallet_issuer_id: None,
            google_wallet_service_account_file: None,
            google_wallet_api_url: crate::wallet::google::GOOGLE_WALLET_API.into(),
            tls_cert_file: None,
            tls_key_file: None,
            webhook_allow_http: false,
            webhook_allow_private_addresses: false,
            webhook_batch_size: 256,
            webhook_concurrency: 64,
            webhook_timeout_ms: 10_000,
            webhook_retry_base_ms: 5_000,
            webhook_retry_max_seconds: 3_600,
            webhook_disable_after_seconds: 86_400,
            webhook_poll_ms: 500,
        }
    }
}

impl Config {
    /// The configuration file read (if it exists): `ENCORE_CONFIG`, else `encore.toml`.
    pub fn file() -> String {
        std::env::var("ENCORE_CONFIG").unwrap_or_else(|_| "encore.toml".into())
    }

    pub fn load() -> Result<Config, Box<figment::Error>> {
        let file = Config::file();
        let config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("ENCORE_").ignore(&["config"]))
            .merge(Env::raw().only(&["database_url", "smtp_url"]))
            .extract()
            .map_err(Box::new)?;
        config
            .check()
            .map_err(|m| Box::new(figment::Error::from(m)))?;
        Ok(config)
    }

    /// Settings that parse but make no sense stop start-up with a message naming them.
    fn check(&self) -> Result<(), String> {
        if self.db_pool_size == 0 {
            return Err("db_pool_size must be at least 1".into());
        }
        if self.max_bulk_tickets == 0 {
            return Err("max_bulk_tickets must be at least 1".into());
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "mail_from {:?} is not an address like \"Box Office <tickets@example.org>\"",
                self.mail_from
            ));
        }
        if self.outbox_batch_size < 1 || self.send_concurrency == 0 || self.email_max_attempts < 1 {
            return Err(
                "outbox_batch_size, send_concurrency and email_max_attempts must be at least 1"
                    .into(),
            );
        }
        let longest_send_ms = self
            .smtp_pool_wait_ms
            .saturating_add(self.smtp_send_timeout_ms);
        if (self.email_lease_seconds.max(0) as u64).saturating_mul(1000) <= longest_send_ms {
            return Err(
                "email_lease_seconds must be longer than smtp_pool_wait_ms + \
                 smtp_send_timeout_ms: a send starts only when its claim's lease covers it"
                    .into(),
            );
        }
        if self.webhook_batch_size < 1
            || self.webhook_concurrency == 0
            || self.webhook_timeout_ms == 0
            || self.webhook_disable_after_seconds == 0
        {
            return Err(
                "webhook_batch_size, webhook_concurrency, webhook_timeout_ms and \
                        webhook_disable_after_seconds must be at least 1"
                    .into(),
            );
        }
        if self.scan_window_before_doors_hours < 0 || self.scan_window_after_start_hours < 0 {
            return Err("scan window hours must not be negative".into());
        }
        if self.rotation_leeway_steps > 10 {
            return Err("rotation_leeway_steps must be between 0 and 10".into());
        }
        if self.offline_clock_leeway_seconds < 0 {
            return Err("offline_clock_leeway_seconds must not be negative".into());
        }
        if self.transfer_offer_window_minutes < 1
            || self.transfer_offers_per_ticket < 1
            || self.transfer_offers_per_recipient < 1
        {
            return Err(
                "transfer_offer_window_minutes, transfer_offers_per_ticket and \
                 transfer_offers_per_recipient must be at least 1"
                    .into(),
            );
        }
        if self.link_open_record_minutes < 0 {
            return Err("link_open_record_minutes must not be negative".into());
        }
        if self.staff_session_idle_minutes < 1 || self.staff_session_hours < 1 {
            return Err(
                "staff_session_idle_minutes and staff_session_hours must be at least 1".into(),
            );
        }
        if let Some(bad) = self
            .trusted_proxies
            .iter()
            .find(|proxy| proxy.parse::<std::net::IpAddr>().is_err())
        {
            return Err(format!(
                "trusted_proxies: {bad:?} is not an IP address (name each proxy by its address)"
            ));
        }
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => {
                return Err(
                    "tls_cert_file is set but tls_key_file is not: HTTPS needs both \
                     (or neither, for plain HTTP)"
                        .into(),
                )
            }
            (None, Some(_)) => {
                return Err(
                    "tls_key_file is set but tls_cert_file is not: HTTPS needs both \
                     (or neither, for plain HTTP)"
                        .into(),
                )
            }
            _ => {}
        }
        Ok(())
    }

    /// The Apple Wallet settings, as `wallet::apple` reads them.
    pub fn apple_wallet(&self) -> crate::wallet::apple::AppleWalletSettings {
        crate::wallet::apple::AppleWalletSettings {
            pass_type_id: self.apple_pass_type_id.clone(),
            team_id: self.apple_team_id.clone(),
            certificate_file: self.apple_pass_certificate_file.clone(),
            key_file: self.apple_pass_key_file.clone(),
            wwdr_certificate_file: self.apple_wwdr_certificate_file.clone(),
            organization_name: self.wallet_organization_name.clone(),
        }
    }

    /// The Google Wallet settings, as `wallet::google` reads them.
    pub fn google_wallet(&self) -> crate::wallet::google::GoogleWalletSettings {
        crate::wallet::google::GoogleWalletSettings {
            issuer_id: self.google_wallet_issuer_id.clone(),
            service_account_file: self.google_wallet_service_account_file.clone(),
            api_url: self.google_wallet_api_url.clone(),
            organization_name: self.wallet_organization_name.clone(),
            origin: self.public_base_url.trim_end_matches('/').to_string(),
        }
    }

    /// Apple's push service settings: `None` unless Apple Wallet passes are configured and an
    /// APNs key with its id is given.
    pub fn apns(&self) -> Option<crate::wallet::apns::ApnsSettings> {
        Some(crate::wallet::apns::ApnsSettings {
            url: self.apns_url.clone(),
            key_file: self.apns_key_file.clone()?,
            key_id: self.apns_key_id.clone()?,
            team_id: self.apple_team_id.clone()?,
            topic: self.apple_pass_type_id.clone()?,
        })
    }

    /// The certificate and key files when `bind` serves HTTPS (`check` saw both or neither).
    pub fn tls_files(&self) -> Option<TlsFiles> {
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
            }),
            _ => None,
        }
    }

    /// Where webhooks may be delivered.
    pub fn webhook_reach(&self) -> crate::domain::webhook::Reach {
        crate::domain::webhook::Reach {
            allow_http: self.webhook_allow_http,
            allow_private: self.webhook_allow_private_addresses,
        }
    }

    pub fn key_refresh(&self) -> Duration {
        Duration::from_secs(self.key_refresh_seconds.max(1))
    }

    /// How long a new signing key must have been in force before an older one may be retired.
    pub fn key_retire_grace(&self) -> Duration {
        2 * self.key_refresh()
    }

    pub fn request_header_timeout(&self) -> Duration {
        Duration::from_millis(self.request_header_timeout_ms)
    }

    pub fn request_body_timeout(&self) -> Duration {
        Duration::from_millis(self.request_body_timeout_ms)
    }

    pub fn sqlite_busy_timeout(&self) -> Duration {
        Duration::from_millis(self.sqlite_busy_timeout_ms)
    }

    pub fn workers(&self) -> usize {
        if self.workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            self.workers
        }
    }
}

/// The URL without its passwords (in the user part, or a password-like query parameter such as
/// libpq's `password=` and `sslpassword=`), for messages, logs and `encore config`.
pub fn redact_url(url: &str) -> String {
    let url = redact_userinfo(url);
    match url.split_once('?') {
        Some((base, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if is_secret_parameter(name) => {
                        format!("{name}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{base}?{}", query.join("&"))
        }
        None => url,
    }
}

/// A URL parameter that carries a secret: libpq's `password` and `sslpassword`, and anything
/// else named like a password, secret or token.
fn is_secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token"]
        .iter()
        .any(|s| name.contains(s))
}

fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redact_url, Config};

    #[test]
    fn a_trusted_proxy_must_be_an_address() {
        let mut config = Config {
            trusted_proxies: vec!["10.0.0.1".into(), "::1".into()],
            ..Config::default()
        };
        assert_eq!(config.check(), Ok(()));
        config.trusted_proxies.push("proxy.internal".into());
        let refused = config.check().unwrap_err();
        assert!(refused.contains("trusted_proxies"), "{refused}");
        assert!(refused.contains("\"proxy.internal\""), "{refused}");
    }

    #[test]
    fn tls_needs_both_files_or_neither() {
        let mut config = Config::default();
        assert_eq!(config.check(), Ok(()));
        assert_eq!(config.tls_files(), None);
        config.tls_cert_file = Some("cert.pem".into());
        let refused = config.check().unwrap_err();
        assert!(refused.contains("tls_key_file is not"), "{refused}");
        config.tls_key_file = Some("key.pem".into());
        assert_eq!(config.check(), Ok(()));
        assert_eq!(
            config.tls_files().unwrap().key,
            std::path::Path::new("key.pem")
        );
        config.tls_cert_file = None;
        let refused = config.check().unwrap_err();
        assert!(refused.contains("tls_cert_file is not"), "{refused}");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://encore:s3cret@db:5432/encore"),
            "postgres://encore:***@db:5432/encore"
        );
        assert_eq!(
            redact_url("postgres://postgres@db/x"),
            "postgres://postgres@db/x"
        );
        assert_eq!(redact_url("encore.db"), "encore.db");
        assert_eq!(
            redact_url("postgresql://db/encore?user=e&password=s3cret&sslmode=require"),
            "postgresql://db/encore?user=e&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db/e?sslkey=k.pem&sslpassword=s3cret&PassWord=x&api_token=t"),
            "postgres://db/e?sslkey=k.pem&sslpassword=***&PassWord=***&api_token=***"
        );
        assert_eq!(
            redact_url("smtps://mailer:p%40ss@mail.example.org:465?tls=required"),
            "smtps://mailer:***@mail.example.org:465?tls=required"
        );
    }
}
