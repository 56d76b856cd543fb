use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::ApiKeyId;

/// A staff API key as stored: its secret only as a hash, its role as stored text (a role this
/// build does not know is refused when the key is used, not when it is read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub role: String,
    pub key_hash: String,
    /// The first characters of the key, to tell keys apart in a list.
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A key to store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub role: Role,
    pub key_hash: &'a str,
    pub key_prefix: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// What a staff API key may do. `admin` may do everything; the others are scoped to their job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Role {
    Admin,
    BoxOffice,
    Scanner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::BoxOffice => "box_office",
            Role::Scanner => "scanner",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "admin" => Some(Role::Admin),
            "box_office" => Some(Role::BoxOffice),
            "scanner" => Some(Role::Scanner),
            _ => None,
        }
    }

    /// Whether a key with this role may act where `needed` is required.
    pub fn permits(self, needed: Role) -> bool {
        self == Role::Admin || self == needed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_may_do_everything_others_only_their_job() {
        assert!(Role::Admin.permits(Role::Scanner));
        assert!(Role::Admin.permits(Role::BoxOffice));
        assert!(Role::BoxOffice.permits(Role::BoxOffice));
        assert!(!Role::BoxOffice.permits(Role::Scanner));
        assert!(!Role::Scanner.permits(Role::BoxOffice));
        assert!(!Role::Scanner.permits(Role::Admin));
        for role in [Role::Admin, Role::BoxOffice, Role::Scanner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
