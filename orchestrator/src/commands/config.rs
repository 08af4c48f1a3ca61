//! `config`: the normalized project, or one list from it.

use std::io::Write;

use crate::{
    cli::{ConfigArgs, Format},
    project::Loaded,
    Error,
};

/// Prints what `args` asks for to `out`.
pub fn run(loaded: &Loaded, args: &ConfigArgs, out: &mut dyn Write) -> Result<(), Error> {
    let project = &loaded.project;
    if args.quiet {
        return Ok(());
    }
    let lines: Option<Vec<String>> = if args.services {
        Some(loaded.start_order.clone())
    } else if args.volumes {
        Some(project.volumes.keys().cloned().collect())
    } else if args.images {
        Some(
            loaded
                .start_order
                .iter()
                .map(|s| project.image_name(s))
                .collect(),
        )
    } else {
        None
    };
    match lines {
        Some(lines) => {
            for line in lines {
                writeln!(out, "{line}")?;
            }
        }
        None => {
            let text = match args.format {
                Format::Yaml => crate::project::to_yaml(project)?,
                Format::Json => {
                    serde_json::to_string_pretty(project)
                        .map_err(|e| Error::Output(e.to_string()))?
                        + "\n"
                }
            };
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}
