//! `exec`: run a command in a running container; its output passes through, its exit code is
//! ours.

use super::Context;
use crate::{
    cli::ExecArgs,
    engine::containers::{self, ExecRequest},
    Error,
};

/// `exec`.
pub async fn run(ctx: &Context, args: &ExecArgs) -> Result<i32, Error> {
    let container = ctx.container(&args.service, args.index, false).await?;
    let request = ExecRequest {
        command: args.command.clone(),
        env: args.env.clone(),
        user: args.user.clone(),
        workdir: args.workdir.clone(),
    };
    let code = containers::exec(&ctx.engine, &container.name, &request).await?;
    Ok(code as i32)
}
