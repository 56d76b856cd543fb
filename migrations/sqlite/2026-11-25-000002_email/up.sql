-- Email: a durable outbox, written in the same transaction as whatever causes the email.

-- Minutes before the start at which reminders go out; the largest carries the calendar file.
ALTER TABLE events ADD COLUMN reminder_offsets_minutes TEXT NOT NULL DEFAULT '1440,120';

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT      NOT NULL,          -- confirmation | reminder
    dedupe_key       TEXT      NOT NULL UNIQUE,   -- at most one email per (ticket, kind, …)
    ticket_id        BIGINT,
    detail           TEXT,                        -- kind-specific, e.g. a reminder's offset in minutes
    recipient        TEXT      NOT NULL,
    message_id       TEXT      NOT NULL,          -- fixed at enqueue: a resend after a crash reuses it
    status           TEXT      NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts         INTEGER   NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP,                   -- a claim's lease; an expired lease is claimed again
    last_error       TEXT,
    created_at       TIMESTAMP NOT NULL,
    sent_at          TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_ticket ON outbox (ticket_id);

-- Which (performance, offset) reminder batches were already queued.
CREATE TABLE reminder_runs (
    performance_id  BIGINT    NOT NULL REFERENCES performances (id),
    offset_minutes  INTEGER   NOT NULL,
    queued          BIGINT    NOT NULL,
    run_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (performance_id, offset_minutes)
);
