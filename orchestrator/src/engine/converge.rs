//! `up` from end to end: select the services, observe the engine, resolve every image (built or
//! pulled first, so a failed build changes no container), plan, and run the plan (or, for a
//! dry run, return it unrun). A second `up` with nothing changed reads the state in three list
//! calls and an image inspect per service, plans only `keep`s, and changes nothing.

use std::time::Duration;

use super::{
    executor::{self, ContainerRequest, Executor},
    hash,
    images::{self, ImagePolicy},
    plan::{self, NewContainer, Plan, UpOptions},
    state, Engine, EngineError,
};
use crate::{
    progress::Progress,
    project::{model::Project, services},
};

/// What `up` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct UpRequest {
    /// The services named on the command line; empty for all.
    pub services: Vec<String>,
    pub images: ImagePolicy,
    pub plan: UpOptions,
    /// How long to wait for a dependency's condition.
    pub dependency_timeout: Duration,
    /// Decide, print nothing to the engine, change nothing.
    pub dry_run: bool,
}

/// What `up` did, or would do.
#[derive(Debug)]
pub struct UpOutcome {
    /// The services acted on, in start order.
    pub services: Vec<String>,
    /// The plan that was run (or, for a dry run, would be).
    pub plan: Plan,
    /// For a dry run: the images that would be built or pulled first.
    pub would: Vec<String>,
}

/// Brings the selected services to what the project says.
pub async fn up(
    engine: &Engine,
    project: &Project,
    order: &[String],
    request: &UpRequest,
    progress: &Progress,
) -> Result<UpOutcome, EngineError> {
    let selected = services::select(project, order, &request.services, request.plan.no_deps)?;
    for service in request.plan.scale.keys() {
        services::check(project, std::slice::from_ref(service))?;
    }
    // Before anything changes: a scale that overdraws a budget is refused outright.
    services::check_budgets(project, &request.plan.scale)?;
    warn_about_engine_features(engine, project, &selected, progress);
    let observed = state::observe(engine, project, &selected).await?;
    let resolved = images::resolve(
        engine,
        project,
        &selected,
        &request.images,
        request.dry_run,
        progress,
    )
    .await?;
    let plan = plan::up(&plan::UpInput {
        project,
        services: &selected,
        observed: &observed,
        images: &resolved.images,
        options: &request.plan,
    });
    if !request.dry_run {
        for warning in &plan.warnings {
            progress.warn(warning);
        }
        for note in &plan.notes {
            progress.note(note);
        }
        let executor = Executor {
            engine,
            project,
            progress,
            dependency_timeout: request.dependency_timeout,
        };
        executor.run(&plan).await?;
    }
    Ok(UpOutcome {
        services: selected,
        plan,
        would: resolved.would,
    })
}

/// What `run` asks for: a one-off container of a service.
#[derive(Debug, Clone)]
pub struct OneOff {
    pub service: String,
    pub name: String,
    pub command: Option<Vec<String>>,
    pub env: Vec<String>,
}

/// Creates and starts a one-off container of a service (its image made first if missing);
/// returns its ID. Its dependencies are the caller's to bring up.
pub async fn start_oneoff(
    engine: &Engine,
    project: &Project,
    oneoff: &OneOff,
    policy: &ImagePolicy,
    progress: &Progress,
) -> Result<String, EngineError> {
    let name = &oneoff.service;
    services::check(project, std::slice::from_ref(name))?;
    let image = images::ensure(engine, project, name, policy, progress).await?;
    let service = &project.services[name];
    let aliases = services::link_aliases(project, name);
    let new = NewContainer {
        service: name.clone(),
        number: 1,
        name: oneoff.name.clone(),
        config_hash: hash::config_hash(project, name, service, &image.id, &aliases),
        image_id: image.id,
        anonymous_volumes: Default::default(),
    };
    let request = ContainerRequest {
        new: &new,
        oneoff: true,
        command: oneoff.command.clone(),
        extra_env: oneoff.env.clone(),
    };
    let id = executor::create_container(engine, project, &request).await?;
    super::containers::start(engine, &id).await?;
    Ok(id)
}

/// Says which settings this engine is too old for, instead of dropping them silently.
fn warn_about_engine_features(
    engine: &Engine,
    project: &Project,
    services: &[String],
    progress: &Progress,
) {
    if engine.supports(1, 44) {
        return;
    }
    for name in services {
        let s = &project.services[name];
        if s.healthcheck
            .as_ref()
            .is_some_and(|h| h.start_interval.is_some())
        {
            progress.warn(format!(
                "service {name}: healthcheck.start_interval needs Docker Engine API 1.44 (Docker 25) or newer; this engine speaks {}, so it is ignored",
                engine.api_version_string()
            ));
        }
    }
}
