//! The JSON API beside the page: same paging, same rules.

use actix_web::{http::header, web, HttpRequest, HttpResponse};

use super::{load_page, store, PageParams, Posting, Via};
use crate::{
    comments::CommentInput, db::Pool, error::ApiError, limits::PostLimiter, metrics::Metrics,
    security,
};

/// `GET /api/comments?before=CURSOR|after=CURSOR`: a page, with the cursors of its neighbours.
pub async fn list(
    pool: web::Data<Pool>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = load_page(&pool, params.request()?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /api/comments` with `{"title", "author", "text"}`: 201 and the stored comment.
/// Over the rate limit: 429 with `Retry-After`.
pub async fn create(
    req: HttpRequest,
    pool: web::Data<Pool>,
    limiter: web::Data<PostLimiter>,
    metrics: web::Data<Metrics>,
    input: web::Json<CommentInput>,
) -> Result<HttpResponse, ApiError> {
    security::reject_cross_site(&req)?;
    let posting = Posting {
        req: &req,
        limiter: &limiter,
        metrics: &metrics,
        via: Via::Api,
    };
    let comment = store(posting, &pool, &input).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/comments/{}", comment.id)))
        .json(comment))
}
