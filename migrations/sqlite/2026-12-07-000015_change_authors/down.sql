ALTER TABLE performance_cancellations DROP COLUMN started_by;
DROP TABLE change_authors;
