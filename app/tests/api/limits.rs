//! The posting rate limit: a burst beyond it is refused with 429 and `Retry-After`, the form
//! comes back with the user's text, and posting at a person's pace is never refused.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{admin_url, extract_token, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_burst_beyond_the_limit_is_refused_and_the_text_is_kept() {
    let app = spawn_app_with(
        &admin_url(),
        &[("POST_LIMIT_PER_MINUTE", "6"), ("POST_LIMIT_BURST", "3")],
    )
    .await;
    for n in 0..3 {
        let r = app.post_comment("burst", "Ann", &format!("post {n}")).await;
        assert_eq!(r.status(), 303, "post {n} is within the burst");
    }
    let refused = app
        .post_comment("one too many", "Ann", "My carefully written text")
        .await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=10).contains(&retry_after),
        "one post every 10 s: {retry_after}"
    );
    let html = refused.text().await.unwrap();
    assert!(html.contains("<link rel=\"stylesheet\" href=\"/static/css/board.css\">"));
    assert!(html.contains("too many posts from your address"), "{html}");
    assert!(
        html.contains(">My carefully written text</textarea>"),
        "text kept"
    );
    assert!(html.contains("value=\"one too many\""), "title kept");
    extract_token(&html); // the form can be posted again as it is

    let api = app
        .post_api(&json!({"title": "t", "author": "a", "text": "x"}))
        .await;
    assert_eq!(api.status(), 429, "the API shares the address's limit");
    assert!(api.headers().contains_key("retry-after"));
    let body: serde_json::Value = api.json().await.unwrap();
    assert!(body["error"]
        .as_str()
        .unwrap()
        .starts_with("Too many posts from your address"));
    assert_eq!(app.count_comments(), 3);
}

#[tokio::test]
async fn posting_at_a_steady_pace_within_the_rate_is_never_refused() {
    // 600 a minute is one every 100 ms; a burst of 1 leaves no slack, so only the pace counts.
    let app = spawn_app_with(
        &admin_url(),
        &[("POST_LIMIT_PER_MINUTE", "600"), ("POST_LIMIT_BURST", "1")],
    )
    .await;
    for n in 0..10 {
        let r = app
            .post_api(&json!({"title": "steady", "author": "Ann", "text": format!("{n}")}))
            .await;
        assert_eq!(r.status(), 201, "post {n}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(app.count_comments(), 10);
}

#[tokio::test]
async fn the_default_limit_lets_a_person_post_and_stops_a_script() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for n in 0..30 {
        let r = app
            .post_api(&json!({"title": "script", "author": "bot", "text": format!("{n}")}))
            .await;
        statuses.push(r.status().as_u16());
    }
    let accepted = statuses.iter().filter(|s| **s == 201).count();
    assert!(
        statuses[..10].iter().all(|s| *s == 201),
        "a burst of 10 passes: {statuses:?}"
    );
    assert!(
        (10..=11).contains(&accepted),
        "then 20 a minute: {statuses:?}"
    );
    assert!(statuses[12..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn x_real_ip_names_the_client_only_from_a_trusted_proxy() {
    let limits = [("POST_LIMIT_PER_MINUTE", "1"), ("POST_LIMIT_BURST", "1")];
    let post_as = |app: &crate::helpers::TestApp, ip: &'static str| {
        app.client
            .post(format!("{}/api/comments", app.address))
            .header("X-Real-IP", ip)
            .json(&json!({"title": "t", "author": "a", "text": "x"}))
            .send()
    };

    // Not behind a trusted proxy: the header is ignored, so a client cannot dodge the limit.
    let direct = spawn_app_with(&admin_url(), &limits).await;
    assert_eq!(post_as(&direct, "10.0.0.1").await.unwrap().status(), 201);
    assert_eq!(post_as(&direct, "10.0.0.2").await.unwrap().status(), 429);

    // Behind a trusted proxy (loopback here): each real client has its own limit.
    let mut trusted = limits.to_vec();
    trusted.push(("TRUSTED_PROXIES", "127.0.0.1"));
    let proxied = spawn_app_with(&admin_url(), &trusted).await;
    assert_eq!(post_as(&proxied, "10.0.0.1").await.unwrap().status(), 201);
    assert_eq!(post_as(&proxied, "10.0.0.2").await.unwrap().status(), 201);
    assert_eq!(post_as(&proxied, "10.0.0.1").await.unwrap().status(), 429);
}
