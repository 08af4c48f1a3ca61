//! `start`, `stop`, `restart` and `kill`: one operation per container, planned in dependency
//! order (or its reverse) and run a level at once.

use super::{seconds, Context};
use crate::{
    cli::{KillArgs, ServicesArgs, StopArgs},
    engine::{
        plan::{self, Direction, Op},
        EngineError,
    },
    project::services,
    Error,
};

/// `start`: existing containers, what they depend on first.
pub async fn start(ctx: &Context, args: &ServicesArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, true, false).await?;
    if containers.is_empty() {
        return Err(EngineError::NoContainers { verb: "start" }.into());
    }
    let plan = plan::each(
        ctx.project(),
        &containers,
        Direction::DependenciesFirst,
        |c| {
            (!c.is_running()).then(|| Op::Start {
                name: c.name.clone(),
            })
        },
    );
    ctx.execute(&plan).await?;
    Ok(0)
}

/// `stop`: dependents first.
pub async fn stop(ctx: &Context, args: &StopArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, false, false).await?;
    ctx.stop(&containers, seconds(args.timeout)).await?;
    Ok(0)
}

/// `restart`: what they depend on first.
pub async fn restart(ctx: &Context, args: &StopArgs) -> Result<i32, Error> {
    let project = ctx.project();
    let containers = ctx.containers(&args.services, true, false).await?;
    let timeout = seconds(args.timeout);
    let plan = plan::each(project, &containers, Direction::DependenciesFirst, |c| {
        Some(Op::Restart {
            name: c.name.clone(),
            timeout: timeout
                .unwrap_or_else(|| services::stop_timeout(project.services.get(&c.service))),
        })
    });
    ctx.execute(&plan).await?;
    Ok(0)
}

/// `kill`: all at once.
pub async fn kill(ctx: &Context, args: &KillArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, false, false).await?;
    let plan = plan::each(ctx.project(), &containers, Direction::Unordered, |c| {
        Some(Op::Kill {
            name: c.name.clone(),
            signal: Some(args.signal.clone()),
        })
    });
    ctx.execute(&plan).await?;
    Ok(0)
}
