//! `up`: converge, then (attached) follow the logs until Ctrl-C stops the stack.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use bollard::query_parameters::{KillContainerOptions, StopContainerOptions};

use super::{logs, Context};
use crate::{
    cli::UpArgs,
    engine::{
        converge::{self, BuildPolicy, Recreate, UpOptions},
        health,
    },
    project::model::Condition,
    Error,
};

/// `up`.
pub async fn run(ctx: &Context, args: &UpArgs) -> Result<i32, Error> {
    let project = ctx.project();
    let opts = UpOptions {
        services: args.services.clone(),
        no_deps: args.no_deps,
        build: if args.build {
            BuildPolicy::Always
        } else if args.no_build {
            BuildPolicy::Never
        } else {
            BuildPolicy::Missing
        },
        no_cache: false,
        pull: args.pull,
        recreate: if args.force_recreate {
            Recreate::Force
        } else if args.no_recreate {
            Recreate::Never
        } else {
            Recreate::Changed
        },
        scale: args.scale.iter().cloned().collect(),
        remove_orphans: args.remove_orphans,
        dependency_timeout: Duration::from_secs(args.wait_timeout),
    };
    for service in opts.scale.keys() {
        ctx.check_services(std::slice::from_ref(service))?;
    }
    let started = chrono::Utc::now().timestamp() as i32;
    let outcomes = converge::up(
        &ctx.engine,
        project,
        &ctx.loaded.start_order,
        &opts,
        &ctx.progress,
    )
    .await?;

    if args.wait {
        let deadline = Instant::now() + Duration::from_secs(args.wait_timeout);
        for name in outcomes.keys() {
            let service = &project.services[name];
            let condition = match &service.healthcheck {
                Some(h) if !h.is_disabled() => Condition::ServiceHealthy,
                _ => Condition::ServiceStarted,
            };
            let left = deadline.saturating_duration_since(Instant::now());
            let task = ctx.progress.spinner(format!("Waiting for {name}"));
            health::wait_for(&ctx.engine, &project.name, name, condition, left).await?;
            drop(task);
            ctx.progress.event(
                "Service",
                name,
                if condition == Condition::ServiceHealthy {
                    "Healthy"
                } else {
                    "Running"
                },
            );
        }
    }
    if args.detach || args.wait {
        return Ok(0);
    }

    let services: Vec<String> = outcomes.keys().cloned().collect();
    let containers = ctx.containers(&services, false, false).await?;
    ctx.progress
        .note("Attaching to the logs; Ctrl-C stops the stack (twice kills it)");
    let opts = logs::LogOptions {
        follow: true,
        tail: None,
        timestamps: false,
        since: started - 1,
        colour: std::io::stdout().is_terminal(),
        prefix: true,
    };
    tokio::select! {
        result = logs::stream(ctx, &containers, &opts) => {
            result?;
            Ok(0)
        }
        _ = tokio::signal::ctrl_c() => {
            ctx.progress.note("Gracefully stopping... (press Ctrl-C again to force)");
            let stop = stop_all(ctx, &containers, args.timeout);
            tokio::select! {
                result = stop => { result?; }
                _ = tokio::signal::ctrl_c() => {
                    ctx.progress.note("Killing...");
                    for c in &containers {
                        let _ = ctx.engine.docker.kill_container(&c.id, None::<KillContainerOptions>).await;
                        ctx.progress.event("Container", &c.name, "Killed");
                    }
                }
            }
            Ok(130)
        }
    }
}

/// Stops containers, dependents first, each with its service's grace period.
pub async fn stop_all(
    ctx: &Context,
    containers: &[crate::engine::state::Container],
    timeout: Option<i32>,
) -> Result<(), Error> {
    for c in ctx.stop_order(containers.to_vec()) {
        let t = timeout
            .unwrap_or_else(|| converge::stop_timeout(ctx.project().services.get(&c.service)));
        ctx.engine
            .docker
            .stop_container(
                &c.id,
                Some(StopContainerOptions {
                    t: Some(t),
                    signal: None,
                }),
            )
            .await
            .or_else(|e| {
                if crate::engine::is_not_modified(&e) || crate::engine::is_not_found(&e) {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(crate::engine::EngineError::api(format!(
                "could not stop {}",
                c.name
            )))?;
        ctx.progress.event("Container", &c.name, "Stopped");
    }
    Ok(())
}
