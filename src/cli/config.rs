//! `encore config`: the effective configuration as TOML, with its secrets redacted. It reads
//! the settings exactly as `encore serve` does (and fails the same way on a bad one), but opens
//! no database.

use std::process::ExitCode;

use anyhow::Context;

use crate::config::redact_url;
use crate::config::Config;

/// Setting names whose value is a secret whatever it looks like.
const SECRET_NAMES: [&str; 4] = ["password", "secret", "token", "private_key"];

const REDACTED: &str = "***";

pub fn run() -> anyhow::Result<ExitCode> {
    let config = Config::load().context("invalid configuration")?;
    print!("{}", render(&config, &Config::file())?);
    Ok(ExitCode::SUCCESS)
}

/// The configuration as an `encore.toml` would say it (settings in alphabetical order), secrets
/// redacted; unset optional settings are listed as comments.
pub fn render(config: &Config, file: &str) -> anyhow::Result<String> {
    let mut table = toml::Table::try_from(config).context("the configuration as TOML")?;
    redact(&mut table);
    let file_state = if std::path::Path::new(file).exists() {
        "read"
    } else {
        "absent"
    };
    let mut text = format!(
        "# Encore's effective configuration: defaults < {file} ({file_state}) < ENCORE_* \
         environment < DATABASE_URL, SMTP_URL.\n# Passwords and secrets are shown as {REDACTED}.\n"
    );
    text.push_str(&toml::to_string(&table).context("the configuration as TOML")?);
    // TOML has no null: an unset setting is absent from the table, so say so.
    if let serde_json::Value::Object(fields) = serde_json::to_value(config)? {
        for (name, _) in fields.iter().filter(|(_, v)| v.is_null()) {
            text.push_str(&format!("# {name} is unset\n"));
        }
    }
    Ok(text)
}

/// Blanks every secret: values of settings named like one, and passwords inside URLs (user
/// part or `password=` parameter) of any other.
fn redact(table: &mut toml::Table) {
    for (name, value) in table.iter_mut() {
        match value {
            toml::Value::String(text) if SECRET_NAMES.iter().any(|s| name.contains(s)) => {
                *text = REDACTED.into();
            }
            toml::Value::String(text) => *text = redact_url(text),
            toml::Value::Table(inner) => redact(inner),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_secrets() -> Config {
        Config {
            database_url: "postgres://encore:s3cret@db:5432/encore?password=n0pe&sslmode=require"
                .into(),
            smtp_url: Some("smtps://mailer:hunter2@mail.example.org:465".into()),
            bind: "0.0.0.0:9000".into(),
            ..Config::default()
        }
    }

    #[test]
    fn passwords_never_appear_and_the_rest_reads_back() {
        let text = render(&with_secrets(), "/no/such/encore.toml").unwrap();
        for secret in ["s3cret", "n0pe", "hunter2"] {
            assert!(!text.contains(secret), "{secret} in\n{text}");
        }
        assert!(text.contains(
            r#"database_url = "postgres://encore:***@db:5432/encore?password=***&sslmode=require""#
        ));
        assert!(text.contains(r#"smtp_url = "smtps://mailer:***@mail.example.org:465""#));
        assert!(text.contains("(absent)"));
        // The output is itself a valid encore.toml: every setting, none unknown.
        let back: Config = toml::from_str(&text).unwrap();
        assert_eq!(back.bind, "0.0.0.0:9000");
        assert_eq!(back.db_pool_size, Config::default().db_pool_size);
    }

    #[test]
    fn unset_settings_are_named() {
        let text = render(&Config::default(), "encore.toml").unwrap();
        assert!(text.contains("# smtp_url is unset"), "{text}");
        assert!(text.contains("# metrics_bind is unset"), "{text}");
        assert!(text.contains(r#"database_url = "encore.db""#), "{text}");
    }

    /// Every setting has a row in the configuration table of `docs/operations.md`, and the row
    /// gives the default this build has.
    #[test]
    fn the_operations_guide_documents_every_setting_and_its_default() {
        let guide = include_str!("../../docs/operations.md");
        let serde_json::Value::Object(defaults) = serde_json::to_value(Config::default()).unwrap()
        else {
            panic!("the configuration is a table");
        };
        for (name, default) in defaults {
            let row = guide
                .lines()
                .find(|l| l.starts_with(&format!("| `{name}`")))
                .unwrap_or_else(|| panic!("docs/operations.md has no row for the setting {name}"));
            let documented = row.split('|').nth(2).unwrap_or_default();
            let expected = match &default {
                serde_json::Value::Null => "unset".to_string(),
                serde_json::Value::String(text) => format!("`{text}`"),
                other => format!("`{other}`"),
            };
            assert!(
                documented.contains(&expected),
                "docs/operations.md gives {name} the default {documented:?}; it is {expected}"
            );
        }
    }

    #[test]
    fn settings_named_like_secrets_are_blanked_whatever_their_value() {
        let mut table: toml::Table =
            toml::from_str("webhook_secret = \"abc\"\nsmtp_password = \"def\"\nname = \"x\"")
                .unwrap();
        redact(&mut table);
        assert_eq!(table["webhook_secret"].as_str(), Some(REDACTED));
        assert_eq!(table["smtp_password"].as_str(), Some(REDACTED));
        assert_eq!(table["name"].as_str(), Some("x"));
    }
}
