DROP INDEX tickets_replaces;
DROP TABLE link_opens;
DROP INDEX credit_ledger_ticket;
DROP INDEX credit_ledger_one_cancel_refund;
DROP TABLE ticket_cancellations;
DROP TABLE performance_cancellations;
ALTER TABLE performances DROP COLUMN canceled_at;
ALTER TABLE events DROP COLUMN refund_on_cancel;
