//! Builds the HTTP server in one place: bound, configured, and ready to run until stopped.
//!
//! Tests build the same [`Application`] the binary runs, on port 0, and read the port back.

use std::net::TcpListener;

use actix_files::Files;
use actix_web::{
    dev::Server,
    error::{JsonPayloadError, UrlencodedError},
    web, App, HttpRequest, HttpServer,
};
use tracing_actix_web::TracingLogger;

use crate::{
    config::Settings,
    db,
    error::{ApiError, AppError, PageError},
    routes, security,
};

/// Largest request body accepted: room for a 10,000-character message of 4-byte characters,
/// percent-encoded. nginx's `client_max_body_size` matches it.
pub const BODY_LIMIT: usize = 128 * 1024;

/// The board, bound to its port and ready to serve.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `settings.listen_addr` and builds the server and its pool. Opens no database
    /// connection: run [`db::prepare`] first so the schema exists.
    pub fn build(settings: &Settings) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.listen_addr)?;
        let port = listener.local_addr()?.port();
        let pool = web::Data::new(db::build_pool(settings));
        let static_dir = settings.static_dir.clone();
        let mut server = HttpServer::new(move || {
            let static_dir = static_dir.clone();
            App::new()
                .wrap(security::headers())
                .wrap(TracingLogger::default())
                .app_data(pool.clone())
                .app_data(form_config())
                .app_data(json_config())
                .service(routes::health::healthz)
                .service(routes::health::readyz)
                .service(routes::board::index)
                .service(routes::board::post)
                .service(routes::api::list)
                .service(routes::api::create)
                .configure(move |cfg| {
                    if let Some(dir) = static_dir {
                        cfg.service(Files::new("/static", dir));
                    }
                })
                .default_service(web::to(not_found))
        })
        .listen(listener)?
        .shutdown_timeout(settings.shutdown_timeout.as_secs().max(1));
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        tracing::info!(addr = %settings.listen_addr, port, "listening");
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    /// The port actually bound (useful when asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT; SIGTERM lets requests in flight finish first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// A handle that stops the server from elsewhere (tests).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }
}

/// Waits for the database and migrates it, then serves until stopped.
pub async fn serve(settings: Settings) -> Result<(), crate::Error> {
    let prepare_settings = settings.clone();
    actix_web::rt::task::spawn_blocking(move || db::prepare(&prepare_settings))
        .await
        .map_err(|e| crate::Error::Io(std::io::Error::other(e)))??;
    Application::build(&settings)?.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|err, _req| {
            let error = match err {
                UrlencodedError::Overflow { .. } => AppError::TooLarge { limit: BODY_LIMIT },
                UrlencodedError::ContentType => AppError::UnsupportedMediaType(
                    "the form must be sent as application/x-www-form-urlencoded".into(),
                ),
                other => AppError::BadRequest(format!("the form could not be read: {other}")),
            };
            PageError(error).into()
        })
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .error_handler(|err, _req| {
            let error = match err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => {
                    AppError::TooLarge { limit: BODY_LIMIT }
                }
                JsonPayloadError::ContentType => AppError::UnsupportedMediaType(
                    "send the comment as JSON, with Content-Type: application/json".into(),
                ),
                JsonPayloadError::Deserialize(e) => {
                    AppError::BadRequest(format!("the JSON could not be read: {e}"))
                }
                other => AppError::BadRequest(format!("the body could not be read: {other}")),
            };
            ApiError(error).into()
        })
}

async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, PageError> {
    Err(PageError(AppError::NotFound(req.path().to_owned())))
}
