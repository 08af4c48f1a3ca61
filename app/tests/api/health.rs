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

#[tokio::test]
async fn after_a_database_restart_at_most_one_request_fails_however_many_connections_were_pooled() {
    let postgres = PrivatePostgres::init();
    postgres.start();
    let app = spawn_app_on(&postgres.url()).await;
    assert_eq!(app.post_comment("kept", "Ann", "x").await.status(), 303);

    // Fill the pool: rounds of concurrent page views until several connections are open.
    let open = || {
        let url = postgres.url();
        async move {
            tokio::task::spawn_blocking(move || {
                use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
                #[derive(QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                let mut conn = PgConnection::establish(&url).unwrap();
                diesel::sql_query(
                    "SELECT count(*) AS n FROM pg_stat_activity \
                     WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() \
                     AND datname LIKE 'board_test_%'",
                )
                .get_result::<N>(&mut conn)
                .unwrap()
                .n
            })
            .await
            .unwrap()
        }
    };
    for _ in 0..20 {
        let views: Vec<_> = (0..16).map(|_| app.get("/")).collect();
        for r in futures_util::future::join_all(views).await {
            assert_eq!(r.status(), 200);
        }
        if open().await >= 4 {
            break;
        }
    }
    let pooled = open().await;
    assert!(
        pooled >= 4,
        "the pool holds {pooled} connections; the test needs several"
    );

    // A restart while the board is idle: every pooled connection is now dead.
    postgres.stop();
    postgres.start();

    // Requests spaced out over a minute, as a quiet board gets them.
    let mut failed = 0;
    for _ in 0..12 {
        if app.get("/").await.status() != 200 {
            failed += 1;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    assert!(
        failed <= 1,
        "{failed} of 12 requests failed after the restart, with {pooled} connections pooled"
    );
    assert!(app.get("/").await.text().await.unwrap().contains("kept"));
}
