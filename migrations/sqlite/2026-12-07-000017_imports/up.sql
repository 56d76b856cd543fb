-- A CSV import started in the box-office console. The file is kept with the job so that a
-- process stopped mid-import finishes it on its next start (an import run again issues nothing
-- twice), and progress is read from here by whichever process serves the progress page.
CREATE TABLE imports (
    id             TEXT      PRIMARY KEY,  -- random, hex: the progress page's address
    performance_id BIGINT    NOT NULL REFERENCES performances (id),
    staff_id       BIGINT    NOT NULL REFERENCES staff_accounts (id),  -- only they read it
    csv            TEXT      NOT NULL,
    total          BIGINT    NOT NULL,     -- data rows in the file
    done           BIGINT    NOT NULL,     -- rows read so far
    status         TEXT      NOT NULL,     -- running, finished, stopped
    report         TEXT,                   -- finished: the report, as JSON
    error          TEXT,                   -- stopped: why
    started_at     TIMESTAMP NOT NULL,
    finished_at    TIMESTAMP
);
CREATE INDEX imports_status ON imports (status);
