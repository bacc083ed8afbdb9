//! PostgreSQL: the connection pool, migrations and the repository modules for each table group.

pub mod audit;
pub mod deployments;
pub mod discord;
pub mod identities;
pub mod instance;
pub mod invites;
pub mod providers;
pub mod settings;
pub mod tokens;
pub mod users;
pub mod webhooks;

use std::time::Duration;

use sqlx::{
    postgres::{PgConnectOptions, PgPoolOptions},
    PgPool,
};

use super::config::Config;

/// Migrations are compiled into the binary, so a release needs nothing but its own file.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub async fn connect(config: &Config) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = config.database_url.expose().parse()?;
    PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        // A request waits at most this long for a connection; the health check uses its own,
        // shorter deadline on top of it.
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.application_name("slipway"))
        .await
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}
