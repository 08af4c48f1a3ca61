//! What the engine holds for a project, read in a few label-filtered list calls (never one
//! inspect per container), so that a no-change `up` costs almost nothing.

use std::collections::{BTreeSet, HashMap};

use bollard::{
    models::{ContainerSummary, ContainerSummaryStateEnum},
    query_parameters::{ListContainersOptions, ListNetworksOptions, ListVolumesOptions},
};

use super::{labels, resources, Engine, EngineError};
use crate::project::{model::Project, services};

/// One of the project's containers, as the list call describes it.
#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub service: String,
    pub number: u32,
    pub oneoff: bool,
    pub config_hash: String,
    pub image: String,
    pub state: String,
    /// Docker's status line: `Up 3 minutes (healthy)`, `Exited (0) 2 seconds ago`.
    pub status: String,
    pub created: i64,
    pub command: String,
    pub ports: Vec<String>,
    pub labels: HashMap<String, String>,
}

impl Container {
    /// Running (or restarting) as opposed to created, exited or dead.
    pub fn is_running(&self) -> bool {
        matches!(self.state.as_str(), "running" | "restarting")
    }

    fn from_summary(c: ContainerSummary) -> Option<Self> {
        let labels = c.labels.unwrap_or_default();
        let name = c
            .names
            .unwrap_or_default()
            .first()
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default();
        let mut ports: Vec<String> = c
            .ports
            .unwrap_or_default()
            .iter()
            .map(|p| {
                let proto = p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
                match (p.ip.as_deref(), p.public_port) {
                    (Some(ip), Some(public)) => {
                        format!("{ip}:{public}->{}/{proto}", p.private_port)
                    }
                    _ => format!("{}/{proto}", p.private_port),
                }
            })
            .collect();
        ports.sort();
        ports.dedup();
        Some(Self {
            id: c.id?,
            service: labels.get(labels::SERVICE)?.clone(),
            number: labels
                .get(labels::NUMBER)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            oneoff: labels.get(labels::ONEOFF).is_some_and(|v| v == "True"),
            config_hash: labels.get(labels::CONFIG_HASH).cloned().unwrap_or_default(),
            image: c.image.unwrap_or_default(),
            state: c
                .state
                .map(|s| match s {
                    ContainerSummaryStateEnum::EMPTY => String::new(),
                    other => other.to_string(),
                })
                .unwrap_or_default(),
            status: c.status.unwrap_or_default(),
            created: c.created.unwrap_or_default(),
            command: c.command.unwrap_or_default(),
            ports,
            name,
            labels,
        })
    }
}

/// A project's containers, networks and volumes.
#[derive(Debug, Default)]
pub struct ProjectState {
    /// Sorted by service, then number.
    pub containers: Vec<Container>,
    /// Network name -> labels.
    pub networks: HashMap<String, HashMap<String, String>>,
    /// Volume name -> labels.
    pub volumes: HashMap<String, HashMap<String, String>>,
    /// Named volumes of the project that exist without its labels (made by hand, or by
    /// another tool): used as they are, with a warning.
    pub foreign_volumes: BTreeSet<String>,
}

impl ProjectState {
    /// The service's containers (not one-off), by number.
    pub fn service(&self, service: &str) -> Vec<&Container> {
        self.containers
            .iter()
            .filter(|c| c.service == service && !c.oneoff)
            .collect()
    }
}

/// Lists every container of the project, running or not.
pub async fn containers(engine: &Engine, project: &str) -> Result<Vec<Container>, EngineError> {
    let list = engine
        .docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(labels::filter(&[(labels::PROJECT, project)])),
            ..Default::default()
        }))
        .await
        .map_err(EngineError::api("could not list containers"))?;
    let mut containers: Vec<Container> = list
        .into_iter()
        .filter_map(Container::from_summary)
        .collect();
    containers
        .sort_by(|a, b| (&a.service, a.number, &a.name).cmp(&(&b.service, b.number, &b.name)));
    Ok(containers)
}

/// Reads the project's containers, networks and volumes: three list calls.
pub async fn read(engine: &Engine, project: &str) -> Result<ProjectState, EngineError> {
    let filter = labels::filter(&[(labels::PROJECT, project)]);
    let (containers, networks, volumes) = tokio::join!(
        containers(engine, project),
        engine.docker.list_networks(Some(ListNetworksOptions {
            filters: Some(filter.clone()),
        })),
        engine.docker.list_volumes(Some(ListVolumesOptions {
            filters: Some(filter.clone()),
        })),
    );
    let networks = networks
        .map_err(EngineError::api("could not list networks"))?
        .into_iter()
        .filter_map(|n| Some((n.name?, n.labels.unwrap_or_default())))
        .collect();
    let volumes = volumes
        .map_err(EngineError::api("could not list volumes"))?
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| (v.name, v.labels))
        .collect();
    Ok(ProjectState {
        containers: containers?,
        networks,
        volumes,
        foreign_volumes: BTreeSet::new(),
    })
}

/// What `up` needs to know of the engine before it decides: the project's objects, that the
/// external networks and volumes the selected services use exist, and which named volumes
/// exist without the project's labels.
pub async fn observe(
    engine: &Engine,
    project: &Project,
    names: &[String],
) -> Result<ProjectState, EngineError> {
    let mut state = read(engine, &project.name).await?;
    for net in services::networks_used(project, names)
        .iter()
        .filter_map(|k| project.networks.get(*k))
    {
        if net.external && !resources::network_exists(engine, &net.name).await? {
            return Err(EngineError::MissingExternal {
                kind: "network",
                name: net.name.clone(),
            });
        }
    }
    for vol in services::volumes_used(project, names)
        .iter()
        .filter_map(|k| project.volumes.get(*k))
    {
        if state.volumes.contains_key(&vol.name) {
            continue;
        }
        let exists = resources::volume_exists(engine, &vol.name).await?;
        if vol.external && !exists {
            return Err(EngineError::MissingExternal {
                kind: "volume",
                name: vol.name.clone(),
            });
        }
        if exists && !vol.external {
            state.foreign_volumes.insert(vol.name.clone());
        }
    }
    Ok(state)
}

/// Every container that carries Compose's project label, whatever the project.
pub async fn labelled_containers(engine: &Engine) -> Result<Vec<Container>, EngineError> {
    let filter = labels::filter_present(labels::PROJECT);
    let list = engine
        .docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filter),
            ..Default::default()
        }))
        .await
        .map_err(EngineError::api("could not list containers"))?;
    Ok(list
        .into_iter()
        .filter_map(Container::from_summary)
        .collect())
}
