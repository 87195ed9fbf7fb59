-- Migration 2: the ledger of packs this store has issued (each names its predecessor by hash).
CREATE TABLE pack (
    seq INTEGER PRIMARY KEY,
    manifest_sha256 TEXT NOT NULL UNIQUE,
    prev TEXT,
    scope TEXT NOT NULL,
    key_id TEXT NOT NULL,
    manifest BLOB NOT NULL
) STRICT;
