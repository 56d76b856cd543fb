-- Engagement by what happened at the door (issue 19).

-- When a performance ends; NULL: two and a half hours after its start.
ALTER TABLE performances ADD COLUMN ends_at TIMESTAMP;

-- The share of a no-show's ticket price offered back as stored credit (1 to 100); NULL: none.
ALTER TABLE events ADD COLUMN no_show_credit_percent INTEGER
    CHECK (no_show_credit_percent BETWEEN 1 AND 100);

-- An event's message rules: whom (admitted / not_admitted), when (offset_minutes after the
-- performance's start or end), service or marketing, and the texts (placeholders as the lobby
-- message has them).
CREATE TABLE message_rules (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id       BIGINT    NOT NULL REFERENCES events (id),
    audience       TEXT      NOT NULL CHECK (audience IN ('admitted', 'not_admitted')),
    anchor         TEXT      NOT NULL CHECK (anchor IN ('start', 'end')),
    offset_minutes INTEGER   NOT NULL,
    purpose        TEXT      NOT NULL CHECK (purpose IN ('service', 'marketing')),
    subject        TEXT      NOT NULL,
    body           TEXT      NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX message_rules_event ON message_rules (event_id);

-- A rule queued for a performance: once, whatever restarts happen (as reminder_runs).
CREATE TABLE message_runs (
    rule_id        BIGINT    NOT NULL,
    performance_id BIGINT    NOT NULL REFERENCES performances (id),
    queued         BIGINT    NOT NULL,
    run_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (rule_id, performance_id)
);

-- Patrons who asked for no marketing email (by address); service email still goes.
CREATE TABLE marketing_opt_outs (
    patron_email  TEXT      PRIMARY KEY,
    opted_out_at  TIMESTAMP NOT NULL
);

-- Every change of a patron's consent, with the ticket whose link made it: the journey's record.
CREATE TABLE consent_changes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    patron_email  TEXT      NOT NULL,
    ticket_id     BIGINT    REFERENCES tickets (id),
    opted_out     INTEGER   NOT NULL,   -- 1: opted out of marketing; 0: opted back in
    changed_at    TIMESTAMP NOT NULL
);
CREATE INDEX consent_changes_ticket ON consent_changes (ticket_id);

-- The ledger learns a fifth reason: a no-show's ticket turned into credit (at most once per
-- ticket). SQLite cannot change a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE credit_ledger_rebuilt (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    patron_email   TEXT      NOT NULL,
    currency       TEXT      NOT NULL,
    amount_minor   BIGINT    NOT NULL,   -- positive: credit added; negative: credit spent
    reason         TEXT      NOT NULL
                   CHECK (reason IN ('exchange', 'exchange_purchase', 'box_office_purchase',
                                     'cancel_refund', 'no_show_credit')),
    ticket_id      BIGINT,               -- the ticket that earned or used the credit
    created_at     TIMESTAMP NOT NULL
);
INSERT INTO credit_ledger_rebuilt (id, patron_email, currency, amount_minor, reason, ticket_id, created_at)
    SELECT id, patron_email, currency, amount_minor, reason, ticket_id, created_at FROM credit_ledger;
DROP TABLE credit_ledger;
ALTER TABLE credit_ledger_rebuilt RENAME TO credit_ledger;
CREATE INDEX credit_ledger_patron ON credit_ledger (patron_email, currency, id);
CREATE UNIQUE INDEX credit_ledger_one_cancel_refund ON credit_ledger (ticket_id)
    WHERE reason = 'cancel_refund';
CREATE INDEX credit_ledger_ticket ON credit_ledger (ticket_id);
CREATE UNIQUE INDEX credit_ledger_one_no_show_credit ON credit_ledger (ticket_id)
    WHERE reason = 'no_show_credit';

-- The rebuilt ledger lost the webhook trigger of 000021: the same again.
CREATE TRIGGER webhook_credited AFTER INSERT ON credit_ledger
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.ticket_id, 'credited',
           json_object('ticket_id', NEW.ticket_id, 'patron_email', NEW.patron_email,
                       'amount_minor', NEW.amount_minor, 'currency', NEW.currency,
                       'reason', NEW.reason),
           NEW.created_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e WHERE instr(e.kinds, ',credited,') > 0 ORDER BY e.id;
END;

-- A consent change is a touch of the journey: delivered as `unsubscribed` or `resubscribed`.
CREATE TRIGGER webhook_consent AFTER INSERT ON consent_changes WHEN NEW.ticket_id IS NOT NULL
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.ticket_id, k.kind,
           json_object('ticket_id', NEW.ticket_id, 'patron_email', NEW.patron_email),
           NEW.changed_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e,
         (SELECT CASE WHEN NEW.opted_out = 1 THEN 'unsubscribed' ELSE 'resubscribed' END AS kind) k
    WHERE instr(e.kinds, ',' || k.kind || ',') > 0 ORDER BY e.id;
END;
