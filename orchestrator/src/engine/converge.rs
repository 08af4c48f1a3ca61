//! Converging: compare what the project wants with what the engine runs, decide per container
//! (keep, start, create, recreate, remove) and do only that. A second `up` with nothing
//! changed reads the state in three list calls and an image inspect per service, and changes
//! nothing.
//!
//! Data is never lost on the way: named volumes are only ever created here, and anonymous
//! volumes (the service's own and those its image declares) live in labelled volumes with
//! stable names, so a recreated or re-created container gets the same data back.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::Duration,
};

use bollard::{
    models::{NetworkConnectRequest, NetworkCreateRequest, VolumeCreateRequest},
    query_parameters::{
        CreateContainerOptions, CreateImageOptions, RemoveContainerOptions,
        RestartContainerOptions, StopContainerOptions,
    },
};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::{
    build::{self, BuildRequest},
    create::{self, ContainerPlan},
    hash, health, labels, standin,
    state::{self, Container, ProjectState},
    Engine, EngineError,
};
use crate::{
    progress::Progress,
    project::model::{Condition, MountKind, Project, Service},
};

/// When images are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildPolicy {
    /// Build what has no image yet.
    #[default]
    Missing,
    /// `--build`: build every service that has a build section.
    Always,
    /// `--no-build`: never build; a missing image is an error.
    Never,
}

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

/// What `up` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// The services named on the command line; empty for all.
    pub services: Vec<String>,
    pub no_deps: bool,
    pub build: BuildPolicy,
    pub no_cache: bool,
    pub pull: bool,
    pub recreate: Recreate,
    pub scale: BTreeMap<String, u32>,
    pub remove_orphans: bool,
    /// How long to wait for a dependency's condition.
    pub dependency_timeout: Duration,
}

/// The services to act on, in start order: the named ones and (unless `no_deps`) everything
/// they depend on.
pub fn select(
    project: &Project,
    order: &[String],
    named: &[String],
    no_deps: bool,
) -> Result<Vec<String>, EngineError> {
    for name in named {
        if !project.services.contains_key(name) {
            let hint = if project.disabled_services.contains_key(name) {
                " (its profile is not active: add --profile)"
            } else {
                ""
            };
            return Err(EngineError::Failed(format!(
                "no such service: {name}{hint}"
            )));
        }
    }
    if named.is_empty() {
        return Ok(order.to_vec());
    }
    let mut wanted: BTreeSet<String> = named.iter().cloned().collect();
    if !no_deps {
        let mut stack: Vec<String> = named.to_vec();
        while let Some(s) = stack.pop() {
            for dep in project.services[&s].dependencies() {
                if project.services.contains_key(dep) && wanted.insert(dep.to_owned()) {
                    stack.push(dep.to_owned());
                }
            }
        }
    }
    Ok(order
        .iter()
        .filter(|s| wanted.contains(*s))
        .cloned()
        .collect())
}

/// The aliases other services' links give `service` on the default network.
pub fn link_aliases(project: &Project, service: &str) -> Vec<String> {
    let mut aliases: Vec<String> = project
        .services
        .values()
        .flat_map(|s| s.links.iter())
        .filter(|l| l.service == service && l.alias != service)
        .map(|l| l.alias.clone())
        .collect();
    aliases.sort();
    aliases.dedup();
    aliases
}

/// The stop timeout of a service: `stop_grace_period`, or Docker's 10 s.
pub fn stop_timeout(service: Option<&Service>) -> i32 {
    service
        .and_then(|s| s.stop_grace_period)
        .map(|d| d.as_secs() as i32)
        .unwrap_or(10)
}

/// Stops and removes one container; its volumes are kept.
pub async fn remove_container(
    engine: &Engine,
    c: &Container,
    timeout: i32,
    progress: &Progress,
) -> Result<(), EngineError> {
    if c.is_running() {
        engine
            .docker
            .stop_container(
                &c.id,
                Some(StopContainerOptions {
                    t: Some(timeout),
                    signal: None,
                }),
            )
            .await
            .or_else(|e| {
                if super::is_not_modified(&e) || super::is_not_found(&e) {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(EngineError::api(format!("could not stop {}", c.name)))?;
        progress.event("Container", &c.name, "Stopped");
    }
    engine
        .docker
        .remove_container(
            &c.id,
            Some(RemoveContainerOptions {
                v: false,
                force: true,
                link: false,
            }),
        )
        .await
        .or_else(|e| {
            if super::is_not_found(&e) {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(EngineError::api(format!("could not remove {}", c.name)))?;
    progress.event("Container", &c.name, "Removed");
    Ok(())
}

/// Creates the project's networks that do not exist yet; checks that external ones do.
pub async fn ensure_networks(
    engine: &Engine,
    project: &Project,
    services: &[String],
    state: &ProjectState,
    progress: &Progress,
) -> Result<(), EngineError> {
    let used: BTreeSet<&String> = services
        .iter()
        .flat_map(|s| project.services[s].networks.keys())
        .collect();
    for key in used {
        let Some(net) = project.networks.get(key) else {
            continue;
        };
        if state.networks.contains_key(&net.name) {
            continue;
        }
        if net.external {
            engine.docker.inspect_network(&net.name, None).await.map_err(|e| {
                EngineError::Failed(format!(
                    "external network {} does not exist: create it first (docker network create {}): {}",
                    net.name,
                    net.name,
                    super::root_cause(&e)
                ))
            })?;
            continue;
        }
        let mut net_labels: HashMap<String, String> = net.labels.clone().into_iter().collect();
        net_labels.insert(labels::PROJECT.into(), project.name.clone());
        net_labels.insert(labels::NETWORK.into(), key.clone());
        net_labels.insert(labels::VERSION.into(), labels::version());
        let request = NetworkCreateRequest {
            name: net.name.clone(),
            driver: net.driver.clone(),
            internal: Some(net.internal),
            attachable: Some(net.attachable),
            options: Some(net.driver_opts.clone().into_iter().collect()),
            labels: Some(net_labels),
            ipam: create::network_ipam(net),
            ..Default::default()
        };
        match engine.docker.create_network(request).await {
            Ok(_) => progress.event("Network", &net.name, "Created"),
            // Created meanwhile by another `up`: fine.
            Err(e)
                if matches!(
                    &e,
                    bollard::errors::Error::DockerResponseServerError {
                        status_code: 409,
                        ..
                    }
                ) => {}
            Err(e) => {
                return Err(EngineError::api(format!(
                    "could not create network {}",
                    net.name
                ))(e))
            }
        }
    }
    Ok(())
}

/// Creates the project's named volumes that do not exist yet; checks that external ones do.
pub async fn ensure_volumes(
    engine: &Engine,
    project: &Project,
    services: &[String],
    state: &ProjectState,
    progress: &Progress,
) -> Result<(), EngineError> {
    let used: BTreeSet<&String> = services
        .iter()
        .flat_map(|s| project.services[s].volumes.iter())
        .filter(|m| m.kind == MountKind::Volume)
        .filter_map(|m| m.source.as_ref())
        .collect();
    for key in used {
        let Some(vol) = project.volumes.get(key) else {
            continue;
        };
        if state.volumes.contains_key(&vol.name) {
            continue;
        }
        let exists = engine.docker.inspect_volume(&vol.name).await.is_ok();
        if vol.external {
            if !exists {
                return Err(EngineError::Failed(format!(
                    "external volume {} does not exist: create it first (docker volume create {})",
                    vol.name, vol.name
                )));
            }
            continue;
        }
        if exists {
            // A volume of that name made outside this project: use it, as Compose does.
            progress.warn(format!(
                "volume {} already exists but was not created by this project; using it",
                vol.name
            ));
            continue;
        }
        let mut vol_labels: HashMap<String, String> = vol.labels.clone().into_iter().collect();
        vol_labels.insert(labels::PROJECT.into(), project.name.clone());
        vol_labels.insert(labels::VOLUME.into(), key.clone());
        vol_labels.insert(labels::VERSION.into(), labels::version());
        engine
            .docker
            .create_volume(VolumeCreateRequest {
                name: Some(vol.name.clone()),
                driver: vol.driver.clone(),
                driver_opts: Some(vol.driver_opts.clone().into_iter().collect()),
                labels: Some(vol_labels),
                ..Default::default()
            })
            .await
            .map_err(EngineError::api(format!(
                "could not create volume {}",
                vol.name
            )))?;
        progress.event("Volume", &vol.name, "Created");
    }
    Ok(())
}

/// `name:tag` with Docker's default tag.
fn split_reference(image: &str) -> (String, String) {
    if let Some((repo, digest)) = image.split_once('@') {
        return (repo.to_owned(), digest.to_owned());
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_owned(), tag.to_owned()),
        _ => (image.to_owned(), "latest".to_owned()),
    }
}

/// The ID of a local image, or `None` when the engine does not have it.
pub async fn image_id(engine: &Engine, image: &str) -> Result<Option<String>, EngineError> {
    match engine.docker.inspect_image(image).await {
        Ok(i) => Ok(i.id),
        Err(e) if super::is_not_found(&e) => Ok(None),
        Err(e) => Err(EngineError::api(format!("could not inspect image {image}"))(e)),
    }
}

/// Pulls an image with progress; the error is the registry's reason.
async fn try_pull(engine: &Engine, image: &str, progress: &Progress) -> Result<(), String> {
    let (repo, tag) = split_reference(image);
    let task = progress.spinner(format!("Pulling {image}"));
    let mut stream = engine.docker.create_image(
        Some(CreateImageOptions {
            from_image: Some(repo),
            tag: Some(tag),
            ..Default::default()
        }),
        None,
        None,
    );
    let mut layers: BTreeMap<String, String> = BTreeMap::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| super::root_cause(&e))?;
        if let Some(detail) = info.error_detail {
            return Err(detail.message.unwrap_or_default());
        }
        if let (Some(id), Some(status)) = (info.id, info.status) {
            layers.insert(id, status);
            let done = layers
                .values()
                .filter(|s| s.starts_with("Pull complete") || s.starts_with("Already exists"))
                .count();
            task.message(format!("Pulling {image}: {done}/{} layers", layers.len()));
        }
    }
    drop(task);
    progress.event("Image", image, "Pulled");
    Ok(())
}

/// Pulls an image; where no registry answers, makes the project's stand-in for it if it has
/// one, else says how to provide the image.
pub async fn pull_or_stand_in(
    engine: &Engine,
    project: &Project,
    service: &str,
    image: &str,
    progress: &Progress,
) -> Result<(), EngineError> {
    let Err(why) = try_pull(engine, image, progress).await else {
        return Ok(());
    };
    if standin::make(engine, project, image, &why, progress).await? {
        return Ok(());
    }
    Err(EngineError::Failed(format!(
        "could not pull {image} for service {service}: {why}\n  this engine cannot get it from a registry: build it locally (give the service a build: section) or load it with `docker load -i IMAGE.tar`"
    )))
}

/// Pulls an image for `service`, saying how else to provide it when no registry answers.
pub async fn pull(
    engine: &Engine,
    project: &Project,
    service: &str,
    image: &str,
    progress: &Progress,
) -> Result<(), EngineError> {
    pull_or_stand_in(engine, project, service, image, progress).await
}

/// Makes sure the base images a build starts `FROM` are here: pulled, or the project's
/// stand-ins made. The classic builder would otherwise try a registry mid-build.
pub async fn ensure_base_images(
    engine: &Engine,
    project: &Project,
    service: &str,
    spec: &crate::project::model::Build,
    progress: &Progress,
) -> Result<(), EngineError> {
    let path = spec.context.join(&spec.dockerfile);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(()); // the build reports a missing Dockerfile itself
    };
    for base in build::base_images(&text, &spec.args) {
        if image_id(engine, &base).await?.is_none() {
            pull_or_stand_in(engine, project, service, &base, progress).await?;
        }
    }
    Ok(())
}

/// Makes sure the service's image exists: builds or pulls as the policies say. Returns its ID.
pub async fn ensure_image(
    engine: &Engine,
    project: &Project,
    name: &str,
    opts: &UpOptions,
    progress: &Progress,
) -> Result<String, EngineError> {
    let service = &project.services[name];
    let image = project.image_name(name);
    let existing = image_id(engine, &image).await?;
    if let Some(build_spec) = &service.build {
        let wanted = match opts.build {
            BuildPolicy::Always => true,
            BuildPolicy::Never => false,
            BuildPolicy::Missing => existing.is_none(),
        };
        if wanted {
            ensure_base_images(engine, project, name, build_spec, progress).await?;
            let request = BuildRequest {
                project: &project.name,
                service: name,
                build: build_spec,
                tag: image.clone(),
                no_cache: opts.no_cache,
                pull: opts.pull,
            };
            return build::build(engine, &request, progress).await;
        }
        return existing.ok_or_else(|| {
            EngineError::Failed(format!(
                "image {image} of service {name} does not exist and --no-build forbids building it"
            ))
        });
    }
    let must_pull = match service.pull_policy.as_str() {
        "always" => true,
        "never" => false,
        _ => existing.is_none() || opts.pull,
    };
    if must_pull {
        pull(engine, project, name, &image, progress).await?;
        return image_id(engine, &image)
            .await?
            .ok_or_else(|| EngineError::Failed(format!("{image} was pulled but is not there")));
    }
    existing.ok_or_else(|| {
        EngineError::Failed(format!(
            "image {image} of service {name} does not exist and its pull_policy is never"
        ))
    })
}

/// The stable name of the volume that keeps an anonymous volume of one container.
pub fn anonymous_volume_name(project: &str, service: &str, number: u32, path: &str) -> String {
    let digest = Sha256::digest(path.as_bytes());
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{project}_{service}_{number}_anon_{short}")
}

/// The container paths that get anonymous volumes: the service's own (`- /data`) and the
/// image's `VOLUME`s that no mount of the service covers. Warns once per uncovered `VOLUME`.
async fn anonymous_paths(
    engine: &Engine,
    name: &str,
    service: &Service,
    image: &str,
    warn: bool,
    progress: &Progress,
) -> Result<Vec<String>, EngineError> {
    let mut paths: Vec<String> = service
        .volumes
        .iter()
        .filter(|m| m.kind == MountKind::Volume && m.source.is_none())
        .map(|m| m.target.clone())
        .collect();
    let declared = engine
        .docker
        .inspect_image(image)
        .await
        .map_err(EngineError::api(format!("could not inspect image {image}")))?
        .config
        .and_then(|c| c.volumes)
        .unwrap_or_default();
    for path in declared {
        if service.volumes.iter().any(|m| m.target == path) {
            continue;
        }
        if warn {
            progress.warn(format!(
                "service {name}: image {image} declares VOLUME {path}, which no named volume covers; its data is kept in an anonymous volume that survives down and rm (not down -v): declare a named volume for it to be safe"
            ));
        }
        paths.push(path);
    }
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// Creates (or finds) the labelled volumes for a container's anonymous paths.
async fn anonymous_volumes(
    engine: &Engine,
    project: &str,
    service: &str,
    number: u32,
    paths: &[String],
) -> Result<BTreeMap<String, String>, EngineError> {
    let mut out = BTreeMap::new();
    for path in paths {
        let name = anonymous_volume_name(project, service, number, path);
        engine
            .docker
            .create_volume(VolumeCreateRequest {
                name: Some(name.clone()),
                labels: Some(HashMap::from([
                    (labels::PROJECT.to_owned(), project.to_owned()),
                    (labels::SERVICE.to_owned(), service.to_owned()),
                    (labels::NUMBER.to_owned(), number.to_string()),
                    (labels::ANONYMOUS_PATH.to_owned(), path.clone()),
                    (labels::VERSION.to_owned(), labels::version()),
                ])),
                ..Default::default()
            })
            .await
            .map_err(EngineError::api(format!("could not create volume {name}")))?;
        out.insert(path.clone(), name);
    }
    Ok(out)
}

/// The first container of each service, for `volumes_from: [service]`.
fn resolve_volumes_from(project: &Project, service: &Service) -> Vec<String> {
    service
        .volumes_from
        .iter()
        .map(|v| {
            let mut parts = v.splitn(3, ':');
            let first = parts.next().unwrap_or_default();
            if first == "container" {
                return parts.collect::<Vec<_>>().join(":");
            }
            let mode = parts.next().map(|m| format!(":{m}")).unwrap_or_default();
            format!("{}{mode}", labels::container_name(&project.name, first, 1))
        })
        .collect()
}

/// Everything needed to create one container of a service.
pub struct ServiceContext<'a> {
    pub project: &'a Project,
    pub name: &'a str,
    pub image_id: String,
    pub config_hash: String,
    pub aliases: Vec<String>,
    pub anonymous_paths: Vec<String>,
}

/// Creates container `number` of the service (not started), connected to all its networks.
pub async fn create_container(
    engine: &Engine,
    ctx: &ServiceContext<'_>,
    number: u32,
    name: String,
    oneoff: bool,
    command: Option<Vec<String>>,
    extra_env: Vec<String>,
) -> Result<String, EngineError> {
    let service = &ctx.project.services[ctx.name];
    let anonymous = if oneoff {
        BTreeMap::new()
    } else {
        anonymous_volumes(
            engine,
            &ctx.project.name,
            ctx.name,
            number,
            &ctx.anonymous_paths,
        )
        .await?
    };
    let plan = ContainerPlan {
        project: ctx.project,
        service_name: ctx.name,
        service,
        name: name.clone(),
        number,
        oneoff,
        image: ctx.project.image_name(ctx.name),
        image_id: ctx.image_id.clone(),
        config_hash: ctx.config_hash.clone(),
        aliases: ctx.aliases.clone(),
        anonymous_volumes: anonymous,
        volumes_from: resolve_volumes_from(ctx.project, service),
        command,
        extra_env,
        start_interval: engine.supports(1, 44),
    };
    let body = create::container_body(&plan);
    let created = engine
        .docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(name.clone()),
                platform: service.platform.clone().unwrap_or_default(),
            }),
            body,
        )
        .await
        .map_err(|e| {
            EngineError::Failed(format!(
                "could not create container {name}: {}",
                super::root_cause(&e)
            ))
        })?;
    for (network, settings) in create::endpoints(&plan).into_iter().skip(1) {
        engine
            .docker
            .connect_network(
                &network,
                NetworkConnectRequest {
                    container: created.id.clone(),
                    endpoint_config: Some(settings),
                },
            )
            .await
            .map_err(EngineError::api(format!(
                "could not connect {name} to {network}"
            )))?;
    }
    Ok(created.id)
}

/// Starts a container, turning the engine's terse errors (a port in use) into a sentence.
pub async fn start_container(engine: &Engine, id: &str, name: &str) -> Result<(), EngineError> {
    engine
        .docker
        .start_container(id, None)
        .await
        .or_else(|e| {
            if super::is_not_modified(&e) {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| {
            EngineError::Failed(format!("could not start {name}: {}", super::root_cause(&e)))
        })
}

/// What `up` did to one service.
#[derive(Debug, Default, Clone)]
pub struct ServiceOutcome {
    pub recreated: bool,
    pub created: usize,
    pub started: usize,
    pub removed: usize,
    pub kept: usize,
}

/// Brings the selected services to what the project says, in dependency order.
pub async fn up(
    engine: &Engine,
    project: &Project,
    order: &[String],
    opts: &UpOptions,
    progress: &Progress,
) -> Result<BTreeMap<String, ServiceOutcome>, EngineError> {
    let services = select(project, order, &opts.services, opts.no_deps)?;
    warn_about_engine_features(engine, project, &services, progress);
    let state = state::read(engine, &project.name).await?;

    let orphans: Vec<&Container> = state
        .containers
        .iter()
        .filter(|c| {
            !project.services.contains_key(&c.service)
                && !project.disabled_services.contains_key(&c.service)
        })
        .collect();
    if !orphans.is_empty() {
        if opts.remove_orphans {
            for c in &orphans {
                remove_container(engine, c, 10, progress).await?;
            }
        } else {
            let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
            progress.warn(format!(
                "found orphan containers ({}) for this project: their services are no longer in the compose file; run up --remove-orphans to remove them",
                names.join(", ")
            ));
        }
    }

    ensure_networks(engine, project, &services, &state, progress).await?;
    ensure_volumes(engine, project, &services, &state, progress).await?;

    // Images first, all of them, so a failed build leaves every container untouched. A service
    // whose image another service builds waits for that build instead of pulling.
    let mut built: BTreeMap<String, String> = BTreeMap::new();
    let mut image_ids = BTreeMap::new();
    let builders: BTreeMap<String, &String> = project
        .services
        .iter()
        .filter(|(_, s)| s.build.is_some())
        .map(|(name, _)| (project.image_name(name), name))
        .collect();
    for name in &services {
        let image = project.image_name(name);
        let source = match builders.get(&image) {
            Some(builder) => (*builder).clone(),
            None => name.clone(),
        };
        let id = match built.get(&image) {
            Some(id) => id.clone(),
            None => ensure_image(engine, project, &source, opts, progress).await?,
        };
        built.insert(image, id.clone());
        image_ids.insert(name.clone(), id);
    }

    let mut outcomes: BTreeMap<String, ServiceOutcome> = BTreeMap::new();
    for name in &services {
        let service = &project.services[name];
        let aliases = link_aliases(project, name);
        let image_id = image_ids[name].clone();
        let config_hash = hash::config_hash(project, name, service, &image_id, &aliases);
        let replicas = opts
            .scale
            .get(name)
            .copied()
            .unwrap_or_else(|| service.replicas());
        let existing = state.service(name);
        let timeout = stop_timeout(Some(service));
        let mut outcome = ServiceOutcome::default();

        let dependency_recreated = service
            .depends_on
            .iter()
            .any(|(dep, d)| d.restart && outcomes.get(dep).is_some_and(|o| o.recreated));
        let up_to_date = existing.len() == replicas as usize
            && existing.iter().enumerate().all(|(i, c)| {
                c.number == i as u32 + 1
                    && c.is_running()
                    && (c.config_hash == config_hash || opts.recreate == Recreate::Never)
            })
            && opts.recreate != Recreate::Force
            && !dependency_recreated;
        if up_to_date {
            for c in &existing {
                progress.event("Container", &c.name, "Running");
            }
            outcome.kept = existing.len();
            outcomes.insert(name.clone(), outcome);
            continue;
        }

        if !opts.no_deps {
            for (dep, d) in &service.depends_on {
                if services.contains(dep) && d.condition != Condition::ServiceStarted {
                    let task = progress.spinner(format!(
                        "Waiting for {dep} ({})",
                        condition_name(d.condition)
                    ));
                    health::wait_for(
                        engine,
                        &project.name,
                        dep,
                        d.condition,
                        opts.dependency_timeout,
                    )
                    .await?;
                    drop(task);
                }
            }
        }

        // Scale down: the highest numbers go first.
        let mut by_number: BTreeMap<u32, Vec<&Container>> = BTreeMap::new();
        for c in &existing {
            by_number.entry(c.number).or_default().push(c);
        }
        for (number, containers) in by_number.iter().rev() {
            for (i, c) in containers.iter().enumerate() {
                if *number > replicas || *number == 0 || i > 0 {
                    remove_container(engine, c, timeout, progress).await?;
                    outcome.removed += 1;
                }
            }
        }

        let mut ctx = ServiceContext {
            project,
            name,
            image_id,
            config_hash: config_hash.clone(),
            aliases,
            anonymous_paths: Vec::new(),
        };
        let mut paths_known = false;
        for number in 1..=replicas {
            let current = by_number.get(&number).and_then(|v| v.first()).copied();
            let recreate = match (current, opts.recreate) {
                (None, _) => None,
                (Some(c), Recreate::Force) => Some(c),
                (Some(_), Recreate::Never) => None,
                (Some(c), Recreate::Changed) if c.config_hash != config_hash => Some(c),
                _ => None,
            };
            let container_name = labels::container_name(&project.name, name, number);
            if current.is_none() || recreate.is_some() {
                if !paths_known {
                    let image = project.image_name(name);
                    ctx.anonymous_paths = anonymous_paths(
                        engine,
                        name,
                        service,
                        &image,
                        current.is_none() && number == 1,
                        progress,
                    )
                    .await?;
                    paths_known = true;
                }
                if let Some(old) = recreate {
                    remove_container(engine, old, timeout, progress).await?;
                    outcome.recreated = true;
                }
                let id = create_container(
                    engine,
                    &ctx,
                    number,
                    container_name.clone(),
                    false,
                    None,
                    Vec::new(),
                )
                .await?;
                progress.event(
                    "Container",
                    &container_name,
                    if recreate.is_some() {
                        "Recreated"
                    } else {
                        "Created"
                    },
                );
                start_container(engine, &id, &container_name).await?;
                progress.event("Container", &container_name, "Started");
                outcome.created += 1;
                outcome.started += 1;
            } else if let Some(c) = current {
                if !c.is_running() {
                    start_container(engine, &c.id, &c.name).await?;
                    progress.event("Container", &c.name, "Started");
                    outcome.started += 1;
                } else if dependency_recreated {
                    engine
                        .docker
                        .restart_container(
                            &c.id,
                            Some(RestartContainerOptions {
                                t: Some(timeout),
                                signal: None,
                            }),
                        )
                        .await
                        .map_err(EngineError::api(format!("could not restart {}", c.name)))?;
                    progress.event("Container", &c.name, "Restarted");
                } else {
                    progress.event("Container", &c.name, "Running");
                    outcome.kept += 1;
                }
            }
        }
        outcomes.insert(name.clone(), outcome);
    }
    Ok(outcomes)
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

fn condition_name(c: Condition) -> &'static str {
    match c {
        Condition::ServiceStarted => "started",
        Condition::ServiceHealthy => "healthy",
        Condition::ServiceCompletedSuccessfully => "completed successfully",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_repository_and_tag() {
        assert_eq!(
            split_reference("postgres"),
            ("postgres".into(), "latest".into())
        );
        assert_eq!(
            split_reference("postgres:16"),
            ("postgres".into(), "16".into())
        );
        assert_eq!(
            split_reference("localhost:5000/app"),
            ("localhost:5000/app".into(), "latest".into())
        );
        assert_eq!(
            split_reference("localhost:5000/app:1"),
            ("localhost:5000/app".into(), "1".into())
        );
    }

    #[test]
    fn anonymous_volume_names_are_stable_per_container_and_path() {
        let a = anonymous_volume_name("p", "db", 1, "/var/lib/postgresql/data");
        assert_eq!(
            a,
            anonymous_volume_name("p", "db", 1, "/var/lib/postgresql/data")
        );
        assert_ne!(
            a,
            anonymous_volume_name("p", "db", 2, "/var/lib/postgresql/data")
        );
        assert_ne!(a, anonymous_volume_name("p", "db", 1, "/data"));
        assert!(a.starts_with("p_db_1_anon_"));
    }
}
