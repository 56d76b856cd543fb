-- The box office's searches (issue 16). Keep in step with migrations/sqlite.
--
-- A performance's tickets, a page at a time in id order, with or without a status filter.
CREATE INDEX tickets_performance_id ON tickets (performance_id, id);
CREATE INDEX tickets_performance_status ON tickets (performance_id, status, id);

-- Patron search: prefix ranges over the name's three keys and the email, folded A-Z to a-z
-- (translate, not lower: lower folds more than SQLite's lower does) and in byte order
-- (COLLATE "C", SQLite's order). Each expression is exactly the one src/db/search.rs queries
-- (and domain::search::name_keys computes): the whole name, what follows its first space, what
-- follows its last space.
CREATE INDEX tickets_search_name_first ON tickets
    ((translate(holder_name, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) COLLATE "C");
CREATE INDEX tickets_search_name_second ON tickets
    ((translate(substr(holder_name, strpos(holder_name, ' ') + 1), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) COLLATE "C");
CREATE INDEX tickets_search_name_last ON tickets
    ((translate(split_part(holder_name, ' ', -1), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) COLLATE "C");
CREATE INDEX tickets_search_email ON tickets
    ((translate(holder_email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) COLLATE "C");
