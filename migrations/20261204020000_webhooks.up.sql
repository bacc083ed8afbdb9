-- Push webhooks: a secret per deployment (sealed with SECRET_KEY) and every delivery with
-- what came of it. A release may be pinned to the commit a push named.
ALTER TABLE releases ADD COLUMN requested_commit text
    CHECK (requested_commit ~ '^[0-9a-f]{40}$');

CREATE TABLE deployment_webhooks (
    deployment_id uuid PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
    secret        bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    rotated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    source        text NOT NULL CHECK (source IN ('github', 'generic')),
    -- X-GitHub-Delivery, or a generic call's Idempotency-Key. Only accepted (signed or
    -- authenticated) deliveries claim their id: a forged one cannot use up a real one's.
    delivery_id   text CHECK (length(delivery_id) <= 200),
    claimed       boolean NOT NULL DEFAULT false,
    event         text NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('queued', 'ignored', 'refused', 'pong')),
    detail        text NOT NULL DEFAULT '',
    commit_sha    text,
    release_id    uuid,
    repeats       integer NOT NULL DEFAULT 0,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhook_deliveries_once ON webhook_deliveries (deployment_id, source, delivery_id)
    WHERE claimed;
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (deployment_id, received_at DESC);
