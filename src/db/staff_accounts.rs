//! `staff_accounts` and `staff_password_links`: the console's named accounts and their one-time
//! set-password links. The rows stay in this module; callers get `domain::staff` records.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{staff_accounts, staff_password_links};
use super::{with_conn, Conn};
use crate::domain::staff::{StaffAccount, StaffId};
use crate::domain::Role;

diesel::define_sql_function!(fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_accounts)]
pub(super) struct AccountRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    password_hash: Option<String>,
    created_at: NaiveDateTime,
    disabled_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = staff_accounts)]
struct NewAccountRow<'a> {
    email: &'a str,
    display_name: &'a str,
    role: &'a str,
    password_hash: Option<&'a str>,
    created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = staff_password_links)]
struct NewLinkRow<'a> {
    token_hash: &'a str,
    staff_id: i64,
    expires_at: NaiveDateTime,
}

impl AccountRow {
    pub(super) fn into_record(self) -> QueryResult<StaffAccount> {
        let role = Role::parse(&self.role).ok_or_else(|| {
            diesel::result::Error::DeserializationError(
                format!("unknown staff role {:?} in storage", self.role).into(),
            )
        })?;
        Ok(StaffAccount {
            id: StaffId(self.id),
            email: self.email,
            display_name: self.display_name,
            role,
            has_password: self.password_hash.is_some(),
            created_at: self.created_at.and_utc(),
            disabled_at: self.disabled_at.map(|t| t.and_utc()),
        })
    }
}

/// What a new account is made of.
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

/// Inserts an account; a second account for the same mailbox (in any letter case) is a unique
/// violation.
pub fn insert(conn: &mut Conn<'_>, new: &NewAccount<'_>) -> QueryResult<StaffAccount> {
    let row = NewAccountRow {
        email: new.email,
        display_name: new.display_name,
        role: new.role.as_str(),
        password_hash: new.password_hash,
        created_at: new.created_at.naive_utc(),
    };
    with_conn!(conn, c => diesel::insert_into(staff_accounts::table)
        .values(&row)
        .returning(AccountRow::as_returning())
        .get_result(c))?
    .into_record()
}

/// The account with this email (in any letter case) and its password hash, if any.
pub fn find_with_hash(
    conn: &mut Conn<'_>,
    email: &str,
) -> QueryResult<Option<(StaffAccount, Option<String>)>> {
    let row: Option<AccountRow> = with_conn!(conn, c => staff_accounts::table
        .filter(lower(staff_accounts::email).eq(email.trim().to_lowercase()))
        .select(AccountRow::as_select())
        .get_result(c)
        .optional())?;
    row.map(|row| {
        let hash = row.password_hash.clone();
        row.into_record().map(|account| (account, hash))
    })
    .transpose()
}

pub fn find(conn: &mut Conn<'_>, id: StaffId) -> QueryResult<Option<StaffAccount>> {
    let row: Option<AccountRow> = with_conn!(conn, c => staff_accounts::table
        .filter(staff_accounts::id.eq(id.0))
        .select(AccountRow::as_select())
        .get_result(c)
        .optional())?;
    row.map(AccountRow::into_record).transpose()
}

pub fn list(conn: &mut Conn<'_>) -> QueryResult<Vec<StaffAccount>> {
    let rows: Vec<AccountRow> = with_conn!(conn, c => staff_accounts::table
        .order(staff_accounts::id)
        .select(AccountRow::as_select())
        .load(c))?;
    rows.into_iter().map(AccountRow::into_record).collect()
}

pub fn set_password_hash(conn: &mut Conn<'_>, id: StaffId, hash: &str) -> QueryResult<()> {
    with_conn!(conn, c => diesel::update(staff_accounts::table)
        .filter(staff_accounts::id.eq(id.0))
        .set(staff_accounts::password_hash.eq(hash))
        .execute(c))
    .map(drop)
}

pub fn insert_password_link(
    conn: &mut Conn<'_>,
    token_hash: &str,
    staff_id: StaffId,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    let row = NewLinkRow {
        token_hash,
        staff_id: staff_id.0,
        expires_at: expires_at.naive_utc(),
    };
    with_conn!(conn, c => diesel::insert_into(staff_password_links::table)
        .values(&row)
        .execute(c))
    .map(drop)
}

/// The account a set-password link is for, while the link is unused and unexpired.
pub fn password_link_account(
    conn: &mut Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<StaffId>> {
    with_conn!(conn, c => staff_password_links::table
        .filter(staff_password_links::token_hash.eq(token_hash))
        .filter(staff_password_links::used_at.is_null())
        .filter(staff_password_links::expires_at.gt(now.naive_utc()))
        .select(staff_password_links::staff_id)
        .get_result::<i64>(c)
        .optional())
    .map(|id| id.map(StaffId))
}

/// Uses a set-password link: one conditional `UPDATE`, so of two uses at once exactly one
/// gets the account back.
pub fn use_password_link(
    conn: &mut Conn<'_>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<StaffId>> {
    with_conn!(conn, c => diesel::update(staff_password_links::table)
        .filter(staff_password_links::token_hash.eq(token_hash))
        .filter(staff_password_links::used_at.is_null())
        .filter(staff_password_links::expires_at.gt(now.naive_utc()))
        .set(staff_password_links::used_at.eq(now.naive_utc()))
        .returning(staff_password_links::staff_id)
        .get_result::<i64>(c)
        .optional())
    .map(|id| id.map(StaffId))
}
