//! The project on a Docker Swarm, through the manager's service API: observe what the manager
//! runs of the project, [`spec`] converts each service, [`plan`] decides (pure), and
//! [`Executor`] sends it. Images get to the nodes through a registry every node can reach
//! (`--registry`, e.g. the in-swarm one): each is built or found on the manager's engine,
//! pushed there, and the service pinned to the pushed digest, so every node runs the same
//! bytes and a rebuilt image rolls out. Without `--registry`, the [`registry`] that runs in the
//! swarm itself.

pub mod logs;
pub mod objects;
pub mod plan;
pub mod registry;
pub mod spec;
pub mod tunnel;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use bollard::{
    models::{NodeState, ServiceSpec, ServiceUpdateStatusStateEnum as UpdateState, TaskState},
    query_parameters::{
        ListNetworksOptions, ListServicesOptions, ListTasksOptions, PushImageOptions,
        TagImageOptions, UpdateServiceOptions,
    },
};
use futures_util::StreamExt;

use self::{
    plan::{Observed, ObservedService, Op, Plan},
    spec::{Converted, Layout, STACK_NAMESPACE},
};
use super::{
    images::{self, ImagePolicy},
    labels, Engine, EngineError,
};
use crate::{progress::Progress, project::Project};

/// Why a Swarm deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum SwarmError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the engine at {host} is not a swarm manager ({state}): point DOCKER_HOST at a manager node")]
    NotManager { host: String, state: String },
    #[error("service {service} is not running: {why}")]
    NotRunning { service: String, why: String },
    #[error("the in-swarm registry (service {}, image {} on the manager) does not run: {why}\n  load the image onto the manager first (docker save {} | docker -H MANAGER load; scripts/stand-ins registry makes one where none can be pulled), or name a registry of your own with --registry HOST", registry::SERVICE, registry::IMAGE, registry::IMAGE)]
    NoRegistry { why: String },
    #[error("could not open a tunnel on 127.0.0.1 to the registry at {registry}")]
    Tunnel {
        registry: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{kind} {key}: {why}")]
    Object {
        kind: &'static str,
        key: String,
        why: String,
    },
    #[error("could not push {image} to {registry}: {why}")]
    Push {
        image: String,
        registry: String,
        why: String,
    },
}

/// Fails unless the engine is a swarm manager (no service call goes anywhere else); returns the
/// manager's node ID and address.
pub async fn check_manager(engine: &Engine) -> Result<registry::Manager, SwarmError> {
    let info = engine
        .docker
        .info()
        .await
        .map_err(EngineError::api("could not read the engine's info"))?;
    let swarm = info.swarm.unwrap_or_default();
    if swarm.control_available == Some(true) {
        return Ok(registry::Manager {
            node_id: swarm.node_id.unwrap_or_default(),
            address: swarm.node_addr.unwrap_or_default(),
        });
    }
    let state = swarm
        .local_node_state
        .map(|s| format!("its swarm state is {s}"))
        .unwrap_or_else(|| "it reports no swarm".into());
    Err(SwarmError::NotManager {
        host: engine.host.clone(),
        state,
    })
}

/// The project's services and networks on the manager, by their stack label.
pub async fn observe(engine: &Engine, project: &str) -> Result<Observed, SwarmError> {
    let filter = labels::filter(&[(STACK_NAMESPACE, project)]);
    let services = engine
        .docker
        .list_services(Some(ListServicesOptions {
            filters: Some(filter.clone()),
            ..Default::default()
        }))
        .await
        .map_err(EngineError::api("could not list the swarm's services"))?;
    let networks = engine
        .docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filter),
        }))
        .await
        .map_err(EngineError::api("could not list the swarm's networks"))?;
    let mut observed = Observed::default();
    for s in services {
        let spec = s.spec.unwrap_or_default();
        let Some(name) = spec.name else { continue };
        let hash = spec.labels.and_then(|mut l| l.remove(spec::SPEC_HASH));
        observed.services.insert(
            name,
            ObservedService {
                id: s.id.unwrap_or_default(),
                version: s.version.and_then(|v| v.index).unwrap_or(0),
                hash,
            },
        );
    }
    observed
        .networks
        .extend(networks.into_iter().filter_map(|n| n.name));
    let ids: BTreeMap<&String, &String> = observed
        .services
        .iter()
        .map(|(name, s)| (&s.id, name))
        .collect();
    let tasks = stack_tasks(engine, project).await?;
    let mut nodes: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for t in tasks {
        let running = t.status.and_then(|s| s.state) == Some(TaskState::RUNNING);
        let service = t.service_id.as_ref().and_then(|id| ids.get(id));
        if let (true, Some(service), Some(node)) = (running, service, t.node_id) {
            nodes.entry((*service).clone()).or_default().insert(node);
        }
    }
    observed.nodes = nodes;
    Ok(observed)
}

/// Makes each service's image available to every node: built or found on `engine` (the
/// manager's, or `--build-host`'s) as `up` does, tagged into the registry at `target.push`,
/// pushed, and named by the pushed digest at `target.pull`, where the nodes find it. With
/// `dry_run`, nothing is built or pushed: an image pushed before is named by that digest, any
/// other by its tag.
pub async fn publish_images(
    engine: &Engine,
    project: &Project,
    services: &[String],
    target: &registry::Target,
    policy: &ImagePolicy,
    dry_run: bool,
    progress: &Progress,
) -> Result<BTreeMap<String, String>, SwarmError> {
    let resolved = images::resolve(engine, project, services, policy, dry_run, progress).await?;
    let mut pinned = BTreeMap::new();
    // Services that share an image share its push.
    let mut pushed: BTreeMap<String, String> = BTreeMap::new();
    for service in services {
        let image = project.image_name(service);
        if let Some(reference) = pushed.get(&image) {
            pinned.insert(service.clone(), reference.clone());
            continue;
        }
        let (repo, tag) = registry::target(&target.pull, &image);
        let (push_repo, _) = registry::target(&target.push, &image);
        let id = &resolved.images[service].id;
        let reference = if dry_run {
            match pushed_digest(engine, &repo, id).await {
                Ok(digest) => format!("{repo}:{tag}@{digest}"),
                Err(_) => format!("{repo}:{tag}"),
            }
        } else {
            push(engine, id, &push_repo, &tag, &target.pull).await?;
            let digest = pushed_digest(engine, &push_repo, id).await?;
            if push_repo != repo {
                untag(engine, &format!("{push_repo}:{tag}")).await;
            }
            progress.event("Image", &format!("{repo}:{tag}"), "Pushed");
            format!("{repo}:{tag}@{digest}")
        };
        pushed.insert(image, reference.clone());
        pinned.insert(service.clone(), reference);
    }
    Ok(pinned)
}

async fn push(
    engine: &Engine,
    id: &str,
    repo: &str,
    tag: &str,
    registry: &str,
) -> Result<(), SwarmError> {
    let failed = |why: String| SwarmError::Push {
        image: format!("{repo}:{tag}"),
        registry: registry.to_owned(),
        why,
    };
    engine
        .docker
        .tag_image(
            id,
            Some(TagImageOptions {
                repo: Some(repo.to_owned()),
                tag: Some(tag.to_owned()),
            }),
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
    let mut stream = engine.docker.push_image(
        repo,
        Some(PushImageOptions {
            tag: Some(tag.to_owned()),
            ..Default::default()
        }),
        None,
    );
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| failed(super::root_cause(&e)))?;
        if let Some(detail) = info.error_detail {
            return Err(failed(detail.message.unwrap_or_default()));
        }
    }
    Ok(())
}

/// Removes a tag made only for a push through the tunnel (its port changes every time), keeping
/// the image; a failure leaves a stray tag behind, nothing worse, so it is only logged.
async fn untag(engine: &Engine, reference: &str) {
    let options = bollard::query_parameters::RemoveImageOptions {
        noprune: true,
        ..Default::default()
    };
    if let Err(e) = engine
        .docker
        .remove_image(reference, Some(options), None)
        .await
    {
        tracing::warn!(%reference, error = %e, "could not remove the push's tag");
    }
}

/// The digest the registry gave `repo` for image `id`.
async fn pushed_digest(engine: &Engine, repo: &str, id: &str) -> Result<String, SwarmError> {
    let inspect = engine
        .docker
        .inspect_image(id)
        .await
        .map_err(EngineError::api(format!("could not inspect {id}")))?;
    let prefix = format!("{repo}@");
    inspect
        .repo_digests
        .unwrap_or_default()
        .into_iter()
        .find_map(|d| d.strip_prefix(&prefix).map(str::to_owned))
        .ok_or_else(|| {
            EngineError::Incomplete(format!("a digest for {repo} after the push")).into()
        })
}

/// Sends a plan to the manager, one operation after another.
pub struct Executor<'a> {
    pub engine: &'a Engine,
    pub project: &'a Project,
    pub specs: &'a BTreeMap<String, Converted>,
    pub progress: &'a Progress,
    /// How long a wait for a service's tasks may last.
    pub timeout: Duration,
}

impl Executor<'_> {
    /// Runs the plan's operations in order; the first failure stops it.
    pub async fn run(&self, plan: &Plan) -> Result<(), SwarmError> {
        for op in &plan.ops {
            self.run_op(op).await?;
        }
        Ok(())
    }

    fn spec(&self, service: &str) -> ServiceSpec {
        self.specs[service].spec.clone()
    }

    async fn run_op(&self, op: &Op) -> Result<(), SwarmError> {
        let docker = &self.engine.docker;
        let progress = self.progress;
        let project = &self.project.name;
        match op {
            Op::CreateNetwork { key, name } => {
                docker
                    .create_network(spec::network_request(self.project, key))
                    .await
                    .map_err(EngineError::api(format!("could not create network {name}")))?;
                progress.event("Network", name, "Created");
            }
            Op::Create { service } => {
                let name = spec::service_name(project, service);
                docker
                    .create_service(self.spec(service), None)
                    .await
                    .map_err(EngineError::api(format!("could not create service {name}")))?;
                progress.event("Service", &name, "Created");
            }
            Op::Update { service, version } => {
                let name = spec::service_name(project, service);
                let options = UpdateServiceOptions {
                    version: i32::try_from(*version).unwrap_or(i32::MAX),
                    ..Default::default()
                };
                docker
                    .update_service(&name, self.spec(service), options, None)
                    .await
                    .map_err(EngineError::api(format!("could not update service {name}")))?;
                progress.event("Service", &name, "Updated");
            }
            Op::Keep { service } => progress.event(
                "Service",
                &spec::service_name(project, service),
                "Unchanged",
            ),
            Op::WaitRunning { service } => {
                let name = spec::service_name(project, service);
                let task = progress.spinner(format!("Waiting for {name} (running)"));
                let hash = &self.specs[service].hash;
                wait_running(self.engine, &name, hash, self.timeout).await?;
                drop(task);
                progress.event("Service", &name, "Running");
            }
            Op::Remove { name } => {
                docker
                    .delete_service(name)
                    .await
                    .map_err(EngineError::api(format!("could not remove service {name}")))?;
                progress.event("Service", name, "Removed");
            }
            Op::RemoveNetwork { name } => {
                remove_network(self.engine, name, self.timeout).await?;
                progress.event("Network", name, "Removed");
            }
        }
        Ok(())
    }
}

/// A network is in use until the last task on it is gone, a little after its service, and the
/// manager removes it a little after it accepted the removal: retries, then waits until it is
/// gone (so that a `swarm up` right after can create it again), until `timeout`.
async fn remove_network(engine: &Engine, name: &str, timeout: Duration) -> Result<(), SwarmError> {
    let deadline = Instant::now() + timeout;
    let failed = |e| EngineError::api(format!("could not remove network {name}"))(e);
    loop {
        match engine.docker.remove_network(name).await {
            Ok(()) => break,
            Err(e) if super::is_not_found(&e) => return Ok(()),
            Err(e) if Instant::now() < deadline => {
                tracing::debug!(%name, error = %e, "network still in use");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(failed(e).into()),
        }
    }
    loop {
        match engine.docker.inspect_network(name, None).await {
            Err(e) if super::is_not_found(&e) => return Ok(()),
            Err(e) => return Err(failed(e).into()),
            Ok(_) if Instant::now() >= deadline => {
                return Err(EngineError::NotReady {
                    service: name.to_owned(),
                    what: "go away".into(),
                    why: format!("network {name} still exists after {}s", timeout.as_secs()),
                }
                .into())
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Every task of the project's services, by their stack label.
async fn stack_tasks(
    engine: &Engine,
    project: &str,
) -> Result<Vec<bollard::models::Task>, SwarmError> {
    let filter = labels::filter(&[(STACK_NAMESPACE, project)]);
    Ok(engine
        .docker
        .list_tasks(Some(ListTasksOptions {
            filters: Some(filter),
        }))
        .await
        .map_err(EngineError::api("could not list the swarm's tasks"))?)
}

/// One task of a service, as `swarm ps` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    /// The task's ID.
    pub id: String,
    pub service: String,
    /// The replica's number (`slot`), or 0 for a global service's task.
    pub slot: i64,
    pub node: String,
    pub desired: String,
    pub state: String,
    /// The task's or its container's error.
    pub error: String,
    pub image: String,
}

/// The tasks of the project's services, newest first per slot.
pub async fn tasks(engine: &Engine, project: &str) -> Result<Vec<TaskRow>, SwarmError> {
    let observed = observe(engine, project).await?;
    let names: BTreeMap<String, String> = observed
        .services
        .iter()
        .map(|(name, s)| (s.id.clone(), name.clone()))
        .collect();
    let nodes: BTreeMap<String, String> = engine
        .docker
        .list_nodes(None)
        .await
        .map_err(EngineError::api("could not list the swarm's nodes"))?
        .into_iter()
        .map(|n| {
            let status = n.status.unwrap_or_default();
            let address = status.addr.unwrap_or_default();
            // A node that is not ready (down, unknown, disconnected) says so beside its tasks.
            let address = match status.state {
                Some(NodeState::READY) | None => address,
                Some(state) => format!("{address} ({state})"),
            };
            (n.id.unwrap_or_default(), address)
        })
        .collect();
    let mut rows: Vec<TaskRow> = stack_tasks(engine, project)
        .await?
        .into_iter()
        .map(|t| {
            let status = t.status.unwrap_or_default();
            let image = t
                .spec
                .and_then(|s| s.container_spec)
                .and_then(|c| c.image)
                .unwrap_or_default();
            let node = t.node_id.unwrap_or_default();
            TaskRow {
                id: t.id.unwrap_or_default(),
                service: t
                    .service_id
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_default(),
                slot: t.slot.unwrap_or(0),
                node: nodes.get(&node).cloned().unwrap_or(node),
                desired: t.desired_state.map(|s| s.to_string()).unwrap_or_default(),
                state: status.state.map(|s| s.to_string()).unwrap_or_default(),
                error: status.err.unwrap_or_default(),
                image,
            }
        })
        .collect();
    rows.sort_by(|a, b| (&a.service, a.slot, &a.node).cmp(&(&b.service, b.slot, &b.node)));
    Ok(rows)
}

/// Waits until every task the service wants runs its current spec (healthy, where it has a
/// health check: Swarm holds a task in `starting` until then) and no update is rolling. Fails
/// at once when a task is rejected, when an update paused, or when Swarm rolled the service
/// back (its spec no longer carries `expected_hash`), with the failed task's error.
pub async fn wait_running(
    engine: &Engine,
    name: &str,
    expected_hash: &str,
    timeout: Duration,
) -> Result<(), SwarmError> {
    let deadline = Instant::now() + timeout;
    let not_running = |why: String| SwarmError::NotRunning {
        service: name.to_owned(),
        why,
    };
    loop {
        let service = engine
            .docker
            .inspect_service(name, None)
            .await
            .map_err(EngineError::api(format!(
                "could not inspect service {name}"
            )))?;
        let id = service.id.unwrap_or_default();
        let spec = service.spec.unwrap_or_default();
        let update = service.update_status.unwrap_or_default();
        let update_state = update.state.map(|s| s.to_string()).unwrap_or_default();
        let rolled_back = spec
            .labels
            .as_ref()
            .and_then(|l| l.get(spec::SPEC_HASH))
            .is_some_and(|h| h != expected_hash);
        let rolling = matches!(
            update.state,
            Some(UpdateState::UPDATING | UpdateState::ROLLBACK_STARTED)
        );
        let stopped = matches!(
            update.state,
            Some(UpdateState::PAUSED | UpdateState::ROLLBACK_PAUSED)
        );
        if (rolled_back && !rolling) || stopped {
            let failed = match last_failed_task(engine, &id).await? {
                Some((task, error)) => format!(
                    " (a new task: {})",
                    task_report(engine, &task, &error).await
                ),
                None => String::new(),
            };
            let message = update.message.unwrap_or_default();
            return Err(not_running(format!(
                "its update ended {update_state}: {message}{failed}"
            )));
        }
        let wanted = spec
            .mode
            .as_ref()
            .and_then(|m| m.replicated.as_ref())
            .and_then(|r| r.replicas);
        let current = spec
            .task_template
            .as_ref()
            .and_then(|t| serde_json::to_value(&t.container_spec).ok());
        let tasks = engine
            .docker
            .list_tasks(Some(ListTasksOptions {
                filters: Some(std::collections::HashMap::from([
                    ("service".to_owned(), vec![id]),
                    ("desired-state".to_owned(), vec!["running".to_owned()]),
                ])),
            }))
            .await
            .map_err(EngineError::api(format!(
                "could not list the tasks of {name}"
            )))?;
        // Running, and running what the service now says (not a task of the release before).
        let running = tasks
            .iter()
            .filter(|t| t.status.as_ref().and_then(|s| s.state) == Some(TaskState::RUNNING))
            .filter(|t| {
                let spec = t.spec.as_ref().map(|s| &s.container_spec);
                spec.and_then(|c| serde_json::to_value(c).ok()) == current
            })
            .count();
        // A global service wants one task a node; the manager lists them once scheduled.
        let enough = match wanted {
            Some(n) => running as i64 >= n,
            None => running > 0 && running == tasks.len(),
        };
        if enough && !rolling {
            return Ok(());
        }
        let task_error = tasks
            .iter()
            .filter_map(|t| t.status.as_ref())
            .find_map(|s| s.err.clone().filter(|e| !e.is_empty()));
        let rejected = tasks
            .iter()
            .any(|t| t.status.as_ref().and_then(|s| s.state) == Some(TaskState::REJECTED));
        if rejected || Instant::now() >= deadline {
            return Err(not_running(task_error.unwrap_or_else(|| {
                format!("{running} task(s) running after {}s", timeout.as_secs())
            })));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A failed task's error and the last lines it wrote (its own account of why, e.g. a
/// configuration error), as one line.
async fn task_report(engine: &Engine, task_id: &str, error: &str) -> String {
    let lines = logs::last_lines(engine, task_id, 3).await;
    if lines.is_empty() {
        error.to_owned()
    } else {
        format!("{error}; its last output: {}", lines.join(" / "))
    }
}

/// The ID and error of the service's most recent task that failed or was rejected, if any.
async fn last_failed_task(
    engine: &Engine,
    service_id: &str,
) -> Result<Option<(String, String)>, SwarmError> {
    let tasks = engine
        .docker
        .list_tasks(Some(ListTasksOptions {
            filters: Some(std::collections::HashMap::from([(
                "service".to_owned(),
                vec![service_id.to_owned()],
            )])),
        }))
        .await
        .map_err(EngineError::api("could not list the service's tasks"))?;
    Ok(tasks
        .into_iter()
        .filter_map(|t| Some((t.id?, t.status?)))
        .filter(|(_, s)| matches!(s.state, Some(TaskState::FAILED | TaskState::REJECTED)))
        .max_by(|(_, a), (_, b)| a.timestamp.cmp(&b.timestamp))
        .and_then(|(id, s)| Some((id, s.err?))))
}

/// What `swarm up` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct DeployRequest {
    pub layout: Layout,
    /// Where every node pulls from; `None`: the in-swarm registry (started if need be).
    pub registry: Option<String>,
    /// The engine that builds (or finds) the images and pushes them; `None`: the manager's.
    /// One on this machine (`unix://`) pushes through a [`tunnel::Tunnel`].
    pub build_host: Option<String>,
    /// `--scale SERVICE=N`: replicas, over the file's `deploy.replicas`.
    pub scale: BTreeMap<String, u32>,
    pub images: ImagePolicy,
    pub prune: bool,
    /// Return without waiting for the services nothing depends on.
    pub detach: bool,
    /// How long each dependency may take to run.
    pub timeout: Duration,
    /// Decide and return the plan; send nothing.
    pub dry_run: bool,
}

/// Deploys the project on the swarm the engine manages; returns the plan it ran.
pub async fn deploy(
    engine: &Engine,
    project: &Project,
    order: &[String],
    request: &DeployRequest,
    progress: &Progress,
) -> Result<Plan, SwarmError> {
    let manager = check_manager(engine).await?;
    let observed = observe(engine, &project.name).await?;
    let scaled;
    let project = if request.scale.is_empty() {
        project
    } else {
        scaled = with_scale(project, &request.scale);
        &scaled
    };
    let registry = match &request.registry {
        Some(registry) => registry.clone(),
        None if request.dry_run => registry::address(&manager, request.layout),
        None => {
            registry::ensure(engine, &manager, request.layout, request.timeout, progress).await?
        }
    };
    let builder = match &request.build_host {
        Some(host) => Some(Engine::connect_to(host.clone()).await?),
        None => None,
    };
    // An engine on this machine shares its loopback: it pushes through the tunnel.
    let local_builder = request
        .build_host
        .as_deref()
        .is_some_and(|h| h.starts_with("unix://"));
    let tunnel = if local_builder && !request.dry_run {
        let opened = tunnel::Tunnel::open(&registry).await;
        Some(opened.map_err(|source| SwarmError::Tunnel {
            registry: registry.clone(),
            source,
        })?)
    } else {
        None
    };
    let target = registry::Target {
        push: tunnel
            .as_ref()
            .map_or_else(|| registry.clone(), |t| t.address.clone()),
        pull: registry,
    };
    let images = publish_images(
        builder.as_ref().unwrap_or(engine),
        project,
        order,
        &target,
        &request.images,
        request.dry_run,
        progress,
    )
    .await?;
    drop(tunnel);
    let wanted_objects = objects::wanted(project, order)?;
    let object_ids = objects::ensure(
        engine,
        &project.name,
        &wanted_objects,
        request.dry_run,
        progress,
    )
    .await?;
    let specs: BTreeMap<String, Converted> = order
        .iter()
        .map(|s| {
            let pin = plan::stateful_pin(
                &observed,
                &spec::service_name(&project.name, s),
                &manager.node_id,
            );
            let converted = spec::service_spec(
                project,
                s,
                &images[s],
                request.layout,
                Some(&pin),
                &object_ids,
            );
            (s.clone(), converted)
        })
        .collect();
    let plan = plan::deploy(&plan::DeployInput {
        project,
        order,
        specs: &specs,
        observed: &observed,
        prune: request.prune,
        detach: request.detach,
    });
    if request.dry_run {
        return Ok(plan);
    }
    for warning in &plan.warnings {
        progress.warn(warning);
    }
    Executor {
        engine,
        project,
        specs: &specs,
        progress,
        timeout: request.timeout,
    }
    .run(&plan)
    .await?;
    Ok(plan)
}

/// The project's volumes on the manager's own engine (where its stateful services are pinned
/// unless the file says otherwise); those on other nodes cannot be reached from here.
pub async fn manager_volumes(
    engine: &Engine,
    project: &str,
) -> Result<Vec<super::resources::VolumeInfo>, SwarmError> {
    check_manager(engine).await?;
    Ok(super::resources::stack_volumes(engine, STACK_NAMESPACE, project).await?)
}

/// The nodes other than the manager where the project's tasks mounted a named volume (they
/// may keep a copy of it), by address.
pub async fn other_volume_nodes(
    engine: &Engine,
    project: &str,
) -> Result<std::collections::BTreeSet<String>, SwarmError> {
    let manager = check_manager(engine).await?;
    let tasks = stack_tasks(engine, project).await?;
    let rows = self::tasks(engine, project).await?;
    let with_volumes: std::collections::BTreeSet<String> = tasks
        .into_iter()
        .filter(|t| t.node_id.as_deref() != Some(manager.node_id.as_str()))
        .filter(|t| {
            let mounts = t.spec.as_ref().and_then(|s| s.container_spec.as_ref());
            mounts.and_then(|c| c.mounts.as_ref()).is_some_and(|m| {
                m.iter()
                    .any(|m| m.typ == Some(bollard::models::MountType::VOLUME))
            })
        })
        .filter_map(|t| t.id)
        .collect();
    Ok(rows
        .into_iter()
        .filter(|r| with_volumes.contains(&r.id))
        .map(|r| r.node)
        .collect())
}

/// Removes the named volumes from the manager's engine, waiting (until `timeout`) for the
/// containers of removed tasks, which go a little after their service.
pub async fn remove_volumes(
    engine: &Engine,
    names: &[String],
    timeout: Duration,
    progress: &Progress,
) -> Result<(), SwarmError> {
    let deadline = Instant::now() + timeout;
    for name in names {
        loop {
            match super::resources::remove_volume(engine, name).await {
                Ok(()) => break,
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(%name, error = %e, "volume still in use");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        progress.event("Volume", name, "Removed");
    }
    Ok(())
}

/// The project with `scale`'s replicas in place of the file's.
fn with_scale(project: &Project, scale: &BTreeMap<String, u32>) -> Project {
    let mut project = project.clone();
    for (name, n) in scale {
        if let Some(service) = project.services.get_mut(name) {
            service.deploy.get_or_insert_with(Default::default).replicas = Some(*n);
        }
    }
    project
}

/// Removes the project's services and networks from the swarm (with `dry_run`, only decides).
pub async fn remove(
    engine: &Engine,
    project: &Project,
    timeout: Duration,
    dry_run: bool,
    progress: &Progress,
) -> Result<Plan, SwarmError> {
    check_manager(engine).await?;
    let observed = observe(engine, &project.name).await?;
    let plan = plan::down(&observed);
    if dry_run {
        return Ok(plan);
    }
    let specs = BTreeMap::new();
    Executor {
        engine,
        project,
        specs: &specs,
        progress,
        timeout,
    }
    .run(&plan)
    .await?;
    objects::remove_all(engine, &project.name, progress).await?;
    Ok(plan)
}
