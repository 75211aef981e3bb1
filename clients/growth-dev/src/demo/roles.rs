//! The demo runs each service with its own PostgreSQL role, as a deployment
//! does: deploy/sql/roles.sql (the administrator's bootstrap) creates them,
//! the migrations (run with the demo's own login) grant them their schema,
//! and each service logs in as its role. Where that cannot be done (a
//! DATABASE_URL whose user may not create roles, or a server that asks the
//! roles for a password), both services use the demo's login, and the demo
//! says so.

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// The bootstrap an administrator runs once per cluster.
const ROLES: &str = include_str!("../../../../deploy/sql/roles.sql");

/// Creates the roles (idempotent); `false`, with the reason printed, when
/// the demo's login may not.
pub async fn bootstrap(pool: &PgPool) -> bool {
    match sqlx::raw_sql(ROLES).execute(pool).await {
        Ok(_) => true,
        Err(e) => {
            eprintln!(
                "demo: the services use the demo's own login: deploy/sql/roles.sql failed ({e})"
            );
            false
        }
    }
}

/// A pool logged in as `role` on `pool`'s database, or `pool` itself (with
/// the reason printed) when the role cannot log in.
pub async fn pool_as(pool: &PgPool, role: &str) -> PgPool {
    let options = (*pool.connect_options()).clone().username(role);
    match PgPoolOptions::new()
        .max_connections(20)
        .connect_with(options)
        .await
    {
        Ok(own) => own,
        Err(e) => {
            eprintln!("demo: {role} cannot log in ({e}); using the demo's own login");
            pool.clone()
        }
    }
}
