//! `rm`: remove stopped containers. Their anonymous volumes stay (the next `up` re-attaches
//! them) unless `-v` is given and confirmed.

use bollard::query_parameters::RemoveContainerOptions;

use super::{confirm, down, Context};
use crate::{
    cli::RmArgs,
    engine::{labels, EngineError},
    Error,
};

/// `rm`.
pub async fn run(ctx: &Context, args: &RmArgs) -> Result<i32, Error> {
    let mut containers = ctx.containers(&args.services, true, false).await?;
    if args.stop {
        let running: Vec<_> = containers
            .iter()
            .filter(|c| c.is_running())
            .cloned()
            .collect();
        super::up::stop_all(ctx, &running, None).await?;
        containers = ctx.containers(&args.services, true, false).await?;
    }
    let (stopped, running): (Vec<_>, Vec<_>) =
        containers.into_iter().partition(|c| !c.is_running());
    for c in &running {
        ctx.progress
            .note(format!("{} is running; stop it first (or rm -s)", c.name));
    }
    if stopped.is_empty() {
        ctx.progress.note("no stopped containers");
        return Ok(0);
    }
    let mut doomed = Vec::new();
    if args.volumes {
        let listed = down::project_volumes(ctx).await?;
        for v in listed {
            let (Some(service), Some(number), Some(path)) = (
                v.labels.get(labels::SERVICE),
                v.labels.get(labels::NUMBER),
                v.labels.get(labels::ANONYMOUS_PATH),
            ) else {
                continue;
            };
            if stopped
                .iter()
                .any(|c| &c.service == service && &c.number.to_string() == number)
            {
                doomed.push(down::DoomedVolume {
                    size: down::volume_size(&v.mountpoint).await,
                    what: format!("anonymous volume of {service}-{number} at {path}"),
                    name: v.name,
                });
            }
        }
    }
    if !args.force {
        let names: Vec<&str> = stopped.iter().map(|c| c.name.as_str()).collect();
        eprintln!("Going to remove {}", names.join(", "));
        for v in &doomed {
            eprintln!(
                "  and volume {} ({}, {})",
                v.name,
                v.what,
                down::human_size(v.size)
            );
        }
        match confirm("Are you sure?") {
            Some(true) => {}
            Some(false) => return Ok(1),
            None => {
                return Err(EngineError::Failed(
                    "refusing to remove containers without a terminal to confirm on: pass -f"
                        .into(),
                )
                .into())
            }
        }
    }
    for c in &stopped {
        ctx.engine
            .docker
            .remove_container(
                &c.id,
                Some(RemoveContainerOptions {
                    v: false,
                    force: false,
                    link: false,
                }),
            )
            .await
            .map_err(EngineError::api(format!("could not remove {}", c.name)))?;
        ctx.progress.event("Container", &c.name, "Removed");
    }
    down::remove_volumes(ctx, &doomed).await?;
    Ok(0)
}
