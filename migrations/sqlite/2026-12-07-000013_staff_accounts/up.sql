-- Named staff accounts for the box-office console, their sessions, their one-time
-- set-password links, and the failed sign-ins the throttle counts (kept here, not in a
-- process, so that it holds across every `encore serve` sharing the database).
CREATE TABLE staff_accounts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT      NOT NULL,
    display_name   TEXT      NOT NULL,
    role           TEXT      NOT NULL CHECK (role IN ('admin', 'box_office', 'scanner')),
    password_hash  TEXT,                     -- Argon2id PHC string; NULL until a password is set
    created_at     TIMESTAMP NOT NULL,
    disabled_at    TIMESTAMP
);
-- One account per mailbox, in any letter case.
CREATE UNIQUE INDEX staff_accounts_email ON staff_accounts (lower(email));

CREATE TABLE staff_sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash    TEXT      NOT NULL UNIQUE,  -- hex SHA-256 of the cookie's token; the token is never stored
    staff_id      BIGINT    NOT NULL REFERENCES staff_accounts (id),
    csrf_token    TEXT      NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    revoked_at    TIMESTAMP
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

CREATE TABLE staff_password_links (
    token_hash  TEXT      PRIMARY KEY NOT NULL,  -- hex SHA-256 of the link's token
    staff_id    BIGINT    NOT NULL REFERENCES staff_accounts (id),
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);

-- 'account:<lower-case email>' or 'address:<client IP>'.
CREATE TABLE sign_in_failures (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    subject    TEXT      NOT NULL,
    failed_at  TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_failures_subject ON sign_in_failures (subject, failed_at);
