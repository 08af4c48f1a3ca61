//! `down`: stop and remove the project's containers and networks. Volumes only with `-v`, and
//! only after the user has seen what goes (names and sizes) and agreed.

use std::collections::BTreeSet;

use super::{
    removal::{agree_to_remove, DoomedVolume},
    seconds, Context,
};
use crate::{
    cli::{DownArgs, RemoveImages},
    engine::{
        images,
        plan::{self, DownOptions},
        resources, state,
    },
    Error,
};

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
