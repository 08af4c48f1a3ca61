//! Container operations, each one engine call (or a short, fixed sequence of them), with the
//! engine's terse errors turned into sentences and the harmless ones (already stopped, already
//! gone) tolerated. The executor and the verbs use these; nothing else calls the engine's
//! container API.

use std::{io::Write, time::Duration};

use bollard::{
    container::LogOutput,
    exec::{CreateExecOptions, StartExecResults},
    models::{ContainerStateStatusEnum, NetworkConnectRequest},
    query_parameters::{
        CreateContainerOptions, KillContainerOptions, LogsOptions, RemoveContainerOptions,
        RenameContainerOptions, RestartContainerOptions, StopContainerOptions, TopOptions,
    },
};
use futures_util::{Stream, StreamExt};

use super::{
    create::{self, ContainerPlan},
    is_not_found, is_not_modified, Engine, EngineError,
};

fn seconds(timeout: Duration) -> Option<i32> {
    Some(timeout.as_secs().min(i32::MAX as u64) as i32)
}

/// Creates a container (not started) and connects it to the networks after its first (API
/// 1.41 takes one network per create). Returns its ID.
pub async fn create(engine: &Engine, plan: &ContainerPlan<'_>) -> Result<String, EngineError> {
    let body = create::container_body(plan);
    let created = engine
        .docker
        .create_container(
            Some(CreateContainerOptions {
                name: Some(plan.name.clone()),
                platform: plan.service.platform.clone().unwrap_or_default(),
            }),
            body,
        )
        .await
        .map_err(EngineError::api(format!(
            "could not create container {}",
            plan.name
        )))?;
    for (network, settings) in create::endpoints(plan).into_iter().skip(1) {
        engine
            .docker
            .connect_network(
                &network,
                NetworkConnectRequest {
                    container: created.id.clone(),
                    endpoint_config: Some(settings),
                },
            )
            .await
            .map_err(EngineError::api(format!(
                "could not connect {} to {network}",
                plan.name
            )))?;
    }
    Ok(created.id)
}

/// Starts a container; one already running is fine.
pub async fn start(engine: &Engine, name: &str) -> Result<(), EngineError> {
    match engine.docker.start_container(name, None).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_modified(&e) => Ok(()),
        Err(e) => Err(EngineError::api(format!("could not start {name}"))(e)),
    }
}

/// Stops a container within `timeout`; one already stopped or gone is fine.
pub async fn stop(engine: &Engine, name: &str, timeout: Duration) -> Result<(), EngineError> {
    let options = StopContainerOptions {
        t: seconds(timeout),
        signal: None,
    };
    match engine.docker.stop_container(name, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_modified(&e) || is_not_found(&e) => Ok(()),
        Err(e) => Err(EngineError::api(format!("could not stop {name}"))(e)),
    }
}

/// Removes a container (`force` also kills a running one); one already gone is fine. Its
/// volumes are kept, except with `docker_anonymous`: then the anonymous volumes Docker made for
/// it (a one-off's; ours are labelled and never made that way) go with it.
pub async fn remove(
    engine: &Engine,
    name: &str,
    force: bool,
    docker_anonymous: bool,
) -> Result<(), EngineError> {
    let options = RemoveContainerOptions {
        v: docker_anonymous,
        force,
        link: false,
    };
    match engine.docker.remove_container(name, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(EngineError::api(format!("could not remove {name}"))(e)),
    }
}

/// Renames a container.
pub async fn rename(engine: &Engine, from: &str, to: &str) -> Result<(), EngineError> {
    engine
        .docker
        .rename_container(
            from,
            RenameContainerOptions {
                name: to.to_owned(),
            },
        )
        .await
        .map_err(EngineError::api(format!("could not rename {from} to {to}")))
}

/// Restarts a container, giving it `timeout` to stop.
pub async fn restart(engine: &Engine, name: &str, timeout: Duration) -> Result<(), EngineError> {
    let options = RestartContainerOptions {
        t: seconds(timeout),
        signal: None,
    };
    engine
        .docker
        .restart_container(name, Some(options))
        .await
        .map_err(EngineError::api(format!("could not restart {name}")))
}

/// Sends a signal (default SIGKILL).
pub async fn kill(engine: &Engine, name: &str, signal: Option<&str>) -> Result<(), EngineError> {
    let options = KillContainerOptions {
        signal: signal.unwrap_or("SIGKILL").to_owned(),
    };
    engine
        .docker
        .kill_container(name, Some(options))
        .await
        .map_err(EngineError::api(format!("could not kill {name}")))
}

/// Waits until a container has exited; returns its exit code.
pub async fn wait_exit(engine: &Engine, name: &str) -> Result<i64, EngineError> {
    loop {
        let inspect = engine
            .docker
            .inspect_container(name, None)
            .await
            .map_err(EngineError::api(format!("could not inspect {name}")))?;
        let state = inspect.state.unwrap_or_default();
        if matches!(
            state.status,
            Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD)
        ) {
            return Ok(state.exit_code.unwrap_or(0));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Where `port` (`80/tcp`) of a container is published: `host_ip:host_port`.
pub async fn published_port(
    engine: &Engine,
    name: &str,
    port: &str,
) -> Result<String, EngineError> {
    let inspect = engine
        .docker
        .inspect_container(name, None)
        .await
        .map_err(EngineError::api(format!("could not inspect {name}")))?;
    let binding = inspect
        .network_settings
        .and_then(|n| n.ports)
        .and_then(|mut p| p.remove(port))
        .flatten()
        .and_then(|b| b.into_iter().next())
        .ok_or_else(|| EngineError::NotPublished {
            port: port.to_owned(),
            container: name.to_owned(),
        })?;
    Ok(format!(
        "{}:{}",
        binding.host_ip.unwrap_or_else(|| "0.0.0.0".into()),
        binding.host_port.unwrap_or_default()
    ))
}

/// The processes of a container: column titles and rows, as `ps` shows them.
pub async fn top(
    engine: &Engine,
    name: &str,
) -> Result<(Vec<String>, Vec<Vec<String>>), EngineError> {
    let top = engine
        .docker
        .top_processes(name, None::<TopOptions>)
        .await
        .map_err(EngineError::api(format!(
            "could not list the processes of {name}"
        )))?;
    Ok((
        top.titles.unwrap_or_default(),
        top.processes.unwrap_or_default(),
    ))
}

/// What `exec` runs.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    pub command: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
}

/// Runs a command in a running container, its output passed through to ours; returns its exit
/// code.
pub async fn exec(engine: &Engine, name: &str, request: &ExecRequest) -> Result<i64, EngineError> {
    let broke = |what: &str| EngineError::api(format!("{what} in {name}"));
    let exec = engine
        .docker
        .create_exec(
            name,
            CreateExecOptions {
                cmd: Some(request.command.clone()),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                env: Some(request.env.clone()),
                user: request.user.clone(),
                working_dir: request.workdir.clone(),
                ..Default::default()
            },
        )
        .await
        .map_err(broke("could not exec"))?;
    if let StartExecResults::Attached { mut output, .. } = engine
        .docker
        .start_exec(&exec.id, None)
        .await
        .map_err(broke("could not exec"))?
    {
        while let Some(item) = output.next().await {
            let written = match item.map_err(broke("the exec stream broke"))? {
                LogOutput::StdErr { message } => std::io::stderr().write_all(&message),
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    std::io::stdout().write_all(&message)
                }
                _ => Ok(()),
            };
            if written.is_err() {
                break; // our reader went away; the exit code still counts
            }
        }
    }
    let _ = std::io::stdout().flush();
    let inspect = engine
        .docker
        .inspect_exec(&exec.id)
        .await
        .map_err(broke("could not read the exit code of the exec"))?;
    Ok(inspect.exit_code.unwrap_or(0))
}

/// What `logs` asks for.
#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    pub follow: bool,
    /// `all` or a number of lines.
    pub tail: Option<String>,
    pub timestamps: bool,
    /// Unix time; 0 for all.
    pub since: i32,
}

impl LogRequest {
    /// The engine's query: stdout and stderr, as asked (the same for a container and a task).
    pub fn options(&self) -> LogsOptions {
        LogsOptions {
            follow: self.follow,
            stdout: true,
            stderr: true,
            timestamps: self.timestamps,
            tail: self.tail.clone().unwrap_or_else(|| "all".into()),
            since: self.since,
            ..Default::default()
        }
    }
}

/// A container's output as a stream of chunks (stdout and stderr together). The stream ends
/// when the container goes away or, unless following, when the output so far is read.
pub fn logs(
    engine: &Engine,
    name: &str,
    request: &LogRequest,
) -> impl Stream<Item = bytes::Bytes> + Send + 'static {
    output_chunks(engine.docker.logs(name, Some(request.options())))
}

/// The bytes of a log stream's stdout, stderr and console frames, up to its first error; for
/// a container's logs and a Swarm task's alike.
pub fn output_chunks(
    frames: impl Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send + 'static,
) -> impl Stream<Item = bytes::Bytes> + Send + 'static {
    frames
        .take_while(|item| futures_util::future::ready(item.is_ok()))
        .filter_map(|item| {
            futures_util::future::ready(match item {
                Ok(
                    LogOutput::StdOut { message }
                    | LogOutput::StdErr { message }
                    | LogOutput::Console { message },
                ) => Some(message),
                _ => None,
            })
        })
}

/// The lines of log chunks that say something, for an error message.
pub fn said_lines(chunks: &[bytes::Bytes]) -> Vec<String> {
    let text: String = chunks
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The last `lines` lines a container wrote (stdout and stderr), for an error message; none
/// when they cannot be read.
pub async fn last_lines(engine: &Engine, name: &str, lines: usize) -> Vec<String> {
    let request = LogRequest {
        tail: Some(lines.to_string()),
        ..LogRequest::default()
    };
    let chunks: Vec<bytes::Bytes> = logs(engine, name, &request).collect().await;
    said_lines(&chunks)
}
