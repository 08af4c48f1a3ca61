//! Stand-ins: where an image cannot be pulled (an engine without registry access) and the
//! project names a program that makes a local one (`x-stand-ins: {IMAGE: PROGRAM ARGS...}`),
//! that program is run, with no shell, from the project directory, after the exact command is
//! printed; its output is shown and the deployment goes on. `--no-stand-ins` turns this off.
//!
//! The trust model: running `up` on a compose file already trusts it to start containers,
//! which can do anything a container may. Stand-ins add only programs that live inside the
//! project's own directory (checked when the file is loaded, and again here after symlinks are
//! resolved), with arguments passed as they are written, so no variable ever reaches a shell.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::EngineError;
use crate::{
    progress::Progress,
    project::model::{Project, StandIn},
};

/// Checks, with symlinks resolved, that the program is a file inside the project directory.
fn check(project: &Project, stand_in: &StandIn) -> Result<(), String> {
    let root = project
        .working_dir
        .canonicalize()
        .map_err(|e| format!("cannot read the project directory: {e}"))?;
    let program = stand_in
        .program
        .canonicalize()
        .map_err(|e| format!("cannot find {}: {e}", stand_in.program.display()))?;
    if !program.starts_with(&root) {
        return Err(format!(
            "{} resolves to {}, outside the project directory {}",
            stand_in.program.display(),
            program.display(),
            root.display()
        ));
    }
    Ok(())
}

/// Runs the project's stand-in program for `image`; true if the project has one and it
/// succeeded (whether it made the image is the caller's to check).
pub async fn make(
    project: &Project,
    image: &str,
    why: &str,
    progress: &Progress,
) -> Result<bool, EngineError> {
    let Some(stand_in) = project.stand_ins.get(image) else {
        return Ok(false);
    };
    let failed = |detail: String| {
        EngineError::StandIn(format!("the stand-in for {image} ({stand_in}) {detail}"))
    };
    check(project, stand_in).map_err(|e| failed(format!("was not run: {e}")))?;
    progress.note(format!(
        "{image} cannot be pulled ({why}); making the project's stand-in (--no-stand-ins turns this off):\n  running: {stand_in}"
    ));
    let mut child = tokio::process::Command::new(&stand_in.program)
        .args(&stand_in.args)
        .current_dir(&project.working_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed(format!("could not be run: {e}")))?;
    let task = progress.spinner(format!("Making a stand-in for {image}"));
    // Both streams, interleaved as they come.
    let mut lines = futures_util::stream::select(
        tokio_stream_lines(child.stdout.take()),
        tokio_stream_lines(child.stderr.take()),
    );
    let mut tail: Vec<String> = Vec::new();
    use futures_util::StreamExt;
    while let Some(line) = lines.next().await {
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
    let status = child
        .wait()
        .await
        .map_err(|e| failed(format!("could not be waited for: {e}")))?;
    drop(task);
    if !status.success() {
        let shown: Vec<String> = tail.iter().map(|l| format!("  | {l}")).collect();
        return Err(failed(format!(
            "failed with {status}:\n{}",
            shown.join("\n")
        )));
    }
    Ok(true)
}

/// The lines of a child's stream (none when it has no such stream).
fn tokio_stream_lines<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    reader: Option<R>,
) -> futures_util::stream::BoxStream<'static, String> {
    use futures_util::StreamExt;
    match reader {
        None => futures_util::stream::empty().boxed(),
        Some(reader) => {
            futures_util::stream::unfold(BufReader::new(reader).lines(), |mut lines| async move {
                match lines.next_line().await {
                    Ok(Some(line)) => Some((line, lines)),
                    _ => None,
                }
            })
            .boxed()
        }
    }
}
