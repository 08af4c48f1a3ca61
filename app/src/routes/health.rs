//! What machines ask: alive, ready to serve, and the metrics.

use actix_web::{web, HttpResponse};

use super::blocking;
use crate::{db, drain::Drain, error::ApiError, error::AppError, metrics::Metrics};

/// 200 while the process serves HTTP; says nothing about the database.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// 200 while Postgres answers, 503 while it does not (within the pool timeout), and 503
/// `draining` from SIGTERM on, while the board still serves but is about to stop.
pub async fn readyz(
    pool: web::Data<db::Pool>,
    drain: Option<web::Data<Drain>>,
) -> Result<HttpResponse, ApiError> {
    if drain.is_some_and(|d| d.is_draining()) {
        return Ok(HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("draining\n"));
    }
    let pool = pool.clone();
    blocking(move || db::ping(&pool)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain")
        .body("ready\n"))
}

/// `GET /metrics` on the metrics listener: every metric in the Prometheus text format.
pub async fn metrics(
    metrics: web::Data<Metrics>,
    pool: web::Data<db::Pool>,
) -> Result<HttpResponse, ApiError> {
    pool.record_state();
    let text = metrics.render().map_err(|e| AppError::Internal {
        context: "the metrics did not render",
        source: Box::new(e),
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
