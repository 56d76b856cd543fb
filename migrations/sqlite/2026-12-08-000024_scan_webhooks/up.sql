-- The `issued` and `scanned` touches are queued by the statements that write tickets and
-- arrival events (`db::webhooks::queue_issued` and `queue_scanned`), one INSERT ... SELECT per
-- batch, in the batch's own transaction. Keep in step with migrations/postgres.
--
-- SQLite has only row triggers: these two ran their INSERT ... SELECT FROM webhook_endpoints
-- once for every ticket issued and every scan recorded, about a tenth of a scan's CPU even with
-- no endpoint registered. Every other touch keeps its trigger (one row per change anyway).
DROP TRIGGER webhook_issued;
DROP TRIGGER webhook_scanned;
