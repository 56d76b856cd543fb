-- A staff key may expire (`encore keys create --expires-in`), and records when it was last
-- used, coarsely (at most once a minute), for `encore keys list`.
ALTER TABLE api_keys ADD COLUMN expires_at TIMESTAMP;
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMP;
