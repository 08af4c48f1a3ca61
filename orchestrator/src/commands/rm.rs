//! `rm`: remove stopped containers. Their anonymous volumes stay (the next `up` re-attaches
//! them) unless `-v` is given and confirmed.

use super::{confirm, format::human_size, removal::DoomedVolume, Context};
use crate::{
    cli::RmArgs,
    engine::{
        labels,
        plan::{self, Direction, Op},
        resources,
    },
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
        ctx.stop(&running, None).await?;
        if !ctx.dry_run {
            containers = ctx.containers(&args.services, true, false).await?;
        }
    }
    // In a dry run, what -s would have stopped counts as stopped.
    let (stopped, running): (Vec<_>, Vec<_>) = containers
        .into_iter()
        .partition(|c| !c.is_running() || (args.stop && ctx.dry_run));
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
        for v in resources::project_volumes(&ctx.engine, &ctx.project().name).await? {
            let of_stopped = match (
                v.labels.get(labels::SERVICE),
                v.labels.get(labels::NUMBER),
                v.labels.get(labels::ANONYMOUS_PATH),
            ) {
                (Some(service), Some(number), Some(_)) => stopped
                    .iter()
                    .any(|c| &c.service == service && &c.number.to_string() == number),
                _ => false,
            };
            if of_stopped {
                doomed.push(DoomedVolume::describe(v).await);
            }
        }
    }
    if !args.force && !ctx.dry_run {
        let names: Vec<&str> = stopped.iter().map(|c| c.name.as_str()).collect();
        eprintln!("Going to remove {}", names.join(", "));
        for v in &doomed {
            eprintln!(
                "  and volume {} ({}, {})",
                v.name,
                v.what,
                human_size(v.size)
            );
        }
        match confirm("Are you sure?") {
            Some(true) => {}
            Some(false) => return Ok(1),
            None => {
                return Err(Error::Refused(
                    "refusing to remove containers without a terminal to confirm on: pass -f"
                        .into(),
                ))
            }
        }
    }
    let mut plan = plan::each(ctx.project(), &stopped, Direction::Unordered, |c| {
        Some(Op::Remove {
            name: c.name.clone(),
        })
    });
    let removed: Vec<usize> = (0..plan.steps.len()).collect();
    for v in &doomed {
        plan.steps.push(plan::Step {
            op: Op::RemoveVolume {
                name: v.name.clone(),
            },
            after: removed.clone(),
        });
    }
    ctx.execute(&plan).await?;
    Ok(0)
}
