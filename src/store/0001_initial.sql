-- Migration 1: ingests, raw files, issues and the canonical records.
CREATE TABLE blob (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL
) STRICT;

-- Raw file bytes in 4 MiB chunks, so files of any size are kept byte for byte.
CREATE TABLE blob_chunk (
    sha256 TEXT NOT NULL REFERENCES blob (sha256),
    idx INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (sha256, idx)
) STRICT;

CREATE TABLE ingest (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL UNIQUE REFERENCES blob (sha256),
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
    warnings INTEGER NOT NULL
) STRICT;

CREATE TABLE ingest_issue (
    id INTEGER PRIMARY KEY,
    ingest_id INTEGER NOT NULL REFERENCES ingest (id),
    kind TEXT NOT NULL CHECK (kind IN ('warning', 'rejection')),
    line INTEGER NOT NULL,
    pointer TEXT,
    field TEXT,
    message TEXT NOT NULL,
    raw TEXT
) STRICT;
CREATE INDEX ingest_issue_by_ingest ON ingest_issue (ingest_id, kind);

CREATE TABLE asset (
    id INTEGER PRIMARY KEY,
    ingest_id INTEGER NOT NULL REFERENCES ingest (id),
    line INTEGER NOT NULL,
    pointer TEXT,
    source_record_id TEXT,
    raw_sha256 TEXT NOT NULL,
    tz_assumed INTEGER NOT NULL,
    serial_raw TEXT NOT NULL,
    serial_key TEXT NOT NULL,
    serial_quality TEXT NOT NULL,
    asset_tag TEXT,
    name TEXT,
    manufacturer TEXT,
    model TEXT,
    model_id TEXT,
    category TEXT,
    device_class TEXT NOT NULL,
    owner_email TEXT,
    owner_username TEXT,
    owner_name TEXT,
    assignee_kind TEXT NOT NULL,
    ownership TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    lifecycle_label TEXT,
    purchase_date TEXT,
    warranty_end TEXT,
    eol_date TEXT,
    location TEXT,
    last_seen_at TEXT,
    last_audit_at TEXT,
    extra TEXT
) STRICT;
CREATE INDEX asset_by_serial ON asset (serial_key);

CREATE TABLE enrollment (
    id INTEGER PRIMARY KEY,
    ingest_id INTEGER NOT NULL REFERENCES ingest (id),
    line INTEGER NOT NULL,
    pointer TEXT,
    source_record_id TEXT,
    raw_sha256 TEXT NOT NULL,
    tz_assumed INTEGER NOT NULL,
    serial_raw TEXT NOT NULL,
    serial_key TEXT NOT NULL,
    serial_quality TEXT NOT NULL,
    asset_tag TEXT,
    hostname TEXT,
    manufacturer TEXT,
    model TEXT,
    mdm TEXT NOT NULL,
    state TEXT NOT NULL,
    state_raw TEXT,
    method TEXT NOT NULL,
    supervised INTEGER,
    enrolled_at TEXT,
    last_checkin_at TEXT,
    compliance TEXT NOT NULL,
    compliance_raw TEXT,
    platform TEXT NOT NULL,
    os_version TEXT,
    user_principal TEXT,
    ownership TEXT NOT NULL,
    extra TEXT
) STRICT;
CREATE INDEX enrollment_by_serial ON enrollment (serial_key);

CREATE TABLE encryption (
    id INTEGER PRIMARY KEY,
    ingest_id INTEGER NOT NULL REFERENCES ingest (id),
    line INTEGER NOT NULL,
    pointer TEXT,
    source_record_id TEXT,
    raw_sha256 TEXT NOT NULL,
    tz_assumed INTEGER NOT NULL,
    serial_raw TEXT NOT NULL,
    serial_key TEXT NOT NULL,
    serial_quality TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    volume TEXT,
    state TEXT NOT NULL,
    state_raw TEXT,
    method TEXT NOT NULL,
    cipher TEXT,
    percent INTEGER,
    recovery_key TEXT NOT NULL,
    key_type TEXT NOT NULL,
    observed_at TEXT
) STRICT;
CREATE INDEX encryption_by_serial ON encryption (serial_key);

CREATE TABLE wipe (
    id INTEGER PRIMARY KEY,
    ingest_id INTEGER NOT NULL REFERENCES ingest (id),
    line INTEGER NOT NULL,
    pointer TEXT,
    source_record_id TEXT,
    raw_sha256 TEXT NOT NULL,
    tz_assumed INTEGER NOT NULL,
    media_serial_raw TEXT NOT NULL,
    media_serial_key TEXT NOT NULL,
    media_serial_quality TEXT NOT NULL,
    host_serial_raw TEXT NOT NULL,
    host_serial_key TEXT NOT NULL,
    host_serial_quality TEXT NOT NULL,
    asset_tag TEXT,
    device_name TEXT,
    media_type TEXT NOT NULL,
    media_model TEXT,
    media_manufacturer TEXT,
    capacity_bytes INTEGER,
    tool TEXT NOT NULL,
    tool_version TEXT,
    method_raw TEXT,
    technique TEXT NOT NULL,
    nist_category TEXT NOT NULL,
    passes INTEGER,
    verification TEXT NOT NULL,
    verification_raw TEXT,
    result TEXT NOT NULL,
    result_raw TEXT,
    started_at TEXT,
    completed_at TEXT,
    operator TEXT,
    organisation TEXT,
    vendor TEXT,
    certificate_id TEXT,
    lot TEXT,
    report_id TEXT,
    hpa_dco TEXT NOT NULL,
    errors INTEGER,
    extra TEXT
) STRICT;
CREATE INDEX wipe_by_media ON wipe (media_serial_key);
CREATE INDEX wipe_by_host ON wipe (host_serial_key);

CREATE TABLE media_link (
    id INTEGER PRIMARY KEY,
    ingest_id INTEGER NOT NULL REFERENCES ingest (id),
    line INTEGER NOT NULL,
    pointer TEXT,
    source_record_id TEXT,
    raw_sha256 TEXT NOT NULL,
    media_serial_raw TEXT NOT NULL,
    media_serial_key TEXT NOT NULL,
    media_serial_quality TEXT NOT NULL,
    host_serial_key TEXT NOT NULL,
    host_serial_quality TEXT NOT NULL,
    media_model TEXT
) STRICT;
CREATE INDEX media_link_by_media ON media_link (media_serial_key);
