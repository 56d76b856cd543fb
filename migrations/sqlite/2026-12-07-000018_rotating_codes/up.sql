-- Rotating codes (issue 17). An event's barcode: 'static' (the signed token, as before) or
-- 'rotating' (a TOTP code over a per-ticket secret that changes every rotation_seconds; the
-- secret is derived from a server key, the ticket and its generation, so nothing new is stored
-- per ticket). reveal_hours_before_doors: the code appears only that long before doors open.
ALTER TABLE events ADD COLUMN barcode TEXT NOT NULL DEFAULT 'static'
    CHECK (barcode IN ('static', 'rotating'));
ALTER TABLE events ADD COLUMN rotation_seconds INTEGER NOT NULL DEFAULT 15
    CHECK (rotation_seconds BETWEEN 5 AND 300);
ALTER TABLE events ADD COLUMN reveal_hours_before_doors INTEGER
    CHECK (reveal_hours_before_doors BETWEEN 0 AND 720);

-- Which kind of code a scan presented: 'static', 'rotating' or 'paper' (a static code the box
-- office printed on purpose, accepted at a rotating event's door). NULL for scans recorded
-- before this column existed, and for codes that named no ticket.
ALTER TABLE arrival_events ADD COLUMN code_kind TEXT;
