//! The log an operator reads: one line per request, probes quiet, errors once with their
//! chain, JSON when asked, and the request id on what blocking database work logs.

use std::{
    io::Read,
    process::{Command, Stdio},
    time::Duration,
};

use serde_json::Value;

use crate::helpers::{client, free_port, url_for, wait_for_status, PrivatePostgres};

/// Runs the binary with `LOG_FORMAT=json` against `postgres`, lets `drive` make requests, stops
/// it, and returns its log lines parsed (every one must parse).
async fn json_log_of(postgres: &PrivatePostgres, drive: impl AsyncFnOnce(&str)) -> Vec<Value> {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_app"))
        .env_clear()
        .env("DATABASE_URL", url_for(&postgres.url(), "board"))
        .env("LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("HTTP_WORKERS", "1")
        .env("DATABASE_POOL_SIZE", "1")
        .env("DATABASE_POOL_TIMEOUT", "500ms")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the app binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let ready = wait_for_status(&format!("{base}/readyz"), 200, Duration::from_secs(60)).await;
    if ready {
        drive(&base).await;
    }
    let _ = child.kill();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let _ = child.wait();
    assert!(ready, "the app never became ready:\n{out}");
    out.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The request lines for `route` (events inside a request span).
fn request_lines<'a>(lines: &'a [Value], route: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["span"]["name"] == "request" && l["span"]["route"] == route)
        .collect()
}

#[tokio::test]
async fn json_lines_one_per_request_with_probes_quiet() {
    let postgres = PrivatePostgres::init();
    postgres.start();
    let lines = json_log_of(&postgres, async |base| {
        let c = client();
        for _ in 0..3 {
            c.get(format!("{base}/healthz")).send().await.unwrap();
        }
        let page = c.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let r = c
            .get(format!("{base}/?before=nonsense"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
    })
    .await;

    assert!(
        request_lines(&lines, "/healthz").is_empty(),
        "probes stay at DEBUG"
    );
    let page = request_lines(&lines, "/");
    assert_eq!(page.len(), 2, "one line per request: {page:?}");
    let ok = page[0];
    assert_eq!(ok["level"], "INFO");
    assert_eq!(ok["status"], 200);
    assert_eq!(ok["span"]["method"], "GET");
    assert_eq!(ok["span"]["request_id"].as_str().unwrap().len(), 16);
    assert!(ok["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(ok.get("error").is_none());
    let bad = page[1];
    assert_eq!(bad["status"], 400);
    assert_eq!(bad["error"], "not a page cursor: \"nonsense\"");
    assert!(
        !serde_json::to_string(&lines).unwrap().contains("?before="),
        "the route, not the path (no user input in the log)"
    );
}

#[tokio::test]
async fn a_database_failure_is_logged_once_with_its_chain_and_the_request_id() {
    let postgres = PrivatePostgres::init();
    postgres.start();
    let lines = json_log_of(&postgres, async |base| {
        let c = client();
        assert_eq!(
            c.get(format!("{base}/")).send().await.unwrap().status(),
            200
        );
        postgres.stop();
        let r = c.get(format!("{base}/")).send().await.unwrap();
        assert_eq!(r.status(), 503);
    })
    .await;
    let failed: Vec<&Value> = request_lines(&lines, "/")
        .into_iter()
        .filter(|l| l["status"] == 503)
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "one line for the failed request: {lines:?}"
    );
    let failed = failed[0];
    assert_eq!(failed["level"], "ERROR");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.starts_with("the database is unavailable: "),
        "the whole chain: {error}"
    );
    // The warning from inside the blocking database work carries the same request id.
    let lost = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("lost a database connection"))
        })
        .expect("the lost connection is logged");
    assert_eq!(lost["span"]["request_id"], failed["span"]["request_id"]);
}
