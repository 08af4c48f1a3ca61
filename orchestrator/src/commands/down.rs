//! `down`: stop and remove the project's containers and networks. Volumes only with `-v`, and
//! only after the user has seen what goes (names and sizes) and agreed.

use std::collections::BTreeMap;

use bollard::query_parameters::{ListVolumesOptions, RemoveImageOptions, RemoveVolumeOptions};

use super::{confirm, Context};
use crate::{
    cli::{DownArgs, RemoveImages},
    engine::{converge, labels, state, EngineError},
    Error,
};

/// A volume `down -v` or `rm -v` would remove.
pub struct DoomedVolume {
    pub name: String,
    /// What it is: `named volume data` or `anonymous volume of db-1 at /var/lib/...`.
    pub what: String,
    pub size: Option<i64>,
}

/// The bytes under a volume's mount point, when this process can read it (a local engine, as
/// root). API 1.41's disk-usage report is not in the shape bollard reads, so we measure.
pub async fn volume_size(mountpoint: &str) -> Option<i64> {
    let root = std::path::PathBuf::from(mountpoint);
    tokio::task::spawn_blocking(move || {
        fn walk(dir: &std::path::Path) -> std::io::Result<i64> {
            let mut total = 0;
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let meta = entry.metadata()?;
                total += if meta.is_dir() {
                    walk(&entry.path())?
                } else {
                    meta.len() as i64
                };
            }
            Ok(total)
        }
        walk(&root).ok()
    })
    .await
    .ok()
    .flatten()
}

/// `12.3 MB`.
pub fn human_size(bytes: Option<i64>) -> String {
    match bytes {
        None | Some(-1) => "size unknown".into(),
        Some(b) if b < 1024 => format!("{b} B"),
        Some(b) if b < 1024 * 1024 => format!("{:.1} kB", b as f64 / 1024.0),
        Some(b) if b < 1024 * 1024 * 1024 => format!("{:.1} MB", b as f64 / 1048576.0),
        Some(b) => format!("{:.1} GB", b as f64 / 1073741824.0),
    }
}

/// The project's volumes (named and anonymous), by their labels.
pub async fn project_volumes(ctx: &Context) -> Result<Vec<bollard::models::Volume>, EngineError> {
    Ok(ctx
        .engine
        .docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(labels::filter(&[(labels::PROJECT, &ctx.project().name)])),
        }))
        .await
        .map_err(EngineError::api("could not list volumes"))?
        .volumes
        .unwrap_or_default())
}

/// Lists the volumes, asks on a terminal, refuses without one unless `yes`.
pub fn agree_to_remove(volumes: &[DoomedVolume], yes: bool) -> Result<(), EngineError> {
    if volumes.is_empty() || yes {
        return Ok(());
    }
    eprintln!("These volumes and all the data in them will be removed:");
    for v in volumes {
        eprintln!("  {}  ({}, {})", v.name, v.what, human_size(v.size));
    }
    match confirm("Remove them?") {
        Some(true) => Ok(()),
        Some(false) => Err(EngineError::Failed("nothing was removed".into())),
        None => Err(EngineError::Failed(
            "refusing to remove volumes without a terminal to confirm on: pass --yes to remove them; nothing was removed".into(),
        )),
    }
}

/// Removes volumes the user agreed to.
pub async fn remove_volumes(ctx: &Context, volumes: &[DoomedVolume]) -> Result<(), EngineError> {
    for v in volumes {
        match ctx
            .engine
            .docker
            .remove_volume(&v.name, None::<RemoveVolumeOptions>)
            .await
        {
            Ok(()) => ctx.progress.event("Volume", &v.name, "Removed"),
            Err(e) if crate::engine::is_not_found(&e) => {}
            Err(e) => {
                return Err(EngineError::api(format!(
                    "could not remove volume {}",
                    v.name
                ))(e))
            }
        }
    }
    Ok(())
}

/// `down`.
pub async fn run(ctx: &Context, args: &DownArgs) -> Result<i32, Error> {
    let project = ctx.project();
    let containers = state::containers(&ctx.engine, &project.name).await?;
    let known =
        |s: &str| project.services.contains_key(s) || project.disabled_services.contains_key(s);
    let (ours, orphans): (Vec<_>, Vec<_>) = containers
        .into_iter()
        .partition(|c| known(&c.service) || c.oneoff);

    // Ask about volumes before touching anything, so a refusal leaves the stack as it was.
    let mut doomed = Vec::new();
    if args.volumes {
        let listed = project_volumes(ctx).await?;
        let external: Vec<&String> = project
            .volumes
            .values()
            .filter(|v| v.external)
            .map(|v| &v.name)
            .collect();
        for v in listed {
            if external.contains(&&v.name) {
                continue;
            }
            let what = match (
                v.labels.get(labels::VOLUME),
                v.labels.get(labels::ANONYMOUS_PATH),
            ) {
                (Some(key), _) => format!("named volume {key}"),
                (None, Some(path)) => format!(
                    "anonymous volume of {}-{} at {path}",
                    v.labels
                        .get(labels::SERVICE)
                        .map(String::as_str)
                        .unwrap_or("?"),
                    v.labels
                        .get(labels::NUMBER)
                        .map(String::as_str)
                        .unwrap_or("?"),
                ),
                _ => "volume".into(),
            };
            let size = volume_size(&v.mountpoint).await;
            doomed.push(DoomedVolume {
                size,
                name: v.name,
                what,
            });
        }
        doomed.sort_by(|a, b| a.name.cmp(&b.name));
        agree_to_remove(&doomed, args.yes)?;
    }

    let mut to_remove = ours;
    if args.remove_orphans {
        to_remove.extend(orphans);
    } else if !orphans.is_empty() {
        let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
        ctx.progress.warn(format!(
            "found orphan containers ({}); down --remove-orphans removes them too",
            names.join(", ")
        ));
    }
    for c in ctx.stop_order(to_remove) {
        let t = args
            .timeout
            .unwrap_or_else(|| converge::stop_timeout(project.services.get(&c.service)));
        converge::remove_container(&ctx.engine, &c, t, &ctx.progress).await?;
    }

    let networks = state::read(&ctx.engine, &project.name).await?.networks;
    let mut names: Vec<&String> = networks.keys().collect();
    names.sort();
    for name in names {
        match ctx.engine.docker.remove_network(name).await {
            Ok(()) => ctx.progress.event("Network", name, "Removed"),
            Err(e) if crate::engine::is_not_found(&e) => {}
            Err(e) => {
                return Err(EngineError::api(format!("could not remove network {name}"))(e).into())
            }
        }
    }

    if args.volumes {
        remove_volumes(ctx, &doomed).await?;
    }

    if let Some(which) = args.rmi {
        let mut images = BTreeMap::new();
        for (name, s) in &project.services {
            let local = s.build.is_some() && s.image.is_none();
            if which == RemoveImages::All || local {
                images.insert(project.image_name(name), ());
            }
        }
        for image in images.keys() {
            match ctx
                .engine
                .docker
                .remove_image(image, None::<RemoveImageOptions>, None)
                .await
            {
                Ok(_) => ctx.progress.event("Image", image, "Removed"),
                Err(e) if crate::engine::is_not_found(&e) => {}
                Err(e) => ctx.progress.warn(format!(
                    "could not remove image {image}: {}",
                    crate::engine::root_cause(&e)
                )),
            }
        }
    }
    Ok(0)
}
