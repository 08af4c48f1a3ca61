//! `run`: a one-off container of a service (Compose's `oneoff` label, name
//! `project-service-run-ID`), its output shown, its exit code returned.

use std::time::Duration;

use bollard::{models::ContainerStateStatusEnum, query_parameters::RemoveContainerOptions};

use super::{logs, Context};
use crate::{
    cli::RunArgs,
    engine::{
        converge::{self, ServiceContext, UpOptions},
        hash, EngineError,
    },
    Error,
};

/// `run`.
pub async fn run(ctx: &Context, args: &RunArgs) -> Result<i32, Error> {
    let project = ctx.project();
    ctx.check_services(std::slice::from_ref(&args.service))?;
    let service = &project.services[&args.service];
    if !args.no_deps {
        let deps: Vec<String> = service.dependencies().map(str::to_owned).collect();
        if !deps.is_empty() {
            let opts = UpOptions {
                services: deps,
                dependency_timeout: Duration::from_secs(300),
                ..Default::default()
            };
            converge::up(
                &ctx.engine,
                project,
                &ctx.loaded.start_order,
                &opts,
                &ctx.progress,
            )
            .await?;
        }
    }
    let opts = UpOptions::default();
    let image_id =
        converge::ensure_image(&ctx.engine, project, &args.service, &opts, &ctx.progress).await?;
    let aliases = converge::link_aliases(project, &args.service);
    let service_ctx = ServiceContext {
        project,
        name: &args.service,
        config_hash: hash::config_hash(project, &args.service, service, &image_id, &aliases),
        image_id,
        aliases,
        anonymous_paths: Vec::new(),
    };
    let suffix: String = format!("{:x}", rand_suffix());
    let name = format!("{}-{}-run-{suffix}", project.name, args.service);
    let command = (!args.command.is_empty()).then(|| args.command.clone());
    let id = converge::create_container(
        &ctx.engine,
        &service_ctx,
        1,
        name.clone(),
        true,
        command,
        args.env.clone(),
    )
    .await?;
    converge::start_container(&ctx.engine, &id, &name).await?;
    let container = ctx
        .containers(std::slice::from_ref(&args.service), true, true)
        .await?
        .into_iter()
        .filter(|c| c.id == id)
        .collect::<Vec<_>>();
    // One container: its output without a prefix.
    let opts = logs::LogOptions {
        follow: true,
        tail: None,
        timestamps: false,
        since: 0,
        colour: false,
        prefix: false,
    };
    logs::stream(ctx, &container, &opts).await?;
    // The container's exit code, read by inspecting: `wait_container` reports non-zero as an Err.
    let code = loop {
        let inspect = ctx
            .engine
            .docker
            .inspect_container(&id, None)
            .await
            .map_err(EngineError::api(format!("could not inspect {name}")))?;
        let state = inspect.state.unwrap_or_default();
        if matches!(
            state.status,
            Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD)
        ) {
            break state.exit_code.unwrap_or(0) as i32;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    if args.rm {
        ctx.engine
            .docker
            .remove_container(
                &id,
                Some(RemoveContainerOptions {
                    v: true,
                    force: true,
                    link: false,
                }),
            )
            .await
            .map_err(EngineError::api(format!("could not remove {name}")))?;
    }
    Ok(code)
}

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
