//! Named staff accounts and their sessions: who a person at the box office is, what a password
//! must be, how long a session lives, and when failed sign-ins slow down or stop an account or
//! an address. Plain rules, no I/O.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

use super::text::label;
use super::{EmailAddress, Invalid, Role};

/// A row of `staff_accounts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StaffId(pub i64);

impl fmt::Display for StaffId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A person who signs in to the console. The password hash is not part of it: only the
/// sign-in reads that, from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAccount {
    pub id: StaffId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl StaffAccount {
    /// "Ada Lovelace (box office)".
    pub fn signature(&self) -> String {
        format!("{} ({})", self.display_name, role_words(self.role))
    }
}

/// A role in words, as pages show it.
pub fn role_words(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::BoxOffice => "box office",
        Role::Scanner => "scanner",
    }
}

/// A live session: the account behind it and the token its forms must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    pub id: i64,
    pub staff: StaffAccount,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A new account's email (one spelling per mailbox: compared in lower case) and name.
pub fn parse_staff_email(raw: &str) -> Result<EmailAddress, Invalid> {
    EmailAddress::parse("email", raw)
}

pub fn parse_display_name(raw: &str) -> Result<String, Invalid> {
    label("name", raw, 100)
}

/// A password as typed: between [`Password::MIN_CHARS`] and [`Password::MAX_CHARS`]
/// characters. It never prints (its `Debug` is a placeholder) and has no `Display`.
pub struct Password(String);

impl Password {
    /// NIST SP 800-63B's floor for a password that is the only factor.
    pub const MIN_CHARS: usize = 15;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Password, Invalid> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(Invalid::new(
                "password",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(Invalid::new(
                "password",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

/// How long a session lives: it ends after `idle` without a request, and `absolute` after
/// sign-in whatever happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub idle: Duration,
    pub absolute: Duration,
}

impl SessionLimits {
    pub fn is_live(
        &self,
        created_at: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        now < created_at + self.absolute && now < last_seen_at + self.idle
    }

    /// A session's `last_seen_at` is written at most once per this long (so a page view is
    /// not a write): the idle limit is kept to within it.
    pub fn touch_every(&self) -> Duration {
        (self.idle / 10).clamp(Duration::seconds(1), Duration::minutes(1))
    }
}

/// A one-time set-password link works this long.
pub fn password_link_lifetime() -> Duration {
    Duration::hours(24)
}

/// Failed sign-ins are counted per account and per client address over [`Throttle::WINDOW`]:
/// past [`Throttle::SLOW_AFTER`] each attempt waits, past [`Throttle::REFUSE_AFTER`] attempts
/// are refused until the oldest failures leave the window.
pub struct Throttle;

/// What the throttle says about the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleDecision {
    Allow,
    /// Go on after this pause.
    Slow(std::time::Duration),
    /// Refused; ask again after this long.
    Refuse {
        retry_after: Duration,
    },
}

impl Throttle {
    pub const WINDOW: Duration = Duration::minutes(15);
    pub const SLOW_AFTER: usize = 5;
    pub const REFUSE_AFTER: usize = 10;
    pub const MAX_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

    /// The subject an account's failures are counted under (whether or not it exists).
    pub fn account_subject(email: &str) -> String {
        format!("account:{}", email.trim().to_lowercase())
    }

    pub fn address_subject(address: &str) -> String {
        format!("address:{address}")
    }

    /// Decides on one subject's failures within the window (`failures`, oldest first).
    pub fn decide(failures: &[DateTime<Utc>], now: DateTime<Utc>) -> ThrottleDecision {
        let recent: Vec<DateTime<Utc>> = failures
            .iter()
            .copied()
            .filter(|at| *at > now - Self::WINDOW)
            .collect();
        let n = recent.len();
        if n >= Self::REFUSE_AFTER {
            // Allowed again once fewer than REFUSE_AFTER failures are in the window: when the
            // one REFUSE_AFTER places from the newest leaves it.
            let leaves = recent[n - Self::REFUSE_AFTER] + Self::WINDOW;
            let wait = (leaves - now).max(Duration::seconds(1));
            return ThrottleDecision::Refuse { retry_after: wait };
        }
        if n >= Self::SLOW_AFTER {
            let steps = (n + 1 - Self::SLOW_AFTER) as u32;
            return ThrottleDecision::Slow(
                (std::time::Duration::from_millis(200) * steps).min(Self::MAX_DELAY),
            );
        }
        ThrottleDecision::Allow
    }

    /// The stricter of two decisions.
    pub fn stricter(a: ThrottleDecision, b: ThrottleDecision) -> ThrottleDecision {
        use ThrottleDecision::*;
        match (a, b) {
            (Refuse { retry_after: x }, Refuse { retry_after: y }) => Refuse {
                retry_after: x.max(y),
            },
            (r @ Refuse { .. }, _) | (_, r @ Refuse { .. }) => r,
            (Slow(x), Slow(y)) => Slow(x.max(y)),
            (s @ Slow(_), Allow) | (Allow, s @ Slow(_)) => s,
            (Allow, Allow) => Allow,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_a_length_rule_and_never_print() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(…)");
        assert_eq!(p.expose(), "correct horse battery");
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let limits = SessionLimits {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        };
        let t0 = Utc::now();
        assert!(limits.is_live(t0, t0, t0 + Duration::minutes(29)));
        assert!(!limits.is_live(t0, t0, t0 + Duration::minutes(30)));
        let seen = t0 + Duration::hours(11) + Duration::minutes(50);
        assert!(limits.is_live(t0, seen, t0 + Duration::hours(11) + Duration::minutes(59)));
        assert!(!limits.is_live(t0, seen, t0 + Duration::hours(12)));
        assert_eq!(limits.touch_every(), Duration::minutes(1));
    }

    #[test]
    fn the_throttle_slows_then_refuses_until_the_window_passes() {
        let now = Utc::now();
        let at = |minutes_ago: i64| now - Duration::minutes(minutes_ago);
        assert_eq!(Throttle::decide(&[], now), ThrottleDecision::Allow);
        let four: Vec<_> = (0..4).map(|_| at(1)).collect();
        assert_eq!(Throttle::decide(&four, now), ThrottleDecision::Allow);
        let five: Vec<_> = (0..5).map(|_| at(1)).collect();
        assert_eq!(
            Throttle::decide(&five, now),
            ThrottleDecision::Slow(std::time::Duration::from_millis(200))
        );
        let nine: Vec<_> = (0..9).map(|_| at(1)).collect();
        assert_eq!(
            Throttle::decide(&nine, now),
            ThrottleDecision::Slow(Throttle::MAX_DELAY)
        );
        // Ten failures: the oldest, 10 minutes ago, leaves the window in 5 minutes.
        let mut ten = vec![at(10)];
        ten.extend((0..9).map(|_| at(1)));
        assert_eq!(
            Throttle::decide(&ten, now),
            ThrottleDecision::Refuse {
                retry_after: Duration::minutes(5)
            }
        );
        // Failures older than the window do not count.
        let old: Vec<_> = (0..20).map(|_| at(16)).collect();
        assert_eq!(Throttle::decide(&old, now), ThrottleDecision::Allow);
        assert_eq!(
            Throttle::stricter(
                ThrottleDecision::Slow(Throttle::MAX_DELAY),
                Throttle::decide(&ten, now)
            ),
            Throttle::decide(&ten, now)
        );
        assert_eq!(Throttle::account_subject(" Ada@X.org"), "account:ada@x.org");
    }
}
