-- A ticket handed out as a wallet pass (an Apple Wallet .pkpass downloaded, a Google Wallet link
-- made), with a fingerprint of what the pass showed when the wallets last heard of it. The worker
-- compares it with the ticket as it is now: when they differ, the pass is marked updated and the
-- wallets holding it are told (notify_pending stays set until they have been, so a crash between
-- the two tells them on the next round).
CREATE TABLE wallet_passes (
    ticket_id      BIGINT    PRIMARY KEY REFERENCES tickets (id),
    digest         TEXT      NOT NULL,             -- hex SHA-256 of what the pass shows
    updated_at     TIMESTAMP NOT NULL,             -- Apple's Last-Modified and update tag
    in_google      BOOLEAN   NOT NULL DEFAULT FALSE, -- a Google Wallet object was handed out
    notify_pending BOOLEAN   NOT NULL DEFAULT FALSE  -- changed; the wallets not yet told
);
CREATE INDEX wallet_passes_pending ON wallet_passes (notify_pending);

-- Apple devices that hold a ticket's pass and want a push when it changes (Apple's PassKit web
-- service: a device registers with the pass's authentication token and its push token).
CREATE TABLE apple_pass_registrations (
    device_library_id TEXT      NOT NULL,
    ticket_id         BIGINT    NOT NULL REFERENCES tickets (id),
    push_token        TEXT      NOT NULL,
    registered_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (device_library_id, ticket_id)
);
CREATE INDEX apple_pass_registrations_ticket ON apple_pass_registrations (ticket_id);
