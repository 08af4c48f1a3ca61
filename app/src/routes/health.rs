//! Probes for orchestrators: alive, and ready to serve.

use actix_web::{get, web, HttpResponse};

use crate::{db, error::ApiError};

/// 200 while the process serves HTTP; says nothing about the database.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// 200 while Postgres answers, 503 while it does not (within the pool timeout).
#[get("/readyz")]
pub async fn readyz(pool: web::Data<db::Pool>) -> Result<HttpResponse, ApiError> {
    let pool = pool.clone();
    web::block(move || db::ping(&pool)).await??;
    Ok(HttpResponse::Ok()
        .content_type("text/plain")
        .body("ready\n"))
}
