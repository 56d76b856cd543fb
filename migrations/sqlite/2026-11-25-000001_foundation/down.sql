DROP TABLE idempotency_keys;
DROP TABLE arrival_events;
DROP TABLE tickets;
DROP TABLE performances;
DROP TABLE events;
DROP TABLE signing_keys;
DROP TABLE api_keys;
