//! Probes, and what the board does while Postgres is away and after it returns.

use std::time::{Duration, Instant};

use crate::helpers::{spawn_app, spawn_app_on, wait_for_status, PrivatePostgres};

#[tokio::test]
async fn healthz_answers_while_the_process_serves() {
    let app = spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}

#[tokio::test]
async fn a_stopped_database_gives_fast_503s_and_the_board_recovers_by_itself() {
    let postgres = PrivatePostgres::init();
    postgres.start();
    let app = spawn_app_on(&postgres.url()).await;
    assert_eq!(
        app.post_comment("before", "Ann", "kept").await.status(),
        303
    );
    assert_eq!(app.get("/readyz").await.status(), 200);

    postgres.stop();
    for path in ["/readyz", "/", "/api/comments"] {
        let started = Instant::now();
        let r = app.get(path).await;
        assert_eq!(r.status(), 503, "{path}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} answered in {:?}, not fast",
            started.elapsed()
        );
        assert_eq!(r.headers()["retry-after"], "5");
    }
    let page = app.get("/").await.text().await.unwrap();
    assert!(page.contains("cannot reach its database"));

    postgres.start();
    let ready = format!("{}/readyz", app.address);
    assert!(wait_for_status(&ready, 200, Duration::from_secs(30)).await);
    // Every pooled connection died with the server; none of them is handed out again.
    for _ in 0..8 {
        assert_eq!(app.get("/").await.status(), 200);
    }
    assert_eq!(app.post_comment("after", "Ann", "new").await.status(), 303);
    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains("before") && html.contains("after"));
}
