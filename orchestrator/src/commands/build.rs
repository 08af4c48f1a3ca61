//! `build`: build the images of services that have a build section.

use super::Context;
use crate::{
    cli::BuildArgs,
    engine::{
        build::{self, BuildRequest},
        converge,
    },
    Error,
};

/// `build`.
pub async fn run(ctx: &Context, args: &BuildArgs) -> Result<i32, Error> {
    ctx.check_services(&args.services)?;
    let project = ctx.project();
    let mut built = 0;
    for name in &ctx.loaded.start_order {
        if !args.services.is_empty() && !args.services.contains(name) {
            continue;
        }
        let Some(spec) = &project.services[name].build else {
            if args.services.contains(name) {
                ctx.progress
                    .note(format!("{name} has no build section; nothing to build"));
            }
            continue;
        };
        converge::ensure_base_images(&ctx.engine, project, name, spec, &ctx.progress).await?;
        let request = BuildRequest {
            project: &project.name,
            service: name,
            build: spec,
            tag: project.image_name(name),
            no_cache: args.no_cache,
            pull: args.pull,
        };
        build::build(&ctx.engine, &request, &ctx.progress).await?;
        built += 1;
    }
    if built == 0 {
        ctx.progress.note("no service has a build section");
    }
    Ok(0)
}
