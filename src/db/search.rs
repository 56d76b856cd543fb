//! The box office's searches: a performance's tickets (by word, a page at a time, in id order)
//! and patron candidates (by a prefix of a name word or of the email).
//!
//! backend_specific: the SQL differs only in how it folds case (SQLite `lower()`, PostgreSQL
//! `lower(… COLLATE "C")`: both fold A–Z only, see `domain::search`, and compare in byte order)
//! and how it finds the second and last word of a name. The expressions must stay exactly
//! those of the indexes in migration `search_indexes`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamp};

use super::{with_conn, Conn};
use crate::domain::ids::{PerformanceId, TicketId};
use crate::domain::search::{prefix_end, FoundTicket, PatronTicket, TicketSearch, PER_RANGE};
use crate::domain::TicketStatus;

/// A value to bind.
enum Bind {
    Int(i64),
    Text(String),
}

/// A statement under construction: its text, with placeholders in the backend's style.
struct Sql {
    postgres: bool,
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn new(conn: &Conn<'_>) -> Sql {
        Sql {
            postgres: matches!(conn, Conn::Postgres(_)),
            text: String::new(),
            binds: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        if self.postgres {
            let n = self.binds.len();
            self.text.push_str(&format!("${n}"));
        } else {
            self.text.push('?');
        }
        self
    }

    fn text(&mut self, value: &str) -> &mut Self {
        self.bind(Bind::Text(value.to_string()))
    }

    fn int(&mut self, value: i64) -> &mut Self {
        self.bind(Bind::Int(value))
    }

    /// `expr` folded to lower case A–Z (PostgreSQL folds only A–Z under the "C" collation, as
    /// SQLite's `lower()` does, and the result compares in byte order, as SQLite's does).
    fn fold(&self, expr: &str) -> String {
        if self.postgres {
            format!("lower(({expr}) COLLATE \"C\")")
        } else {
            format!("lower({expr})")
        }
    }

    /// The three name keys of `domain::search::name_keys` and the folded email, as indexed.
    fn search_keys(&self) -> [String; 4] {
        let (second, last) = if self.postgres {
            (
                "substr(t.holder_name, strpos(t.holder_name, ' ') + 1)",
                "split_part(t.holder_name, ' ', -1)",
            )
        } else {
            (
                "substr(t.holder_name, instr(t.holder_name, ' ') + 1)",
                "replace(t.holder_name, rtrim(t.holder_name, replace(t.holder_name, ' ', '')), '')",
            )
        };
        ["t.holder_name", second, last, "t.holder_email"].map(|e| self.fold(e))
    }

    fn load<U>(self, conn: &mut Conn<'_>) -> QueryResult<Vec<U>>
    where
        U: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
    {
        macro_rules! run {
            ($c:expr, $db:ty) => {{
                let mut query = diesel::sql_query(self.text).into_boxed::<$db>();
                for bind in self.binds {
                    query = match bind {
                        Bind::Int(v) => query.bind::<BigInt, _>(v),
                        Bind::Text(v) => query.bind::<Text, _>(v),
                    };
                }
                query.load::<U>($c)
            }};
        }
        match conn {
            Conn::Sqlite(c) => run!(&mut **c, diesel::sqlite::Sqlite),
            Conn::Postgres(c) => run!(&mut **c, diesel::pg::Pg),
        }
    }
}

/// `text` as a LIKE pattern that matches itself literally (escape character `\`).
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(QueryableByName)]
struct TicketFound {
    #[diesel(sql_type = BigInt)]
    id: TicketId,
    #[diesel(sql_type = BigInt)]
    performance_id: PerformanceId,
    #[diesel(sql_type = Text)]
    holder_name: String,
    #[diesel(sql_type = Text)]
    holder_email: String,
    #[diesel(sql_type = Nullable<Text>)]
    seat: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    section: Option<String>,
    #[diesel(sql_type = Text)]
    status: TicketStatus,
    #[diesel(sql_type = Integer)]
    generation: i32,
    #[diesel(sql_type = BigInt)]
    price_minor: i64,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = Timestamp)]
    issued_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    admitted_at: Option<NaiveDateTime>,
}

impl From<TicketFound> for FoundTicket {
    fn from(t: TicketFound) -> Self {
        FoundTicket {
            id: t.id,
            performance_id: t.performance_id,
            holder_name: t.holder_name,
            holder_email: t.holder_email,
            seat: t.seat,
            section: t.section,
            status: t.status,
            generation: t.generation,
            price_minor: t.price_minor,
            currency: t.currency,
            issued_at: t.issued_at,
            admitted_at: t.admitted_at,
        }
    }
}

/// The tickets of `search.performance_id` that every term matches (a name word, the email or
/// the seat starts with it, or it is the ticket's id), with `search.status`, after the cursor,
/// in id order: at most `limit + 1` of them (the one more tells there is a next page). Walks
/// the index on (performance_id[, status], id).
pub fn tickets(conn: &mut Conn<'_>, search: &TicketSearch) -> QueryResult<Vec<FoundTicket>> {
    let mut sql = Sql::new(conn);
    sql.push(
        "SELECT t.id, t.performance_id, t.holder_name, t.holder_email, t.seat, t.section, \
         t.status, t.generation, t.price_minor, t.currency, t.issued_at, t.admitted_at \
         FROM tickets t WHERE t.performance_id = ",
    )
    .int(search.performance_id.0);
    if let Some(status) = search.status {
        sql.push(" AND t.status = ").text(status.as_str());
    }
    if let Some(after) = search.after {
        sql.push(" AND t.id > ").int(after.0 .0);
    }
    let (name, email, seat) = (
        sql.fold("t.holder_name"),
        sql.fold("t.holder_email"),
        sql.fold("t.seat"),
    );
    for term in &search.terms {
        let starts = format!("{}%", like_literal(&term.text));
        let word = format!("% {}%", like_literal(&term.text));
        sql.push(&format!(" AND ({name} LIKE "))
            .text(&starts)
            .push(&format!(" ESCAPE '\\' OR {name} LIKE "))
            .text(&word)
            .push(&format!(" ESCAPE '\\' OR {email} LIKE "))
            .text(&starts)
            .push(&format!(" ESCAPE '\\' OR {seat} LIKE "))
            .text(&starts)
            .push(" ESCAPE '\\'");
        if let Some(id) = term.ticket_id {
            sql.push(" OR t.id = ").int(id.0);
        }
        sql.push(")");
    }
    // The limit is a checked small number, written in: SQLite plans a bound LIMIT anew each run.
    sql.push(&format!(" ORDER BY t.id LIMIT {}", search.limit + 1));
    Ok(sql
        .load::<TicketFound>(conn)?
        .into_iter()
        .map(FoundTicket::from)
        .collect())
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = BigInt)]
    id: TicketId,
    #[diesel(sql_type = Text)]
    holder_name: String,
    #[diesel(sql_type = Text)]
    holder_email: String,
}

/// A ticket whose holder may match a patron search: (id, holder name, holder email).
pub type PatronCandidate = (TicketId, String, String);

/// The tickets with a name key starting with one of `keys` (see `domain::search::name_keys`),
/// or with an email starting with `email_prefix`, or with the id `ticket_id`. Each range is read
/// from its own index in the index's order (key, name, email, id) and stops after
/// [`PER_RANGE`] tickets, so a short prefix costs no more than a long one, and both backends
/// weigh the same candidates. A ticket may come more than once.
pub fn patron_candidates(
    conn: &mut Conn<'_>,
    keys: &[String],
    email_prefix: Option<&str>,
    ticket_id: Option<TicketId>,
) -> QueryResult<Vec<PatronCandidate>> {
    let mut sql = Sql::new(conn);
    let [first, second, last, email] = sql.search_keys();
    let mut ranges: Vec<(&str, &str)> = Vec::new();
    for key in keys {
        for expr in [&first, &second, &last] {
            ranges.push((expr.as_str(), key.as_str()));
        }
    }
    if let Some(prefix) = email_prefix {
        ranges.push((email.as_str(), prefix));
    }
    let then = if sql.postgres {
        r#"t.holder_name COLLATE "C", t.holder_email COLLATE "C", t.id"#
    } else {
        "t.holder_name, t.holder_email, t.id"
    };
    const COLUMNS: &str = "SELECT t.id, t.holder_name, t.holder_email FROM tickets t WHERE ";
    for (i, (expr, prefix)) in ranges.into_iter().enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push("SELECT * FROM (")
            .push(COLUMNS)
            .push(&format!("{expr} >= "))
            .text(prefix);
        if let Some(end) = prefix_end(prefix) {
            sql.push(&format!(" AND {expr} < ")).text(&end);
        }
        sql.push(&format!(" ORDER BY {expr}, {then} LIMIT {PER_RANGE}) r{i}"));
    }
    if let Some(id) = ticket_id {
        sql.push(" UNION ALL ")
            .push(COLUMNS)
            .push("t.id = ")
            .int(id.0);
    }
    Ok(sql
        .load::<Candidate>(conn)?
        .into_iter()
        .map(|c| (c.id, c.holder_name, c.holder_email))
        .collect())
}

#[derive(QueryableByName)]
struct HeldTicket {
    #[diesel(sql_type = Text)]
    holder_email: String,
    #[diesel(sql_type = BigInt)]
    id: TicketId,
    #[diesel(sql_type = Text)]
    holder_name: String,
    #[diesel(sql_type = Text)]
    status: TicketStatus,
    #[diesel(sql_type = BigInt)]
    performance_id: PerformanceId,
    #[diesel(sql_type = Timestamp)]
    starts_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    canceled_at: Option<NaiveDateTime>,
}

/// Every ticket held by these addresses (exactly as stored), with its performance's time.
pub fn tickets_of(conn: &mut Conn<'_>, emails: &[String]) -> QueryResult<Vec<PatronTicket>> {
    if emails.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(conn);
    sql.push(
        "SELECT t.holder_email, t.id, t.holder_name, t.status, t.performance_id, p.starts_at, \
         p.canceled_at FROM tickets t JOIN performances p ON p.id = t.performance_id \
         WHERE t.holder_email IN (",
    );
    for (i, email) in emails.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.text(email);
    }
    sql.push(") ORDER BY t.id");
    Ok(sql
        .load::<HeldTicket>(conn)?
        .into_iter()
        .map(|t| PatronTicket {
            email: t.holder_email,
            ticket_id: t.id,
            holder_name: t.holder_name,
            status: t.status,
            performance_id: t.performance_id,
            starts_at: t.starts_at,
            performance_canceled: t.canceled_at.is_some(),
        })
        .collect())
}

/// Whether the performance exists.
pub fn performance_exists(conn: &mut Conn<'_>, id: PerformanceId) -> QueryResult<bool> {
    use super::schema::performances;
    with_conn!(conn, c => diesel::select(diesel::dsl::exists(
        performances::table.filter(performances::id.eq(id))
    ))
    .get_result(c))
}
