//! Rotating codes (issue 17): a ticket's code that changes every few seconds, so a screenshot
//! stops admitting within a step or two, and that a scanner still checks with no network.
//!
//! The code is TOTP (RFC 6238, HMAC-SHA1, the time-step counter from the Unix epoch) over a
//! per-ticket secret, in the form Google Wallet's `rotatingBarcode` uses: a `valuePattern` in
//! which `{totp_value_0}` is replaced by the TOTP value, `totpDetails.periodMillis`,
//! `algorithm: TOTP_SHA1` and `parameters[0] = {key: <secret as Base16>, valueLength}`. So the
//! ticket page, a wallet pass and the door all compute the same value for the same moment.
//!
//! The pattern names the performance, the ticket, its generation and the period, so the door
//! knows which secret to check the value against without reading anything; the secret itself
//! is derived from all four (see `tokens::CodeKey`), so none of them can be changed without the
//! value no longer matching. HMAC and SHA-1 come from RustCrypto's `hmac` and `sha1` (the
//! project already builds on RustCrypto for SHA-256 and XChaCha20): RFC 4226's truncation is a
//! few lines, which a whole TOTP crate would wrap in its own clock and URL handling we do not
//! want.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::ids::{PerformanceId, TicketId};
use super::Invalid;

/// Decimal digits of a TOTP value: 8 rather than the usual 6, since a code names its ticket in
/// plain text and only the digits stand between a guesser and the door.
pub const DIGITS: u32 = 8;

/// Bytes of a per-ticket secret: SHA-1's output size, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

/// What starts every rotating code (and tells it from a signed token, which starts `eyJ`).
pub const PREFIX: &str = "RC1:";

/// The default rotation period.
pub const DEFAULT_ROTATION_SECONDS: u32 = 15;

/// The shortest and longest rotation periods an event may have.
pub const ROTATION_SECONDS: std::ops::RangeInclusive<u32> = 5..=300;

/// The longest an event may hold its codes back before doors open: 30 days.
pub const MAX_REVEAL_HOURS: u32 = 720;

/// How an event's tickets show their code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barcode {
    /// The signed token, the same for the ticket's whole generation.
    Static,
    /// A TOTP code that changes every `period_seconds`; with `reveal_hours_before_doors`, the
    /// ticket page shows it only from that long before doors open.
    Rotating {
        period_seconds: u32,
        reveal_hours_before_doors: Option<u32>,
    },
}

impl Barcode {
    /// Checks the event's fields: `mode` is `static` or `rotating`; the period and the reveal
    /// only mean something for a rotating code.
    pub fn parse(
        mode: &str,
        rotation_seconds: Option<i64>,
        reveal_hours_before_doors: Option<i64>,
    ) -> Result<Barcode, Invalid> {
        match mode {
            "static" => {
                if reveal_hours_before_doors.is_some() {
                    return Err(Invalid::new(
                        "reveal_hours_before_doors",
                        "only a rotating barcode can be revealed later",
                    ));
                }
                // A period given with a static barcode is harmless (kept for a later switch),
                // but it must still be a sensible one.
                if let Some(seconds) = rotation_seconds {
                    parse_period(seconds)?;
                }
                Ok(Barcode::Static)
            }
            "rotating" => Ok(Barcode::Rotating {
                period_seconds: rotation_seconds
                    .map(parse_period)
                    .transpose()?
                    .unwrap_or(DEFAULT_ROTATION_SECONDS),
                reveal_hours_before_doors: reveal_hours_before_doors
                    .map(parse_reveal)
                    .transpose()?,
            }),
            other => Err(Invalid::new(
                "barcode",
                format!("{other:?} is neither \"static\" nor \"rotating\""),
            )),
        }
    }

    pub fn mode(&self) -> &'static str {
        match self {
            Barcode::Static => "static",
            Barcode::Rotating { .. } => "rotating",
        }
    }

    pub fn is_rotating(&self) -> bool {
        matches!(self, Barcode::Rotating { .. })
    }

    /// The rotation period (the default for a static barcode, which does not use it).
    pub fn period_seconds(&self) -> u32 {
        match self {
            Barcode::Static => DEFAULT_ROTATION_SECONDS,
            Barcode::Rotating { period_seconds, .. } => *period_seconds,
        }
    }

    pub fn reveal_hours_before_doors(&self) -> Option<u32> {
        match self {
            Barcode::Static => None,
            Barcode::Rotating {
                reveal_hours_before_doors,
                ..
            } => *reveal_hours_before_doors,
        }
    }

    /// When the rotating code of a performance whose doors open at `doors_open_at` appears:
    /// `None` when it is there from the start (or the barcode is static).
    pub fn revealed_at(&self, doors_open_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.reveal_hours_before_doors()
            .map(|hours| doors_open_at - Duration::hours(hours.into()))
    }
}

fn parse_period(seconds: i64) -> Result<u32, Invalid> {
    u32::try_from(seconds)
        .ok()
        .filter(|s| ROTATION_SECONDS.contains(s))
        .ok_or_else(|| {
            Invalid::new(
                "rotation_seconds",
                format!(
                    "must be between {} and {} seconds",
                    ROTATION_SECONDS.start(),
                    ROTATION_SECONDS.end()
                ),
            )
        })
}

fn parse_reveal(hours: i64) -> Result<u32, Invalid> {
    u32::try_from(hours)
        .ok()
        .filter(|h| *h <= MAX_REVEAL_HOURS)
        .ok_or_else(|| {
            Invalid::new(
                "reveal_hours_before_doors",
                format!("must be between 0 and {MAX_REVEAL_HOURS} hours"),
            )
        })
}

/// What a rotating code names, besides its TOTP value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeSubject {
    pub performance_id: PerformanceId,
    pub ticket_id: TicketId,
    pub generation: i32,
    pub period_seconds: u32,
}

impl CodeSubject {
    /// The barcode value with Google Wallet's placeholder where the TOTP value goes.
    pub fn value_pattern(&self) -> String {
        format!(
            "{PREFIX}{}:{}:{}:{}:{{totp_value_0}}",
            self.performance_id.0, self.ticket_id.0, self.generation, self.period_seconds
        )
    }

    /// The bytes a per-ticket secret is derived from: every field, fixed width, after a label
    /// that keeps this derivation apart from any other use of the key.
    pub fn derivation_input(&self) -> [u8; 47] {
        let mut input = [0u8; 47];
        input[..23].copy_from_slice(b"encore rotating code v1");
        input[23..31].copy_from_slice(&self.performance_id.0.to_be_bytes());
        input[31..39].copy_from_slice(&self.ticket_id.0.to_be_bytes());
        input[39..43].copy_from_slice(&self.generation.to_be_bytes());
        input[43..47].copy_from_slice(&self.period_seconds.to_be_bytes());
        input
    }
}

/// A ticket's rotating barcode: everything a wallet pass or the ticket page needs to show the
/// code at any moment. `secret` is the holder's: it is never in an email, a static QR or a log.
#[derive(Clone, PartialEq, Eq)]
pub struct RotatingBarcode {
    pub subject: CodeSubject,
    /// Google Wallet's `valuePattern`: `RC1:<performance>:<ticket>:<generation>:<period>:{totp_value_0}`.
    pub value_pattern: String,
    /// The rotation period (Google Wallet's `periodMillis` is this in milliseconds).
    pub period: std::time::Duration,
    /// The TOTP key (Google Wallet's `parameters[0].key` is [`RotatingBarcode::secret_base16`]).
    pub secret: [u8; SECRET_BYTES],
    /// Google Wallet's `parameters[0].valueLength`.
    pub digits: u32,
}

impl std::fmt::Debug for RotatingBarcode {
    // The secret stays out of every log line a `{:?}` could make.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingBarcode")
            .field("value_pattern", &self.value_pattern)
            .field("period", &self.period)
            .field("digits", &self.digits)
            .finish_non_exhaustive()
    }
}

impl RotatingBarcode {
    pub fn new(subject: CodeSubject, secret: [u8; SECRET_BYTES]) -> Self {
        RotatingBarcode {
            value_pattern: subject.value_pattern(),
            period: std::time::Duration::from_secs(subject.period_seconds.into()),
            secret,
            digits: DIGITS,
            subject,
        }
    }

    /// The secret as Google Wallet's `TotpParameters.key` takes it: Base16 (lower-case hex).
    pub fn secret_base16(&self) -> String {
        hex::encode(self.secret)
    }

    /// Google Wallet's `totpDetails.periodMillis`.
    pub fn period_millis(&self) -> u64 {
        self.period.as_millis() as u64
    }

    /// The TOTP value at `unix_seconds` (`{totp_value_0}`).
    pub fn totp_at(&self, unix_seconds: i64) -> String {
        hotp(
            &self.secret,
            step(unix_seconds, self.subject.period_seconds),
            self.digits,
        )
    }

    /// The barcode value at `unix_seconds`: what the QR shows then, and what the door accepts
    /// then (give or take the door's leeway).
    pub fn value_at(&self, unix_seconds: i64) -> String {
        self.value_pattern
            .replace("{totp_value_0}", &self.totp_at(unix_seconds))
    }

    /// Whether `totp` is this code's value at `unix_seconds`, or within `leeway_steps` periods
    /// either side of it (for clocks that drift and a code shown just as it turned).
    pub fn accepts(&self, totp: &str, unix_seconds: i64, leeway_steps: u32) -> bool {
        totp_accepts(
            &self.secret,
            self.subject.period_seconds,
            self.digits,
            totp,
            unix_seconds,
            leeway_steps,
        )
    }
}

/// Whether `totp` is the TOTP value of `secret` at `unix_seconds`, or within `leeway_steps`
/// periods either side. The step of now is tried first and a match ends the search: a live code
/// is almost always of now, and where it matched tells nothing its holder does not know; a
/// wrong value costs every step. The keyed HMAC state is made once and cloned per step.
pub fn totp_accepts(
    secret: &[u8],
    period_seconds: u32,
    digits: u32,
    totp: &str,
    unix_seconds: i64,
    leeway_steps: u32,
) -> bool {
    let well_formed = totp.len() == digits as usize && totp.bytes().all(|b| b.is_ascii_digit());
    let Some(presented) = totp.parse::<u64>().ok().filter(|_| well_formed) else {
        return false;
    };
    let keyed = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    let now = step(unix_seconds, period_seconds) as i64;
    let leeway = i64::from(leeway_steps);
    std::iter::once(0)
        .chain((1..=leeway).flat_map(|d| [-d, d]))
        .map(|d| now + d)
        .filter(|counter| *counter >= 0)
        .any(|counter| hotp_value(keyed.clone(), counter as u64, digits) == presented)
}

/// RFC 6238's time step: whole periods since the Unix epoch (before it, step 0).
fn step(unix_seconds: i64, period_seconds: u32) -> u64 {
    (unix_seconds.max(0) as u64) / u64::from(period_seconds.max(1))
}

/// RFC 4226's HOTP with HMAC-SHA1 and dynamic truncation, `digits` decimal digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    let value = hotp_value(mac, counter, digits);
    format!("{value:0width$}", width = digits as usize)
}

/// HOTP's value as a number, from the HMAC state keyed with the secret.
fn hotp_value(mut mac: Hmac<Sha1>, counter: u64, digits: u32) -> u64 {
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    u64::from(binary) % 10u64.pow(digits)
}

/// A rotating code as scanned: what it names and its TOTP value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedCode {
    pub subject: CodeSubject,
    pub totp: String,
}

/// Reads a scanned rotating code: `None` if `text` is not one (the caller then tries it as a
/// signed token, or refuses it as malformed).
pub fn parse_code(text: &str) -> Option<ScannedCode> {
    let rest = text.strip_prefix(PREFIX)?;
    let mut parts = rest.split(':');
    let performance_id = parts.next()?.parse().ok()?;
    let ticket_id = parts.next()?.parse().ok()?;
    let generation = parts.next()?.parse().ok()?;
    let period_seconds: u32 = parts.next()?.parse().ok()?;
    let totp = parts.next()?;
    let well_formed = parts.next().is_none()
        && ROTATION_SECONDS.contains(&period_seconds)
        && totp.len() == DIGITS as usize
        && totp.bytes().all(|b| b.is_ascii_digit());
    well_formed.then(|| ScannedCode {
        subject: CodeSubject {
            performance_id: PerformanceId(performance_id),
            ticket_id: TicketId(ticket_id),
            generation,
            period_seconds,
        },
        totp: totp.to_string(),
    })
}

/// Which kind of code a scan presented, as the scan record keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeKind {
    /// The signed token of emails and downloads.
    Static,
    /// The rotating TOTP code of the ticket page or a wallet pass.
    Rotating,
    /// A signed token the box office printed on purpose: it admits at a rotating event's door.
    Paper,
}

impl CodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeKind::Static => "static",
            CodeKind::Rotating => "rotating",
            CodeKind::Paper => "paper",
        }
    }

    pub fn parse(stored: &str) -> Option<CodeKind> {
        [CodeKind::Static, CodeKind::Rotating, CodeKind::Paper]
            .into_iter()
            .find(|k| k.as_str() == stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 key, 8 digits, a 30-second step.
    #[test]
    fn totp_matches_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000_i64, "65353130"),
        ] {
            assert_eq!(hotp(secret, step(time, 30), 8), expected, "at {time}");
        }
    }

    fn barcode() -> RotatingBarcode {
        RotatingBarcode::new(
            CodeSubject {
                performance_id: PerformanceId(7),
                ticket_id: TicketId(42),
                generation: 2,
                period_seconds: 15,
            },
            *b"12345678901234567890",
        )
    }

    #[test]
    fn the_value_follows_the_google_wallet_pattern_and_parses_back() {
        let code = barcode();
        assert_eq!(code.value_pattern, "RC1:7:42:2:15:{totp_value_0}");
        assert_eq!(code.period_millis(), 15_000);
        assert_eq!(code.secret_base16(), hex::encode(b"12345678901234567890"));
        let value = code.value_at(1_800_000_000);
        let scanned = parse_code(&value).unwrap();
        assert_eq!(scanned.subject, code.subject);
        assert_eq!(scanned.totp, code.totp_at(1_800_000_000));
        assert!(!format!("{code:?}").contains(&code.secret_base16()));
    }

    #[test]
    fn a_code_is_accepted_within_the_leeway_only() {
        let code = barcode();
        let t = 1_800_000_000;
        let totp = code.totp_at(t);
        assert!(code.accepts(&totp, t, 0));
        assert!(code.accepts(&totp, t + 15, 1));
        assert!(code.accepts(&totp, t - 15, 1));
        assert!(!code.accepts(&totp, t + 15, 0));
        assert!(!code.accepts(&totp, t + 45, 1));
        assert!(!code.accepts("00000000x", t, 1));
        assert!(!code.accepts(&totp[1..], t, 1), "too short");
        // Two steps of leeway reach two steps either side, and no further.
        assert!(code.accepts(&totp, t + 30, 2));
        assert!(code.accepts(&totp, t - 30, 2));
        assert!(!code.accepts(&totp, t + 45, 2));
        // The search stops at a match, but answers as the whole window would.
        let secret = code.secret;
        for offset in -4..=4 {
            let at = t + offset * 15;
            let expected =
                (-1..=1_i64).any(|d| hotp(&secret, (step(at, 15) as i64 + d) as u64, 8) == totp);
            assert_eq!(code.accepts(&totp, at, 1), expected, "offset {offset}");
        }
    }

    #[test]
    fn only_well_formed_codes_parse() {
        for bad in [
            "eyJhbGciOiJFZERTQSJ9.e30.sig",
            "RC1:7:42:2:15:1234567",
            "RC1:7:42:2:15:123456789",
            "RC1:7:42:2:1:12345678",
            "RC1:7:42:2:15:1234567a",
            "RC1:7:42:2:15:12345678:9",
            "RC1:x:42:2:15:12345678",
        ] {
            assert_eq!(parse_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_barcode_fields_are_checked() {
        assert_eq!(Barcode::parse("static", None, None), Ok(Barcode::Static));
        assert_eq!(
            Barcode::parse("rotating", None, None),
            Ok(Barcode::Rotating {
                period_seconds: 15,
                reveal_hours_before_doors: None
            })
        );
        assert_eq!(
            Barcode::parse("rotating", Some(30), Some(2))
                .unwrap()
                .reveal_hours_before_doors(),
            Some(2)
        );
        assert_eq!(
            Barcode::parse("rotating", Some(1), None).unwrap_err().field,
            "rotation_seconds"
        );
        assert_eq!(
            Barcode::parse("static", None, Some(2)).unwrap_err().field,
            "reveal_hours_before_doors"
        );
        assert_eq!(
            Barcode::parse("spinning", None, None).unwrap_err().field,
            "barcode"
        );
    }
}
