-- Migration 8: certificates withdrawn by a signed revocation (`certificate revoke`), as the
-- signed file bytes. Packs carry them; DISP-03 no longer counts a revoked certificate.
CREATE TABLE revocation (
    certificate TEXT PRIMARY KEY,
    body BLOB NOT NULL
) STRICT;
