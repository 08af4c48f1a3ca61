//! `exec`: run a command in a running container; its output passes through, its exit code is
//! ours.

use std::io::Write;

use bollard::{
    container::LogOutput,
    exec::{CreateExecOptions, StartExecResults},
};
use futures_util::StreamExt;

use super::Context;
use crate::{cli::ExecArgs, engine::EngineError, Error};

/// `exec`.
pub async fn run(ctx: &Context, args: &ExecArgs) -> Result<i32, Error> {
    let containers = ctx
        .containers(std::slice::from_ref(&args.service), false, false)
        .await?;
    let container = containers
        .iter()
        .find(|c| c.number == args.index)
        .ok_or_else(|| {
            EngineError::Failed(format!(
                "service {} has no running container number {}",
                args.service, args.index
            ))
        })?;
    let exec = ctx
        .engine
        .docker
        .create_exec(
            &container.id,
            CreateExecOptions {
                cmd: Some(args.command.clone()),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                env: Some(args.env.clone()),
                user: args.user.clone(),
                working_dir: args.workdir.clone(),
                ..Default::default()
            },
        )
        .await
        .map_err(EngineError::api(format!(
            "could not exec in {}",
            container.name
        )))?;
    if let StartExecResults::Attached { mut output, .. } = ctx
        .engine
        .docker
        .start_exec(&exec.id, None)
        .await
        .map_err(EngineError::api(format!(
            "could not exec in {}",
            container.name
        )))?
    {
        while let Some(item) = output.next().await {
            match item {
                Ok(LogOutput::StdErr { message }) => std::io::stderr().write_all(&message)?,
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    std::io::stdout().write_all(&message)?
                }
                Ok(_) => {}
                Err(e) => return Err(EngineError::api("the exec stream broke")(e).into()),
            }
        }
    }
    std::io::stdout().flush()?;
    let inspect = ctx
        .engine
        .docker
        .inspect_exec(&exec.id)
        .await
        .map_err(EngineError::api("could not read the exit code"))?;
    Ok(inspect.exit_code.unwrap_or(0) as i32)
}
