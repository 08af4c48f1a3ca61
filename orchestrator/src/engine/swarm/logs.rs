//! The output of a project's tasks, for `swarm logs` and for a failed release's report. Read per
//! task (`/tasks/ID/logs`), not per service: Swarm's log broker can hold a service's stream open
//! forever while a task crash-loops (`docker service logs` then never returns), so each task's
//! stream also ends after a while with nothing new unless it is followed, and a followed project
//! picks up each new task (a crash loop makes one a restart) as the manager lists it.

use std::{collections::BTreeSet, pin::Pin, time::Duration};

use futures_util::{
    stream::{self, BoxStream, SelectAll},
    Stream, StreamExt,
};

use super::{tasks, SwarmError, TaskRow};
use crate::engine::{
    containers::{output_chunks, said_lines, LogRequest},
    Engine,
};

/// Not following, a task's stream ends after this long with nothing new.
pub const IDLE: Duration = Duration::from_secs(2);
/// Following, how often the manager is asked for new tasks.
const POLL: Duration = Duration::from_secs(1);

/// The label a task's lines carry, as `docker service logs` writes it:
/// `SERVICE.SLOT.TASK@NODE` (no slot for a global service's task).
pub fn label(task: &TaskRow) -> String {
    let short: String = task.id.chars().take(12).collect();
    if task.slot == 0 {
        format!("{}.{short}@{}", task.service, task.node)
    } else {
        format!("{}.{}.{short}@{}", task.service, task.slot, task.node)
    }
}

/// One task's output as chunks (stdout and stderr together). Ends when the task's output is
/// read (following: when the task is gone) or, unless following, after [`IDLE`] with nothing
/// new.
pub fn task_output(
    engine: &Engine,
    task_id: &str,
    request: &LogRequest,
) -> BoxStream<'static, bytes::Bytes> {
    let chunks = output_chunks(engine.docker.task_logs(task_id, Some(request.options()))).boxed();
    if request.follow {
        return chunks;
    }
    stream::unfold(chunks, |mut chunks| async move {
        let next = tokio::time::timeout(IDLE, chunks.next()).await.ok()??;
        Some((next, chunks))
    })
    .boxed()
}

/// The last `lines` lines a task wrote, for an error message; none when they cannot be read.
pub async fn last_lines(engine: &Engine, task_id: &str, lines: usize) -> Vec<String> {
    let request = LogRequest {
        tail: Some(lines.to_string()),
        ..Default::default()
    };
    let chunks: Vec<bytes::Bytes> = task_output(engine, task_id, &request).collect().await;
    said_lines(&chunks)
}

type Labelled = Pin<Box<dyn Stream<Item = (String, bytes::Bytes)> + Send>>;

/// True when `task` is of one of `services` (every task when there are none).
fn selected(project: &str, services: &[String], task: &TaskRow) -> bool {
    services.is_empty()
        || services
            .iter()
            .any(|s| task.service == *s || task.service == super::spec::service_name(project, s))
}

/// True once a task in `state` has had a container, and so may have output.
fn has_container(state: &str) -> bool {
    matches!(
        state,
        "starting" | "running" | "complete" | "failed" | "shutdown"
    )
}

fn labelled(engine: &Engine, task: &TaskRow, request: &LogRequest) -> Labelled {
    let label = label(task);
    task_output(engine, &task.id, request)
        .map(move |chunk| (label.clone(), chunk))
        .boxed()
}

/// The output of every task of the project's `services` (all of them when empty), each chunk
/// with its task's [`label`]. Not following: every task the manager still lists, old ones too
/// (a crash loop's earlier attempts say why it fails), and the stream ends. Following: the tasks
/// that run or are about to, and each new one as it appears, until the stream is dropped.
pub async fn project_output(
    engine: &Engine,
    project: &str,
    services: &[String],
    request: &LogRequest,
) -> Result<Labelled, SwarmError> {
    let first: Vec<TaskRow> = tasks(engine, project)
        .await?
        .into_iter()
        .filter(|t| selected(project, services, t))
        .collect();
    // Following, what ran before is history: only what runs now, and what comes.
    let mut seen: BTreeSet<String> = first.iter().map(|t| t.id.clone()).collect();
    let mut merged: SelectAll<Labelled> = first
        .iter()
        .filter(|t| !request.follow || t.desired == "running")
        .map(|t| labelled(engine, t, request))
        .collect();
    if !request.follow {
        return Ok(merged.boxed());
    }
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let (engine, project, services, request) = (
        engine.clone(),
        project.to_owned(),
        services.to_vec(),
        request.clone(),
    );
    tokio::spawn(async move {
        let mut poll = tokio::time::interval(POLL);
        loop {
            tokio::select! {
                Some(item) = merged.next(), if !merged.is_empty() => {
                    if tx.send(item).await.is_err() {
                        return;
                    }
                }
                _ = poll.tick() => {
                    if tx.is_closed() {
                        return;
                    }
                    let Ok(now) = tasks(&engine, &project).await else { continue };
                    // A new task, once it has a container (a crash loop's may have failed
                    // already: its output is read to the end).
                    for task in now.iter().filter(|t| has_container(&t.state)) {
                        if selected(&project, &services, task) && seen.insert(task.id.clone()) {
                            merged.push(labelled(&engine, task, &request));
                        }
                    }
                }
            }
        }
    });
    Ok(stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item, rx))
    })
    .boxed())
}
