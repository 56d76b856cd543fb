ALTER TABLE arrival_events DROP COLUMN device_refusal;
