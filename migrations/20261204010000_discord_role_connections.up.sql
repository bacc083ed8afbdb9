-- Discord Linked Roles: one row per member who connected, with what was last sent to Discord
-- and what still has to be.
CREATE TABLE discord_role_connections (
    user_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Bumped by every change that may alter the member's values; a push settles only the
    -- version it read, so a change made while it runs is sent too.
    version          bigint NOT NULL DEFAULT 1,
    pushed_version   bigint NOT NULL DEFAULT 0,
    pushed_values    jsonb,
    pushed_at        timestamptz,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    -- Discord refused the member's grant: no retries until they connect again.
    refused          boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX discord_role_connections_due ON discord_role_connections (next_attempt_at)
    WHERE version > pushed_version AND NOT refused;
