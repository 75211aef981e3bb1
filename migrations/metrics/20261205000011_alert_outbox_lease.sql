-- The alert outbox moves to the runtime's outbox kit: one row claimed at a
-- time with a lease committed before the send, held by a worker's session
-- (`lease_holder`, the key of its session advisory lock), so a crash strands
-- one alert at most and a restarted worker takes it over at once. A claimed
-- alert stays 'pending' (the status only says delivered, dead or not yet).

ALTER TABLE metrics.alert_outbox
    -- The last attempt may have reached the channel without an answer.
    ADD COLUMN outcome_unknown boolean NOT NULL DEFAULT false,
    -- While claimed: when the claim expires even if its holder lives on.
    ADD COLUMN lease_until timestamptz,
    -- While claimed: the holder's session advisory lock key.
    ADD COLUMN lease_holder bigint;

CREATE INDEX alert_outbox_claimed_idx ON metrics.alert_outbox (lease_until) WHERE lease_until IS NOT NULL;
