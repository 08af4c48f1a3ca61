//! Acting: runs a [`Plan`] on the engine, one level of its dependency graph at a time, the
//! operations of a level at once (as Compose does), and reports each as it completes. The first
//! failure ends the run once its level has finished; what it reports names the operation.

use std::time::Duration;

use futures_util::future::join_all;

use super::{
    containers,
    create::ContainerPlan,
    health,
    plan::{condition_name, NewContainer, Op, Plan},
    resources, Engine, EngineError,
};
use crate::{
    progress::Progress,
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

impl Executor<'_> {
    /// Runs every step of the plan, a level at a time.
    pub async fn run(&self, plan: &Plan) -> Result<(), EngineError> {
        for level in plan.levels() {
            let results = join_all(level.iter().map(|i| self.run_op(&plan.steps[*i].op))).await;
            if let Some(error) = results.into_iter().find_map(Result::err) {
                return Err(error);
            }
        }
        Ok(())
    }

    async fn run_op(&self, op: &Op) -> Result<(), EngineError> {
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
