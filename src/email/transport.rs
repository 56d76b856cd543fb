//! Where emails go: an SMTP server (pooled connections, see `smtp.rs`), or with no SMTP
//! configured, `.eml` files in a folder a newcomer can open.

use std::sync::Arc;

use lettre::{AsyncFileTransport, AsyncTransport, Message, Tokio1Executor};

use super::smtp::{SendError, SmtpPool, SmtpServer, SmtpTimeouts};

use crate::config::Config;
use crate::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("smtp_url is not a usable SMTP URL: {0}")]
    BadSmtpUrl(String),
    #[error("cannot create the mail folder {dir}: {source}")]
    MailDir { dir: String, source: std::io::Error },
}

pub enum Mailer {
    Smtp(SmtpPool),
    Files {
        dir: String,
        transport: AsyncFileTransport<Tokio1Executor>,
    },
}

impl Mailer {
    /// `metrics` counts SMTP stalls.
    pub fn from_config(config: &Config, metrics: Arc<Metrics>) -> Result<Mailer, TransportError> {
        match &config.smtp_url {
            Some(url) => {
                let server = SmtpServer::from_url(url).map_err(TransportError::BadSmtpUrl)?;
                let timeouts = SmtpTimeouts::from_config(config);
                let pool = SmtpPool::new(server, config.smtp_pool_size as usize, timeouts, metrics)
                    .map_err(TransportError::BadSmtpUrl)?;
                Ok(Mailer::Smtp(pool))
            }
            None => {
                // Private (0700): the .eml files hold patrons' tickets and links.
                crate::files::create_private_dir(config.mail_dir.as_ref()).map_err(|source| {
                    TransportError::MailDir {
                        dir: config.mail_dir.clone(),
                        source,
                    }
                })?;
                Ok(Mailer::Files {
                    dir: config.mail_dir.clone(),
                    transport: AsyncFileTransport::new(&config.mail_dir),
                })
            }
        }
    }

    /// Where mail goes, for the start-up log (no credentials).
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(pool) => pool.describe(),
            Mailer::Files { dir, .. } => format!(".eml files in {dir}"),
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(pool) => pool.send(&message).await,
            Mailer::Files { transport, .. } => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|e| SendError::Transient(e.to_string())),
        }
    }
}
