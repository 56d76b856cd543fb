DROP TRIGGER webhook_consent ON consent_changes;
DROP FUNCTION webhook_consent();
DROP INDEX credit_ledger_one_no_show_credit;
DELETE FROM credit_ledger WHERE reason = 'no_show_credit';
DROP TABLE consent_changes;
DROP TABLE marketing_opt_outs;
DROP TABLE message_runs;
DROP TABLE message_rules;
ALTER TABLE events DROP COLUMN no_show_credit_percent;
ALTER TABLE performances DROP COLUMN ends_at;
ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_reason_check;
ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_reason_check
    CHECK (reason IN ('exchange', 'exchange_purchase', 'box_office_purchase', 'cancel_refund'));
