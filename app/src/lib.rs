//! The comment board: one page with a form (title, author, message) and every comment below it,
//! newest first, kept in Postgres. A port of the 2015 Flask + Peewee board, done for production.
//!
//! The binary (`src/main.rs`) only reads the settings and calls [`startup::serve`]; everything
//! lives here so that the integration tests run the same code.

pub mod comments;
pub mod config;
pub mod db;
pub mod drain;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod probe;
pub mod routes;
pub mod schema;
pub mod security;
pub mod startup;
pub mod telemetry;

/// Why the board could not start or keep serving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Startup(#[from] db::StartupError),
    #[error("could not serve HTTP: {0}")]
    Io(#[from] std::io::Error),
}
