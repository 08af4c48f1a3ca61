//! `pull`: fetch the images of services that are not built here.

use super::Context;
use crate::{cli::ServicesArgs, engine::converge, Error};

/// `pull`.
pub async fn run(ctx: &Context, args: &ServicesArgs) -> Result<i32, Error> {
    ctx.check_services(&args.services)?;
    let project = ctx.project();
    for name in &ctx.loaded.start_order {
        if !args.services.is_empty() && !args.services.contains(name) {
            continue;
        }
        let service = &project.services[name];
        if service.build.is_some() && service.image.is_none() {
            continue;
        }
        converge::pull(
            &ctx.engine,
            project,
            name,
            &project.image_name(name),
            &ctx.progress,
        )
        .await?;
    }
    Ok(0)
}
