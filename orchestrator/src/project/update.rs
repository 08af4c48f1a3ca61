//! How `up` replaces a service's containers: `deploy.update_config` read into typed values
//! (the Compose Specification's keys and defaults), and which order applies to the service,
//! with the reason, so the progress output and `--dry-run` can say why.

use std::time::Duration;

use super::{
    model::{MountKind, Project, Service},
    units::parse_duration,
};

/// Start the new container before the old one stops, or stop the old one first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    StartFirst,
    StopFirst,
}

/// What a failed update does (`update_config.failure_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureAction {
    /// Remove the new containers, start again any old one that was stopped: the service runs
    /// what it ran before. Our default (Swarm's is `pause`, which leaves a half-updated service).
    #[default]
    Rollback,
    /// Stop the update where it failed and leave new and old containers side by side.
    Pause,
    /// Drop the failed container, keep the old one in its place, and go on with the others.
    Continue,
}

/// `deploy.update_config`, with the Compose Specification's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateConfig {
    /// Containers replaced at once (default 1).
    pub parallelism: u32,
    /// Pause between batches (default none).
    pub delay: Duration,
    /// How long a new container without a health check must run without a restart to count
    /// as up; with a health check, how long it must stay healthy after it became so (default 5 s
    /// without a health check, 0 with one unless written).
    pub monitor: Option<Duration>,
    pub failure_action: FailureAction,
    /// Share of the service's replacements that may fail before `failure_action` applies
    /// (default 0: the first failure does).
    pub max_failure_ratio: f64,
    /// `order` as written, if it was.
    pub order: Option<Order>,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        Self {
            parallelism: 1,
            delay: Duration::ZERO,
            monitor: None,
            failure_action: FailureAction::default(),
            max_failure_ratio: 0.0,
            order: None,
        }
    }
}

/// How long a container without a health check must run, when `monitor` is not written.
pub const DEFAULT_MONITOR: Duration = Duration::from_secs(5);

impl UpdateConfig {
    /// The service's `deploy.update_config`; a value that does not read is named in a warning
    /// and its default used.
    pub fn of(service: &Service) -> (Self, Vec<String>) {
        let mut config = Self::default();
        let mut warnings = Vec::new();
        let written = service
            .deploy
            .as_ref()
            .and_then(|d| d.swarm.get("update_config"))
            .and_then(|v| v.as_object());
        for (key, value) in written.into_iter().flatten() {
            let mut bad = |why: &str| {
                warnings.push(format!(
                    "deploy.update_config.{key}: {why}; the default is used"
                ))
            };
            let duration = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => parse_duration(s).ok(),
                serde_json::Value::Number(n) => n.as_u64().map(Duration::from_secs),
                _ => None,
            };
            match key.as_str() {
                "parallelism" => match value.as_u64() {
                    // 0 means all at once in the specification.
                    Some(0) => config.parallelism = u32::MAX,
                    Some(n) => config.parallelism = n.min(u32::MAX as u64) as u32,
                    None => bad("expected a number of containers"),
                },
                "delay" => match duration(value) {
                    Some(d) => config.delay = d,
                    None => bad("expected a duration such as 10s"),
                },
                "monitor" => match duration(value) {
                    Some(d) => config.monitor = Some(d),
                    None => bad("expected a duration such as 10s"),
                },
                "max_failure_ratio" => match value.as_f64() {
                    Some(r) if (0.0..=1.0).contains(&r) => config.max_failure_ratio = r,
                    _ => bad("expected a number from 0 to 1"),
                },
                "failure_action" => match value.as_str() {
                    Some("rollback") => config.failure_action = FailureAction::Rollback,
                    Some("pause") => config.failure_action = FailureAction::Pause,
                    Some("continue") => config.failure_action = FailureAction::Continue,
                    _ => bad("expected rollback, pause or continue"),
                },
                "order" => match value.as_str() {
                    Some("start-first") => config.order = Some(Order::StartFirst),
                    Some("stop-first") => config.order = Some(Order::StopFirst),
                    _ => bad("expected start-first or stop-first"),
                },
                _ => bad("is not an update key"),
            }
        }
        (config, warnings)
    }

    /// How many of `replaced` containers may fail before `failure_action` applies.
    pub fn tolerated_failures(&self, replaced: usize) -> u32 {
        (self.max_failure_ratio * replaced as f64).floor() as u32
    }
}

/// The order a service's containers are replaced in, and why, in words for the progress output.
/// `anonymous` are the container paths kept in anonymous volumes (the service's own and its
/// image's `VOLUME`s): a second container would share them too.
pub fn order(
    project: &Project,
    service: &Service,
    config: &UpdateConfig,
    anonymous: &[String],
) -> (Order, String) {
    // What makes two containers of the service unable to run side by side.
    let mut clashes = Vec::new();
    if let Some(name) = &service.container_name {
        clashes.push(format!("a fixed container_name ({name})"));
    }
    let published: Vec<&str> = service
        .ports
        .iter()
        .filter_map(|p| p.published.as_deref())
        .collect();
    if !published.is_empty() {
        clashes.push(format!("published host ports ({})", published.join(", ")));
    }
    let volumes: Vec<&str> = service
        .volumes
        .iter()
        .filter(|m| m.kind == MountKind::Volume)
        .filter_map(|m| m.source.as_deref())
        .filter(|key| project.volumes.contains_key(*key))
        .collect();
    let mut shared = Vec::new();
    if !volumes.is_empty() {
        shared.push(format!("named volumes ({})", volumes.join(", ")));
    }
    if !anonymous.is_empty() {
        shared.push(format!("anonymous volumes ({})", anonymous.join(", ")));
    }
    match config.order {
        Some(Order::StopFirst) => (
            Order::StopFirst,
            "stop-first, as update_config.order says".into(),
        ),
        // Asked for, and possible: named volumes are the user's to share.
        Some(Order::StartFirst) if clashes.is_empty() => (
            Order::StartFirst,
            "start-first, as update_config.order says".into(),
        ),
        Some(Order::StartFirst) => (
            Order::StopFirst,
            format!(
                "stop-first, though update_config.order says start-first: two containers cannot both have {}",
                clashes.join(" and ")
            ),
        ),
        None if clashes.is_empty() && shared.is_empty() => (
            Order::StartFirst,
            "start-first: no published host ports, container_name or named volumes".into(),
        ),
        None => {
            if !shared.is_empty() {
                clashes.push(format!(
                    "{} a second container must not share",
                    shared.join(" and ")
                ));
            }
            (
                Order::StopFirst,
                format!("stop-first: it has {}", clashes.join(" and ")),
            )
        }
    }
}
