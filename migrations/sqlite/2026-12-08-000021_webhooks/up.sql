-- Webhooks (issue 19): endpoints the box office registers, and an outbox of deliveries to them.
-- Keep in step with migrations/postgres.
--
-- Every journey touch is queued for delivery by a trigger on the row the use case writes anyway,
-- so it is queued in the change's own transaction, by every writer (API, console, CLI, worker),
-- with no second code path to forget. Each trigger inserts one delivery per endpoint that wants
-- the touch's kind: with no endpoint registered it inserts nothing. Deliveries keep the order of
-- their ids; the worker sends a ticket's next touch to an endpoint only after the earlier one
-- was delivered.
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    url             TEXT      NOT NULL,
    kinds           TEXT      NOT NULL,   -- the kinds wanted, as ",issued,scanned,"
    secret          TEXT      NOT NULL,   -- "whsec_" + base64 of 32 random bytes
    created_at      TIMESTAMP NOT NULL,
    failing_since   TIMESTAMP,            -- the first failure since the last success
    last_success_at TIMESTAMP,
    disabled_at     TIMESTAMP,            -- set after failing for `webhook_disable_after_hours`
    disabled_reason TEXT
);

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- the webhook-id is "msg_" + this
    endpoint_id     BIGINT    NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    ticket_id       BIGINT,
    kind            TEXT      NOT NULL,
    data            TEXT      NOT NULL,   -- JSON: the touch's facts
    occurred_at     TIMESTAMP NOT NULL,
    status          TEXT      NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered')),
    attempts        INTEGER   NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    claim_token     TEXT,
    last_attempt_at TIMESTAMP,
    last_status     INTEGER,              -- the endpoint's HTTP status at the last attempt
    last_error      TEXT,
    delivered_at    TIMESTAMP
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_ticket ON webhook_deliveries (endpoint_id, ticket_id, id);
CREATE INDEX webhook_deliveries_claim ON webhook_deliveries (claim_token);

CREATE TRIGGER webhook_issued AFTER INSERT ON tickets
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.id, 'issued',
           json_object('ticket_id', NEW.id, 'performance_id', NEW.performance_id,
                       'holder_name', NEW.holder_name, 'holder_email', NEW.holder_email,
                       'price_minor', NEW.price_minor, 'currency', NEW.currency,
                       'seat', NEW.seat, 'section', NEW.section, 'generation', NEW.generation,
                       'external_ref', NEW.external_ref, 'replaces_ticket_id', NEW.replaces_ticket_id),
           NEW.issued_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e WHERE instr(e.kinds, ',issued,') > 0 ORDER BY e.id;
END;

CREATE TRIGGER webhook_scanned AFTER INSERT ON arrival_events WHEN NEW.ticket_id IS NOT NULL
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.ticket_id, 'scanned',
           json_object('ticket_id', NEW.ticket_id, 'scan_id', NEW.id,
                       'performance_id', NEW.performance_id, 'outcome', NEW.outcome,
                       'gate', NEW.gate, 'device', NEW.device,
                       'token_generation', NEW.token_generation,
                       'offline', json(CASE WHEN NEW.uploaded_at IS NULL THEN 'false' ELSE 'true' END),
                       'device_refusal', NEW.device_refusal),
           NEW.scanned_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e WHERE instr(e.kinds, ',scanned,') > 0 ORDER BY e.id;
END;

CREATE TRIGGER webhook_link_opened AFTER INSERT ON link_opens
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.ticket_id, 'link_opened',
           json_object('ticket_id', NEW.ticket_id, 'purpose', NEW.purpose),
           NEW.opened_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e WHERE instr(e.kinds, ',link_opened,') > 0 ORDER BY e.id;
END;

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

CREATE TRIGGER webhook_canceled AFTER INSERT ON ticket_cancellations
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.ticket_id, 'canceled',
           json_object('ticket_id', NEW.ticket_id, 'reason', NEW.reason,
                       'refund_minor', NEW.refund_minor, 'currency', NEW.currency,
                       'performance_cancellation_id', NEW.cancellation_id),
           NEW.canceled_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e WHERE instr(e.kinds, ',canceled,') > 0 ORDER BY e.id;
END;

CREATE TRIGGER webhook_transfer_offered AFTER INSERT ON transfers
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.ticket_id, 'transferred',
           json_object('ticket_id', NEW.ticket_id, 'transfer_id', NEW.id, 'status', NEW.status,
                       'from_name', NEW.from_name, 'from_email', NEW.from_email,
                       'to_name', NEW.to_name, 'to_email', NEW.to_email,
                       'claimed_ticket_id', NEW.claimed_ticket_id),
           NEW.offered_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e WHERE instr(e.kinds, ',transferred,') > 0 ORDER BY e.id;
END;

CREATE TRIGGER webhook_transfer_resolved AFTER UPDATE OF status ON transfers
WHEN NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.ticket_id, 'transferred',
           json_object('ticket_id', NEW.ticket_id, 'transfer_id', NEW.id, 'status', NEW.status,
                       'from_name', NEW.from_name, 'from_email', NEW.from_email,
                       'to_name', NEW.to_name, 'to_email', NEW.to_email,
                       'claimed_ticket_id', NEW.claimed_ticket_id),
           COALESCE(NEW.resolved_at, strftime('%Y-%m-%d %H:%M:%f', 'now')),
           strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e WHERE instr(e.kinds, ',transferred,') > 0 ORDER BY e.id;
END;

-- The exchange receipt is queued in the exchange's own transaction: it dates the exchange and
-- carries its facts (as the journey reads it).
CREATE TRIGGER webhook_exchanged AFTER INSERT ON outbox
WHEN NEW.kind = 'exchange_receipt' AND NEW.ticket_id IS NOT NULL
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.ticket_id, 'exchanged',
           json_object('ticket_id', NEW.ticket_id,
                       'receipt', CASE WHEN json_valid(NEW.detail) THEN json(NEW.detail) END),
           NEW.created_at, strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e WHERE instr(e.kinds, ',exchanged,') > 0 ORDER BY e.id;
END;

CREATE TRIGGER webhook_email_done AFTER UPDATE OF status ON outbox
WHEN NEW.status IS NOT OLD.status AND NEW.status IN ('sent', 'failed') AND NEW.ticket_id IS NOT NULL
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, ticket_id, kind, data, occurred_at, next_attempt_at)
    SELECT e.id, NEW.ticket_id, 'email_' || NEW.status,
           json_object('ticket_id', NEW.ticket_id, 'email_id', NEW.id, 'email_kind', NEW.kind,
                       'recipient', NEW.recipient, 'attempts', NEW.attempts,
                       'message_id', NEW.message_id, 'error', NEW.last_error),
           COALESCE(NEW.sent_at, strftime('%Y-%m-%d %H:%M:%f', 'now')),
           strftime('%Y-%m-%d %H:%M:%f', 'now')
    FROM webhook_endpoints e WHERE instr(e.kinds, ',email_' || NEW.status || ',') > 0 ORDER BY e.id;
END;
