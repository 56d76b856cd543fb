-- A ticket page's offers are limited per recipient address (in any letter case) within a
-- window: this index answers "the newest offers to this address" without reading them all.
CREATE INDEX transfers_recipient ON transfers (lower(to_email), offered_at);
