//! Pooled SMTP connections whose sockets send without delay.
//!
//! lettre's own pool never sets `TCP_NODELAY`, and lettre writes a message and its closing
//! `.` in two writes. With Nagle's algorithm the second write waits for the server's delayed
//! ACK: about 40 ms per email, which capped a worker near 1,000 emails/s however many
//! connections it had. Here we open the socket ourselves, with no-delay, and hand it to
//! lettre's SMTP client; deadpool keeps the connections.
//!
//! `SMTP_URL` reads as lettre reads it: `smtp://host[:port]` (plain, port 25),
//! `smtp://host?tls=required` or `?tls=opportunistic` (STARTTLS, port 587),
//! `smtps://host` (TLS from the first byte, port 465), credentials as `user:password@`.
//! With `smtps://` lettre opens the socket itself (TLS must begin before the greeting), so
//! only plain and STARTTLS connections get no-delay.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{
    self, Metrics as PoolMetrics, Pool, PoolError, RecycleError, RecycleResult,
};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::Error as SmtpError;
use lettre::Message;
use tokio::net::TcpStream;
use url::Url;

use crate::config::Config;
use crate::metrics::Metrics;

/// A connection idle longer than this is checked with `NOOP` before it is used again: the
/// server may have closed it.
const IDLE_CHECK_AFTER: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Security {
    Plain,
    /// STARTTLS when the server offers it.
    Opportunistic,
    /// STARTTLS or fail.
    Required,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// Where and how to reach the SMTP server, parsed from `SMTP_URL`.
#[derive(Clone)]
pub struct SmtpServer {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
}

impl std::fmt::Debug for SmtpServer {
    // No credentials in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} ({:?})", self.host, self.port, self.security)
    }
}

impl SmtpServer {
    pub fn from_url(text: &str) -> Result<SmtpServer, String> {
        let url = Url::parse(text).map_err(|e| e.to_string())?;
        let host = url
            .host_str()
            .ok_or("the URL names no host")?
            .trim_matches(['[', ']'])
            .to_owned();
        let tls = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (Security::Plain, 25),
            ("smtp", Some("opportunistic")) => (Security::Opportunistic, 587),
            ("smtp", Some("required")) => (Security::Required, 587),
            ("smtps", None) => (Security::Implicit, 465),
            (scheme, tls) => {
                return Err(format!(
                    "unknown scheme {scheme:?} or tls={tls:?} (use smtp://, smtps://, \
                     ?tls=required or ?tls=opportunistic)"
                ))
            }
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| "the credentials are not UTF-8".to_string())
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        Ok(SmtpServer {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            credentials,
            hello,
        })
    }

    /// Opens a connection, each step (TCP connect, greeting, STARTTLS, AUTH) bounded by
    /// `limit`: a server that stops answering midway costs at most one `limit` per step.
    async fn connect(&self, limit: Duration) -> Result<AsyncSmtpConnection, SmtpFailure> {
        let tls = || TlsParameters::new(self.host.clone());
        let mut connection = if self.security == Security::Implicit {
            // TLS must begin before the greeting: lettre opens the socket and reads the
            // greeting itself, so the whole exchange is one step.
            let address = (self.host.as_str(), self.port);
            let tls = tls()?;
            let connecting = AsyncSmtpConnection::connect_tokio1(
                address,
                Some(limit),
                &self.hello,
                Some(tls),
                None,
            );
            within(Step::Connect, limit, connecting).await?
        } else {
            let address = (self.host.as_str(), self.port);
            let socket = within(Step::Connect, limit, TcpStream::connect(address)).await?;
            socket.set_nodelay(true)?;
            let greeting =
                AsyncSmtpConnection::connect_with_transport(Box::new(socket), &self.hello);
            within(Step::Greeting, limit, greeting).await?
        };
        let wants_tls = match self.security {
            Security::Required => true,
            Security::Opportunistic => connection.can_starttls(),
            Security::Plain | Security::Implicit => false,
        };
        if wants_tls {
            within(
                Step::StartTls,
                limit,
                connection.starttls(tls()?, &self.hello),
            )
            .await?;
        }
        if let Some(credentials) = &self.credentials {
            let mechanisms = [Mechanism::Plain, Mechanism::Login];
            within(Step::Auth, limit, connection.auth(&mechanisms, credentials)).await?;
        }
        Ok(connection)
    }
}

/// The steps of an SMTP conversation that can stall, each under its own timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Connect,
    Greeting,
    StartTls,
    Auth,
    /// Taking a connection from the pool (all of them busy).
    PoolWait,
    /// The `NOOP` check of a connection that sat idle.
    Noop,
    /// One message: MAIL, RCPT, DATA.
    Send,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Connect => "connect",
            Step::Greeting => "greeting",
            Step::StartTls => "STARTTLS",
            Step::Auth => "AUTH",
            Step::PoolWait => "waiting for a pooled connection",
            Step::Noop => "NOOP check",
            Step::Send => "sending",
        })
    }
}

/// Runs one step of the conversation, giving up after `limit`.
async fn within<T, E: Into<SmtpFailure>>(
    step: Step,
    limit: Duration,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, SmtpFailure> {
    match tokio::time::timeout(limit, work).await {
        Ok(done) => done.map_err(Into::into),
        Err(_) => Err(SmtpFailure::Stalled { step, limit }),
    }
}

/// Why a connection could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum SmtpFailure {
    #[error("cannot reach the SMTP server: {0}")]
    Connect(#[from] std::io::Error),
    #[error("the SMTP server stalled: no answer to {step} within {limit:?}")]
    Stalled { step: Step, limit: Duration },
    #[error(transparent)]
    Smtp(#[from] SmtpError),
}

/// How long each step of an SMTP conversation may take (see `Config`).
#[derive(Debug, Clone, Copy)]
pub struct SmtpTimeouts {
    /// Each of: TCP connect, greeting, STARTTLS, AUTH, and the `NOOP` check.
    pub connect: Duration,
    /// One message.
    pub send: Duration,
    /// Taking a pooled connection: waiting for one, checking or opening it.
    pub pool_wait: Duration,
}

impl SmtpTimeouts {
    pub fn from_config(config: &Config) -> SmtpTimeouts {
        SmtpTimeouts {
            connect: Duration::from_millis(config.smtp_connect_timeout_ms),
            send: Duration::from_millis(config.smtp_send_timeout_ms),
            pool_wait: Duration::from_millis(config.smtp_pool_wait_ms),
        }
    }

    /// The longest one email's send may take: taking a connection (its wait, `NOOP` check or
    /// opening included) and the conversation.
    pub fn longest_send(&self) -> Duration {
        self.pool_wait.saturating_add(self.send)
    }
}

/// Why an email was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server answered 5xx: sending again will not help.
    #[error("{0}")]
    Permanent(String),
    /// Anything else (a stall, a refused connection, a 4xx): worth trying again later.
    #[error("{0}")]
    Transient(String),
}

impl From<SmtpFailure> for SendError {
    fn from(failure: SmtpFailure) -> SendError {
        match &failure {
            SmtpFailure::Smtp(e) if e.is_permanent() => SendError::Permanent(failure.to_string()),
            _ => SendError::Transient(failure.to_string()),
        }
    }
}

/// One pooled connection. `clean` is false while a send is under way: a send cut off midway
/// (a timeout, a cancelled task) leaves the conversation in an unknown state, and such a
/// connection must never be used again.
pub struct PooledConnection {
    connection: AsyncSmtpConnection,
    clean: bool,
}

pub struct Connector {
    server: SmtpServer,
    timeouts: SmtpTimeouts,
    metrics: Arc<Metrics>,
}

impl Connector {
    /// Logs and counts a stall; the connection it happened on is dropped by the caller.
    fn note(&self, failure: &SmtpFailure) {
        if let SmtpFailure::Stalled { step, limit } = failure {
            tracing::warn!(server = ?self.server, %step, ?limit, "SMTP server stalled; connection dropped");
            self.metrics.smtp_stalled();
        }
    }
}

impl managed::Manager for Connector {
    type Type = PooledConnection;
    type Error = SmtpFailure;

    async fn create(&self) -> Result<PooledConnection, SmtpFailure> {
        let connecting = self.server.connect(self.timeouts.connect).await;
        let connection = connecting.inspect_err(|e| self.note(e))?;
        Ok(PooledConnection {
            connection,
            clean: true,
        })
    }

    async fn recycle(
        &self,
        pooled: &mut PooledConnection,
        metrics: &PoolMetrics,
    ) -> RecycleResult<SmtpFailure> {
        if !pooled.clean || pooled.connection.has_broken() {
            return Err(RecycleError::message("connection left mid-conversation"));
        }
        if metrics.last_used() > IDLE_CHECK_AFTER {
            let check = async { Ok::<_, SmtpFailure>(pooled.connection.test_connected().await) };
            match within(Step::Noop, self.timeouts.connect, check).await {
                Ok(true) => {}
                Ok(false) => {
                    return Err(RecycleError::message("server closed the idle connection"))
                }
                Err(e) => {
                    self.note(&e);
                    return Err(RecycleError::Backend(e));
                }
            }
        }
        Ok(())
    }
}

/// The pool the email worker sends through.
pub struct SmtpPool {
    server: SmtpServer,
    pool: Pool<Connector>,
}

impl SmtpPool {
    pub fn new(
        server: SmtpServer,
        max_connections: usize,
        timeouts: SmtpTimeouts,
        metrics: Arc<Metrics>,
    ) -> Result<SmtpPool, String> {
        let connector = Connector {
            server: server.clone(),
            timeouts,
            metrics,
        };
        let pool = Pool::builder(connector)
            .max_size(max_connections.max(1))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(SmtpPool { server, pool })
    }

    pub fn describe(&self) -> String {
        format!("SMTP at {:?}", self.server)
    }

    /// Sends one message over a pooled connection. A connection whose send failed or stalled
    /// is never used again.
    pub async fn send(&self, message: &Message) -> Result<(), SendError> {
        let connector = self.pool.manager();
        let timeouts = connector.timeouts;
        let taking = async {
            self.pool.get().await.map_err(|e| match e {
                PoolError::Backend(failure) => failure,
                other => SmtpFailure::Connect(std::io::Error::other(other.to_string())),
            })
        };
        // A stall while opening a connection was noted where it happened.
        let taken = within(Step::PoolWait, timeouts.pool_wait, taking).await;
        let mut pooled = taken.inspect_err(|e| {
            if matches!(
                e,
                SmtpFailure::Stalled {
                    step: Step::PoolWait,
                    ..
                }
            ) {
                connector.note(e)
            }
        })?;
        pooled.clean = false;
        let envelope = message.envelope();
        let body = message.formatted();
        let sending = pooled.connection.send(envelope, &body);
        match within(Step::Send, timeouts.send, sending).await {
            Ok(_) => {
                pooled.clean = true;
                Ok(())
            }
            Err(e) => {
                connector.note(&e);
                drop(managed::Object::take(pooled)); // frees its place in the pool at once
                Err(e.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_read_as_lettre_reads_them() {
        let plain = SmtpServer::from_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((plain.port, &plain.security), (2525, &Security::Plain));
        let starttls = SmtpServer::from_url("smtp://mail.example.com?tls=required").unwrap();
        assert_eq!(
            (starttls.port, &starttls.security),
            (587, &Security::Required)
        );
        let maybe = SmtpServer::from_url("smtp://mail.example.com?tls=opportunistic").unwrap();
        assert_eq!(maybe.security, Security::Opportunistic);
        let implicit = SmtpServer::from_url("smtps://u%40x:p%3Aw@mail.example.com").unwrap();
        assert_eq!(
            (implicit.port, &implicit.security),
            (465, &Security::Implicit)
        );
        assert_eq!(
            implicit.credentials,
            Some(Credentials::new("u@x".into(), "p:w".into()))
        );
    }

    #[test]
    fn unusable_smtp_urls_say_why() {
        assert!(SmtpServer::from_url("http://mail.example.com")
            .unwrap_err()
            .contains("unknown scheme"));
        assert!(SmtpServer::from_url("smtp://x?tls=maybe").is_err());
        assert!(SmtpServer::from_url("not a url").is_err());
    }

    #[test]
    fn credentials_never_reach_the_logs() {
        let server = SmtpServer::from_url("smtp://user:secret@mail.example.com").unwrap();
        assert!(!format!("{server:?}").contains("secret"));
    }
}
