//! `encore staff …`: the box-office console's named accounts.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;

use crate::domain::staff::{password_link_lifetime, Password};
use crate::domain::Role;
use crate::service::accounts;

/// Creates an account. With `password_stdin`, its password is read from standard input (one
/// line; never echoed, never logged); without, a one-time link to set it is printed.
pub fn create(
    email: &str,
    name: &str,
    role: Role,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    let password = if password_stdin {
        let mut raw = String::new();
        std::io::stdin()
            .read_to_string(&mut raw)
            .context("cannot read the password from standard input")?;
        let line = raw.lines().next().unwrap_or("");
        Some(Password::parse(line)?)
    } else {
        None
    };
    let (config, encore) = super::open()?;
    let (account, link) = accounts::create_account(&encore, email, name, role, password.as_ref())?;
    eprintln!(
        "Created {} account #{} for {} <{}>.",
        role.as_str(),
        account.id,
        account.display_name,
        account.email
    );
    if let Some(token) = link {
        eprintln!(
            "Give them this link to set their password; it works once, within {} hours:",
            password_link_lifetime().num_hours()
        );
        println!(
            "{}/box-office/password/{token}",
            config.public_base_url.trim_end_matches('/')
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list() -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    println!(
        "{:>4}  {:<10}  {:<32}  {:<24}  status",
        "id", "role", "email", "name"
    );
    for account in accounts::list_accounts(&encore)? {
        let status = match (account.disabled_at, account.has_password) {
            (Some(t), _) => format!("disabled {}", t.format("%Y-%m-%d %H:%M:%S")),
            (None, false) => "no password yet".to_string(),
            (None, true) => "active".to_string(),
        };
        println!(
            "{:>4}  {:<10}  {:<32}  {:<24}  {}",
            account.id,
            account.role.as_str(),
            account.email,
            account.display_name,
            status
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Ends every console session of the account, at once.
pub fn revoke_sessions(email: &str) -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    let ended = accounts::revoke_sessions(&encore, email)?;
    println!(
        "ended {ended} session{} of {}",
        if ended == 1 { "" } else { "s" },
        email.trim()
    );
    Ok(ExitCode::SUCCESS)
}
