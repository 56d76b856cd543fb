-- Cancellations (of one ticket, or of a whole performance in resumable batches) and the
-- patron-link opens that the patron journey shows. Keep in step with migrations/postgres.

-- When a performance is canceled, are its holders credited the ticket price? (0/1)
ALTER TABLE events ADD COLUMN refund_on_cancel INTEGER NOT NULL DEFAULT 1;

-- Set once when the performance is canceled: no more tickets are issued for it.
ALTER TABLE performances ADD COLUMN canceled_at TIMESTAMP;

-- Canceling a whole performance: a job that cancels its tickets a bounded batch at a time.
-- Its counters move in the same transaction as each batch, so after a crash they are exact
-- and running it again finishes the rest.
CREATE TABLE performance_cancellations (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    performance_id    BIGINT    NOT NULL UNIQUE REFERENCES performances (id),
    reason            TEXT      NOT NULL,
    refund_to_credit  INTEGER   NOT NULL,
    status            TEXT      NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    total             BIGINT    NOT NULL,             -- tickets to cancel when it began
    canceled          BIGINT    NOT NULL DEFAULT 0,   -- tickets canceled so far
    started_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP
);

-- One row per canceled ticket: why, and what was refunded. The key makes a second
-- cancellation of a ticket impossible, whatever path it takes.
CREATE TABLE ticket_cancellations (
    ticket_id        BIGINT    PRIMARY KEY NOT NULL REFERENCES tickets (id),
    reason           TEXT      NOT NULL,
    refund_minor     BIGINT    NOT NULL CHECK (refund_minor >= 0),   -- credited; 0 when none
    currency         TEXT      NOT NULL,
    cancellation_id  BIGINT    REFERENCES performance_cancellations (id),
    canceled_at      TIMESTAMP NOT NULL
);

-- At most one cancellation refund per ticket, enforced by the ledger itself.
CREATE UNIQUE INDEX credit_ledger_one_cancel_refund ON credit_ledger (ticket_id)
    WHERE reason = 'cancel_refund';
CREATE INDEX credit_ledger_ticket ON credit_ledger (ticket_id);

-- Each time a patron opened a signed link (their ticket page, or a claim link).
CREATE TABLE link_opens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  BIGINT    NOT NULL,
    purpose    TEXT      NOT NULL CHECK (purpose IN ('view', 'claim')),
    opened_at  TIMESTAMP NOT NULL
);
CREATE INDEX link_opens_ticket ON link_opens (ticket_id);
CREATE INDEX tickets_replaces ON tickets (replaces_ticket_id);
