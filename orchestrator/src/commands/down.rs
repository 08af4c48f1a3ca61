//! `down`: stop and remove the project's containers and networks. Volumes only with `-v`, and
//! only after the user has seen what goes (names and sizes) and agreed.

use std::collections::BTreeSet;

use super::{confirm, format::human_size, seconds, Context};
use crate::{
    cli::{DownArgs, RemoveImages},
    engine::{
        images, labels,
        plan::{self, DownOptions},
        resources::{self, VolumeInfo},
        state,
    },
    Error,
};

/// A volume `down -v` or `rm -v` would remove.
pub struct DoomedVolume {
    pub name: String,
    /// What it is: `named volume data` or `anonymous volume of db-1 at /var/lib/...`.
    pub what: String,
    pub size: Option<i64>,
}

impl DoomedVolume {
    /// Describes a volume of the project by its labels, with its size.
    pub async fn describe(volume: VolumeInfo) -> Self {
        let label = |key: &str| volume.labels.get(key).map(String::as_str);
        let what = match (label(labels::VOLUME), label(labels::ANONYMOUS_PATH)) {
            (Some(key), _) => format!("named volume {key}"),
            (None, Some(path)) => format!(
                "anonymous volume of {}-{} at {path}",
                label(labels::SERVICE).unwrap_or("?"),
                label(labels::NUMBER).unwrap_or("?"),
            ),
            _ => "volume".into(),
        };
        Self {
            size: resources::volume_size(&volume.mountpoint).await,
            name: volume.name,
            what,
        }
    }
}

/// Lists the volumes, asks on a terminal, refuses without one unless `yes`.
pub fn agree_to_remove(volumes: &[DoomedVolume], yes: bool) -> Result<(), Error> {
    if volumes.is_empty() || yes {
        return Ok(());
    }
    eprintln!("These volumes and all the data in them will be removed:");
    for v in volumes {
        eprintln!("  {}  ({}, {})", v.name, v.what, human_size(v.size));
    }
    match confirm("Remove them?") {
        Some(true) => Ok(()),
        Some(false) => Err(Error::Refused("nothing was removed".into())),
        None => Err(Error::Refused(
            "refusing to remove volumes without a terminal to confirm on: pass --yes to remove them; nothing was removed".into(),
        )),
    }
}

/// `down`.
pub async fn run(ctx: &Context, args: &DownArgs) -> Result<i32, Error> {
    let project = ctx.project();
    let observed = state::read(&ctx.engine, &project.name).await?;

    // Ask about volumes before touching anything, so a refusal leaves the stack as it was.
    let mut doomed = Vec::new();
    if args.volumes {
        let external: BTreeSet<&String> = project
            .volumes
            .values()
            .filter(|v| v.external)
            .map(|v| &v.name)
            .collect();
        for v in resources::project_volumes(&ctx.engine, &project.name).await? {
            if !external.contains(&v.name) {
                doomed.push(DoomedVolume::describe(v).await);
            }
        }
        doomed.sort_by(|a, b| a.name.cmp(&b.name));
        if !ctx.dry_run {
            agree_to_remove(&doomed, args.yes)?;
        }
    }

    let options = DownOptions {
        remove_orphans: args.remove_orphans,
        volumes: doomed.iter().map(|v| v.name.clone()).collect(),
        timeout: seconds(args.timeout),
    };
    let plan = plan::down(project, &observed, &options);
    ctx.execute(&plan).await?;
    if ctx.dry_run {
        return Ok(0);
    }

    if let Some(which) = args.rmi {
        let mut doomed_images = BTreeSet::new();
        for (name, s) in &project.services {
            let local = s.build.is_some() && s.image.is_none();
            if which == RemoveImages::All || local {
                doomed_images.insert(project.image_name(name));
            }
        }
        for image in doomed_images {
            match images::remove(&ctx.engine, &image).await {
                Ok(true) => ctx.progress.event("Image", &image, "Removed"),
                Ok(false) => {}
                Err(e) => ctx
                    .progress
                    .warn(format!("{e}: {}", crate::engine::root_cause(&e))),
            }
        }
    }
    Ok(0)
}
