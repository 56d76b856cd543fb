COMMENT ON TRIGGER webhook_issued ON tickets IS NULL;
COMMENT ON TRIGGER webhook_scanned ON arrival_events IS NULL;
