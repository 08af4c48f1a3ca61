//! `convert --to kubernetes`: the loaded project (the same one `up` deploys) as Kubernetes
//! objects, typed by `k8s-openapi` and serialized by serde; no YAML is written by hand.
//!
//! - [`env`]: which variables are secret, and where each variable goes (pod spec, ConfigMap,
//!   Secret).
//! - [`probe`]: health checks as startup, readiness and liveness probes.
//! - [`network`]: which services others reach, and the Services that make them reachable.
//! - [`storage`]: configs and secrets as ConfigMaps and Secrets; volumes, claims and mounts.
//! - [`workload`]: Deployments and StatefulSets, their pods and init containers.
//! - [`check`]: what the schemas miss (names, selectors, probe ports, secrets in pod specs),
//!   run on every conversion.
//!
//! What has no Kubernetes form is named in [`Conversion::warnings`], never dropped silently.

pub mod check;
pub mod env;
pub mod network;
pub mod probe;
pub mod storage;
pub mod workload;

use std::{collections::BTreeMap, path::Path};

use k8s_openapi::{
    api::{
        apps::v1::{Deployment, StatefulSet},
        core::v1::{ConfigMap, Secret, Service},
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
    Resource,
};
use serde_json::Value as Tree;

use crate::project::{to_yaml, Loaded};

/// The one Kubernetes API version the objects are typed for (`k8s-openapi`'s `v1_33` feature),
/// named in `--help` and in the output's header.
pub const KUBERNETES_VERSION: &str = "1.33";

// The version above must be the feature enabled in Cargo.toml: a mismatch does not compile.
k8s_openapi::k8s_if_ge_1_34! {
    compile_error!("KUBERNETES_VERSION says 1.33 but k8s-openapi is built for a later version");
}

/// The image the init containers that wait for Services run (it has `nc` and `nslookup`).
pub const WAIT_IMAGE: &str = "busybox:1.37";

/// How published ports are offered outside the cluster.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Published {
    /// A Service of type LoadBalancer (the cloud's load balancer, on the published port).
    #[default]
    LoadBalancer,
    /// A Service of type NodePort (every node's port; 30000-32767, else Kubernetes picks one).
    NodePort,
}

/// What the user chose on the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Service type for published ports.
    pub published: Published,
    /// A registry path for images that are only built here: `PREFIX/PROJECT-SERVICE:latest`.
    pub image_prefix: Option<String>,
    /// Variables to put in Secrets besides those whose names say they are secret.
    pub secret_env: Vec<String>,
    /// The storage each named volume's claim asks for.
    pub volume_size: String,
    /// The process environment, for secrets and configs whose value is a variable's.
    pub environment: BTreeMap<String, String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            published: Published::default(),
            image_prefix: None,
            secret_env: Vec::new(),
            volume_size: "1Gi".into(),
            environment: BTreeMap::new(),
        }
    }
}

/// Why a project could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("the converted objects fail these checks:\n  {}", .0.join("\n  "))]
    Check(Vec<String>),
    #[error("could not read {what} from {}: {source}", .path.display())]
    Read {
        what: String,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("could not serialize {kind} {name}: {message}")]
    Serialize {
        kind: &'static str,
        name: String,
        message: String,
    },
    #[error("--volume-size {0:?} is not a Kubernetes quantity (write e.g. 1Gi or 500Mi)")]
    VolumeSize(String),
}

/// One Kubernetes object of the kinds `convert` makes.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    ConfigMap(ConfigMap),
    Secret(Secret),
    Service(Service),
    Deployment(Deployment),
    StatefulSet(StatefulSet),
}

impl Object {
    /// The object's kind, as in its `kind:` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Object::ConfigMap(_) => ConfigMap::KIND,
            Object::Secret(_) => Secret::KIND,
            Object::Service(_) => Service::KIND,
            Object::Deployment(_) => Deployment::KIND,
            Object::StatefulSet(_) => StatefulSet::KIND,
        }
    }

    /// The object's metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Object::ConfigMap(o) => &o.metadata,
            Object::Secret(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::StatefulSet(o) => &o.metadata,
        }
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        self.metadata().name.as_deref().unwrap_or_default()
    }

    /// The object as one YAML document, by serde from the typed struct, quoted so that
    /// YAML 1.1 readers (kubectl among them) take `yes` or `0755` as the strings they are.
    pub fn to_yaml(&self) -> Result<String, ConvertError> {
        let result = match self {
            Object::ConfigMap(o) => to_yaml(o),
            Object::Secret(o) => to_yaml(o),
            Object::Service(o) => to_yaml(o),
            Object::Deployment(o) => to_yaml(o),
            Object::StatefulSet(o) => to_yaml(o),
        };
        result.map_err(|e| ConvertError::Serialize {
            kind: self.kind(),
            name: self.name().to_owned(),
            message: e.0,
        })
    }
}

/// The objects of a project, in the order `kubectl apply` should meet them, and what did not
/// convert.
#[derive(Debug, Clone)]
pub struct Conversion {
    /// The compose project's name.
    pub project: String,
    /// ConfigMaps and Secrets, then Services, then workloads in start order.
    pub objects: Vec<Object>,
    /// What has no Kubernetes form, or only an approximate one, one sentence each.
    pub warnings: Vec<String>,
}

impl Conversion {
    /// The comment that heads every output: the version, and what did not convert.
    pub fn header(&self) -> String {
        let mut text = format!(
            "# Kubernetes {KUBERNETES_VERSION} objects for the compose project {:?}, made by \
             `orchestrator convert --to kubernetes`.\n",
            self.project
        );
        if self.objects.iter().any(|o| matches!(o, Object::Secret(_))) {
            text.push_str(
                "# Secrets hold their values: keep this output out of version control.\n",
            );
        }
        if !self.warnings.is_empty() {
            text.push_str("# Not converted, or only approximately:\n");
            for w in &self.warnings {
                text.push_str(&format!("# - {w}\n"));
            }
        }
        text
    }

    /// Every object in one multi-document YAML stream, after the header.
    pub fn to_yaml(&self) -> Result<String, ConvertError> {
        let mut text = self.header();
        for object in &self.objects {
            text.push_str("---\n");
            text.push_str(&object.to_yaml()?);
        }
        Ok(text)
    }

    /// One file per object (`KIND-NAME.yaml`, kind in lower case), each with the header.
    pub fn files(&self) -> Result<Vec<(String, String)>, ConvertError> {
        let header = self.header();
        self.objects
            .iter()
            .map(|o| {
                let name = format!("{}-{}.yaml", o.kind().to_ascii_lowercase(), o.name());
                Ok((name, format!("{header}---\n{}", o.to_yaml()?)))
            })
            .collect()
    }
}

/// Converts a loaded project, then runs [`check::all`] on the result: objects that fail a
/// check are an error, never output.
pub fn kubernetes(loaded: &Loaded, options: &Options) -> Result<Conversion, ConvertError> {
    if !check::is_quantity(&options.volume_size) {
        return Err(ConvertError::VolumeSize(options.volume_size.clone()));
    }
    let mut warnings = Vec::new();
    let project = &loaded.project;
    let raw = RawProject(&loaded.tree);
    let files = storage::file_objects(project, options, &mut warnings)?;
    let env = env::plan(project, &raw, options, &mut warnings);
    let reach = network::reach(project, &mut warnings);
    let mut objects = Vec::new();
    objects.extend(files.objects.iter().cloned());
    objects.extend(env.objects(project));
    objects.extend(network::services(project, &reach, options, &mut warnings));
    for name in &loaded.start_order {
        let Some(service) = project.services.get(name) else {
            continue;
        };
        objects.push(workload::workload(
            &workload::Input {
                project,
                raw: &raw,
                name,
                service,
                env: &env,
                files: &files,
                reach: &reach,
                options,
            },
            &mut warnings,
        ));
    }
    let conversion = Conversion {
        project: project.name.clone(),
        objects,
        warnings,
    };
    let problems = check::all(&conversion.objects, &files.provided);
    if problems.is_empty() {
        Ok(conversion)
    } else {
        Err(ConvertError::Check(problems))
    }
}

/// The merged compose tree, for the keys the model leaves out.
#[derive(Debug, Clone, Copy)]
pub struct RawProject<'a>(pub &'a Tree);

impl<'a> RawProject<'a> {
    /// `services.NAME`, as written (after interpolation and merging).
    pub fn service(&self, name: &str) -> Option<&'a serde_json::Map<String, Tree>> {
        self.0.get("services")?.get(name)?.as_object()
    }
}

/// A compose name as a DNS-1123 label: lower case, `_` and `.` as `-`, at most 63 characters.
pub fn label_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            _ => '-',
        })
        .collect();
    mapped.trim_matches('-').to_owned()
}

/// A path for messages: relative to the project directory when it is inside it.
pub fn shown_path(path: &Path, root: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".into(),
        Ok(rel) => format!("./{}", rel.display()),
        Err(_) => path.display().to_string(),
    }
}

/// The recommended labels (`app.kubernetes.io/*`) of an object of `project`, for `service`
/// when it belongs to one.
pub fn labels(project: &str, service: Option<&str>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        ("app.kubernetes.io/part-of".into(), label_name(project)),
        ("app.kubernetes.io/managed-by".into(), "orchestrator".into()),
    ]);
    labels.extend(selector(project, service));
    labels
}

/// The labels that select a service's pods: its name and the project's.
pub fn selector(project: &str, service: Option<&str>) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([("app.kubernetes.io/instance".into(), label_name(project))]);
    if let Some(service) = service {
        labels.insert("app.kubernetes.io/name".into(), label_name(service));
    }
    labels
}

/// Metadata with a name and the recommended labels.
pub fn metadata(name: &str, project: &str, service: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        labels: Some(labels(project, service)),
        ..ObjectMeta::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_names_become_dns_labels() {
        assert_eq!(label_name("web_1.Front"), "web-1-front");
        assert_eq!(label_name("_db_"), "db");
        assert_eq!(label_name("postgres"), "postgres");
    }

    #[test]
    fn paths_inside_the_project_are_shown_relative() {
        let root = Path::new("/srv/board");
        assert_eq!(shown_path(Path::new("/srv/board/app"), root), "./app");
        assert_eq!(shown_path(Path::new("/etc/x"), root), "/etc/x");
    }
}
