-- Migration 3: certificates of sanitization this store issued or was given, as their signed
-- file bytes. A pack carries those dated in its scope; DISP-03 reads them.
CREATE TABLE certificate (
    id TEXT PRIMARY KEY,
    record_sha256 TEXT NOT NULL,
    date TEXT NOT NULL,
    signed INTEGER NOT NULL,
    countersigned INTEGER NOT NULL,
    body BLOB NOT NULL
) STRICT;
CREATE INDEX certificate_date ON certificate(date);
