//! Staff accounts for the box-office console: created by the CLI (or an admin), signed in with
//! a password (Argon2id), kept signed in by a server-side session that the cookie's random
//! token names. Only SHA-256 hashes of session and link tokens are stored; passwords are only
//! ever hashed, never logged or shown.
//!
//! Failed sign-ins are counted in the database per account and per client address
//! (`domain::staff::Throttle`), so the throttle holds across every process. An unknown email is
//! checked against a fixed dummy hash, so it costs what a wrong password costs and gets the
//! same answer.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::secrets::secret_hash;
use super::{Encore, Error, Result};
use crate::db::{staff_accounts, staff_sessions, PoolError};
use crate::domain::staff::{
    parse_display_name, parse_staff_email, password_link_lifetime, Password, StaffAccount,
    StaffSession, Throttle, ThrottleDecision,
};
use crate::domain::Role;

/// OWASP's Argon2id parameters: 19 MiB of memory, two passes, one lane.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// A hash of a password nobody has, with the same parameters as every stored hash: what an
/// unknown email (or an account without a password) is checked against, so that its answer
/// takes as long as a wrong password's.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$ZW5jb3JlLWR1bW15LXNhbHQ$MoNjACFh23tWFz7PyI0YFCFTv0YSCGVGY/bqL166mo8";

fn hasher() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(MEMORY_KIB, PASSES, LANES, None).expect("OWASP's parameters are valid"),
    )
}

/// The PHC string of a new hash of `password`, with a random salt.
fn hash_password(password: &Password) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Internal(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("cannot hash a password: {e}")))
}

/// Whether `password` matches the PHC string `stored`; a string that does not parse matches
/// nothing.
fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A fresh 256-bit random token, URL-safe base64.
fn random_token() -> Result<String> {
    super::secrets::random_token::<32>()
}

/// Tokens we make are 43 characters; anything much longer is not one of ours.
fn plausible_token(token: &str) -> bool {
    !token.is_empty() && token.len() <= 64
}

/// Creates an account. With a password it can sign in at once; without one, the token of a
/// one-time link to set it (valid for `domain::staff::password_link_lifetime`) is returned,
/// the only time it exists outside its hash.
pub fn create_account(
    encore: &Encore,
    email: &str,
    display_name: &str,
    role: Role,
    password: Option<&Password>,
) -> Result<(StaffAccount, Option<String>)> {
    let email = parse_staff_email(email)?;
    let display_name = parse_display_name(display_name)?;
    // Hashing takes tens of milliseconds: before the transaction, not inside it.
    let hash = password.map(hash_password).transpose()?;
    let link = match password {
        Some(_) => None,
        None => Some(random_token()?),
    };
    let now = super::now();
    let account = encore.db.write(|conn| {
        let account = staff_accounts::insert(
            conn,
            &staff_accounts::NewAccount {
                email: email.as_str(),
                display_name: &display_name,
                role,
                password_hash: hash.as_deref(),
                created_at: now,
            },
        )
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => Error::Conflict {
                code: "staff_email_taken",
                message: format!("A staff account for {email} already exists."),
            },
            other => Error::from(other),
        })?;
        if let Some(token) = &link {
            staff_accounts::insert_password_link(
                conn,
                &secret_hash(token),
                account.id,
                now + password_link_lifetime(),
            )?;
        }
        Ok::<_, Error>(account)
    })?;
    Ok((account, link))
}

pub fn list_accounts(encore: &Encore) -> Result<Vec<StaffAccount>> {
    encore
        .db
        .read(|conn| staff_accounts::list(conn).map_err(Error::from))
}

/// Why a sign-in did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email, wrong password, disabled account or no password yet: one answer.
    #[error("That email and password do not match an account.")]
    Refused,
    /// Too many failures lately for the account or the address.
    #[error("Too many failed sign-ins; try again later.")]
    Throttled { retry_after: chrono::Duration },
    #[error(transparent)]
    Service(#[from] Error),
}

impl From<PoolError> for SignInError {
    fn from(e: PoolError) -> Self {
        SignInError::Service(e.into())
    }
}

impl From<diesel::result::Error> for SignInError {
    fn from(e: diesel::result::Error) -> Self {
        SignInError::Service(e.into())
    }
}

/// A new session: the token for the cookie (never stored) and who signed in.
#[derive(Debug)]
pub struct SignedIn {
    pub token: String,
    pub account: StaffAccount,
}

/// Signs in with an email and password from the client at `address`. Blocks (the throttle's
/// pause, the hash): call it off the async threads.
pub fn sign_in(
    encore: &Encore,
    email: &str,
    password: &str,
    address: &str,
) -> std::result::Result<SignedIn, SignInError> {
    let now = super::now();
    let account_subject = Throttle::account_subject(email);
    let address_subject = Throttle::address_subject(address);
    let decision = encore.db.read(|conn| {
        let since = now - Throttle::WINDOW;
        let by_account = staff_sessions::failures_since(conn, &account_subject, since)?;
        let by_address = staff_sessions::failures_since(conn, &address_subject, since)?;
        Ok::<_, SignInError>(Throttle::stricter(
            Throttle::decide(&by_account, now),
            Throttle::decide(&by_address, now),
        ))
    })?;
    match decision {
        ThrottleDecision::Refuse { retry_after } => {
            return Err(SignInError::Throttled { retry_after })
        }
        ThrottleDecision::Slow(pause) => std::thread::sleep(pause),
        ThrottleDecision::Allow => {}
    }

    let found = encore
        .db
        .read(|conn| staff_accounts::find_with_hash(conn, email).map_err(Error::from))?;
    let account = match found {
        Some((account, Some(hash)))
            if account.disabled_at.is_none() && verify_password(password, &hash) =>
        {
            Some(account)
        }
        Some((account, Some(_))) if account.disabled_at.is_none() => None,
        _ => {
            // Same work as a wrong password: nothing tells an unknown email apart.
            verify_password(password, DUMMY_HASH);
            None
        }
    };
    let Some(account) = account else {
        let at = super::now();
        encore.db.write(|conn| {
            staff_sessions::record_failure(conn, &[&account_subject, &address_subject], at)
                .map_err(Error::from)
        })?;
        return Err(SignInError::Refused);
    };

    let token = random_token()?;
    let csrf = random_token()?;
    let at = super::now();
    encore.db.write(|conn| {
        staff_sessions::insert(conn, &secret_hash(&token), account.id, &csrf, at)?;
        staff_sessions::clear_failures(conn, &account_subject, at - Throttle::WINDOW)
            .map_err(Error::from)
    })?;
    Ok(SignedIn { token, account })
}

/// The live session a cookie's token names: not revoked, not idle past the limit, not older
/// than the absolute limit, and its account not disabled. Marks it seen (coarsely).
pub fn session(encore: &Encore, token: &str) -> Result<Option<StaffSession>> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let now = super::now();
    let limits = encore.settings.staff_sessions;
    let found = encore.db.read(|conn| {
        staff_sessions::find_unrevoked(conn, &secret_hash(token)).map_err(Error::from)
    })?;
    let Some(session) = found else {
        return Ok(None);
    };
    if session.staff.disabled_at.is_some()
        || !limits.is_live(session.created_at, session.last_seen_at, now)
    {
        return Ok(None);
    }
    let stale_before = now - limits.touch_every();
    if session.last_seen_at < stale_before {
        encore.db.write(|conn| {
            staff_sessions::touch(conn, session.id, now, stale_before).map_err(Error::from)
        })?;
    }
    Ok(Some(session))
}

/// Ends the session the token names; whether one was live.
pub fn sign_out(encore: &Encore, token: &str) -> Result<bool> {
    if !plausible_token(token) {
        return Ok(false);
    }
    let now = super::now();
    encore.db.write(|conn| {
        staff_sessions::revoke_by_hash(conn, &secret_hash(token), now).map_err(Error::from)
    })
}

/// Ends every session of the account with this email, at once; how many were live.
pub fn revoke_sessions(encore: &Encore, email: &str) -> Result<usize> {
    let now = super::now();
    encore.db.write(|conn| {
        let (account, _) = staff_accounts::find_with_hash(conn, email)?
            .ok_or_else(|| Error::not_found("staff account", email.trim()))?;
        Ok::<_, Error>(staff_sessions::revoke_all_of(conn, account.id, now)?)
    })
}

/// The account a set-password link is for, while the link works.
pub fn password_link(encore: &Encore, token: &str) -> Result<Option<StaffAccount>> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let now = super::now();
    encore.db.read(|conn| {
        match staff_accounts::password_link_account(conn, &secret_hash(token), now)? {
            Some(id) => Ok::<_, Error>(staff_accounts::find(conn, id)?),
            None => Ok(None),
        }
    })
}

/// Sets an account's password through its one-time link, and ends the account's sessions. The
/// link works once: `None` when it is unknown, used or expired.
pub fn set_password_with_link(
    encore: &Encore,
    token: &str,
    password: &Password,
) -> Result<Option<StaffAccount>> {
    if !plausible_token(token) {
        return Ok(None);
    }
    let hash = hash_password(password)?;
    let now = super::now();
    encore.db.write(|conn| {
        let Some(id) = staff_accounts::use_password_link(conn, &secret_hash(token), now)? else {
            return Ok::<_, Error>(None);
        };
        staff_accounts::set_password_hash(conn, id, &hash)?;
        staff_sessions::revoke_all_of(conn, id, now)?;
        Ok(staff_accounts::find(conn, id)?)
    })
}

/// Whether `given` is the session's CSRF token, compared in constant time.
pub fn csrf_matches(session: &StaffSession, given: &str) -> bool {
    let expected = session.csrf_token.as_bytes();
    let given = given.as_bytes();
    if expected.len() != given.len() {
        return false;
    }
    expected
        .iter()
        .zip(given)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let password = Password::parse("correct horse battery staple").unwrap();
        let hash = hash_password(&password).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stable", &hash));
        assert_ne!(hash, hash_password(&password).unwrap(), "salted");
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let parsed = PasswordHash::new(DUMMY_HASH).expect("the dummy hash parses");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let params = Params::try_from(&parsed).unwrap();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (MEMORY_KIB, PASSES, LANES)
        );
        assert_eq!(parsed.hash.map(|h| h.len()), Some(32));
        assert!(!verify_password("", DUMMY_HASH));
    }

    #[test]
    fn csrf_tokens_compare_whole() {
        let now = Utc::now();
        let session = StaffSession {
            id: 1,
            staff: StaffAccount {
                id: crate::domain::staff::StaffId(1),
                email: "a@b.org".into(),
                display_name: "A".into(),
                role: Role::Admin,
                has_password: true,
                created_at: now,
                disabled_at: None,
            },
            csrf_token: "abcdef".into(),
            created_at: now,
            last_seen_at: now,
        };
        assert!(csrf_matches(&session, "abcdef"));
        assert!(!csrf_matches(&session, "abcdeg"));
        assert!(!csrf_matches(&session, "abcde"));
        assert!(!csrf_matches(&session, ""));
    }
}
