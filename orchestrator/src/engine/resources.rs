//! Networks and volumes: creating them with Compose's labels (the label map written once),
//! checking that external ones exist, listing and removing a project's. Named volumes are only
//! ever removed here, and only when a verb was asked to (`down -v`, `rm -v`).

use std::collections::HashMap;

use bollard::{
    models::{NetworkCreateRequest, Volume, VolumeCreateRequest},
    query_parameters::{ListVolumesOptions, RemoveVolumeOptions},
};

use super::{is_not_found, labels, Engine, EngineError};
use crate::project::model::{Network, Volume as VolumeSpec};

/// The labels a project object carries: its own, then the project, what it is (`kind_label`
/// = `key`) and our version.
fn object_labels(
    own: impl IntoIterator<Item = (String, String)>,
    project: &str,
    kind_label: &str,
    key: &str,
) -> HashMap<String, String> {
    let mut all: HashMap<String, String> = own.into_iter().collect();
    all.insert(labels::PROJECT.into(), project.to_owned());
    all.insert(kind_label.into(), key.to_owned());
    all.insert(labels::VERSION.into(), labels::version());
    all
}

/// True for the engine's 409: the object exists already (made meanwhile by another `up`).
fn is_conflict(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            ..
        }
    )
}

/// Creates network `key` of the project under its engine name. An existing one is fine.
pub async fn create_network(
    engine: &Engine,
    project: &str,
    key: &str,
    net: &Network,
) -> Result<(), EngineError> {
    let request = NetworkCreateRequest {
        name: net.name.clone(),
        driver: net.driver.clone(),
        internal: Some(net.internal),
        attachable: Some(net.attachable),
        options: Some(net.driver_opts.clone().into_iter().collect()),
        ipam: super::create::network_ipam(net),
        labels: Some(object_labels(
            net.labels.clone(),
            project,
            labels::NETWORK,
            key,
        )),
        ..Default::default()
    };
    match engine.docker.create_network(request).await {
        Ok(_) => Ok(()),
        Err(e) if is_conflict(&e) => Ok(()),
        Err(e) => Err(EngineError::api(format!(
            "could not create network {}",
            net.name
        ))(e)),
    }
}

/// True when a network of that name exists.
pub async fn network_exists(engine: &Engine, name: &str) -> Result<bool, EngineError> {
    match engine.docker.inspect_network(name, None).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(EngineError::api(format!(
            "could not inspect network {name}"
        ))(e)),
    }
}

/// True when a volume of that name exists.
pub async fn volume_exists(engine: &Engine, name: &str) -> Result<bool, EngineError> {
    match engine.docker.inspect_volume(name).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(EngineError::api(format!("could not inspect volume {name}"))(e)),
    }
}

/// Removes a network; one already gone is fine.
pub async fn remove_network(engine: &Engine, name: &str) -> Result<(), EngineError> {
    match engine.docker.remove_network(name).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(EngineError::api(format!("could not remove network {name}"))(e)),
    }
}

/// What a volume the plan creates is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeOwner {
    /// Named volume `key` of the project's `volumes:`.
    Named(String),
    /// The anonymous volume of container `number` of `service` at `path`.
    Anonymous {
        service: String,
        number: u32,
        path: String,
    },
}

/// Creates a volume of the project (named, with its driver and labels, or the labelled home of
/// an anonymous one). Creating a volume that exists changes nothing, so this is idempotent.
pub async fn create_volume(
    engine: &Engine,
    project: &str,
    name: &str,
    owner: &VolumeOwner,
    spec: Option<&VolumeSpec>,
) -> Result<(), EngineError> {
    let labels = match owner {
        VolumeOwner::Named(key) => object_labels(
            spec.map(|v| v.labels.clone()).unwrap_or_default(),
            project,
            labels::VOLUME,
            key,
        ),
        VolumeOwner::Anonymous {
            service,
            number,
            path,
        } => {
            let mut l = object_labels([], project, labels::ANONYMOUS_PATH, path);
            l.insert(labels::SERVICE.into(), service.clone());
            l.insert(labels::NUMBER.into(), number.to_string());
            l
        }
    };
    engine
        .docker
        .create_volume(VolumeCreateRequest {
            name: Some(name.to_owned()),
            driver: spec.and_then(|v| v.driver.clone()),
            driver_opts: spec.map(|v| v.driver_opts.clone().into_iter().collect()),
            labels: Some(labels),
            ..Default::default()
        })
        .await
        .map(|_| ())
        .map_err(EngineError::api(format!("could not create volume {name}")))
}

/// A volume as a listing describes it.
#[derive(Debug, Clone)]
pub struct VolumeInfo {
    pub name: String,
    pub labels: HashMap<String, String>,
    /// Where its data is on the engine's host.
    pub mountpoint: String,
}

impl From<Volume> for VolumeInfo {
    fn from(v: Volume) -> Self {
        Self {
            name: v.name,
            labels: v.labels,
            mountpoint: v.mountpoint,
        }
    }
}

async fn list_volumes(
    engine: &Engine,
    filter: HashMap<String, Vec<String>>,
) -> Result<Vec<VolumeInfo>, EngineError> {
    Ok(engine
        .docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filter),
        }))
        .await
        .map_err(EngineError::api("could not list volumes"))?
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(VolumeInfo::from)
        .collect())
}

/// The project's volumes (named and anonymous), by their labels.
pub async fn project_volumes(
    engine: &Engine,
    project: &str,
) -> Result<Vec<VolumeInfo>, EngineError> {
    list_volumes(engine, labels::filter(&[(labels::PROJECT, project)])).await
}

/// The volumes a Swarm stack's tasks made on this engine (`com.docker.stack.namespace`).
pub async fn stack_volumes(
    engine: &Engine,
    stack_label: &str,
    project: &str,
) -> Result<Vec<VolumeInfo>, EngineError> {
    list_volumes(engine, labels::filter(&[(stack_label, project)])).await
}

/// Every volume that carries Compose's project label, whatever the project.
pub async fn labelled_volumes(engine: &Engine) -> Result<Vec<VolumeInfo>, EngineError> {
    list_volumes(engine, labels::filter_present(labels::PROJECT)).await
}

/// Removes a volume; one already gone is fine.
pub async fn remove_volume(engine: &Engine, name: &str) -> Result<(), EngineError> {
    match engine
        .docker
        .remove_volume(name, None::<RemoveVolumeOptions>)
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(EngineError::api(format!("could not remove volume {name}"))(
            e,
        )),
    }
}

/// The bytes under a volume's mount point, when this process can read it (a local engine, as
/// root). API 1.41's disk-usage report is not in the shape bollard reads, so we measure.
pub async fn volume_size(mountpoint: &str) -> Option<i64> {
    let root = std::path::PathBuf::from(mountpoint);
    tokio::task::spawn_blocking(move || {
        fn walk(dir: &std::path::Path) -> std::io::Result<i64> {
            let mut total = 0;
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let meta = entry.metadata()?;
                total += if meta.is_dir() {
                    walk(&entry.path())?
                } else {
                    meta.len() as i64
                };
            }
            Ok(total)
        }
        walk(&root).ok()
    })
    .await
    .ok()
    .flatten()
}
