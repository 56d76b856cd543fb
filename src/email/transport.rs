//! Where emails go: an SMTP server (pooled connections, lettre's tokio transport), or with no
//! SMTP configured, `.eml` files in a folder a newcomer can open.

use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("smtp_url is not a usable SMTP URL: {0}")]
    BadSmtpUrl(String),
    #[error("cannot create the mail folder {dir}: {source}")]
    MailDir { dir: String, source: std::io::Error },
}

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files {
        dir: String,
        transport: AsyncFileTransport<Tokio1Executor>,
    },
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, TransportError> {
        match &config.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| TransportError::BadSmtpUrl(e.to_string()))?
                    .pool_config(PoolConfig::new().max_size(config.smtp_pool_size))
                    .build();
                Ok(Mailer::Smtp(transport))
            }
            None => {
                std::fs::create_dir_all(&config.mail_dir).map_err(|source| {
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
            Mailer::Smtp(_) => "SMTP".into(),
            Mailer::Files { dir, .. } => format!(".eml files in {dir}"),
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), String> {
        match self {
            Mailer::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Mailer::Files { transport, .. } => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }
}
