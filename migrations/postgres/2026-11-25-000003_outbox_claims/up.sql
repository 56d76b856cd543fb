-- Each claim of an outbox row gets its own token: only the worker holding the current claim
-- may record the row's result, so a worker whose lease ran out cannot overwrite a newer claim.
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
