//! The board's failures and the status each one answers with.
//!
//! Routes return [`AppError`] wrapped as a [`PageError`] (an HTML page) or an [`ApiError`]
//! (JSON), so the same failure reads right in a browser and in a script.

use std::{error::Error as StdError, time::Duration};

use actix_web::{
    http::{header, StatusCode},
    HttpResponse, HttpResponseBuilder, ResponseError,
};
use askama::Template;
use serde_json::json;

use crate::{comments::FieldErrors, db::DbError};

/// Something a request could not get past.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input broke the comment rules; nothing was stored.
    #[error("the comment is not valid")]
    Invalid(FieldErrors),
    /// The request itself is malformed (a bad cursor, unreadable JSON).
    #[error("{0}")]
    BadRequest(String),
    /// No page at this address.
    #[error("there is no page at {0}")]
    NotFound(String),
    /// A cross-site post, or a form without its CSRF token.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The body is over the size the board accepts.
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// The request needs a content type the route does not speak.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The resource exists but does not take this method; `allow` lists those it takes.
    #[error("{method} is not allowed here; use {allow}")]
    MethodNotAllowed { method: String, allow: &'static str },
    /// This client posted more than the limit allows; it may post again after `retry_after`.
    #[error("too many posts from your address; please wait {} seconds and post again", retry_after.as_secs())]
    TooManyRequests { retry_after: Duration },
    /// Postgres cannot be reached right now; worth retrying shortly.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbError),
    /// Postgres is out of disk space: nothing can be stored until an operator frees some, but
    /// the board can still be read.
    #[error("the database is out of disk space")]
    StorageFull(#[source] DbError),
    /// Anything else: a bug or a failure the user cannot act on. `context` says what was being
    /// done; the source keeps the whole chain for the log.
    #[error("{context}")]
    Internal {
        context: &'static str,
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// An error and its causes on one line, `outer: inner: innermost`, for the request's log line.
pub fn chain(error: &dyn StdError) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        if e.is_unavailable() {
            Self::Unavailable(e)
        } else if e.is_storage_full() {
            Self::StorageFull(e)
        } else {
            Self::Internal {
                context: "a database query failed",
                source: Box::new(e),
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::Internal {
            context: "the blocking thread pool failed",
            source: Box::new(e),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        Self::Internal {
            context: "a template did not render",
            source: Box::new(e),
        }
    }
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::StorageFull(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The headers that go with the status: `Allow` on a 405, `Retry-After` on a 429 or 503.
    pub fn add_headers(&self, response: &mut HttpResponseBuilder) {
        match self {
            Self::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, *allow));
            }
            Self::TooManyRequests { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.as_secs().max(1)));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, 5));
            }
            Self::StorageFull(_) => {
                response.insert_header((header::RETRY_AFTER, 60));
            }
            _ => {}
        }
    }

    /// What the user is told; internal details stay in the log.
    fn public_message(&self) -> String {
        match self {
            Self::Unavailable(_) => {
                "The board cannot reach its database right now. Please try again in a moment."
                    .into()
            }
            Self::StorageFull(_) => {
                "The board cannot store new comments right now: its database is out of disk \
                 space. Reading still works; please post again later."
                    .into()
            }
            Self::Internal { .. } => "Something went wrong on our side. Please try again.".into(),
            other => sentence(&other.to_string()),
        }
    }
}

fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

/// The error page a browser sees.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
}

/// An [`AppError`] answered as an HTML page. Nothing is logged here: the request's one log
/// line (`telemetry`) carries the error's chain.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct PageError(pub AppError);

/// An [`AppError`] answered as JSON: `{"error": "...", "fields": {...}}`.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ApiError(pub AppError);

/// Lets `?` turn every failure a route meets into either answer.
macro_rules! answer_as_page_or_json {
    ($($source:ty),*) => {$(
        impl From<$source> for PageError {
            fn from(e: $source) -> Self {
                Self(e.into())
            }
        }
        impl From<$source> for ApiError {
            fn from(e: $source) -> Self {
                Self(e.into())
            }
        }
    )*};
}
answer_as_page_or_json!(
    AppError,
    DbError,
    actix_web::error::BlockingError,
    askama::Error
);

impl PageError {
    /// The failure behind the page, for the request's log line.
    pub fn app_error(&self) -> &AppError {
        &self.0
    }
}

impl ApiError {
    /// The failure behind the JSON answer, for the request's log line.
    pub fn app_error(&self) -> &AppError {
        &self.0
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = self.0.public_message();
        let page = ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message: &message,
        };
        let mut response = HttpResponse::build(status);
        self.0.add_headers(&mut response);
        match page.render() {
            Ok(html) => response.content_type("text/html; charset=utf-8").body(html),
            Err(_) => response
                .content_type("text/plain; charset=utf-8")
                .body(message),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({ "error": self.0.public_message() });
        if let AppError::Invalid(fields) = &self.0 {
            body["fields"] = json!(fields);
        }
        let mut response = HttpResponse::build(self.status_code());
        self.0.add_headers(&mut response);
        response.json(body)
    }
}
