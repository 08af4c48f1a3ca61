//! The board's HTTP surface, one module per group of endpoints, and the table of what answers
//! where ([`configure`]): every `GET` also answers `HEAD`, `OPTIONS` lists the methods a
//! resource takes, and any other method gets a 405 with `Allow`.

pub mod api;
pub mod board;
pub mod health;

use std::path::PathBuf;

use actix_files::{Files, NamedFile};
use actix_web::{guard, http::Method, web, HttpRequest, HttpResponse, Resource, Route};

use crate::{
    comments::{self, CommentInput, NewComment, Page, PageRequest},
    db::{self, DbError, Pool},
    error::{ApiError, AppError, PageError},
    limits::PostLimiter,
    metrics::Metrics,
};

/// Files at the site's root that browsers and crawlers ask for by name.
const ROOT_FILES: &[&str] = &["/favicon.ico", "/favicon.svg", "/robots.txt"];

/// How a resource answers a method it does not take: as a page or as JSON.
#[derive(Clone, Copy)]
enum Answer {
    Page,
    Json,
}

/// Registers every route of the board. `static_dir`, when set, is served under `/static`
/// and for the root files (`/favicon.ico`, `/robots.txt`): behind nginx, nginx serves them.
pub fn configure(cfg: &mut web::ServiceConfig, static_dir: Option<PathBuf>) {
    cfg.service(
        resource("/", "GET, HEAD, POST, OPTIONS", Answer::Page)
            .route(get_or_head().to(board::index))
            .route(web::post().to(board::post)),
    )
    .service(
        resource("/api/comments", "GET, HEAD, POST, OPTIONS", Answer::Json)
            .route(get_or_head().to(api::list))
            .route(web::post().to(api::create)),
    )
    .service(
        resource("/healthz", "GET, HEAD, OPTIONS", Answer::Json)
            .route(get_or_head().to(health::healthz)),
    )
    .service(
        resource("/readyz", "GET, HEAD, OPTIONS", Answer::Json)
            .route(get_or_head().to(health::readyz)),
    );
    if let Some(dir) = static_dir {
        for path in ROOT_FILES {
            cfg.service(
                resource(path, "GET, HEAD, OPTIONS", Answer::Page)
                    .route(get_or_head().to(root_file)),
            );
        }
        cfg.app_data(web::Data::new(StaticDir(dir.clone())))
            .service(Files::new("/static", dir));
    }
}

/// A route for `GET` and `HEAD` alike; actix-web sends no body for `HEAD`.
fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// A resource whose other methods get `OPTIONS` (204) or 405, both with `Allow`.
fn resource(path: &str, allow: &'static str, answer: Answer) -> Resource {
    web::resource(path).default_service(web::to(move |req: HttpRequest| async move {
        other_method(&req, allow, answer)
    }))
}

fn other_method(
    req: &HttpRequest,
    allow: &'static str,
    answer: Answer,
) -> Result<HttpResponse, actix_web::Error> {
    if req.method() == Method::OPTIONS {
        return Ok(HttpResponse::NoContent()
            .insert_header((actix_web::http::header::ALLOW, allow))
            .finish());
    }
    let error = AppError::MethodNotAllowed {
        method: req.method().to_string(),
        allow,
    };
    Err(match answer {
        Answer::Page => PageError(error).into(),
        Answer::Json => ApiError(error).into(),
    })
}

/// The folder the root files come from.
struct StaticDir(PathBuf);

/// `/favicon.ico` and friends, from the static folder, when the app serves it itself.
async fn root_file(req: HttpRequest, dir: web::Data<StaticDir>) -> Result<NamedFile, PageError> {
    let name = req.path().trim_start_matches('/');
    NamedFile::open(dir.0.join(name))
        .map_err(|_| PageError(AppError::NotFound(req.path().to_owned())))
}

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

/// Runs blocking database work on actix's blocking pool, inside the request's span, so that
/// what it logs (a lost connection) carries the request's id.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, DbError> + Send + 'static,
) -> Result<T, AppError> {
    let span = tracing::Span::current();
    Ok(web::block(move || span.in_scope(work)).await??)
}

/// Reads a page of comments on a blocking thread.
async fn load_page(pool: &web::Data<Pool>, request: PageRequest) -> Result<Page, AppError> {
    let pool = pool.clone();
    blocking(move || db::with_connection(&pool, |c| comments::page(c, request))).await
}

/// Where a post came from, for the metrics' `via` label.
#[derive(Clone, Copy)]
enum Via {
    Form,
    Api,
}

impl Via {
    fn label(self) -> &'static str {
        match self {
            Self::Form => "form",
            Self::Api => "api",
        }
    }
}

/// What a post passes besides the database: the rate limit, and the counters.
struct Posting<'a> {
    req: &'a HttpRequest,
    limiter: &'a PostLimiter,
    metrics: &'a Metrics,
    via: Via,
}

/// Checks the client's rate limit, validates and stores a comment on a blocking thread.
async fn store(
    posting: Posting<'_>,
    pool: &web::Data<Pool>,
    input: &CommentInput,
) -> Result<comments::Comment, AppError> {
    let via = posting.via.label();
    if let Err(retry_after) = posting.limiter.check(posting.req) {
        posting.metrics.rate_limited.with_label_values(&[via]).inc();
        return Err(AppError::TooManyRequests { retry_after });
    }
    let comment = NewComment::parse(input).map_err(|errors| {
        posting
            .metrics
            .validation_failures
            .with_label_values(&[via])
            .inc();
        AppError::Invalid(errors)
    })?;
    let pool = pool.clone();
    let stored =
        blocking(move || db::with_connection(&pool, |c| comments::insert(c, &comment))).await?;
    posting
        .metrics
        .comments_posted
        .with_label_values(&[via])
        .inc();
    Ok(stored)
}
