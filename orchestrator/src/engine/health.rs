//! Waiting for a service: running, healthy, or exited with 0. Health is read by inspecting the
//! containers (a list call on API 1.41 does not carry it), and a failure names the service and
//! shows the last health-check output, so the user sees why without digging.

use std::time::{Duration, Instant};

use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum};

use super::{containers, state, Engine, EngineError};
use crate::project::model::Condition;

/// How often the state is read while waiting.
const POLL: Duration = Duration::from_millis(250);

enum Verdict {
    Met,
    Waiting(String),
    Failed(String),
}

fn last_health_output(inspect: &ContainerInspectResponse) -> String {
    inspect
        .state
        .as_ref()
        .and_then(|s| s.health.as_ref())
        .and_then(|h| h.log.as_ref())
        .and_then(|log| log.last())
        .map(|entry| {
            format!(
                "exit {}: {}",
                entry.exit_code.unwrap_or_default(),
                entry.output.as_deref().unwrap_or("").trim()
            )
        })
        .unwrap_or_else(|| "no health check has run yet".into())
}

fn judge(name: &str, inspect: &ContainerInspectResponse, condition: Condition) -> Verdict {
    let Some(state) = inspect.state.as_ref() else {
        return Verdict::Waiting("no state yet".into());
    };
    let status = state.status.unwrap_or(ContainerStateStatusEnum::EMPTY);
    let exit = state.exit_code.unwrap_or_default();
    match condition {
        Condition::ServiceStarted => match status {
            ContainerStateStatusEnum::RUNNING | ContainerStateStatusEnum::EXITED => Verdict::Met,
            ContainerStateStatusEnum::DEAD => Verdict::Failed(format!("{name} is dead")),
            other => Verdict::Waiting(format!("{name} is {other}")),
        },
        Condition::ServiceCompletedSuccessfully => match status {
            ContainerStateStatusEnum::EXITED if exit == 0 => Verdict::Met,
            ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD => {
                Verdict::Failed(format!("{name} exited with code {exit}"))
            }
            other => Verdict::Waiting(format!("{name} is {other}")),
        },
        Condition::ServiceHealthy => {
            let health = state.health.as_ref().and_then(|h| h.status);
            let restarts = inspect.restart_count.unwrap_or_default();
            match (status, health) {
                (_, Some(HealthStatusEnum::HEALTHY)) => Verdict::Met,
                // Crash-looping under a restart policy: what it exited with says more than a
                // health check that never ran.
                (ContainerStateStatusEnum::RESTARTING, _) => Verdict::Failed(format!(
                    "{name} is crash-looping: it exited with code {exit} and is restarting"
                )),
                (_, _) if restarts > 0 && exit != 0 => Verdict::Failed(format!(
                    "{name} is crash-looping: it exited with code {exit} and was restarted {restarts} time{}",
                    if restarts == 1 { "" } else { "s" }
                )),
                (_, Some(HealthStatusEnum::UNHEALTHY)) => Verdict::Failed(format!(
                    "{name} is unhealthy; last health check: {}",
                    last_health_output(inspect)
                )),
                (ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD, _) => {
                    Verdict::Failed(format!("{name} exited with code {exit} before it was healthy"))
                }
                (_, None | Some(HealthStatusEnum::NONE) | Some(HealthStatusEnum::EMPTY))
                    if inspect.config.as_ref().and_then(|c| c.healthcheck.as_ref()).is_none() =>
                {
                    Verdict::Failed(format!(
                        "{name} has no health check, so it can never be healthy (add a healthcheck, or depend on it with condition: service_started)"
                    ))
                }
                _ => Verdict::Waiting(format!(
                    "{name} is starting; last health check: {}",
                    last_health_output(inspect)
                )),
            }
        }
    }
}

/// How many of its last log lines a failing container shows.
const LOG_LINES: usize = 10;

/// A verdict followed by the container's last log lines, where it wrote any: a crash is
/// usually explained there.
async fn with_last_lines(engine: &Engine, name: &str, why: String) -> String {
    let lines = containers::last_lines(engine, name, LOG_LINES).await;
    if lines.is_empty() {
        return why;
    }
    let shown: Vec<String> = lines.iter().map(|l| format!("  | {l}")).collect();
    format!("{why}\n  its last log lines:\n{}", shown.join("\n"))
}

/// Waits until every container of `service` meets `condition`, or `timeout` passes.
pub async fn wait_for(
    engine: &Engine,
    project: &str,
    service: &str,
    condition: Condition,
    timeout: Duration,
) -> Result<(), EngineError> {
    let deadline = Instant::now() + timeout;
    let what = match condition {
        Condition::ServiceStarted => "start",
        Condition::ServiceHealthy => "become healthy",
        Condition::ServiceCompletedSuccessfully => "complete successfully",
    };
    loop {
        let containers = state::containers(engine, project).await?;
        let ids: Vec<(String, String)> = containers
            .into_iter()
            .filter(|c| c.service == service && !c.oneoff)
            .map(|c| (c.id, c.name))
            .collect();
        let mut waiting = None;
        if ids.is_empty() {
            waiting = Some(format!("service {service} has no container"));
        }
        for (id, name) in &ids {
            let inspect = engine
                .docker
                .inspect_container(id, None)
                .await
                .map_err(EngineError::api(format!("could not inspect {name}")))?;
            match judge(name, &inspect, condition) {
                Verdict::Met => {}
                Verdict::Failed(why) => {
                    return Err(EngineError::NotReady {
                        service: service.to_owned(),
                        what: what.to_owned(),
                        why: with_last_lines(engine, name, why).await,
                    })
                }
                Verdict::Waiting(why) => waiting = Some(why),
            }
        }
        let Some(why) = waiting else {
            return Ok(());
        };
        if Instant::now() >= deadline {
            return Err(EngineError::NotReady {
                service: service.to_owned(),
                what: format!("{what} within {}s", timeout.as_secs()),
                why,
            });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How long a container seen to have restarted is watched for its exit code.
const CRASH_WATCH: Duration = Duration::from_secs(5);

/// How a container of a start-first update came up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Up {
    /// Its health check passed (and kept passing for `monitor`, if one was written).
    Healthy,
    /// It has no health check and ran for `monitor` without a restart.
    Running,
}

/// Waits until the container `name` is up, as [`Up`] says, or fails: it exited, it is
/// crash-looping, it became unhealthy, or `timeout` passed first. The error is a sentence for
/// the user: the exit code and the container's last log lines, or its last health-check output.
pub async fn await_container(
    engine: &Engine,
    name: &str,
    monitor: Option<Duration>,
    timeout: Duration,
) -> Result<Up, String> {
    let deadline = Instant::now() + timeout;
    // When the container first met its condition, and how it ran then.
    let mut since: Option<(Instant, String, i64)> = None;
    // When it was first seen to have restarted: it is watched a little longer, to catch it
    // exited or restarting and read its exit code (a running container's is 0).
    let mut crashed: Option<Instant> = None;
    loop {
        let inspect = match engine.docker.inspect_container(name, None).await {
            Ok(inspect) => inspect,
            Err(e) => return Err(format!("{name} could not be inspected: {e}")),
        };
        let has_healthcheck = inspect
            .config
            .as_ref()
            .and_then(|c| c.healthcheck.as_ref())
            .and_then(|h| h.test.as_ref())
            .is_some_and(|test| test.first().is_some_and(|t| t != "NONE"));
        let state = inspect.state.clone().unwrap_or_default();
        let started_at = state.started_at.clone().unwrap_or_default();
        let restarts = inspect.restart_count.unwrap_or_default();
        let verdict = if has_healthcheck {
            judge(name, &inspect, Condition::ServiceHealthy)
        } else {
            match state.status {
                Some(ContainerStateStatusEnum::RUNNING) => Verdict::Met,
                Some(ContainerStateStatusEnum::RESTARTING) => Verdict::Failed(format!(
                    "{name} is crash-looping: it exited with code {} and is restarting",
                    state.exit_code.unwrap_or_default()
                )),
                Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD) => {
                    Verdict::Failed(format!(
                        "{name} exited with code {}",
                        state.exit_code.unwrap_or_default()
                    ))
                }
                other => Verdict::Waiting(format!(
                    "{name} is {}",
                    other.unwrap_or(ContainerStateStatusEnum::EMPTY)
                )),
            }
        };
        match verdict {
            Verdict::Failed(why) => return Err(with_last_lines(engine, name, why).await),
            Verdict::Met => {
                let hold = match (has_healthcheck, monitor) {
                    (true, m) => m.unwrap_or_default(),
                    (false, m) => m.unwrap_or(crate::project::update::DEFAULT_MONITOR),
                };
                let restarted = restarts > 0
                    || since
                        .as_ref()
                        .is_some_and(|(_, at, count)| *at != started_at || *count != restarts);
                match &since {
                    _ if restarted => {
                        let first = *crashed.get_or_insert_with(Instant::now);
                        if first.elapsed() >= CRASH_WATCH {
                            let why = format!(
                                "{name} is crash-looping: it restarted {restarts} time{} within {}s of starting",
                                if restarts == 1 { "" } else { "s" },
                                hold.as_secs().max(1)
                            );
                            return Err(with_last_lines(engine, name, why).await);
                        }
                    }
                    Some((first, _, _)) if first.elapsed() >= hold => {
                        return Ok(if has_healthcheck {
                            Up::Healthy
                        } else {
                            Up::Running
                        })
                    }
                    Some(_) => {}
                    None if hold.is_zero() => {
                        return Ok(if has_healthcheck {
                            Up::Healthy
                        } else {
                            Up::Running
                        })
                    }
                    None => since = Some((Instant::now(), started_at, restarts)),
                }
            }
            Verdict::Waiting(why) => {
                if Instant::now() >= deadline {
                    return Err(format!(
                        "{name} did not become healthy within {}s: {why}",
                        timeout.as_secs()
                    ));
                }
            }
        }
        tokio::time::sleep(POLL).await;
    }
}
