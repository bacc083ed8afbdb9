ALTER TABLE releases DROP COLUMN source_release_id;
ALTER TABLE releases DROP COLUMN env_snapshot;
