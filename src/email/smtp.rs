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

use std::time::Duration;

use deadpool::managed::{self, Metrics, Pool, RecycleError, RecycleResult};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::Error as SmtpError;
use lettre::Message;
use tokio::net::TcpStream;
use url::Url;

/// How long connecting, or one whole send, may take before we give up on the connection.
const TIMEOUT: Duration = Duration::from_secs(60);
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

    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpFailure> {
        let tls = || TlsParameters::new(self.host.clone());
        let mut connection = if self.security == Security::Implicit {
            AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(TIMEOUT),
                &self.hello,
                Some(tls()?),
                None,
            )
            .await?
        } else {
            let socket =
                tokio::time::timeout(TIMEOUT, TcpStream::connect((self.host.as_str(), self.port)))
                    .await
                    .map_err(|_| SmtpFailure::ConnectTimeout)??;
            socket.set_nodelay(true)?;
            AsyncSmtpConnection::connect_with_transport(Box::new(socket), &self.hello).await?
        };
        let wants_tls = match self.security {
            Security::Required => true,
            Security::Opportunistic => connection.can_starttls(),
            Security::Plain | Security::Implicit => false,
        };
        if wants_tls {
            connection.starttls(tls()?, &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            connection
                .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await?;
        }
        Ok(connection)
    }
}

/// Why a connection could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum SmtpFailure {
    #[error("cannot reach the SMTP server: {0}")]
    Connect(#[from] std::io::Error),
    #[error("cannot reach the SMTP server: connecting took over {}s", TIMEOUT.as_secs())]
    ConnectTimeout,
    #[error(transparent)]
    Smtp(#[from] SmtpError),
}

/// One pooled connection. `clean` is false while a send is under way: a send cut off midway
/// (a timeout, a cancelled task) leaves the conversation in an unknown state, and such a
/// connection must never be used again.
pub struct PooledConnection {
    connection: AsyncSmtpConnection,
    clean: bool,
}

pub struct Connector(SmtpServer);

impl managed::Manager for Connector {
    type Type = PooledConnection;
    type Error = SmtpFailure;

    async fn create(&self) -> Result<PooledConnection, SmtpFailure> {
        Ok(PooledConnection {
            connection: self.0.connect().await?,
            clean: true,
        })
    }

    async fn recycle(
        &self,
        pooled: &mut PooledConnection,
        metrics: &Metrics,
    ) -> RecycleResult<SmtpFailure> {
        if !pooled.clean || pooled.connection.has_broken() {
            return Err(RecycleError::message("connection left mid-conversation"));
        }
        if metrics.last_used() > IDLE_CHECK_AFTER && !pooled.connection.test_connected().await {
            return Err(RecycleError::message("server closed the idle connection"));
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
    pub fn new(server: SmtpServer, max_connections: usize) -> Result<SmtpPool, String> {
        let pool = Pool::builder(Connector(server.clone()))
            .max_size(max_connections.max(1))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(SmtpPool { server, pool })
    }

    pub fn describe(&self) -> String {
        format!("SMTP at {:?}", self.server)
    }

    pub async fn send(&self, message: &Message) -> Result<(), String> {
        let mut pooled = self.pool.get().await.map_err(|e| e.to_string())?;
        pooled.clean = false;
        let envelope = message.envelope();
        let body = message.formatted();
        let sent = tokio::time::timeout(TIMEOUT, pooled.connection.send(envelope, &body)).await;
        match sent {
            Ok(Ok(_)) => {
                pooled.clean = true;
                Ok(())
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {}s", TIMEOUT.as_secs())),
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
