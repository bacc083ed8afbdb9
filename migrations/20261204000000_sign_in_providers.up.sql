-- Sign-in providers (OAuth 2.0 / OpenID Connect) and the identities accounts link to them.

CREATE TABLE auth_providers (
    -- Names the provider's routes: /auth/{slug}/start and /auth/{slug}/callback.
    slug            text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    kind            text NOT NULL CHECK (kind IN ('google', 'github', 'discord', 'oidc', 'oauth2')),
    display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 60),
    client_id       text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    -- Sealed with SECRET_KEY (see server::crypto), bound to the slug.
    client_secret   bytea NOT NULL,
    discovery_url   text,
    authorize_url   text,
    token_url       text,
    userinfo_url    text,
    revocation_url  text,
    scopes          text[] NOT NULL DEFAULT '{}',
    -- For `oauth2`: where the id, email, email_verified, name and avatar are in the user info.
    field_map       jsonb NOT NULL DEFAULT '{}',
    enabled         boolean NOT NULL DEFAULT true,
    -- `env` rows are written from GOOGLE_*, GITHUB_* and DISCORD_* at start-up.
    source          text NOT NULL DEFAULT 'admin' CHECK (source IN ('env', 'admin')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Who someone is at a provider is (provider, subject): never the email, which providers let
-- people change and some do not verify.
CREATE TABLE user_identities (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider         text NOT NULL REFERENCES auth_providers (slug) ON UPDATE CASCADE,
    subject          text NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    email            text,
    email_verified   boolean NOT NULL DEFAULT false,
    display_name     text,
    avatar_url       text,
    -- Provider tokens, sealed with SECRET_KEY and bound to this row.
    access_token     bytea,
    refresh_token    bytea,
    token_expires_at timestamptz,
    granted_scopes   text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_login_at    timestamptz,
    UNIQUE (provider, subject),
    UNIQUE (user_id, provider)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);
