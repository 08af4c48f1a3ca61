//! The board over HTTP, against a real Postgres: one throwaway database per test.
//!
//! Needs `TEST_DATABASE_URL`, a superuser URL of a running server (`scripts/test` starts one).

mod api;
mod board;
mod health;
mod helpers;
mod http;
mod limits;
mod logs;
mod metrics;
mod privileges;
mod queries;
mod startup;
