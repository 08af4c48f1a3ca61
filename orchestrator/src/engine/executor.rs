//! Acting: runs a [`Plan`] on the engine, one level of its dependency graph at a time, the
//! operations of a level at once (as Compose does), and reports each as it completes. The first
//! failure ends the run once its level has finished; what it reports names the operation.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use futures_util::future::join_all;

use super::{
    containers,
    create::ContainerPlan,
    health,
    plan::{self, condition_name, NewContainer, Op, Plan, Rollout},
    resources, state, Engine, EngineError,
};
use crate::{
    progress::Progress,
    project::update::FailureAction,
    project::{
        model::Project,
        services::{self, VolumesFrom},
    },
};

/// Runs plans for one project.
pub struct Executor<'a> {
    pub engine: &'a Engine,
    pub project: &'a Project,
    pub progress: &'a Progress,
    /// How long a wait for a dependency's condition may last.
    pub dependency_timeout: Duration,
}

/// Why a step failed: an engine error, or a new container of a start-first update that did not
/// come up (which the update's `failure_action` decides about).
enum StepError {
    Engine(EngineError),
    NotUp {
        service: String,
        name: String,
        why: String,
    },
}

impl From<EngineError> for StepError {
    fn from(e: EngineError) -> Self {
        Self::Engine(e)
    }
}

impl Executor<'_> {
    /// Runs every step of the plan, a level at a time. A new container of a start-first update
    /// that does not come up is handled as its service's `update_config` says: tolerated
    /// (`max_failure_ratio`, `continue`: it is discarded and its old container keeps its place),
    /// rolled back, or paused.
    pub async fn run(&self, plan: &Plan) -> Result<(), EngineError> {
        // Containers of a tolerated failure: the steps that name them are skipped.
        let mut abandoned: BTreeSet<String> = BTreeSet::new();
        let mut failures: BTreeMap<&str, u32> = BTreeMap::new();
        for level in plan.levels() {
            let ops: Vec<&Op> = level
                .iter()
                .map(|i| &plan.steps[*i].op)
                .filter(|op| !names(op).iter().any(|n| abandoned.contains(*n)))
                .collect();
            let results = join_all(ops.iter().map(|op| self.run_op(op))).await;
            let mut failed: Option<EngineError> = None;
            // The first update of this level that failed past what its config tolerates.
            let mut undo: Option<(&Rollout, String)> = None;
            for (op, result) in ops.iter().zip(results) {
                let (rollout, name, why) = match result {
                    Ok(()) => continue,
                    Err(StepError::Engine(e)) => {
                        match plan.rollout_of(op) {
                            // The engine refused a step of an update: undone like a failure.
                            Some(rollout) => {
                                let why = format!("{e}: {}", super::root_cause(&e));
                                undo.get_or_insert((rollout, why));
                            }
                            None => {
                                failed.get_or_insert(e);
                            }
                        }
                        continue;
                    }
                    Err(StepError::NotUp { service, name, why }) => {
                        match plan.rollouts.get(&service) {
                            Some(rollout) => (rollout, name, why),
                            None => {
                                failed.get_or_insert(EngineError::NotReady {
                                    service,
                                    what: "come back".into(),
                                    why,
                                });
                                continue;
                            }
                        }
                    }
                };
                let count = failures.entry(rollout.service.as_str()).or_default();
                *count += 1;
                let config = &rollout.config;
                let tolerated = *count <= config.tolerated_failures(rollout.pairs.len())
                    || config.failure_action == FailureAction::Continue;
                if !tolerated {
                    undo.get_or_insert((rollout, why));
                    continue;
                }
                let old = rollout.replaced_by(&name).unwrap_or_default().to_owned();
                self.progress.warn(format!(
                    "service {}: {why}\n  {name} is discarded; {old} keeps running the old configuration",
                    rollout.service
                ));
                containers::stop(self.engine, &name, rollout.stop_timeout).await?;
                containers::remove(self.engine, &name, true, false).await?;
                abandoned.insert(name);
                abandoned.insert(old);
            }
            if let Some((rollout, why)) = undo {
                let service = rollout.service.clone();
                let error = match rollout.config.failure_action {
                    FailureAction::Pause => EngineError::UpdatePaused { service, why },
                    _ => self.roll_back(rollout, why).await,
                };
                if let Some(other) = failed.replace(error) {
                    self.progress.warn(other.to_string());
                }
            }
            if let Some(error) = failed {
                return Err(error);
            }
        }
        Ok(())
    }

    /// Undoes a failed start-first update ([`plan::rollback`] from what runs now); returns the
    /// error that says so.
    async fn roll_back(&self, rollout: &Rollout, why: String) -> EngineError {
        let service = rollout.service.clone();
        // Only that it happens: why is said once, by the error this returns.
        self.progress.warn(format!(
            "service {service}: the update failed; rolling back"
        ));
        let undone = async {
            let running = state::containers(self.engine, &self.project.name)
                .await
                .map_err(|e| e.to_string())?;
            let undo = plan::rollback(rollout, &running);
            for level in undo.levels() {
                let results = join_all(level.iter().map(|i| self.run_op(&undo.steps[*i].op))).await;
                for result in results {
                    match result {
                        Ok(()) => {}
                        Err(StepError::Engine(e)) => return Err(e.to_string()),
                        Err(StepError::NotUp { why, .. }) => return Err(why),
                    }
                }
            }
            Ok::<(), String>(())
        };
        match undone.await {
            Ok(()) => EngineError::RolledBack { service, why },
            Err(rollback) => EngineError::RollbackFailed {
                service,
                why,
                rollback,
            },
        }
    }

    async fn run_op(&self, op: &Op) -> Result<(), StepError> {
        let engine = self.engine;
        let progress = self.progress;
        match op {
            Op::CreateNetwork { key, name } => {
                let net = &self.project.networks[key];
                resources::create_network(engine, &self.project.name, key, net).await?;
                progress.event("Network", name, "Created");
            }
            Op::CreateVolume { name, owner } => {
                let spec = match owner {
                    resources::VolumeOwner::Named(key) => self.project.volumes.get(key),
                    resources::VolumeOwner::Anonymous { .. } => None,
                };
                resources::create_volume(engine, &self.project.name, name, owner, spec).await?;
                if spec.is_some() {
                    progress.event("Volume", name, "Created");
                }
            }
            Op::WaitFor { service, condition } => {
                let task = progress.spinner(format!(
                    "Waiting for {service} ({})",
                    condition_name(*condition)
                ));
                health::wait_for(
                    engine,
                    &self.project.name,
                    service,
                    *condition,
                    self.dependency_timeout,
                )
                .await?;
                drop(task);
            }
            Op::CreateContainer(new) => {
                self.create(new).await?;
                progress.event("Container", &new.name, "Created");
            }
            Op::CreateReplacement { new, replaces } => {
                // The old container still runs; a failure here leaves it so.
                self.create(new)
                    .await
                    .map_err(|e| EngineError::Replacement {
                        service: new.service.clone(),
                        replaces: replaces.clone(),
                        source: Box::new(e),
                    })?;
                progress.event("Container", &new.name, "Created");
            }
            Op::Stop { name, timeout } => {
                containers::stop(engine, name, *timeout).await?;
                progress.event("Container", name, "Stopped");
            }
            Op::Remove { name } => {
                containers::remove(engine, name, true, false).await?;
                progress.event("Container", name, "Removed");
            }
            Op::Rename { to, from } => {
                containers::rename(engine, from, to).await?;
                progress.event("Container", to, "Recreated");
            }
            Op::Start { name } => {
                containers::start(engine, name).await?;
                progress.event("Container", name, "Started");
            }
            Op::Restart { name, timeout } => {
                containers::restart(engine, name, *timeout).await?;
                progress.event("Container", name, "Restarted");
            }
            Op::Kill { name, signal } => {
                containers::kill(engine, name, signal.as_deref()).await?;
                progress.event("Container", name, "Killed");
            }
            Op::ScaleDown { name, timeout } => {
                containers::stop(engine, name, *timeout).await?;
                progress.event("Container", name, "Stopped");
                containers::remove(engine, name, true, false).await?;
                progress.event("Container", name, "Removed");
            }
            Op::Await {
                service,
                name,
                monitor,
            } => {
                let task = progress.spinner(format!("Waiting for {name}"));
                let up = health::await_container(engine, name, *monitor, self.dependency_timeout)
                    .await
                    .map_err(|why| StepError::NotUp {
                        service: service.clone(),
                        name: name.clone(),
                        why,
                    })?;
                drop(task);
                let status = match up {
                    health::Up::Healthy => "Healthy",
                    health::Up::Running => "Running",
                };
                progress.event("Container", name, status);
            }
            Op::Delay { duration, .. } => tokio::time::sleep(*duration).await,
            Op::Discard { name, timeout } => {
                containers::stop(engine, name, *timeout).await?;
                containers::remove(engine, name, true, false).await?;
                progress.event("Container", name, "Discarded");
            }
            Op::Keep { name } => progress.event("Container", name, "Running"),
            Op::RemoveNetwork { name } => {
                resources::remove_network(engine, name).await?;
                progress.event("Network", name, "Removed");
            }
            Op::RemoveVolume { name } => {
                resources::remove_volume(engine, name).await?;
                progress.event("Volume", name, "Removed");
            }
        }
        Ok(())
    }

    /// Creates a service's container as the plan describes it.
    async fn create(&self, new: &NewContainer) -> Result<String, EngineError> {
        let request = ContainerRequest {
            new,
            oneoff: false,
            command: None,
            extra_env: Vec::new(),
        };
        create_container(self.engine, self.project, &request).await
    }
}

/// The containers an operation acts on by name.
fn names(op: &Op) -> Vec<&str> {
    match op {
        Op::Stop { name, .. } | Op::Remove { name } | Op::Start { name } => vec![name],
        Op::Rename { from, to } => vec![from, to],
        _ => Vec::new(),
    }
}

/// A container to create, with what a one-off run adds.
pub struct ContainerRequest<'a> {
    pub new: &'a NewContainer,
    pub oneoff: bool,
    /// Replaces the service's command (`run SERVICE COMMAND`).
    pub command: Option<Vec<String>>,
    /// `KEY=value` pairs added to the service's environment.
    pub extra_env: Vec<String>,
}

/// Creates a container of the project's service; returns its ID.
pub async fn create_container(
    engine: &Engine,
    project: &Project,
    request: &ContainerRequest<'_>,
) -> Result<String, EngineError> {
    let new = request.new;
    let service = &project.services[&new.service];
    let volumes_from = services::volumes_from(service)
        .into_iter()
        .map(|v| match v {
            VolumesFrom::Container { name, mode } => with_mode(name, mode),
            VolumesFrom::Service { name, mode } => {
                with_mode(super::labels::container_name(&project.name, &name, 1), mode)
            }
        })
        .collect();
    let plan = ContainerPlan {
        project,
        service_name: &new.service,
        service,
        name: new.name.clone(),
        number: new.number,
        oneoff: request.oneoff,
        image: project.image_name(&new.service),
        image_id: new.image_id.clone(),
        config_hash: new.config_hash.clone(),
        aliases: services::link_aliases(project, &new.service),
        anonymous_volumes: new.anonymous_volumes.clone(),
        volumes_from,
        command: request.command.clone(),
        extra_env: request.extra_env.clone(),
        start_interval: engine.supports(1, 44),
    };
    containers::create(engine, &plan).await
}

fn with_mode(name: String, mode: Option<String>) -> String {
    match mode {
        Some(mode) => format!("{name}:{mode}"),
        None => name,
    }
}
