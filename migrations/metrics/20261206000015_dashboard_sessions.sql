-- Dashboard sessions: a person signed in with a DASHBOARD_TOKENS token.
-- Only the SHA-256 of the random session id (the cookie's value) is
-- stored, so a copy of this table signs nobody in; token_hash is the
-- SHA-256 of the token signed in with, so that removing a token from
-- DASHBOARD_TOKENS ends its sessions too. A session ends at expires_at or
-- when its holder signs out (the row is deleted); rows past expires_at are
-- deleted at the next sign-in.
CREATE TABLE metrics.dashboard_sessions (
    id_hash    bytea       PRIMARY KEY CHECK (length(id_hash) = 32),
    token_hash bytea       NOT NULL CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);

CREATE INDEX dashboard_sessions_expires_at ON metrics.dashboard_sessions (expires_at);
