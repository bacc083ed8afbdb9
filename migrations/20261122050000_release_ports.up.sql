-- A redeploy starts the new release on a port of its own next to the live one, so ports now
-- belong to releases too; the release remembers where its container is published.
ALTER TABLE ports ADD COLUMN release_id uuid REFERENCES releases (id) ON DELETE SET NULL;
ALTER TABLE releases ADD COLUMN host_port integer CHECK (host_port BETWEEN 1 AND 65535);
