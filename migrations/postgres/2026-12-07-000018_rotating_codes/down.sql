ALTER TABLE arrival_events DROP COLUMN code_kind;
ALTER TABLE events DROP COLUMN reveal_hours_before_doors;
ALTER TABLE events DROP COLUMN rotation_seconds;
ALTER TABLE events DROP COLUMN barcode;
