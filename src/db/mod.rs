//! Storage: one binary, two backends.
//!
//! SQLite is the embedded default; PostgreSQL is chosen by a `postgres://` URL. Both sit behind
//! [`Db`] (a pool) and [`Conn`] (a borrowed connection). Query code is written once with the
//! [`with_conn!`] macro and compiled for each backend, so backend-specific SQL stays rare and
//! obvious (see `backend_specific` comments).
//!
//! A lookup by a unique key ends in `get_result`, not `first`: `first` adds `LIMIT ?`, and
//! SQLite reads a bound LIMIT's value while planning, so it prepares such a statement again
//! every time it runs (about as costly as the query itself on the scan path).

mod models;
pub mod schema;

pub mod api_keys;
pub mod authors;
pub mod backup;
pub mod cancellations;
pub mod consent;
pub mod credit;
pub mod door;
pub mod events;
pub mod idempotency;
pub mod imports;
pub mod journey;
pub mod message_rules;
pub mod outbox;
pub mod quiet;
pub mod recommend;
pub mod scans;
pub mod search;
pub mod signing_keys;
pub mod staff_accounts;
pub mod staff_sessions;
mod stored;
pub mod tickets;
pub mod transfers;
pub mod wallet_passes;
pub mod webhooks;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::redact_url;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// An arbitrary constant: the PostgreSQL advisory lock that serialises migrations when several
/// `encore serve` processes start at once on one database.
const MIGRATION_LOCK_ID: i64 = 0x656e_636f_7265;

/// Runs `$body` with `$c` bound to the concrete connection of whichever backend `$conn` holds.
/// The body is type-checked once per backend.
macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => {
                let $c: &mut ::diesel::SqliteConnection = &mut **$c;
                $body
            }
            $crate::db::Conn::Postgres($c) => {
                let $c: &mut ::diesel::PgConnection = &mut **$c;
                $body
            }
        }
    };
}
pub(crate) use with_conn;

pub type PoolError = diesel::r2d2::PoolError;

/// Why the database could not be opened or prepared.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot open the database pool for {url}: {source}")]
    Pool {
        url: String,
        source: diesel::r2d2::PoolError,
    },
    #[error("cannot open the database {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("cannot connect to the database: {0}")]
    Connection(#[from] diesel::r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}

/// Creates a new SQLite database file with mode 0600 (SQLite gives its `-wal` and `-shm` files
/// the same mode); an existing file, an in-memory database or a `file:` URI is left alone.
fn create_private_file(target: &str) -> std::io::Result<()> {
    if target.starts_with(':') || target.starts_with("file:") {
        return Ok(());
    }
    match crate::files::create_private(std::path::Path::new(target)) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// Why the database cannot take a write now.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("another connection holds the database's write lock")]
    Busy,
    #[error(transparent)]
    Unavailable(#[from] SetupError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` URLs mean PostgreSQL; anything else is a SQLite path
    /// (an optional `sqlite://` or `sqlite:` prefix is stripped).
    pub fn of_url(url: &str) -> (Backend, &str) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url)
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            (Backend::Sqlite, path)
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            (Backend::Sqlite, path)
        } else {
            (Backend::Sqlite, url)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// How SQLite connections behave: a busy timeout so a second process waits instead of failing,
/// foreign keys enforced, and every commit made durable. (WAL, which lets readers work while
/// one writer writes, is a property of the file: set once in [`Db::connect`].)
#[derive(Debug, Clone, Copy)]
struct SqlitePragmas {
    busy_timeout: Duration,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            self.busy_timeout.as_millis()
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

enum PoolKind {
    Sqlite(Pool<ConnectionManager<SqliteConnection>>),
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

/// The connection pool, cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Arc<PoolKind>,
    /// SQLite allows one writer at a time. Queueing this process's writers here is fairer and
    /// faster than letting them spin on SQLITE_BUSY; other processes still wait on busy_timeout.
    sqlite_writer: Arc<Mutex<()>>,
    /// SQLite's busy timeout for pooled connections.
    busy_timeout: Duration,
}

/// A pooled connection of either backend.
pub enum PooledConn {
    Sqlite(PooledConnection<ConnectionManager<SqliteConnection>>),
    Postgres(PooledConnection<ConnectionManager<PgConnection>>),
}

impl PooledConn {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            PooledConn::Sqlite(c) => Conn::Sqlite(c),
            PooledConn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A borrowed connection; the argument type of every storage function.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// `sql`, written with PostgreSQL's numbered parameters (`$1`, `$2`, a number used as often
    /// as needed), as this backend reads it: SQLite numbers its `?NNN` the same way. For
    /// statements with no other `$` in them.
    pub(crate) fn numbered_parameters(&self, sql: String) -> String {
        match self {
            Conn::Sqlite(_) => sql.replace('$', "?"),
            Conn::Postgres(_) => sql,
        }
    }

    /// Runs `f` in a transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up
    /// front, so a read-then-write transaction can never fail half-way on a lock upgrade.
    pub fn transaction<T, E>(
        &mut self,
        f: impl FnOnce(&mut Conn<'_>) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        match self {
            Conn::Sqlite(c) => c.immediate_transaction(|c| f(&mut Conn::Sqlite(c))),
            Conn::Postgres(c) => c.transaction(|c| f(&mut Conn::Postgres(c))),
        }
    }
}

impl Db {
    /// Opens a pool for `url`. SQLite files are created on first use.
    pub fn connect(url: &str, pool_size: u32, busy_timeout: Duration) -> Result<Db, SetupError> {
        let (backend, target) = Backend::of_url(url);
        let pool_error = |source| SetupError::Pool {
            url: redact_url(url),
            source,
        };
        let pool = match backend {
            Backend::Sqlite => {
                create_private_file(target).map_err(|e| SetupError::Open {
                    url: redact_url(url),
                    reason: e.to_string(),
                })?;
                // Switch the file to WAL on one connection before the pool opens several at once:
                // the switch needs the file to itself.
                let mut first =
                    SqliteConnection::establish(target).map_err(|e| SetupError::Open {
                        url: redact_url(url),
                        reason: e.to_string(),
                    })?;
                first.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL;",
                    busy_timeout.as_millis()
                ))?;
                PoolKind::Sqlite(
                    Pool::builder()
                        .max_size(pool_size)
                        .connection_customizer(Box::new(SqlitePragmas { busy_timeout }))
                        .build(ConnectionManager::new(target))
                        .map_err(pool_error)?,
                )
            }
            Backend::Postgres => PoolKind::Postgres(
                Pool::builder()
                    .max_size(pool_size)
                    .connection_timeout(Duration::from_secs(10))
                    .build(ConnectionManager::new(target))
                    .map_err(pool_error)?,
            ),
        };
        Ok(Db {
            pool: Arc::new(pool),
            sqlite_writer: Arc::new(Mutex::new(())),
            busy_timeout,
        })
    }

    pub fn backend(&self) -> Backend {
        match *self.pool {
            PoolKind::Sqlite(_) => Backend::Sqlite,
            PoolKind::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn get(&self) -> Result<PooledConn, PoolError> {
        Ok(match &*self.pool {
            PoolKind::Sqlite(p) => PooledConn::Sqlite(p.get()?),
            PoolKind::Postgres(p) => PooledConn::Postgres(p.get()?),
        })
    }

    /// Runs `f` on a connection, outside any transaction (reads).
    pub fn read<T, E>(&self, f: impl FnOnce(&mut Conn<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<PoolError>,
    {
        let mut pooled = self.get()?;
        f(&mut pooled.conn())
    }

    /// Runs `f` in one write transaction: everything in it commits together or not at all.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut Conn<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<PoolError> + From<diesel::result::Error>,
    {
        // Queue for the lock before taking a connection, so waiting writers leave the pool's
        // connections to readers. A poisoned lock only means another writer panicked; the
        // database itself is sound.
        let _writer = match self.backend() {
            Backend::Sqlite => Some(self.sqlite_writer.lock().unwrap_or_else(|e| e.into_inner())),
            Backend::Postgres => None,
        };
        let mut pooled = self.get()?;
        pooled.conn().transaction(f)
    }

    /// Applies pending migrations; safe to call from several processes at once.
    pub fn migrate(&self) -> Result<usize, SetupError> {
        let mut pooled = self.get()?;
        let applied = match pooled.conn() {
            Conn::Sqlite(c) => c.exclusive_transaction(|c| {
                c.run_pending_migrations(SQLITE_MIGRATIONS)
                    .map(|v| v.len())
                    .map_err(|e| SetupError::Migration(e.to_string()))
            })?,
            Conn::Postgres(c) => {
                diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_ID})"))
                    .execute(c)?;
                let result = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.len())
                    .map_err(|e| SetupError::Migration(e.to_string()));
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_ID})"))
                    .execute(c)?;
                result?
            }
        };
        Ok(applied)
    }

    /// The pool's connections right now (r2d2's `state()`), for `/metrics`.
    pub fn pool_state(&self) -> PoolState {
        let (state, max_size) = match &*self.pool {
            PoolKind::Sqlite(p) => (p.state(), p.max_size()),
            PoolKind::Postgres(p) => (p.state(), p.max_size()),
        };
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max_size,
        }
    }

    /// Whether a write could start now, for `/readyz`. On PostgreSQL a round-trip; on SQLite
    /// the write lock is taken (`BEGIN IMMEDIATE`, waiting at most [`Self::READY_WAIT`]) and
    /// given back at once, so a database another connection holds write-locked is not ready.
    pub fn ping(&self) -> Result<(), NotReady> {
        let mut pooled = self.get().map_err(SetupError::from)?;
        match pooled.conn() {
            Conn::Postgres(c) => c.batch_execute("SELECT 1").map_err(SetupError::from)?,
            Conn::Sqlite(c) => {
                let probe = c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; BEGIN IMMEDIATE; ROLLBACK;",
                    Self::READY_WAIT.as_millis()
                ));
                // Give the pooled connection its usual patience back before anything else.
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}",
                    self.busy_timeout.as_millis()
                ))
                .map_err(SetupError::from)?;
                match probe {
                    Err(diesel::result::Error::DatabaseError(_, info))
                        if info.message().contains("locked") =>
                    {
                        return Err(NotReady::Busy)
                    }
                    other => other.map_err(SetupError::from)?,
                }
            }
        }
        Ok(())
    }

    /// How long `/readyz` waits for SQLite's write lock before answering "busy".
    pub const READY_WAIT: Duration = Duration::from_millis(200);
}

/// How many connections a pool holds, how many of them are idle, and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max_size: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(Backend::of_url("postgres://u@h/db").0, Backend::Postgres);
        assert_eq!(Backend::of_url("postgresql://u@h/db").0, Backend::Postgres);
        assert_eq!(
            Backend::of_url("sqlite://data/e.db"),
            (Backend::Sqlite, "data/e.db")
        );
        assert_eq!(Backend::of_url("encore.db"), (Backend::Sqlite, "encore.db"));
    }
}
