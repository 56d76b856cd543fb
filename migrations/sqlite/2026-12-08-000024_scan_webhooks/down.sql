-- The row triggers of migration 000021, as they were.
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
