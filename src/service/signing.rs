//! Token signing keys: created on first start, rotated and retired by the operator, shared by
//! every process through the database.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Encore, Error, Result};
use crate::db::models::SigningKeyRow;
use crate::db::{signing_keys, Db};
use crate::tokens::{GeneratedKey, KeyRing};

fn material(row: &SigningKeyRow) -> GeneratedKey {
    GeneratedKey {
        kid: row.kid.clone(),
        private_key: row.private_key.clone(),
        public_key: row.public_key.clone(),
    }
}

fn insert_new_key(db: &Db) -> Result<String> {
    let key = GeneratedKey::generate()?;
    let row = SigningKeyRow {
        kid: key.kid.clone(),
        private_key: key.private_key,
        public_key: key.public_key,
        created_at: crate::service::now().naive_utc(),
        retired_at: None,
    };
    db.write(|conn| signing_keys::insert(conn, &row).map_err(Error::from))?;
    Ok(key.kid)
}

fn keys_in_force(db: &Db) -> Result<Vec<GeneratedKey>> {
    let rows = db.read(|conn| signing_keys::in_force(conn).map_err(Error::from))?;
    Ok(rows.iter().map(material).collect())
}

/// The key ring from the database; on the very first start, a new key is made and stored.
pub fn load_keyring(db: &Db) -> Result<KeyRing> {
    let mut keys = keys_in_force(db)?;
    if keys.is_empty() {
        let kid = insert_new_key(db)?;
        tracing::info!(%kid, "created the first token signing key");
        keys = keys_in_force(db)?;
    }
    Ok(KeyRing::new(&keys)?)
}

/// Adds a new signing key. Running processes pick it up when they next refresh; tokens signed
/// with older keys keep verifying until those keys are retired.
pub fn rotate(db: &Db) -> Result<String> {
    insert_new_key(db)
}

/// Retires a key: tokens signed with it stop admitting. The newest key cannot be retired
/// (rotate first), so there is always a key to sign with; nor can any key until the newest has
/// been in force for `grace` — long enough for every process to have started signing with it,
/// so no process is still handing out tokens under the key being retired.
pub fn retire(db: &Db, kid: &str, grace: std::time::Duration) -> Result<()> {
    db.write(|conn| {
        let in_force = signing_keys::in_force(conn)?;
        let newest_age = in_force
            .last()
            .map(|k| (crate::service::now().naive_utc() - k.created_at).to_std().unwrap_or_default());
        match in_force.last() {
            Some(newest) if newest.kid == kid => Err(Error::Conflict {
                code: "key_in_use",
                message: format!("{kid} is the signing key; rotate before retiring it"),
            }),
            Some(newest) if newest_age.is_some_and(|age| age < grace) => Err(Error::Conflict {
                code: "rotation_in_progress",
                message: format!(
                    "the new signing key {} is younger than {}s; running processes may still sign with {kid} — retire it after that",
                    newest.kid,
                    grace.as_secs()
                ),
            }),
            _ if signing_keys::retire(conn, kid, crate::service::now().naive_utc())? => Ok(()),
            _ => Err(Error::not_found("signing key in force", kid)),
        }
    })
}

pub fn list(db: &Db) -> Result<Vec<SigningKeyRow>> {
    db.read(|conn| signing_keys::all(conn).map_err(Error::from))
}

/// Limits how often a process re-reads the keys when it meets a `kid` it does not know, so a
/// flood of forged tokens cannot become a flood of queries.
#[derive(Debug)]
pub struct RefreshGate {
    last: Mutex<Option<Instant>>,
}

impl Default for RefreshGate {
    fn default() -> Self {
        RefreshGate {
            last: Mutex::new(None),
        }
    }
}

impl RefreshGate {
    const MIN_INTERVAL: Duration = Duration::from_secs(1);

    fn try_pass(&self) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match *last {
            Some(t) if now.duration_since(t) < Self::MIN_INTERVAL => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

/// Re-reads the keys every `every`, for as long as the process runs, so keys rotated by
/// `encore keys rotate` (possibly on another machine) are picked up.
pub async fn keep_fresh(encore: Encore, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await; // the first tick is immediate; the keys were just loaded
    loop {
        ticks.tick().await;
        let encore = encore.clone();
        match tokio::task::spawn_blocking(move || reload(&encore)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not refresh signing keys"),
            Err(e) => tracing::warn!(error = %e, "key refresh task failed"),
        }
    }
}

fn reload(encore: &Encore) -> Result<()> {
    let keys = keys_in_force(&encore.db)?;
    encore.keys.replace(&keys)?;
    Ok(())
}

/// The public keys in force as the database has them now (another process may have rotated
/// since this one last looked), for offline scanners; this process's ring is updated with them.
pub fn public_keys(encore: &Encore) -> Result<Vec<crate::tokens::PublicJwk>> {
    reload(encore)?;
    Ok(encore.keys.jwks())
}

/// Re-reads the keys in force (at most once a second); returns whether it did.
pub fn refresh(encore: &Encore) -> Result<bool> {
    if !encore.key_refresh.try_pass() {
        return Ok(false);
    }
    reload(encore)?;
    Ok(true)
}
