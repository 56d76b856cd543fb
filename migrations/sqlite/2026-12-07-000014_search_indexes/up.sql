-- The box office's searches (issue 16). Keep in step with migrations/postgres.
--
-- A performance's tickets, a page at a time in id order, with or without a status filter (the
-- rowid, the ticket id, ends every SQLite index, so (performance_id) already pages in id order).
CREATE INDEX tickets_performance_status ON tickets (performance_id, status);

-- Patron search: prefix ranges over the name's three keys and the email, folded A-Z to a-z.
-- Each expression is exactly the one src/db/search.rs queries (and domain::search::name_keys
-- computes): the whole name, what follows its first space, what follows its last space. Each
-- index also holds the name and email, in the order a search reads a range in (key, name, email,
-- rowid), so a range stops after its first rows without sorting, from the index alone.
CREATE INDEX tickets_search_name_first
    ON tickets (lower(holder_name), holder_name, holder_email);
CREATE INDEX tickets_search_name_second
    ON tickets (lower(substr(holder_name, instr(holder_name, ' ') + 1)), holder_name, holder_email);
CREATE INDEX tickets_search_name_last
    ON tickets (lower(replace(holder_name, rtrim(holder_name, replace(holder_name, ' ', '')), '')),
                holder_name, holder_email);
CREATE INDEX tickets_search_email ON tickets (lower(holder_email), holder_name, holder_email);
