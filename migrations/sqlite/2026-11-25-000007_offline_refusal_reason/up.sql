-- The reason an offline scanner gave for turning a patron away, as it uploaded it (its own short
-- code, e.g. no_bundle): the journey can then say why, even when the server would have admitted
-- the ticket (outcome refused_offline). NULL for scans made online and for offline admissions.
-- Keep in step with migrations/postgres.
ALTER TABLE arrival_events ADD COLUMN device_refusal TEXT;
