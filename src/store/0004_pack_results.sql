-- Migration 4: each pack's evaluation summary (results/evaluation.json), so the next pack's report
-- can chart how the numbers moved across the chain.
ALTER TABLE pack ADD COLUMN evaluation BLOB;
