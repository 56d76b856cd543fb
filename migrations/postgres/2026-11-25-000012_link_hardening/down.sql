DROP INDEX transfers_recipient;
