//! `pull`: fetch the images of services that are not built here.

use super::Context;
use crate::{
    cli::ServicesArgs,
    engine::images::{self, ImagePolicy},
    Error,
};

/// `pull`.
pub async fn run(ctx: &Context, args: &ServicesArgs) -> Result<i32, Error> {
    ctx.check_services(&args.services)?;
    let project = ctx.project();
    let policy = ImagePolicy {
        no_stand_ins: ctx.no_stand_ins,
        ..ImagePolicy::default()
    };
    for name in &ctx.loaded.start_order {
        if !args.services.is_empty() && !args.services.contains(name) {
            continue;
        }
        let service = &project.services[name];
        if service.build.is_some() && service.image.is_none() {
            continue;
        }
        let image = project.image_name(name);
        images::pull(&ctx.engine, project, name, &image, &policy, &ctx.progress).await?;
    }
    Ok(0)
}
