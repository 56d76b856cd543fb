-- Patron changes: exchange into credit or another performance, transfer to a friend.
-- Every change is a row (ledger entries, transfers); nothing a patron may ask about is overwritten.

-- Each event's policy for patron changes. Booleans are 0/1 integers (one portable schema).
ALTER TABLE events ADD COLUMN exchange_allowed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN exchange_any_event INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN exchange_fee_minor BIGINT NOT NULL DEFAULT 0 CHECK (exchange_fee_minor >= 0);
ALTER TABLE events ADD COLUMN transfer_allowed INTEGER NOT NULL DEFAULT 1;
-- No exchange or transfer within this many minutes of the start.
ALTER TABLE events ADD COLUMN change_cutoff_minutes INTEGER NOT NULL DEFAULT 120 CHECK (change_cutoff_minutes >= 0);
-- An unclaimed transfer returns to the sender after this many hours (or at the cut-off).
ALTER TABLE events ADD COLUMN transfer_offer_hours INTEGER NOT NULL DEFAULT 72 CHECK (transfer_offer_hours > 0);

-- What a ticket for this performance costs when bought with an exchange or with credit.
-- Without a price a performance cannot be the target of an exchange.
ALTER TABLE performances ADD COLUMN price_minor BIGINT CHECK (price_minor >= 0);
ALTER TABLE performances ADD COLUMN currency TEXT;

-- The ticket this one replaced (the ticket exchanged for it, or transferred to its holder).
ALTER TABLE tickets ADD COLUMN replaces_ticket_id BIGINT;

-- Credit belongs to an email address, per currency. The ledger is append-only; the account
-- row holds its sum, updated in the same transaction as each entry, and can never go negative.
CREATE TABLE credit_accounts (
    patron_email   TEXT   NOT NULL,
    currency       TEXT   NOT NULL,
    balance_minor  BIGINT NOT NULL CHECK (balance_minor >= 0),
    PRIMARY KEY (patron_email, currency)
);

CREATE TABLE credit_ledger (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    patron_email   TEXT      NOT NULL,
    currency       TEXT      NOT NULL,
    amount_minor   BIGINT    NOT NULL,   -- positive: credit added; negative: credit spent
    reason         TEXT      NOT NULL
                   CHECK (reason IN ('exchange', 'exchange_purchase', 'box_office_purchase', 'cancel_refund')),
    ticket_id      BIGINT,               -- the ticket that earned or used the credit
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX credit_ledger_patron ON credit_ledger (patron_email, currency, id);

-- A holder's offer of their ticket to a friend. One row per (ticket, generation): an offer
-- that is canceled or expires gives the ticket back with a new generation.
CREATE TABLE transfers (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id          BIGINT    NOT NULL REFERENCES tickets (id),
    generation         INTEGER   NOT NULL,
    from_name          TEXT      NOT NULL,
    from_email         TEXT      NOT NULL,
    to_name            TEXT      NOT NULL,
    to_email           TEXT      NOT NULL,
    status             TEXT      NOT NULL DEFAULT 'offered'
                       CHECK (status IN ('offered', 'claimed', 'canceled', 'expired')),
    offered_at         TIMESTAMP NOT NULL,
    expires_at         TIMESTAMP NOT NULL,
    resolved_at        TIMESTAMP,
    claimed_ticket_id  BIGINT,
    UNIQUE (ticket_id, generation)
);
CREATE INDEX transfers_open ON transfers (status, expires_at);
