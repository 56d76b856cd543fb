//! The box office's two searches, as rules: what a query means, the page cursor, and when a
//! patron matches (prefix match on name words and email, one typo allowed in the last word).
//!
//! Case: letters A–Z match either case; every other character matches as typed. That is exactly
//! what both databases can fold the same way (SQLite's `lower()` folds ASCII only, as
//! PostgreSQL's `lower()` does under the "C" collation), so a search answers the same on both
//! backends.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::NaiveDateTime;

use super::ids::{PerformanceId, TicketId};
use super::{Invalid, TicketStatus};

/// A page of tickets holds this many unless the caller asks for another number.
pub const DEFAULT_PAGE: u32 = 50;
/// No page holds more tickets than this, however many the caller asks for.
pub const MAX_PAGE: u32 = 100;
/// A patron search answers at most this many patrons.
pub const MAX_PATRONS: usize = 20;
/// A patron search needs at least this many characters (after trimming).
pub const MIN_PATRON_QUERY: usize = 2;
/// A query longer than this is refused.
pub const MAX_QUERY: usize = 200;
/// The last word of a patron query tolerates one typo from this length on; shorter words would
/// match almost anything.
pub const TYPO_FROM: usize = 4;
/// The first characters of the last word that must be typed right (they pick the candidates).
pub const EXACT_HEAD: usize = 3;
/// Each index range a patron search reads stops after this many tickets (in the index's order:
/// key, name, email, id), a bound on the work a very short query can cause.
pub const PER_RANGE: i64 = 500;

/// ASCII case folding, the one both databases do alike.
pub fn fold(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// Where the next page starts: after this ticket. Opaque to clients (base64url of the id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub TicketId);

impl Cursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("t{}", self.0 .0))
    }

    pub fn parse(raw: &str) -> Result<Cursor, Invalid> {
        let bad = || Invalid::new("cursor", "is not a cursor this search gave");
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| bad())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
        let digits = text.strip_prefix('t').ok_or_else(bad)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let id: i64 = digits.parse().map_err(|_| bad())?;
        Ok(Cursor(TicketId(id)))
    }
}

/// A page size: 1 to [`MAX_PAGE`], [`DEFAULT_PAGE`] when not given.
pub fn page_size(limit: Option<i64>) -> Result<u32, Invalid> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=i64::from(MAX_PAGE)).contains(&n) => Ok(n as u32),
        Some(_) => Err(Invalid::new(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        )),
    }
}

/// A status filter: one of the ticket statuses, or none.
pub fn status_filter(status: Option<&str>) -> Result<Option<TicketStatus>, Invalid> {
    let Some(raw) = status.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    TicketStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .map(Some)
        .ok_or_else(|| {
            Invalid::new(
                "status",
                "must be one of valid, exchanged, transferred, canceled",
            )
        })
}

/// The words of a query, folded; `field` names the parameter in errors.
fn words(field: &'static str, q: &str) -> Result<Vec<String>, Invalid> {
    if q.chars().count() > MAX_QUERY {
        return Err(Invalid::new(
            field,
            format!("is longer than {MAX_QUERY} characters"),
        ));
    }
    if q.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(q.split_whitespace().map(fold).collect())
}

/// One word of a ticket search: it matches a ticket whose holder has a name word starting with
/// it, whose email or seat starts with it, or (all digits) whose id it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketTerm {
    /// Folded.
    pub text: String,
    pub ticket_id: Option<TicketId>,
}

/// A search of one performance's tickets: every term must match; by ticket id, a page at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSearch {
    pub performance_id: PerformanceId,
    pub terms: Vec<TicketTerm>,
    pub status: Option<TicketStatus>,
    pub after: Option<Cursor>,
    pub limit: u32,
}

impl TicketSearch {
    /// Parses the query string's parts; `q` may be empty (every ticket).
    pub fn parse(
        performance_id: PerformanceId,
        q: Option<&str>,
        status: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> Result<TicketSearch, Invalid> {
        let terms = words("q", q.unwrap_or(""))?
            .into_iter()
            .map(|text| TicketTerm {
                ticket_id: ticket_id_in(&text),
                text,
            })
            .collect();
        Ok(TicketSearch {
            performance_id,
            terms,
            status: status_filter(status)?,
            after: cursor
                .filter(|c| !c.trim().is_empty())
                .map(Cursor::parse)
                .transpose()?,
            limit: page_size(limit)?,
        })
    }
}

/// A word that is a ticket id (digits, optionally after `#`).
fn ticket_id_in(word: &str) -> Option<TicketId> {
    let digits = word.strip_prefix('#').unwrap_or(word);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(TicketId)
}

/// A ticket as the box office's listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundTicket {
    pub id: TicketId,
    pub performance_id: PerformanceId,
    pub holder_name: String,
    pub holder_email: String,
    pub seat: Option<String>,
    pub section: Option<String>,
    pub status: TicketStatus,
    pub generation: i32,
    pub price_minor: i64,
    pub currency: String,
    pub issued_at: NaiveDateTime,
    pub admitted_at: Option<NaiveDateTime>,
}

/// One page of a ticket search, and where the next one starts (none after the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketPage {
    pub tickets: Vec<FoundTicket>,
    pub next: Option<Cursor>,
}

impl TicketPage {
    /// Cuts `rows` (fetched as `limit + 1`, in id order) into a page and its cursor.
    pub fn from_rows(mut rows: Vec<FoundTicket>, limit: u32) -> TicketPage {
        let limit = limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(|t| Cursor(t.id))
        } else {
            None
        };
        TicketPage {
            tickets: rows,
            next,
        }
    }
}

/// The three name keys both the index and the rule read, each folded: the whole name (its
/// first word leads), what follows the first space (the second word leads), and what follows the
/// last space (the last word). A name without a space gives the whole name three times. The
/// databases index the same three expressions (migration `search_indexes`).
pub fn name_keys(name: &str) -> [String; 3] {
    let folded = fold(name);
    let second = folded
        .split_once(' ')
        .map_or(folded.as_str(), |(_, rest)| rest)
        .to_string();
    let last = folded
        .rsplit_once(' ')
        .map_or(folded.as_str(), |(_, rest)| rest)
        .to_string();
    [folded, second, last]
}

/// How well a patron matched: every word as typed, or with one typo in the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Closeness {
    Exact,
    OneTypo,
}

/// A patron search: prefix match on the words of the holder's name (first, second and last) and
/// on the email; the last word may carry one typo (an insertion, deletion, substitution or swap
/// of two neighbours) after its first [`EXACT_HEAD`] characters, from [`TYPO_FROM`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronQuery {
    words: Vec<String>,
}

impl PatronQuery {
    pub fn parse(q: Option<&str>) -> Result<PatronQuery, Invalid> {
        let q = q.unwrap_or("");
        let words = words("q", q)?;
        if words.iter().map(|w| w.chars().count()).sum::<usize>() < MIN_PATRON_QUERY {
            return Err(Invalid::new(
                "q",
                format!("needs at least {MIN_PATRON_QUERY} characters"),
            ));
        }
        Ok(PatronQuery { words })
    }

    /// The prefixes that pick the candidates from the indexes: the longest of the words before
    /// the last (typed in full) and the first [`EXACT_HEAD`] characters of the last word; and
    /// the last word in full when it is longer (its exact matches, however many share its
    /// head). Every ticket [`Self::matches`] accepts by name has a name key starting with the
    /// first.
    pub fn keys(&self) -> Vec<String> {
        let (last, before) = self.words.split_last().expect("at least one word");
        let head: String = last.chars().take(EXACT_HEAD).collect();
        let key = before
            .iter()
            .chain(std::iter::once(&head))
            .max_by_key(|w| w.chars().count())
            .cloned()
            .unwrap_or_else(|| head.clone());
        if key == head && last.len() > head.len() {
            vec![key, last.clone()]
        } else {
            vec![key]
        }
    }

    /// The email prefix searched: the query when it is one word.
    pub fn email_prefix(&self) -> Option<&str> {
        match self.words.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The ticket id searched: the query when it is one number.
    pub fn ticket_id(&self) -> Option<TicketId> {
        self.email_prefix().and_then(ticket_id_in)
    }

    /// Whether the holder of ticket `id` named `name` at `email` matches, and how closely.
    pub fn matches(&self, id: TicketId, name: &str, email: &str) -> Option<Closeness> {
        if let Some(prefix) = self.email_prefix() {
            if fold(email).starts_with(prefix) || self.ticket_id() == Some(id) {
                return Some(Closeness::Exact);
            }
        }
        let keys = name_keys(name);
        let (last, before) = self.words.split_last()?;
        if !before
            .iter()
            .all(|w| keys.iter().any(|k| k.starts_with(w.as_str())))
        {
            return None;
        }
        if keys.iter().any(|k| k.starts_with(last.as_str())) {
            return Some(Closeness::Exact);
        }
        let typo = keys.iter().any(|k| one_typo_from_prefix(last, k));
        typo.then_some(Closeness::OneTypo)
    }
}

/// Whether `word` (at least [`TYPO_FROM`] characters) is one edit away from some prefix of `key`
/// that shares its first [`EXACT_HEAD`] characters.
pub fn one_typo_from_prefix(word: &str, key: &str) -> bool {
    let word: Vec<char> = word.chars().collect();
    if word.len() < TYPO_FROM {
        return false;
    }
    let key: Vec<char> = key.chars().take(word.len() + 1).collect();
    if key.len() < EXACT_HEAD || word[..EXACT_HEAD] != key[..EXACT_HEAD] {
        return false;
    }
    // A prefix within one edit of the word is one character shorter, as long, or longer.
    (word.len() - 1..=word.len() + 1)
        .filter(|&n| n <= key.len())
        .any(|n| within_one_edit(&word, &key[..n]))
}

/// Optimal string alignment distance ≤ 1: equal, or one insertion, deletion, substitution or
/// transposition of two neighbours apart.
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let diffs: Vec<usize> = (0..short.len()).filter(|&i| short[i] != long[i]).collect();
            match diffs.as_slice() {
                [] | [_] => true,
                [i, j] => *j == i + 1 && short[*i] == long[*j] && short[*j] == long[*i],
                _ => false,
            }
        }
        1 => {
            let i = (0..short.len())
                .find(|&i| short[i] != long[i])
                .unwrap_or(short.len());
            short[i..] == long[i + 1..]
        }
        _ => false,
    }
}

/// The smallest string above every string starting with `prefix` (byte order, which is both
/// databases' order under SQLite's BINARY and PostgreSQL's "C" collation): the prefix with its
/// last character raised by one. `None` when there is no such string (the range is open).
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A patron the search found (one per email address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPatron {
    pub email: String,
    /// The name on their latest ticket.
    pub name: String,
    /// Every ticket they have held, whatever its state.
    pub tickets: i64,
    /// Their valid tickets.
    pub valid_tickets: i64,
    /// The next performance they hold a valid ticket for, if any.
    pub next_performance: Option<NextPerformance>,
    pub closeness: Closeness,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextPerformance {
    pub performance_id: PerformanceId,
    pub starts_at: NaiveDateTime,
}

/// One of a patron's tickets, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatronTicket {
    pub email: String,
    pub ticket_id: TicketId,
    pub holder_name: String,
    pub status: TicketStatus,
    pub performance_id: PerformanceId,
    pub starts_at: NaiveDateTime,
    pub performance_canceled: bool,
}

/// Summarises each patron from their tickets (in id order), keeping `ranked`'s order.
pub fn summarise(
    ranked: &[(String, Closeness)],
    tickets: &[PatronTicket],
    now: NaiveDateTime,
) -> Vec<FoundPatron> {
    ranked
        .iter()
        .filter_map(|(email, closeness)| {
            let theirs: Vec<&PatronTicket> = tickets.iter().filter(|t| &t.email == email).collect();
            let latest = theirs.iter().max_by_key(|t| t.ticket_id)?;
            let valid: Vec<&&PatronTicket> = theirs
                .iter()
                .filter(|t| t.status == TicketStatus::Valid)
                .collect();
            let next_performance = valid
                .iter()
                .filter(|t| !t.performance_canceled && t.starts_at >= now)
                .min_by_key(|t| (t.starts_at, t.performance_id))
                .map(|t| NextPerformance {
                    performance_id: t.performance_id,
                    starts_at: t.starts_at,
                });
            Some(FoundPatron {
                email: email.clone(),
                name: latest.holder_name.clone(),
                tickets: theirs.len() as i64,
                valid_tickets: valid.len() as i64,
                next_performance,
                closeness: *closeness,
            })
        })
        .collect()
}

/// Ranks matched tickets into patrons: one per email (its best match), exact matches first,
/// then by folded name and email; at most [`MAX_PATRONS`].
pub fn rank(matches: Vec<(String, String, Closeness)>) -> Vec<(String, Closeness)> {
    let mut best: std::collections::HashMap<String, (Closeness, String)> =
        std::collections::HashMap::new();
    for (email, name, closeness) in matches {
        let entry = best
            .entry(email)
            .or_insert_with(|| (closeness, fold(&name)));
        if closeness < entry.0 {
            *entry = (closeness, fold(&name));
        }
    }
    let mut ranked: Vec<(String, Closeness, String)> = best
        .into_iter()
        .map(|(email, (closeness, name))| (email, closeness, name))
        .collect();
    ranked.sort_by(|a, b| (a.1, &a.2, &a.0).cmp(&(b.1, &b.2, &b.0)));
    ranked.truncate(MAX_PATRONS);
    ranked.into_iter().map(|(e, c, _)| (e, c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> PatronQuery {
        PatronQuery::parse(Some(text)).unwrap()
    }

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let c = Cursor(TicketId(12345));
        assert_eq!(Cursor::parse(&c.encode()), Ok(c));
        for bad in [
            "",
            "!!",
            "MTIz",
            "dA",
            "dC0x",
            "dDEyMzQ1Njc4OTAxMjM0NTY3ODkw",
        ] {
            assert_eq!(
                Cursor::parse(bad).map_err(|e| e.field),
                Err("cursor"),
                "{bad}"
            );
        }
    }

    #[test]
    fn page_sizes_are_one_to_a_hundred_fifty_by_default() {
        assert_eq!(page_size(None), Ok(50));
        assert_eq!(page_size(Some(1)), Ok(1));
        assert_eq!(page_size(Some(100)), Ok(100));
        for bad in [0, -1, 101, i64::MAX] {
            assert_eq!(page_size(Some(bad)).map_err(|e| e.field), Err("limit"));
        }
    }

    #[test]
    fn statuses_are_the_ticket_statuses() {
        assert_eq!(status_filter(None), Ok(None));
        assert_eq!(status_filter(Some("")), Ok(None));
        assert_eq!(
            status_filter(Some("canceled")),
            Ok(Some(TicketStatus::Canceled))
        );
        assert!(status_filter(Some("Valid")).is_err());
        assert!(status_filter(Some("lost")).is_err());
    }

    #[test]
    fn ticket_terms_are_folded_words_and_numbers_are_ids() {
        let s =
            TicketSearch::parse(PerformanceId(1), Some(" Ada  #42 "), None, None, None).unwrap();
        assert_eq!(
            s.terms,
            vec![
                TicketTerm {
                    text: "ada".into(),
                    ticket_id: None
                },
                TicketTerm {
                    text: "#42".into(),
                    ticket_id: Some(TicketId(42))
                },
            ]
        );
        let long = "x".repeat(MAX_QUERY + 1);
        assert!(TicketSearch::parse(PerformanceId(1), Some(&long), None, None, None).is_err());
    }

    #[test]
    fn name_keys_lead_with_the_first_second_and_last_word() {
        assert_eq!(
            name_keys("Mary Ann SMITH"),
            [
                "mary ann smith".to_string(),
                "ann smith".into(),
                "smith".into()
            ]
        );
        assert_eq!(
            name_keys("Cher"),
            ["cher".to_string(), "cher".into(), "cher".into()]
        );
    }

    #[test]
    fn patron_queries_need_two_characters() {
        assert!(PatronQuery::parse(None).is_err());
        assert!(PatronQuery::parse(Some(" a ")).is_err());
        assert!(PatronQuery::parse(Some("ad")).is_ok());
    }

    #[test]
    fn patrons_match_by_name_word_prefix_and_email_prefix() {
        let id = TicketId(17);
        assert_eq!(
            q("love").matches(id, "Ada Lovelace", "x@y.org"),
            Some(Closeness::Exact)
        );
        assert_eq!(
            q("ada lov").matches(id, "Ada Lovelace", "x@y.org"),
            Some(Closeness::Exact)
        );
        assert_eq!(
            q("ADA.L").matches(id, "Someone", "Ada.Lovelace@example.org"),
            Some(Closeness::Exact)
        );
        assert_eq!(
            q("17").matches(id, "Someone", "x@y.org"),
            Some(Closeness::Exact)
        );
        assert_eq!(q("grace").matches(id, "Ada Lovelace", "x@y.org"), None);
        assert_eq!(q("ada hop").matches(id, "Ada Lovelace", "x@y.org"), None);
    }

    #[test]
    fn the_last_word_may_carry_one_typo_after_its_head() {
        let id = TicketId(1);
        let m = |query: &str, name: &str| q(query).matches(id, name, "x@y.org");
        assert_eq!(m("lovelase", "Ada Lovelace"), Some(Closeness::OneTypo)); // substitution
        assert_eq!(m("lovleace", "Ada Lovelace"), Some(Closeness::OneTypo)); // swap
        assert_eq!(m("lovellace", "Ada Lovelace"), Some(Closeness::OneTypo)); // insertion
        assert_eq!(m("lovlace", "Ada Lovelace"), Some(Closeness::OneTypo)); // deletion
        assert_eq!(m("smiht", "John Smith"), Some(Closeness::OneTypo)); // a swap at the end
        assert_eq!(m("smitt", "John Smithers"), Some(Closeness::OneTypo)); // a typo'd prefix
        assert_eq!(m("ada lovelase", "Ada Lovelace"), Some(Closeness::OneTypo));
        assert_eq!(m("lvoelace", "Ada Lovelace"), None); // in the head
        assert_eq!(m("loeelace", "Ada Lovelace"), None); // in the head
        assert_eq!(m("lovelsse", "Ada Lovelace"), None); // two typos
        assert_eq!(m("smy", "John Smith"), None); // too short for a typo
        assert_eq!(m("adx lovelace", "Ada Lovelace"), None); // only the last word
    }

    #[test]
    fn the_keys_are_the_longest_exact_part_and_the_last_word() {
        assert_eq!(q("lovelase").keys(), vec!["lov", "lovelase"]);
        assert_eq!(q("ada lovelase").keys(), vec!["lov", "lovelase"]); // a tie: the head
        assert_eq!(q("grace hop").keys(), vec!["grace"]);
        assert_eq!(q("a lovelase").keys(), vec!["lov", "lovelase"]);
        assert_eq!(q("ma").keys(), vec!["ma"]);
        assert_eq!(q("ada l").keys(), vec!["ada"]);
    }

    #[test]
    fn within_one_edit_counts_swaps_as_one() {
        let e = |a: &str, b: &str| {
            within_one_edit(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert!(e("abcd", "abcd"));
        assert!(e("abcd", "abxd"));
        assert!(e("abcd", "abdc"));
        assert!(e("abcd", "abd"));
        assert!(e("abd", "abcd"));
        assert!(!e("abcd", "badc"));
        assert!(!e("abcd", "ab"));
        assert!(!e("abcd", "axcy"));
    }

    #[test]
    fn prefix_ends_bound_every_string_with_the_prefix() {
        assert_eq!(prefix_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(prefix_end(""), None);
        let end = prefix_end("smi").unwrap();
        assert!("smith" < end.as_str() && "smj" >= end.as_str());
    }

    #[test]
    fn patrons_are_ranked_exact_first_one_per_email_and_capped() {
        let mut matches = vec![
            ("b@x".to_string(), "Bea".to_string(), Closeness::OneTypo),
            ("b@x".to_string(), "Bea".to_string(), Closeness::Exact),
            ("a@x".to_string(), "Zed".to_string(), Closeness::OneTypo),
            ("c@x".to_string(), "Abe".to_string(), Closeness::Exact),
        ];
        assert_eq!(
            rank(matches.clone()),
            vec![
                ("c@x".to_string(), Closeness::Exact),
                ("b@x".to_string(), Closeness::Exact),
                ("a@x".to_string(), Closeness::OneTypo),
            ]
        );
        matches.extend((0..30).map(|i| (format!("{i}@x"), "N".into(), Closeness::Exact)));
        assert_eq!(rank(matches).len(), MAX_PATRONS);
    }

    #[test]
    fn a_patron_summary_counts_tickets_and_finds_the_next_show() {
        let at = |h: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        let t = |id: i64, status, perf: i64, h: u32, canceled: bool| PatronTicket {
            email: "a@x".into(),
            ticket_id: TicketId(id),
            holder_name: format!("Name {id}"),
            status,
            performance_id: PerformanceId(perf),
            starts_at: at(h),
            performance_canceled: canceled,
        };
        let tickets = vec![
            t(1, TicketStatus::Valid, 1, 8, false),      // past
            t(2, TicketStatus::Valid, 2, 20, false),     // next
            t(3, TicketStatus::Canceled, 3, 12, false),  // not valid
            t(4, TicketStatus::Valid, 4, 11, true),      // performance canceled
            t(5, TicketStatus::Exchanged, 5, 22, false), // latest name
        ];
        let found = summarise(&[("a@x".into(), Closeness::Exact)], &tickets, at(10));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "Name 5");
        assert_eq!(found[0].tickets, 5);
        assert_eq!(found[0].valid_tickets, 3);
        assert_eq!(
            found[0].next_performance,
            Some(NextPerformance {
                performance_id: PerformanceId(2),
                starts_at: at(20)
            })
        );
    }
}
