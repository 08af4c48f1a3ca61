//! Builds the HTTP server in one place: bound, configured, and ready to run until stopped.
//!
//! Tests build the same [`Application`] the binary runs, on port 0, and read the port back.

use std::{net::TcpListener, pin::pin, time::Instant};

use actix_web::{
    dev::{Server, ServerHandle},
    error::{JsonPayloadError, UrlencodedError},
    middleware::{from_fn, Condition, DefaultHeaders},
    web, App, HttpRequest, HttpServer,
};

use futures_util::future::{select, Either};

use crate::{
    config::Settings,
    db,
    drain::{self, Drain},
    error::{ApiError, AppError, PageError},
    limits::PostLimiter,
    metrics::Metrics,
    routes, security, telemetry,
};

/// Largest request body accepted: room for a 10,000-character message of 4-byte characters,
/// percent-encoded. nginx's `client_max_body_size` matches it.
pub const BODY_LIMIT: usize = 128 * 1024;

/// The response header that names the running release (`BOARD_RELEASE`).
pub const RELEASE_HEADER: &str = "X-Board-Release";

/// The board, bound to its ports and ready to serve: the board on `LISTEN_ADDR`, and `/metrics`
/// alone on `METRICS_ADDR`, so that a proxy in front of the first never exposes the second.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    metrics_server: Option<Server>,
    drain: Drain,
    drain_period: std::time::Duration,
}

/// Stops a running [`Application`] from elsewhere (tests).
#[derive(Clone)]
pub struct ApplicationHandle {
    board: ServerHandle,
    metrics: Option<ServerHandle>,
}

impl ApplicationHandle {
    /// Stops both listeners; `graceful` lets requests in flight finish.
    pub async fn stop(&self, graceful: bool) {
        self.board.stop(graceful).await;
        if let Some(metrics) = &self.metrics {
            metrics.stop(graceful).await;
        }
    }
}

impl Application {
    /// Binds `settings.listen_addr` (and `metrics_addr`) and builds the servers and the pool.
    /// Opens no database connection: run [`db::prepare`] first so the schema exists.
    pub fn build(settings: &Settings) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.listen_addr)?;
        let port = listener.local_addr()?.port();
        let metrics = web::Data::new(Metrics::new().map_err(std::io::Error::other)?);
        let pool = web::Data::new(db::build_pool(settings, metrics.pool.clone()));
        let limiter = web::Data::new(PostLimiter::new(settings));
        let static_dir = settings.static_dir.clone();
        let release = settings.release.clone();
        let drain = Drain::default();
        let board_drain = web::Data::new(drain.clone());
        let board_metrics = metrics.clone();
        let board_pool = pool.clone();
        let mut server = HttpServer::new(move || {
            let static_dir = static_dir.clone();
            App::new()
                .wrap(security::headers())
                .wrap(Condition::new(
                    release.is_some(),
                    DefaultHeaders::new()
                        .add((RELEASE_HEADER, release.clone().unwrap_or_default())),
                ))
                .wrap(from_fn(drain::close_while_draining))
                .wrap(from_fn(telemetry::observe))
                .app_data(board_drain.clone())
                .app_data(board_pool.clone())
                .app_data(board_metrics.clone())
                .app_data(limiter.clone())
                .app_data(form_config())
                .app_data(json_config())
                .configure(move |cfg| routes::configure(cfg, static_dir))
                .default_service(web::to(not_found))
        })
        .listen(listener)?
        // Signals are ours (run_until_stopped): SIGTERM drains before the server stops.
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs().max(1));
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        tracing::info!(addr = %settings.listen_addr, port, "listening");

        let (metrics_port, metrics_server) = match settings.metrics_addr {
            None => (None, None),
            Some(addr) => {
                let listener = TcpListener::bind(addr)?;
                let metrics_port = listener.local_addr()?.port();
                let server = HttpServer::new(move || {
                    App::new()
                        .wrap(from_fn(telemetry::observe))
                        .app_data(pool.clone())
                        .app_data(metrics.clone())
                        .route("/metrics", web::get().to(routes::health::metrics))
                        .default_service(web::to(not_found))
                })
                .listen(listener)?
                .workers(1)
                .disable_signals()
                .shutdown_timeout(1)
                .run();
                tracing::info!(%addr, port = metrics_port, "serving /metrics");
                (Some(metrics_port), Some(server))
            }
        };
        Ok(Self {
            port,
            metrics_port,
            server: server.run(),
            metrics_server,
            drain,
            drain_period: settings.drain_period,
        })
    }

    /// The port actually bound (useful when asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, if there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Serves until stopped (through [`Application::handle`]); the metrics listener stops with
    /// the board.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics_handle = self.metrics_server.as_ref().map(Server::handle);
        let board = async {
            let served = self.server.await;
            if let Some(metrics) = metrics_handle {
                metrics.stop(true).await;
            }
            served
        };
        let metrics = async {
            if let Some(server) = self.metrics_server {
                if let Err(error) = server.await {
                    tracing::error!(%error, "the metrics listener failed");
                }
            }
        };
        futures_util::future::join(board, metrics).await.0
    }

    /// Serves until SIGTERM or SIGINT: SIGTERM drains first ([`drain`]), then requests in
    /// flight finish; SIGINT skips the drain.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let signals = drain::stop_on_signal(self.handle(), self.drain.clone(), self.drain_period);
        match select(pin!(self.run_until_stopped()), pin!(signals)).await {
            Either::Left((served, _)) => served,
            Either::Right(((), serving)) => serving.await,
        }
    }

    /// A handle that stops the servers from elsewhere (tests).
    pub fn handle(&self) -> ApplicationHandle {
        ApplicationHandle {
            board: self.server.handle(),
            metrics: self.metrics_server.as_ref().map(Server::handle),
        }
    }
}

/// Waits for the database and migrates it, then serves until stopped.
pub async fn serve(settings: Settings) -> Result<(), crate::Error> {
    let prepare_settings = settings.clone();
    let started = Instant::now();
    actix_web::rt::task::spawn_blocking(move || db::prepare(&prepare_settings))
        .await
        .map_err(|e| crate::Error::Io(std::io::Error::other(e)))??;
    tracing::info!(
        took_ms = started.elapsed().as_millis() as u64,
        "the database is ready"
    );
    Application::build(&settings)?.run_until_signalled().await?;
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
