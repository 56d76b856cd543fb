//! How the domain's statuses and kinds are stored: each as the same short text it always was
//! (the tables' CHECK constraints list them), so rows carry the enum and no code outside this
//! module reads or writes the words.
//!
//! Writing binds the enum's `&'static str` name as a text parameter, exactly as a string column
//! is bound, so a status costs no allocation. Reading matches the column's text against the
//! names without copying it out; text that names none is an error, never a guess.
//!
//! The id newtypes (`domain::ids`) are stored as the `BigInt` they wrap, bound and read as
//! that `i64`.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::sqlite::{Sqlite, SqliteValue};

use crate::domain::cancellation::CancellationStatus;
use crate::domain::credit::CreditReason;
use crate::domain::ids::{
    ApiKeyId, CancellationId, EmailId, EventId, PerformanceId, TicketId, TransferId,
};
use crate::domain::import::ImportStatus;
use crate::domain::link::LinkPurpose;
use crate::domain::offer::OfferStatus;
use crate::domain::outbox::{EmailKind, EmailStatus};
use crate::domain::{Currency, Money, ScanOutcome, TicketStatus};

/// An enum stored as one of a fixed set of names.
trait StoredAsText: Copy + 'static {
    /// What the column holds, for the error when it holds something else.
    const WHAT: &'static str;
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
}

fn parse<T: StoredAsText>(text: &str) -> deserialize::Result<T> {
    T::ALL
        .iter()
        .copied()
        .find(|value| value.name() == text)
        .ok_or_else(|| format!("unknown {} {text:?} in storage", T::WHAT).into())
}

/// Stores `$type` as its `$name` (one of `$type::ALL`'s) in a `Text` column on both backends:
/// as a bound value and in comparisons (`AsExpression`, by value and by reference; `ToSql` for
/// lists, `eq_any`), and as a loaded field. `$what` names it in the error for unknown text.
macro_rules! stored_as_text {
    ($type:ty, $what:literal, $name:path) => {
        impl StoredAsText for $type {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &<$type>::ALL;
            fn name(self) -> &'static str {
                $name(self)
            }
        }

        impl AsExpression<Text> for $type {
            type Expression = <&'static str as AsExpression<Text>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.name())
            }
        }

        impl AsExpression<Text> for &$type {
            type Expression = <&'static str as AsExpression<Text>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.name())
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $type
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.name().to_sql(out)
            }
        }

        impl FromSql<Text, Sqlite> for $type {
            fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                parse(value.read_text())
            }
        }

        impl FromSql<Text, Pg> for $type {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                parse(std::str::from_utf8(value.as_bytes())?)
            }
        }

        impl<DB: Backend> Queryable<Text, DB> for $type
        where
            $type: FromSql<Text, DB>,
        {
            type Row = $type;
            fn build(row: $type) -> deserialize::Result<$type> {
                Ok(row)
            }
        }
    };
}

stored_as_text!(TicketStatus, "ticket status", TicketStatus::as_str);

stored_as_text!(ScanOutcome, "scan outcome", ScanOutcome::code);

stored_as_text!(OfferStatus, "offer status", OfferStatus::as_str);

stored_as_text!(
    CancellationStatus,
    "cancellation status",
    CancellationStatus::as_str
);

stored_as_text!(CreditReason, "credit reason", CreditReason::as_str);

stored_as_text!(ImportStatus, "import status", ImportStatus::as_str);

/// Stores each id newtype as the `i64` it wraps in a `BigInt` column (nullable or not) on both
/// backends: as a bound value and in comparisons (`AsExpression`, by value and by reference;
/// `ToSql` for `Option`s and lists), and as a loaded field.
macro_rules! stored_as_big_int {
    ($($type:ident),+ $(,)?) => {$(
        impl AsExpression<BigInt> for $type {
            type Expression = <i64 as AsExpression<BigInt>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<BigInt>::as_expression(self.0)
            }
        }

        impl AsExpression<BigInt> for &$type {
            type Expression = <i64 as AsExpression<BigInt>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<BigInt>::as_expression(self.0)
            }
        }

        impl AsExpression<Nullable<BigInt>> for $type {
            type Expression = <i64 as AsExpression<Nullable<BigInt>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<BigInt>>::as_expression(self.0)
            }
        }

        impl AsExpression<Nullable<BigInt>> for &$type {
            type Expression = <i64 as AsExpression<Nullable<BigInt>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<BigInt>>::as_expression(self.0)
            }
        }

        impl<DB: Backend> ToSql<BigInt, DB> for $type
        where
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.0.to_sql(out)
            }
        }

        impl<DB: Backend> ToSql<Nullable<BigInt>, DB> for $type
        where
            i64: ToSql<BigInt, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                ToSql::<BigInt, DB>::to_sql(&self.0, out)
            }
        }

        impl<DB: Backend> FromSql<BigInt, DB> for $type
        where
            i64: FromSql<BigInt, DB>,
        {
            fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
                i64::from_sql(value).map($type)
            }
        }

        impl<DB: Backend> Queryable<BigInt, DB> for $type
        where
            $type: FromSql<BigInt, DB>,
        {
            type Row = $type;
            fn build(row: $type) -> deserialize::Result<$type> {
                Ok(row)
            }
        }
    )+};
}

stored_as_big_int!(
    TicketId,
    PerformanceId,
    EventId,
    TransferId,
    EmailId,
    ApiKeyId,
    CancellationId,
);

stored_as_text!(LinkPurpose, "link purpose", LinkPurpose::as_str);

stored_as_text!(EmailKind, "email kind", EmailKind::as_str);

stored_as_text!(EmailStatus, "email status", EmailStatus::as_str);

/// A yes or no, stored as the INTEGER 0 or 1. Both backends' migrations declare their flags
/// INTEGER (SQLite has no BOOLEAN, and diesel's `Bool` is a PostgreSQL `boolean`, not an
/// `integer`), so the schema says `Integer`; a row field reads it as a `bool` through this
/// (`#[diesel(deserialize_as = StoredFlag)]`), and a write binds it as 0 or 1 (an insert or
/// update form's `bool` field through `#[diesel(serialize_as = StoredFlag)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredFlag(pub bool);

impl From<StoredFlag> for bool {
    fn from(flag: StoredFlag) -> bool {
        flag.0
    }
}

impl From<bool> for StoredFlag {
    fn from(flag: bool) -> StoredFlag {
        StoredFlag(flag)
    }
}

impl AsExpression<Integer> for StoredFlag {
    type Expression = <i32 as AsExpression<Integer>>::Expression;
    fn as_expression(self) -> Self::Expression {
        AsExpression::<Integer>::as_expression(i32::from(self.0))
    }
}

impl<DB: Backend> Queryable<Integer, DB> for StoredFlag
where
    i32: FromSql<Integer, DB>,
{
    type Row = i32;
    fn build(stored: i32) -> deserialize::Result<StoredFlag> {
        Ok(StoredFlag(stored != 0))
    }
}

/// A stored currency code; one that does not parse is a storage error, as an unknown status is.
pub(super) fn stored_currency(text: &str) -> diesel::QueryResult<Currency> {
    Currency::parse("currency", text)
        .map_err(|e| diesel::result::Error::DeserializationError(format!("{e} in storage").into()))
}

/// A stored amount of a currency. The amount is taken as stored (the checks of `Money::parse`
/// were made when it was written).
pub(super) fn stored_money(minor: i64, currency: &str) -> diesel::QueryResult<Money> {
    Ok(Money {
        minor,
        currency: stored_currency(currency)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: StoredAsText + PartialEq + std::fmt::Debug>() {
        for &value in T::ALL {
            assert_eq!(parse::<T>(value.name()).ok(), Some(value));
        }
        assert!(parse::<T>("no such name").is_err());
    }

    #[test]
    fn a_currency_that_does_not_parse_is_a_storage_error() {
        assert!(matches!(
            stored_currency("euro"),
            Err(diesel::result::Error::DeserializationError(_))
        ));
        let price = stored_money(4500, "EUR").unwrap();
        assert_eq!((price.minor, price.currency.as_str()), (4500, "EUR"));
    }

    #[test]
    fn every_name_reads_back_as_what_was_written() {
        round_trips::<TicketStatus>();
        round_trips::<ScanOutcome>();
        round_trips::<OfferStatus>();
        round_trips::<CancellationStatus>();
        round_trips::<CreditReason>();
        round_trips::<ImportStatus>();
        round_trips::<LinkPurpose>();
        round_trips::<EmailKind>();
        round_trips::<EmailStatus>();
    }
}
