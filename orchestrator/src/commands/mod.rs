//! One module per verb; each is thin: it reads its arguments, asks `project` and `engine`, and
//! prints the result. None of them speaks to the engine's API directly; shared formatting
//! lives in [`format`].

pub mod build;
pub mod config;
pub mod convert;
pub mod down;
pub mod exec;
pub mod follow;
pub mod format;
pub mod images;
pub mod lifecycle;
pub mod logs;
pub mod ls;
pub mod port;
pub mod ps;
pub mod pull;
pub mod removal;
pub mod rm;
pub mod run;
pub mod swarm;
pub mod top;
pub mod up;

use std::{
    io::{BufRead, IsTerminal, Write},
    time::Duration,
};

use crate::{
    engine::{
        executor::Executor,
        plan::{self, Direction, Op, Plan},
        state::{self, Container},
        Engine, EngineError,
    },
    progress::Progress,
    project::{services, Loaded, Project},
    Error,
};

/// What every deploying command works with: the loaded project, the engine and progress.
pub struct Context {
    pub loaded: Loaded,
    pub engine: Engine,
    pub progress: Progress,
    /// `--dry-run`: print plans instead of running them.
    pub dry_run: bool,
    /// `--no-stand-ins`.
    pub no_stand_ins: bool,
}

impl Context {
    /// The project.
    pub fn project(&self) -> &Project {
        &self.loaded.project
    }

    /// Checks that every named service exists.
    pub fn check_services(&self, names: &[String]) -> Result<(), EngineError> {
        Ok(services::check(self.project(), names)?)
    }

    /// The project's containers of `services` (all services when empty), one-offs excluded
    /// unless `oneoff` is true; running ones only unless `all`.
    pub async fn containers(
        &self,
        services: &[String],
        all: bool,
        oneoff: bool,
    ) -> Result<Vec<Container>, EngineError> {
        self.check_services(services)?;
        Ok(state::containers(&self.engine, &self.project().name)
            .await?
            .into_iter()
            .filter(|c| services.is_empty() || services.contains(&c.service))
            .filter(|c| all || c.is_running())
            .filter(|c| oneoff || !c.oneoff)
            .collect())
    }

    /// Container number `index` of `service` (running ones only unless `all`).
    pub async fn container(
        &self,
        service: &str,
        index: u32,
        all: bool,
    ) -> Result<Container, EngineError> {
        self.containers(&[service.to_owned()], all, false)
            .await?
            .into_iter()
            .find(|c| c.number == index)
            .ok_or_else(|| EngineError::NoContainer {
                service: service.to_owned(),
                index,
                running: !all,
            })
    }

    /// The executor for this project.
    pub fn executor(&self, dependency_timeout: Duration) -> Executor<'_> {
        Executor {
            engine: &self.engine,
            project: self.project(),
            progress: &self.progress,
            dependency_timeout,
        }
    }

    /// Stops containers, dependents first (a level at once), each with its service's grace
    /// period unless `timeout` overrides it.
    pub async fn stop(
        &self,
        containers: &[Container],
        timeout: Option<Duration>,
    ) -> Result<(), Error> {
        let project = self.project();
        let plan = plan::each(project, containers, Direction::DependentsFirst, |c| {
            c.is_running().then(|| Op::Stop {
                name: c.name.clone(),
                timeout: timeout
                    .unwrap_or_else(|| services::stop_timeout(project.services.get(&c.service))),
            })
        });
        self.execute(&plan).await
    }

    /// Runs a plan, or with `--dry-run` prints it and changes nothing.
    pub async fn execute(&self, plan: &Plan) -> Result<(), Error> {
        if self.dry_run {
            print_plan(plan, &[])?;
            return Ok(());
        }
        for warning in &plan.warnings {
            self.progress.warn(warning);
        }
        self.executor(Duration::from_secs(300)).run(plan).await?;
        Ok(())
    }
}

/// Prints a plan for `--dry-run`, after what would be done before it (`would`).
pub fn print_plan(plan: &Plan, would: &[String]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "dry run: nothing is changed; the plan is")?;
    for line in would {
        writeln!(out, " -. {line}")?;
    }
    write!(out, "{plan}")?;
    Ok(())
}

/// A `-t SECONDS` option as a duration.
pub fn seconds(timeout: Option<u64>) -> Option<Duration> {
    timeout.map(Duration::from_secs)
}

/// Asks a yes/no question on the terminal; `None` when there is no terminal to ask on.
pub fn confirm(question: &str) -> Option<bool> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).ok()?;
    Some(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}
