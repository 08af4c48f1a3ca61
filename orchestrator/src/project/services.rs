//! Questions about a loaded project's services that every deploying verb asks: which services a
//! command acts on (with what they depend on), the aliases links give a service, how long a
//! service may take to stop, and what `volumes_from` names. No engine here.

use std::{collections::BTreeSet, time::Duration};

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
    use super::*;

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
