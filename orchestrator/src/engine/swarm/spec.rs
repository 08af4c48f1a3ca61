//! Deciding what Swarm is sent, with no engine: a project's service as a Swarm `ServiceSpec`, a
//! project network as an overlay network, and a warning naming every compose key Swarm cannot
//! apply (never a key dropped silently). Modelled on docker/cli's `convert/service.go`, with
//! two differences: `restart:` maps to the restart policy instead of being dropped, and an
//! update that fails is rolled back unless the file says otherwise.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigProtocolEnum, EndpointPortConfigPublishModeEnum,
    EndpointSpec, EndpointSpecModeEnum, Limit, Mount as SwarmMount, MountType, MountVolumeOptions,
    NetworkAttachmentConfig, NetworkCreateRequest, ResourceObject, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, ServiceSpecRollbackConfig,
    ServiceSpecRollbackConfigFailureActionEnum, ServiceSpecRollbackConfigOrderEnum,
    ServiceSpecUpdateConfig, ServiceSpecUpdateConfigFailureActionEnum,
    ServiceSpecUpdateConfigOrderEnum, TaskSpec, TaskSpecContainerSpec,
    TaskSpecContainerSpecDnsConfig, TaskSpecLogDriver, TaskSpecPlacement,
    TaskSpecPlacementPreferences, TaskSpecPlacementSpread, TaskSpecResources,
    TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};
use serde_json::Value as Tree;
use sha2::{Digest, Sha256};

use super::objects;
use crate::engine::create::{self, nanos};
use crate::project::{
    model::{MountKind, Project, ResourceSet, Service},
    units::parse_duration,
};

/// The label `docker stack` lists by: `docker stack ps/services NAME` see our services.
pub const STACK_NAMESPACE: &str = "com.docker.stack.namespace";
/// The image as the compose file names it (`docker stack` writes the same label).
pub const STACK_IMAGE: &str = "com.docker.stack.image";
/// Ours: the hash of the spec we sent, so a deploy with nothing changed sends nothing.
pub const SPEC_HASH: &str = "dev.orchestrator.swarm.spec-hash";

/// How services are reached, for the whole project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Layout {
    /// What the compose file says: virtual IPs and the ingress routing mesh unless a service's
    /// `endpoint_mode` or a port's `mode` says otherwise. Needs IPVS on every node.
    #[default]
    AsWritten,
    /// `--dnsrr`: every service `endpoint_mode: dnsrr`, every port published in `mode: host`,
    /// and every service that publishes a port `mode: global` (one task a node, so every node
    /// answers on it). Works without IPVS.
    DnsrrHost,
}

/// A service's spec, ready to send, with what could not be said in it.
#[derive(Debug, Clone)]
pub struct Converted {
    pub spec: ServiceSpec,
    /// The hash of `spec` (also in its [`SPEC_HASH`] label).
    pub hash: String,
    /// Compose keys Swarm cannot apply, one sentence each.
    pub warnings: Vec<String>,
}

/// The Swarm name of a project's service: `<project>_<service>`, as `docker stack deploy`.
pub fn service_name(project: &str, service: &str) -> String {
    format!("{project}_{service}")
}

/// The overlay network for project network `key`.
pub fn network_request(project: &Project, key: &str) -> NetworkCreateRequest {
    let net = &project.networks[key];
    let mut labels: HashMap<String, String> = net.labels.clone().into_iter().collect();
    labels.insert(STACK_NAMESPACE.into(), project.name.clone());
    NetworkCreateRequest {
        name: net.name.clone(),
        driver: Some(net.driver.clone().unwrap_or_else(|| "overlay".into())),
        // Attachable, so that `docker run --network` can reach the stack for debugging.
        attachable: Some(true),
        internal: Some(net.internal),
        options: Some(net.driver_opts.clone().into_iter().collect()),
        labels: Some(labels),
        ..Default::default()
    }
}

/// Where a stateful service is pinned when the file does not say: a node, and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The node's ID.
    pub node: String,
    /// E.g. `where it runs now`.
    pub why: String,
}

/// The named volumes a service keeps data in that live on one node (the `local` driver): a
/// task rescheduled onto another node would start on an empty one.
pub fn node_local_volumes(project: &Project, service: &Service) -> Vec<String> {
    service
        .volumes
        .iter()
        .filter(|m| m.kind == MountKind::Volume)
        .filter_map(|m| project.volumes.get(m.source.as_deref()?))
        .filter(|v| v.driver.as_deref().is_none_or(|d| d == "local"))
        .map(|v| v.name.clone())
        .collect()
}

/// Converts service `name` of the project into a Swarm spec running `image` (a reference every
/// node can pull, pinned to a digest where one is known). A service with node-local volumes
/// and no placement constraint of its own is pinned to `pin`'s node, and the warnings say so.
pub fn service_spec(
    project: &Project,
    name: &str,
    image: &str,
    layout: Layout,
    pin: Option<&Pin>,
    objects: &objects::Ids,
) -> Converted {
    let service = &project.services[name];
    let mut warnings = Vec::new();
    let mut warn = |key: &str, why: &str| warnings.push(format!("service {name}: {key} {why}"));
    let swarm = service
        .deploy
        .as_ref()
        .map(|d| d.swarm.clone())
        .unwrap_or_default();

    for (key, present, why) in [
        (
            "container_name",
            service.container_name.is_some(),
            "cannot be set in Swarm (tasks are named by Swarm); ignored",
        ),
        (
            "links",
            !service.links.is_empty(),
            "do not exist in Swarm; reach the service by its name on a shared network; ignored",
        ),
        (
            "volumes_from",
            !service.volumes_from.is_empty(),
            "does not exist in Swarm; ignored",
        ),
        (
            "expose",
            !service.expose.is_empty(),
            "has no effect in Swarm (every port is reachable on the service's networks)",
        ),
        (
            "pull_policy",
            service.pull_policy != "missing",
            "does not apply: Swarm pulls the pinned image on each node; ignored",
        ),
        (
            "develop",
            service.develop.is_some(),
            "is for watching a local project; ignored",
        ),
        (
            "external_links",
            !service.external_links.is_empty(),
            "do not exist in Swarm; ignored",
        ),
    ] {
        if present {
            warn(key, why);
        }
    }
    // What a Swarm task cannot be given (docker/cli drops these too, most without a word).
    for (key, present) in [
        ("privileged", service.privileged),
        ("devices", !service.devices.is_empty()),
        ("network_mode", service.network_mode.is_some()),
        ("pid", service.pid.is_some()),
        ("ipc", service.ipc.is_some()),
        ("uts", service.uts.is_some()),
        ("userns_mode", service.userns_mode.is_some()),
        ("security_opt", !service.security_opt.is_empty()),
        ("shm_size", service.shm_size.is_some()),
        ("cpu_shares", service.cpu_shares.is_some()),
        ("cpuset", service.cpuset.is_some()),
        ("cpu_period", service.cpu_period.is_some()),
        ("cpu_quota", service.cpu_quota.is_some()),
        ("cpu_rt_period", service.cpu_rt_period.is_some()),
        ("cpu_rt_runtime", service.cpu_rt_runtime.is_some()),
        ("cgroup", service.cgroup.is_some()),
        ("cgroup_parent", service.cgroup_parent.is_some()),
        (
            "device_cgroup_rules",
            !service.device_cgroup_rules.is_empty(),
        ),
        ("blkio_config", service.blkio_config.is_some()),
        ("memswap_limit", service.memswap_limit.is_some()),
        ("mem_swappiness", service.mem_swappiness.is_some()),
        ("oom_kill_disable", service.oom_kill_disable),
        // API 1.46 and newer only; this project's engines speak 1.41.
        ("oom_score_adj", service.oom_score_adj.is_some()),
        ("storage_opt", !service.storage_opt.is_empty()),
        ("volume_driver", service.volume_driver.is_some()),
        ("domainname", service.domainname.is_some()),
        ("runtime", service.runtime.is_some()),
        ("platform", service.platform.is_some()),
        ("gpus", !service.gpus.is_empty()),
    ] {
        if present {
            warn(key, "cannot be set on a Swarm task; ignored");
        }
    }
    for (key, net) in &service.networks {
        if net.ipv4_address.is_some() {
            warn(
                &format!("networks.{key}.ipv4_address"),
                "cannot be set in Swarm; ignored",
            );
        }
    }

    let mut labels: HashMap<String, String> = HashMap::new();
    if let Some(Tree::Object(map)) = swarm.get("labels") {
        for (k, v) in map {
            labels.insert(k.clone(), scalar_text(v));
        }
    } else if let Some(Tree::Array(items)) = swarm.get("labels") {
        for item in items.iter().filter_map(Tree::as_str) {
            let (k, v) = item.split_once('=').unwrap_or((item, ""));
            labels.insert(k.to_owned(), v.to_owned());
        }
    }
    labels.insert(STACK_NAMESPACE.into(), project.name.clone());
    labels.insert(STACK_IMAGE.into(), project.image_name(name));

    let mut container_labels: HashMap<String, String> =
        service.labels.clone().into_iter().collect();
    container_labels.insert(STACK_NAMESPACE.into(), project.name.clone());

    let publishes = service.ports.iter().any(|p| p.published.is_some());
    let global = match swarm.get("mode").and_then(Tree::as_str) {
        Some("global") => true,
        Some("replicated") | None => layout == Layout::DnsrrHost && publishes,
        Some(other) => {
            warn(
                "deploy.mode",
                &format!("{other:?} is not replicated or global; replicated is used"),
            );
            false
        }
    };
    let mode = if global {
        ServiceSpecMode {
            global: Some(HashMap::new()),
            ..Default::default()
        }
    } else {
        ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(i64::from(service.replicas())),
            }),
            ..Default::default()
        }
    };

    let container = TaskSpecContainerSpec {
        image: Some(image.to_owned()),
        labels: Some(container_labels),
        command: service.entrypoint.clone(),
        args: service.command.clone(),
        hostname: service.hostname.clone(),
        env: Some(environment(service)),
        dir: service.working_dir.clone(),
        user: service.user.clone(),
        tty: service.tty.then_some(true),
        open_stdin: service.stdin_open.then_some(true),
        read_only: service.read_only.then_some(true),
        mounts: mounts(project, service, &mut warn),
        stop_signal: service.stop_signal.clone(),
        stop_grace_period: service.stop_grace_period.map(nanos),
        // start_interval is not on API 1.41; the loader already says so for `up`.
        health_check: service
            .healthcheck
            .as_ref()
            .map(|h| create::health_config(h, false)),
        hosts: (!service.extra_hosts.is_empty()).then(|| {
            // Compose writes `host:ip`; Swarm wants /etc/hosts' order, `ip host`.
            service
                .extra_hosts
                .iter()
                .filter_map(|e| e.split_once(':').map(|(h, ip)| format!("{ip} {h}")))
                .collect()
        }),
        init: service.init,
        capability_add: (!service.cap_add.is_empty()).then(|| service.cap_add.clone()),
        capability_drop: (!service.cap_drop.is_empty()).then(|| service.cap_drop.clone()),
        dns_config: (!service.dns.is_empty()
            || !service.dns_search.is_empty()
            || !service.dns_opt.is_empty())
        .then(|| TaskSpecContainerSpecDnsConfig {
            nameservers: (!service.dns.is_empty()).then(|| service.dns.clone()),
            search: (!service.dns_search.is_empty()).then(|| service.dns_search.clone()),
            options: (!service.dns_opt.is_empty()).then(|| service.dns_opt.clone()),
        }),
        groups: (!service.group_add.is_empty()).then(|| service.group_add.clone()),
        sysctls: (!service.sysctls.is_empty())
            .then(|| service.sysctls.clone().into_iter().collect()),
        ulimits: create::ulimits(service),
        secrets: objects::secret_refs(service, objects, &mut warn),
        configs: objects::config_refs(service, objects, &mut warn),
        ..Default::default()
    };

    let mut placement = swarm.get("placement").map(|p| placement(p, &mut warn));
    let constrained = placement
        .as_ref()
        .and_then(|p| p.constraints.as_ref())
        .is_some_and(|c| !c.is_empty());
    let volumes = node_local_volumes(project, service);
    if let (false, false, Some(pin)) = (constrained, volumes.is_empty(), pin) {
        placement
            .get_or_insert_with(TaskSpecPlacement::default)
            .constraints = Some(vec![format!("node.id == {}", pin.node)]);
        warn(
            "volumes",
            &format!(
                "{} live on one node each: the service is pinned to node {} ({}), so that a task \
                 is never rescheduled onto an empty volume; to choose the node, give it \
                 deploy.placement.constraints (e.g. [node.labels.{name} == true] after \
                 `docker node update --label-add {name}=true NODE`; `docker node ls` lists them)",
                volumes.join(", "),
                pin.node,
                pin.why
            ),
        );
    }
    let task = TaskSpec {
        log_driver: service.logging.as_ref().and_then(|l| {
            Some(TaskSpecLogDriver {
                name: Some(l.driver.clone()?),
                options: Some(l.options.clone().into_iter().collect()),
            })
        }),
        container_spec: Some(container),
        resources: resources(service),
        restart_policy: Some(restart_policy(
            service,
            swarm.get("restart_policy"),
            &mut warn,
        )),
        placement,
        ..Default::default()
    };

    let networks = service
        .networks
        .iter()
        .map(|(key, net)| NetworkAttachmentConfig {
            target: Some(project.network_name(key)),
            aliases: Some(
                std::iter::once(name.to_owned())
                    .chain(net.aliases.iter().cloned())
                    .collect(),
            ),
            ..Default::default()
        })
        .collect();

    let endpoint_mode = match (layout, swarm.get("endpoint_mode").and_then(Tree::as_str)) {
        (Layout::DnsrrHost, _) | (_, Some("dnsrr")) => EndpointSpecModeEnum::DNSRR,
        (_, Some("vip") | None) => EndpointSpecModeEnum::VIP,
        (_, Some(other)) => {
            warn(
                "deploy.endpoint_mode",
                &format!("{other:?} is not vip or dnsrr; vip is used"),
            );
            EndpointSpecModeEnum::VIP
        }
    };
    let ports = ports(service, layout, &mut warn);
    if endpoint_mode == EndpointSpecModeEnum::DNSRR
        && ports
            .iter()
            .any(|p| p.publish_mode == Some(EndpointPortConfigPublishModeEnum::INGRESS))
    {
        warn("ports", "in ingress mode cannot go with endpoint_mode: dnsrr (Swarm refuses it): use mode: host");
    }

    let mut spec = ServiceSpec {
        name: Some(service_name(&project.name, name)),
        labels: Some(labels),
        task_template: Some(task),
        mode: Some(mode),
        update_config: Some(update_config(swarm.get("update_config"), &mut warn)),
        rollback_config: swarm
            .get("rollback_config")
            .map(|r| rollback_config(r, &mut warn)),
        networks: None,
        endpoint_spec: Some(EndpointSpec {
            mode: Some(endpoint_mode),
            ports: (!ports.is_empty()).then_some(ports),
        }),
    };
    // Networks on the task, as `docker stack deploy` sends them (the service-level field is
    // deprecated).
    if let Some(task) = spec.task_template.as_mut() {
        task.networks = Some(networks);
    }
    let hash = spec_hash(&spec);
    if let Some(labels) = spec.labels.as_mut() {
        labels.insert(SPEC_HASH.into(), hash.clone());
    }
    Converted {
        spec,
        hash,
        warnings,
    }
}

/// A hash of the spec that does not depend on map order (labels are hash maps).
pub fn spec_hash(spec: &ServiceSpec) -> String {
    let mut value = serde_json::to_value(spec).unwrap_or(Tree::Null);
    if let Some(Tree::Object(labels)) = value.get_mut("Labels") {
        labels.remove(SPEC_HASH);
    }
    let text = canonical(&value).to_string();
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn canonical(value: &Tree) -> Tree {
    match value {
        Tree::Object(map) => {
            let sorted: BTreeMap<&String, Tree> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            Tree::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Tree::Array(items) => Tree::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn scalar_text(v: &Tree) -> String {
    match v {
        Tree::String(s) => s.clone(),
        Tree::Null => String::new(),
        other => other.to_string(),
    }
}

fn environment(service: &Service) -> Vec<String> {
    service
        .environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect()
}

fn mounts(
    project: &Project,
    service: &Service,
    warn: &mut impl FnMut(&str, &str),
) -> Option<Vec<SwarmMount>> {
    let mounts: Vec<SwarmMount> = service
        .volumes
        .iter()
        .map(|m| {
            let (typ, source) = match m.kind {
                MountKind::Volume => (
                    MountType::VOLUME,
                    m.source.as_ref().map(|s| project.volume_name(s)),
                ),
                MountKind::Bind => {
                    warn(
                        &format!("volumes ({})", m.target),
                        "is a bind mount: the path must exist on every node the task may run on",
                    );
                    (MountType::BIND, m.source.clone())
                }
                MountKind::Tmpfs => (MountType::TMPFS, None),
            };
            // A volume Swarm creates on a node carries the stack's label, as `docker stack`'s.
            let volume_options =
                (typ == MountType::VOLUME && source.is_some()).then(|| MountVolumeOptions {
                    labels: Some(HashMap::from([(
                        STACK_NAMESPACE.to_owned(),
                        project.name.clone(),
                    )])),
                    ..Default::default()
                });
            SwarmMount {
                target: Some(m.target.clone()),
                source,
                typ: Some(typ),
                read_only: m.read_only.then_some(true),
                volume_options,
                ..Default::default()
            }
        })
        .collect();
    // `tmpfs: [PATH[:OPTIONS]]`: a tmpfs mount each (its options are the engine's own).
    let mut mounts = mounts;
    mounts.extend(service.tmpfs.iter().map(|t| SwarmMount {
        target: Some(t.split(':').next().unwrap_or(t).to_owned()),
        typ: Some(MountType::TMPFS),
        ..Default::default()
    }));
    (!mounts.is_empty()).then_some(mounts)
}

/// `deploy.resources`, each value where it is missing from the service's own keys
/// (`cpus`, `mem_limit`, `pids_limit`, `mem_reservation`), which `docker stack` drops.
fn resources(service: &Service) -> Option<TaskSpecResources> {
    let written = service.deploy.as_ref().map(|d| &d.resources);
    let mut limits = written.and_then(|r| r.limits.clone()).unwrap_or_default();
    limits.cpus = limits.cpus.or(service.cpus);
    limits.memory = limits
        .memory
        .or(service.mem_limit.and_then(|m| u64::try_from(m).ok()));
    limits.pids = limits.pids.or(service.pids_limit);
    let mut reservations = written
        .and_then(|r| r.reservations.clone())
        .unwrap_or_default();
    reservations.memory = reservations
        .memory
        .or(service.mem_reservation.and_then(|m| u64::try_from(m).ok()));
    let nano_cpus = |s: &ResourceSet| s.cpus.map(|c| (c * 1e9) as i64);
    let memory = |s: &ResourceSet| s.memory.and_then(|m| i64::try_from(m).ok());
    let empty = |s: &ResourceSet| s.cpus.is_none() && s.memory.is_none() && s.pids.is_none();
    if empty(&limits) && empty(&reservations) {
        return None;
    }
    Some(TaskSpecResources {
        limits: (!empty(&limits)).then(|| Limit {
            nano_cpus: nano_cpus(&limits),
            memory_bytes: memory(&limits),
            pids: limits.pids,
        }),
        reservations: (!empty(&reservations)).then(|| ResourceObject {
            nano_cpus: nano_cpus(&reservations),
            memory_bytes: memory(&reservations),
            generic_resources: None,
        }),
        ..Default::default()
    })
}

/// `deploy.restart_policy`, else the service's `restart:` (which `docker stack` drops).
fn restart_policy(
    service: &Service,
    written: Option<&Tree>,
    warn: &mut impl FnMut(&str, &str),
) -> TaskSpecRestartPolicy {
    use TaskSpecRestartPolicyConditionEnum as C;
    if let Some(map) = written.and_then(Tree::as_object) {
        let mut policy = TaskSpecRestartPolicy {
            condition: Some(C::ANY),
            ..Default::default()
        };
        for (k, v) in map {
            let key = format!("deploy.restart_policy.{k}");
            match k.as_str() {
                "condition" => match v.as_str() {
                    Some("none") => policy.condition = Some(C::NONE),
                    Some("on-failure") => policy.condition = Some(C::ON_FAILURE),
                    Some("any") => policy.condition = Some(C::ANY),
                    _ => warn(&key, "is not none, on-failure or any; any is used"),
                },
                "delay" => policy.delay = duration(v, &key, warn),
                "window" => policy.window = duration(v, &key, warn),
                "max_attempts" => policy.max_attempts = v.as_i64(),
                _ => warn(&key, "is not a restart policy key; ignored"),
            }
        }
        return policy;
    }
    let (condition, max_attempts) = match service.restart.as_deref() {
        Some("no") => (C::NONE, None),
        Some(p) if p.starts_with("on-failure") => (
            C::ON_FAILURE,
            p.split_once(':').and_then(|(_, n)| n.parse().ok()),
        ),
        _ => (C::ANY, None),
    };
    TaskSpecRestartPolicy {
        condition: Some(condition),
        max_attempts,
        ..Default::default()
    }
}

fn duration(v: &Tree, key: &str, warn: &mut impl FnMut(&str, &str)) -> Option<i64> {
    match v.as_str().map(parse_duration) {
        Some(Ok(d)) => Some(nanos(d)),
        Some(Err(e)) => {
            warn(key, &format!("{e}; ignored"));
            None
        }
        None => {
            warn(key, "is not a duration (e.g. 10s); ignored");
            None
        }
    }
}

fn placement(written: &Tree, warn: &mut impl FnMut(&str, &str)) -> TaskSpecPlacement {
    let mut placement = TaskSpecPlacement::default();
    for (k, v) in written.as_object().into_iter().flatten() {
        let key = format!("deploy.placement.{k}");
        match k.as_str() {
            "constraints" => {
                placement.constraints = v.as_array().map(|a| {
                    a.iter()
                        .filter_map(Tree::as_str)
                        .map(str::to_owned)
                        .collect()
                })
            }
            "preferences" => {
                placement.preferences = v.as_array().map(|a| {
                    a.iter()
                        .filter_map(|p| p.get("spread").and_then(Tree::as_str))
                        .map(|spread| TaskSpecPlacementPreferences {
                            spread: Some(TaskSpecPlacementSpread {
                                spread_descriptor: Some(spread.to_owned()),
                            }),
                        })
                        .collect()
                })
            }
            "max_replicas_per_node" => placement.max_replicas = v.as_i64(),
            _ => warn(&key, "is not a placement key; ignored"),
        }
    }
    placement
}

/// The keys `update_config` and `rollback_config` share, read once.
#[derive(Default)]
struct Rollout {
    parallelism: Option<i64>,
    delay: Option<i64>,
    monitor: Option<i64>,
    max_failure_ratio: Option<f64>,
    failure_action: Option<String>,
    order: Option<String>,
}

fn rollout(written: Option<&Tree>, section: &str, warn: &mut impl FnMut(&str, &str)) -> Rollout {
    let mut r = Rollout::default();
    for (k, v) in written.and_then(Tree::as_object).into_iter().flatten() {
        let key = format!("deploy.{section}.{k}");
        match k.as_str() {
            "parallelism" => r.parallelism = v.as_i64(),
            "delay" => r.delay = duration(v, &key, warn),
            "monitor" => r.monitor = duration(v, &key, warn),
            "max_failure_ratio" => r.max_failure_ratio = v.as_f64(),
            "failure_action" => r.failure_action = v.as_str().map(str::to_owned),
            "order" => r.order = v.as_str().map(str::to_owned),
            _ => warn(&key, "is not an update key; ignored"),
        }
    }
    r
}

/// `update_config`; a failed update rolls back unless `failure_action` says otherwise (Swarm's
/// own default pauses, leaving a half-updated service).
fn update_config(
    written: Option<&Tree>,
    warn: &mut impl FnMut(&str, &str),
) -> ServiceSpecUpdateConfig {
    use ServiceSpecUpdateConfigFailureActionEnum as A;
    let r = rollout(written, "update_config", warn);
    let failure_action = match r.failure_action.as_deref() {
        None | Some("rollback") => A::ROLLBACK,
        Some("pause") => A::PAUSE,
        Some("continue") => A::CONTINUE,
        Some(other) => {
            warn(
                "deploy.update_config.failure_action",
                &format!("{other:?} is not rollback, pause or continue; rollback is used"),
            );
            A::ROLLBACK
        }
    };
    let order = match r.order.as_deref() {
        Some("start-first") => ServiceSpecUpdateConfigOrderEnum::START_FIRST,
        _ => ServiceSpecUpdateConfigOrderEnum::STOP_FIRST,
    };
    ServiceSpecUpdateConfig {
        parallelism: Some(r.parallelism.unwrap_or(1)),
        delay: r.delay,
        failure_action: Some(failure_action),
        monitor: r.monitor,
        max_failure_ratio: r.max_failure_ratio,
        order: Some(order),
    }
}

fn rollback_config(written: &Tree, warn: &mut impl FnMut(&str, &str)) -> ServiceSpecRollbackConfig {
    let r = rollout(Some(written), "rollback_config", warn);
    ServiceSpecRollbackConfig {
        parallelism: r.parallelism,
        delay: r.delay,
        failure_action: r.failure_action.as_deref().map(|a| match a {
            "continue" => ServiceSpecRollbackConfigFailureActionEnum::CONTINUE,
            _ => ServiceSpecRollbackConfigFailureActionEnum::PAUSE,
        }),
        monitor: r.monitor,
        max_failure_ratio: r.max_failure_ratio,
        order: r.order.as_deref().map(|o| match o {
            "start-first" => ServiceSpecRollbackConfigOrderEnum::START_FIRST,
            _ => ServiceSpecRollbackConfigOrderEnum::STOP_FIRST,
        }),
    }
}

fn ports(
    service: &Service,
    layout: Layout,
    warn: &mut impl FnMut(&str, &str),
) -> Vec<EndpointPortConfig> {
    let mut out = Vec::new();
    for p in &service.ports {
        if p.host_ip.is_some() {
            warn(
                &format!("ports ({})", p.target),
                "host_ip cannot be set in Swarm; the port is published on every address",
            );
        }
        let published = match p.published.as_deref() {
            None => None,
            Some(text) => {
                match text.parse::<i64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        warn(&format!("ports ({})", p.target), &format!("publishes a range ({text}), which Swarm cannot; Swarm picks a port"));
                        None
                    }
                }
            }
        };
        let host = layout == Layout::DnsrrHost || p.mode == "host";
        out.push(EndpointPortConfig {
            protocol: Some(match p.protocol.as_str() {
                "udp" => EndpointPortConfigProtocolEnum::UDP,
                "sctp" => EndpointPortConfigProtocolEnum::SCTP,
                _ => EndpointPortConfigProtocolEnum::TCP,
            }),
            target_port: Some(i64::from(p.target)),
            published_port: published,
            publish_mode: Some(if host {
                EndpointPortConfigPublishModeEnum::HOST
            } else {
                EndpointPortConfigPublishModeEnum::INGRESS
            }),
            ..Default::default()
        });
    }
    out
}
