-- Migration 5: leavers from an HR list, the population of the return-of-assets control (RET-01).
CREATE TABLE leaver (
    id INTEGER PRIMARY KEY,
    ingest_id INTEGER NOT NULL REFERENCES ingest (id),
    line INTEGER NOT NULL,
    pointer TEXT,
    source_record_id TEXT,
    raw_sha256 TEXT NOT NULL,
    employee_id TEXT,
    email TEXT,
    username TEXT,
    display_name TEXT,
    termination_date TEXT NOT NULL,
    extra TEXT
) STRICT;
CREATE INDEX leaver_by_ingest ON leaver (ingest_id);
