//! Files Encore writes hold tickets, patrons' addresses and keys: they are created readable and
//! writable by their owner only (0600; folders 0700), whatever the umask.
//!
//! Where Encore creates a file itself it says so with [`create_private`]; SQLite creates the
//! database's `-wal` and `-shm` files with the database file's own mode, and lettre creates the
//! `.eml` files, so `encore` also sets its umask to 0o077 first thing ([`private_umask`]).

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// A new file at `path`, mode 0600; fails with `AlreadyExists` rather than open an existing one.
pub fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// The folder `path` and its missing parents, the new ones mode 0700.
pub fn create_private_dir(path: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(path)
}

/// From now on every file this process creates is its owner's only (umask 0o077), also those
/// that libraries create (SQLite's `-wal` and `-shm`, lettre's `.eml` files).
pub fn private_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}
