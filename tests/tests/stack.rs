//! The whole stack through nginx on its published port: the page, static files, posting,
//! validation, the API, data across down/up, and resilience.

use std::time::{Duration, Instant};

use e2e::{
    docker,
    load::{Load, UNLIMITED_POSTS},
    Stack,
};
use reqwest::blocking::Client;

fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The CSRF token of the page's form (loading the page also sets the cookie).
fn token(client: &Client, stack: &Stack) -> String {
    let html = client.get(stack.url("/")).send().unwrap().text().unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("the form has a token") + marker.len();
    html[start..start + 64].to_owned()
}

fn post(
    client: &Client,
    stack: &Stack,
    token: &str,
    title: &str,
    text: &str,
) -> reqwest::blocking::Response {
    client
        .post(stack.url("/"))
        .header("Origin", format!("http://127.0.0.1:{}", stack.port))
        .form(&[
            ("title", title),
            ("author", "e2e"),
            ("text", text),
            ("csrf_token", token),
        ])
        .send()
        .unwrap()
}

#[test]
fn the_board_through_nginx() {
    let stack = Stack::up("board");
    let c = client();

    let page = c.get(stack.url("/")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["server"],
        "nginx",
        "served by nginx, its version hidden"
    );
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert!(page
        .text()
        .unwrap()
        .contains("<label for=\"title\">Title</label>"));

    let css = c
        .get(stack.url("/static/css/board.css"))
        .header("Accept-Encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age=2592000"));
    assert_eq!(css.headers()["content-encoding"], "gzip");
    assert!(
        css.headers().get("x-content-type-options").is_none(),
        "nginx, not the app, served it"
    );

    let t = token(&c, &stack);
    let r = post(&c, &stack, &t, "Through nginx", "posted end to end");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");
    let html = c.get(stack.url("/")).send().unwrap().text().unwrap();
    assert!(html.contains("Through nginx") && html.contains("posted end to end"));

    let r = post(&c, &stack, &t, "", "");
    assert_eq!(r.status(), 422);
    let html = r.text().unwrap();
    assert!(html.contains("Title is required.") && html.contains("Message is required."));

    let api: serde_json::Value = c
        .get(stack.url("/api/comments"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(api["comments"][0]["title"], "Through nginx");
    let created = c
        .post(stack.url("/api/comments"))
        .json(&serde_json::json!({"title": "api", "author": "e2e", "text": "json"}))
        .send()
        .unwrap();
    assert_eq!(created.status(), 201);

    let huge = "x".repeat(200 * 1024);
    let r = post(&c, &stack, &t, "big", &huge);
    assert_eq!(r.status(), 413, "nginx stops bodies over the app's limit");

    let again = stack.ok(&["up", "-d"]);
    assert!(
        !again.contains("Recreated") && !again.contains("Created"),
        "a second up changes nothing:\n{again}"
    );
}

#[test]
fn comments_survive_down_and_up_and_go_with_down_v() {
    let stack = Stack::up("data");
    let c = client();
    let t = token(&c, &stack);
    assert_eq!(
        post(&c, &stack, &t, "Kept across down", "still here").status(),
        303
    );
    stack.ok(&["down"]);
    stack.ok(&["up", "-d", "--wait", "--wait-timeout", "240"]);
    stack.wait_until_served();
    let html = c.get(stack.url("/")).send().unwrap().text().unwrap();
    assert!(
        html.contains("Kept across down"),
        "down then up keeps the comments"
    );

    stack.ok(&["down", "-v", "--yes"]);
    stack.ok(&["up", "-d", "--wait", "--wait-timeout", "240"]);
    stack.wait_until_served();
    let html = c.get(stack.url("/")).send().unwrap().text().unwrap();
    assert!(
        !html.contains("Kept across down") && html.contains("No comments yet"),
        "down -v removed them"
    );
}

#[test]
fn the_board_recovers_from_a_killed_app_and_a_stopped_database_losing_nothing_acknowledged() {
    // The writers post as fast as the board answers: no post limit here, this test is about
    // losing nothing.
    let stack = Stack::up_with("resilience", UNLIMITED_POSTS);
    let c = client();

    // Load: readers and writers all along; every 303 is an acknowledged comment.
    let load = Load::start(&stack.url(""), 2);

    // The app killed under load comes back by its restart policy. Killed as a crash kills it,
    // from outside: `docker kill` counts as a manual stop, which restart policies respect.
    std::thread::sleep(Duration::from_secs(1));
    let pid = docker(&[
        "inspect",
        "-f",
        "{{.State.Pid}}",
        &stack.container("app", 1),
    ]);
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap();
    assert!(
        killed.success(),
        "kill -9 {pid} (the tests run as root, as on CI)"
    );
    stack.eventually(
        "the board answers again after the app was killed",
        Duration::from_secs(120),
        || {
            c.get(stack.url("/"))
                .send()
                .is_ok_and(|r| r.status() == 200)
        },
    );
    assert!(
        docker(&[
            "inspect",
            "-f",
            "{{.RestartCount}}",
            &stack.container("app", 1)
        ])
        .parse::<u32>()
        .unwrap()
            >= 1
    );

    // Postgres stopped for a while: fast 503 pages, not hung requests.
    docker(&["stop", "-t", "5", &stack.container("postgres", 1)]);
    let started = Instant::now();
    let r = c.get(stack.url("/")).send().unwrap();
    assert_eq!(r.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "503 within the pool timeout, not hung: {:?}",
        started.elapsed()
    );
    assert!(r.text().unwrap().contains("cannot reach its database"));
    std::thread::sleep(Duration::from_secs(2));
    docker(&["start", &stack.container("postgres", 1)]);
    stack.eventually(
        "the board recovers by itself when Postgres returns",
        Duration::from_secs(60),
        || {
            c.get(stack.url("/readyz"))
                .send()
                .is_ok_and(|r| r.status() == 200)
                && c.get(stack.url("/"))
                    .send()
                    .is_ok_and(|r| r.status() == 200)
        },
    );
    std::thread::sleep(Duration::from_secs(1));
    let report = load.stop();
    println!("under load: {}", report.summary());

    // No acknowledged comment lost.
    assert!(
        report.acknowledged.len() > 10,
        "the writers got through: {}",
        report.summary()
    );
    let lost = report.lost(&stack.url(""));
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

#[test]
fn three_app_replicas_share_the_load_behind_nginx() {
    let stack = Stack::up("scale");
    stack.ok(&[
        "up",
        "-d",
        "--wait",
        "--wait-timeout",
        "240",
        "--scale",
        "app=3",
    ]);
    let c = client();
    // Each replica logs the requests it served (nginx picks up new replicas within seconds).
    let served = |n: u32| {
        docker(&["logs", &stack.container("app", n)])
            .matches("route=/api/comments")
            .count()
    };
    stack.eventually(
        "every replica serves requests",
        Duration::from_secs(30),
        || {
            for _ in 0..30 {
                assert_eq!(
                    c.get(stack.url("/api/comments")).send().unwrap().status(),
                    200
                );
            }
            (1..=3).all(|n| served(n) > 0)
        },
    );
    stack.ok(&["up", "-d", "--scale", "app=1"]);
    for _ in 0..10 {
        assert_eq!(
            c.get(stack.url("/healthz")).send().unwrap().status(),
            200,
            "nginx forgets replicas that went away"
        );
    }
}
