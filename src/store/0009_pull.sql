-- Migration 9: API pulls (`evident pull`). A pull is one transaction of several ingests, one per
-- page of the source's list; each page keeps its request (secrets stripped), status and time,
-- and the pull keeps what the source said its total was.
CREATE TABLE pull (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    server TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    pages INTEGER NOT NULL,
    items INTEGER NOT NULL,
    reported_total INTEGER,
    total_basis TEXT NOT NULL
) STRICT;

CREATE TABLE pull_page (
    ingest_id INTEGER PRIMARY KEY REFERENCES ingest(id),
    pull_id INTEGER NOT NULL REFERENCES pull(id),
    page INTEGER NOT NULL,
    url TEXT NOT NULL,
    status INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    items INTEGER NOT NULL
) STRICT;
CREATE INDEX pull_page_pull ON pull_page (pull_id, page);
