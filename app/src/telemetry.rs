//! Logging, set up once, and the one line each request leaves.
//!
//! `RUST_LOG` chooses what is shown (default `info`), `LOG_FORMAT` how (`text` or `json`).
//! [`observe`] wraps every request: it opens the request's span (method, route, request id),
//! which blocking database work carries too ([`crate::routes`] runs it inside the span), and
//! when the answer is ready it writes one line with the status, the latency and, for a failure,
//! the error's whole chain, and counts the request in the metrics. Probes and scrapes log at
//! DEBUG, so they do not bury the requests people make.

use std::{io::IsTerminal, time::Instant};

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use tracing::Instrument;
use tracing_subscriber::{fmt, EnvFilter};

use crate::{
    config::LogFormat,
    error::{chain, ApiError, PageError},
    metrics::Metrics,
};

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Routes that machines call every few seconds: logged at DEBUG while they succeed.
const QUIET_ROUTES: &[&str] = &["/healthz", "/readyz", "/metrics"];

/// Installs the global subscriber; a second call (as in tests) is a no-op.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stdout().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// The middleware every request passes: its span, its log line, its metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    // The route's pattern, not the path: bounded label values, and no user data in the log.
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let request_id = request_id(&req);
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        request_id = %request_id
    );

    let result = next.call(req).instrument(span.clone()).await;

    let seconds = started.elapsed().as_secs_f64();
    let (status, error) = match &result {
        Ok(res) => (res.status(), res.response().error().map(describe)),
        Err(e) => (e.as_response_error().status_code(), Some(describe(e))),
    };
    if let Some(metrics) = metrics {
        metrics.observe_request(&method, &route, status.as_u16(), seconds);
    }
    let _entered = span.enter();
    let latency_ms = (seconds * 1e5).round() / 100.0;
    let status = status.as_u16();
    let error = error.as_deref();
    if status >= 500 {
        tracing::error!(status, latency_ms, error, "request failed");
    } else if QUIET_ROUTES.contains(&route.as_str()) {
        tracing::debug!(status, latency_ms, error, "probe");
    } else {
        tracing::info!(status, latency_ms, error, "request");
    }
    result.map(|mut res| {
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            res.headers_mut().insert(REQUEST_ID, value);
        }
        res
    })
}

/// The request's id: the one the proxy sent (nginx's `$request_id`), if it looks like one, or a
/// new one.
fn request_id(req: &ServiceRequest) -> String {
    let sent = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (8..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    match sent {
        Some(id) => id.to_owned(),
        None => format!("{:016x}", rand::random::<u64>()),
    }
}

/// An error as one line: the board's own with their whole chain, actix's as they print.
fn describe(error: &actix_web::Error) -> String {
    if let Some(e) = error.as_error::<PageError>() {
        chain(e.app_error())
    } else if let Some(e) = error.as_error::<ApiError>() {
        chain(e.app_error())
    } else {
        error.to_string()
    }
}
