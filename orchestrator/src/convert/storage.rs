//! Storage: the project's `configs` and `secrets` as ConfigMaps and Secrets, and a service's
//! volumes as pod volumes and mounts. A named volume becomes a claim in the StatefulSet's
//! `volumeClaimTemplates`; an anonymous one or a tmpfs an `emptyDir`; a host folder cannot
//! come along and is named in a warning. Configs and secrets are mounted at their compose
//! targets by `subPath`.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::{
    api::core::v1::{
        ConfigMap, ConfigMapVolumeSource, EmptyDirVolumeSource, PersistentVolumeClaim,
        PersistentVolumeClaimSpec, Secret, SecretVolumeSource, Volume, VolumeMount,
        VolumeResourceRequirements,
    },
    apimachinery::pkg::{api::resource::Quantity, apis::meta::v1::ObjectMeta},
    ByteString,
};
use serde_json::Value as Tree;

use super::{
    label_name, labels, metadata, shown_path, workload::Input, ConvertError, Object, Options,
};
use crate::project::{
    model::{FileObject, MountKind},
    Project,
};

/// Where a config or secret is found: the object and its key.
#[derive(Debug, Clone)]
pub struct FileRef {
    /// The ConfigMap's or Secret's name.
    pub object: String,
    /// The key holding the content (mounted by `subPath`).
    pub key: String,
}

/// The ConfigMaps and Secrets made from the project's `configs` and `secrets`.
#[derive(Debug, Clone, Default)]
pub struct FileObjects {
    /// The ConfigMaps and Secrets made.
    pub objects: Vec<Object>,
    /// Compose config name -> where its content is.
    pub configs: BTreeMap<String, FileRef>,
    /// Compose secret name -> where its content is.
    pub secrets: BTreeMap<String, FileRef>,
    /// ConfigMaps and Secrets the pods use that the user makes (external ones, or those whose
    /// variable is not set here); each is named in a warning.
    pub provided: BTreeSet<String>,
}

/// A ConfigMap key: letters, digits, `-`, `_` and `.`; anything else becomes `_`.
fn object_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Reads every config and secret into a ConfigMap or Secret named after it.
pub fn file_objects(
    project: &Project,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Result<FileObjects, ConvertError> {
    let mut files = FileObjects::default();
    for (section, entries, secret) in [
        ("configs", &project.configs, false),
        ("secrets", &project.secrets, true),
    ] {
        for (key, entry) in entries {
            let object = label_name(if entry.external { &entry.name } else { key });
            let content = file_content(section, key, entry, options, warnings)?;
            let file_key = match &entry.file {
                Some(path) => path
                    .file_name()
                    .map(|n| object_key(&n.to_string_lossy()))
                    .unwrap_or_else(|| object_key(key)),
                None => object_key(key),
            };
            if content.is_none() {
                files.provided.insert(object.clone());
            }
            if let Some(bytes) = content {
                let meta = metadata(&object, &project.name, None);
                // Text as text, so the output can be read and reviewed; anything else in base64.
                let (strings, binary) = match String::from_utf8(bytes) {
                    Ok(text) => (Some(BTreeMap::from([(file_key.clone(), text)])), None),
                    Err(e) => {
                        let bytes = ByteString(e.into_bytes());
                        (None, Some(BTreeMap::from([(file_key.clone(), bytes)])))
                    }
                };
                files.objects.push(if secret {
                    Object::Secret(Secret {
                        metadata: meta,
                        type_: Some("Opaque".into()),
                        string_data: strings,
                        data: binary,
                        ..Secret::default()
                    })
                } else {
                    Object::ConfigMap(ConfigMap {
                        metadata: meta,
                        data: strings,
                        binary_data: binary,
                        ..ConfigMap::default()
                    })
                });
            }
            let reference = FileRef {
                object,
                key: file_key,
            };
            if secret {
                files.secrets.insert(key.clone(), reference);
            } else {
                files.configs.insert(key.clone(), reference);
            }
        }
    }
    Ok(files)
}

/// A config's or secret's content; `None` (with a warning) when it is not ours to make.
fn file_content(
    section: &str,
    key: &str,
    entry: &FileObject,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Result<Option<Vec<u8>>, ConvertError> {
    let kind = if section == "secrets" {
        "a Secret"
    } else {
        "a ConfigMap"
    };
    if entry.external {
        warnings.push(format!(
            "{section}.{key} is external: the pods expect {kind} named {} in the namespace",
            label_name(&entry.name)
        ));
        return Ok(None);
    }
    if let Some(path) = &entry.file {
        return std::fs::read(path)
            .map(Some)
            .map_err(|source| ConvertError::Read {
                what: format!("{section}.{key}"),
                path: path.clone(),
                source,
            });
    }
    if let Some(content) = &entry.content {
        return Ok(Some(content.clone().into_bytes()));
    }
    if let Some(var) = &entry.environment {
        if let Some(value) = options.environment.get(var) {
            return Ok(Some(value.clone().into_bytes()));
        }
        warnings.push(format!(
            "{section}.{key} takes its value from ${var}, which is not set here: make {kind} \
             named {} yourself",
            label_name(key)
        ));
        return Ok(None);
    }
    Ok(None)
}

/// The pod's volumes, the container's mounts, and the claims a StatefulSet makes.
pub fn volumes(
    input: &Input,
    warnings: &mut Vec<String>,
) -> (Vec<Volume>, Vec<VolumeMount>, Vec<PersistentVolumeClaim>) {
    let Input {
        project,
        name,
        service,
        options,
        ..
    } = *input;
    let (mut volumes, mut mounts, mut claims) = (Vec::new(), Vec::new(), Vec::new());
    for (i, m) in service.volumes.iter().enumerate() {
        let path = format!("services.{name}.volumes[{i}]");
        let volume_name = match (m.kind, &m.source) {
            (MountKind::Volume, Some(source)) => {
                named_volume(project, name, source, &path, warnings);
                let claim = label_name(source);
                claims.push(PersistentVolumeClaim {
                    metadata: ObjectMeta {
                        name: Some(claim.clone()),
                        labels: Some(labels(&project.name, Some(name))),
                        ..ObjectMeta::default()
                    },
                    spec: Some(PersistentVolumeClaimSpec {
                        access_modes: Some(vec!["ReadWriteOnce".into()]),
                        resources: Some(VolumeResourceRequirements {
                            requests: Some(BTreeMap::from([(
                                "storage".to_owned(),
                                Quantity(options.volume_size.clone()),
                            )])),
                            ..VolumeResourceRequirements::default()
                        }),
                        ..PersistentVolumeClaimSpec::default()
                    }),
                    ..PersistentVolumeClaim::default()
                });
                claim
            }
            (MountKind::Volume, None) | (MountKind::Tmpfs, _) => {
                let tmpfs = m.kind == MountKind::Tmpfs;
                let volume_name = format!("{}-{i}", if tmpfs { "tmpfs" } else { "anonymous" });
                volumes.push(Volume {
                    name: volume_name.clone(),
                    empty_dir: Some(EmptyDirVolumeSource {
                        medium: tmpfs.then(|| "Memory".into()),
                        ..EmptyDirVolumeSource::default()
                    }),
                    ..Volume::default()
                });
                volume_name
            }
            (MountKind::Bind, source) => {
                let shown = source
                    .as_deref()
                    .map(|s| shown_path(std::path::Path::new(s), &project.working_dir))
                    .unwrap_or_default();
                warnings.push(format!(
                    "{path}: the host folder {shown} (at {}) is not converted: a pod sees no \
                     host folder of yours; put the files in the image, or in a ConfigMap",
                    m.target
                ));
                continue;
            }
        };
        mounts.push(VolumeMount {
            name: volume_name,
            mount_path: m.target.clone(),
            read_only: m.read_only.then_some(true),
            ..VolumeMount::default()
        });
    }
    for (section, refs, default_dir) in [
        ("configs", &input.files.configs, "/"),
        ("secrets", &input.files.secrets, "/run/secrets/"),
    ] {
        let Some(entries) = input
            .raw
            .service(name)
            .and_then(|s| s.get(section)?.as_array())
        else {
            continue;
        };
        for entry in entries {
            let (source, target) = match entry {
                Tree::String(s) => (s.as_str(), None),
                Tree::Object(m) => match m.get("source").and_then(Tree::as_str) {
                    Some(source) => (source, m.get("target").and_then(Tree::as_str)),
                    None => continue,
                },
                _ => continue,
            };
            let Some(found) = refs.get(source) else {
                continue;
            };
            let target = match target {
                Some(t) if t.starts_with('/') => t.to_owned(),
                Some(t) => format!("{default_dir}{t}"),
                None => format!("{default_dir}{source}"),
            };
            let volume_name = format!("{}-{}", &section[..section.len() - 1], found.object);
            // The file's mode (`mode: 0o555` runs a script rather than sourcing it), else
            // Kubernetes's default (0644).
            let mode = if section == "configs" {
                &service.configs
            } else {
                &service.secrets
            }
            .iter()
            .find(|r| r.source == source)
            .and_then(|r| r.mode)
            .map(|m| m as i32);
            if !volumes.iter().any(|v: &Volume| v.name == volume_name) {
                volumes.push(Volume {
                    name: volume_name.clone(),
                    config_map: (section == "configs").then(|| ConfigMapVolumeSource {
                        name: found.object.clone(),
                        default_mode: mode,
                        ..ConfigMapVolumeSource::default()
                    }),
                    secret: (section == "secrets").then(|| SecretVolumeSource {
                        secret_name: Some(found.object.clone()),
                        default_mode: mode,
                        ..SecretVolumeSource::default()
                    }),
                    ..Volume::default()
                });
            }
            mounts.push(VolumeMount {
                name: volume_name,
                mount_path: target,
                sub_path: Some(found.key.clone()),
                read_only: Some(true),
                ..VolumeMount::default()
            });
        }
    }
    (volumes, mounts, claims)
}

/// Warns about what a named volume's claim does not carry over.
fn named_volume(
    project: &Project,
    service: &str,
    source: &str,
    path: &str,
    warnings: &mut Vec<String>,
) {
    let users: Vec<&String> = project
        .services
        .iter()
        .filter(|(_, s)| {
            s.volumes
                .iter()
                .any(|m| m.kind == MountKind::Volume && m.source.as_deref() == Some(source))
        })
        .map(|(n, _)| n)
        .collect();
    if users.len() > 1 && users[0] == service {
        let names: Vec<&str> = users.iter().map(|s| s.as_str()).collect();
        warnings.push(format!(
            "volumes.{source} is mounted by {}: each StatefulSet claims its own copy, so they \
             no longer share data",
            names.join(", ")
        ));
    }
    let Some(volume) = project.volumes.get(source) else {
        return;
    };
    if volume.external {
        warnings.push(format!(
            "{path}: volumes.{source} is external; the claim is new: bind it to your existing \
             PersistentVolume"
        ));
    }
    if volume.driver.as_deref().is_some_and(|d| d != "local") || !volume.driver_opts.is_empty() {
        warnings.push(format!(
            "volumes.{source}: driver and driver_opts are not converted; choose a StorageClass"
        ));
    }
}
