ALTER TABLE releases DROP COLUMN step_times;
