//! Patron-facing words in the patron's language: the Fluent files under `locales/` (one folder
//! per language, built into the binary), looked up by message id.
//!
//! Templates hold a [`Tr`] for the ticket's [`Locale`] and ask it for each sentence:
//! `{{ tr.t("ticket-seat") }}`, `{{ tr.t1("email-hello", "name", t.holder_name) }}`. A message
//! missing in German is said in English; one missing everywhere (a typo, caught by the tests
//! below) is logged and left blank, never shown as its id.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, StaticLoader};

use crate::domain::locale::Locale;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Fluent wraps each placeable in Unicode isolation marks by default, for right-to-left
        // scripts; in plain-text email and subjects they would be stray invisible characters.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static ENGLISH: LanguageIdentifier = fluent_templates::langid!("en");
static GERMAN: LanguageIdentifier = fluent_templates::langid!("de");

fn language(locale: Locale) -> &'static LanguageIdentifier {
    match locale {
        Locale::En => &ENGLISH,
        Locale::De => &GERMAN,
    }
}

/// A value a message may take: words, or a number (which a message may pluralise on).
pub trait Arg {
    fn value(&self) -> FluentValue<'static>;
}

impl Arg for str {
    fn value(&self) -> FluentValue<'static> {
        FluentValue::from(self.to_string())
    }
}

impl Arg for String {
    fn value(&self) -> FluentValue<'static> {
        FluentValue::from(self.clone())
    }
}

macro_rules! number_args {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn value(&self) -> FluentValue<'static> {
                FluentValue::from(*self)
            }
        }
    )*};
}
number_args!(i32, i64, u32, u64, usize);

impl<T: Arg + ?Sized> Arg for &T {
    fn value(&self) -> FluentValue<'static> {
        (**self).value()
    }
}

/// The translator a page or an email holds: its language, and the lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tr(pub Locale);

impl Tr {
    pub fn locale(&self) -> Locale {
        self.0
    }

    /// The `lang` attribute of a page in this language.
    pub fn lang(&self) -> &'static str {
        self.0.as_str()
    }

    /// A message with no values.
    pub fn t(&self, id: &str) -> String {
        lookup(&LOCALES, self.0, id, &[])
    }

    /// A message with one value.
    pub fn t1(&self, id: &str, name: &'static str, value: impl Arg) -> String {
        lookup(&LOCALES, self.0, id, &[(name, value.value())])
    }

    /// A message with two values.
    pub fn t2(
        &self,
        id: &str,
        name: &'static str,
        value: impl Arg,
        name2: &'static str,
        value2: impl Arg,
    ) -> String {
        let args = [(name, value.value()), (name2, value2.value())];
        lookup(&LOCALES, self.0, id, &args)
    }

    /// A message with three values.
    #[allow(clippy::too_many_arguments)]
    pub fn t3(
        &self,
        id: &str,
        name: &'static str,
        value: impl Arg,
        name2: &'static str,
        value2: impl Arg,
        name3: &'static str,
        value3: impl Arg,
    ) -> String {
        let args = [
            (name, value.value()),
            (name2, value2.value()),
            (name3, value3.value()),
        ];
        lookup(&LOCALES, self.0, id, &args)
    }

    /// A message with any number of values (from Rust; templates use `t`…`t3`).
    pub fn with(&self, id: &str, args: &[(&'static str, &dyn Arg)]) -> String {
        let args: Vec<_> = args.iter().map(|(n, v)| (*n, v.value())).collect();
        lookup(&LOCALES, self.0, id, &args)
    }

    /// Money as this language writes it ("45,00 EUR").
    pub fn money(&self, minor: i64, currency: &str) -> String {
        self.0.money(minor, currency)
    }
}

/// `id` in `locale`, else in English; blank (and an error logged) if neither has it.
fn lookup(
    loader: &StaticLoader,
    locale: Locale,
    id: &str,
    args: &[(&'static str, FluentValue<'static>)],
) -> String {
    let args: HashMap<Cow<'static, str>, FluentValue<'static>> = args
        .iter()
        .map(|(name, value)| (Cow::Borrowed(*name), value.clone()))
        .collect();
    let args = (!args.is_empty()).then_some(&args);
    [language(locale), &ENGLISH]
        .into_iter()
        .find_map(|lang| loader.lookup_single_language(lang, id, args).ok())
        .unwrap_or_else(|| {
            tracing::error!(message_id = id, "no text for this message in any language");
            String::new()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fluent_templates::static_loader! {
        static PARTIAL = {
            locales: "./tests/fixtures/locales",
            fallback_language: "en",
            customise: |bundle| bundle.set_use_isolating(false),
        };
    }

    /// The message ids a folder of `.ftl` files defines.
    fn ids_in(folder: &str) -> BTreeSet<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
        let mut ids = BTreeSet::new();
        for file in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            for line in text.lines() {
                let first = line.chars().next();
                if first.is_some_and(|c| c.is_ascii_lowercase()) {
                    if let Some((id, _)) = line.split_once(" =") {
                        ids.insert(id.trim().to_string());
                    }
                }
            }
        }
        ids
    }

    #[test]
    fn a_message_missing_in_german_is_said_in_english_and_an_unknown_one_is_blank() {
        let de = lookup(&PARTIAL, Locale::De, "greeting", &[]);
        assert_eq!(de, "Guten Abend");
        let fallback = lookup(&PARTIAL, Locale::De, "only-in-english", &[]);
        assert_eq!(fallback, "Only in English");
        let with_value = lookup(
            &PARTIAL,
            Locale::De,
            "seats",
            &[("count", FluentValue::from(1))],
        );
        assert_eq!(with_value, "1 Platz");
        assert_eq!(lookup(&PARTIAL, Locale::De, "no-such-message", &[]), "");
    }

    #[test]
    fn german_says_everything_english_says() {
        let english = ids_in("locales/en");
        let german = ids_in("locales/de");
        let untranslated: Vec<_> = english.difference(&german).collect();
        assert!(untranslated.is_empty(), "not in German: {untranslated:?}");
        let stray: Vec<_> = german.difference(&english).collect();
        assert!(stray.is_empty(), "in German only: {stray:?}");
    }

    /// Every `tr.t…("id"` in a template names a message that exists, so no page or email can
    /// come out blank where a sentence belongs.
    #[test]
    fn every_message_a_template_asks_for_exists() {
        let english = ids_in("locales/en");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut missing = Vec::new();
        for folder in ["templates/email", "templates/pages", "src"] {
            // This file's own comments and tests name example ids.
            for path in files_under(&root.join(folder))
                .into_iter()
                .filter(|p| !p.ends_with("src/i18n.rs"))
            {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for (_, rest) in text.match_indices("tr.t").map(|(i, _)| text.split_at(i)) {
                    let Some(open) = rest.find("(\"") else {
                        continue;
                    };
                    // Only calls of the form tr.t("…"), tr.t1("…", … tr.with("…".
                    if !matches!(
                        &rest[..open],
                        "tr.t" | "tr.t1" | "tr.t2" | "tr.t3" | "tr.with"
                    ) {
                        continue;
                    }
                    let id: String = rest[open + 2..].chars().take_while(|c| *c != '"').collect();
                    if !english.contains(&id) {
                        missing.push(format!("{}: {id}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "no such message: {missing:#?}");
    }

    fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(files_under(&path));
            } else {
                files.push(path);
            }
        }
        files
    }
}
