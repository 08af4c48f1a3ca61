//! The page people use: the form, and the comments below it.

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use askama::Template;
use serde::Deserialize;

use super::{load_page, store, PageParams, Posting, Via};
use crate::{
    comments::{CommentInput, FieldErrors, Page, PageRequest, MAX_NAME_CHARS, MAX_TEXT_CHARS},
    db::Pool,
    error::{AppError, PageError},
    limits::PostLimiter,
    metrics::Metrics,
    security,
};

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    page: &'a Page,
    form: &'a CommentInput,
    errors: &'a FieldErrors,
    /// Why the form came back, above it (broken rules, or the rate limit).
    alert: Option<String>,
    csrf_token: &'a str,
    max_name: usize,
    max_text: usize,
}

impl IndexPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field)
    }
}

/// Why a form comes back instead of being posted.
enum Refusal<'a> {
    /// Nothing refused: the page as loaded.
    None,
    /// Fields broke their rules (422).
    Invalid(&'a FieldErrors),
    /// The client posted too often (429), and may again after `error`'s delay.
    TooMany(&'a AppError),
}

fn render(
    req: &HttpRequest,
    page: &Page,
    form: &CommentInput,
    refusal: Refusal<'_>,
) -> Result<HttpResponse, PageError> {
    let no_errors = FieldErrors::default();
    let (status, errors, alert) = match refusal {
        Refusal::None => (StatusCode::OK, &no_errors, None),
        Refusal::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            Some("The comment was not posted: please correct the fields marked below.".into()),
        ),
        Refusal::TooMany(error) => (
            StatusCode::TOO_MANY_REQUESTS,
            &no_errors,
            Some(format!(
                "The comment was not posted: {error}. Your text is kept below."
            )),
        ),
    };
    let (token, cookie) = security::csrf_token(req);
    let html = IndexPage {
        page,
        form,
        errors,
        alert,
        csrf_token: &token,
        max_name: MAX_NAME_CHARS,
        max_text: MAX_TEXT_CHARS,
    }
    .render()?;
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Refusal::TooMany(error) = refusal {
        error.add_headers(&mut response);
    }
    if let Some(cookie) = cookie {
        response.cookie(cookie);
    }
    Ok(response.body(html))
}

/// `GET /`: the form and a page of comments, newest first.
pub async fn index(
    req: HttpRequest,
    pool: web::Data<Pool>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, PageError> {
    let page = load_page(&pool, params.request()?).await?;
    render(&req, &page, &CommentInput::default(), Refusal::None)
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
/// again with what was wrong (broken rules, or too many posts) and what the user typed.
pub async fn post(
    req: HttpRequest,
    pool: web::Data<Pool>,
    limiter: web::Data<PostLimiter>,
    metrics: web::Data<Metrics>,
    form: web::Form<PostedForm>,
) -> Result<HttpResponse, PageError> {
    security::check_form(&req, &form.csrf_token)?;
    let posting = Posting {
        req: &req,
        limiter: &limiter,
        metrics: &metrics,
        via: Via::Form,
    };
    let refused = match store(posting, &pool, &form.comment).await {
        Ok(_) => {
            return Ok(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/"))
                .finish())
        }
        Err(error @ (AppError::Invalid(_) | AppError::TooManyRequests { .. })) => error,
        Err(other) => return Err(other.into()),
    };
    let page = load_page(&pool, PageRequest::Newest).await?;
    let refusal = match &refused {
        AppError::Invalid(errors) => Refusal::Invalid(errors),
        other => Refusal::TooMany(other),
    };
    render(&req, &page, &form.comment, refusal)
}
