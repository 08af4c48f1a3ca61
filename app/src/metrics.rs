//! What an operator scales by: request counts and latencies by route, the pool's state, comments
//! posted and refused, and the build, in the Prometheus text format.
//!
//! Each [`Application`](crate::startup::Application) has a registry of its own (tests run many
//! in one process), served at `/metrics` on the second listener (`METRICS_ADDR`) only, which
//! nginx never proxies to.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Latency buckets, in seconds: from a cached page (sub-millisecond) to the pool's timeout.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Every metric the board exports, registered in one registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// `board_http_requests_total{method, route, status}`.
    pub requests: IntCounterVec,
    /// `board_http_request_duration_seconds{method, route, status}`.
    pub latency: HistogramVec,
    /// `board_comments_posted_total{via}`: comments stored, by `form` or `api`.
    pub comments_posted: IntCounterVec,
    /// `board_comment_validation_failures_total{via}`: posts refused for breaking a rule.
    pub validation_failures: IntCounterVec,
    /// `board_posts_rate_limited_total{via}`: posts refused by the rate limit.
    pub rate_limited: IntCounterVec,
    /// The database pool's figures.
    pub pool: PoolMetrics,
}

/// The pool's figures: sizes are read from r2d2 at each scrape, waits and timeouts counted as
/// they happen.
#[derive(Clone)]
pub struct PoolMetrics {
    /// `board_db_pool_connections`: connections open, in use or idle.
    pub connections: IntGauge,
    /// `board_db_pool_idle_connections`: connections open and free.
    pub idle: IntGauge,
    /// `board_db_pool_max_connections`: `DATABASE_POOL_SIZE`.
    pub max: IntGauge,
    /// `board_db_pool_waiting`: requests waiting for a connection right now.
    pub waiting: IntGauge,
    /// `board_db_pool_checkout_timeouts_total`: requests that got no connection in time (a 503).
    pub checkout_timeouts: IntCounter,
}

impl Metrics {
    /// Creates the metrics in a registry of their own.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let labels = &["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("board_http_requests_total", "HTTP requests answered"),
            labels,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "board_http_request_duration_seconds",
                "Time from the request's arrival to its response, in seconds",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            labels,
        )?;
        let comments_posted = IntCounterVec::new(
            Opts::new("board_comments_posted_total", "Comments stored"),
            &["via"],
        )?;
        let validation_failures = IntCounterVec::new(
            Opts::new(
                "board_comment_validation_failures_total",
                "Posts refused because a field broke its rule",
            ),
            &["via"],
        )?;
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "board_posts_rate_limited_total",
                "Posts refused by the per-address rate limit",
            ),
            &["via"],
        )?;
        let pool = PoolMetrics {
            connections: IntGauge::new("board_db_pool_connections", "Connections open")?,
            idle: IntGauge::new(
                "board_db_pool_idle_connections",
                "Connections open and free",
            )?,
            max: IntGauge::new(
                "board_db_pool_max_connections",
                "Most connections held open",
            )?,
            waiting: IntGauge::new("board_db_pool_waiting", "Requests waiting for a connection")?,
            checkout_timeouts: IntCounter::new(
                "board_db_pool_checkout_timeouts_total",
                "Requests that got no connection within DATABASE_POOL_TIMEOUT",
            )?,
        };
        let build_info = IntGaugeVec::new(
            Opts::new("board_build_info", "The running build; always 1"),
            &["version"],
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(comments_posted.clone()))?;
        registry.register(Box::new(validation_failures.clone()))?;
        registry.register(Box::new(rate_limited.clone()))?;
        registry.register(Box::new(pool.connections.clone()))?;
        registry.register(Box::new(pool.idle.clone()))?;
        registry.register(Box::new(pool.max.clone()))?;
        registry.register(Box::new(pool.waiting.clone()))?;
        registry.register(Box::new(pool.checkout_timeouts.clone()))?;
        registry.register(Box::new(build_info))?;
        Ok(Self {
            registry,
            requests,
            latency,
            comments_posted,
            validation_failures,
            rate_limited,
            pool,
        })
    }

    /// Counts one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method, route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Everything, in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}
