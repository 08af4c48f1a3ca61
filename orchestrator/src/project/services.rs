//! Questions about a loaded project's services that every deploying verb asks: which services a
//! command acts on (with what they depend on), the aliases links give a service, how long a
//! service may take to stop, what `volumes_from` names, and whether a scale fits the
//! project's budgets. No engine here.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use super::model::{MountKind, Project, Service};

/// A service named on the command line that the project does not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no such service: {name}{}", if *.disabled { " (its profile is not active: add --profile)" } else { "" })]
pub struct NoSuchService {
    /// The name as given.
    pub name: String,
    /// True when the service exists but its profile is not enabled.
    pub disabled: bool,
}

/// Docker's stop grace period when a service sets none.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks that every named service exists (enabled).
pub fn check(project: &Project, named: &[String]) -> Result<(), NoSuchService> {
    match named
        .iter()
        .find(|name| !project.services.contains_key(*name))
    {
        Some(name) => Err(NoSuchService {
            name: name.clone(),
            disabled: project.disabled_services.contains_key(name),
        }),
        None => Ok(()),
    }
}

/// A scale that would need more of an `x-budgets` resource than its limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe_overdrawn(.0))]
pub struct OverBudget(pub Vec<Overdrawn>);

/// One budget a scale overdraws: its name, its limit, and what each service would hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overdrawn {
    pub budget: String,
    pub limit: u64,
    /// (service, replicas, held by each replica)
    pub uses: Vec<(String, u32, u64)>,
}

fn describe_overdrawn(all: &[Overdrawn]) -> String {
    all.iter()
        .map(|o| {
            let parts: Vec<String> = o
                .uses
                .iter()
                .map(|(service, n, each)| format!("{service}: {n} x {each}"))
                .collect();
            let total: u64 = o.uses.iter().map(|(_, n, each)| u64::from(*n) * each).sum();
            format!(
                "this scale needs {total} {} ({}), more than its limit of {} (x-budgets.{}): \
                 scale down, or give each replica less",
                o.budget,
                parts.join(", "),
                o.limit,
                o.budget
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks the project's budgets against the replicas each service will run: `scale` where given
/// (`up --scale`), else the service's own (`deploy.replicas`, `scale`, or 1).
pub fn check_budgets(project: &Project, scale: &BTreeMap<String, u32>) -> Result<(), OverBudget> {
    let replicas = |service: &str| {
        scale
            .get(service)
            .copied()
            .unwrap_or_else(|| project.services.get(service).map_or(0, |s| s.replicas()))
    };
    let overdrawn: Vec<Overdrawn> = project
        .budgets
        .iter()
        .filter(|(_, budget)| budget.used(replicas) > budget.limit)
        .map(|(name, budget)| Overdrawn {
            budget: name.clone(),
            limit: budget.limit,
            uses: budget
                .per_replica
                .iter()
                .map(|(service, each)| (service.clone(), replicas(service), *each))
                .collect(),
        })
        .collect();
    if overdrawn.is_empty() {
        Ok(())
    } else {
        Err(OverBudget(overdrawn))
    }
}

/// The services to act on, in start order: the named ones (all when none is named) and,
/// unless `no_deps`, everything they depend on.
pub fn select(
    project: &Project,
    order: &[String],
    named: &[String],
    no_deps: bool,
) -> Result<Vec<String>, NoSuchService> {
    check(project, named)?;
    if named.is_empty() {
        return Ok(order.to_vec());
    }
    let mut wanted: BTreeSet<String> = named.iter().cloned().collect();
    if !no_deps {
        let mut stack: Vec<String> = named.to_vec();
        while let Some(s) = stack.pop() {
            for dep in project.services[&s].dependencies() {
                if project.services.contains_key(dep) && wanted.insert(dep.to_owned()) {
                    stack.push(dep.to_owned());
                }
            }
        }
    }
    Ok(order
        .iter()
        .filter(|s| wanted.contains(*s))
        .cloned()
        .collect())
}

/// The aliases other services' links give `service` on the default network
/// (`links: [db:database]` makes `database` an alias of `db`).
pub fn link_aliases(project: &Project, service: &str) -> Vec<String> {
    let mut aliases: Vec<String> = project
        .services
        .values()
        .flat_map(|s| s.links.iter())
        .filter(|l| l.service == service && l.alias != service)
        .map(|l| l.alias.clone())
        .collect();
    aliases.sort();
    aliases.dedup();
    aliases
}

/// How long a service's containers get between SIGTERM and SIGKILL: `stop_grace_period`, or
/// Docker's 10 s for a service the project does not know (an orphan).
pub fn stop_timeout(service: Option<&Service>) -> Duration {
    service
        .and_then(|s| s.stop_grace_period)
        .unwrap_or(DEFAULT_STOP_TIMEOUT)
}

/// The keys of the networks the services attach to.
pub fn networks_used<'p>(project: &'p Project, names: &[String]) -> BTreeSet<&'p String> {
    names
        .iter()
        .filter_map(|s| project.services.get(s))
        .flat_map(|s| s.networks.keys())
        .collect()
}

/// The keys of the named volumes the services mount.
pub fn volumes_used<'p>(project: &'p Project, names: &[String]) -> BTreeSet<&'p String> {
    names
        .iter()
        .filter_map(|s| project.services.get(s))
        .flat_map(|s| s.volumes.iter())
        .filter(|m| m.kind == MountKind::Volume)
        .filter_map(|m| m.source.as_ref())
        .collect()
}

/// One entry of `volumes_from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumesFrom {
    /// `service[:mode]`: the service's first container.
    Service { name: String, mode: Option<String> },
    /// `container:name[:mode]`: a container outside the project.
    Container { name: String, mode: Option<String> },
}

impl VolumesFrom {
    /// Reads `service`, `service:ro`, `container:name` or `container:name:rw`.
    pub fn parse(text: &str) -> Self {
        let mut parts = text.splitn(3, ':');
        let first = parts.next().unwrap_or_default().to_owned();
        if first == "container" {
            let name = parts.next().unwrap_or_default().to_owned();
            let mode = parts.next().map(str::to_owned);
            return Self::Container { name, mode };
        }
        let mode = parts.next().map(str::to_owned);
        Self::Service { name: first, mode }
    }
}

/// The `volumes_from` entries of a service, read.
pub fn volumes_from(service: &Service) -> Vec<VolumesFrom> {
    service
        .volumes_from
        .iter()
        .map(|v| VolumesFrom::parse(v))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::project::{self, env::Environment, LoadOptions};

    fn load(yaml: &str, env: &[(&str, &str)]) -> Result<project::Loaded, project::LoadError> {
        let options = LoadOptions {
            cwd: PathBuf::from("/p"),
            project_name: Some("p".into()),
            ..LoadOptions::default()
        };
        let shell = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        project::load_documents(
            vec![(PathBuf::from("/p/compose.yaml"), yaml.to_owned())],
            &PathBuf::from("/p"),
            Environment::new(shell, Default::default()),
            Vec::new(),
            &options,
        )
    }

    const BUDGETED: &str = "
x-budgets:
  db-connections:
    limit: ${LIMIT:-80}
    per-replica: {app: '${POOL:-10}', worker: 2}
services:
  app: {image: app}
  worker: {image: worker, deploy: {replicas: 3}}
";

    #[test]
    fn a_scale_within_every_budget_passes() {
        let loaded = load(BUDGETED, &[]).unwrap();
        // 7 x 10 + 3 x 2 = 76 of 80.
        let scale = BTreeMap::from([("app".to_owned(), 7)]);
        assert_eq!(check_budgets(&loaded.project, &scale), Ok(()));
        assert_eq!(check_budgets(&loaded.project, &BTreeMap::new()), Ok(()));
    }

    #[test]
    fn a_scale_that_overdraws_a_budget_is_refused_with_the_sums() {
        let loaded = load(BUDGETED, &[]).unwrap();
        let scale = BTreeMap::from([("app".to_owned(), 12)]);
        let err = check_budgets(&loaded.project, &scale).unwrap_err();
        assert_eq!(
            err.to_string(),
            "this scale needs 126 db-connections (app: 12 x 10, worker: 3 x 2), more than its \
             limit of 80 (x-budgets.db-connections): scale down, or give each replica less"
        );
        // The same scale fits once each replica holds less (the variables are interpolated).
        let smaller = load(BUDGETED, &[("POOL", "6")]).unwrap();
        assert_eq!(check_budgets(&smaller.project, &scale), Ok(()));
    }

    #[test]
    fn a_budget_must_name_defined_services_and_a_limit() {
        let Err(project::LoadError::Invalid { diagnostics }) = load(
            "x-budgets: {b: {per-replica: {app: 1}}, c: {limit: 1, per-replica: {ghost: 1}}}\n\
             services: {app: {image: app}}\n",
            &[],
        ) else {
            panic!("the project loads, with a budget lacking its limit");
        };
        let err: Vec<String> = diagnostics.iter().map(|d| d.to_string()).collect();
        let err = err.join("\n");
        assert!(err.contains("a budget needs a limit"), "{err}");
        assert!(
            err.contains("counts replicas of undefined service \"ghost\""),
            "{err}"
        );
    }

    #[test]
    fn volumes_from_reads_services_and_containers() {
        assert_eq!(
            VolumesFrom::parse("db:ro"),
            VolumesFrom::Service {
                name: "db".into(),
                mode: Some("ro".into())
            }
        );
        assert_eq!(
            VolumesFrom::parse("container:data:rw"),
            VolumesFrom::Container {
                name: "data".into(),
                mode: Some("rw".into())
            }
        );
        assert_eq!(
            VolumesFrom::parse("data"),
            VolumesFrom::Service {
                name: "data".into(),
                mode: None
            }
        );
    }
}
