//! Token signing keys: created on first start, rotated and retired by the operator, shared by
//! every process through the database — sealed there with the key of a key file kept outside
//! it (see [`crate::tokens::SealingKey`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::{Encore, Error, Result};
use crate::config::Config;
use crate::db::{signing_keys, Backend, Db};
use crate::domain::signing_key::SigningKey;
use crate::tokens::{CodeKey, GeneratedKey, KeyFile, KeyRing, KeyRingError, SealingKey};

/// The key file `config` names; by default `encore.key` beside the SQLite database, or in the
/// working directory on PostgreSQL.
pub fn key_file(config: &Config) -> KeyFile {
    let path = match (&config.key_file, Backend::of_url(&config.database_url)) {
        (Some(path), _) => PathBuf::from(path),
        (None, (Backend::Sqlite, database)) => Path::new(database)
            .parent()
            .unwrap_or(Path::new(""))
            .join("encore.key"),
        (None, (Backend::Postgres, _)) => PathBuf::from("encore.key"),
    };
    KeyFile { path }
}

/// The key file and the key read from it. Read again when a signing key does not open with it:
/// `encore keys rewrap` (perhaps in another process) may have replaced it.
pub struct Sealer {
    file: KeyFile,
    key: RwLock<Arc<SealingKey>>,
}

impl Sealer {
    /// Reads the key file; if there is none, and no key in `rows` is sealed, creates it.
    fn open_or_create(file: KeyFile, rows: &[SigningKey]) -> Result<Sealer> {
        let key = match file.read()? {
            Some(key) => key,
            None if rows.iter().any(|r| SealingKey::is_sealed(&r.private_key)) => {
                return Err(KeyRingError::NoKeyFile {
                    path: file.path.display().to_string(),
                }
                .into())
            }
            None => {
                let (key, bytes) = SealingKey::generate()?;
                match file.create(&bytes) {
                    Ok(()) => {
                        tracing::info!(path = %file.path.display(), "created the key file that encrypts the signing keys");
                        key
                    }
                    // Another process starting at the same moment created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        file.read()?.ok_or_else(|| KeyRingError::NoKeyFile {
                            path: file.path.display().to_string(),
                        })?
                    }
                    Err(e) => {
                        return Err(KeyRingError::KeyFile {
                            path: file.path.display().to_string(),
                            reason: e.to_string(),
                        }
                        .into())
                    }
                }
            }
        };
        Ok(Sealer {
            file,
            key: RwLock::new(Arc::new(key)),
        })
    }

    fn current(&self) -> Arc<SealingKey> {
        self.key.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn seal(&self, kid: &str, private_key: &str) -> Result<String> {
        Ok(self.current().seal(kid, private_key)?)
    }

    /// The private key of `row`. A plaintext one (written by an older version) is taken as it
    /// is; it is sealed on the next start.
    fn open(&self, row: &SigningKey) -> Result<String> {
        if !SealingKey::is_sealed(&row.private_key) {
            return Ok(row.private_key.clone());
        }
        if let Some(plain) = self.current().open(&row.kid, &row.private_key) {
            return Ok(plain);
        }
        if let Some(reread) = self.file.read()? {
            if let Some(plain) = reread.open(&row.kid, &row.private_key) {
                *self.key.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(reread);
                return Ok(plain);
            }
        }
        Err(KeyRingError::WrongKeyFile {
            kid: row.kid.clone(),
            path: self.file.path.display().to_string(),
        }
        .into())
    }
}

fn material(sealer: &Sealer, row: &SigningKey) -> Result<GeneratedKey> {
    Ok(GeneratedKey {
        kid: row.kid.clone(),
        private_key: sealer.open(row)?,
        public_key: row.public_key.clone(),
    })
}

fn insert_new_key(db: &Db, sealer: &Sealer) -> Result<String> {
    let key = GeneratedKey::generate()?;
    let row = SigningKey {
        private_key: sealer.seal(&key.kid, &key.private_key)?,
        kid: key.kid.clone(),
        public_key: key.public_key,
        created_at: crate::service::now(),
        retired_at: None,
    };
    db.write(|conn| signing_keys::insert(conn, &row).map_err(Error::from))?;
    Ok(key.kid)
}

fn keys_in_force(db: &Db, sealer: &Sealer) -> Result<Vec<GeneratedKey>> {
    let rows = db.read(|conn| signing_keys::in_force(conn).map_err(Error::from))?;
    rows.iter().map(|row| material(sealer, row)).collect()
}

/// Seals the keys an older version stored in plaintext (all of them, retired ones too), each
/// only if it is still the plaintext just read: safe to run again, and from several processes.
fn seal_plaintext_keys(db: &Db, sealer: &Sealer, rows: &[SigningKey]) -> Result<()> {
    let plaintext: Vec<&SigningKey> = rows
        .iter()
        .filter(|r| !SealingKey::is_sealed(&r.private_key))
        .collect();
    if plaintext.is_empty() {
        return Ok(());
    }
    let sealed = db.write(|conn| {
        let mut sealed = 0;
        for row in &plaintext {
            let value = sealer.seal(&row.kid, &row.private_key)?;
            if signing_keys::replace_private_key(conn, &row.kid, &row.private_key, &value)? {
                sealed += 1;
            }
        }
        Ok::<_, Error>(sealed)
    })?;
    tracing::info!(
        sealed,
        "encrypted signing keys an older version had stored in plaintext"
    );
    Ok(())
}

/// The key ring from the database, and the key file's key that seals it. On the first start
/// the key file is created (unless the database already holds sealed keys: then it must be
/// there) and a first signing key is made; plaintext keys of an older version are sealed.
pub fn load_keyring(db: &Db, file: KeyFile) -> Result<(KeyRing, Sealer)> {
    let rows = db.read(|conn| signing_keys::all(conn).map_err(Error::from))?;
    let sealer = Sealer::open_or_create(file, &rows)?;
    seal_plaintext_keys(db, &sealer, &rows)?;
    let mut keys = keys_in_force(db, &sealer)?;
    if keys.is_empty() {
        let kid = insert_new_key(db, &sealer)?;
        tracing::info!(%kid, "created the first token signing key");
        keys = keys_in_force(db, &sealer)?;
    }
    Ok((KeyRing::new(&keys)?, sealer))
}

/// The key of rotating codes' per-ticket secrets, derived from the oldest signing key (see
/// [`CodeKey`]): the first row by creation, which is never deleted, nor changed by a rotation,
/// a retirement or a rewrap, so every process of one database derives the same key.
pub fn load_code_key(db: &Db, sealer: &Sealer) -> Result<CodeKey> {
    let rows = db.read(|conn| signing_keys::all(conn).map_err(Error::from))?;
    let oldest = rows
        .first()
        .ok_or_else(|| Error::Internal("no signing key to derive the code key from".into()))?;
    Ok(CodeKey::from_signing_key(&sealer.open(oldest)?))
}

/// Adds a new signing key. Running processes pick it up when they next refresh; tokens signed
/// with older keys keep verifying until those keys are retired.
pub fn rotate(encore: &Encore) -> Result<String> {
    insert_new_key(&encore.db, &encore.sealer)
}

/// Replaces the key file's key: every signing key is sealed again under a new one, in one
/// transaction. The new key file is written beside the old one (`<file>.new`) first and
/// renamed over it once the transaction has committed. Returns the key file's path.
pub fn rewrap(encore: &Encore) -> Result<PathBuf> {
    let sealer = &encore.sealer;
    let (new_key, bytes) = SealingKey::generate()?;
    sealer.file.stage(&bytes)?;
    let resealed = encore.db.write(|conn| {
        for row in signing_keys::all(conn)? {
            let value = new_key.seal(&row.kid, &sealer.open(&row)?)?;
            signing_keys::replace_private_key(conn, &row.kid, &row.private_key, &value)?;
        }
        Ok::<_, Error>(())
    });
    if let Err(e) = resealed {
        let _ = std::fs::remove_file(sealer.file.staged_path());
        return Err(e);
    }
    sealer.file.commit_staged()?;
    *sealer.key.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(new_key);
    Ok(sealer.file.path.clone())
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
            .map(|k| (crate::service::now() - k.created_at).to_std().unwrap_or_default());
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
            _ if signing_keys::retire(conn, kid, crate::service::now())? => Ok(()),
            _ => Err(Error::not_found("signing key in force", kid)),
        }
    })
}

pub fn list(db: &Db) -> Result<Vec<SigningKey>> {
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

/// Re-reads the keys in force into this process's ring (`worker::jobs::refresh_keys` does it
/// periodically).
pub fn reload(encore: &Encore) -> Result<()> {
    let keys = keys_in_force(&encore.db, &encore.sealer)?;
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
