ALTER TABLE deployments DROP COLUMN routing_error;
ALTER TABLE deployments DROP COLUMN dns_record_id;
ALTER TABLE deployments DROP COLUMN tunnel_service;
ALTER TABLE deployments DROP COLUMN tunnel_host;
