ALTER TABLE message_rules DROP COLUMN translations;
ALTER TABLE tickets DROP COLUMN locale;
ALTER TABLE events DROP COLUMN locale;
