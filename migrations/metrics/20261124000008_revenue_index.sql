-- Revenue cells read every captured payment of the users being refreshed;
-- this index answers that without reading the payment rows (which carry
-- the raw Stripe JSON), and the webhook's and imports' writes keep it.
CREATE INDEX payments_captured_idx ON metrics.payments (user_id)
    INCLUDE (created_at, amount_minor, currency, payment_id)
    WHERE user_id IS NOT NULL AND status IN ('succeeded', 'partially_refunded', 'refunded');
