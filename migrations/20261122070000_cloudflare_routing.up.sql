-- What Slipway made in Cloudflare for a deployment, so that a delete, a new BASE_DOMAIN or a
-- moved nginx touches exactly that: the ingress rule (host name and service) and the DNS
-- record. And why the last attempt to route it failed, shown on the deployment until the
-- reconciler gets it through.
ALTER TABLE deployments ADD COLUMN tunnel_host text;
ALTER TABLE deployments ADD COLUMN tunnel_service text;
ALTER TABLE deployments ADD COLUMN dns_record_id text;
ALTER TABLE deployments ADD COLUMN routing_error text;
