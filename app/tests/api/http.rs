//! HTTP as clients expect it: `HEAD` wherever `GET` works, 405 with `Allow` for other methods,
//! and the files browsers and crawlers ask for by name.

use reqwest::Method;

use crate::helpers::{admin_url, spawn_app, spawn_app_with};

/// Every `GET` route, and the methods its resource takes.
const ROUTES: &[(&str, &str)] = &[
    ("/", "GET, HEAD, POST, OPTIONS"),
    ("/api/comments", "GET, HEAD, POST, OPTIONS"),
    ("/healthz", "GET, HEAD, OPTIONS"),
    ("/readyz", "GET, HEAD, OPTIONS"),
    ("/favicon.ico", "GET, HEAD, OPTIONS"),
    ("/favicon.svg", "GET, HEAD, OPTIONS"),
    ("/robots.txt", "GET, HEAD, OPTIONS"),
];

#[tokio::test]
async fn head_answers_like_get_without_a_body_on_every_get_route() {
    let app = spawn_app().await;
    for (path, _) in ROUTES {
        let url = format!("{}{path}", app.address);
        let get = app.client.get(&url).send().await.unwrap();
        let head = app.client.head(&url).send().await.unwrap();
        assert_eq!(get.status(), 200, "GET {path}");
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "{path}"
        );
        assert!(
            get.bytes().await.unwrap().len() > 1,
            "GET {path} has a body"
        );
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has none"
        );
    }
}

#[tokio::test]
async fn other_methods_get_405_with_allow_and_options_lists_them() {
    let app = spawn_app().await;
    for (path, allow) in ROUTES {
        let url = format!("{}{path}", app.address);
        for method in [Method::PUT, Method::DELETE, Method::PATCH] {
            let r = app
                .client
                .request(method.clone(), &url)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 405, "{method} {path}");
            assert_eq!(r.headers()["allow"], *allow, "{method} {path}");
            let body = r.text().await.unwrap();
            assert!(
                body.contains("is not allowed here"),
                "{method} {path}: {body}"
            );
        }
        let r = app
            .client
            .request(Method::OPTIONS, &url)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "OPTIONS {path}");
        assert_eq!(r.headers()["allow"], *allow, "OPTIONS {path}");
    }
    // The API says it in JSON, the page in HTML.
    let r = app
        .client
        .delete(format!("{}/api/comments", app.address))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["error"],
        "DELETE is not allowed here; use GET, HEAD, POST, OPTIONS."
    );
    let r = app
        .client
        .put(format!("{}/", app.address))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("405 Method Not Allowed"));
    // A path that does not exist stays a 404, whatever the method.
    let r = app
        .client
        .put(format!("{}/nope", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_favicons_and_robots_txt_are_served_and_the_page_links_the_icons() {
    let app = spawn_app().await;
    let ico = app.get("/favicon.ico").await;
    assert_eq!(ico.status(), 200);
    let bytes = ico.bytes().await.unwrap();
    assert_eq!(&bytes[..4], &[0, 0, 1, 0], "an ICO file");
    let svg = app.get("/favicon.svg").await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().starts_with("<svg"));
    let robots = app.get("/robots.txt").await.text().await.unwrap();
    assert!(robots.contains("User-agent: *") && robots.contains("Disallow: /api/"));
    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains("<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">"));
    assert!(html.contains("<link rel=\"icon\" href=\"/favicon.ico\""));
}

#[tokio::test]
async fn every_response_names_its_request_id() {
    let app = spawn_app().await;
    let first = app.get("/").await;
    let id = first.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 16);
    assert_ne!(app.get("/").await.headers()["x-request-id"], id.as_str());
    // The proxy's id is kept, so nginx's access log and the app's line share it.
    let r = app
        .client
        .get(format!("{}/", app.address))
        .header("X-Request-Id", "0123456789abcdef0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-request-id"],
        "0123456789abcdef0123456789abcdef"
    );
}

#[tokio::test]
async fn a_named_release_is_on_every_response_and_no_name_sends_no_header() {
    let named = spawn_app_with(&admin_url(), &[("BOARD_RELEASE", "2026.11-b")]).await;
    for path in ["/", "/readyz", "/no-such-page"] {
        let r = named.get(path).await;
        assert_eq!(r.headers()["x-board-release"], "2026.11-b", "{path}");
    }
    let unnamed = spawn_app().await;
    assert!(unnamed
        .get("/")
        .await
        .headers()
        .get("x-board-release")
        .is_none());
}
