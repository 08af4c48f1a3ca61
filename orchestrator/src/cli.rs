//! The command line: Docker Compose's global options and verbs, so that users' habits carry
//! over.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Deploys compose stacks (the old v1 format and the Compose Specification) on a Docker Engine.
///
/// Without -f it reads build.yml, compose.yaml, compose.yml, docker-compose.yml or
/// docker-compose.yaml from this directory or the nearest parent that has one, and the override
/// file beside it (e.g. compose.override.yaml).
#[derive(Debug, Parser)]
#[command(name = "orchestrator", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Which project to work on: the options every command shares.
#[derive(Debug, Args, Clone, Default)]
pub struct ProjectArgs {
    /// Compose file to read; repeat to merge several, later files overriding earlier ones.
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        value_name = "FILE",
        env = "COMPOSE_FILE",
        value_delimiter = ':'
    )]
    pub files: Vec<PathBuf>,
    /// Project name (default: COMPOSE_PROJECT_NAME, then the file's `name:`, then the directory's name).
    #[arg(short = 'p', long, global = true, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Directory that relative paths start from (default: the first file's directory).
    #[arg(long, global = true, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// File of variables for interpolation (default: .env in the project directory).
    #[arg(long, global = true, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Enable services of this profile; repeat for several (also COMPOSE_PROFILES=a,b).
    #[arg(long = "profile", global = true, value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Treat unknown or unsupported keys as errors instead of warnings.
    #[arg(long, global = true)]
    pub strict: bool,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the project and print it normalized: defaults filled in, variables resolved,
    /// paths absolute, v1 files in their modern form.
    Config(ConfigArgs),
}

/// Output formats of `config`.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

/// `config`'s own options.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Only validate; print nothing but problems.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print the service names, one per line, in start order.
    #[arg(long)]
    pub services: bool,
    /// Print the named volumes, one per line.
    #[arg(long)]
    pub volumes: bool,
    /// Print the image each service runs, one per line.
    #[arg(long)]
    pub images: bool,
}
