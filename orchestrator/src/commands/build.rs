//! `build`: build the images of services that have a build section.

use super::Context;
use crate::{
    cli::BuildArgs,
    engine::images::{self, ImagePolicy},
    Error,
};

/// `build`.
pub async fn run(ctx: &Context, args: &BuildArgs) -> Result<i32, Error> {
    ctx.check_services(&args.services)?;
    let policy = ImagePolicy {
        no_cache: args.no_cache,
        pull: args.pull,
        no_stand_ins: ctx.no_stand_ins,
        ..ImagePolicy::default()
    };
    let mut built = 0;
    for name in &ctx.loaded.start_order {
        if !args.services.is_empty() && !args.services.contains(name) {
            continue;
        }
        if images::build_service(&ctx.engine, ctx.project(), name, &policy, &ctx.progress).await? {
            built += 1;
        } else if args.services.contains(name) {
            ctx.progress
                .note(format!("{name} has no build section; nothing to build"));
        }
    }
    if built == 0 {
        ctx.progress.note("no service has a build section");
    }
    Ok(0)
}
