//! One module per verb; each is thin over `project` and `engine`.

pub mod build;
pub mod config;
pub mod convert;
pub mod down;
pub mod exec;
pub mod images;
pub mod lifecycle;
pub mod logs;
pub mod ls;
pub mod port;
pub mod ps;
pub mod pull;
pub mod rm;
pub mod run;
pub mod top;
pub mod up;

use std::io::{BufRead, IsTerminal, Write};

use crate::{
    engine::{state, state::Container, Engine, EngineError},
    progress::Progress,
    project::{Loaded, Project},
};

/// What every deploying command works with: the loaded project, the engine and progress.
pub struct Context {
    pub loaded: Loaded,
    pub engine: Engine,
    pub progress: Progress,
}

impl Context {
    /// The project.
    pub fn project(&self) -> &Project {
        &self.loaded.project
    }

    /// Checks that every named service exists.
    pub fn check_services(&self, services: &[String]) -> Result<(), EngineError> {
        crate::engine::converge::select(self.project(), &self.loaded.start_order, services, true)
            .map(|_| ())
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
            .ok_or_else(|| {
                let state = if all { "" } else { "running " };
                EngineError::Failed(format!(
                    "service {service} has no {state}container number {index}"
                ))
            })
    }

    /// Containers in the order they are stopped: dependents before what they depend on.
    pub fn stop_order(&self, mut containers: Vec<Container>) -> Vec<Container> {
        let order = &self.loaded.start_order;
        containers.sort_by_key(|c| {
            std::cmp::Reverse(
                order
                    .iter()
                    .position(|s| *s == c.service)
                    .unwrap_or(usize::MAX),
            )
        });
        containers
    }
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

/// `3 minutes ago`, from a Unix timestamp.
pub fn ago(created: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let secs = (now - created).max(0);
    let (n, unit) = match secs {
        s if s < 60 => (s, "second"),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Prints rows as aligned columns.
pub fn table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == cells.len() {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("   ")
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}
