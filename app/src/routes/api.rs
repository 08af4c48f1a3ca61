//! The JSON API beside the page: same paging, same rules.

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};

use super::{load_page, store, PageParams};
use crate::{comments::CommentInput, db::Pool, error::ApiError, security};

/// `GET /api/comments?before=CURSOR|after=CURSOR`: a page, with the cursors of its neighbours.
#[get("/api/comments")]
pub async fn list(
    pool: web::Data<Pool>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = load_page(&pool, params.request()?).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `POST /api/comments` with `{"title", "author", "text"}`: 201 and the stored comment.
#[post("/api/comments")]
pub async fn create(
    req: HttpRequest,
    pool: web::Data<Pool>,
    input: web::Json<CommentInput>,
) -> Result<HttpResponse, ApiError> {
    security::reject_cross_site(&req)?;
    let comment = store(&pool, &input).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/comments/{}", comment.id)))
        .json(comment))
}
