//! `port`: where a container port is published on the host.

use super::Context;
use crate::{cli::PortArgs, engine::containers, Error};

/// `port`.
pub async fn run(ctx: &Context, args: &PortArgs) -> Result<i32, Error> {
    let container = ctx.container(&args.service, args.index, true).await?;
    let key = format!("{}/{}", args.port, args.protocol);
    println!(
        "{}",
        containers::published_port(&ctx.engine, &container.name, &key).await?
    );
    Ok(0)
}
