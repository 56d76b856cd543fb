-- Idempotent staff changes: exchange, transfer, taking an offer back and cancel accept an
-- Idempotency-Key as issuing does. Keep in step with migrations/sqlite.
--
-- A change made under a key keeps what it answered (the HTTP status and the JSON body),
-- written in the transaction that claims the key and makes the change, so a retry with the
-- same key is answered the same and changes nothing. Issuing leaves both NULL: its retry is
-- answered from ticket_ids. One table for both keeps one namespace of keys per API key: a key
-- used for an issue and then for a change is caught by the same primary key and fingerprint.
ALTER TABLE idempotency_keys ADD COLUMN response_status INTEGER;
ALTER TABLE idempotency_keys ADD COLUMN response_body TEXT;
