//! The compact ticket code (issue 18): the same claims as the ticket JWT, in a fixed binary
//! layout signed with the same Ed25519 key, written in Base45 (RFC 9285) so that a QR code
//! holds it in alphanumeric mode: version 5 (37×37 modules) at error-correction level M,
//! where the JWT needs version 11 (61×61).
//!
//! The text is `E` (the format) followed by Base45 of
//!
//! ```text
//! key hint   2 bytes   the first two bytes of SHA-256 of the signing public key
//! ticket     varint    ticket id (unsigned LEB128)
//! perf.      varint    performance id
//! gen/paper  varint    generation × 2 + 1 when it is a paper code
//! nbf        4 bytes   not before, seconds since the Unix epoch, big-endian
//! window     varint    exp − nbf, seconds
//! signature  64 bytes  Ed25519 over `E` followed by every byte above
//! ```
//!
//! The key hint stands in for the JWT's `kid`: it names a key among the few a ring holds
//! (two keys sharing a hint are both tried). No trailing space can end the text: Base45's last
//! character is always a digit or a letter up to `W`.
//!
//! Nothing here checks a signature: [`crate::tokens::KeyRing`] signs and verifies.

use sha2::{Digest, Sha256};

use super::TicketClaims;
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::ScanOutcome;

/// The first character of every compact code, and the first byte of what it signs. A JWT
/// starts with `e` (its header is JSON), a rotating code with `RC1:`.
pub const PREFIX: u8 = b'E';
pub const SIGNATURE_LEN: usize = 64;
pub const HINT_LEN: usize = 2;

/// Which key signed a compact code (see the module's table).
pub type KeyHint = [u8; HINT_LEN];

/// The fields' bytes at their shortest (every varint one byte) and longest.
const MIN_FIELDS: usize = HINT_LEN + 1 + 1 + 1 + 4 + 1;
const MAX_FIELDS: usize = HINT_LEN + 10 + 10 + 5 + 4 + 5;
const MIN_BYTES: usize = MIN_FIELDS + SIGNATURE_LEN;
const MAX_BYTES: usize = MAX_FIELDS + SIGNATURE_LEN;

/// The key hint of an Ed25519 public key (its 32 raw bytes).
pub fn key_hint(public_key: &[u8]) -> KeyHint {
    let digest = Sha256::digest(public_key);
    [digest[0], digest[1]]
}

/// Whether `text` is meant as a compact code (its format character), rather than a JWT.
pub fn is_compact(text: &str) -> bool {
    text.as_bytes().first() == Some(&PREFIX)
}

/// What a compact code of `claims` signs, signed with the key of `hint`: `None` when the claims
/// do not fit the layout (a negative id or generation, a window that does not fit in 32 bits),
/// which a ticket never has; such a ticket is signed as a JWT.
pub fn signing_input(hint: KeyHint, claims: &TicketClaims) -> Option<Vec<u8>> {
    let ticket = u64::try_from(claims.ticket_id.0).ok()?;
    let performance = u64::try_from(claims.performance_id.0).ok()?;
    let generation = u64::try_from(claims.generation).ok()?;
    let nbf = u32::try_from(claims.nbf).ok()?;
    let window = u32::try_from(claims.exp.checked_sub(claims.nbf)?).ok()?;
    let mut out = Vec::with_capacity(1 + MAX_FIELDS);
    out.push(PREFIX);
    out.extend_from_slice(&hint);
    put_varint(&mut out, ticket);
    put_varint(&mut out, performance);
    put_varint(&mut out, generation << 1 | u64::from(claims.paper));
    out.extend_from_slice(&nbf.to_be_bytes());
    put_varint(&mut out, u64::from(window));
    Some(out)
}

/// The code's text: the signing input (from [`signing_input`]) with its signature.
pub fn assemble(signing_input: &[u8], signature: &[u8; SIGNATURE_LEN]) -> String {
    let mut bytes = Vec::with_capacity(signing_input.len() - 1 + SIGNATURE_LEN);
    bytes.extend_from_slice(&signing_input[1..]);
    bytes.extend_from_slice(signature);
    let mut text = String::with_capacity(1 + bytes.len() / 2 * 3 + 2);
    text.push(char::from(PREFIX));
    text.push_str(&base45::encode(&bytes));
    text
}

/// A compact code read from its text, its signature not checked yet. Held on the stack: the
/// door reads one per scan.
pub struct Decoded {
    /// `PREFIX`, the fields, the signature.
    bytes: [u8; 1 + MAX_BYTES],
    len: usize,
}

impl Decoded {
    /// Reads a compact code's text. `Malformed` when it is not one at all (another format,
    /// a length no code has, a character outside Base45's alphabet); `InvalidSignature` when
    /// it has a code's shape but not a code's content (a character changed into one that
    /// Base45 cannot decode there): a tampered code.
    pub fn parse(text: &str) -> Result<Decoded, ScanOutcome> {
        let body = text
            .as_bytes()
            .strip_prefix(&[PREFIX])
            .ok_or(ScanOutcome::Malformed)?;
        let shaped = (MIN_BYTES / 2 * 3..=MAX_BYTES / 2 * 3 + 2).contains(&body.len())
            && body.len() % 3 != 1
            && body.iter().all(|&c| base45::alphabet::decode(c).is_some());
        if !shaped {
            return Err(ScanOutcome::Malformed);
        }
        // RFC 9285 refuses a final pair above 255, which the crate would wrap into a byte.
        let last_pair_fits = match body.len() % 3 {
            2 => {
                let value = |c| u32::from(base45::alphabet::decode(c).unwrap_or(0));
                value(body[body.len() - 2]) + 45 * value(body[body.len() - 1]) <= 255
            }
            _ => true,
        };
        if !last_pair_fits {
            return Err(ScanOutcome::InvalidSignature);
        }
        let decoded = base45::decode(body).map_err(|_| ScanOutcome::InvalidSignature)?;
        if !(MIN_BYTES..=MAX_BYTES).contains(&decoded.len()) {
            return Err(ScanOutcome::Malformed);
        }
        let mut bytes = [0u8; 1 + MAX_BYTES];
        bytes[0] = PREFIX;
        bytes[1..=decoded.len()].copy_from_slice(&decoded);
        Ok(Decoded {
            bytes,
            len: 1 + decoded.len(),
        })
    }

    /// The hint of the key that says it signed.
    pub fn hint(&self) -> KeyHint {
        [self.bytes[1], self.bytes[2]]
    }

    /// What the signature signs.
    pub fn signing_input(&self) -> &[u8] {
        &self.bytes[..self.len - SIGNATURE_LEN]
    }

    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        self.bytes[self.len - SIGNATURE_LEN..self.len]
            .try_into()
            .expect("SIGNATURE_LEN bytes")
    }

    /// The claims the code states. Only to be believed once the signature verified; fields
    /// that do not read exactly (which no signed code has) are `Malformed`.
    pub fn claims(&self) -> Result<TicketClaims, ScanOutcome> {
        let mut fields = Reader(&self.signing_input()[1 + HINT_LEN..]);
        let ticket = fields.varint_i64()?;
        let performance = fields.varint_i64()?;
        let generation_and_paper = fields.varint()?;
        let nbf = fields.u32()?;
        let window = fields.varint()?;
        if !fields.0.is_empty() || window > u64::from(u32::MAX) {
            return Err(ScanOutcome::Malformed);
        }
        Ok(TicketClaims {
            ticket_id: TicketId(ticket),
            performance_id: PerformanceId(performance),
            generation: i32::try_from(generation_and_paper >> 1)
                .map_err(|_| ScanOutcome::Malformed)?,
            nbf: i64::from(nbf),
            exp: i64::from(nbf) + window as i64,
            paper: generation_and_paper & 1 == 1,
        })
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    /// Unsigned LEB128, at most 10 bytes, in its shortest form only.
    fn varint(&mut self) -> Result<u64, ScanOutcome> {
        let mut value = 0u64;
        for (i, &byte) in self.0.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if i > 0 && byte == 0 {
                    return Err(ScanOutcome::Malformed);
                }
                self.0 = &self.0[i + 1..];
                return Ok(value);
            }
        }
        Err(ScanOutcome::Malformed)
    }

    fn varint_i64(&mut self) -> Result<i64, ScanOutcome> {
        i64::try_from(self.varint()?).map_err(|_| ScanOutcome::Malformed)
    }

    fn u32(&mut self) -> Result<u32, ScanOutcome> {
        let (head, rest) = self
            .0
            .split_first_chunk::<4>()
            .ok_or(ScanOutcome::Malformed)?;
        self.0 = rest;
        Ok(u32::from_be_bytes(*head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TicketClaims {
        TicketClaims {
            ticket_id: TicketId(1_234_567),
            performance_id: PerformanceId(4_321),
            generation: 3,
            nbf: 1_796_000_000,
            exp: 1_796_000_000 + 13 * 3600,
            paper: false,
        }
    }

    fn code(claims: &TicketClaims) -> String {
        let input = signing_input([0xab, 0xcd], claims).unwrap();
        assemble(&input, &[7u8; SIGNATURE_LEN])
    }

    #[test]
    fn the_claims_read_back_as_they_were_written() {
        let extremes = TicketClaims {
            ticket_id: TicketId(i64::MAX),
            performance_id: PerformanceId(0),
            generation: i32::MAX,
            nbf: 0,
            exp: i64::from(u32::MAX),
            paper: true,
        };
        for claims in [
            claims(),
            TicketClaims {
                paper: true,
                ..claims()
            },
            extremes,
        ] {
            let text = code(&claims);
            let decoded = Decoded::parse(&text).unwrap();
            assert_eq!(decoded.claims(), Ok(claims), "{text}");
            assert_eq!(decoded.hint(), [0xab, 0xcd]);
            assert_eq!(decoded.signature(), &[7u8; SIGNATURE_LEN]);
            assert_eq!(
                decoded.signing_input(),
                signing_input([0xab, 0xcd], &claims).unwrap()
            );
        }
    }

    #[test]
    fn a_production_sized_code_is_at_most_121_characters() {
        // A ticket id in the millions, a performance in the thousands, a 13-hour window: the
        // longest text that still fits a version-5 QR code at level M is 122 characters.
        let text = code(&claims());
        assert!(text.len() <= 121, "{} characters: {text}", text.len());
        assert!(text.starts_with('E'));
        assert!(!text.ends_with(' '));
    }

    #[test]
    fn claims_the_layout_cannot_hold_are_not_compact() {
        for claims in [
            TicketClaims {
                ticket_id: TicketId(-1),
                ..claims()
            },
            TicketClaims {
                generation: -1,
                ..claims()
            },
            TicketClaims {
                nbf: -1,
                ..claims()
            },
            TicketClaims {
                exp: claims().nbf - 1,
                ..claims()
            },
            TicketClaims {
                exp: claims().nbf + (1 << 33),
                ..claims()
            },
        ] {
            assert_eq!(signing_input([0, 0], &claims), None, "{claims:?}");
        }
    }

    #[test]
    fn a_wrong_length_or_alphabet_is_malformed() {
        let text = code(&claims());
        let malformed = [
            String::new(),
            "E".into(),
            text[1..].to_string(),           // no format character
            format!("F{}", &text[1..]),      // another format
            text[..text.len() - 1].into(),   // a length Base45 never has
            text[..40].into(),               // too short
            format!("{text}{}", &text[1..]), // too long
            text.to_lowercase(),             // outside the alphabet
            format!("{}#", &text[..text.len() - 1]),
        ];
        for bad in malformed {
            assert!(
                matches!(Decoded::parse(&bad), Err(ScanOutcome::Malformed)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn fields_that_do_not_read_exactly_are_malformed() {
        // Shorter by one field byte: the reader runs out (the signature decides first at the
        // door; this is what is left should a signed code ever be cut).
        let mut input = signing_input([1, 2], &claims()).unwrap();
        input.pop();
        let decoded = Decoded::parse(&assemble(&input, &[0; SIGNATURE_LEN])).unwrap();
        assert_eq!(decoded.claims(), Err(ScanOutcome::Malformed));
        // A varint padded with a zero byte.
        let one = TicketClaims {
            ticket_id: TicketId(1),
            ..claims()
        };
        let mut padded = vec![PREFIX, 1, 2, 0x81, 0x00];
        padded.extend_from_slice(&signing_input([1, 2], &one).unwrap()[4..]);
        let decoded = Decoded::parse(&assemble(&padded, &[0; SIGNATURE_LEN])).unwrap();
        assert_eq!(decoded.claims(), Err(ScanOutcome::Malformed));
    }
}
