use serde::Serialize;

use super::Invalid;

/// An ISO-4217-shaped currency code: three upper-case ASCII letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let bytes = raw.as_bytes();
        match bytes {
            [a, b, c] if bytes.iter().all(u8::is_ascii_uppercase) => Ok(Currency([*a, *b, *c])),
            _ => Err(Invalid::new(
                field,
                format!("{raw:?} is not a currency code like \"EUR\""),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("always ASCII")
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An amount in minor units (cents) of one currency. Never negative: a price or a credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// The largest amount accepted: a billion in major units is far beyond any ticket.
    pub const MAX_MINOR: i64 = 100_000_000_000;

    pub fn parse(minor: i64, currency: &str) -> Result<Self, Invalid> {
        if minor < 0 {
            return Err(Invalid::new("price_minor", "must not be negative"));
        }
        if minor > Self::MAX_MINOR {
            return Err(Invalid::new("price_minor", "is implausibly large"));
        }
        Ok(Money {
            minor,
            currency: Currency::parse("currency", currency)?,
        })
    }
}

/// An amount as patrons read it, in emails and on pages: "45.00 EUR", "-3.50 GBP". Takes the
/// stored parts, so a balance (which may be negative) formats too.
pub fn format_money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let minor = minor.abs();
    format!("{sign}{}.{:02} {currency}", minor / 100, minor % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_major_units_and_cents() {
        assert_eq!(format_money(4500, "EUR"), "45.00 EUR");
        assert_eq!(format_money(5, "EUR"), "0.05 EUR");
        assert_eq!(format_money(-350, "GBP"), "-3.50 GBP");
    }

    #[test]
    fn prices_are_non_negative_minor_units_of_a_currency() {
        assert_eq!(Money::parse(4500, "EUR").unwrap().minor, 4500);
        assert_eq!(Money::parse(0, "GBP").unwrap().currency.as_str(), "GBP");
        assert_eq!(Money::parse(-1, "EUR").unwrap_err().field, "price_minor");
        assert_eq!(Money::parse(1, "eur").unwrap_err().field, "currency");
        assert_eq!(Money::parse(1, "EURO").unwrap_err().field, "currency");
        assert!(Money::parse(Money::MAX_MINOR + 1, "EUR").is_err());
    }
}
