-- When a release's build log got its last line: live viewers stop following it then, which
-- can be after the release went live (the old release is retired after it).
ALTER TABLE releases ADD COLUMN log_ended_at timestamptz;
