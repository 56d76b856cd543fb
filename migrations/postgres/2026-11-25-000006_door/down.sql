ALTER TABLE events DROP COLUMN lobby_message;
DROP INDEX arrival_events_upload_key;
ALTER TABLE arrival_events DROP COLUMN uploaded_at;
ALTER TABLE arrival_events DROP COLUMN upload_key;
DROP TRIGGER tickets_door_insert ON tickets;
DROP TRIGGER tickets_door_change ON tickets;
DROP FUNCTION journal_door_change();
DROP TABLE door_changes;
ALTER TABLE performances DROP COLUMN door_version;
