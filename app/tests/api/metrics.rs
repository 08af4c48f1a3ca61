//! `/metrics`: on its own listener only, in the Prometheus text format, moving with the traffic.

use std::time::Duration;

use crate::helpers::{spawn_app, spawn_app_on, wait_for_status, PrivatePostgres, TestApp};

/// The value of the sample whose name and labels are exactly `series`, or 0 if absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp) -> String {
    let r = app
        .client
        .get(format!("{}/metrics", app.metrics_address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    r.text().await.unwrap()
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_not_beside_the_board() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    let on_metrics = |path: &str| format!("{}{path}", app.metrics_address);
    let r = app.client.get(on_metrics("/")).send().await.unwrap();
    assert_eq!(r.status(), 404, "the metrics listener serves nothing else");
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            &format!(
                "board_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0
    );
    assert_eq!(sample(&text, "board_db_pool_max_connections"), 4.0);
}

#[tokio::test]
async fn requests_posts_and_refusals_move_the_counters() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    let page_ok = r#"board_http_requests_total{method="GET",route="/",status="200"}"#;
    let page_seconds =
        r#"board_http_request_duration_seconds_count{method="GET",route="/",status="200"}"#;
    assert_eq!(sample(&before, page_ok), 0.0);

    for _ in 0..3 {
        assert_eq!(app.get("/").await.status(), 200);
    }
    assert_eq!(app.post_comment("t", "a", "x").await.status(), 303);
    assert_eq!(app.post_form(&[("title", "t")]).await.status(), 422);
    let created = app
        .post_api(&serde_json::json!({"title": "t", "author": "a", "text": "x"}))
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(app.get("/nope").await.status(), 404);

    let after = scrape(&app).await;
    // 3 GETs, and one more for each form post (it loads the page for its token).
    assert_eq!(sample(&after, page_ok), 5.0);
    assert_eq!(sample(&after, page_seconds), 5.0);
    assert_eq!(
        sample(
            &after,
            r#"board_http_requests_total{method="POST",route="/",status="303"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &after,
            r#"board_http_requests_total{method="POST",route="/api/comments",status="201"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &after,
            r#"board_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        1.0,
        "unknown paths share one label value"
    );
    assert_eq!(
        sample(&after, r#"board_comments_posted_total{via="form"}"#),
        1.0
    );
    assert_eq!(
        sample(&after, r#"board_comments_posted_total{via="api"}"#),
        1.0
    );
    assert_eq!(
        sample(
            &after,
            r#"board_comment_validation_failures_total{via="form"}"#
        ),
        1.0
    );
    assert!(sample(&after, "board_db_pool_connections") >= 1.0);
    assert_eq!(sample(&after, "board_db_pool_waiting"), 0.0);
}

#[tokio::test]
async fn a_stopped_database_counts_checkout_timeouts() {
    let postgres = PrivatePostgres::init();
    postgres.start();
    let app = spawn_app_on(&postgres.url()).await;
    assert_eq!(app.get("/").await.status(), 200);
    postgres.stop();
    // The first requests find their pooled connections dead; then they wait for a new one in
    // vain, which is a checkout timeout.
    let mut answered = 0;
    let mut timeouts = 0.0;
    while timeouts < 1.0 && answered < 10 {
        assert_eq!(app.get("/").await.status(), 503);
        answered += 1;
        timeouts = sample(&scrape(&app).await, "board_db_pool_checkout_timeouts_total");
    }
    assert!(
        timeouts >= 1.0,
        "no checkout timeout after {answered} requests"
    );
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"board_http_requests_total{method="GET",route="/",status="503"}"#
        ),
        f64::from(answered)
    );
    postgres.start();
    let ready = format!("{}/readyz", app.address);
    assert!(wait_for_status(&ready, 200, Duration::from_secs(30)).await);
}
