-- The box office's searches (issue 16). Keep in step with migrations/sqlite.
--
-- A performance's tickets, a page at a time in id order, with or without a status filter.
CREATE INDEX tickets_performance_id ON tickets (performance_id, id);
CREATE INDEX tickets_performance_status ON tickets (performance_id, status, id);

-- Patron search: prefix ranges over the name's three keys and the email, folded A-Z to a-z.
-- Under the "C" collation lower() folds A-Z only, as SQLite's lower() does, and the result
-- compares in byte order, as SQLite's does. Each expression is exactly the one
-- src/db/search.rs queries (and domain::search::name_keys computes): the whole name, what
-- follows its first space, what follows its last space. Each index is in the order a search
-- reads a range in (key, name, email, id: SQLite's order, whose indexes end in the rowid), so
-- a range stops after its first rows without sorting.
CREATE INDEX tickets_search_name_first ON tickets
    (lower(holder_name COLLATE "C"), holder_name COLLATE "C", holder_email COLLATE "C", id);
CREATE INDEX tickets_search_name_second ON tickets
    (lower(substr(holder_name, strpos(holder_name, ' ') + 1) COLLATE "C"),
     holder_name COLLATE "C", holder_email COLLATE "C", id);
CREATE INDEX tickets_search_name_last ON tickets
    (lower(split_part(holder_name, ' ', -1) COLLATE "C"),
     holder_name COLLATE "C", holder_email COLLATE "C", id);
CREATE INDEX tickets_search_email ON tickets
    (lower(holder_email COLLATE "C"), holder_name COLLATE "C", holder_email COLLATE "C", id);
