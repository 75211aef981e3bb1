-- Least privilege: the serving role (growth_metrics, created once per
-- cluster by deploy/sql/roles.sql) uses schema metrics, reads and writes its
-- rows, and has no other right; tables added by later migrations get the same
-- rights (default privileges of the role that migrates). The fold vacuums
-- the pending activity after taking rows (docs/METRICS.md), and PostgreSQL 15
-- lets only a table's owner vacuum it: that one table belongs to the serving
-- role. Where the role does not exist (a database without the bootstrap),
-- nothing is granted.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'growth_metrics') THEN
        GRANT USAGE ON SCHEMA metrics TO growth_metrics;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA metrics TO growth_metrics;
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA metrics TO growth_metrics;
        ALTER DEFAULT PRIVILEGES IN SCHEMA metrics
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO growth_metrics;
        ALTER DEFAULT PRIVILEGES IN SCHEMA metrics
            GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO growth_metrics;
        ALTER TABLE metrics.activity_pending OWNER TO growth_metrics;
    END IF;
END
$$;
