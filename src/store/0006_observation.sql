-- Migration 6: an export is an observation at a date. The same bytes ingested again with another
-- as-of or other options are a new ingest (the raw bytes stay stored once, in blob). An ingest can
-- be superseded by a later one or retracted with a reason: it stays in the audit trail and every
-- pack lists it, but it no longer counts in evaluation. Nothing is ever deleted.
CREATE TABLE ingest_new (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blob (sha256),
    encoding TEXT NOT NULL,
    as_of TEXT,
    as_of_basis TEXT NOT NULL,
    options TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    rows_accepted INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    rows_empty INTEGER NOT NULL,
    records INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    superseded_by INTEGER,
    retracted TEXT
) STRICT;
INSERT INTO ingest_new (id, source, file_name, size, sha256, encoding, as_of, as_of_basis, options, tool_version,
                        rows_read, rows_accepted, rows_rejected, rows_empty, records, warnings)
    SELECT id, source, file_name, size, sha256, encoding, as_of, as_of_basis, options, tool_version,
           rows_read, rows_accepted, rows_rejected, rows_empty, records, warnings FROM ingest;
DROP TABLE ingest;
ALTER TABLE ingest_new RENAME TO ingest;
CREATE INDEX ingest_by_sha256 ON ingest (sha256);
