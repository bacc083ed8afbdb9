-- A rollback runs an earlier release's image with that release's environment: each release
-- keeps a sealed copy of the variables it ran with, and a rollback names its source.
ALTER TABLE releases ADD COLUMN env_snapshot bytea;
ALTER TABLE releases ADD COLUMN source_release_id uuid REFERENCES releases (id) ON DELETE SET NULL;
