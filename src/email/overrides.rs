//! The operator's own email texts: files in `email_templates_dir` that replace a message's
//! subject, text part or HTML part. They are Jinja templates (rendered by minijinja) over the
//! same values the built-in templates use (`{{ t.holder_name }}`, `{{ when }}`…), so a
//! placeholder copied from `templates/email` works as it is. Every file is parsed, and every
//! placeholder checked against what its message provides, when the process starts: a typo stops
//! the start with an error naming the file and the placeholder, rather than a blank in a
//! patron's email.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::Environment;
use serde::Serialize;

use crate::domain::locale::Locale;
use crate::domain::outbox::EmailKind;

/// The parts of a message a file may replace: `{kind}.subject.txt`, `{kind}.txt`, `{kind}.html`.
const PARTS: [&str; 3] = ["subject.txt", "txt", "html"];

/// What every message's templates can use: the ticket's facts as `t`.
const TICKET_FACTS: &[&str] = &[
    "holder_name",
    "event_name",
    "venue",
    "starts_at",
    "doors_open_at",
    "seat",
    "section",
    "price",
    "link",
    "apple_wallet_link",
    "rotating_seconds",
];

/// The values a message kind's templates are rendered with: top-level names, and for a name
/// that is an object, its fields (`None`: a plain value).
fn values_of(kind: EmailKind) -> Vec<(&'static str, Option<&'static [&'static str]>)> {
    let mut values = vec![("t", Some(TICKET_FACTS))];
    match kind {
        EmailKind::Confirmation => {}
        EmailKind::Reminder => values.push(("when", None)),
        EmailKind::TransferOffer => values.extend([
            ("from_name", None),
            ("to_name", None),
            ("claim_link", None),
            ("expires_at", None),
        ]),
        EmailKind::ExchangeReceipt => values.push((
            "r",
            Some(&[
                "price",
                "fee",
                "credited",
                "spent",
                "balance",
                "new_ticket",
                "no_show",
                "became",
            ]),
        )),
        EmailKind::Cancellation => values.push((
            "c",
            Some(&["reason", "performance_canceled", "tickets", "refunds"]),
        )),
        EmailKind::Lobby => values.push(("message", None)),
        EmailKind::RuleMessage => values.push((
            "m",
            Some(&[
                "subject",
                "body",
                "credit_offer",
                "suggestions",
                "unsubscribe_link",
            ]),
        )),
    }
    values
}

/// Why the operator's templates cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    #[error("email_templates_dir {dir}: {source}")]
    Read {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: not a template Encore knows; expected <kind>.subject.txt, <kind>.txt or <kind>.html with kind one of {kinds}")]
    UnknownFile { file: PathBuf, kinds: String },
    #[error("{file}: {reason}")]
    Syntax { file: PathBuf, reason: String },
    #[error("{file}: unknown placeholder {{{{ {placeholder} }}}}; this message has {known}")]
    UnknownPlaceholder {
        file: PathBuf,
        placeholder: String,
        known: String,
    },
}

/// The templates found in the directory, parsed and checked.
pub struct Overrides {
    env: Environment<'static>,
}

impl Overrides {
    /// Reads and checks every file of `dir`.
    pub fn load(dir: &Path) -> Result<Overrides, OverrideError> {
        let read_error = |source| OverrideError::Read {
            dir: dir.to_path_buf(),
            source,
        };
        let mut env = Environment::new();
        // A missing value is an error at sending, not a silent blank (the start-up check
        // makes one unlikely: only values a message provides pass it).
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(read_error)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(read_error)?;
        files.sort();
        for file in files.into_iter().filter(|f| f.is_file()) {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let Some(kind) = kind_of(&name) else {
                return Err(OverrideError::UnknownFile {
                    file,
                    kinds: EmailKind::ALL.map(|k| k.as_str()).join(", "),
                });
            };
            let source = std::fs::read_to_string(&file).map_err(read_error)?;
            env.add_template_owned(name.clone(), source)
                .map_err(|e| OverrideError::Syntax {
                    file: file.clone(),
                    reason: e.to_string(),
                })?;
            let template = env.get_template(&name).map_err(|e| OverrideError::Syntax {
                file: file.clone(),
                reason: e.to_string(),
            })?;
            check_placeholders(&file, kind, template.undeclared_variables(true))?;
        }
        Ok(Overrides { env })
    }

    /// The operator's version of `kind`'s `part` in `locale` (`{kind}.{locale}.{part}`, else
    /// `{kind}.{part}` for every language), rendered with `values`; `None` when there is none
    /// (the built-in template is used).
    pub fn render(
        &self,
        kind: EmailKind,
        locale: Locale,
        part: &str,
        values: &impl Serialize,
    ) -> Option<Result<String, minijinja::Error>> {
        let template = (self.env)
            .get_template(&format!("{kind}.{}.{part}", locale.as_str()))
            .or_else(|_| self.env.get_template(&format!("{kind}.{part}")))
            .ok()?;
        Some(template.render(values))
    }
}

/// The message kind a file replaces a part of: `{kind}.{part}`, or `{kind}.{locale}.{part}`
/// for one language.
fn kind_of(file_name: &str) -> Option<EmailKind> {
    EmailKind::ALL.into_iter().find(|kind| {
        PARTS.iter().any(|part| {
            file_name == format!("{kind}.{part}")
                || (Locale::ALL.iter())
                    .any(|l| file_name == format!("{kind}.{}.{part}", l.as_str()))
        })
    })
}

/// Each placeholder (`t.holder_name`, `when`…) must be a value the message provides.
fn check_placeholders(
    file: &Path,
    kind: EmailKind,
    used: std::collections::HashSet<String>,
) -> Result<(), OverrideError> {
    let values = values_of(kind);
    let known: BTreeMap<&str, Option<&[&str]>> = values.iter().copied().collect();
    let mut used: Vec<String> = used.into_iter().collect();
    used.sort();
    for placeholder in used {
        let mut parts = placeholder.split('.');
        let top = parts.next().unwrap_or_default();
        let ok = match (known.get(top), parts.next()) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(Some(fields)), Some(field)) => fields.contains(&field),
            (Some(None), Some(_)) => false,
        };
        if !ok {
            let known = values
                .iter()
                .flat_map(|(top, fields)| match fields {
                    Some(fields) => fields.iter().map(|f| format!("{top}.{f}")).collect(),
                    None => vec![top.to_string()],
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(OverrideError::UnknownPlaceholder {
                file: file.to_path_buf(),
                placeholder,
                known,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, body) in files {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        dir
    }

    #[test]
    fn a_known_file_with_known_placeholders_renders() {
        let dir = dir_with(&[("reminder.subject.txt", "{{ t.event_name }} is {{ when }}")]);
        let overrides = Overrides::load(dir.path()).unwrap();
        let values = serde_json::json!({"t": {"event_name": "Hamlet"}, "when": "tomorrow"});
        let subject = overrides
            .render(EmailKind::Reminder, Locale::En, "subject.txt", &values)
            .unwrap()
            .unwrap();
        assert_eq!(subject, "Hamlet is tomorrow");
        assert!(overrides
            .render(EmailKind::Reminder, Locale::En, "txt", &values)
            .is_none());
    }

    #[test]
    fn a_languages_own_file_wins_for_that_language_only() {
        let dir = dir_with(&[
            ("lobby.txt", "Welcome, {{ t.holder_name }}"),
            ("lobby.de.txt", "Willkommen, {{ t.holder_name }}"),
        ]);
        let overrides = Overrides::load(dir.path()).unwrap();
        let values = serde_json::json!({"t": {"holder_name": "Ada"}});
        let said = |locale| {
            (overrides.render(EmailKind::Lobby, locale, "txt", &values))
                .unwrap()
                .unwrap()
        };
        assert_eq!(said(Locale::De), "Willkommen, Ada");
        assert_eq!(said(Locale::En), "Welcome, Ada");
        let dir = dir_with(&[("lobby.fr.txt", "Bienvenue")]);
        assert!(
            Overrides::load(dir.path()).is_err(),
            "a language we do not speak"
        );
    }

    #[test]
    fn an_unknown_placeholder_names_the_file_and_the_placeholder() {
        let dir = dir_with(&[("reminder.txt", "Hello {{ t.holder_nme }}")]);
        let error = Overrides::load(dir.path()).err().unwrap().to_string();
        assert!(error.contains("reminder.txt"), "{error}");
        assert!(error.contains("t.holder_nme"), "{error}");
        assert!(error.contains("t.holder_name"), "{error}");
        let dir = dir_with(&[("confirmation.html", "{{ when }}")]);
        let error = Overrides::load(dir.path()).err().unwrap().to_string();
        assert!(error.contains("unknown placeholder {{ when }}"), "{error}");
    }

    #[test]
    fn unknown_files_and_bad_syntax_are_refused() {
        let dir = dir_with(&[("reminders.txt", "x")]);
        let error = Overrides::load(dir.path()).err().unwrap().to_string();
        assert!(
            error.contains("reminders.txt") && error.contains("not a template"),
            "{error}"
        );
        let dir = dir_with(&[("lobby.txt", "{% if %}")]);
        let error = Overrides::load(dir.path()).err().unwrap().to_string();
        assert!(error.contains("lobby.txt"), "{error}");
    }
}
