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

/// Which project to work on: the options every command shares. As in Docker Compose, they come
/// before the command (`orchestrator -f build.yml up`).
#[derive(Debug, Args, Clone, Default)]
pub struct ProjectArgs {
    /// Compose file to read; repeat to merge several, later files overriding earlier ones.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        env = "COMPOSE_FILE",
        value_delimiter = ':'
    )]
    pub files: Vec<PathBuf>,
    /// Project name (default: COMPOSE_PROJECT_NAME, then the file's `name:`, then the directory's name).
    #[arg(short = 'p', long, value_name = "NAME")]
    pub project_name: Option<String>,
    /// Directory that relative paths start from (default: the first file's directory).
    #[arg(long, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// File of variables for interpolation (default: .env in the project directory).
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Enable services of this profile; repeat for several (also COMPOSE_PROFILES=a,b).
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Treat unknown or unsupported keys as errors instead of warnings.
    #[arg(long)]
    pub strict: bool,
    /// How progress is shown: bars on a terminal, plain lines in logs and pipes.
    #[arg(long, value_enum, default_value_t)]
    pub progress: crate::progress::Mode,
    /// Print the plan (every operation, in order, with what it waits for) and change nothing:
    /// for up, down, rm, stop, start, restart and kill. Images are not built or pulled; the
    /// plan says which would be.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Never run the project's `x-stand-ins` programs when an image cannot be pulled.
    #[arg(long, global = true)]
    pub no_stand_ins: bool,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the project and print it normalized: defaults filled in, variables resolved,
    /// paths absolute, v1 files in their modern form.
    Config(ConfigArgs),
    /// Build or pull images, then create or recreate only what changed, and start it.
    ///
    /// A second `up` with nothing changed changes nothing. Containers whose configuration or
    /// image changed are recreated; their anonymous volumes come back with them. Without -d,
    /// follows the logs; Ctrl-C stops the stack gracefully, a second Ctrl-C kills it.
    Up(UpArgs),
    /// Stop and remove the project's containers and networks. Volumes are kept unless -v is
    /// given (and confirmed).
    Down(DownArgs),
    /// List the project's containers.
    Ps(PsArgs),
    /// Show the containers' output, one colour and name prefix per container.
    Logs(LogsArgs),
    /// Build the images of services that have a build section.
    Build(BuildArgs),
    /// Pull the images of services that are not built.
    Pull(ServicesArgs),
    /// Start existing containers.
    Start(ServicesArgs),
    /// Stop running containers (SIGTERM, then SIGKILL after the timeout).
    Stop(StopArgs),
    /// Restart containers.
    Restart(StopArgs),
    /// Send a signal to containers (default SIGKILL).
    Kill(KillArgs),
    /// Remove stopped containers; their volumes are kept unless -v is given.
    Rm(RmArgs),
    /// Run a command in a running container of a service.
    Exec(ExecArgs),
    /// Run a one-off command in a new container of a service.
    Run(RunArgs),
    /// Print the host address a container port is published on.
    Port(PortArgs),
    /// List the images the project's containers run.
    Images(ServicesArgs),
    /// Show the processes running in the containers.
    Top(ServicesArgs),
    /// List the projects on this engine, with their volumes.
    Ls(LsArgs),
    /// Write the project as Kubernetes 1.33 objects (Deployments, StatefulSets, Services,
    /// ConfigMaps, Secrets), checked before they are written. Needs no engine.
    ///
    /// Reads the same project `up` deploys (v1 files, .env, merged -f files). A service that
    /// mounts a named volume becomes a StatefulSet with a claim per volume; others Deployments.
    /// Every service another one reaches (depends_on, links, its name in a variable's value)
    /// gets a Service under its own name; published ports get `NAME-public`. Health checks
    /// become readiness and liveness probes; init containers wait for what a service depends
    /// on.
    ///
    /// Secret variables go to Secrets, referenced by the pods: names containing PASSWORD,
    /// SECRET, TOKEN, API_KEY, ... (not *_FILE), those named by --secret-env or by the
    /// service's `x-kubernetes: {secret-environment: [NAME]}`, and any value that contains a
    /// secret's value. What does not convert is listed on stderr and in the output's header.
    ///
    ///   orchestrator convert --to kubernetes --image-prefix registry.example/board > board.yaml
    Convert(ConvertArgs),
    /// Deploy the project on a Docker Swarm (DOCKER_HOST names a manager): up, ps, logs, down.
    Swarm(crate::commands::swarm::SwarmArgs),
}

/// Service names, or all services when none are given.
#[derive(Debug, Args, Clone, Default)]
pub struct ServicesArgs {
    /// Services to act on (default: all).
    pub services: Vec<String>,
}

/// `up`'s options, as in Docker Compose.
#[derive(Debug, Args, Clone, Default)]
pub struct UpArgs {
    /// Detached: return once the containers are started.
    #[arg(short, long)]
    pub detach: bool,
    /// Build images before starting, even if they exist.
    #[arg(long, conflicts_with = "no_build")]
    pub build: bool,
    /// Never build; fail if an image is missing.
    #[arg(long)]
    pub no_build: bool,
    /// Pull images even if they exist.
    #[arg(long)]
    pub pull: bool,
    /// Recreate containers even if nothing changed.
    #[arg(long, conflicts_with = "no_recreate")]
    pub force_recreate: bool,
    /// Never recreate existing containers, only start them.
    #[arg(long)]
    pub no_recreate: bool,
    /// Do not start the services the named ones depend on.
    #[arg(long)]
    pub no_deps: bool,
    /// Wait until services are running, and healthy where they have a health check.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait (and waiting on a dependency's condition) may take, in seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub wait_timeout: u64,
    /// Remove containers of services no longer in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Run N containers of SERVICE: SERVICE=N (repeatable).
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    pub scale: Vec<(String, u32)>,
    /// Seconds to wait for containers to stop after Ctrl-C.
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Services to bring up (default: all), with what they depend on.
    pub services: Vec<String>,
}

pub(crate) fn parse_scale(value: &str) -> Result<(String, u32), String> {
    let (service, n) = value
        .split_once('=')
        .ok_or_else(|| format!("{value:?} is not SERVICE=N"))?;
    let n = n
        .parse()
        .map_err(|_| format!("{n:?} is not a number of containers"))?;
    Ok((service.to_owned(), n))
}

/// What `--rmi` removes.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum RemoveImages {
    /// Images built for services that name no image of their own.
    Local,
    /// Every image the services use.
    All,
}

/// `down`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct DownArgs {
    /// Also remove the project's named and anonymous volumes (asks first; see --yes).
    #[arg(short = 'v', long)]
    pub volumes: bool,
    /// Remove volumes without asking (needed without a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Also remove images.
    #[arg(long, value_enum)]
    pub rmi: Option<RemoveImages>,
    /// Also remove containers of services no longer in the compose file.
    #[arg(long)]
    pub remove_orphans: bool,
    /// Seconds to wait for containers to stop before killing them.
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

/// Output formats of listings.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum ListFormat {
    #[default]
    Table,
    Json,
}

/// `ps`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct PsArgs {
    /// Also show stopped containers.
    #[arg(short, long)]
    pub all: bool,
    /// Only print container IDs.
    #[arg(short, long)]
    pub quiet: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
    /// Services to list (default: all).
    pub services: Vec<String>,
}

/// `logs`' options.
#[derive(Debug, Args, Clone, Default)]
pub struct LogsArgs {
    /// Keep following new output.
    #[arg(short, long)]
    pub follow: bool,
    /// Only the last N lines of each container.
    #[arg(long, value_name = "N")]
    pub tail: Option<String>,
    /// Show timestamps.
    #[arg(short, long)]
    pub timestamps: bool,
    /// Only output since this time (RFC 3339, or a Unix timestamp).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// No colours.
    #[arg(long)]
    pub no_color: bool,
    /// Services to show (default: all).
    pub services: Vec<String>,
}

/// `build`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct BuildArgs {
    /// Do not use the build cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Always try to pull newer base images.
    #[arg(long)]
    pub pull: bool,
    /// Services to build (default: all that have a build section).
    pub services: Vec<String>,
}

/// `stop`'s and `restart`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct StopArgs {
    /// Seconds to wait before killing.
    #[arg(short = 't', long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Services (default: all).
    pub services: Vec<String>,
}

/// `kill`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct KillArgs {
    /// Signal to send.
    #[arg(short, long, default_value = "SIGKILL")]
    pub signal: String,
    /// Services (default: all).
    pub services: Vec<String>,
}

/// `rm`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct RmArgs {
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub force: bool,
    /// Stop the containers first.
    #[arg(short, long)]
    pub stop: bool,
    /// Also remove the containers' anonymous volumes.
    #[arg(short, long)]
    pub volumes: bool,
    /// Services (default: all).
    pub services: Vec<String>,
}

/// `exec`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct ExecArgs {
    /// No pseudo-terminal (the default here: output is passed through as is).
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// Run as this user.
    #[arg(short, long)]
    pub user: Option<String>,
    /// Set an environment variable: KEY=VALUE (repeatable).
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// Which container of the service (1 by default).
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// The service.
    pub service: String,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// `run`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Do not start the services this one depends on.
    #[arg(long)]
    pub no_deps: bool,
    /// Set an environment variable: KEY=VALUE (repeatable).
    #[arg(short, long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// No pseudo-terminal (the default here).
    #[arg(short = 'T', long = "no-TTY")]
    pub no_tty: bool,
    /// The service.
    pub service: String,
    /// The command and its arguments (default: the service's command).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// `port`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct PortArgs {
    /// tcp, udp or sctp.
    #[arg(long, default_value = "tcp")]
    pub protocol: String,
    /// Which container of the service.
    #[arg(long, default_value_t = 1)]
    pub index: u32,
    /// The service.
    pub service: String,
    /// The container port.
    pub port: u16,
}

/// `ls`'s options.
#[derive(Debug, Args, Clone, Default)]
pub struct LsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
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
    /// Print the files as written, without substituting variables: `${TAG}` and `$$` stay as
    /// they are. (Without it, the output writes each `$` as `$$`, so it loads back the same.)
    #[arg(long)]
    pub no_interpolate: bool,
    /// Print `SERVICE HASH` lines: the config hash `up` compares to decide whether to recreate
    /// a service's containers. `--hash '*'` prints every service's; `--hash web,db` those two.
    /// Reads the image ID from the engine, so the image must be present (built or pulled).
    #[arg(long, value_name = "SERVICE|*")]
    pub hash: Option<String>,
    /// Pin each image to the digest the engine knows for it (`nginx:1.27` becomes
    /// `nginx:1.27@sha256:...`). Images with no digest (built here, never pushed or pulled)
    /// are printed as they are.
    #[arg(long)]
    pub resolve_image_digests: bool,
}

/// What `convert` writes.
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum ConvertTarget {
    /// Kubernetes 1.33 objects (the version k8s-openapi's `v1_33` feature types).
    #[default]
    Kubernetes,
}

/// `convert`'s options.
#[derive(Debug, Args, Clone)]
pub struct ConvertArgs {
    /// The platform to convert to.
    #[arg(long, value_enum)]
    pub to: ConvertTarget,
    /// `-` (the default) for one multi-document YAML on stdout, or a folder to write one
    /// file per object into (KIND-NAME.yaml).
    #[arg(short, long, value_name = "DIR|-", default_value = "-")]
    pub output: PathBuf,
    /// The Service type for published ports.
    #[arg(long, value_enum, default_value_t)]
    pub publish_as: crate::convert::Published,
    /// Registry path for images that are only built here: PREFIX/PROJECT-SERVICE:latest.
    #[arg(long, value_name = "REGISTRY/PATH")]
    pub image_prefix: Option<String>,
    /// Also put this variable in a Secret (repeatable).
    #[arg(long, value_name = "NAME")]
    pub secret_env: Vec<String>,
    /// Storage each named volume's claim asks for.
    #[arg(long, value_name = "QUANTITY", default_value = "1Gi")]
    pub volume_size: String,
}
