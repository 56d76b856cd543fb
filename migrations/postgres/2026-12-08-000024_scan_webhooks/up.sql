-- Kept in step with migrations/sqlite, which drops its `webhook_issued` and `webhook_scanned`
-- row triggers: there the statements that write tickets and arrival events queue those touches,
-- once per batch. PostgreSQL's triggers on them already run once per statement (over its
-- transition table), so they stay; this only says so where the triggers are.
COMMENT ON TRIGGER webhook_issued ON tickets IS
    'Once per statement. SQLite has no such trigger: db::webhooks::queue_issued does its work.';
COMMENT ON TRIGGER webhook_scanned ON arrival_events IS
    'Once per statement. SQLite has no such trigger: db::webhooks::queue_scanned does its work.';
