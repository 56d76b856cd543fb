//! Staff API keys: created by an admin (or the CLI), stored only as a SHA-256 hash, shown once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::secrets::{random_token, secret_hash};
use super::{Error, Result};
use crate::db::{api_keys, Db};
use crate::domain::ids::ApiKeyId;
use crate::domain::role::{ApiKey, NewApiKey};
use crate::domain::text::label;
use crate::domain::{Invalid, Role};

const KEY_PREFIX: &str = "enc_";

/// Who is calling: the key's id, name and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub key_id: ApiKeyId,
    pub name: String,
    pub role: Role,
}

/// Creates a key that never expires; see [`create_expiring_key`].
pub fn create_key(db: &Db, name: &str, role: Role) -> Result<(ApiKey, String)> {
    create_expiring_key(db, name, role, None)
}

/// Creates a key and returns it with its secret, which is never stored and never shown again.
/// With `expires_in`, the key stops working that long from now.
pub fn create_expiring_key(
    db: &Db,
    name: &str,
    role: Role,
    expires_in: Option<Duration>,
) -> Result<(ApiKey, String)> {
    let name = label("name", name, 100)?;
    let created_at = crate::service::now();
    let expires_at = expires_in
        .map(|d| {
            chrono::TimeDelta::from_std(d)
                .ok()
                .and_then(|d| created_at.checked_add_signed(d))
                .ok_or_else(|| Invalid::new("expires_in", "is too far in the future"))
        })
        .transpose()?;
    let secret = format!("{KEY_PREFIX}{}", random_token::<24>()?);
    let key_hash = secret_hash(&secret);
    let row = db.write(|conn| {
        api_keys::insert(
            conn,
            &NewApiKey {
                name: &name,
                role,
                key_hash: &key_hash,
                key_prefix: &secret[..KEY_PREFIX.len() + 6],
                created_at,
                expires_at,
            },
        )
        .map_err(Error::from)
    })?;
    Ok((row, secret))
}

pub fn list_keys(db: &Db) -> Result<Vec<ApiKey>> {
    db.read(|conn| api_keys::list(conn).map_err(Error::from))
}

pub fn revoke_key(db: &Db, id: ApiKeyId) -> Result<()> {
    let revoked =
        db.write(|conn| api_keys::revoke(conn, id, crate::service::now()).map_err(Error::from))?;
    if revoked {
        Ok(())
    } else {
        Err(Error::not_found("live API key", id))
    }
}

/// How often a key's `last_used_at` is written at most: its use is recorded coarsely, never
/// once per request.
const LAST_USE_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// What a presented key turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    Valid(Staff),
    /// No such key, or it was revoked.
    Unknown,
    /// A key past its `expires_at`.
    Expired,
}

/// Answers "whose key is this?" for every API request. A verified key is remembered for a few
/// seconds (never past its expiry) so the door's scan path costs no extra query; a revocation
/// takes effect within that. Each time the database is asked, the key's last use is written if
/// the stored one is more than [`LAST_USE_RESOLUTION`] old: at most once a minute per key.
pub struct Authenticator {
    ttl: Duration,
    recent: Mutex<HashMap<String, (Staff, Instant)>>,
}

impl Authenticator {
    pub fn new(ttl: Duration) -> Self {
        Authenticator {
            ttl,
            recent: Mutex::new(HashMap::new()),
        }
    }

    /// A key verified within the last few seconds, answered from memory without blocking:
    /// the door's hot path. `None` means "ask [`Authenticator::authenticate`]".
    pub fn recently_verified(&self, secret: &str) -> Option<Staff> {
        self.remembered(&secret_hash(secret))
    }

    pub fn authenticate(&self, db: &Db, secret: &str) -> Result<KeyCheck> {
        let key_hash = secret_hash(secret);
        if let Some(staff) = self.remembered(&key_hash) {
            return Ok(KeyCheck::Valid(staff));
        }
        let Some(row) =
            db.read(|conn| api_keys::find_active_by_hash(conn, &key_hash).map_err(Error::from))?
        else {
            return Ok(KeyCheck::Unknown);
        };
        let Some(role) = Role::parse(&row.role) else {
            return Ok(KeyCheck::Unknown);
        };
        let now = crate::service::now();
        let mut remember_for = self.ttl;
        if let Some(expires_at) = row.expires_at {
            match (expires_at - now).to_std() {
                Ok(left) if !left.is_zero() => remember_for = remember_for.min(left),
                _ => return Ok(KeyCheck::Expired),
            }
        }
        if row
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USE_RESOLUTION)
        {
            record_use(db, row.id, now)?;
        }
        let staff = Staff {
            key_id: row.id,
            name: row.name,
            role,
        };
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() > 10_000 {
            recent.clear(); // bounded memory; a cold cache only costs a query
        }
        recent.insert(key_hash, (staff.clone(), Instant::now() + remember_for));
        Ok(KeyCheck::Valid(staff))
    }

    fn remembered(&self, key_hash: &str) -> Option<Staff> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        match recent.get(key_hash) {
            Some((staff, until)) if Instant::now() < *until => Some(staff.clone()),
            _ => None,
        }
    }
}

/// Writes the key's last use, unless another process wrote a recent one meanwhile.
fn record_use(db: &Db, id: ApiKeyId, at: DateTime<Utc>) -> Result<()> {
    let stale_before = at - LAST_USE_RESOLUTION;
    db.write(|conn| api_keys::record_use(conn, id, at, stale_before).map_err(Error::from))
}
