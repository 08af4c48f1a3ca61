//! The in-swarm registry: when `swarm up` is given no `--registry`, images go to a registry that
//! runs in the swarm itself, as a service pinned to the manager, so no registry outside is
//! needed. Where the nodes have IPVS (real clusters), it is published through the ingress
//! routing mesh and every node pulls from `127.0.0.1:5000`, which Docker trusts without TLS;
//! with `--dnsrr` (no IPVS) it is published in host mode on the manager and every node pulls
//! from `MANAGER:5000`, which the nodes must list in `insecure-registries`.

use std::{collections::HashMap, time::Duration};

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, TaskSpec,
    TaskSpecContainerSpec, TaskSpecPlacement,
};

use super::{
    spec::{self, Layout, SPEC_HASH},
    wait_running, SwarmError,
};
use crate::{
    engine::{Engine, EngineError},
    progress::Progress,
    project::reference::Reference,
};

/// The registry's service name (one per swarm, shared by every project).
pub const SERVICE: &str = "orchestrator-registry";
/// The image it runs; `scripts/stand-ins registry` makes one where none can be pulled.
pub const IMAGE: &str = "registry:2";
/// The port it listens and is published on.
pub const PORT: i64 = 5000;

/// The manager a deploy talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    pub node_id: String,
    /// Its address in the swarm.
    pub address: String,
}

/// Where images go. The same registry under two names: the building engine pushes to `push`
/// (a [`super::tunnel::Tunnel`]'s loopback address, or the registry itself), and every node
/// pulls from `pull`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub push: String,
    pub pull: String,
}

/// Where every node pulls from.
pub fn address(manager: &Manager, layout: Layout) -> String {
    match layout {
        Layout::AsWritten => format!("127.0.0.1:{PORT}"),
        Layout::DnsrrHost => format!("{}:{PORT}", manager.address),
    }
}

/// The repository and tag `image` is pushed as to `registry`: its path without the registry it
/// came from, if it names one (`registry.example/library/nginx:1.27` -> `REGISTRY/library/nginx`,
/// `1.27`), and its tag or `latest`.
pub fn target(registry: &str, image: &str) -> (String, String) {
    let reference = Reference::parse(image);
    let tag = reference.tag.clone().unwrap_or_else(|| "latest".into());
    (format!("{registry}/{}", reference.path()), tag)
}

/// The registry's service: one replica on the manager (its blobs live in a volume there).
pub fn service_spec(manager: &Manager, layout: Layout) -> ServiceSpec {
    let mode = match layout {
        Layout::AsWritten => EndpointPortConfigPublishModeEnum::INGRESS,
        Layout::DnsrrHost => EndpointPortConfigPublishModeEnum::HOST,
    };
    let mut spec = ServiceSpec {
        name: Some(SERVICE.to_owned()),
        labels: Some(HashMap::new()),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(IMAGE.to_owned()),
                ..Default::default()
            }),
            placement: Some(TaskSpecPlacement {
                constraints: Some(vec![format!("node.id == {}", manager.node_id)]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas: Some(1) }),
            ..Default::default()
        }),
        endpoint_spec: Some(EndpointSpec {
            mode: None,
            ports: Some(vec![EndpointPortConfig {
                protocol: Some(EndpointPortConfigProtocolEnum::TCP),
                target_port: Some(PORT),
                published_port: Some(PORT),
                publish_mode: Some(mode),
                ..Default::default()
            }]),
        }),
        ..Default::default()
    };
    let hash = spec::spec_hash(&spec);
    if let Some(labels) = spec.labels.as_mut() {
        labels.insert(SPEC_HASH.into(), hash);
    }
    spec
}

/// Makes sure the registry runs (creating its service if there is none); returns the address
/// every node pulls from.
pub async fn ensure(
    engine: &Engine,
    manager: &Manager,
    layout: Layout,
    timeout: Duration,
    progress: &Progress,
) -> Result<String, SwarmError> {
    let spec = service_spec(manager, layout);
    let hash = spec
        .labels
        .as_ref()
        .and_then(|l| l.get(SPEC_HASH))
        .cloned()
        .unwrap_or_default();
    let existing = match engine.docker.inspect_service(SERVICE, None).await {
        Ok(service) => Some(service),
        Err(e) if crate::engine::is_not_found(&e) => None,
        Err(e) => return Err(EngineError::api(format!("could not inspect {SERVICE}"))(e).into()),
    };
    let expected = match existing {
        // Someone's own registry service, or ours from another layout: used as it is.
        Some(service) => service
            .spec
            .and_then(|s| s.labels)
            .and_then(|mut l| l.remove(SPEC_HASH))
            .unwrap_or(hash),
        None => {
            engine
                .docker
                .create_service(spec, None)
                .await
                .map_err(EngineError::api(format!(
                    "could not create service {SERVICE}"
                )))?;
            progress.event("Service", SERVICE, "Created");
            hash
        }
    };
    let task = progress.spinner(format!("Waiting for {SERVICE} (running)"));
    let running = wait_running(engine, SERVICE, &expected, timeout).await;
    drop(task);
    running.map_err(|e| SwarmError::NoRegistry {
        why: super::super::root_cause(&e),
    })?;
    Ok(address(manager, layout))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager() -> Manager {
        Manager {
            node_id: "n1".into(),
            address: "10.0.0.11".into(),
        }
    }

    #[test]
    fn images_are_pushed_under_their_path_without_the_registry_they_came_from() {
        let r = "10.0.0.11:5000";
        for (image, repo, tag) in [
            (
                "postgres:15-bookworm",
                "10.0.0.11:5000/postgres",
                "15-bookworm",
            ),
            ("board-app", "10.0.0.11:5000/board-app", "latest"),
            ("team/app:2", "10.0.0.11:5000/team/app", "2"),
            (
                "localhost:5000/team/app",
                "10.0.0.11:5000/team/app",
                "latest",
            ),
            (
                "registry.example/library/nginx:1.27",
                "10.0.0.11:5000/library/nginx",
                "1.27",
            ),
        ] {
            assert_eq!(
                target(r, image),
                (repo.to_owned(), tag.to_owned()),
                "{image}"
            );
        }
    }

    #[test]
    fn with_ipvs_every_node_pulls_from_its_own_loopback_through_the_routing_mesh() {
        let spec = service_spec(&manager(), Layout::AsWritten);
        let port = &spec.endpoint_spec.unwrap().ports.unwrap()[0];
        assert_eq!(
            port.publish_mode,
            Some(EndpointPortConfigPublishModeEnum::INGRESS)
        );
        assert_eq!(address(&manager(), Layout::AsWritten), "127.0.0.1:5000");
    }

    #[test]
    fn without_ipvs_it_is_published_on_the_manager_that_it_is_pinned_to() {
        let spec = service_spec(&manager(), Layout::DnsrrHost);
        let task = spec.task_template.as_ref().unwrap();
        assert_eq!(
            task.placement.as_ref().unwrap().constraints.as_deref(),
            Some(&["node.id == n1".to_owned()][..])
        );
        let port = &spec.endpoint_spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
        assert_eq!(
            (port.publish_mode, port.published_port),
            (Some(EndpointPortConfigPublishModeEnum::HOST), Some(5000))
        );
        assert_eq!(address(&manager(), Layout::DnsrrHost), "10.0.0.11:5000");
        assert_eq!(spec.labels.unwrap()[SPEC_HASH].len(), 32);
    }
}
