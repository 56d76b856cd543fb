-- The door: offline bundles, offline scan uploads, and the lobby message. Keep in step with
-- migrations/postgres.

-- What a scanner must refuse changes whenever a ticket's status or generation does. A trigger
-- journals every such change, so every code path that makes one (exchange, transfer, claim,
-- reinstate, cancel) is covered in its own transaction. Each performance counts its changes:
-- the counter's row is written in the same transaction, so versions commit in order (one
-- writer on SQLite; the row lock on PostgreSQL) and "everything after version V" is exact.
ALTER TABLE performances ADD COLUMN door_version BIGINT NOT NULL DEFAULT 0;

CREATE TABLE door_changes (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    performance_id  BIGINT    NOT NULL,
    ticket_id       BIGINT    NOT NULL,
    generation      INTEGER   NOT NULL,
    status          TEXT      NOT NULL,
    version         BIGINT    NOT NULL,
    UNIQUE (performance_id, version)
);

-- Not on admission (admitted_at): that is the scan path, and it changes nothing a scanner
-- refuses by. UPDATE OF fires only for statements that set status or generation.
CREATE TRIGGER tickets_door_change AFTER UPDATE OF status, generation ON tickets
WHEN OLD.status IS NOT NEW.status OR OLD.generation IS NOT NEW.generation
BEGIN
    UPDATE performances SET door_version = door_version + 1 WHERE id = NEW.performance_id;
    INSERT INTO door_changes (performance_id, ticket_id, generation, status, version)
        SELECT NEW.performance_id, NEW.id, NEW.generation, NEW.status, door_version
        FROM performances WHERE id = NEW.performance_id;
END;

-- A ticket born at another generation (a claimed transfer) or not valid is journaled too, so an
-- incremental bundle says what a full one would.
CREATE TRIGGER tickets_door_insert AFTER INSERT ON tickets
WHEN NEW.status <> 'valid' OR NEW.generation <> 1
BEGIN
    UPDATE performances SET door_version = door_version + 1 WHERE id = NEW.performance_id;
    INSERT INTO door_changes (performance_id, ticket_id, generation, status, version)
        SELECT NEW.performance_id, NEW.id, NEW.generation, NEW.status, door_version
        FROM performances WHERE id = NEW.performance_id;
END;

-- Changes made before this migration, journaled once.
INSERT INTO door_changes (performance_id, ticket_id, generation, status, version)
    SELECT performance_id, id, generation, status,
           ROW_NUMBER() OVER (PARTITION BY performance_id ORDER BY id)
    FROM tickets WHERE status <> 'valid' OR generation <> 1;
UPDATE performances SET door_version =
    (SELECT COALESCE(MAX(version), 0) FROM door_changes d WHERE d.performance_id = performances.id);

-- Scans uploaded by a scanner that was offline: the key makes an upload idempotent (the same
-- scan uploaded twice is recorded once); scanned_at is then the device's own clock, and
-- uploaded_at when the server received it (NULL for scans made online).
ALTER TABLE arrival_events ADD COLUMN upload_key TEXT;
ALTER TABLE arrival_events ADD COLUMN uploaded_at TIMESTAMP;
-- Partial: online scans (no key) add no index entry on the door's hot path.
CREATE UNIQUE INDEX arrival_events_upload_key ON arrival_events (upload_key)
    WHERE upload_key IS NOT NULL;

-- The event's lobby message, emailed to each holder on admission (a template with
-- placeholders such as {holder_name}); NULL: none.
ALTER TABLE events ADD COLUMN lobby_message TEXT;
