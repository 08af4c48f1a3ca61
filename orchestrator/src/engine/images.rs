//! Images: what the engine has (one inspect per image gives its ID, its declared `VOLUME`s and
//! its size), pulling, building, and the project's stand-ins where no registry answers. `up`
//! resolves every image before any container changes, so a failed build or pull leaves the
//! stack as it was.

use std::collections::BTreeMap;

use bollard::query_parameters::{CreateImageOptions, RemoveImageOptions};
use futures_util::StreamExt;

use super::{
    build::{self, BuildRequest},
    is_not_found, root_cause, standin, Engine, EngineError,
};
use crate::{
    progress::Progress,
    project::{model::Project, reference::Reference},
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

/// How images are got for a deployment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImagePolicy {
    pub build: BuildPolicy,
    /// Build without the builder's cache.
    pub no_cache: bool,
    /// `--pull`: pull even what is here, and pull build bases.
    pub pull: bool,
    /// `--no-stand-ins`: never run a project's stand-in program.
    pub no_stand_ins: bool,
}

/// What the engine knows of one local image.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageInfo {
    /// `sha256:...`.
    pub id: String,
    /// The container paths its `VOLUME` instructions declare.
    pub volumes: Vec<String>,
    /// Bytes, when the engine says.
    pub size: Option<i64>,
    /// `repository@sha256:...` for each registry it was pushed to or pulled from.
    pub repo_digests: Vec<String>,
}

/// The local image `image`, or `None` when the engine does not have it.
pub async fn inspect(engine: &Engine, image: &str) -> Result<Option<ImageInfo>, EngineError> {
    match engine.docker.inspect_image(image).await {
        Ok(i) => {
            let mut volumes: Vec<String> = i
                .config
                .and_then(|c| c.volumes)
                .unwrap_or_default()
                .into_iter()
                .collect();
            volumes.sort();
            Ok(Some(ImageInfo {
                id: i.id.unwrap_or_default(),
                volumes,
                size: i.size,
                repo_digests: i.repo_digests.unwrap_or_default(),
            }))
        }
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(EngineError::api(format!("could not inspect image {image}"))(e)),
    }
}

/// Removes an image by reference; one already gone is `Ok(false)`.
pub async fn remove(engine: &Engine, image: &str) -> Result<bool, EngineError> {
    match engine
        .docker
        .remove_image(image, None::<RemoveImageOptions>, None)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(EngineError::api(format!("could not remove image {image}"))(
            e,
        )),
    }
}

/// Pulls an image with progress; the error is the registry's reason.
async fn try_pull(engine: &Engine, image: &str, progress: &Progress) -> Result<(), String> {
    let reference = Reference::parse(image);
    let task = progress.spinner(format!("Pulling {image}"));
    let mut stream = engine.docker.create_image(
        Some(CreateImageOptions {
            from_image: Some(reference.repository.clone()),
            tag: Some(reference.tag_or_digest()),
            ..Default::default()
        }),
        None,
        None,
    );
    let mut layers: BTreeMap<String, String> = BTreeMap::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| root_cause(&e))?;
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

/// Pulls an image for `service`; where no registry answers, makes the project's stand-in for
/// it if it has one (and stand-ins are allowed), else says how to provide the image.
pub async fn pull(
    engine: &Engine,
    project: &Project,
    service: &str,
    image: &str,
    policy: &ImagePolicy,
    progress: &Progress,
) -> Result<(), EngineError> {
    let Err(why) = try_pull(engine, image, progress).await else {
        return Ok(());
    };
    if !policy.no_stand_ins && standin::make(project, image, &why, progress).await? {
        if inspect(engine, image).await?.is_none() {
            return Err(EngineError::StandIn(format!(
                "the stand-in program for {image} succeeded but made no image {image}"
            )));
        }
        progress.event("Image", image, "Stand-in made");
        return Ok(());
    }
    Err(EngineError::Unpullable {
        image: image.to_owned(),
        service: service.to_owned(),
        reason: why,
    })
}

/// Makes sure the base images a build starts `FROM` are here: pulled, or the project's
/// stand-ins made. The classic builder would otherwise try a registry mid-build.
async fn ensure_base_images(
    engine: &Engine,
    project: &Project,
    service: &str,
    spec: &crate::project::model::Build,
    policy: &ImagePolicy,
    progress: &Progress,
) -> Result<(), EngineError> {
    let path = spec.context.join(&spec.dockerfile);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(()); // the build reports a missing Dockerfile itself
    };
    for base in build::base_images(&text, &spec.args) {
        if inspect(engine, &base).await?.is_none() {
            pull(engine, project, service, &base, policy, progress).await?;
        }
    }
    Ok(())
}

/// Builds service `name`'s image (its base images pulled or stood in first); a service with
/// no build section is left alone. Returns whether it built.
pub async fn build_service(
    engine: &Engine,
    project: &Project,
    name: &str,
    policy: &ImagePolicy,
    progress: &Progress,
) -> Result<bool, EngineError> {
    let Some(spec) = project.services[name].build.as_ref() else {
        return Ok(false);
    };
    ensure_base_images(engine, project, name, spec, policy, progress).await?;
    let request = BuildRequest {
        project: &project.name,
        service: name,
        build: spec,
        tag: project.image_name(name),
        no_cache: policy.no_cache,
        pull: policy.pull,
    };
    build::build(engine, &request, progress).await?;
    Ok(true)
}

/// What getting a service's image would take.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Use,
    Build,
    Pull,
}

fn action(
    project: &Project,
    name: &str,
    existing: Option<&ImageInfo>,
    policy: &ImagePolicy,
) -> Result<Action, EngineError> {
    let service = &project.services[name];
    let image = project.image_name(name);
    let missing = |why| EngineError::ImageMissing {
        image: image.clone(),
        service: name.to_owned(),
        why,
    };
    if service.build.is_some() {
        return match (policy.build, existing) {
            (BuildPolicy::Always, _) | (BuildPolicy::Missing, None) => Ok(Action::Build),
            (_, Some(_)) => Ok(Action::Use),
            (BuildPolicy::Never, None) => Err(missing("--no-build")),
        };
    }
    match (service.pull_policy.as_str(), existing) {
        ("always", _) => Ok(Action::Pull),
        ("never", None) => Err(missing("its pull_policy: never")),
        ("never", Some(_)) => Ok(Action::Use),
        (_, None) => Ok(Action::Pull),
        (_, Some(_)) if policy.pull => Ok(Action::Pull),
        (_, Some(_)) => Ok(Action::Use),
    }
}

/// Makes sure service `name`'s image exists, building or pulling as the policies say.
pub async fn ensure(
    engine: &Engine,
    project: &Project,
    name: &str,
    policy: &ImagePolicy,
    progress: &Progress,
) -> Result<ImageInfo, EngineError> {
    let image = project.image_name(name);
    let existing = inspect(engine, &image).await?;
    match action(project, name, existing.as_ref(), policy)? {
        Action::Use => {}
        Action::Build => {
            build_service(engine, project, name, policy, progress).await?;
        }
        Action::Pull => pull(engine, project, name, &image, policy, progress).await?,
    }
    inspect(engine, &image)
        .await?
        .ok_or_else(|| EngineError::Incomplete(format!("image {image} after it was made")))
}

/// The images of the selected services, resolved before any container changes.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Service -> its image.
    pub images: BTreeMap<String, ImageInfo>,
    /// For a dry run: what would be built or pulled, one line each.
    pub would: Vec<String>,
}

/// Resolves the image of every selected service. A service whose image another service builds
/// waits for that build instead of pulling. With `dry_run`, nothing is built or pulled: what
/// would be is listed, and a missing image gets a placeholder ID.
pub async fn resolve(
    engine: &Engine,
    project: &Project,
    services: &[String],
    policy: &ImagePolicy,
    dry_run: bool,
    progress: &Progress,
) -> Result<Resolved, EngineError> {
    let builders: BTreeMap<String, &String> = project
        .services
        .iter()
        .filter(|(_, s)| s.build.is_some())
        .map(|(name, _)| (project.image_name(name), name))
        .collect();
    let mut by_image: BTreeMap<String, ImageInfo> = BTreeMap::new();
    let mut resolved = Resolved::default();
    for name in services {
        let image = project.image_name(name);
        let source = builders
            .get(&image)
            .map(|b| (*b).clone())
            .unwrap_or(name.clone());
        let info = match by_image.get(&image) {
            Some(info) => info.clone(),
            None if dry_run => {
                let existing = inspect(engine, &image).await?;
                match action(project, &source, existing.as_ref(), policy)? {
                    Action::Use => existing.unwrap_or_default(),
                    other => {
                        let verb = if other == Action::Build {
                            "build"
                        } else {
                            "pull"
                        };
                        resolved.would.push(format!("{verb} image {image}"));
                        ImageInfo {
                            id: format!("(new {image})"),
                            ..existing.unwrap_or_default()
                        }
                    }
                }
            }
            None => ensure(engine, project, &source, policy, progress).await?,
        };
        by_image.insert(image, info.clone());
        resolved.images.insert(name.clone(), info);
    }
    Ok(resolved)
}
