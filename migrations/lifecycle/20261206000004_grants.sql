-- Least privilege: the serving role (growth_lifecycle, created once per
-- cluster by deploy/sql/roles.sql) uses schema lifecycle, reads and writes
-- its rows, and has no other right; tables added by later migrations get the
-- same rights. Where the role does not exist (a database without the
-- bootstrap), nothing is granted.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'growth_lifecycle') THEN
        GRANT USAGE ON SCHEMA lifecycle TO growth_lifecycle;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA lifecycle TO growth_lifecycle;
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA lifecycle TO growth_lifecycle;
        ALTER DEFAULT PRIVILEGES IN SCHEMA lifecycle
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO growth_lifecycle;
        ALTER DEFAULT PRIVILEGES IN SCHEMA lifecycle
            GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO growth_lifecycle;
    END IF;
END
$$;
