-- The actor's name is kept with each entry, so it survives the account; indexes for the
-- filters of GET /api/v1/audit.
ALTER TABLE audit_log ADD COLUMN actor_name text;
UPDATE audit_log a SET actor_name = u.username FROM users u WHERE u.id = a.actor_id;
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (lower(actor_name), id DESC);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, id DESC);
