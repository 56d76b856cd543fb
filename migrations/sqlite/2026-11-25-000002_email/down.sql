DROP TABLE reminder_runs;
DROP TABLE outbox;
ALTER TABLE events DROP COLUMN reminder_offsets_minutes;
