-- Languages (issue 19): every ticket speaks one language to its patron, in its emails and on
-- its pages: the one given when it was issued, else its event's. Stored as the language's code
-- ("en", "de"), checked by domain::locale before it is written.
ALTER TABLE events ADD COLUMN locale TEXT NOT NULL DEFAULT 'en'
    CHECK (locale IN ('en', 'de'));
ALTER TABLE tickets ADD COLUMN locale TEXT NOT NULL DEFAULT 'en'
    CHECK (locale IN ('en', 'de'));

-- A message rule's subject and body in other languages: a JSON array of
-- {"locale", "subject", "body"}, written and read only by db::message_rules.
ALTER TABLE message_rules ADD COLUMN translations TEXT NOT NULL DEFAULT '[]';
