DROP TABLE build_logs;
ALTER TABLE deployments DROP CONSTRAINT deployments_current_release;
DROP TABLE releases;
DROP TABLE workers;
DROP TABLE ports;
DROP TABLE deployment_env;
DROP TABLE deployments;
