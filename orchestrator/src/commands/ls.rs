//! `ls`: every project on the engine (ours and Compose's), its state and its volumes.

use std::collections::BTreeMap;

use serde_json::json;

use super::format::table;
use crate::{
    cli::{ListFormat, LsArgs},
    engine::{labels, resources, state, Engine},
    Error,
};

#[derive(Default)]
struct ProjectRow {
    states: BTreeMap<String, usize>,
    config_files: String,
    volumes: Vec<String>,
}

/// `ls`: needs no compose file.
pub async fn run(engine: &Engine, args: &LsArgs) -> Result<i32, Error> {
    let containers = state::labelled_containers(engine).await?;
    let volumes = resources::labelled_volumes(engine).await?;
    let mut projects: BTreeMap<String, ProjectRow> = BTreeMap::new();
    for c in containers {
        let Some(name) = c.labels.get(labels::PROJECT) else {
            continue;
        };
        let row = projects.entry(name.clone()).or_default();
        *row.states.entry(c.state.clone()).or_default() += 1;
        if let Some(files) = c.labels.get(labels::CONFIG_FILES) {
            row.config_files = files.clone();
        }
    }
    for v in volumes {
        if let Some(name) = v.labels.get(labels::PROJECT) {
            projects
                .entry(name.clone())
                .or_default()
                .volumes
                .push(v.name);
        }
    }
    let status = |r: &ProjectRow| {
        r.states
            .iter()
            .map(|(s, n)| format!("{s}({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        ListFormat::Json => {
            let rows: Vec<_> = projects
                .iter()
                .map(|(name, r)| json!({"Name": name, "Status": status(r), "ConfigFiles": r.config_files, "Volumes": r.volumes}))
                .collect();
            use std::io::Write;
            writeln!(out, "{}", serde_json::Value::Array(rows))?;
        }
        ListFormat::Table => {
            let rows: Vec<Vec<String>> = projects
                .iter()
                .map(|(name, r)| {
                    let status = if r.states.is_empty() {
                        "no containers".into()
                    } else {
                        status(r)
                    };
                    let volumes = if r.volumes.is_empty() {
                        "-".into()
                    } else {
                        r.volumes.join(", ")
                    };
                    vec![name.clone(), status, r.config_files.clone(), volumes]
                })
                .collect();
            table(
                &mut out,
                &["NAME", "STATUS", "CONFIG FILES", "VOLUMES"],
                &rows,
            )?;
        }
    }
    Ok(0)
}
