//! The orchestrator: reads compose files (the 2015 article's v1 `build.yml` as well as the
//! Compose Specification) into one validated model, and deploys it.
//!
//! - [`project`]: from files to a normalized [`project::Project`]; no engine involved.
//! - [`engine`]: the Docker Engine through bollard: state, builds, convergence, health.
//! - [`progress`]: how long work is shown.
//! - [`convert`]: the project as another platform's objects (Kubernetes).
//! - [`commands`]: one module per verb.
//! - [`cli`]: the command line.

pub mod cli;
pub mod commands;
pub mod convert;
pub mod engine;
pub mod progress;
pub mod project;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Load(#[from] project::LoadError),
    #[error("could not write the output: {0}")]
    Output(String),
    #[error(transparent)]
    Write(#[from] project::WriteError),
    #[error(transparent)]
    Engine(#[from] engine::EngineError),
    #[error(transparent)]
    Convert(#[from] convert::ConvertError),
    #[error(transparent)]
    Swarm(#[from] engine::swarm::SwarmError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A command-line value that cannot be read.
    #[error("{0}")]
    Usage(String),
    /// The user declined, or could not be asked: nothing was done.
    #[error("{0}")]
    Refused(String),
}
