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
    /// `x-budgets`: name -> a limited resource (database connections, licences, ...) and how
    /// much of it each replica of a service holds; `up --scale` refuses to overdraw one.
    #[serde(rename = "x-budgets", skip_serializing_if = "BTreeMap::is_empty")]
    pub budgets: BTreeMap<String, Budget>,
    /// The other top-level `x-` extension fields, kept as written (Compose prints them).
    #[serde(flatten)]
    pub extensions: BTreeMap<String, serde_json::Value>,
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

/// A resource of limited size that replicas share: `limit` in all, `per_replica` of it held by
/// each replica of the services named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub limit: u64,
    #[serde(rename = "per-replica")]
    pub per_replica: BTreeMap<String, u64>,
}

impl Budget {
    /// How much of the budget the services use with `replicas(service)` containers each.
    pub fn used(&self, replicas: impl Fn(&str) -> u32) -> u64 {
        self.per_replica
            .iter()
            .map(|(service, each)| u64::from(replicas(service)) * each)
            .sum()
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
            budgets: BTreeMap::new(),
            extensions: BTreeMap::new(),
        }
    }

    /// The engine's name for network `key`: its `name:`, or Compose's `project_key`.
    pub fn network_name(&self, key: &str) -> String {
        self.networks
            .get(key)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| format!("{}_{key}", self.name))
    }

    /// The engine's name for named volume `key`: its `name:`, or Compose's `project_key`.
    pub fn volume_name(&self, key: &str) -> String {
        self.volumes
            .get(key)
            .map(|v| v.name.clone())
            .unwrap_or_else(|| format!("{}_{key}", self.name))
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
    pub secrets: Vec<ObjectRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub configs: Vec<ObjectRef>,
    /// The log driver and its options (`max-size`, `max-file`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, Ulimit>,
    /// Container paths mounted as tmpfs, with `:options` if given.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tmpfs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_bytes")]
    pub shm_size: Option<i64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sysctls: BTreeMap<String, String>,
    /// `host`, `none`, `bridge`, `service:NAME` or `container:NAME`; the service then joins
    /// no project network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_bytes")]
    pub mem_limit: Option<i64>,
    /// Memory plus swap; -1 for unlimited swap.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_bytes")]
    pub memswap_limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "opt_bytes")]
    pub mem_reservation: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<Device>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_search: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_opt: Vec<String>,
    /// `host`, `service:NAME` or `container:NAME`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<String>,
    /// `host`, `shareable`, `private`, `none`, `service:NAME` or `container:NAME`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipc: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group_add: Vec<String>,
    /// `os/arch[/variant]` of the image to run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i64>,
    /// Containers outside the project, `NAME[:ALIAS]`, linked by the engine.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_links: Vec<String>,
    /// `host` or `private` cgroup namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup_parent: Option<String>,
    /// CPU CFS and realtime scheduling, in microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_quota: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_rt_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_rt_runtime: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_cgroup_rules: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_swappiness: Option<i64>,
    #[serde(skip_serializing_if = "is_false")]
    pub oom_kill_disable: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub storage_opt: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userns_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uts: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_driver: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gpus: Vec<GpuRequest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blkio_config: Option<Blkio>,
    /// `develop` (watch rules, for `watch`), read but not applied: printed with its paths
    /// made absolute, as Compose prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub develop: Option<serde_json::Value>,
}

/// A service's use of a secret or config: which one, and where it appears in the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    pub source: String,
    /// The path in the container; a secret's defaults to `/run/secrets/SOURCE`, a config's to
    /// `/SOURCE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

/// One `gpus` request; `count: -1` is all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GpuRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_ids: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// `blkio_config`: block IO weight and limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Blkio {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<BlkioWeight>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_read_bps: Vec<BlkioDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_write_bps: Vec<BlkioDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_read_iops: Vec<BlkioDevice>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_write_iops: Vec<BlkioDevice>,
}

/// A device and its rate limit (bytes or operations per second).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlkioDevice {
    pub path: String,
    pub rate: i64,
}

/// A device and its relative weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlkioWeight {
    pub path: String,
    pub weight: i64,
}

/// `logging`: a driver and its options.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Logging {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// One `ulimits` entry: a single value sets both limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ulimit {
    pub soft: i64,
    pub hard: i64,
}

impl Serialize for Ulimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        if self.soft == self.hard {
            return s.serialize_i64(self.soft);
        }
        let mut st = s.serialize_struct("Ulimit", 2)?;
        st.serialize_field("soft", &self.soft)?;
        st.serialize_field("hard", &self.hard)?;
        st.end()
    }
}

/// A host device made available in the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub source: String,
    pub target: String,
    /// `r`, `w` and `m` (mknod), `rwm` by default.
    pub permissions: String,
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

/// Sizes print as Compose v2 prints them: the byte count as a string.
fn opt_bytes<S: Serializer>(b: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_str(&b.to_string()),
        None => s.serialize_none(),
    }
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
    /// Keys read but not applied (`platforms`, `dockerfile_inline`, ...), warned about and
    /// printed as written.
    #[serde(flatten)]
    pub unapplied: BTreeMap<String, serde_json::Value>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
}

/// A bind mount's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BindOptions {
    /// Create the host folder when it is missing (always so for the short syntax).
    pub create_host_path: bool,
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
    /// Unset values are the engine's defaults (30s, 30s, 3, 0s), left out as Compose does.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration"
    )]
    pub interval: Option<Duration>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration"
    )]
    pub timeout: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration"
    )]
    pub start_period: Option<Duration>,
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

    /// Time between checks: as written, or the engine's 30 s.
    pub fn interval_or_default(&self) -> Duration {
        self.interval.unwrap_or(Duration::from_secs(30))
    }

    /// How long one check may take: as written, or the engine's 30 s.
    pub fn timeout_or_default(&self) -> Duration {
        self.timeout.unwrap_or(Duration::from_secs(30))
    }

    /// Failures in a row that make the container unhealthy: as written, or the engine's 3.
    pub fn retries_or_default(&self) -> u32 {
        self.retries.unwrap_or(3)
    }

    /// Grace before failures count: as written, or none.
    pub fn start_period_or_default(&self) -> Duration {
        self.start_period.unwrap_or_default()
    }
}

/// `deploy`: replicas and resources.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Deploy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Applied when the service has no `restart`, as Compose does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<DeployRestartPolicy>,
    #[serde(skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    /// The keys only Swarm applies (`mode`, `placement`, `restart_policy`, `update_config`,
    /// `rollback_config`, `labels`, `endpoint_mode`), as written after interpolation and
    /// merging: `up` ignores them with a warning, `swarm up` reads them.
    #[serde(skip)]
    pub swarm: BTreeMap<String, serde_json::Value>,
}

/// `deploy.restart_policy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeployRestartPolicy {
    /// `none`, `on-failure` or `any`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration"
    )]
    pub delay: Option<Duration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_duration"
    )]
    pub window: Option<Duration>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A network's address management: its driver and address pools.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ipam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// One address pool of a network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IpamPool {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub aux_addresses: BTreeMap<String, String>,
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
