//! HTTPS on `bind` (`tls_cert_file`, `tls_key_file`): rustls through actix-web, so that a phone
//! reaches the scanner page in a secure context (the camera, WebCrypto and the service worker
//! need one) with no proxy in front. The pair is read again whenever either file changes, so a
//! renewed certificate (an ACME client, an operator's copy) is served without a restart: new
//! connections get the new pair, connections already open keep theirs. A changed pair that
//! cannot be used (half written, a key of another certificate) is logged and the previous one
//! kept.

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock, Weak};
use std::time::{Duration, SystemTime};

use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use crate::config::TlsFiles;

/// How often the files' modification times are looked at: two `stat`s, nothing more.
pub const RELOAD_CHECK_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a PEM certificate chain: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("{path} holds no certificate (PEM, \"BEGIN CERTIFICATE\")")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key (PKCS#8, PKCS#1 or SEC1): {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("the key in {key} cannot serve the certificate in {cert}: {reason}")]
    Pair {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("cannot set up TLS: {0}")]
    Setup(rustls::Error),
}

/// ring, as the rest of the binary's TLS (lettre's) uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// The certificate chain and its key, checked to belong together.
fn load(files: &TlsFiles) -> Result<CertifiedKey, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let chain = CertificateDer::pem_slice_iter(&read(&files.cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificate {
            path: files.cert.clone(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        reason: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, &provider()).map_err(|e| TlsError::Pair {
        cert: files.cert.clone(),
        key: files.key.clone(),
        reason: e.to_string(),
    })
}

/// What tells that a file changed: its modification time and length (`None`: unreadable now).
type Stamps = [Option<(SystemTime, u64)>; 2];

fn stamps(files: &TlsFiles) -> Stamps {
    [&files.cert, &files.key].map(|path| {
        let metadata = std::fs::metadata(path).ok()?;
        Some((metadata.modified().ok()?, metadata.len()))
    })
}

/// The pair every new connection is offered: the last one that loaded.
#[derive(Debug)]
pub struct ReloadingCertificate {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

impl ReloadingCertificate {
    /// Loads the pair; at start-up an unusable one stops the server with the reason.
    fn load(files: TlsFiles) -> Result<(Arc<ReloadingCertificate>, Stamps), TlsError> {
        let seen = stamps(&files);
        let current = RwLock::new(Arc::new(load(&files)?));
        Ok((Arc::new(ReloadingCertificate { files, current }), seen))
    }

    fn reload(&self) {
        match load(&self.files) {
            Ok(fresh) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(fresh);
                tracing::info!(
                    cert = %self.files.cert.display(),
                    "TLS certificate reloaded: new connections get the new one"
                );
            }
            Err(e) => tracing::warn!(
                error = %e,
                "the TLS certificate files changed but cannot be used; still serving the previous certificate"
            ),
        }
    }
}

/// Looks at the files every `RELOAD_CHECK_EVERY` and reloads the pair when either changed,
/// until the server that serves it is gone.
async fn keep_fresh(certificate: Weak<ReloadingCertificate>, mut seen: Stamps) {
    let mut ticks = tokio::time::interval(RELOAD_CHECK_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(certificate) = certificate.upgrade() else {
            return;
        };
        let now = stamps(&certificate.files);
        if now != seen {
            // A pair written in two steps may fail the first look; the second file's change
            // brings another.
            seen = now;
            certificate.reload();
        }
    }
}

/// The rustls configuration for `files`, and the task (to spawn on the server's runtime) that
/// keeps its certificate fresh.
pub fn server_config(
    files: TlsFiles,
) -> Result<(ServerConfig, impl std::future::Future<Output = ()>), TlsError> {
    let (certificate, seen) = ReloadingCertificate::load(files)?;
    let watcher = keep_fresh(Arc::downgrade(&certificate), seen);
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Setup)?
        .with_no_client_auth()
        .with_cert_resolver(certificate);
    Ok((config, watcher))
}
