//! A consistent copy of a SQLite database while it serves.
//!
//! `VACUUM INTO` reads the whole database in one read transaction, so the copy is the database
//! as of one instant — every transaction committed before it began, none after — while writers
//! carry on (WAL: readers and the writer do not block each other). The copy is written under a
//! temporary name, checked with `PRAGMA integrity_check`, flushed to disk (SQLite does not sync
//! a `VACUUM INTO` target), and only then given its name, which it never takes from an existing
//! file.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use super::{Conn, Db, PoolError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("only a SQLite database can be copied this way")]
    NotSqlite,
    #[error("the backup path {0} is not valid UTF-8")]
    Path(PathBuf),
    #[error("the copy failed its integrity check: {0}")]
    Corrupt(String),
    #[error("cannot write the backup: {0}")]
    Io(#[from] io::Error),
    #[error("cannot open the database: {0}")]
    Pool(#[from] PoolError),
    #[error("the copy failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("cannot open the copy: {0}")]
    Open(#[from] diesel::ConnectionError),
}

/// Copies the database of `db` into `file`, which must not exist. Returns the copy's size.
pub fn copy_sqlite(db: &Db, file: &Path) -> Result<u64, BackupError> {
    if file.symlink_metadata().is_ok() {
        return Err(BackupError::Exists(file.to_path_buf()));
    }
    let name = file
        .file_name()
        .ok_or_else(|| BackupError::Path(file.to_path_buf()))?;
    let partial = file.with_file_name(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&partial); // a leftover of an earlier run of this process id
    let result = write_checked(db, &partial).and_then(|()| publish(&partial, file));
    let _ = std::fs::remove_file(&partial);
    result?;
    Ok(std::fs::metadata(file)?.len())
}

fn write_checked(db: &Db, partial: &Path) -> Result<(), BackupError> {
    let target = partial
        .to_str()
        .ok_or_else(|| BackupError::Path(partial.to_path_buf()))?;
    // VACUUM INTO fills an empty file: created here, it is private (0600) whatever the umask.
    crate::files::create_private(partial)?;
    db.read(|conn| match conn {
        Conn::Sqlite(c) => diesel::sql_query("VACUUM INTO ?")
            .bind::<Text, _>(target)
            .execute(*c)
            .map_err(BackupError::from),
        Conn::Postgres(_) => Err(BackupError::NotSqlite),
    })?;
    integrity_check(target)?;
    File::open(partial)?.sync_all()?;
    Ok(())
}

/// `PRAGMA integrity_check` on the SQLite file at `path`: `Ok` when it answers "ok".
pub fn integrity_check(path: &str) -> Result<(), BackupError> {
    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Text)]
        integrity_check: String,
    }
    let mut conn = SqliteConnection::establish(path)?;
    let lines: Vec<Line> = diesel::sql_query("PRAGMA integrity_check").load(&mut conn)?;
    match lines.as_slice() {
        [only] if only.integrity_check == "ok" => Ok(()),
        _ => Err(BackupError::Corrupt(
            lines
                .into_iter()
                .map(|l| l.integrity_check)
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}

/// Gives the finished copy its name: a hard link, which fails rather than replace a file that
/// appeared meanwhile; then makes the new name durable.
fn publish(partial: &Path, file: &Path) -> Result<(), BackupError> {
    std::fs::hard_link(partial, file).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => BackupError::Exists(file.to_path_buf()),
        _ => BackupError::Io(e),
    })?;
    let folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(folder)?.sync_all()?;
    Ok(())
}
