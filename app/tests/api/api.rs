//! The JSON API: the same comments, the same rules, for scripts.

use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_comment_posted_as_json_is_created_and_listed() {
    let app = spawn_app().await;
    let r = app
        .post_api(&json!({"title": " Hi ", "author": "Ann", "text": "<b>bold</b>"}))
        .await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["title"], "Hi");
    assert_eq!(created["text"], "<b>bold</b>", "JSON keeps text as text");
    assert_eq!(location, format!("/api/comments/{}", created["id"]));
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let list: Value = app.get("/api/comments").await.json().await.unwrap();
    assert_eq!(list["comments"].as_array().unwrap().len(), 1);
    assert_eq!(list["comments"][0], created);
    assert_eq!(list["older"], Value::Null);
    assert_eq!(list["newer"], Value::Null);
}

#[tokio::test]
async fn invalid_comments_get_422_with_every_field_named() {
    let app = spawn_app().await;
    let r = app
        .post_api(&json!({"title": "", "text": "x".repeat(10_001)}))
        .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["fields"]["title"], "Title is required.");
    assert_eq!(body["fields"]["author"], "Author is required.");
    assert_eq!(
        body["fields"]["text"],
        "Message is too long: 10001 characters, at most 10000."
    );
    assert_eq!(app.count_comments(), 0);
}

#[tokio::test]
async fn unreadable_requests_are_told_why() {
    let app = spawn_app().await;
    let url = format!("{}/api/comments", app.address);
    let r = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("could not be read"));

    let r = app
        .client
        .post(&url)
        .form(&[("title", "t"), ("author", "a"), ("text", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415, "a cross-site form cannot reach the API");

    let huge = json!({"title": "t", "author": "a", "text": "x".repeat(200 * 1024)});
    assert_eq!(app.post_api(&huge).await.status(), 413);

    let r = app
        .client
        .post(&url)
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"title": "t", "author": "a", "text": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.count_comments(), 0);
}

#[tokio::test]
async fn the_api_pages_by_the_cursor_it_returns() {
    let app = spawn_app().await;
    app.sql(
        "INSERT INTO comments (title, author, body, created_at) \
         SELECT 'c' || n, 'a', 'b', now() - n * interval '1 minute' \
         FROM generate_series(1, 75) AS n",
    );
    let first: Value = app.get("/api/comments").await.json().await.unwrap();
    assert_eq!(first["comments"].as_array().unwrap().len(), 50);
    assert_eq!(first["comments"][0]["title"], "c1");
    let older = first["older"].as_str().expect("a cursor to older comments");
    let second: Value = app
        .get(&format!("/api/comments?before={older}"))
        .await
        .json()
        .await
        .unwrap();
    let second = second["comments"].as_array().unwrap();
    assert_eq!(second.len(), 25);
    assert_eq!(second[0]["title"], "c51");
    assert_eq!(second[24]["title"], "c75");

    let r = app.get("/api/comments?after=junk").await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("cursor"));
}
