use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use encore::cli;
use encore::domain::Role;

/// Encore: signed QR tickets, atomic door scans, and the patron's journey around them.
#[derive(Debug, Parser)]
#[command(name = "encore", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (migrates the database first).
    Serve {
        /// Listen address, overriding ENCORE_BIND (default 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run only the email worker (when `encore serve` runs with ENCORE_RUN_WORKER=false).
    Worker,
    /// The email outbox.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Staff API keys and token signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Staff accounts for the box-office console.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Performances: cancel one.
    Performances {
        #[command(subcommand)]
        command: PerformancesCommand,
    },
    /// Issue tickets from a CSV file (columns: holder_name, holder_email, price_minor,
    /// currency, and optionally seat, section, locale, ref). Safe to run again: nothing is issued twice.
    Import {
        file: PathBuf,
        #[arg(long)]
        performance: i64,
        /// Tickets per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: usize,
    },
    /// Print the effective configuration as TOML (defaults < encore.toml < ENCORE_* <
    /// DATABASE_URL, SMTP_URL), passwords and secrets redacted.
    Config,
    /// Write a consistent copy of the SQLite database to FILE, also while `encore serve` runs.
    /// Never overwrites FILE. (PostgreSQL: use pg_dump.)
    Backup { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// Emails by state, the age of the oldest one not yet sent, and the failed ones with their
    /// last error.
    Status,
    /// Send failed emails again (all of them, or those the options pick), each with a full set
    /// of attempts.
    Retry {
        /// Only emails of this kind (confirmation, reminder, transfer_offer, …).
        #[arg(long)]
        kind: Option<String>,
        /// Only emails about this ticket.
        #[arg(long)]
        ticket: Option<i64>,
        /// Only emails queued within this many hours.
        #[arg(long)]
        queued_within_hours: Option<i64>,
    },
}

#[derive(Debug, Subcommand)]
enum PerformancesCommand {
    /// Cancel a performance: every unused ticket is canceled, its holder emailed once and
    /// credited as the event's policy says. Shows progress; run it again to resume after a
    /// crash (nobody is credited twice).
    Cancel {
        id: i64,
        /// Why, in the words the holders will read.
        #[arg(long)]
        reason: String,
        /// Holders per transaction.
        #[arg(long, default_value_t = encore::service::cancellations::DEFAULT_HOLDERS_PER_BATCH)]
        batch_holders: i64,
        /// Pause between batches, in milliseconds, to leave a busy database room.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Create a staff account. Without --password-stdin, prints a one-time link (valid 24 h)
    /// where its holder sets the password.
    Create {
        #[arg(long)]
        email: String,
        /// The name the console shows ("Ada Lovelace").
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// Read the password from standard input (its first line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List staff accounts (never their passwords).
    List,
    /// End every console session of an account at once.
    RevokeSessions {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Create a staff API key; its secret is printed once.
    Create {
        #[arg(long, value_enum)]
        role: Role,
        #[arg(long)]
        name: String,
        /// Make the key stop working this long from now (e.g. `90d`, `12h`); without it the
        /// key works until revoked.
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<std::time::Duration>,
    },
    /// List staff API keys (never their secrets), with their expiry and last use.
    List,
    /// Revoke a staff API key by id.
    Revoke { id: i64 },
    /// Add a new token signing key; older keys keep verifying until retired.
    Rotate,
    /// Retire a token signing key: tokens signed with it stop admitting.
    Retire { kid: String },
    /// List token signing keys.
    Signing,
    /// Encrypt every token signing key in the database under a new key file key, replacing
    /// the key file (`key_file`).
    Rewrap,
}

fn main() -> ExitCode {
    // Before any file is opened: what Encore writes is its owner's only.
    encore::files::private_umask();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { bind } => cli::serve::run(bind),
        Command::Migrate => cli::migrate::run(),
        Command::Worker => cli::outbox::worker(),
        Command::Outbox { command } => match command {
            OutboxCommand::Status => cli::outbox::status(),
            OutboxCommand::Retry {
                kind,
                ticket,
                queued_within_hours,
            } => cli::outbox::retry(kind, ticket, queued_within_hours),
        },
        Command::Keys { command } => match command {
            KeysCommand::Create {
                role,
                name,
                expires_in,
            } => cli::keys::create(role, &name, expires_in),
            KeysCommand::List => cli::keys::list(),
            KeysCommand::Revoke { id } => cli::keys::revoke(id),
            KeysCommand::Rotate => cli::keys::rotate(),
            KeysCommand::Retire { kid } => cli::keys::retire(&kid),
            KeysCommand::Signing => cli::keys::signing(),
            KeysCommand::Rewrap => cli::keys::rewrap(),
        },
        Command::Staff { command } => match command {
            StaffCommand::Create {
                email,
                name,
                role,
                password_stdin,
            } => cli::staff::create(&email, &name, role, password_stdin),
            StaffCommand::List => cli::staff::list(),
            StaffCommand::RevokeSessions { email } => cli::staff::revoke_sessions(&email),
        },
        Command::Performances {
            command:
                PerformancesCommand::Cancel {
                    id,
                    reason,
                    batch_holders,
                    pause_ms,
                },
        } => cli::performances::cancel(
            id,
            &reason,
            batch_holders,
            std::time::Duration::from_millis(pause_ms),
        ),
        Command::Import {
            file,
            performance,
            batch_size,
        } => cli::import::run(&file, performance, batch_size),
        Command::Config => cli::config::run(),
        Command::Backup { file } => cli::backup::run(&file),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
