//! `start`, `stop`, `restart` and `kill`: the same walk over the services' containers with a
//! different engine call each.

use bollard::query_parameters::{KillContainerOptions, RestartContainerOptions};

use super::{up::stop_all, Context};
use crate::{
    cli::{KillArgs, ServicesArgs, StopArgs},
    engine::{converge, EngineError},
    Error,
};

/// `start`: existing containers, in dependency order.
pub async fn start(ctx: &Context, args: &ServicesArgs) -> Result<i32, Error> {
    let mut containers = ctx.containers(&args.services, true, false).await?;
    if containers.is_empty() {
        return Err(EngineError::Failed("no containers to start: run up first".into()).into());
    }
    containers.reverse();
    for c in ctx.stop_order(containers).into_iter().rev() {
        if !c.is_running() {
            converge::start_container(&ctx.engine, &c.id, &c.name).await?;
            ctx.progress.event("Container", &c.name, "Started");
        }
    }
    Ok(0)
}

/// `stop`: dependents first.
pub async fn stop(ctx: &Context, args: &StopArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, false, false).await?;
    stop_all(ctx, &containers, args.timeout).await?;
    Ok(0)
}

/// `restart`.
pub async fn restart(ctx: &Context, args: &StopArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, true, false).await?;
    for c in containers {
        let t = args
            .timeout
            .unwrap_or_else(|| converge::stop_timeout(ctx.project().services.get(&c.service)));
        ctx.engine
            .docker
            .restart_container(
                &c.id,
                Some(RestartContainerOptions {
                    t: Some(t),
                    signal: None,
                }),
            )
            .await
            .map_err(EngineError::api(format!("could not restart {}", c.name)))?;
        ctx.progress.event("Container", &c.name, "Restarted");
    }
    Ok(0)
}

/// `kill`.
pub async fn kill(ctx: &Context, args: &KillArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, false, false).await?;
    for c in containers {
        ctx.engine
            .docker
            .kill_container(
                &c.id,
                Some(KillContainerOptions {
                    signal: args.signal.clone(),
                }),
            )
            .await
            .map_err(EngineError::api(format!("could not kill {}", c.name)))?;
        ctx.progress.event("Container", &c.name, "Killed");
    }
    Ok(0)
}
