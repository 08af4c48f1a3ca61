//! From a service of the model to the engine's container-create request, with Compose's labels.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{
    ContainerCreateBody, DeviceMapping, DeviceRequest, EndpointSettings, HealthConfig, HostConfig,
    HostConfigCgroupnsModeEnum, HostConfigLogConfig, Ipam, IpamConfig, Mount, MountType,
    NetworkingConfig, PortBinding, ResourcesBlkioWeightDevice, ResourcesUlimits, RestartPolicy,
    RestartPolicyNameEnum, ThrottleDevice,
};

use super::labels;
use crate::project::model::{
    BlkioDevice, DeployRestartPolicy, Healthcheck, MountKind, Network, Project, Service,
};

/// A health check as the engine takes it (a container's or a Swarm service's); values left
/// unset stay unset, for the engine's defaults. `start_interval` only where the engine takes
/// it (API 1.44 and newer; `converge` warns on older engines).
pub fn health_config(h: &Healthcheck, start_interval: bool) -> HealthConfig {
    HealthConfig {
        test: Some(h.test.clone()),
        interval: h.interval.map(nanos),
        timeout: h.timeout.map(nanos),
        retries: h.retries.map(i64::from),
        start_period: h.start_period.map(nanos),
        start_interval: start_interval
            .then(|| h.start_interval.map(nanos))
            .flatten(),
    }
}

/// What a container needs besides its service's configuration.
pub struct ContainerPlan<'a> {
    pub project: &'a Project,
    pub service_name: &'a str,
    pub service: &'a Service,
    pub name: String,
    pub number: u32,
    pub oneoff: bool,
    pub image: String,
    pub image_id: String,
    pub config_hash: String,
    /// Network aliases besides the service name: the aliases of other services' links to it.
    pub aliases: Vec<String>,
    /// Container path -> the labelled volume that holds it, for anonymous volumes.
    pub anonymous_volumes: BTreeMap<String, String>,
    /// `volumes_from` resolved to container names.
    pub volumes_from: Vec<String>,
    /// Overrides for one-off runs: a command, and extra environment.
    pub command: Option<Vec<String>>,
    pub extra_env: Vec<String>,
    /// The engine takes `healthcheck.start_interval` (API 1.44+).
    pub start_interval: bool,
}

/// The service's networks as (engine network name, aliases), the first one attached at
/// creation, the rest connected after it (API 1.41 takes one network per create).
pub fn endpoints(plan: &ContainerPlan) -> Vec<(String, EndpointSettings)> {
    if plan.service.network_mode.is_some() {
        return Vec::new(); // the container shares a namespace, or uses host/none/bridge
    }
    plan.service
        .networks
        .iter()
        .map(|(key, attachment)| {
            let engine_name = plan.project.network_name(key);
            let mut aliases = vec![plan.service_name.to_owned()];
            if key == "default" || plan.service.networks.len() == 1 {
                aliases.extend(plan.aliases.iter().cloned());
            }
            aliases.extend(attachment.aliases.iter().cloned());
            aliases.dedup();
            let external_links = &plan.service.external_links;
            let settings = EndpointSettings {
                aliases: if plan.oneoff { None } else { Some(aliases) },
                // On user-defined networks the engine takes links per endpoint, as Compose
                // puts `external_links` there.
                links: (!external_links.is_empty()).then(|| external_links.clone()),
                ipam_config: attachment.ipv4_address.as_ref().map(|ip| {
                    bollard::models::EndpointIpamConfig {
                        ipv4_address: Some(ip.clone()),
                        ..Default::default()
                    }
                }),
                ..Default::default()
            };
            (engine_name, settings)
        })
        .collect()
}

/// The labels Compose puts on a container.
fn container_labels(plan: &ContainerPlan) -> HashMap<String, String> {
    let project = plan.project;
    let mut l: HashMap<String, String> = plan
        .service
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let depends_on = plan
        .service
        .depends_on
        .iter()
        .map(|(name, d)| {
            let condition = serde_json::to_value(d.condition)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{name}:{condition}:{}", d.restart)
        })
        .collect::<Vec<_>>()
        .join(",");
    let files = project
        .config_files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(",");
    for (k, v) in [
        (labels::PROJECT, project.name.clone()),
        (labels::SERVICE, plan.service_name.to_owned()),
        (labels::NUMBER, plan.number.to_string()),
        (
            labels::ONEOFF,
            if plan.oneoff { "True" } else { "False" }.to_owned(),
        ),
        (labels::CONFIG_HASH, plan.config_hash.clone()),
        (
            labels::WORKING_DIR,
            project.working_dir.display().to_string(),
        ),
        (labels::CONFIG_FILES, files),
        (labels::DEPENDS_ON, depends_on),
        (labels::VERSION, labels::version()),
        (labels::IMAGE, plan.image_id.clone()),
    ] {
        l.insert(k.to_owned(), v);
    }
    l
}

/// `restart:`, else `deploy.restart_policy` as Compose maps it (`none` is `no`, `any` is
/// `always`, `max_attempts` the retry count).
fn restart_policy(
    policy: Option<&str>,
    deploy: Option<&DeployRestartPolicy>,
) -> Option<RestartPolicy> {
    let from_deploy;
    let policy = match (policy, deploy) {
        (Some(p), _) => p,
        (None, Some(d)) => {
            let name = match d.condition.as_deref() {
                Some("none") => "no",
                Some("on-failure") => "on-failure",
                _ => "always",
            };
            from_deploy = match (name, d.max_attempts) {
                ("on-failure", Some(n)) => format!("{name}:{n}"),
                _ => name.to_owned(),
            };
            &from_deploy
        }
        (None, None) => return None,
    };
    let (name, count) = match policy.split_once(':') {
        Some((n, c)) => (n, c.parse().ok()),
        None => (policy, None),
    };
    let name = match name {
        "always" => RestartPolicyNameEnum::ALWAYS,
        "unless-stopped" => RestartPolicyNameEnum::UNLESS_STOPPED,
        "on-failure" => RestartPolicyNameEnum::ON_FAILURE,
        _ => RestartPolicyNameEnum::NO,
    };
    Some(RestartPolicy {
        name: Some(name),
        maximum_retry_count: count,
    })
}

/// A namespace shared with another service (`service:db`) names that service's first
/// container, as the engine wants it (`container:project-db-1`); other modes pass as written.
pub fn namespace_mode(project: &Project, mode: &str) -> String {
    match mode.strip_prefix("service:") {
        Some(service) => {
            let container = project
                .services
                .get(service)
                .and_then(|s| s.container_name.clone())
                .unwrap_or_else(|| labels::container_name(&project.name, service, 1));
            format!("container:{container}")
        }
        None => mode.to_owned(),
    }
}

/// A network's `ipam`, as the network-create request takes it.
pub fn network_ipam(network: &Network) -> Option<Ipam> {
    let ipam = network.ipam.as_ref()?;
    Some(Ipam {
        driver: ipam.driver.clone(),
        config: Some(
            ipam.config
                .iter()
                .map(|pool| IpamConfig {
                    subnet: pool.subnet.clone(),
                    ip_range: pool.ip_range.clone(),
                    gateway: pool.gateway.clone(),
                    auxiliary_addresses: Some(pool.aux_addresses.clone().into_iter().collect()),
                })
                .collect(),
        ),
        options: Some(ipam.options.clone().into_iter().collect()),
    })
}

/// The host settings of the keys that are plain engine options: logging, limits, namespaces,
/// devices, DNS, security. `deploy.resources` wins over the short keys (`mem_limit`, `cpus`,
/// `pids_limit`), as in Compose.
fn runtime_options(plan: &ContainerPlan) -> HostConfig {
    let s = plan.service;
    let limits = s.deploy.as_ref().and_then(|d| d.resources.limits.as_ref());
    let reservations = s
        .deploy
        .as_ref()
        .and_then(|d| d.resources.reservations.as_ref());
    let tmpfs: HashMap<String, String> = s
        .tmpfs
        .iter()
        .map(|t| match t.split_once(':') {
            Some((path, options)) => (path.to_owned(), options.to_owned()),
            None => (t.clone(), String::new()),
        })
        .collect();
    let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    HostConfig {
        log_config: s.logging.as_ref().map(|l| HostConfigLogConfig {
            typ: l.driver.clone(),
            config: Some(l.options.clone().into_iter().collect()),
        }),
        ulimits: ulimits(s),
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        shm_size: s.shm_size,
        sysctls: (!s.sysctls.is_empty()).then(|| s.sysctls.clone().into_iter().collect()),
        memory: limits
            .and_then(|l| l.memory)
            .map(|m| m as i64)
            .or(s.mem_limit),
        memory_swap: s.memswap_limit,
        memory_reservation: reservations
            .and_then(|r| r.memory)
            .map(|m| m as i64)
            .or(s.mem_reservation),
        nano_cpus: limits
            .and_then(|l| l.cpus)
            .or(s.cpus)
            .map(|c| (c * 1e9) as i64),
        cpu_shares: s.cpu_shares,
        cpuset_cpus: s.cpuset.clone(),
        pids_limit: limits.and_then(|l| l.pids).or(s.pids_limit),
        privileged: Some(s.privileged),
        security_opt: non_empty(&s.security_opt),
        devices: (!s.devices.is_empty()).then(|| {
            s.devices
                .iter()
                .map(|d| DeviceMapping {
                    path_on_host: Some(d.source.clone()),
                    path_in_container: Some(d.target.clone()),
                    cgroup_permissions: Some(d.permissions.clone()),
                })
                .collect()
        }),
        dns: non_empty(&s.dns),
        dns_search: non_empty(&s.dns_search),
        dns_options: non_empty(&s.dns_opt),
        pid_mode: s.pid.as_deref().map(|m| namespace_mode(plan.project, m)),
        ipc_mode: s.ipc.as_deref().map(|m| namespace_mode(plan.project, m)),
        group_add: non_empty(&s.group_add),
        runtime: s.runtime.clone(),
        oom_score_adj: s.oom_score_adj,
        cgroupns_mode: s.cgroup.as_deref().map(|c| match c {
            "host" => HostConfigCgroupnsModeEnum::HOST,
            _ => HostConfigCgroupnsModeEnum::PRIVATE,
        }),
        cgroup_parent: s.cgroup_parent.clone(),
        cpu_period: s.cpu_period,
        cpu_quota: s.cpu_quota,
        cpu_realtime_period: s.cpu_rt_period,
        cpu_realtime_runtime: s.cpu_rt_runtime,
        device_cgroup_rules: non_empty(&s.device_cgroup_rules),
        memory_swappiness: s.mem_swappiness,
        oom_kill_disable: s.oom_kill_disable.then_some(true),
        storage_opt: (!s.storage_opt.is_empty())
            .then(|| s.storage_opt.clone().into_iter().collect()),
        userns_mode: s.userns_mode.clone(),
        uts_mode: s.uts.clone(),
        volume_driver: s.volume_driver.clone(),
        device_requests: (!s.gpus.is_empty()).then(|| {
            s.gpus
                .iter()
                .map(|g| DeviceRequest {
                    driver: g.driver.clone(),
                    count: g.count,
                    device_ids: (!g.device_ids.is_empty()).then(|| g.device_ids.clone()),
                    // Compose asks for the `gpu` capability besides those written.
                    capabilities: Some(vec![std::iter::once("gpu".to_owned())
                        .chain(g.capabilities.iter().filter(|c| *c != "gpu").cloned())
                        .collect()]),
                    options: Some(g.options.clone().into_iter().collect()),
                })
                .collect()
        }),
        ..blkio(s)
    }
}

/// `blkio_config` as the engine's block IO settings.
fn blkio(s: &Service) -> HostConfig {
    let Some(b) = &s.blkio_config else {
        return HostConfig::default();
    };
    let throttle = |devices: &[BlkioDevice]| {
        (!devices.is_empty()).then(|| {
            devices
                .iter()
                .map(|d| ThrottleDevice {
                    path: Some(d.path.clone()),
                    rate: Some(d.rate),
                })
                .collect()
        })
    };
    HostConfig {
        blkio_weight: b.weight.map(|w| w as u16),
        blkio_weight_device: (!b.weight_device.is_empty()).then(|| {
            b.weight_device
                .iter()
                .map(|d| ResourcesBlkioWeightDevice {
                    path: Some(d.path.clone()),
                    weight: Some(d.weight as usize),
                })
                .collect()
        }),
        blkio_device_read_bps: throttle(&b.device_read_bps),
        blkio_device_write_bps: throttle(&b.device_write_bps),
        blkio_device_read_iops: throttle(&b.device_read_iops),
        blkio_device_write_iops: throttle(&b.device_write_iops),
        ..Default::default()
    }
}

/// A duration in the engine's nanoseconds.
/// A service's `ulimits` as the engine takes them, for a container or a Swarm task alike.
pub fn ulimits(s: &Service) -> Option<Vec<ResourcesUlimits>> {
    (!s.ulimits.is_empty()).then(|| {
        s.ulimits
            .iter()
            .map(|(name, u)| ResourcesUlimits {
                name: Some(name.clone()),
                soft: Some(u.soft),
                hard: Some(u.hard),
            })
            .collect()
    })
}

pub fn nanos(d: std::time::Duration) -> i64 {
    d.as_nanos().min(i64::MAX as u128) as i64
}

/// The create request for one container of the plan's service.
pub fn container_body(plan: &ContainerPlan) -> ContainerCreateBody {
    let s = plan.service;
    let project = plan.project;
    let mut exposed: Vec<String> = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &s.ports {
        let key = format!("{}/{}", p.target, p.protocol);
        exposed.push(key.clone());
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: p.host_ip.clone(),
                host_port: Some(p.published.clone().unwrap_or_default()),
            });
    }
    for e in &s.expose {
        let (ports, proto) = e.split_once('/').unwrap_or((e.as_str(), "tcp"));
        let range: Vec<u16> = match ports.split_once('-') {
            Some((a, b)) => match (a.parse::<u16>(), b.parse::<u16>()) {
                (Ok(a), Ok(b)) => (a..=b).collect(),
                _ => vec![],
            },
            None => ports.parse().into_iter().collect(),
        };
        exposed.extend(range.into_iter().map(|p| format!("{p}/{proto}")));
    }
    exposed.sort();
    exposed.dedup();

    let mut mounts = Vec::new();
    let mut binds = Vec::new();
    for m in &s.volumes {
        match (m.kind, &m.source) {
            (MountKind::Bind, Some(src)) => binds.push(format!(
                "{src}:{}{}",
                m.target,
                if m.read_only { ":ro" } else { "" }
            )),
            (MountKind::Volume, Some(src)) => mounts.push(Mount {
                typ: Some(MountType::VOLUME),
                source: Some(project.volume_name(src)),
                target: Some(m.target.clone()),
                read_only: Some(m.read_only),
                ..Default::default()
            }),
            (MountKind::Tmpfs, _) => mounts.push(Mount {
                typ: Some(MountType::TMPFS),
                target: Some(m.target.clone()),
                ..Default::default()
            }),
            _ => {}
        }
    }
    for (path, volume) in &plan.anonymous_volumes {
        let read_only = s.volumes.iter().any(|m| &m.target == path && m.read_only);
        mounts.push(Mount {
            typ: Some(MountType::VOLUME),
            source: Some(volume.clone()),
            target: Some(path.clone()),
            read_only: Some(read_only),
            ..Default::default()
        });
    }
    for (kind, refs, defined) in [
        ("secret", &s.secrets, &project.secrets),
        ("config", &s.configs, &project.configs),
    ] {
        for r in refs {
            let name = &r.source;
            let target = r.target.clone().unwrap_or_else(|| format!("/{name}"));
            if let Some(file) = defined.get(name).and_then(|o| o.file.as_ref()) {
                binds.push(format!("{}:{target}:ro", file.display()));
            } else {
                tracing::warn!(
                    service = plan.service_name,
                    kind,
                    name,
                    "only file-based secrets and configs are mounted"
                );
            }
        }
    }

    let mut env: Vec<String> = s
        .environment
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
    env.extend(plan.extra_env.iter().cloned());

    let healthcheck = s
        .healthcheck
        .as_ref()
        .map(|h| health_config(h, plan.start_interval));

    let mut endpoints = endpoints(plan);
    let first = if endpoints.is_empty() {
        None
    } else {
        Some(endpoints.remove(0))
    };
    let network_mode = match &s.network_mode {
        Some(mode) => Some(namespace_mode(project, mode)),
        None => first.as_ref().map(|(name, _)| name.clone()),
    };

    ContainerCreateBody {
        image: Some(plan.image.clone()),
        cmd: plan.command.clone().or_else(|| s.command.clone()),
        entrypoint: s.entrypoint.clone(),
        env: Some(env),
        labels: Some(container_labels(plan)),
        exposed_ports: Some(exposed),
        healthcheck,
        user: s.user.clone(),
        working_dir: s.working_dir.clone(),
        hostname: s.hostname.clone(),
        domainname: s.domainname.clone(),
        stop_signal: s.stop_signal.clone(),
        stop_timeout: s.stop_grace_period.map(|d| d.as_secs() as i64),
        tty: Some(s.tty),
        open_stdin: Some(s.stdin_open),
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
            binds: Some(binds),
            mounts: Some(mounts),
            volumes_from: Some(plan.volumes_from.clone()),
            restart_policy: if plan.oneoff {
                None
            } else {
                restart_policy(
                    s.restart.as_deref(),
                    s.deploy.as_ref().and_then(|d| d.restart_policy.as_ref()),
                )
            },
            init: s.init,
            readonly_rootfs: Some(s.read_only),
            cap_add: Some(s.cap_add.clone()),
            cap_drop: Some(s.cap_drop.clone()),
            extra_hosts: Some(s.extra_hosts.clone()),
            network_mode,
            ..runtime_options(plan)
        }),
        networking_config: first.map(|(name, settings)| NetworkingConfig {
            endpoints_config: Some(HashMap::from([(name, settings)])),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `privileged` cannot be started on a nested engine (its capabilities are not ours to
    /// give), nor `gpus` without a GPU, so the engine tests cannot read them back: the
    /// request is checked here.
    #[test]
    fn privileged_and_service_namespaces_are_in_the_request() {
        let mut project = Project::new("p", Default::default());
        project.services.insert("db".into(), Service::default());
        let service = Service {
            privileged: true,
            network_mode: Some("service:db".into()),
            pid: Some("container:other".into()),
            // `uts: host` cannot be started beside the engine tests' `domainname` either.
            uts: Some("host".into()),
            gpus: vec![crate::project::model::GpuRequest {
                count: Some(-1),
                ..Default::default()
            }],
            ..Service::default()
        };
        let plan = ContainerPlan {
            project: &project,
            service_name: "web",
            service: &service,
            name: "p-web-1".into(),
            number: 1,
            oneoff: false,
            image: "i".into(),
            image_id: "sha256:1".into(),
            config_hash: "h".into(),
            aliases: Vec::new(),
            anonymous_volumes: BTreeMap::new(),
            volumes_from: Vec::new(),
            command: None,
            extra_env: Vec::new(),
            start_interval: false,
        };
        let host = container_body(&plan).host_config.unwrap();
        assert_eq!(host.privileged, Some(true));
        assert_eq!(host.network_mode.as_deref(), Some("container:p-db-1"));
        assert_eq!(host.pid_mode.as_deref(), Some("container:other"));
        assert_eq!(host.uts_mode.as_deref(), Some("host"));
        let gpus = host.device_requests.expect("gpus are requested");
        assert_eq!(gpus[0].count, Some(-1));
        assert_eq!(gpus[0].capabilities, Some(vec![vec!["gpu".to_owned()]]));
        assert!(endpoints(&plan).is_empty(), "no network is joined");
    }
}
