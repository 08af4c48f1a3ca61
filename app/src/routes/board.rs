//! The page people use: the form, and the comments below it.

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{load_page, store, PageParams};
use crate::{
    comments::{CommentInput, FieldErrors, Page, PageRequest, MAX_NAME_CHARS, MAX_TEXT_CHARS},
    db::Pool,
    error::{AppError, PageError},
    security,
};

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    page: &'a Page,
    form: &'a CommentInput,
    errors: &'a FieldErrors,
    csrf_token: &'a str,
    max_name: usize,
    max_text: usize,
}

impl IndexPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

fn render(
    req: &HttpRequest,
    status: actix_web::http::StatusCode,
    page: &Page,
    form: &CommentInput,
    errors: &FieldErrors,
) -> Result<HttpResponse, PageError> {
    let (token, cookie) = security::csrf_token(req);
    let html = IndexPage {
        page,
        form,
        errors,
        csrf_token: &token,
        max_name: MAX_NAME_CHARS,
        max_text: MAX_TEXT_CHARS,
    }
    .render()?;
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    Ok(response.body(html))
}

/// `GET /`: the form and a page of comments, newest first.
#[get("/")]
pub async fn index(
    req: HttpRequest,
    pool: web::Data<Pool>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, PageError> {
    let page = load_page(&pool, params.request()?).await?;
    render(
        &req,
        actix_web::http::StatusCode::OK,
        &page,
        &CommentInput::default(),
        &FieldErrors::default(),
    )
}

/// The form as posted: the comment's fields and the CSRF token.
#[derive(Debug, Deserialize)]
pub struct PostedForm {
    #[serde(flatten)]
    comment: CommentInput,
    #[serde(default)]
    csrf_token: String,
}

/// `POST /`: store the comment and redirect to the page (post/redirect/get), or show the form
/// again with what was wrong and what the user typed.
#[post("/")]
pub async fn post(
    req: HttpRequest,
    pool: web::Data<Pool>,
    form: web::Form<PostedForm>,
) -> Result<HttpResponse, PageError> {
    security::check_form(&req, &form.csrf_token)?;
    match store(&pool, &form.comment).await {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/"))
            .finish()),
        Err(AppError::Invalid(errors)) => {
            let page = load_page(&pool, PageRequest::Newest).await?;
            render(
                &req,
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                &page,
                &form.comment,
                &errors,
            )
        }
        Err(other) => Err(other.into()),
    }
}
