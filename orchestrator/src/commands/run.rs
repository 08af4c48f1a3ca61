//! `run`: a one-off container of a service (after bringing up what it depends on), its output
//! followed, its exit code ours.

use std::time::Duration;

use super::{follow, Context};
use crate::{
    cli::RunArgs,
    engine::{
        containers,
        converge::{self, OneOff, UpRequest},
        images::ImagePolicy,
    },
    Error,
};

/// `run`.
pub async fn run(ctx: &Context, args: &RunArgs) -> Result<i32, Error> {
    let project = ctx.project();
    ctx.check_services(std::slice::from_ref(&args.service))?;
    let policy = ImagePolicy {
        no_stand_ins: ctx.no_stand_ins,
        ..ImagePolicy::default()
    };
    if !args.no_deps {
        let deps: Vec<String> = project.services[&args.service]
            .dependencies()
            .map(str::to_owned)
            .collect();
        if !deps.is_empty() {
            let request = UpRequest {
                services: deps,
                images: policy,
                dependency_timeout: Duration::from_secs(300),
                ..UpRequest::default()
            };
            converge::up(
                &ctx.engine,
                project,
                &ctx.loaded.start_order,
                &request,
                &ctx.progress,
            )
            .await?;
        }
    }
    let oneoff = OneOff {
        service: args.service.clone(),
        name: format!("{}-{}-run-{:x}", project.name, args.service, rand_suffix()),
        command: (!args.command.is_empty()).then(|| args.command.clone()),
        env: args.env.clone(),
    };
    let id = converge::start_oneoff(&ctx.engine, project, &oneoff, &policy, &ctx.progress).await?;
    let container: Vec<_> = ctx
        .containers(std::slice::from_ref(&args.service), true, true)
        .await?
        .into_iter()
        .filter(|c| c.id == id)
        .collect();
    let opts = follow::LogOptions {
        follow: true,
        tail: None,
        timestamps: false,
        since: 0,
        colour: false,
        prefix: false,
    };
    follow::stream(ctx, &container, &opts).await?;
    let code = containers::wait_exit(&ctx.engine, &id).await?;
    if args.rm {
        containers::remove(&ctx.engine, &id, true, true).await?;
    }
    Ok(code as i32)
}

/// A random-enough suffix for a one-off container's name.
fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish() & 0xffff_ffff_ffff
}
