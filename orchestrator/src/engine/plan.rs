//! Deciding, with no engine: from what the project wants and what the engine was observed to
//! run, the operations that bring one to the other. A [`Plan`] is a list of steps, each one
//! operation and the earlier steps it waits for; the executor runs it one level of that graph at
//! a time. Plans print as text, which is how `--dry-run` shows them and how the tests compare
//! them.
//!
//! Recreating a container is safe: its replacement is created under a temporary name while the
//! old one still runs. Stop-first (a service that cannot run twice: published host ports, a
//! `container_name`, named volumes), only once that worked is the old one stopped, removed, and
//! the new one renamed and started. Start-first (every other service, or `update_config.order:
//! start-first`): in batches of `update_config.parallelism`, the new containers start beside the
//! old ones, each is awaited (healthy, or running without a restart for `monitor`), and only then
//! is its old container stopped (the app drains on SIGTERM); the stopped old containers are
//! removed and the new ones renamed once every batch is done, so a failure can still be rolled
//! back ([`rollback`]) to exactly what ran before. A replacement that cannot be created leaves
//! the old container running.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    time::Duration,
};

use sha2::{Digest, Sha256};

use super::{
    hash,
    images::ImageInfo,
    labels,
    resources::VolumeOwner,
    state::{Container, ProjectState},
};
use crate::project::{
    model::{Condition, MountKind, Project, Service},
    services,
    update::{self, FailureAction, Order, UpdateConfig, DEFAULT_MONITOR},
};

/// When containers are recreated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recreate {
    /// When the config hash changed.
    #[default]
    Changed,
    /// `--force-recreate`: always.
    Force,
    /// `--no-recreate`: never; existing containers are only started.
    Never,
}

/// What `up` was asked to do, as far as deciding goes.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// `--no-deps`: don't wait for dependencies outside the named services.
    pub no_deps: bool,
    pub recreate: Recreate,
    /// `--scale service=n`.
    pub scale: BTreeMap<String, u32>,
    pub remove_orphans: bool,
}

/// A container to create: everything the executor needs besides the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContainer {
    pub service: String,
    pub number: u32,
    /// The name it is created under.
    pub name: String,
    pub image_id: String,
    pub config_hash: String,
    /// Container path -> the labelled volume that keeps it (anonymous volumes).
    pub anonymous_volumes: BTreeMap<String, String>,
}

/// One operation: one engine call, or one wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    CreateNetwork {
        key: String,
        name: String,
    },
    CreateVolume {
        name: String,
        owner: VolumeOwner,
    },
    /// Wait until every container of `service` meets `condition`.
    WaitFor {
        service: String,
        condition: Condition,
    },
    CreateContainer(NewContainer),
    /// Create the replacement of `replaces` under a temporary name (`new.name`).
    CreateReplacement {
        new: NewContainer,
        replaces: String,
    },
    Stop {
        name: String,
        timeout: Duration,
    },
    Remove {
        name: String,
    },
    Rename {
        from: String,
        to: String,
    },
    Start {
        name: String,
    },
    Restart {
        name: String,
        timeout: Duration,
    },
    Kill {
        name: String,
        signal: Option<String>,
    },
    /// Wait until a container of a start-first update is up: healthy (and healthy for
    /// `monitor`, if written), or, without a health check, running for `monitor` (default 5 s)
    /// without a restart.
    Await {
        service: String,
        name: String,
        monitor: Option<Duration>,
    },
    /// `update_config.delay` between two batches of a service's update.
    Delay {
        service: String,
        duration: Duration,
    },
    /// Stop and remove a replacement that is given up (a failed update, or its rollback).
    Discard {
        name: String,
        timeout: Duration,
    },
    /// Stop and remove a container the service no longer needs (its number is above the scale).
    ScaleDown {
        name: String,
        timeout: Duration,
    },
    /// Nothing to do: the container is as wanted.
    Keep {
        name: String,
    },
    RemoveNetwork {
        name: String,
    },
    RemoveVolume {
        name: String,
    },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::CreateNetwork { name, .. } => write!(f, "create network {name}"),
            Op::CreateVolume {
                name,
                owner: VolumeOwner::Named(_),
            } => write!(f, "create volume {name}"),
            Op::CreateVolume {
                name,
                owner:
                    VolumeOwner::Anonymous {
                        service,
                        number,
                        path,
                    },
            } => write!(
                f,
                "create volume {name} (anonymous, {service}-{number}:{path})"
            ),
            Op::WaitFor { service, condition } => {
                write!(f, "wait for {service} ({})", condition_name(*condition))
            }
            Op::CreateContainer(new) => {
                write!(f, "create container {}", new.name)?;
                write_volumes(f, new)
            }
            Op::CreateReplacement { new, replaces } => {
                write!(f, "create container {} to replace {replaces}", new.name)?;
                write_volumes(f, new)
            }
            Op::Stop { name, timeout } => write!(f, "stop {name} ({}s)", timeout.as_secs()),
            Op::Remove { name } => write!(f, "remove {name}"),
            Op::Rename { from, to } => write!(f, "rename {from} to {to}"),
            Op::Start { name } => write!(f, "start {name}"),
            Op::Restart { name, timeout } => {
                write!(f, "restart {name} ({}s)", timeout.as_secs())
            }
            Op::Kill { name, signal } => {
                write!(
                    f,
                    "kill {name} ({})",
                    signal.as_deref().unwrap_or("SIGKILL")
                )
            }
            Op::ScaleDown { name, timeout } => {
                write!(
                    f,
                    "scale down: stop ({}s) and remove {name}",
                    timeout.as_secs()
                )
            }
            Op::Await {
                name,
                monitor: None,
                ..
            } => write!(
                f,
                "await {name} (healthy, or running {}s without a restart)",
                DEFAULT_MONITOR.as_secs()
            ),
            Op::Await {
                name,
                monitor: Some(m),
                ..
            } => write!(
                f,
                "await {name} (healthy for {0}s, or running {0}s without a restart)",
                m.as_secs()
            ),
            Op::Delay { service, duration } => write!(
                f,
                "delay {}s before the next batch of {service}",
                duration.as_secs()
            ),
            Op::Discard { name, timeout } => {
                write!(
                    f,
                    "discard {name}: stop ({}s) and remove",
                    timeout.as_secs()
                )
            }
            Op::Keep { name } => write!(f, "keep {name}"),
            Op::RemoveNetwork { name } => write!(f, "remove network {name}"),
            Op::RemoveVolume { name } => write!(f, "remove volume {name}"),
        }
    }
}

fn write_volumes(f: &mut fmt::Formatter<'_>, new: &NewContainer) -> fmt::Result {
    for (path, volume) in &new.anonymous_volumes {
        write!(f, " [{path} in {volume}]")?;
    }
    Ok(())
}

/// How a `depends_on` condition reads.
pub fn condition_name(c: Condition) -> &'static str {
    match c {
        Condition::ServiceStarted => "started",
        Condition::ServiceHealthy => "healthy",
        Condition::ServiceCompletedSuccessfully => "completed successfully",
    }
}

/// One operation and the steps (by index) it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub op: Op,
    /// Indexes of earlier steps.
    pub after: Vec<usize>,
}

/// A service whose containers a plan replaces start-first: what the executor needs when one
/// of the new containers fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub service: String,
    pub config: UpdateConfig,
    /// Each old container and the temporary name of its replacement, in the order replaced.
    pub pairs: Vec<(String, String)>,
    /// The service's stop grace period.
    pub stop_timeout: Duration,
}

impl Rollout {
    /// The old container a temporary replacement name stands for.
    pub fn replaced_by(&self, temp: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(_, t)| t == temp)
            .map(|(old, _)| old.as_str())
    }
}

/// The operations to run, in an order that respects every step's `after`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// What the user should know that is no operation (orphans left alone, image `VOLUME`s).
    pub warnings: Vec<String>,
    /// How each replaced service is replaced, and why (start-first or stop-first).
    pub notes: Vec<String>,
    /// The services replaced start-first, by name.
    pub rollouts: BTreeMap<String, Rollout>,
}

impl Plan {
    /// The start-first update an operation belongs to: it creates, starts or stops one of the
    /// update's containers.
    pub fn rollout_of(&self, op: &Op) -> Option<&Rollout> {
        let name = match op {
            Op::CreateReplacement { new, .. } => &new.name,
            Op::Start { name } | Op::Stop { name, .. } | Op::Await { name, .. } => name,
            _ => return None,
        };
        self.rollouts.values().find(|r| {
            r.pairs
                .iter()
                .any(|(old, temp)| old == name || temp == name)
        })
    }

    /// Adds a step; returns its index.
    fn push(&mut self, op: Op, after: impl IntoIterator<Item = usize>) -> usize {
        let mut after: Vec<usize> = after.into_iter().collect();
        after.sort_unstable();
        after.dedup();
        self.steps.push(Step { op, after });
        self.steps.len() - 1
    }

    /// True when every step is a [`Op::Keep`]: nothing would change.
    pub fn changes_nothing(&self) -> bool {
        self.steps.iter().all(|s| matches!(s.op, Op::Keep { .. }))
    }

    /// The steps grouped by level: a step's level is one more than the highest level among the
    /// steps it waits for. The steps of one level can run at the same time.
    pub fn levels(&self) -> Vec<Vec<usize>> {
        let mut level = vec![0usize; self.steps.len()];
        let mut levels: Vec<Vec<usize>> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            level[i] = step.after.iter().map(|a| level[*a] + 1).max().unwrap_or(0);
            if levels.len() <= level[i] {
                levels.resize(level[i] + 1, Vec::new());
            }
            levels[level[i]].push(i);
        }
        levels
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        if self.steps.is_empty() {
            return writeln!(f, "nothing to do");
        }
        for (i, step) in self.steps.iter().enumerate() {
            write!(f, "{:>2}. {}", i + 1, step.op)?;
            if !step.after.is_empty() {
                let after: Vec<String> = step.after.iter().map(|a| (a + 1).to_string()).collect();
                write!(f, "  (after {})", after.join(", "))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// The stable name of the volume that keeps an anonymous volume of one container.
pub fn anonymous_volume_name(project: &str, service: &str, number: u32, path: &str) -> String {
    let digest = Sha256::digest(path.as_bytes());
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{project}_{service}_{number}_anon_{short}")
}

/// The container paths that get anonymous volumes: the service's own (`- /data`) and the
/// image's `VOLUME`s that no mount of the service covers (the second list).
fn anonymous_paths(service: &Service, image: &ImageInfo) -> (Vec<String>, Vec<String>) {
    let mut paths: Vec<String> = service
        .volumes
        .iter()
        .filter(|m| m.kind == MountKind::Volume && m.source.is_none())
        .map(|m| m.target.clone())
        .collect();
    let uncovered: Vec<String> = image
        .volumes
        .iter()
        .filter(|path| !service.volumes.iter().any(|m| &m.target == *path))
        .cloned()
        .collect();
    paths.extend(uncovered.iter().cloned());
    paths.sort();
    paths.dedup();
    (paths, uncovered)
}

/// The temporary name a replacement is created under while the container it replaces runs
/// (Compose's choice: the old ID's first 12 characters, then the name).
pub fn replacement_name(old: &Container) -> String {
    let short: String = old.id.chars().take(12).collect();
    format!("{short}_{}", old.name)
}

/// Everything `up` decides from.
pub struct UpInput<'a> {
    pub project: &'a Project,
    /// The selected services, in start order.
    pub services: &'a [String],
    pub observed: &'a ProjectState,
    /// The image each selected service runs.
    pub images: &'a BTreeMap<String, ImageInfo>,
    pub options: &'a UpOptions,
}

/// The plan that brings the selected services to what the project says.
pub fn up(input: &UpInput) -> Plan {
    let UpInput {
        project,
        services: selected,
        observed,
        images,
        options,
    } = *input;
    let mut plan = Plan::default();

    let orphans: Vec<&Container> = observed
        .containers
        .iter()
        .filter(|c| {
            !project.services.contains_key(&c.service)
                && !project.disabled_services.contains_key(&c.service)
        })
        .collect();
    if options.remove_orphans {
        for c in &orphans {
            let timeout = services::stop_timeout(None);
            plan.push(
                Op::ScaleDown {
                    name: c.name.clone(),
                    timeout,
                },
                [],
            );
        }
    } else if !orphans.is_empty() {
        let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
        plan.warnings.push(format!(
            "found orphan containers ({}) for this project: their services are no longer in the compose file; run up --remove-orphans to remove them",
            names.join(", ")
        ));
    }

    // Networks and named volumes the selected services use.
    let mut network_steps: BTreeMap<&str, usize> = BTreeMap::new();
    for key in services::networks_used(project, selected) {
        let Some(net) = project.networks.get(key) else {
            continue;
        };
        if net.external || observed.networks.contains_key(&net.name) {
            continue;
        }
        let step = plan.push(
            Op::CreateNetwork {
                key: key.clone(),
                name: net.name.clone(),
            },
            [],
        );
        network_steps.insert(key, step);
    }
    let mut volume_steps: BTreeMap<&str, usize> = BTreeMap::new();
    for key in services::volumes_used(project, selected) {
        let Some(vol) = project.volumes.get(key) else {
            continue;
        };
        if vol.external || observed.volumes.contains_key(&vol.name) {
            continue;
        }
        if observed.foreign_volumes.contains(&vol.name) {
            plan.warnings.push(format!(
                "volume {} already exists but was not created by this project; using it",
                vol.name
            ));
            continue;
        }
        let step = plan.push(
            Op::CreateVolume {
                name: vol.name.clone(),
                owner: VolumeOwner::Named(key.clone()),
            },
            [],
        );
        volume_steps.insert(key, step);
    }

    // Per service, in start order: the steps after which it counts as up (for dependents).
    let mut ready: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut recreated: BTreeSet<&str> = BTreeSet::new();
    let mut waits: BTreeMap<(&str, &'static str), usize> = BTreeMap::new();
    for name in selected {
        let service = &project.services[name];
        let image = &images[name];
        let aliases = services::link_aliases(project, name);
        let config_hash = hash::config_hash(project, name, service, &image.id, &aliases);
        let replicas = options
            .scale
            .get(name)
            .copied()
            .unwrap_or_else(|| service.replicas());
        let timeout = services::stop_timeout(Some(service));
        let mut existing = observed.service(name);
        // The container under its own name first, so a replacement left by an interrupted
        // `up` is the duplicate that goes.
        existing.sort_by_key(|c| {
            (
                c.number,
                c.name != labels::container_name(&project.name, name, c.number),
            )
        });
        let dependency_recreated = service
            .depends_on
            .iter()
            .any(|(dep, d)| d.restart && recreated.contains(dep.as_str()));

        let up_to_date = existing.len() == replicas as usize
            && existing.iter().enumerate().all(|(i, c)| {
                c.number == i as u32 + 1
                    && c.is_running()
                    && (c.config_hash == config_hash || options.recreate == Recreate::Never)
            })
            && options.recreate != Recreate::Force
            && !dependency_recreated;
        if up_to_date {
            let steps = existing
                .iter()
                .map(|c| {
                    plan.push(
                        Op::Keep {
                            name: c.name.clone(),
                        },
                        [],
                    )
                })
                .collect();
            ready.insert(name, steps);
            continue;
        }

        // New work waits for the service's networks and volumes, and for its dependencies'
        // readiness (or their condition, waited for once per dependency). Creation waits for
        // them too, not only the start: a dependency that fails leaves no container behind
        // that could never have started.
        let infra: Vec<usize> = service
            .networks
            .keys()
            .filter_map(|k| network_steps.get(k.as_str()).copied())
            .chain(
                service
                    .volumes
                    .iter()
                    .filter_map(|m| m.source.as_deref())
                    .filter_map(|k| volume_steps.get(k).copied()),
            )
            .collect();
        let mut gate: Vec<usize> = Vec::new();
        for dep in service.dependencies() {
            if options.no_deps || !selected.iter().any(|s| s == dep) {
                continue;
            }
            let dep_ready = ready.get(dep).cloned().unwrap_or_default();
            let condition = service
                .depends_on
                .get(dep)
                .map(|d| d.condition)
                .unwrap_or(Condition::ServiceStarted);
            if condition == Condition::ServiceStarted {
                gate.extend(dep_ready);
                continue;
            }
            let key = (dep, condition_name(condition));
            let wait = match waits.get(&key) {
                Some(step) => *step,
                None => {
                    let step = plan.push(
                        Op::WaitFor {
                            service: dep.to_owned(),
                            condition,
                        },
                        dep_ready,
                    );
                    waits.insert(key, step);
                    step
                }
            };
            gate.push(wait);
        }

        // Scale down: numbers above the scale, duplicates of a number, and number 0.
        let mut by_number: BTreeMap<u32, Vec<&Container>> = BTreeMap::new();
        for c in &existing {
            by_number.entry(c.number).or_default().push(c);
        }
        for (number, containers) in by_number.iter().rev() {
            for (i, c) in containers.iter().enumerate() {
                if *number > replicas || *number == 0 || i > 0 {
                    plan.push(
                        Op::ScaleDown {
                            name: c.name.clone(),
                            timeout,
                        },
                        [],
                    );
                }
            }
        }

        let (paths, uncovered) = anonymous_paths(service, image);
        let (update_config, update_warnings) = UpdateConfig::of(service);
        let (order, order_reason) = update::order(project, service, &update_config, &paths);
        let mut start_first: Vec<Slot> = Vec::new();
        let mut replaced_any = false;
        let mut service_ready = Vec::new();
        for number in 1..=replicas {
            let current = by_number.get(&number).and_then(|v| v.first()).copied();
            let replace = match (current, options.recreate) {
                (None, _) => None,
                (Some(c), Recreate::Force) => Some(c),
                (Some(_), Recreate::Never) => None,
                (Some(c), Recreate::Changed) if c.config_hash != config_hash => Some(c),
                _ => None,
            };
            let canonical = labels::container_name(&project.name, name, number);
            let step = match (current, replace) {
                (None, _) | (Some(_), Some(_)) => {
                    if current.is_none() && number == 1 {
                        for path in &uncovered {
                            plan.warnings.push(format!(
                                "service {name}: image {} declares VOLUME {path}, which no named volume covers; its data is kept in an anonymous volume that survives down and rm (not down -v): declare a named volume for it to be safe",
                                project.image_name(name)
                            ));
                        }
                    }
                    let mut after = infra.clone();
                    after.extend(gate.iter().copied());
                    let mut anonymous_volumes = BTreeMap::new();
                    for path in &paths {
                        let volume = anonymous_volume_name(&project.name, name, number, path);
                        if !observed.volumes.contains_key(&volume) {
                            after.push(plan.push(
                                Op::CreateVolume {
                                    name: volume.clone(),
                                    owner: VolumeOwner::Anonymous {
                                        service: name.clone(),
                                        number,
                                        path: path.clone(),
                                    },
                                },
                                [],
                            ));
                        }
                        anonymous_volumes.insert(path.clone(), volume);
                    }
                    let mut new = NewContainer {
                        service: name.clone(),
                        number,
                        name: canonical.clone(),
                        image_id: image.id.clone(),
                        config_hash: config_hash.clone(),
                        anonymous_volumes,
                    };
                    match replace {
                        None => {
                            let created = plan.push(Op::CreateContainer(new), after);
                            plan.push(Op::Start { name: canonical }, [created])
                        }
                        Some(old) => {
                            recreated.insert(name);
                            replaced_any = true;
                            new.name = replacement_name(old);
                            if order == Order::StartFirst {
                                start_first.push(Slot {
                                    new,
                                    old: old.name.clone(),
                                    canonical,
                                    after,
                                });
                                continue;
                            }
                            let temp = new.name.clone();
                            let created = plan.push(
                                Op::CreateReplacement {
                                    new,
                                    replaces: old.name.clone(),
                                },
                                after,
                            );
                            let stopped = plan.push(
                                Op::Stop {
                                    name: old.name.clone(),
                                    timeout,
                                },
                                [created],
                            );
                            let removed = plan.push(
                                Op::Remove {
                                    name: old.name.clone(),
                                },
                                [stopped],
                            );
                            let renamed = plan.push(
                                Op::Rename {
                                    from: temp,
                                    to: canonical.clone(),
                                },
                                [removed],
                            );
                            plan.push(Op::Start { name: canonical }, [renamed])
                        }
                    }
                }
                (Some(c), None) if !c.is_running() => plan.push(
                    Op::Start {
                        name: c.name.clone(),
                    },
                    gate.clone(),
                ),
                (Some(c), None) if dependency_recreated => plan.push(
                    Op::Restart {
                        name: c.name.clone(),
                        timeout,
                    },
                    gate.clone(),
                ),
                (Some(c), None) => plan.push(
                    Op::Keep {
                        name: c.name.clone(),
                    },
                    [],
                ),
            };
            service_ready.push(step);
        }
        if replaced_any {
            for warning in update_warnings {
                plan.warnings.push(format!("service {name}: {warning}"));
            }
            plan.notes.push(match order {
                Order::StopFirst => format!("service {name}: {order_reason}"),
                Order::StartFirst => format!(
                    "service {name}: {order_reason}; {} at a time, on failure {}",
                    if update_config.parallelism == u32::MAX {
                        "all".to_owned()
                    } else {
                        update_config.parallelism.to_string()
                    },
                    match update_config.failure_action {
                        FailureAction::Rollback => "roll back",
                        FailureAction::Pause => "pause",
                        FailureAction::Continue => "continue",
                    }
                ),
            });
        }
        if !start_first.is_empty() {
            let rollout = Rollout {
                service: name.clone(),
                config: update_config,
                pairs: Vec::new(),
                stop_timeout: timeout,
            };
            let promoted = start_first_steps(&mut plan, rollout, start_first);
            service_ready.extend(promoted);
        }
        ready.insert(name, service_ready);
    }
    plan
}

/// One container of a start-first update: its replacement, the old container, the name the
/// replacement takes once the update is done, and what its creation waits for.
struct Slot {
    new: NewContainer,
    old: String,
    canonical: String,
    after: Vec<usize>,
}

/// The steps of a start-first update, in batches of `parallelism`: create and start each new
/// container beside the old one, await it, then stop the old one (which drains); `delay`
/// between batches. Once every batch is done, the old containers are removed and the new ones
/// take their names. Returns the steps after which each container counts as up.
fn start_first_steps(plan: &mut Plan, mut rollout: Rollout, slots: Vec<Slot>) -> Vec<usize> {
    let config = rollout.config.clone();
    let batch_size = (config.parallelism.max(1) as usize).min(slots.len());
    let batches = slots.len().div_ceil(batch_size);
    let mut gate: Vec<usize> = Vec::new();
    for (b, batch) in slots.chunks(batch_size).enumerate() {
        let mut stopped = Vec::new();
        for slot in batch {
            let temp = slot.new.name.clone();
            rollout.pairs.push((slot.old.clone(), temp.clone()));
            let mut after = slot.after.clone();
            after.extend(gate.iter().copied());
            let created = plan.push(
                Op::CreateReplacement {
                    new: slot.new.clone(),
                    replaces: slot.old.clone(),
                },
                after,
            );
            let started = plan.push(Op::Start { name: temp.clone() }, [created]);
            let up = plan.push(
                Op::Await {
                    service: rollout.service.clone(),
                    name: temp,
                    monitor: config.monitor,
                },
                [started],
            );
            stopped.push(plan.push(
                Op::Stop {
                    name: slot.old.clone(),
                    timeout: rollout.stop_timeout,
                },
                [up],
            ));
        }
        gate = if b + 1 < batches && !config.delay.is_zero() {
            vec![plan.push(
                Op::Delay {
                    service: rollout.service.clone(),
                    duration: config.delay,
                },
                stopped,
            )]
        } else {
            stopped
        };
    }
    let mut promoted = Vec::new();
    for slot in &slots {
        let removed = plan.push(
            Op::Remove {
                name: slot.old.clone(),
            },
            gate.clone(),
        );
        promoted.push(plan.push(
            Op::Rename {
                from: slot.new.name.clone(),
                to: slot.canonical.clone(),
            },
            [removed],
        ));
    }
    plan.rollouts.insert(rollout.service.clone(), rollout);
    promoted
}

/// The plan that undoes a start-first update of `rollout` that failed, from what the engine
/// runs now (`containers`): every old container that was stopped is started again and awaited,
/// and only then is every replacement still there discarded, so the service never has fewer
/// containers serving than it had.
pub fn rollback(rollout: &Rollout, containers: &[Container]) -> Plan {
    let mut plan = Plan::default();
    let find = |name: &str| containers.iter().find(|c| c.name == name);
    let mut back = Vec::new();
    for (old, _) in &rollout.pairs {
        if let Some(c) = find(old).filter(|c| !c.is_running()) {
            let started = plan.push(
                Op::Start {
                    name: c.name.clone(),
                },
                [],
            );
            back.push(plan.push(
                Op::Await {
                    service: rollout.service.clone(),
                    name: c.name.clone(),
                    monitor: rollout.config.monitor,
                },
                [started],
            ));
        }
    }
    for (_, temp) in &rollout.pairs {
        if find(temp).is_some() {
            plan.push(
                Op::Discard {
                    name: temp.clone(),
                    timeout: rollout.stop_timeout,
                },
                back.clone(),
            );
        }
    }
    plan
}

/// What `down` removes besides the project's containers.
#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    pub remove_orphans: bool,
    /// Volumes to remove (`-v`, agreed to by the user).
    pub volumes: Vec<String>,
    /// `-t`: one grace period for every container.
    pub timeout: Option<Duration>,
}

/// The plan for `down`: stop every container, dependents before what they depend on (a level
/// at once), remove them, then the networks, then (with `-v`) the volumes.
pub fn down(project: &Project, observed: &ProjectState, options: &DownOptions) -> Plan {
    let mut plan = Plan::default();
    let known =
        |s: &str| project.services.contains_key(s) || project.disabled_services.contains_key(s);
    let (ours, orphans): (Vec<&Container>, Vec<&Container>) = observed
        .containers
        .iter()
        .partition(|c| known(&c.service) || c.oneoff);
    let mut doomed = ours;
    if options.remove_orphans {
        doomed.extend(orphans);
    } else if !orphans.is_empty() {
        let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
        plan.warnings.push(format!(
            "found orphan containers ({}); down --remove-orphans removes them too",
            names.join(", ")
        ));
    }
    let removed = ordered(
        &mut plan,
        project,
        &doomed,
        Direction::DependentsFirst,
        |c| {
            c.is_running().then(|| Op::Stop {
                name: c.name.clone(),
                timeout: options
                    .timeout
                    .unwrap_or_else(|| services::stop_timeout(project.services.get(&c.service))),
            })
        },
        |c| {
            Some(Op::Remove {
                name: c.name.clone(),
            })
        },
    );
    let mut networks: Vec<&String> = observed.networks.keys().collect();
    networks.sort();
    for name in networks {
        plan.push(Op::RemoveNetwork { name: name.clone() }, removed.clone());
    }
    for name in &options.volumes {
        plan.push(Op::RemoveVolume { name: name.clone() }, removed.clone());
    }
    plan
}

/// Which way along the dependency graph a verb walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// What a service depends on first (`start`, `restart`).
    DependenciesFirst,
    /// Dependents first (`stop`, `down`).
    DependentsFirst,
    /// No order at all (`kill`).
    Unordered,
}

/// Adds, for each container, `first` and then `then` (each optional) with the order between
/// services that `direction` says; containers of one service, and unrelated services, go at
/// once; a service's steps wait for the `first` steps of the services before it. Returns the
/// index of each container's last step.
fn ordered(
    plan: &mut Plan,
    project: &Project,
    containers: &[&Container],
    direction: Direction,
    first: impl Fn(&Container) -> Option<Op>,
    then: impl Fn(&Container) -> Option<Op>,
) -> Vec<usize> {
    // service -> services whose steps must come before its own.
    let before = |service: &str| -> Vec<String> {
        match direction {
            Direction::Unordered => Vec::new(),
            Direction::DependenciesFirst => project
                .services
                .get(service)
                .map(|s| s.dependencies().map(str::to_owned).collect())
                .unwrap_or_default(),
            Direction::DependentsFirst => project
                .services
                .iter()
                .filter(|(_, s)| s.dependencies().any(|d| d == service))
                .map(|(n, _)| n.clone())
                .collect(),
        }
    };
    // Services in an order where every service comes after those it waits for.
    let mut pending: Vec<&str> = containers.iter().map(|c| c.service.as_str()).collect();
    pending.sort_unstable();
    pending.dedup();
    let mut done: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut last = Vec::new();
    while !pending.is_empty() {
        let position = pending
            .iter()
            .position(|s| {
                before(s)
                    .iter()
                    .all(|b| done.contains_key(b) || !pending.contains(&b.as_str()))
            })
            .unwrap_or(0); // a cycle (the loader refuses them): take the first
        let service = pending.remove(position);
        let after: Vec<usize> = before(service)
            .iter()
            .filter_map(|b| done.get(b))
            .flatten()
            .copied()
            .collect();
        // The next services wait for this one's `first` steps (for down: its stops, not its
        // removals); what the caller adds after everything waits for the last ones.
        let mut gates = Vec::new();
        for c in containers.iter().filter(|c| c.service == service) {
            let mut previous = after.clone();
            if let Some(op) = first(c) {
                previous = vec![plan.push(op, previous.clone())];
            }
            gates.extend(previous.iter().copied());
            if let Some(op) = then(c) {
                previous = vec![plan.push(op, previous.clone())];
            }
            last.extend(previous);
        }
        done.insert(service.to_owned(), gates);
    }
    last
}

/// One operation per container, in the order `direction` says: `stop`, `start`, `restart`,
/// `kill` and `rm` are this with a different operation.
pub fn each(
    project: &Project,
    containers: &[Container],
    direction: Direction,
    op: impl Fn(&Container) -> Option<Op>,
) -> Plan {
    let mut plan = Plan::default();
    let refs: Vec<&Container> = containers.iter().collect();
    ordered(&mut plan, project, &refs, direction, op, |_| None);
    plan
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, path::PathBuf};

    use super::*;
    use crate::project::{self, env::Environment, LoadOptions};

    fn load(yaml: &str) -> project::Loaded {
        let options = LoadOptions {
            cwd: PathBuf::from("/p"),
            project_name: Some("p".into()),
            ..LoadOptions::default()
        };
        project::load_documents(
            vec![(PathBuf::from("/p/compose.yaml"), yaml.to_owned())],
            &PathBuf::from("/p"),
            Environment::new(Default::default(), Default::default()),
            Vec::new(),
            &options,
        )
        .expect("the test project loads")
    }

    const STACK: &str = "
services:
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data]
    healthcheck: {test: [CMD, pg_isready]}
  app:
    image: app
    depends_on:
      db: {condition: service_healthy, restart: true}
    environment: {MODE: one}
  web:
    image: web
    depends_on: [app]
    ports: ['8080:80']
volumes:
  data: {}
";

    /// A test world: a loaded project, image IDs, and what the engine runs.
    struct World {
        loaded: project::Loaded,
        images: BTreeMap<String, ImageInfo>,
        observed: ProjectState,
    }

    impl World {
        fn new(yaml: &str) -> Self {
            let loaded = load(yaml);
            let images = loaded
                .project
                .services
                .keys()
                .map(|s| {
                    let info = ImageInfo {
                        id: format!("sha256:{s}"),
                        ..ImageInfo::default()
                    };
                    (s.clone(), info)
                })
                .collect();
            Self {
                loaded,
                images,
                observed: ProjectState::default(),
            }
        }

        fn project(&self) -> &Project {
            &self.loaded.project
        }

        fn plan(&self, options: &UpOptions) -> String {
            self.plan_for(&self.loaded.start_order, options)
        }

        fn plan_for(&self, services: &[String], options: &UpOptions) -> String {
            self.up_plan(services, options).to_string()
        }

        fn up_plan(&self, services: &[String], options: &UpOptions) -> Plan {
            up(&UpInput {
                project: self.project(),
                services,
                observed: &self.observed,
                images: &self.images,
                options,
            })
        }

        /// Makes the engine run what a plan would have made: every service up to date.
        fn converged(mut self) -> Self {
            let names: Vec<String> = self.loaded.start_order.clone();
            for name in names {
                let replicas = self.project().services[&name].replicas();
                for n in 1..=replicas {
                    let hash = self.hash(&name);
                    self.run(&name, n, &hash, "running");
                }
            }
            for net in self.loaded.project.networks.values() {
                self.observed
                    .networks
                    .insert(net.name.clone(), HashMap::new());
            }
            for vol in self.loaded.project.volumes.values() {
                self.observed
                    .volumes
                    .insert(vol.name.clone(), HashMap::new());
            }
            self
        }

        fn hash(&self, name: &str) -> String {
            let project = self.project();
            hash::config_hash(
                project,
                name,
                &project.services[name],
                &self.images[name].id,
                &services::link_aliases(project, name),
            )
        }

        fn run(&mut self, service: &str, number: u32, hash: &str, state: &str) {
            let name = labels::container_name("p", service, number);
            self.observed.containers.push(Container {
                id: format!("{service}{number}0123456789abcdef"),
                name,
                service: service.into(),
                number,
                oneoff: false,
                config_hash: hash.into(),
                image: String::new(),
                state: state.into(),
                status: String::new(),
                created: 0,
                command: String::new(),
                ports: Vec::new(),
                labels: HashMap::new(),
            });
        }
    }

    fn assert_plan(actual: String, expected: &str) {
        let expected = expected
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let lines: Vec<&str> = actual.lines().map(str::trim).collect();
        assert_eq!(
            lines.join("\n"),
            expected,
            "\n--- actual plan ---\n{actual}"
        );
    }

    #[test]
    fn a_fresh_project_is_created_and_started_in_dependency_order() {
        let world = World::new(STACK);
        let plan = up(&UpInput {
            project: world.project(),
            services: &world.loaded.start_order,
            observed: &world.observed,
            images: &world.images,
            options: &UpOptions::default(),
        });
        assert_plan(
            plan.to_string(),
            "
            1. create network p_default
            2. create volume p_data
            3. create container p-db-1  (after 1, 2)
            4. start p-db-1  (after 3)
            5. wait for db (healthy)  (after 4)
            6. create container p-app-1  (after 1, 5)
            7. start p-app-1  (after 6)
            8. create container p-web-1  (after 1, 7)
            9. start p-web-1  (after 8)
            ",
        );
        // The network and the volume are made at once.
        assert_eq!(plan.levels()[0], vec![0, 1]);
    }

    #[test]
    fn nothing_changed_keeps_everything() {
        let world = World::new(STACK).converged();
        let plan = up(&UpInput {
            project: world.project(),
            services: &world.loaded.start_order,
            observed: &world.observed,
            images: &world.images,
            options: &UpOptions::default(),
        });
        assert!(plan.changes_nothing());
        assert_plan(
            plan.to_string(),
            "
            1. keep p-db-1
            2. keep p-app-1
            3. keep p-web-1
            ",
        );
    }

    #[test]
    fn a_changed_environment_replaces_that_service_start_first() {
        let mut world = World::new(STACK).converged();
        world.loaded = load(&STACK.replace("MODE: one", "MODE: two"));
        assert_plan(
            world.plan(&UpOptions::default()),
            "
            note: service app: start-first: no published host ports, container_name or named volumes; 1 at a time, on failure roll back
            1. keep p-db-1
            2. wait for db (healthy)  (after 1)
            3. create container app101234567_p-app-1 to replace p-app-1  (after 2)
            4. start app101234567_p-app-1  (after 3)
            5. await app101234567_p-app-1 (healthy, or running 5s without a restart)  (after 4)
            6. stop p-app-1 (10s)  (after 5)
            7. remove p-app-1  (after 6)
            8. rename app101234567_p-app-1 to p-app-1  (after 7)
            9. keep p-web-1
            ",
        );
    }

    #[test]
    fn a_rebuilt_image_recreates_with_a_dependency_wait_and_restarts_dependents() {
        let mut world = World::new(STACK).converged();
        world.images.get_mut("db").unwrap().id = "sha256:rebuilt".into();
        // app depends on db with restart: true, so it is restarted after db is back.
        assert_plan(
            world.plan(&UpOptions::default()),
            "
            note: service db: stop-first: it has named volumes (data) a second container must not share
            1. create container db1012345678_p-db-1 to replace p-db-1
            2. stop p-db-1 (10s)  (after 1)
            3. remove p-db-1  (after 2)
            4. rename db1012345678_p-db-1 to p-db-1  (after 3)
            5. start p-db-1  (after 4)
            6. wait for db (healthy)  (after 5)
            7. restart p-app-1 (10s)  (after 6)
            8. keep p-web-1
            ",
        );
    }

    #[test]
    fn scaling_up_and_down() {
        let world = World::new(STACK).converged();
        let scale = |n| UpOptions {
            scale: BTreeMap::from([("web".to_owned(), n)]),
            ..UpOptions::default()
        };
        assert_plan(
            world.plan(&scale(3)),
            "
            1. keep p-db-1
            2. keep p-app-1
            3. keep p-web-1
            4. create container p-web-2  (after 2)
            5. start p-web-2  (after 4)
            6. create container p-web-3  (after 2)
            7. start p-web-3  (after 6)
            ",
        );
        let mut world = world;
        let hash = world.hash("web");
        world.run("web", 2, &hash, "running");
        world.run("web", 3, &hash, "running");
        assert_plan(
            world.plan(&scale(1)),
            "
            1. keep p-db-1
            2. keep p-app-1
            3. scale down: stop (10s) and remove p-web-3
            4. scale down: stop (10s) and remove p-web-2
            5. keep p-web-1
            ",
        );
    }

    #[test]
    fn no_recreate_force_recreate_and_no_deps() {
        let mut world = World::new(STACK).converged();
        world.loaded = load(&STACK.replace("MODE: one", "MODE: two"));
        let never = UpOptions {
            recreate: Recreate::Never,
            ..UpOptions::default()
        };
        assert_plan(
            world.plan(&never),
            "
            1. keep p-db-1
            2. keep p-app-1
            3. keep p-web-1
            ",
        );
        let force = UpOptions {
            recreate: Recreate::Force,
            ..UpOptions::default()
        };
        assert_plan(
            world.plan_for(&["web".to_owned()], &force),
            "
            note: service web: stop-first: it has published host ports (8080)
            1. create container web101234567_p-web-1 to replace p-web-1
            2. stop p-web-1 (10s)  (after 1)
            3. remove p-web-1  (after 2)
            4. rename web101234567_p-web-1 to p-web-1  (after 3)
            5. start p-web-1  (after 4)
            ",
        );
        // --no-deps on a fresh project: app is created without waiting for db.
        let fresh = World::new(STACK);
        let no_deps = UpOptions {
            no_deps: true,
            ..UpOptions::default()
        };
        assert_plan(
            fresh.plan_for(&["app".to_owned()], &no_deps),
            "
            1. create network p_default
            2. create container p-app-1  (after 1)
            3. start p-app-1  (after 2)
            ",
        );
    }

    #[test]
    fn orphans_are_named_and_removed_only_when_asked() {
        let mut world = World::new(STACK).converged();
        world.run("old", 1, "x", "running");
        let plan = world.plan(&UpOptions::default());
        assert!(
            plan.starts_with("warning: found orphan containers (p-old-1)"),
            "{plan}"
        );
        assert!(!plan.contains("remove p-old-1"), "{plan}");
        let remove = UpOptions {
            remove_orphans: true,
            ..UpOptions::default()
        };
        assert_plan(
            world.plan(&remove),
            "
            1. scale down: stop (10s) and remove p-old-1
            2. keep p-db-1
            3. keep p-app-1
            4. keep p-web-1
            ",
        );
    }

    #[test]
    fn anonymous_volumes_are_created_once_and_reattached() {
        let yaml = "
services:
  db:
    image: db
    volumes: [/extra]
";
        let mut world = World::new(yaml);
        world.images.get_mut("db").unwrap().volumes = vec!["/var/lib/data".into()];
        let extra = anonymous_volume_name("p", "db", 1, "/extra");
        let data = anonymous_volume_name("p", "db", 1, "/var/lib/data");
        let fresh = world.plan(&UpOptions::default());
        assert!(
            fresh.contains("declares VOLUME /var/lib/data, which no named volume covers"),
            "{fresh}"
        );
        assert!(fresh.contains(&format!("create volume {extra} (anonymous, db-1:/extra)")));
        // Recreated later: the volumes exist, so they are only mounted again.
        let mut world = world.converged();
        world.observed.volumes.insert(extra.clone(), HashMap::new());
        world.observed.volumes.insert(data.clone(), HashMap::new());
        world.images.get_mut("db").unwrap().id = "sha256:new".into();
        assert_plan(
            world.plan(&UpOptions::default()),
            &format!(
                "
                note: service db: stop-first: it has anonymous volumes (/extra, /var/lib/data) a second container must not share
                1. create container db1012345678_p-db-1 to replace p-db-1 [/extra in {extra}] [/var/lib/data in {data}]
                2. stop p-db-1 (10s)  (after 1)
                3. remove p-db-1  (after 2)
                4. rename db1012345678_p-db-1 to p-db-1  (after 3)
                5. start p-db-1  (after 4)
                "
            ),
        );
    }

    #[test]
    fn a_one_off_container_is_left_to_up_and_removed_by_down() {
        let mut world = World::new(STACK).converged();
        let mut oneoff = world.observed.containers[0].clone();
        oneoff.name = "p-db-run-1a2b".into();
        oneoff.oneoff = true;
        oneoff.state = "exited".into();
        world.observed.containers.push(oneoff);
        let plan = world.plan(&UpOptions::default());
        assert!(!plan.contains("p-db-run-1a2b"), "{plan}");
        let down = down(world.project(), &world.observed, &DownOptions::default());
        assert!(down.to_string().contains("remove p-db-run-1a2b"), "{down}");
    }

    #[test]
    fn down_stops_dependents_first_a_level_at_once_and_keeps_volumes_unless_asked() {
        let mut world = World::new(STACK).converged();
        let hash = world.hash("web");
        world.run("web", 2, &hash, "running");
        let expected = "
            1. stop p-web-1 (10s)
            2. remove p-web-1  (after 1)
            3. stop p-web-2 (10s)
            4. remove p-web-2  (after 3)
            5. stop p-app-1 (10s)  (after 1, 3)
            6. remove p-app-1  (after 5)
            7. stop p-db-1 (10s)  (after 5)
            8. remove p-db-1  (after 7)
            9. remove network p_default  (after 2, 4, 6, 8)
            ";
        let plan = down(world.project(), &world.observed, &DownOptions::default());
        assert_plan(plan.to_string(), expected);
        // Both web containers stop at once.
        assert_eq!(plan.levels()[0], vec![0, 2]);
        let with_volumes = DownOptions {
            volumes: vec!["p_data".into()],
            ..DownOptions::default()
        };
        assert_plan(
            down(world.project(), &world.observed, &with_volumes).to_string(),
            &format!("{expected}\n10. remove volume p_data  (after 2, 4, 6, 8)"),
        );
    }

    const REPLICATED: &str = "
services:
  app:
    image: app
    deploy:
      replicas: 3
      update_config: {parallelism: 2, delay: 4s, monitor: 3s, max_failure_ratio: 0.34}
    environment: {MODE: one}
";

    /// Three replicas running, and a release that changes their environment: the world and
    /// the plan for it.
    fn replicated_release() -> (World, Plan) {
        let mut world = World::new(REPLICATED).converged();
        world.loaded = load(&REPLICATED.replace("MODE: one", "MODE: two"));
        let plan = world.up_plan(&world.loaded.start_order, &UpOptions::default());
        (world, plan)
    }

    #[test]
    fn start_first_replaces_in_batches_awaiting_each_new_container_before_its_old_one_stops() {
        let (_, plan) = replicated_release();
        assert_plan(
            plan.to_string(),
            "
            note: service app: start-first: no published host ports, container_name or named volumes; 2 at a time, on failure roll back
             1. create container app101234567_p-app-1 to replace p-app-1
             2. start app101234567_p-app-1  (after 1)
             3. await app101234567_p-app-1 (healthy for 3s, or running 3s without a restart)  (after 2)
             4. stop p-app-1 (10s)  (after 3)
             5. create container app201234567_p-app-2 to replace p-app-2
             6. start app201234567_p-app-2  (after 5)
             7. await app201234567_p-app-2 (healthy for 3s, or running 3s without a restart)  (after 6)
             8. stop p-app-2 (10s)  (after 7)
             9. delay 4s before the next batch of app  (after 4, 8)
            10. create container app301234567_p-app-3 to replace p-app-3  (after 9)
            11. start app301234567_p-app-3  (after 10)
            12. await app301234567_p-app-3 (healthy for 3s, or running 3s without a restart)  (after 11)
            13. stop p-app-3 (10s)  (after 12)
            14. remove p-app-1  (after 13)
            15. rename app101234567_p-app-1 to p-app-1  (after 14)
            16. remove p-app-2  (after 13)
            17. rename app201234567_p-app-2 to p-app-2  (after 16)
            18. remove p-app-3  (after 13)
            19. rename app301234567_p-app-3 to p-app-3  (after 18)
            ",
        );
        // The first batch's two containers start together; the old ones are removed together.
        let levels = plan.levels();
        assert_eq!(levels[0], vec![0, 4]);
        assert_eq!(levels[9], vec![13, 15, 17]);
        let rollout = &plan.rollouts["app"];
        assert_eq!(rollout.pairs.len(), 3);
        assert_eq!(rollout.config.tolerated_failures(rollout.pairs.len()), 1);
        assert_eq!(rollout.replaced_by("app201234567_p-app-2"), Some("p-app-2"));
        // Every step that creates, starts, awaits or stops one of its containers belongs to it
        // (an engine error there is undone as a failed update); the delay does not.
        for i in [0, 1, 2, 3, 9, 12] {
            let op = &plan.steps[i].op;
            assert_eq!(
                plan.rollout_of(op).map(|r| r.service.as_str()),
                Some("app"),
                "{op}"
            );
        }
        assert!(plan.rollout_of(&plan.steps[8].op).is_none());
    }

    #[test]
    fn stop_first_stays_where_two_containers_cannot_run_and_says_why() {
        let yaml = "
services:
  named:
    image: x
    container_name: the-one
    environment: {MODE: one}
  asked:
    image: x
    deploy: {update_config: {order: stop-first}}
    environment: {MODE: one}
  forced:
    image: x
    ports: ['8080:80']
    deploy: {update_config: {order: start-first, failure_action: pause}}
    environment: {MODE: one}
  shared:
    image: x
    volumes: [data:/data]
    deploy: {update_config: {order: start-first, failure_action: pause}}
    environment: {MODE: one}
volumes:
  data: {}
";
        let mut world = World::new(yaml).converged();
        world.loaded = load(&yaml.replace("MODE: one", "MODE: two"));
        let plan = world.plan(&UpOptions::default());
        let notes: Vec<&str> = plan.lines().filter(|l| l.starts_with("note:")).collect();
        assert_eq!(
            notes,
            [
                "note: service asked: stop-first, as update_config.order says",
                "note: service forced: stop-first, though update_config.order says start-first: two containers cannot both have published host ports (8080)",
                "note: service named: stop-first: it has a fixed container_name (the-one)",
                "note: service shared: start-first, as update_config.order says; 1 at a time, on failure pause",
            ],
            "{plan}"
        );
        // Stop-first: the old container stops before its replacement starts; start-first:
        // the replacement is awaited before the old one stops.
        assert!(
            plan.contains("2. stop p-asked-1 (10s)  (after 1)\n 3. remove p-asked-1"),
            "{plan}"
        );
        assert!(
            plan.contains("18. await shared101234_p-shared-1 (healthy, or running 5s without a restart)  (after 17)\n19. stop p-shared-1 (10s)  (after 18)"),
            "{plan}"
        );
        for service in ["asked", "forced", "named"] {
            assert!(!plan.contains(&format!("await {service}")), "{plan}");
        }
    }

    #[test]
    fn a_failed_update_is_rolled_back_from_what_runs_old_containers_first() {
        let (world, plan) = replicated_release();
        let rollout = plan.rollouts["app"].clone();
        // The first batch went through (p-app-1 and p-app-2 stopped, their replacements up);
        // the second batch's new container failed and p-app-3 still runs.
        let mut running = world.observed.containers.clone();
        running[0].state = "exited".into();
        running[1].state = "exited".into();
        for (_, temp) in &rollout.pairs {
            let mut new = running[2].clone();
            new.name = temp.clone();
            running.push(new);
        }
        assert_plan(
            rollback(&rollout, &running).to_string(),
            "
            1. start p-app-1
            2. await p-app-1 (healthy for 3s, or running 3s without a restart)  (after 1)
            3. start p-app-2
            4. await p-app-2 (healthy for 3s, or running 3s without a restart)  (after 3)
            5. discard app101234567_p-app-1: stop (10s) and remove  (after 2, 4)
            6. discard app201234567_p-app-2: stop (10s) and remove  (after 2, 4)
            7. discard app301234567_p-app-3: stop (10s) and remove  (after 2, 4)
            ",
        );
        // Nothing started yet: the rollback only removes what was created.
        let untouched = world.observed.containers.clone();
        assert_plan(rollback(&rollout, &untouched).to_string(), "nothing to do");
    }

    #[test]
    fn update_config_values_that_do_not_read_are_named() {
        let yaml = REPLICATED.replace("parallelism: 2", "parallelism: two, order: sideways");
        let mut world = World::new(&yaml).converged();
        world.loaded = load(&yaml.replace("MODE: one", "MODE: two"));
        let plan = world.plan(&UpOptions::default());
        assert!(plan.contains("warning: service app: deploy.update_config.parallelism: expected a number of containers; the default is used"), "{plan}");
        assert!(plan.contains("warning: service app: deploy.update_config.order: expected start-first or stop-first"), "{plan}");
        assert!(plan.contains("1 at a time"), "{plan}");
    }
}
