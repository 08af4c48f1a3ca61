//! Secrets and configs on the swarm. Each one the deployed services use, from a file, inline
//! `content` or a variable (`environment`), becomes a Swarm secret or config named
//! `PROJECT_KEY_HASH`, the hash of its content, labelled with the stack: Swarm's objects cannot
//! change, so new content is a new object, and the service update that names it rolls it out
//! (`docker stack deploy` refuses the deploy instead). External ones are found by name. Tasks
//! see a secret at `/run/secrets/TARGET` (default: its key) and a config at its target (default
//! `/KEY`), owned by root, mode 0444 unless the service says otherwise.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use bollard::{
    models::{
        ConfigSpec, SecretSpec, TaskSpecContainerSpecConfigs, TaskSpecContainerSpecFile,
        TaskSpecContainerSpecFile1, TaskSpecContainerSpecSecrets,
    },
    query_parameters::{ListConfigsOptions, ListSecretsOptions},
};
use sha2::{Digest, Sha256};

use super::{spec::STACK_NAMESPACE, SwarmError};
use crate::{
    engine::{labels, Engine, EngineError},
    progress::Progress,
    project::model::{FileObject, ObjectRef, Project, Service},
};

/// A secret or a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Secret,
    Config,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Secret => "secret",
            Kind::Config => "config",
        }
    }
}

/// One object the deploy needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub kind: Kind,
    /// Its key under the file's `secrets:` or `configs:`.
    pub key: String,
    /// Its Swarm name.
    pub name: String,
    /// What to create; `None` for an external one, which must exist.
    pub data: Option<Vec<u8>>,
}

/// `(kind, key)` -> the Swarm name and ID the services refer to.
pub type Ids = BTreeMap<(Kind, String), (String, String)>;

/// The objects `services` use, with their content read; an object that cannot be read is an
/// error naming it.
pub fn wanted(project: &Project, services: &[String]) -> Result<Vec<Wanted>, SwarmError> {
    let mut out: BTreeMap<(Kind, String), Wanted> = BTreeMap::new();
    for service in services.iter().map(|s| &project.services[s]) {
        for (kind, refs, defined) in [
            (Kind::Secret, &service.secrets, &project.secrets),
            (Kind::Config, &service.configs, &project.configs),
        ] {
            for r in refs {
                let Some(object) = defined.get(&r.source) else {
                    continue;
                };
                if out.contains_key(&(kind, r.source.clone())) {
                    continue;
                }
                let wanted = one(project, kind, &r.source, object)?;
                out.insert((kind, r.source.clone()), wanted);
            }
        }
    }
    Ok(out.into_values().collect())
}

fn one(
    project: &Project,
    kind: Kind,
    key: &str,
    object: &FileObject,
) -> Result<Wanted, SwarmError> {
    let unreadable = |why: String| SwarmError::Object {
        kind: kind.word(),
        key: key.to_owned(),
        why,
    };
    if object.external {
        return Ok(Wanted {
            kind,
            key: key.to_owned(),
            name: object.name.clone(),
            data: None,
        });
    }
    let data = if let Some(file) = &object.file {
        std::fs::read(file).map_err(|e| unreadable(format!("{}: {e}", file.display())))?
    } else if let Some(content) = &object.content {
        content.clone().into_bytes()
    } else if let Some(variable) = &object.environment {
        std::env::var(variable)
            .map_err(|_| unreadable(format!("variable {variable} is not set")))?
            .into_bytes()
    } else {
        return Err(unreadable("names no file, content or environment".into()));
    };
    let digest = Sha256::digest(&data);
    let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    Ok(Wanted {
        kind,
        key: key.to_owned(),
        name: format!("{}_{key}_{hash}", project.name),
        data: Some(data),
    })
}

/// Makes sure every wanted object exists (creating the project's own that do not; with
/// `dry_run`, they get the ID `new`); returns their IDs.
pub async fn ensure(
    engine: &Engine,
    project: &str,
    wanted: &[Wanted],
    dry_run: bool,
    progress: &Progress,
) -> Result<Ids, SwarmError> {
    let existing = existing(engine, None).await?;
    let mut ids = Ids::new();
    for w in wanted {
        let id = match (existing.get(&(w.kind, w.name.clone())), &w.data) {
            (Some(id), _) => id.clone(),
            (None, None) => {
                return Err(SwarmError::Object {
                    kind: w.kind.word(),
                    key: w.key.clone(),
                    why: format!(
                        "it is external, and the swarm has no {} {}",
                        w.kind.word(),
                        w.name
                    ),
                })
            }
            (None, Some(_)) if dry_run => "new".to_owned(),
            (None, Some(data)) => {
                let id = create(engine, project, w, data).await?;
                progress.event(
                    if w.kind == Kind::Secret {
                        "Secret"
                    } else {
                        "Config"
                    },
                    &w.name,
                    "Created",
                );
                id
            }
        };
        ids.insert((w.kind, w.key.clone()), (w.name.clone(), id));
    }
    Ok(ids)
}

async fn create(
    engine: &Engine,
    project: &str,
    w: &Wanted,
    data: &[u8],
) -> Result<String, SwarmError> {
    let labels = Some(HashMap::from([(
        STACK_NAMESPACE.to_owned(),
        project.to_owned(),
    )]));
    let data = Some(base64::engine::general_purpose::STANDARD.encode(data));
    let name = Some(w.name.clone());
    let failed = EngineError::api(format!("could not create {} {}", w.kind.word(), w.name));
    let created = match w.kind {
        Kind::Secret => engine
            .docker
            .create_secret(SecretSpec {
                name,
                labels,
                data,
                ..Default::default()
            })
            .await
            .map_err(failed)?,
        Kind::Config => engine
            .docker
            .create_config(ConfigSpec {
                name,
                labels,
                data,
                ..Default::default()
            })
            .await
            .map_err(failed)?,
    };
    Ok(created.id)
}

/// `(kind, name)` -> ID of the swarm's secrets and configs (of `project` only, if given).
async fn existing(
    engine: &Engine,
    project: Option<&str>,
) -> Result<BTreeMap<(Kind, String), String>, SwarmError> {
    let filters = project.map(|p| labels::filter(&[(STACK_NAMESPACE, p)]));
    let secrets = engine
        .docker
        .list_secrets(Some(ListSecretsOptions {
            filters: filters.clone(),
        }))
        .await
        .map_err(EngineError::api("could not list the swarm's secrets"))?;
    let configs = engine
        .docker
        .list_configs(Some(ListConfigsOptions { filters }))
        .await
        .map_err(EngineError::api("could not list the swarm's configs"))?;
    let secrets = secrets
        .into_iter()
        .filter_map(|s| Some(((Kind::Secret, s.spec?.name?), s.id?)));
    let configs = configs
        .into_iter()
        .filter_map(|c| Some(((Kind::Config, c.spec?.name?), c.id?)));
    Ok(secrets.chain(configs).collect())
}

/// Removes the project's secrets and configs (after its services: one in use cannot go).
pub async fn remove_all(
    engine: &Engine,
    project: &str,
    progress: &Progress,
) -> Result<(), SwarmError> {
    for ((kind, name), id) in existing(engine, Some(project)).await? {
        let failed = EngineError::api(format!("could not remove {} {name}", kind.word()));
        match kind {
            Kind::Secret => engine.docker.delete_secret(&id).await.map_err(failed)?,
            Kind::Config => engine.docker.delete_config(&id).await.map_err(failed)?,
        }
        progress.event(
            if kind == Kind::Secret {
                "Secret"
            } else {
                "Config"
            },
            &name,
            "Removed",
        );
    }
    Ok(())
}

/// Where a reference puts its object in the task: path, owner, group, mode.
struct Placed {
    target: String,
    uid: String,
    gid: String,
    mode: u32,
}

/// A service's references of one kind, each made by `make` from where it goes and the
/// object's name and ID; a warning for each one with no object (pure).
fn references<T>(
    refs: &[ObjectRef],
    kind: Kind,
    ids: &Ids,
    warn: &mut impl FnMut(&str, &str),
    make: impl Fn(Placed, &str, &str) -> T,
) -> Option<Vec<T>> {
    let made: Vec<T> = refs
        .iter()
        .filter_map(|r| {
            let Some((name, id)) = ids.get(&(kind, r.source.clone())) else {
                let key = format!("{}s ({})", kind.word(), r.source);
                warn(&key, "is not defined at the top level; ignored");
                return None;
            };
            let placed = Placed {
                // Swarm puts a secret named by a bare name under /run/secrets.
                target: r.target.clone().unwrap_or_else(|| match kind {
                    Kind::Secret => r.source.clone(),
                    Kind::Config => format!("/{}", r.source),
                }),
                uid: r.uid.clone().unwrap_or_else(|| "0".into()),
                gid: r.gid.clone().unwrap_or_else(|| "0".into()),
                mode: r.mode.unwrap_or(0o444),
            };
            Some(make(placed, name, id))
        })
        .collect();
    (!made.is_empty()).then_some(made)
}

/// A service's secret references (pure).
pub fn secret_refs(
    service: &Service,
    ids: &Ids,
    warn: &mut impl FnMut(&str, &str),
) -> Option<Vec<TaskSpecContainerSpecSecrets>> {
    references(&service.secrets, Kind::Secret, ids, warn, |p, name, id| {
        TaskSpecContainerSpecSecrets {
            file: Some(TaskSpecContainerSpecFile {
                name: Some(p.target),
                uid: Some(p.uid),
                gid: Some(p.gid),
                mode: Some(p.mode),
            }),
            secret_id: Some(id.to_owned()),
            secret_name: Some(name.to_owned()),
        }
    })
}

/// A service's config references (pure).
pub fn config_refs(
    service: &Service,
    ids: &Ids,
    warn: &mut impl FnMut(&str, &str),
) -> Option<Vec<TaskSpecContainerSpecConfigs>> {
    references(&service.configs, Kind::Config, ids, warn, |p, name, id| {
        TaskSpecContainerSpecConfigs {
            file: Some(TaskSpecContainerSpecFile1 {
                name: Some(p.target),
                uid: Some(p.uid),
                gid: Some(p.gid),
                mode: Some(p.mode),
            }),
            runtime: None,
            config_id: Some(id.to_owned()),
            config_name: Some(name.to_owned()),
        }
    })
}
