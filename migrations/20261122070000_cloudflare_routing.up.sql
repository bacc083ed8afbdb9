-- What Slipway made in Cloudflare for a deployment, so a delete removes exactly that (even
-- after BASE_DOMAIN changed), and why the last attempt to route it failed, shown on the
-- deployment until the reconciler gets it through.
ALTER TABLE deployments ADD COLUMN tunnel_host text;
ALTER TABLE deployments ADD COLUMN dns_record_id text;
ALTER TABLE deployments ADD COLUMN routing_error text;
