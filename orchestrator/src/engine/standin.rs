//! Stand-ins: where an image cannot be pulled (an engine without registry access) and the
//! project says how to make a local one (`x-stand-ins: {IMAGE: COMMAND}`), the command is run,
//! with its output shown and a line that says so, and the deployment goes on.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::{converge, Engine, EngineError};
use crate::{progress::Progress, project::model::Project};

/// Runs the project's stand-in command for `image`; true if the project has one.
pub async fn make(
    engine: &Engine,
    project: &Project,
    image: &str,
    why: &str,
    progress: &Progress,
) -> Result<bool, EngineError> {
    let Some(command) = project.stand_ins.get(image) else {
        return Ok(false);
    };
    progress.note(format!(
        "{image} cannot be pulled ({why}); making the project's stand-in: {command}"
    ));
    // Both of the command's streams in one, in order.
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", &format!("{command} 2>&1")])
        .current_dir(&project.working_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            EngineError::Failed(format!(
                "could not run the stand-in command for {image} ({command}): {e}"
            ))
        })?;
    let task = progress.spinner(format!("Making a stand-in for {image}"));
    let mut tail: Vec<String> = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if progress.is_plain() {
                progress.note(format!("  {line}"));
            } else {
                task.message(format!("Making a stand-in for {image}: {}", line.trim()));
            }
            tail.push(line);
            if tail.len() > 30 {
                tail.remove(0);
            }
        }
    }
    let status = child.wait().await.map_err(|e| {
        EngineError::Failed(format!("the stand-in command for {image} failed: {e}"))
    })?;
    drop(task);
    if !status.success() {
        return Err(EngineError::Failed(format!(
            "the stand-in command for {image} ({command}) failed with {status}:\n{}",
            tail.iter()
                .map(|l| format!("  | {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    if converge::image_id(engine, image).await?.is_none() {
        return Err(EngineError::Failed(format!(
            "the stand-in command for {image} ({command}) succeeded but made no image {image}"
        )));
    }
    progress.event("Image", image, "Stand-in made");
    Ok(true)
}
