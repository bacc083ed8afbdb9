-- When a release entered each step ({"cloning": "…", "building": "…"}), so the interface can
-- show how long each step took.
ALTER TABLE releases ADD COLUMN step_times jsonb NOT NULL DEFAULT '{}'::jsonb;
