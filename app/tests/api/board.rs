//! The page: what a visitor sees, posts, and cannot break.

use crate::helpers::{extract_token, spawn_app};

#[tokio::test]
async fn the_page_shows_the_form_with_labelled_fields() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<title>Comment board</title>"));
    for (id, label) in [
        ("title", "Title"),
        ("author", "Author"),
        ("text", "Message"),
    ] {
        assert!(
            html.contains(&format!("<label for=\"{id}\">{label}</label>")),
            "{id}"
        );
        assert!(html.contains(&format!("name=\"{id}\"")), "{id}");
    }
    assert!(html.contains("No comments yet"));
    assert!(html.contains("/static/css/board.css"));
    assert!(!html.contains("<script"), "the page needs no script");
}

#[tokio::test]
async fn a_posted_comment_redirects_and_then_appears_newest_first() {
    let app = spawn_app().await;
    let first = app.post_comment("First", "Ann", "hello").await;
    assert_eq!(first.status(), 303);
    assert_eq!(first.headers()["location"], "/");
    app.post_comment("  Second  ", " Bob ", "  world  ").await;

    let html = app.get("/").await.text().await.unwrap();
    let second_at = html.find("Second").expect("second comment shown");
    let first_at = html.find("First").expect("first comment shown");
    assert!(second_at < first_at, "newest first");
    assert!(
        html.contains("<span class=\"author\">Bob</span>"),
        "trimmed author"
    );
    assert!(html.contains(">world</div>"), "trimmed body");
    assert!(html.contains(" UTC</time>"), "dates in UTC");
    assert_eq!(app.count_comments(), 2);
}

#[tokio::test]
async fn each_broken_rule_is_shown_beside_its_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let long_name = "n".repeat(256);
    let long_text = "t".repeat(10_001);
    // (what is posted, the messages expected beside which fields)
    type Case<'a> = ([(&'a str, &'a str); 3], Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            [("title", ""), ("author", ""), ("text", "")],
            vec![
                ("title", "Title is required."),
                ("author", "Author is required."),
                ("text", "Message is required."),
            ],
        ),
        (
            [("title", "   "), ("author", "Ann"), ("text", "ok")],
            vec![("title", "Title is required.")],
        ),
        (
            [("title", &long_name), ("author", "Ann"), ("text", "ok")],
            vec![("title", "Title is too long: 256 characters, at most 255.")],
        ),
        (
            [("title", "ok"), ("author", &long_name), ("text", "ok")],
            vec![("author", "Author is too long: 256 characters, at most 255.")],
        ),
        (
            [("title", "ok"), ("author", "Ann"), ("text", &long_text)],
            vec![(
                "text",
                "Message is too long: 10001 characters, at most 10000.",
            )],
        ),
    ];
    for (fields, expected) in cases {
        let response = app.post_form(&fields).await;
        assert_eq!(response.status(), 422, "{expected:?}");
        let html = response.text().await.unwrap();
        for (field, message) in &expected {
            let shown = format!("<p class=\"error\" id=\"{field}-error\">{message}</p>");
            assert!(html.contains(&shown), "missing {shown}");
        }
        for (field, _) in fields {
            if !expected.iter().any(|(f, _)| *f == field) {
                assert!(!html.contains(&format!("id=\"{field}-error\"")), "{field}");
            }
        }
    }
    assert_eq!(app.count_comments(), 0, "nothing invalid is stored");
}

#[tokio::test]
async fn what_the_user_typed_is_kept_when_the_form_comes_back() {
    let app = spawn_app().await;
    let html = app
        .post_form(&[
            ("title", "My title"),
            ("author", ""),
            ("text", "Line one\nLine two"),
        ])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"My title\""));
    assert!(html.contains(">Line one\nLine two</textarea>"));
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"author-error\""));
}

#[tokio::test]
async fn user_text_is_escaped_everywhere() {
    let app = spawn_app().await;
    let evil = "<script>alert('x')</script>";
    let escaped = "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;";
    let posted = app.post_comment(evil, evil, evil).await;
    assert_eq!(posted.status(), 303, "the comment is accepted");
    assert_eq!(app.count_comments(), 1);
    let html = app.get("/").await.text().await.unwrap();
    assert!(!html.contains(evil));
    for place in [
        format!("</span> {escaped}</h3>"),
        format!("<span class=\"author\">{escaped}</span>"),
        format!("<div class=\"body\">{escaped}</div>"),
    ] {
        assert!(
            html.contains(&place),
            "title, author and body escaped: {place}"
        );
    }

    // ... and in a form sent back with errors, where it is an attribute value.
    let sent_back = app
        .post_form(&[
            ("title", "\"><script>x</script>"),
            ("author", ""),
            ("text", ""),
        ])
        .await;
    assert_eq!(sent_back.status(), 422, "the form comes back with errors");
    let html = sent_back.text().await.unwrap();
    assert!(!html.contains("<script>x</script>"));
    assert!(
        html.contains("value=\"&#34;&#62;&#60;script&#62;x&#60;/script&#62;\""),
        "the title is kept, escaped, in its field"
    );
    assert_eq!(app.count_comments(), 1);
}

#[tokio::test]
async fn posts_without_the_csrf_token_or_from_another_site_are_refused() {
    let app = spawn_app().await;
    let fields = [("title", "t"), ("author", "a"), ("text", "x")];
    let url = format!("{}/", app.address);

    // No cookie and no token: a fresh client, as a forged cross-site form would be.
    let fresh = reqwest::Client::new();
    let r = fresh.post(&url).form(&fields).send().await.unwrap();
    assert_eq!(r.status(), 403);

    // The cookie, but the wrong token.
    let token = app.csrf_token().await;
    let mut wrong = fields.to_vec();
    wrong.push((
        "csrf_token",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ));
    let r = app.client.post(&url).form(&wrong).send().await.unwrap();
    assert_eq!(r.status(), 403);

    // The right token, but the browser says the post comes from another site.
    let mut right = fields.to_vec();
    right.push(("csrf_token", &token));
    let r = app
        .client
        .post(&url)
        .header("Sec-Fetch-Site", "cross-site")
        .form(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .client
        .post(&url)
        .header("Origin", "http://evil.example")
        .form(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(app.count_comments(), 0);

    // The same post from the page itself goes through.
    let origin = app.address.clone();
    let r = app
        .client
        .post(&url)
        .header("Origin", origin)
        .form(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.count_comments(), 1);
}

#[tokio::test]
async fn the_csrf_cookie_is_strict_and_http_only_and_stays_the_same() {
    let app = spawn_app().await;
    let first = app.get("/").await;
    let cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("board_csrf="));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let token = extract_token(&first.text().await.unwrap());
    let second = app.get("/").await;
    assert!(second.headers().get("set-cookie").is_none(), "set once");
    assert_eq!(extract_token(&second.text().await.unwrap()), token);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let app = spawn_app().await;
    let token = app.csrf_token().await;
    let huge = "x".repeat(200 * 1024);
    let r = app
        .client
        .post(format!("{}/", app.address))
        .form(&[
            ("title", "t"),
            ("author", "a"),
            ("text", &huge),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("413 Payload Too Large"));
    assert_eq!(app.count_comments(), 0);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/healthz", "/api/comments", "/missing"] {
        let r = app.get(path).await;
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    }
}

#[tokio::test]
async fn pages_of_fifty_walk_older_and_newer_by_cursor() {
    let app = spawn_app().await;
    // 120 comments, one second apart, plus two sharing one timestamp to exercise the id tiebreak.
    app.sql(
        "INSERT INTO comments (title, author, body, created_at) \
         SELECT 'Comment ' || n, 'Ann', 'body ' || n, \
                timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second' \
         FROM generate_series(1, 120) AS n",
    );
    app.sql(
        "INSERT INTO comments (title, author, body, created_at) VALUES \
         ('Twin A', 'Ann', 'x', '2026-01-01 00:00:50+00'), \
         ('Twin B', 'Ann', 'x', '2026-01-01 00:00:50+00')",
    );
    let titles = |html: &str| -> Vec<String> {
        html.split("<span class=\"comment-id\">")
            .skip(1)
            .filter_map(|rest| rest.split("</span> ").nth(1)?.split("</h3>").next())
            .map(str::to_owned)
            .collect()
    };
    let link = |html: &str, rel: &str| -> Option<String> {
        let marker = format!("rel=\"{rel}\" href=\"");
        let start = html.find(&marker)? + marker.len();
        Some(html[start..].split('"').next().unwrap().to_owned())
    };

    let mut seen = Vec::new();
    let mut path = "/".to_owned();
    let mut pages = Vec::new();
    loop {
        let html = app.get(&path).await.text().await.unwrap();
        let page = titles(&html);
        assert!(page.len() <= 50);
        seen.extend(page.clone());
        pages.push((path.clone(), html.clone()));
        match link(&html, "next") {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(pages.len(), 3);
    assert_eq!(seen.len(), 122, "every comment exactly once");
    assert_eq!(seen[0], "Comment 120");
    assert_eq!(seen[121], "Comment 1");
    let twins: Vec<_> = seen.iter().filter(|t| t.starts_with("Twin")).collect();
    assert_eq!(twins, ["Twin B", "Twin A"], "same time: higher id first");
    assert!(
        link(&pages[0].1, "prev").is_none(),
        "the first page has no newer link"
    );

    // From the last page, "newer" walks back to the second page, identical to the way down.
    let newer = link(&pages[2].1, "prev").expect("the last page links to newer comments");
    let html = app.get(&newer).await.text().await.unwrap();
    assert_eq!(titles(&html), titles(&pages[1].1));
}

#[tokio::test]
async fn a_malformed_cursor_is_a_400_page() {
    let app = spawn_app().await;
    let r = app.get("/?before=yesterday").await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("Not a page cursor"));
}

#[tokio::test]
async fn unknown_paths_get_a_404_page_and_static_files_are_served() {
    let app = spawn_app().await;
    let r = app.get("/nope").await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("404 Not Found"));
    let css = app.get("/static/css/board.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
}
