//! `ps`: the project's containers, as a table, JSON, or IDs.

use serde_json::json;

use super::{
    format::{ago, table},
    Context,
};
use crate::{
    cli::{ListFormat, PsArgs},
    engine::{labels, state::Container},
    Error,
};

/// For a container that is the new one of an update still in progress (it runs under a
/// replacement's temporary name until its service's update is done): the container it
/// replaces.
fn replacing(project: &str, c: &Container) -> Option<String> {
    let canonical = labels::container_name(project, &c.service, c.number);
    (!c.oneoff && c.name != canonical && c.name.ends_with(&format!("_{canonical}")))
        .then_some(canonical)
}

/// Docker's status line, with an update in progress said.
fn status(project: &str, c: &Container) -> String {
    match replacing(project, c) {
        Some(old) => format!("{} · updating, replaces {old}", c.status),
        None => c.status.clone(),
    }
}

/// `ps`.
pub async fn run(ctx: &Context, args: &PsArgs) -> Result<i32, Error> {
    let containers = ctx.containers(&args.services, args.all, true).await?;
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for c in &containers {
            use std::io::Write;
            writeln!(out, "{}", c.id)?;
        }
        return Ok(0);
    }
    match args.format {
        ListFormat::Json => {
            let rows: Vec<_> = containers
                .iter()
                .map(|c| {
                    json!({
                        "ID": c.id, "Name": c.name, "Image": c.image, "Command": c.command,
                        "Project": ctx.project().name, "Service": c.service, "Created": c.created,
                        "State": c.state, "Status": c.status, "Ports": c.ports.join(", "),
                        "Replaces": replacing(&ctx.project().name, c),
                    })
                })
                .collect();
            use std::io::Write;
            writeln!(out, "{}", serde_json::Value::Array(rows))?;
        }
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = containers
                .iter()
                .map(|c| {
                    let command = if c.command.chars().count() > 24 {
                        format!("\"{}…\"", c.command.chars().take(22).collect::<String>())
                    } else {
                        format!("\"{}\"", c.command)
                    };
                    vec![
                        c.name.clone(),
                        c.image.clone(),
                        command,
                        c.service.clone(),
                        ago(c.created),
                        status(&ctx.project().name, c),
                        c.ports.join(", "),
                    ]
                })
                .collect();
            table(
                &mut out,
                &[
                    "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS",
                ],
                &rows,
            )?;
        }
    }
    Ok(0)
}
