-- Least privilege in PostgreSQL: the roles, created once per cluster by an
-- administrator (roles are cluster-wide; migrations run per database and
-- only GRANT to these roles). Idempotent: run it again at will. The demo and
-- the tests run it too.
--
--   growth_metrics          metrics-svc's serving role: uses schema metrics
--   growth_lifecycle        lifecycle-svc's serving role: uses schema lifecycle
--   growth_metrics_owner    runs `metrics-svc migrate`: owns schema metrics
--   growth_lifecycle_owner  runs `lifecycle-svc migrate`: owns schema lifecycle
--
-- Neither serving role can read or write the other service's schema; each
-- owner role is a member of its serving role, so that its migrations can
-- hand the one table the service vacuums (metrics.activity_pending) to it.
-- Passwords are set apart from this file, e.g.
--   ALTER ROLE growth_metrics PASSWORD '...';
-- and each owner role needs CREATE on the database the services use:
--   GRANT CREATE ON DATABASE growth TO growth_metrics_owner, growth_lifecycle_owner;
DO $$
DECLARE
    role text;
BEGIN
    FOREACH role IN ARRAY ARRAY['growth_metrics', 'growth_lifecycle',
                                'growth_metrics_owner', 'growth_lifecycle_owner'] LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT', role);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- there already (or created by a concurrent run)
        END;
    END LOOP;
END
$$;
-- INHERIT for the owners: they act as their serving role's members.
ALTER ROLE growth_metrics_owner INHERIT;
ALTER ROLE growth_lifecycle_owner INHERIT;
DO $$
BEGIN
    IF NOT pg_has_role('growth_metrics_owner', 'growth_metrics', 'MEMBER') THEN
        GRANT growth_metrics TO growth_metrics_owner;
    END IF;
    IF NOT pg_has_role('growth_lifecycle_owner', 'growth_lifecycle', 'MEMBER') THEN
        GRANT growth_lifecycle TO growth_lifecycle_owner;
    END IF;
EXCEPTION WHEN unique_violation THEN
    NULL; -- granted by a concurrent run
END
$$;
