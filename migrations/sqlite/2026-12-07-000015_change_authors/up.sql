-- Who made each change a person asked for (a ticket issued, exchanged, offered to a friend, an
-- offer taken back or claimed, a ticket canceled), named as the ticket's history shows it. Each
-- row is written in the change's own transaction, at the change's own time.
CREATE TABLE change_authors (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  BIGINT    NOT NULL REFERENCES tickets (id),
    what       TEXT      NOT NULL,  -- the journey's name of the touch: issued, exchanged, …
    made_at    TIMESTAMP NOT NULL,
    made_by    TEXT      NOT NULL   -- "Ada Lovelace (box office)", "API key “till-2” (admin)", …
);
CREATE INDEX change_authors_ticket ON change_authors (ticket_id);

-- A performance's cancellation runs in batches, perhaps in another process after a restart:
-- who started it is kept with the job, and each batch names them on the tickets it cancels.
ALTER TABLE performance_cancellations ADD COLUMN started_by TEXT;
