-- Venue details (issue 18): optional event settings shown on the patron's ticket page and in the
-- confirmation email. The venue's postal address (a few lines, joined by line breaks; the page
-- links it to a map search), and the phone number and email address patrons use to ask for
-- help. NULL: not set, and nothing more is shown. Checked by domain::venue before they are
-- written; the CHECKs only bound their length.
ALTER TABLE events ADD COLUMN venue_address TEXT
    CHECK (length(venue_address) BETWEEN 1 AND 500);
ALTER TABLE events ADD COLUMN help_phone TEXT
    CHECK (length(help_phone) BETWEEN 3 AND 32);
ALTER TABLE events ADD COLUMN help_email TEXT
    CHECK (length(help_email) BETWEEN 3 AND 254);
