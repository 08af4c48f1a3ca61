//! Deployments and StatefulSets: one per service, its pod built from the service (its volumes
//! by [`super::storage`]).
//!
//! A service that mounts a named volume is a StatefulSet whose volumeClaimTemplates make one
//! claim per volume (a pod's data survives its replacement, and each replica has its own);
//! every other service is a Deployment. Init containers wait for each service the pod depends
//! on (`depends_on`, `links`) until its Service answers, which for a service with a health
//! check means it is ready.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::{
    api::{
        apps::v1::{
            Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment, StatefulSet,
            StatefulSetSpec,
        },
        core::v1::{
            Capabilities, Container, ContainerPort as KubePort, HostAlias, PodSpec,
            PodTemplateSpec, ResourceRequirements, SecurityContext, VolumeMount,
        },
    },
    apimachinery::pkg::{
        api::resource::Quantity,
        apis::meta::v1::{LabelSelector, ObjectMeta},
        util::intstr::IntOrString,
    },
};
use serde_json::Value as Tree;

use super::{
    env::{escape_references, EnvPlan},
    label_name, labels, metadata,
    network::{container_ports, Reach},
    probe, selector,
    storage::{self, FileObjects},
    Object, Options, RawProject, WAIT_IMAGE,
};
use crate::project::{
    model::{Condition, MountKind, ResourceSet, Service},
    units::parse_duration,
    Project,
};

/// Service keys the conversion reads (some with warnings of their own).
const CONVERTED_KEYS: &[&str] = &[
    "build",
    "image",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "ports",
    "expose",
    "links",
    "volumes",
    "networks",
    "depends_on",
    "healthcheck",
    "restart",
    "labels",
    "user",
    "working_dir",
    "stop_grace_period",
    "deploy",
    "pull_policy",
    "tty",
    "stdin_open",
    "read_only",
    "cap_add",
    "cap_drop",
    "extra_hosts",
    "secrets",
    "configs",
    "profiles",
    "scale",
];

/// Why a service key has no Kubernetes form, for the keys users meet most.
fn why_not(key: &str) -> &'static str {
    match key {
        "container_name" => "pods are named by their Deployment or StatefulSet",
        "hostname" => "a pod's host name is its own name",
        "network_mode" => {
            "a pod has its own network; containers that must share one belong in one pod"
        }
        "volumes_from" => "pods do not share volumes with other pods; mount the same claim",
        "init" => "Kubernetes adds no init process; put one (tini) in the image",
        "stop_signal" => {
            "it needs the ContainerStopSignals feature gate; set STOPSIGNAL in the image"
        }
        "logging" => "logs go to the cluster's log collection",
        _ => "no Kubernetes equivalent here",
    }
}

/// True for a service that mounts a named volume: it becomes a StatefulSet.
pub fn is_stateful(service: &Service) -> bool {
    service
        .volumes
        .iter()
        .any(|m| m.kind == MountKind::Volume && m.source.is_some())
}

/// What making one service's workload needs.
pub struct Input<'a> {
    /// The whole project.
    pub project: &'a Project,
    /// The merged file, for keys the model leaves out.
    pub raw: &'a RawProject<'a>,
    /// The service's compose name.
    pub name: &'a str,
    /// The service.
    pub service: &'a Service,
    /// Where every variable goes.
    pub env: &'a EnvPlan,
    /// The configs' and secrets' objects.
    pub files: &'a FileObjects,
    /// Who reaches whom, and on which ports.
    pub reach: &'a Reach,
    /// The command line's choices.
    pub options: &'a Options,
}

/// The service's Deployment or StatefulSet.
pub fn workload(input: &Input, warnings: &mut Vec<String>) -> Object {
    let Input {
        project,
        name,
        service,
        ..
    } = *input;
    let raw = input.raw.service(name);
    if label_name(name) != name {
        warnings.push(format!(
            "services.{name} is called {} in Kubernetes (names are DNS-1123 labels); values \
             that reach it by name must say so",
            label_name(name)
        ));
    }
    unconverted_keys(name, raw, warnings);
    let (volumes, mounts, claims) = storage::volumes(input, warnings);
    let pod = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels(&project.name, Some(name))),
            annotations: annotations(name, service, warnings),
            ..ObjectMeta::default()
        }),
        spec: Some(PodSpec {
            containers: vec![container(input, mounts, warnings)],
            init_containers: non_empty(init_containers(input, warnings)),
            volumes: non_empty(volumes),
            host_aliases: non_empty(host_aliases(name, service, warnings)),
            // Compose puts no `NAME_PORT=tcp://...` variables in containers; Kubernetes would,
            // for every Service, and they clash with the stack's own (nginx reads APP_PORT).
            enable_service_links: Some(false),
            termination_grace_period_seconds: service
                .stop_grace_period
                .map(|d| d.as_secs_f64().ceil() as i64),
            ..PodSpec::default()
        }),
    };
    match service.restart.as_deref() {
        None | Some("always" | "unless-stopped") => {}
        Some(other) => warnings.push(format!(
            "services.{name}.restart: {other} is not converted: a Deployment's pods always \
             restart; a task that runs once belongs in a Job"
        )),
    }
    let replicas = Some(service.replicas().min(i32::MAX as u32) as i32);
    let select = LabelSelector {
        match_labels: Some(selector(&project.name, Some(name))),
        ..LabelSelector::default()
    };
    let meta = metadata(&label_name(name), &project.name, Some(name));
    let update = raw.and_then(|s| s.get("deploy")?.get("update_config"));
    if claims.is_empty() {
        Object::Deployment(Deployment {
            metadata: meta,
            spec: Some(DeploymentSpec {
                replicas,
                selector: select,
                template: pod,
                strategy: update.map(|u| strategy(name, u, warnings)),
                min_ready_seconds: update.and_then(delay_seconds),
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        })
    } else {
        if update.is_some() {
            warnings.push(format!(
                "services.{name}.deploy.update_config: a StatefulSet replaces its pods one at a \
                 time, stopping each first; only the delay is kept"
            ));
        }
        Object::StatefulSet(StatefulSet {
            metadata: meta,
            spec: Some(StatefulSetSpec {
                replicas,
                selector: select,
                service_name: Some(label_name(name)),
                template: pod,
                volume_claim_templates: Some(claims),
                min_ready_seconds: update.and_then(delay_seconds),
                ..StatefulSetSpec::default()
            }),
            ..StatefulSet::default()
        })
    }
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

/// Names every service key the conversion does not read.
fn unconverted_keys(
    name: &str,
    raw: Option<&serde_json::Map<String, Tree>>,
    warnings: &mut Vec<String>,
) {
    let Some(raw) = raw else { return };
    for key in raw.keys() {
        if !key.starts_with("x-") && !CONVERTED_KEYS.contains(&key.as_str()) {
            warnings.push(format!(
                "services.{name}.{key} is not converted: {}",
                why_not(key)
            ));
        }
    }
    if let Some(deploy) = raw.get("deploy").and_then(Tree::as_object) {
        for key in deploy.keys() {
            if !["replicas", "resources", "update_config"].contains(&key.as_str()) {
                warnings.push(format!(
                    "services.{name}.deploy.{key} is not converted: no Kubernetes equivalent here"
                ));
            }
        }
    }
}

/// `update_config` as a rolling update: `stop-first` replaces `parallelism` pods at a time
/// before starting new ones, `start-first` starts that many new ones first.
fn strategy(name: &str, update: &Tree, warnings: &mut Vec<String>) -> DeploymentStrategy {
    let parallelism = update
        .get("parallelism")
        .and_then(Tree::as_u64)
        .unwrap_or(1);
    let step = if parallelism == 0 {
        IntOrString::String("100%".into())
    } else {
        IntOrString::Int(parallelism.min(i32::MAX as u64) as i32)
    };
    let start_first = update.get("order").and_then(Tree::as_str) == Some("start-first");
    for key in ["failure_action", "monitor", "max_failure_ratio"] {
        if update.get(key).is_some() {
            warnings.push(format!(
                "services.{name}.deploy.update_config.{key} is not converted: a Deployment stops \
                 a failing rollout by progressDeadlineSeconds; roll back with `kubectl rollout undo`"
            ));
        }
    }
    let (surge, unavailable) = if start_first {
        (step, IntOrString::Int(0))
    } else {
        (IntOrString::Int(0), step)
    };
    DeploymentStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: Some(RollingUpdateDeployment {
            max_surge: Some(surge),
            max_unavailable: Some(unavailable),
        }),
    }
}

/// `update_config.delay` as the time a new pod must stay ready before the rollout goes on.
fn delay_seconds(update: &Tree) -> Option<i32> {
    let delay = parse_duration(update.get("delay")?.as_str()?).ok()?;
    Some(delay.as_secs_f64().ceil().min(i32::MAX as f64) as i32)
}

/// Compose labels as pod annotations (they describe, they select nothing).
fn annotations(
    name: &str,
    service: &Service,
    warnings: &mut Vec<String>,
) -> Option<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (key, value) in &service.labels {
        if super::check::is_qualified_name(key) {
            out.insert(key.clone(), value.clone());
        } else {
            warnings.push(format!(
                "services.{name}.labels.{key} is not converted: not a valid annotation key"
            ));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The image a cluster pulls for the service.
fn image(input: &Input, warnings: &mut Vec<String>) -> String {
    let Input {
        project,
        name,
        service,
        options,
        ..
    } = *input;
    match (&service.image, &service.build) {
        (Some(image), Some(_)) => {
            warnings.push(format!(
                "services.{name}.build: {image} is built here; push it where the cluster pulls \
                 from before applying"
            ));
            image.clone()
        }
        (Some(image), None) => image.clone(),
        (None, _) => {
            let local = project.image_name(name);
            match &options.image_prefix {
                Some(prefix) => {
                    let image = format!("{}/{local}:latest", prefix.trim_end_matches('/'));
                    warnings.push(format!(
                        "services.{name}.build: the cluster pulls {image}; build and push it \
                         there (`docker tag {local} {image}`, `docker push {image}`)"
                    ));
                    image
                }
                None => {
                    warnings.push(format!(
                        "services.{name}.build has no image a cluster can pull: build and push \
                         it, then convert with --image-prefix REGISTRY/PATH (written as {local} \
                         until then)"
                    ));
                    local
                }
            }
        }
    }
}

/// The service's one container.
fn container(input: &Input, mounts: Vec<VolumeMount>, warnings: &mut Vec<String>) -> Container {
    let Input {
        name,
        service,
        reach,
        ..
    } = *input;
    let ports = container_ports(name, service, reach);
    let numbers: Vec<u16> = ports.iter().map(|p| p.port).collect();
    let probes = service
        .healthcheck
        .as_ref()
        .and_then(|h| probe::probes(h, &numbers));
    let (env, env_from) = input.env.container_env(name);
    let escape = |words: &Vec<String>| words.iter().map(|w| escape_references(w)).collect();
    let pull_policy = match service.pull_policy.as_str() {
        "always" => "Always",
        "never" => "Never",
        "missing" => "IfNotPresent",
        other => {
            warnings.push(format!(
                "services.{name}.pull_policy: {other} becomes IfNotPresent"
            ));
            "IfNotPresent"
        }
    };
    Container {
        name: label_name(name),
        image: Some(image(input, warnings)),
        image_pull_policy: Some(pull_policy.into()),
        command: service.entrypoint.as_ref().map(escape),
        args: service.command.as_ref().map(escape),
        working_dir: service.working_dir.clone(),
        env: non_empty(env),
        env_from: non_empty(env_from),
        ports: non_empty(
            ports
                .iter()
                .map(|p| KubePort {
                    name: Some(p.name()),
                    container_port: i32::from(p.port),
                    protocol: Some(p.protocol.clone()),
                    ..KubePort::default()
                })
                .collect(),
        ),
        startup_probe: probes.as_ref().and_then(|p| p.startup.clone()),
        readiness_probe: probes.as_ref().map(|p| p.readiness.clone()),
        liveness_probe: probes.map(|p| p.liveness),
        resources: resources(name, service, warnings),
        security_context: security_context(name, service, warnings),
        volume_mounts: non_empty(mounts),
        tty: service.tty.then_some(true),
        stdin: service.stdin_open.then_some(true),
        ..Container::default()
    }
}

/// `deploy.resources`: limits as limits, reservations as requests.
fn resources(
    name: &str,
    service: &Service,
    warnings: &mut Vec<String>,
) -> Option<ResourceRequirements> {
    let r = &service.deploy.as_ref()?.resources;
    let mut quantities = |set: &Option<ResourceSet>, what: &str| {
        let set = set.as_ref()?;
        if set.pids.is_some() {
            warnings.push(format!(
                "services.{name}.deploy.resources.{what}.pids is not converted: Kubernetes \
                 limits processes per node (kubelet podPidsLimit), not per pod"
            ));
        }
        let mut map = BTreeMap::new();
        if let Some(cpus) = set.cpus {
            map.insert(
                "cpu".to_owned(),
                Quantity(format!("{}m", (cpus * 1000.0).round() as u64)),
            );
        }
        if let Some(memory) = set.memory {
            map.insert("memory".to_owned(), Quantity(memory.to_string()));
        }
        (!map.is_empty()).then_some(map)
    };
    let limits = quantities(&r.limits, "limits");
    let requests = quantities(&r.reservations, "reservations");
    (limits.is_some() || requests.is_some()).then(|| ResourceRequirements {
        limits,
        requests,
        ..ResourceRequirements::default()
    })
}

/// `user`, `read_only`, `cap_add` and `cap_drop`.
fn security_context(
    name: &str,
    service: &Service,
    warnings: &mut Vec<String>,
) -> Option<SecurityContext> {
    let mut context = SecurityContext::default();
    if let Some(user) = &service.user {
        let (uid, gid) = user.split_once(':').unwrap_or((user, ""));
        match (uid.parse::<i64>(), gid) {
            (Ok(uid), "") => context.run_as_user = Some(uid),
            (Ok(uid), gid) if gid.parse::<i64>().is_ok() => {
                context.run_as_user = Some(uid);
                context.run_as_group = gid.parse().ok();
            }
            _ => warnings.push(format!(
                "services.{name}.user: {user} is not converted: Kubernetes takes numeric IDs only"
            )),
        }
    }
    if service.read_only {
        context.read_only_root_filesystem = Some(true);
    }
    if !service.cap_add.is_empty() || !service.cap_drop.is_empty() {
        context.capabilities = Some(Capabilities {
            add: non_empty(service.cap_add.clone()),
            drop: non_empty(service.cap_drop.clone()),
        });
    }
    (context != SecurityContext::default()).then_some(context)
}

/// `extra_hosts` as host aliases, one per address.
fn host_aliases(name: &str, service: &Service, warnings: &mut Vec<String>) -> Vec<HostAlias> {
    let mut by_ip: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in &service.extra_hosts {
        let split = entry.split_once('=').or_else(|| entry.split_once(':'));
        match split {
            Some((_, "host-gateway")) | None => warnings.push(format!(
                "services.{name}.extra_hosts: {entry} is not converted: a pod has no Docker host \
                 gateway"
            )),
            Some((host, ip)) => by_ip
                .entry(ip.to_owned())
                .or_default()
                .push(host.to_owned()),
        }
    }
    by_ip
        .into_iter()
        .map(|(ip, hostnames)| HostAlias {
            ip,
            hostnames: Some(hostnames),
        })
        .collect()
}

/// One init container per service this one depends on, waiting until its Service answers:
/// a connection to its first TCP port, or, without one, its name resolving (a headless
/// Service's name resolves only to ready pods).
fn init_containers(input: &Input, warnings: &mut Vec<String>) -> Vec<Container> {
    let Input {
        project,
        name,
        service,
        reach,
        ..
    } = *input;
    let targets: BTreeSet<&str> = service.dependencies().collect();
    let mut out = Vec::new();
    for target in targets {
        let Some(target_service) = project.services.get(target) else {
            continue;
        };
        if service.depends_on.get(target).map(|d| d.condition)
            == Some(Condition::ServiceCompletedSuccessfully)
        {
            warnings.push(format!(
                "services.{name}.depends_on.{target}: service_completed_successfully becomes \
                 waiting for {target} to be ready; a task that runs once belongs in a Job"
            ));
        }
        let host = label_name(target);
        let ports = container_ports(target, target_service, reach);
        let check = match ports.iter().find(|p| p.protocol == "TCP") {
            Some(p) => format!("nc -z -w 2 {host} {}", p.port),
            None => format!("nslookup {host}"),
        };
        out.push(Container {
            name: format!("wait-for-{host}"),
            image: Some(WAIT_IMAGE.into()),
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                format!("until {check}; do echo waiting for {host}; sleep 2; done"),
            ]),
            ..Container::default()
        });
    }
    out
}
