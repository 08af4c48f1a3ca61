//! `up`: converge (or, with `--dry-run`, show the plan), then (attached) follow the logs until
//! Ctrl-C stops the stack.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use super::{follow, print_plan, seconds, Context};
use crate::{
    cli::UpArgs,
    engine::{
        converge::{self, UpRequest},
        health,
        images::{BuildPolicy, ImagePolicy},
        plan::{self, Direction, Op, Recreate, UpOptions},
    },
    project::model::Condition,
    Error,
};

/// `up`.
pub async fn run(ctx: &Context, args: &UpArgs) -> Result<i32, Error> {
    let project = ctx.project();
    let request = UpRequest {
        services: args.services.clone(),
        images: ImagePolicy {
            build: if args.build {
                BuildPolicy::Always
            } else if args.no_build {
                BuildPolicy::Never
            } else {
                BuildPolicy::Missing
            },
            no_cache: false,
            pull: args.pull,
            no_stand_ins: ctx.no_stand_ins,
        },
        plan: UpOptions {
            no_deps: args.no_deps,
            recreate: if args.force_recreate {
                Recreate::Force
            } else if args.no_recreate {
                Recreate::Never
            } else {
                Recreate::Changed
            },
            scale: args.scale.iter().cloned().collect(),
            remove_orphans: args.remove_orphans,
        },
        dependency_timeout: Duration::from_secs(args.wait_timeout),
        dry_run: ctx.dry_run,
    };
    let started = chrono::Utc::now().timestamp() as i32;
    let outcome = converge::up(
        &ctx.engine,
        project,
        &ctx.loaded.start_order,
        &request,
        &ctx.progress,
    )
    .await?;
    if ctx.dry_run {
        print_plan(&outcome.plan, &outcome.would)?;
        return Ok(0);
    }

    if args.wait {
        let deadline = Instant::now() + Duration::from_secs(args.wait_timeout);
        for name in &outcome.services {
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

    let containers = ctx.containers(&outcome.services, false, false).await?;
    ctx.progress
        .note("Attaching to the logs; Ctrl-C stops the stack (twice kills it)");
    let opts = follow::LogOptions {
        follow: true,
        tail: None,
        timestamps: false,
        since: started - 1,
        colour: std::io::stdout().is_terminal(),
        prefix: true,
    };
    tokio::select! {
        result = follow::stream(ctx, &containers, &opts) => {
            result?;
            Ok(0)
        }
        _ = tokio::signal::ctrl_c() => {
            ctx.progress.note("Gracefully stopping... (press Ctrl-C again to force)");
            let stop = ctx.stop(&containers, seconds(args.timeout));
            tokio::select! {
                result = stop => { result?; }
                _ = tokio::signal::ctrl_c() => {
                    ctx.progress.note("Killing...");
                    let kill = plan::each(project, &containers, Direction::Unordered, |c| {
                        Some(Op::Kill { name: c.name.clone(), signal: None })
                    });
                    // Best effort: a container that is already gone is what we want.
                    let _ = ctx.execute(&kill).await;
                }
            }
            Ok(130)
        }
    }
}
