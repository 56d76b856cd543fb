DROP TABLE sign_in_failures;
DROP TABLE staff_password_links;
DROP TABLE staff_sessions;
DROP TABLE staff_accounts;
