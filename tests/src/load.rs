//! A mixed load of readers and writers through the board's front door, counted: what the
//! rollout, fault and Swarm tests measure a change by.
//!
//! Each connection is a user of its own (its own cookie and CSRF token) that alternates
//! `GET /` and a form `POST /` with a title no one else uses, as fast as the board answers.
//! Every answer is sorted: a page (200) or an acknowledged comment (303) is a success; any
//! other status, a connection error or a timeout is a [`Failure`]. [`Report::lost`] then reads
//! the board back and names every acknowledged comment it no longer has.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use reqwest::{blocking::Client, redirect::Policy, StatusCode};

/// The environment a stack under load needs (for `Stack::up_with`): the post limits, the
/// app's and nginx's, would otherwise answer most writers with 429, which is the limits
/// working, not the change under test failing.
pub const UNLIMITED_POSTS: &[(&str, &str)] = &[
    ("POST_LIMIT_PER_MINUTE", "off"),
    ("NGINX_POST_RATE", "10000r/s"),
    ("NGINX_POST_BURST", "10000"),
];

/// How long one request may take before it counts as failed (a user gives up by then).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// An answer slower than this is counted as delayed (it succeeded, but a user noticed).
const SLOW: Duration = Duration::from_secs(2);

/// A load running in the background until [`Load::stop`].
pub struct Load {
    stop: Arc<AtomicBool>,
    started: Instant,
    workers: Vec<JoinHandle<Report>>,
}

/// One request that did not get the answer a healthy board gives.
#[derive(Debug, Clone)]
pub struct Failure {
    /// When it was sent, counted from the start of the load.
    pub at: Duration,
    pub method: &'static str,
    /// The status it got, or the error.
    pub what: String,
}

/// What a load met, once stopped.
#[derive(Debug, Default)]
pub struct Report {
    /// Requests sent (successes and failures).
    pub requests: u64,
    pub failures: Vec<Failure>,
    /// Successful answers that took longer than 2 s.
    pub slow: u64,
    /// Titles of the comments whose POST was answered 303: the board promised to keep them.
    pub acknowledged: Vec<String>,
    /// From start to stop.
    pub elapsed: Duration,
}

impl Load {
    /// Starts `connections` users on the board at `base_url` (`http://127.0.0.1:PORT`, no
    /// trailing slash).
    pub fn start(base_url: &str, connections: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        // Unique across loads of one run, so `lost` never mistakes another load's comment.
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let tag = format!("load-{}-{}", std::process::id(), since_epoch.as_micros());
        let workers = (0..connections)
            .map(|n| {
                let user = User {
                    base: base_url.to_owned(),
                    client: client(),
                    token: None,
                    title_prefix: format!("{tag}-{n}"),
                };
                let stop = stop.clone();
                std::thread::spawn(move || user.run(&stop, started))
            })
            .collect();
        Self {
            stop,
            started,
            workers,
        }
    }

    /// How long it has run so far.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops every user (each finishes the request it is in) and adds up what they met.
    pub fn stop(self) -> Report {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = Report::default();
        for worker in self.workers {
            let one = worker.join().expect("a load worker panicked");
            total.requests += one.requests;
            total.failures.extend(one.failures);
            total.slow += one.slow;
            total.acknowledged.extend(one.acknowledged);
        }
        total.failures.sort_by_key(|f| f.at);
        total.elapsed = self.started.elapsed();
        total
    }
}

impl Report {
    /// The acknowledged comments the board at `base_url` does not have.
    pub fn lost(&self, base_url: &str) -> Vec<String> {
        let stored: std::collections::HashSet<String> =
            stored_titles(base_url).into_iter().collect();
        self.acknowledged
            .iter()
            .filter(|title| !stored.contains(*title))
            .cloned()
            .collect()
    }

    /// When the last failed request was sent, counted from the start of the load.
    pub fn last_failure(&self) -> Option<Duration> {
        self.failures.last().map(|f| f.at)
    }

    /// One line for a test's output and the figures in docs/benchmarks.md.
    pub fn summary(&self) -> String {
        let mut kinds = std::collections::BTreeMap::<String, u32>::new();
        for f in &self.failures {
            *kinds.entry(format!("{} {}", f.method, f.what)).or_default() += 1;
        }
        let kinds = kinds
            .iter()
            .map(|(what, n)| format!("{n}x {what}"))
            .collect::<Vec<_>>()
            .join("; ");
        format!(
            "{} requests in {:.1} s, {} failed{}, {} slower than 2 s, {} comments acknowledged",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.failures.len(),
            if kinds.is_empty() {
                String::new()
            } else {
                format!(" ({kinds})")
            },
            self.slow,
            self.acknowledged.len(),
        )
    }
}

/// Every comment title the board at `base_url` has, read page by page from its API.
pub fn stored_titles(base_url: &str) -> Vec<String> {
    let c = client();
    let mut titles = Vec::new();
    let mut url = format!("{base_url}/api/comments");
    loop {
        let page: serde_json::Value = c
            .get(&url)
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .unwrap_or_else(|e| panic!("reading the board back from {url}: {e}"));
        for comment in page["comments"].as_array().expect("a page of comments") {
            titles.push(comment["title"].as_str().expect("a title").to_owned());
        }
        match page["older"].as_str() {
            Some(cursor) => url = format!("{base_url}/api/comments?before={cursor}"),
            None => return titles,
        }
    }
}

/// A client as a browser is: cookies kept, redirects shown rather than followed.
fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("a HTTP client")
}

/// One user of the load.
struct User {
    base: String,
    client: Client,
    /// The form's CSRF token, read from the page (and read again after a failure, in case the
    /// answer came from a replica that did not set the cookie).
    token: Option<String>,
    title_prefix: String,
}

impl User {
    fn run(mut self, stop: &AtomicBool, started: Instant) -> Report {
        let mut report = Report::default();
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            n += 1;
            let sent = Instant::now();
            let at = sent - started;
            let (method, outcome) = if n % 2 == 1 || self.token.is_none() {
                ("GET", self.read())
            } else {
                let title = format!("{}-{n}", self.title_prefix);
                let outcome = self.write(&title);
                if outcome.is_ok() {
                    report.acknowledged.push(title);
                }
                ("POST", outcome)
            };
            report.requests += 1;
            match outcome {
                Ok(()) if sent.elapsed() > SLOW => report.slow += 1,
                Ok(()) => {}
                Err(what) => {
                    report.failures.push(Failure { at, method, what });
                    // A failing board is not hammered in a tight loop: a user would wait too.
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        report
    }

    /// `GET /`; keeps the form's token for the writes.
    fn read(&mut self) -> Result<(), String> {
        let r = self
            .client
            .get(format!("{}/", self.base))
            .send()
            .map_err(describe)?;
        if r.status() != StatusCode::OK {
            return Err(r.status().to_string());
        }
        let html = r.text().map_err(describe)?;
        let marker = "name=\"csrf_token\" value=\"";
        let start = html.find(marker).ok_or("200 without the form's token")? + marker.len();
        self.token = Some(html[start..start + 64].to_owned());
        Ok(())
    }

    /// A form `POST /`; a 303 is the board's promise to keep the comment.
    fn write(&mut self, title: &str) -> Result<(), String> {
        let token = self.token.clone().unwrap_or_default();
        let r = self
            .client
            .post(format!("{}/", self.base))
            .header("Origin", &self.base)
            .form(&[
                ("title", title),
                ("author", "load"),
                ("text", "under load"),
                ("csrf_token", &token),
            ])
            .send()
            .map_err(describe)?;
        if r.status() == StatusCode::SEE_OTHER {
            Ok(())
        } else {
            if r.status() == StatusCode::FORBIDDEN {
                self.token = None;
            }
            Err(r.status().to_string())
        }
    }
}

/// A transport error in few words: timeout, refused, reset.
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timeout".into()
    } else if e.is_connect() {
        "connection refused or unreachable".into()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text = s.to_string();
            source = s.source();
        }
        text
    }
}
