-- Encore foundation schema (SQLite). Keep in step with migrations/postgres.
-- State changes are rows: scans are arrival events, never overwrites of history.

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT      NOT NULL,
    role        TEXT      NOT NULL CHECK (role IN ('admin', 'box_office', 'scanner')),
    key_hash    TEXT      NOT NULL UNIQUE,   -- hex SHA-256 of the secret; the secret is shown once
    key_prefix  TEXT      NOT NULL,          -- first characters, to recognise a key in listings
    created_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);

CREATE TABLE signing_keys (
    kid          TEXT      PRIMARY KEY NOT NULL,
    private_key  TEXT      NOT NULL,   -- base64 PKCS#8 DER of the Ed25519 key
    public_key   TEXT      NOT NULL,   -- base64url raw public key (the JWK "x")
    created_at   TIMESTAMP NOT NULL,
    retired_at   TIMESTAMP
);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT      NOT NULL,
    venue       TEXT      NOT NULL,
    time_zone   TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE performances (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        BIGINT    NOT NULL REFERENCES events (id),
    starts_at       TIMESTAMP NOT NULL,
    doors_open_at   TIMESTAMP NOT NULL,
    capacity        BIGINT    NOT NULL CHECK (capacity >= 0),
    tickets_issued  BIGINT    NOT NULL DEFAULT 0 CHECK (tickets_issued >= 0 AND tickets_issued <= capacity),
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX performances_event ON performances (event_id);

CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    performance_id   BIGINT    NOT NULL REFERENCES performances (id),
    holder_name      TEXT      NOT NULL,
    holder_email     TEXT      NOT NULL,
    price_minor      BIGINT    NOT NULL CHECK (price_minor >= 0),
    currency         TEXT      NOT NULL,
    seat             TEXT,
    section          TEXT,
    status           TEXT      NOT NULL DEFAULT 'valid'
                     CHECK (status IN ('valid', 'exchanged', 'transferred', 'canceled')),
    generation       INTEGER   NOT NULL DEFAULT 1,
    external_ref     TEXT,     -- the caller's own reference (a CSV row's key), unique per performance
    issued_at        TIMESTAMP NOT NULL,
    admitted_at      TIMESTAMP,
    admitted_gate    TEXT,
    admitted_device  TEXT
);
CREATE INDEX tickets_performance ON tickets (performance_id);
CREATE INDEX tickets_holder_email ON tickets (holder_email);
CREATE UNIQUE INDEX tickets_external_ref ON tickets (performance_id, external_ref)
    WHERE external_ref IS NOT NULL;

-- Every scan attempt, admitted or not. ticket_id is NULL when the token could not be trusted;
-- no foreign keys, so an attempt naming a ticket this database does not hold is still recorded.
CREATE TABLE arrival_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id         BIGINT,
    performance_id    BIGINT,
    token_generation  INTEGER,
    gate              TEXT      NOT NULL,
    device            TEXT      NOT NULL,
    outcome           TEXT      NOT NULL,
    scanned_at        TIMESTAMP NOT NULL
);
CREATE INDEX arrival_events_ticket ON arrival_events (ticket_id);
CREATE INDEX arrival_events_performance ON arrival_events (performance_id, scanned_at);

-- A retried issuance request with the same Idempotency-Key returns the tickets of the first.
CREATE TABLE idempotency_keys (
    api_key_id           BIGINT    NOT NULL REFERENCES api_keys (id),
    idempotency_key      TEXT      NOT NULL,
    request_fingerprint  TEXT      NOT NULL,
    ticket_ids           TEXT      NOT NULL DEFAULT '',
    created_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (api_key_id, idempotency_key)
);
