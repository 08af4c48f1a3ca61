//! The binary's start-up and shutdown: waiting, creating, migrating, and stopping cleanly.

use std::{
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use nix::{sys::signal, unistd::Pid};

use crate::helpers::{
    admin_url, free_port, unique_db_name, url_for, wait_for_status, DropDatabase, PrivatePostgres,
};

/// A running `app` binary, killed when the test ends.
struct AppProcess {
    child: Child,
    port: u16,
}

impl AppProcess {
    fn spawn(database_url: &str, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_app"))
            .env_clear()
            .env("DATABASE_URL", database_url)
            .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("HTTP_WORKERS", "1")
            .env("DATABASE_POOL_SIZE", "2")
            .env("METRICS_ADDR", "127.0.0.1:0")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the app binary starts");
        Self { child, port }
    }

    /// Waits for the process to exit, failing the test 10 s after `started` (docker stop's
    /// default grace period).
    async fn exit_within_ten_seconds_of(&mut self, started: Instant) -> std::process::ExitStatus {
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "still running after 10s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_app(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_app"))
        .env_clear()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(url: &str, sql: &str) -> i64 {
    let mut conn = PgConnection::establish(url).unwrap();
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
}

#[tokio::test]
async fn four_replicas_started_at_once_on_a_missing_database_all_come_up() {
    let name = unique_db_name();
    let _cleanup = DropDatabase {
        server_url: admin_url(),
        name: name.clone(),
    };
    let url = url_for(&admin_url(), &name);
    let replicas: Vec<AppProcess> = (0..4).map(|_| AppProcess::spawn(&url, &[])).collect();
    for replica in &replicas {
        assert!(
            wait_for_status(&replica.url("/readyz"), 200, Duration::from_secs(60)).await,
            "replica on port {} never became ready",
            replica.port
        );
    }
    assert_eq!(
        count(&url, "SELECT count(*) AS n FROM __diesel_schema_migrations"),
        1
    );
    assert_eq!(count(&url, "SELECT count(*) AS n FROM comments"), 0);
    let databases = count(
        &url_for(&admin_url(), "postgres"),
        &format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"),
    );
    assert_eq!(databases, 1);
}

#[tokio::test]
async fn start_up_waits_for_a_postgres_that_comes_up_late() {
    let postgres = PrivatePostgres::init();
    let url = url_for(&postgres.url(), "board");
    let app = AppProcess::spawn(&url, &[("STARTUP_WAIT", "60s")]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        reqwest::get(app.url("/healthz")).await.is_err(),
        "the app serves only once the database is ready"
    );
    postgres.start();
    assert!(wait_for_status(&app.url("/readyz"), 200, Duration::from_secs(60)).await);
}

#[test]
fn start_up_gives_up_after_the_wait_with_one_clear_line() {
    let port = free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/board");
    let started = Instant::now();
    let out = run_app(&[], &[("DATABASE_URL", &url), ("STARTUP_WAIT", "1s")]);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("app: Postgres at postgres://postgres@127.0.0.1"),
        "{stderr}"
    );
    assert!(stderr.contains("did not answer within 1s"), "{stderr}");
}

#[test]
fn bad_configuration_stops_start_up_with_one_line_and_no_backtrace() {
    let out = run_app(&[], &[("RUST_BACKTRACE", "1")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("app: DATABASE_URL is not set"),
        "{stderr}"
    );

    let out = run_app(
        &[],
        &[
            ("DATABASE_URL", "postgres://u:secret@db/x"),
            ("LISTEN_ADDR", "80"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("LISTEN_ADDR is not valid"), "{stderr}");

    let out = run_app(&["frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn migrate_prepares_the_database_and_exits() {
    let name = unique_db_name();
    let _cleanup = DropDatabase {
        server_url: admin_url(),
        name: name.clone(),
    };
    let url = url_for(&admin_url(), &name);
    for _ in 0..2 {
        let out = run_app(&["migrate"], &[("DATABASE_URL", &url)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        count(&url, "SELECT count(*) AS n FROM __diesel_schema_migrations"),
        1
    );
}

#[tokio::test]
async fn sigterm_finishes_and_exits_zero_well_within_docker_stops_ten_seconds() {
    let name = unique_db_name();
    let _cleanup = DropDatabase {
        server_url: admin_url(),
        name: name.clone(),
    };
    let mut app = AppProcess::spawn(&url_for(&admin_url(), &name), &[]);
    assert!(wait_for_status(&app.url("/readyz"), 200, Duration::from_secs(60)).await);
    // A keep-alive connection stays open: graceful shutdown must not wait for it to go idle.
    let client = reqwest::Client::new();
    assert_eq!(client.get(app.url("/")).send().await.unwrap().status(), 200);

    let started = Instant::now();
    signal::kill(
        Pid::from_raw(app.child.id() as i32),
        signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = app.exit_within_ten_seconds_of(started).await;
    assert!(status.success(), "{status:?}");
    drop(client);
}

#[tokio::test]
async fn sigterm_first_reports_not_ready_and_keeps_serving_for_the_drain_period() {
    let name = unique_db_name();
    let _cleanup = DropDatabase {
        server_url: admin_url(),
        name: name.clone(),
    };
    let mut app = AppProcess::spawn(&url_for(&admin_url(), &name), &[("DRAIN_PERIOD", "3s")]);
    assert!(wait_for_status(&app.url("/readyz"), 200, Duration::from_secs(60)).await);
    let client = reqwest::Client::new();
    let page = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_ne!(
        page.headers()
            .get("connection")
            .map(|v| v.to_str().unwrap()),
        Some("close")
    );

    let started = Instant::now();
    signal::kill(
        Pid::from_raw(app.child.id() as i32),
        signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(
        wait_for_status(&app.url("/readyz"), 503, Duration::from_secs(2)).await,
        "not ready at once"
    );
    let ready = client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.text().await.unwrap(), "draining\n");
    // Still serving, and asking the peer to close its keep-alive connection.
    let page = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["connection"], "close");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "inside the drain"
    );
    assert!(app.child.try_wait().unwrap().is_none(), "still running");

    let status = app.exit_within_ten_seconds_of(started).await;
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "stopped after the drain, not before: {:?}",
        started.elapsed()
    );
    assert!(status.success(), "{status:?}");
}
