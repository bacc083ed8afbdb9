ALTER TABLE releases DROP COLUMN host_port;
ALTER TABLE ports DROP COLUMN release_id;
