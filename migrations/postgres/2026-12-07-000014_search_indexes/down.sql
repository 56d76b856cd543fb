DROP INDEX tickets_search_email;
DROP INDEX tickets_search_name_last;
DROP INDEX tickets_search_name_second;
DROP INDEX tickets_search_name_first;
DROP INDEX tickets_performance_status;
DROP INDEX tickets_performance_id;
