//! The normalized project: what the compose files mean, with every default filled in, every
//! variable resolved and every path absolute. The deploy side sees only this, never YAML.
//!
//! It serializes in the Compose Specification's long forms, which is what `config` prints.

use std::{collections::BTreeMap, fmt, path::PathBuf, time::Duration};

use serde::{Serialize, Serializer};

pub use super::ports::Port;
use super::units::format_duration;

/// A whole project: its name, where it lives, and what it runs.
#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub name: String,
    #[serde(skip)]
    pub working_dir: PathBuf,
    #[serde(skip)]
    pub config_files: Vec<PathBuf>,
    pub services: BTreeMap<String, Service>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub networks: BTreeMap<String, Network>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, FileObject>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub configs: BTreeMap<String, FileObject>,
    /// Services left out because none of their profiles is active.
    #[serde(skip)]
    pub disabled_services: BTreeMap<String, Service>,
    /// `x-stand-ins`: image -> the program that makes a local stand-in for it, run when the
    /// image cannot be pulled (an engine without registry access).
    #[serde(rename = "x-stand-ins", skip_serializing_if = "BTreeMap::is_empty")]
    pub stand_ins: BTreeMap<String, StandIn>,
}

/// A program inside the project directory, with its arguments, that makes a stand-in image.
/// It runs without a shell: what a compose file says here can only start a program the
/// project itself ships.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandIn {
    /// Absolute, and inside the project directory.
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl fmt::Display for StandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.program.display())?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

impl Serialize for StandIn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let program = self.program.to_string_lossy().into_owned();
        s.collect_seq(std::iter::once(program).chain(self.args.iter().cloned()))
    }
}

impl Project {
    /// An empty project called `name`, rooted at `working_dir`.
    pub fn new(name: &str, working_dir: PathBuf) -> Self {
        Self {
            name: name.to_owned(),
            working_dir,
            config_files: Vec::new(),
            services: BTreeMap::new(),
            networks: BTreeMap::new(),
            volumes: BTreeMap::new(),
            secrets: BTreeMap::new(),
            configs: BTreeMap::new(),
            disabled_services: BTreeMap::new(),
            stand_ins: BTreeMap::new(),
        }
    }

    /// The image a service runs: `image:`, or `project-service` when it is only built.
    pub fn image_name(&self, service: &str) -> String {
        match self.services.get(service).and_then(|s| s.image.clone()) {
            Some(image) => image,
            None => format!("{}-{service}", self.name),
        }
    }
}

/// One service: how to get its image and how to run its containers.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Service {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, Option<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose: Vec<String>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "links_as_strings"
    )]
    pub links: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Mount>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub volumes_from: Vec<String>,
    pub networks: BTreeMap<String, ServiceNetwork>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub depends_on: BTreeMap<String, Dependency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration"
    )]
    pub stop_grace_period: Option<Duration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    pub pull_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(skip_serializing_if = "is_false")]
    pub tty: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub stdin_open: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_add: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cap_drop: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_hosts: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<String>,
}

impl Service {
    /// How many containers the service runs (`deploy.replicas`, or `scale`), 1 by default.
    pub fn replicas(&self) -> u32 {
        self.deploy.as_ref().and_then(|d| d.replicas).unwrap_or(1)
    }

    /// The services this one must start after: `depends_on` and `links`.
    pub fn dependencies(&self) -> impl Iterator<Item = &str> {
        self.depends_on
            .keys()
            .map(String::as_str)
            .chain(self.links.iter().map(|l| l.service.as_str()))
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn opt_duration<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&format_duration(*d)),
        None => s.serialize_none(),
    }
}

fn duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

fn links_as_strings<S: Serializer>(links: &[Link], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(links.iter().map(|l| format!("{}:{}", l.service, l.alias)))
}

/// How to build a service's image.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Build {
    pub context: PathBuf,
    pub dockerfile: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A legacy link: another service, reachable under an alias.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub service: String,
    pub alias: String,
}

/// What kind of thing is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Volume,
    Bind,
    Tmpfs,
}

/// A volume, bind mount or tmpfs in a service's containers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    #[serde(rename = "type")]
    pub kind: MountKind,
    /// The named volume or host path; `None` for an anonymous volume or a tmpfs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub target: String,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
}

/// A service's attachment to a network.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ServiceNetwork {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
}

/// When a service may start relative to one it depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    ServiceStarted,
    ServiceHealthy,
    ServiceCompletedSuccessfully,
}

/// One `depends_on` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    pub condition: Condition,
    /// Restart this service when the dependency is recreated.
    pub restart: bool,
    pub required: bool,
}

/// A container health check, in Docker's terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Healthcheck {
    /// `["CMD", ...]`, `["CMD-SHELL", "..."]`, or `["NONE"]` when disabled.
    pub test: Vec<String>,
    #[serde(serialize_with = "duration")]
    pub interval: Duration,
    #[serde(serialize_with = "duration")]
    pub timeout: Duration,
    pub retries: u32,
    #[serde(serialize_with = "duration")]
    pub start_period: Duration,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration"
    )]
    pub start_interval: Option<Duration>,
}

impl Healthcheck {
    /// True when the check is turned off (`disable: true` or `test: ["NONE"]`).
    pub fn is_disabled(&self) -> bool {
        self.test.first().map(String::as_str) == Some("NONE")
    }
}

/// `deploy`: replicas and resources.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Deploy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    #[serde(skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    /// The keys only Swarm applies (`mode`, `placement`, `restart_policy`, `update_config`,
    /// `rollback_config`, `labels`, `endpoint_mode`), as written after interpolation and
    /// merging: `up` ignores them with a warning, `swarm up` reads them.
    #[serde(skip)]
    pub swarm: BTreeMap<String, serde_json::Value>,
}

/// Resource limits and reservations.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Resources {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceSet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceSet>,
}

impl Resources {
    fn is_empty(&self) -> bool {
        self.limits.is_none() && self.reservations.is_none()
    }
}

/// CPUs, memory in bytes, and a process count.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResourceSet {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
}

/// A network the project creates (or an existing one it joins).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Network {
    /// The engine's name for it: `project_key` unless `name:` or `external` says otherwise.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub internal: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub attachable: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A named volume the project creates (or an existing one it uses).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Volume {
    /// The engine's name for it: `project_key` unless `name:` or `external` says otherwise.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A secret or config: a file, a variable's value, inline content, or an external object.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileObject {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
}
