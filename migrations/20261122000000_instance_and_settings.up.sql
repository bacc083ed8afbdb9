-- One row that identifies this installation. Docker labels carry instance_id, so two Slipway
-- installations sharing one Docker engine never mistake each other's containers for orphans.
CREATE TABLE instance (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    instance_id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO instance DEFAULT VALUES;

-- Settings an admin changes at run time (registration policy and the like), one JSON value
-- per key so a new setting needs no migration.
CREATE TABLE settings (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]*$'),
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
