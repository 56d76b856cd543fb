use std::process::ExitCode;
use std::time::Duration;

use crate::domain::ids::ApiKeyId;
use crate::domain::Role;
use crate::service::{signing, staff};

pub fn create(role: Role, name: &str, expires_in: Option<Duration>) -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    let (key, secret) = staff::create_expiring_key(&encore.db, name, role, expires_in)?;
    let expiry = key.expires_at.map_or(String::new(), |t| {
        format!(", expiring {} UTC", t.format("%Y-%m-%d %H:%M:%S"))
    });
    eprintln!(
        "Created {} key #{} \"{}\"{expiry}. This is the only time its secret is shown:",
        role.as_str(),
        key.id,
        key.name
    );
    println!("{secret}");
    Ok(ExitCode::SUCCESS)
}

pub fn list() -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    println!(
        "{:>4}  {:<10}  {:<12}  {:<20}  {:<19}  status",
        "id", "role", "prefix", "name", "last used (UTC)"
    );
    let now = crate::service::now();
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    for key in staff::list_keys(&encore.db)? {
        let status = match (key.revoked_at, key.expires_at) {
            (Some(t), _) => format!("revoked {}", t.naive_utc()),
            (None, Some(t)) if t <= now => format!("expired {}", at(t)),
            (None, Some(t)) => format!("active, expires {}", at(t)),
            (None, None) => "active".to_string(),
        };
        let last_used = key.last_used_at.map_or("never".to_string(), at);
        println!(
            "{:>4}  {:<10}  {:<12}  {:<20}  {:<19}  {}",
            key.id, key.role, key.key_prefix, key.name, last_used, status
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn revoke(id: i64) -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    staff::revoke_key(&encore.db, ApiKeyId(id))?;
    println!("revoked key #{id}");
    Ok(ExitCode::SUCCESS)
}

pub fn rotate() -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    let kid = signing::rotate(&encore)?;
    println!("{kid}");
    eprintln!("New tokens are signed with {kid} once running processes pick it up (within key_refresh_seconds).");
    Ok(ExitCode::SUCCESS)
}

pub fn retire(kid: &str) -> anyhow::Result<ExitCode> {
    let (config, encore) = super::open()?;
    signing::retire(&encore.db, kid, config.key_retire_grace())?;
    println!("retired {kid}: tokens signed with it no longer admit");
    Ok(ExitCode::SUCCESS)
}

pub fn signing() -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    let active = encore.keys.active_kid();
    for key in signing::list(&encore.db)? {
        let status = match key.retired_at {
            Some(t) => format!("retired {}", t.naive_utc()),
            None if key.kid == active => "signing".into(),
            None => "verifying".into(),
        };
        println!(
            "{}  created {}  {}",
            key.kid,
            key.created_at.naive_utc(),
            status
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn rewrap() -> anyhow::Result<ExitCode> {
    let (_, encore) = super::open()?;
    let path = signing::rewrap(&encore)?;
    println!("{}", path.display());
    eprintln!(
        "Every signing key is now sealed with the new key in {}; processes on other machines need this file.",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
