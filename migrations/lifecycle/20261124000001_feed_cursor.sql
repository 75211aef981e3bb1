-- The lifecycle service's schema. It never reads the metrics schema: it
-- follows the metrics event feed over gRPC and stores its position here.

CREATE SCHEMA IF NOT EXISTS lifecycle;

CREATE TABLE lifecycle.feed_cursors (
    -- Name of the consumer (one row per feed follower, e.g. "stage-updater").
    consumer      text PRIMARY KEY,
    -- Sequence of the last metrics event fully processed; 0 = none yet.
    last_sequence bigint      NOT NULL DEFAULT 0 CHECK (last_sequence >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
