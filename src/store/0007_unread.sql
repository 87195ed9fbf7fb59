-- Migration 7: the CSV columns an ingest did not read from, as a JSON array of header names in
-- file order, so that `ingests` and the pack can say what evident left unread.
-- NULL where nobody counted: JSON and log readers, and ingests made before this migration.
ALTER TABLE ingest ADD COLUMN unread TEXT;
