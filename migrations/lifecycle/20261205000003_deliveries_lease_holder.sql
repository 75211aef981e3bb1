-- The Kit outbox moves to the runtime's outbox kit: one row claimed at a
-- time, held by a worker's session (`lease_holder`, the key of its session
-- advisory lock). When that session is gone (the process died) the row is
-- taken over at once instead of after `lease_until`; an attempt is counted
-- when it is recorded, or when a takeover finds it interrupted.

ALTER TABLE lifecycle.deliveries ADD COLUMN lease_holder bigint;

CREATE INDEX deliveries_claimed_idx ON lifecycle.deliveries (lease_until) WHERE lease_until IS NOT NULL;
