//! The lobby message: an event's welcome, emailed to each holder when they are admitted. It is a
//! template with a few named placeholders ("Welcome {holder_name} — the bar is on the left"),
//! checked when the event is created so that every admission can fill it in.

use super::event::Event;
use super::ticket::Ticket;
use super::Invalid;

/// Longest message accepted (characters).
const MAX_CHARS: usize = 2000;

/// The placeholders a message may use, each filled from the admitted ticket.
pub const PLACEHOLDERS: [&str; 6] = [
    "holder_name",
    "event_name",
    "venue",
    "seat",
    "section",
    "gate",
];

/// A message whose placeholders are all known and whose braces all match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LobbyMessage(String);

/// What a message is filled in with for one admitted ticket; a missing seat, section or gate
/// becomes empty text.
#[derive(Debug, Clone, Copy, Default)]
pub struct LobbyFacts<'a> {
    pub holder_name: &'a str,
    pub event_name: &'a str,
    pub venue: &'a str,
    pub seat: Option<&'a str>,
    pub section: Option<&'a str>,
    pub gate: Option<&'a str>,
}

impl<'a> LobbyFacts<'a> {
    /// The facts of one holder's ticket at an event (the gate, once admitted).
    pub fn of(ticket: &'a Ticket, event: &'a Event) -> LobbyFacts<'a> {
        LobbyFacts {
            holder_name: &ticket.holder_name,
            event_name: &event.name,
            venue: &event.venue,
            seat: ticket.seat.as_deref(),
            section: ticket.section.as_deref(),
            gate: ticket.admission.as_ref().map(|a| a.gate.as_str()),
        }
    }
    fn value(&self, placeholder: &str) -> Option<&str> {
        Some(match placeholder {
            "holder_name" => self.holder_name,
            "event_name" => self.event_name,
            "venue" => self.venue,
            "seat" => self.seat.unwrap_or_default(),
            "section" => self.section.unwrap_or_default(),
            "gate" => self.gate.unwrap_or_default(),
            _ => return None,
        })
    }
}

impl LobbyMessage {
    pub fn parse(field: &'static str, raw: &str) -> Result<LobbyMessage, Invalid> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(Invalid::new(
                field,
                "must not be empty (leave it out for none)",
            ));
        }
        if text.chars().count() > MAX_CHARS {
            return Err(Invalid::new(
                field,
                format!("must be at most {MAX_CHARS} characters"),
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(Invalid::new(field, "must not contain control characters"));
        }
        fill(text, &LobbyFacts::default()).map_err(|reason| Invalid::new(field, reason))?;
        Ok(LobbyMessage(text.to_string()))
    }

    /// A message as stored (it was parsed when the event was created).
    pub fn from_stored(text: String) -> LobbyMessage {
        LobbyMessage(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The message for one holder. A stored message that no longer parses (it cannot, unless
    /// edited by hand) is sent as written rather than not at all.
    pub fn render(&self, facts: &LobbyFacts<'_>) -> String {
        fill(&self.0, facts).unwrap_or_else(|_| self.0.clone())
    }
}

/// Replaces each `{placeholder}`; `{{` and `}}` stand for literal braces.
fn fill(template: &str, facts: &LobbyFacts<'_>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err("has a '}' with no '{' (write '}}' for a brace)".into());
        }
        let end = tail
            .find('}')
            .ok_or("has a '{' with no '}' (write '{{' for a brace)")?;
        let name = &tail[1..end];
        let value = facts.value(name).ok_or_else(|| {
            format!(
                "has an unknown placeholder {{{name}}}; known ones: {}",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            )
        })?;
        out.push_str(value);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_in() {
        let message =
            LobbyMessage::parse("m", "Welcome {holder_name} to {event_name}! Seat {seat}.")
                .unwrap();
        let facts = LobbyFacts {
            holder_name: "Ada",
            event_name: "Hamlet",
            ..LobbyFacts::default()
        };
        assert_eq!(message.render(&facts), "Welcome Ada to Hamlet! Seat .");
        let braces = LobbyMessage::parse("m", "{{not a placeholder}} {gate}").unwrap();
        let at_gate = LobbyFacts {
            gate: Some("north"),
            ..facts
        };
        assert_eq!(braces.render(&at_gate), "{not a placeholder} north");
    }

    #[test]
    fn bad_templates_are_refused_with_a_reason() {
        for bad in ["", "  ", "Hi {name}", "Hi {holder_name", "Hi }", "x\u{7}"] {
            assert!(LobbyMessage::parse("m", bad).is_err(), "{bad:?}");
        }
        let unknown = LobbyMessage::parse("m", "Hi {name}").unwrap_err();
        assert!(unknown.reason.contains("{holder_name}"), "{unknown}");
        assert!(LobbyMessage::parse("m", &"x".repeat(2001)).is_err());
        assert!(LobbyMessage::parse("m", "Line one\nline two").is_ok());
    }
}
