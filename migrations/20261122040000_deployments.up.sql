-- Deployments (apps a user keeps running), their releases (one attempt each to deploy a
-- commit), build logs, the host-port registry, and the Slipway processes that build.

CREATE TABLE deployments (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- A user's deployments are deleted (containers and all) before the user can be.
    owner_id         uuid NOT NULL REFERENCES users (id),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    repo_url         text NOT NULL,
    branch           text NOT NULL,
    subdomain        text NOT NULL UNIQUE
                     CHECK (subdomain ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    -- Encrypted with SECRET_KEY (see server::crypto); NULL for a public repository.
    access_token     bytea,
    dockerfile       text NOT NULL,
    build_context    text NOT NULL,
    container_port   integer CHECK (container_port BETWEEN 1 AND 65535),
    health_path      text,
    memory_mb        integer NOT NULL CHECK (memory_mb > 0),
    cpu_millis       integer NOT NULL CHECK (cpu_millis > 0),
    state            text NOT NULL DEFAULT 'queued' CHECK (state IN (
                         'queued', 'cloning', 'building', 'starting', 'checking_health',
                         'running', 'failed', 'stopped', 'deleting')),
    error            text,
    current_release_id uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deployments_owner ON deployments (owner_id, created_at);

-- One row per variable so keys can be listed without decrypting; values are encrypted.
CREATE TABLE deployment_env (
    deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    key           text NOT NULL CHECK (key ~ '^[A-Za-z_][A-Za-z0-9_]*$'),
    value         bytea NOT NULL,
    PRIMARY KEY (deployment_id, key)
);

-- The primary key is what keeps two deployments from ever sharing a host port.
CREATE TABLE ports (
    port          integer PRIMARY KEY CHECK (port BETWEEN 1 AND 65535),
    deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    allocated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ports_deployment ON ports (deployment_id);

-- A Slipway process that claims builds. It holds a session-level advisory lock on `lock_key`
-- for as long as it lives, so another process can tell a dead worker from a busy one at once.
CREATE TABLE workers (
    id           uuid PRIMARY KEY,
    lock_key     bigint NOT NULL UNIQUE,
    hostname     text NOT NULL,
    pid          integer NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE releases (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    deployment_id  uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    number         integer NOT NULL,
    trigger        text NOT NULL,
    state          text NOT NULL DEFAULT 'queued' CHECK (state IN (
                       'queued', 'cloning', 'building', 'starting', 'checking_health',
                       'running', 'failed', 'superseded')),
    commit_sha     text,
    commit_message text,
    image          text,
    container_id   text,
    container_port integer,
    error          text,
    worker_id      uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    started_at     timestamptz,
    finished_at    timestamptz,
    UNIQUE (deployment_id, number)
);
CREATE INDEX releases_queued ON releases (created_at) WHERE state = 'queued';
CREATE INDEX releases_active ON releases (worker_id)
    WHERE state IN ('cloning', 'building', 'starting', 'checking_health');

ALTER TABLE deployments ADD CONSTRAINT deployments_current_release
    FOREIGN KEY (current_release_id) REFERENCES releases (id) ON DELETE SET NULL
    DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE build_logs (
    release_id uuid NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    seq        integer NOT NULL,
    ts         timestamptz NOT NULL DEFAULT now(),
    stream     text NOT NULL CHECK (stream IN ('system', 'stdout', 'stderr')),
    line       text NOT NULL,
    PRIMARY KEY (release_id, seq)
);
