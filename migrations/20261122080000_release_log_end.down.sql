ALTER TABLE releases DROP COLUMN log_ended_at;
