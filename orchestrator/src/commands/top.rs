//! `top`: the processes in each running container.

use bollard::query_parameters::TopOptions;

use super::{table, Context};
use crate::{cli::ServicesArgs, engine::EngineError, Error};

/// `top`.
pub async fn run(ctx: &Context, args: &ServicesArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, false, false).await?;
    for c in &containers {
        let top = ctx
            .engine
            .docker
            .top_processes(&c.id, None::<TopOptions>)
            .await
            .map_err(EngineError::api(format!(
                "could not list the processes of {}",
                c.name
            )))?;
        println!("{}", c.name);
        let titles = top.titles.unwrap_or_default();
        let header: Vec<&str> = titles.iter().map(String::as_str).collect();
        table(
            &mut std::io::stdout().lock(),
            &header,
            &top.processes.unwrap_or_default(),
        )?;
        println!();
    }
    Ok(0)
}
