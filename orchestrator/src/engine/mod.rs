//! Everything that talks to the Docker Engine (through bollard). The client is private to this
//! module: verbs ask for operations, never for the client.
//!
//! The data flow of a deploying verb: the loaded [`crate::project::Project`] and the
//! [`state`] observed on the engine (and the [`images`] resolved for it) go into [`plan`], a
//! pure function that returns the operations to run, in order, each with what it waits for;
//! [`executor`] runs them through [`containers`] and [`resources`], one level of the
//! dependency graph at a time, the operations of a level at once. [`converge`] strings these
//! together for `up`. Nothing here reads YAML.

pub mod build;
pub mod containers;
pub mod converge;
pub mod create;
pub mod dockerignore;
pub mod executor;
pub mod hash;
pub mod health;
pub mod images;
pub mod labels;
pub mod plan;
pub mod resources;
pub mod standin;
pub mod state;
pub mod swarm;

use std::time::Duration;

use bollard::{Docker, API_DEFAULT_VERSION};

use crate::project::services::{NoSuchService, OverBudget};

/// Why the engine could not do what was asked. Each variant's message says what failed; the
/// cause, where there is one, is its `source()` and is printed once, after it.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "cannot reach the Docker Engine at {host}: {reason}\n  is the daemon running? (set DOCKER_HOST to use another engine)"
    )]
    Unreachable { host: String, reason: String },
    /// An API call failed; `context` says which.
    #[error("{context}")]
    Api {
        context: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error(transparent)]
    NoSuchService(#[from] NoSuchService),
    /// `up --scale` would overdraw an `x-budgets` resource; nothing was changed.
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
    #[error("service {service} has no {}container number {index}", if *.running { "running " } else { "" })]
    NoContainer {
        service: String,
        index: u32,
        running: bool,
    },
    #[error("no containers to {verb}: run up first")]
    NoContainers { verb: &'static str },
    #[error(
        "external {kind} {name} does not exist: create it first (docker {kind} create {name})"
    )]
    MissingExternal { kind: &'static str, name: String },
    #[error("could not pull {image} for service {service}: {reason}\n  this engine cannot get it from a registry: build it locally (give the service a build: section) or load it with `docker load -i IMAGE.tar`")]
    Unpullable {
        image: String,
        service: String,
        reason: String,
    },
    #[error("image {image} of service {service} does not exist and {why} forbids getting it")]
    ImageMissing {
        image: String,
        service: String,
        why: &'static str,
    },
    #[error("the image {image} of service {service} is not on the engine: {why}")]
    ImageAbsent {
        image: String,
        service: String,
        why: &'static str,
    },
    #[error("{0}")]
    Build(String),
    #[error("service {service}: {replaces} was not recreated and is still running, because its replacement could not be created")]
    Replacement {
        service: String,
        replaces: String,
        #[source]
        source: Box<EngineError>,
    },
    /// A start-first update failed and was rolled back: the service runs what it ran before.
    #[error("service {service} was not updated: {why}\n  the update was rolled back: the old containers kept serving, and nothing was changed")]
    RolledBack { service: String, why: String },
    /// A start-first update failed under `failure_action: pause`.
    #[error("service {service}: the update is paused (update_config.failure_action: pause): {why}\n  new and old containers are left side by side, as they are; run up again to retry, or set failure_action: rollback")]
    UpdatePaused { service: String, why: String },
    /// A rollback could not bring the old containers back.
    #[error("service {service} was not updated: {why}\n  and its rollback failed: {rollback}")]
    RollbackFailed {
        service: String,
        why: String,
        rollback: String,
    },
    #[error("service {service} did not {what}: {why}")]
    NotReady {
        service: String,
        what: String,
        why: String,
    },
    #[error("{0}")]
    StandIn(String),
    #[error("{port} of {container} is not published")]
    NotPublished { port: String, container: String },
    #[error("could not read the build context {path}")]
    Context {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the engine's answer lacked {0}")]
    Incomplete(String),
}

impl EngineError {
    /// Wraps a bollard error with what we were doing.
    pub fn api(context: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> Self {
        let context = context.into();
        move |source| Self::Api { context, source }
    }
}

/// Bodies streamed from the engine (builds, logs, pulls) can take long: one request may last
/// this long before bollard gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);

/// A connection to one Docker Engine, at the API version both sides speak.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    /// `DOCKER_HOST`, or the default socket.
    pub host: String,
    /// The negotiated API version, e.g. `1.41`.
    pub api_version: (usize, usize),
}

impl Engine {
    /// Connects to `DOCKER_HOST` (default `unix:///var/run/docker.sock`) and negotiates the API
    /// version: bollard speaks a newer one than Docker 20.10's 1.41 by default.
    pub async fn connect() -> Result<Self, EngineError> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
        Self::connect_to(host).await
    }

    /// Connects to the engine at `host` (`unix://PATH` or `tcp://HOST:PORT`), as [`connect`]
    /// does to `DOCKER_HOST`: for a second engine, such as the one `swarm up --build-host`
    /// builds on.
    ///
    /// [`connect`]: Engine::connect
    pub async fn connect_to(host: String) -> Result<Self, EngineError> {
        let unreachable = |reason: String| EngineError::Unreachable {
            host: host.clone(),
            reason,
        };
        let timeout = REQUEST_TIMEOUT.as_secs();
        let docker = if let Some(path) = host.strip_prefix("unix://") {
            if !std::path::Path::new(path).exists() {
                return Err(unreachable("no such socket".into()));
            }
            Docker::connect_with_unix(path, timeout, API_DEFAULT_VERSION)
        } else if host.starts_with("tcp://") || host.starts_with("http://") {
            Docker::connect_with_http(&host, timeout, API_DEFAULT_VERSION)
        } else {
            return Err(unreachable(
                "unsupported DOCKER_HOST scheme (use unix:// or tcp://)".into(),
            ));
        }
        .map_err(|e| unreachable(e.to_string()))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(root_cause(&e)))?;
        let v = docker.client_version();
        let api_version = (v.major_version, v.minor_version);
        tracing::debug!(?api_version, %host, "connected to the Docker Engine");
        Ok(Self {
            docker,
            host,
            api_version,
        })
    }

    /// True when the engine speaks at least API `major.minor`.
    pub fn supports(&self, major: usize, minor: usize) -> bool {
        self.api_version >= (major, minor)
    }

    /// The API version as Docker writes it.
    pub fn api_version_string(&self) -> String {
        format!("{}.{}", self.api_version.0, self.api_version.1)
    }
}

/// The innermost message of an error chain (the part a user can act on).
pub fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// True for the engine's 404: no such container, image, network or volume.
pub fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// True for the engine's 304: already started, already stopped.
pub fn is_not_modified(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 304,
            ..
        }
    )
}
