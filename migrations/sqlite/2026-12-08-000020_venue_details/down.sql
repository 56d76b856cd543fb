ALTER TABLE events DROP COLUMN help_email;
ALTER TABLE events DROP COLUMN help_phone;
ALTER TABLE events DROP COLUMN venue_address;
