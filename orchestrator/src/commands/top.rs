//! `top`: the processes running in each container.

use super::{format::table, Context};
use crate::{cli::ServicesArgs, engine::containers, Error};

/// `top`.
pub async fn run(ctx: &Context, args: &ServicesArgs) -> Result<i32, Error> {
    let list = ctx.containers(&args.services, false, false).await?;
    for c in &list {
        let (titles, processes) = containers::top(&ctx.engine, &c.name).await?;
        println!("{}", c.name);
        let header: Vec<&str> = titles.iter().map(String::as_str).collect();
        table(&mut std::io::stdout().lock(), &header, &processes)?;
        println!();
    }
    Ok(0)
}
