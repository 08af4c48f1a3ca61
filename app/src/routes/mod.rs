//! The board's HTTP surface, one module per group of endpoints.

pub mod api;
pub mod board;
pub mod health;

use actix_web::web;

use crate::{
    comments::{self, CommentInput, NewComment, Page, PageRequest},
    db::{self, Pool},
    error::AppError,
};

/// The `before`/`after` query parameters shared by the page and the API.
#[derive(Debug, serde::Deserialize)]
pub struct PageParams {
    before: Option<String>,
    after: Option<String>,
}

impl PageParams {
    fn request(&self) -> Result<PageRequest, AppError> {
        PageRequest::from_params(self.before.as_deref(), self.after.as_deref())
            .map_err(|e| AppError::BadRequest(e.to_string()))
    }
}

/// Reads a page of comments on a blocking thread.
async fn load_page(pool: &web::Data<Pool>, request: PageRequest) -> Result<Page, AppError> {
    let pool = pool.clone();
    Ok(web::block(move || db::with_connection(&pool, |c| comments::page(c, request))).await??)
}

/// Validates and stores a comment on a blocking thread.
async fn store(
    pool: &web::Data<Pool>,
    input: &CommentInput,
) -> Result<comments::Comment, AppError> {
    let comment = NewComment::parse(input).map_err(AppError::Invalid)?;
    let pool = pool.clone();
    Ok(web::block(move || db::with_connection(&pool, |c| comments::insert(c, &comment))).await??)
}
