//! The stack as an operator and a well-behaved client see it through nginx: HTTP methods, the
//! favicon, metrics kept off the public port, JSON logs, keep-alive to the app, and the post
//! limit.

use std::time::Duration;

use e2e::{docker, Stack};
use reqwest::blocking::Client;
use serde_json::{json, Value};

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The value of the sample named exactly `series` in a Prometheus text, or 0 if absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().unwrap())
        })
        .unwrap_or(0.0)
}

#[test]
fn http_metrics_logs_keep_alive_and_limits_through_nginx() {
    let stack = Stack::up_with("ops", &[("LOG_FORMAT", "json")]);
    let c = client();

    // HEAD like GET without a body; other methods 405 with Allow, from the app through nginx.
    for path in ["/", "/api/comments"] {
        let head = c.head(stack.url(path)).send().unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert!(head.headers().contains_key("content-type"), "HEAD {path}");
        assert!(head.bytes().unwrap().is_empty(), "HEAD {path} has no body");
        let put = c.put(stack.url(path)).send().unwrap();
        assert_eq!(put.status(), 405, "PUT {path}");
        assert_eq!(put.headers()["allow"], "GET, HEAD, POST, OPTIONS");
    }

    // The favicon and robots.txt, from nginx (no app headers), cached.
    for (path, kind, max_age) in [
        ("/favicon.ico", "image/", "max-age=604800"),
        ("/favicon.svg", "image/svg+xml", "max-age=604800"),
        ("/robots.txt", "text/plain", "max-age=86400"),
    ] {
        let r = c.get(stack.url(path)).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        assert!(
            h["cache-control"].to_str().unwrap().contains(max_age),
            "{path}"
        );
        assert!(
            h.get("x-request-id").is_none(),
            "nginx, not the app: {path}"
        );
        let head = c.head(stack.url(path)).send().unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
    }

    // /metrics: not through nginx; on the app's own port, moving with the traffic.
    assert_eq!(c.get(stack.url("/metrics")).send().unwrap().status(), 404);
    let metrics_url = format!("http://{}:9000/metrics", stack.address("app", 1));
    let page_ok = r#"board_http_requests_total{method="GET",route="/",status="200"}"#;
    let scrape = || c.get(&metrics_url).send().unwrap().text().unwrap();
    let before = sample(&scrape(), page_ok);
    let mut request_id = String::new();
    for _ in 0..5 {
        let r = c.get(stack.url("/")).send().unwrap();
        assert_eq!(r.status(), 200);
        request_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    }
    assert_eq!(sample(&scrape(), page_ok), before + 5.0);
    assert!(scrape().contains("board_db_pool_connections "));

    // nginx holds keep-alive connections to the app between requests, instead of one each.
    let established = docker(&["exec", &stack.container("app", 1), "cat", "/proc/net/tcp"])
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 3 && fields[1].ends_with(":1F40") && fields[3] == "01"
        })
        .count();
    assert!(established >= 1, "no idle keep-alive connection to :8000");

    // The app's log: every line JSON; the request's line has nginx's request id.
    let logs = docker(&["logs", &stack.container("app", 1)]);
    let lines: Vec<Value> = logs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 5);
    let line = lines
        .iter()
        .find(|l| l["span"]["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no line for request {request_id}:\n{logs}"));
    assert_eq!(
        (line["status"].as_u64(), line["span"]["route"].as_str()),
        (Some(200), Some("/"))
    );
    // nginx buffers its access log for up to a second.
    stack.eventually(
        "nginx's access log names the same request id",
        Duration::from_secs(10),
        || {
            docker(&["logs", &stack.container("nginx", 1)])
                .contains(&format!("request_id={request_id}"))
        },
    );

    // Posting: a burst beyond the limit is refused with Retry-After; reading never is.
    let statuses: Vec<u16> = (0..30)
        .map(|n| {
            let r = c
                .post(stack.url("/api/comments"))
                .json(&json!({"title": "burst", "author": "e2e", "text": n.to_string()}))
                .send()
                .unwrap();
            if r.status() == 429 {
                assert!(r.headers().contains_key("retry-after"));
            }
            r.status().as_u16()
        })
        .collect();
    assert!(
        statuses[..10].iter().all(|s| *s == 201),
        "a burst of 10 passes: {statuses:?}"
    );
    assert!(statuses[12..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(c.get(stack.url("/")).send().unwrap().status(), 200);
}
