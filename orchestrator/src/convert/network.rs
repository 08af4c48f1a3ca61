//! Who reaches whom, and the Services that make it possible.
//!
//! A service is reached when another one names it in `depends_on` or `links`, or as a host in
//! a variable's value (`postgres://...@postgres:5432/db`). Each reached service gets a
//! ClusterIP Service under its own name, so the names in the compose file resolve as they did;
//! its ports are those it exposes, publishes, or is reached on (`:5432` after its name). A
//! reached service with no known port gets a headless Service: the name resolves to its ready
//! pods, on any port. Published ports get a second Service, `NAME-public`, of the type the
//! user chose (LoadBalancer or NodePort).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::{
    api::core::v1::{Service as KubeService, ServicePort, ServiceSpec},
    apimachinery::pkg::util::intstr::IntOrString,
};

use super::{label_name, metadata, selector, workload::is_stateful, Object, Options, Published};
use crate::project::{model::Service, Project};

/// One port a container listens on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContainerPort {
    pub port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
}

impl ContainerPort {
    /// The port's name in Services and containers (an IANA service name: at most 15
    /// characters).
    pub fn name(&self) -> String {
        format!("{}-{}", self.protocol.to_ascii_lowercase(), self.port)
    }
}

/// Which services others reach, and on which ports.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Service -> the services that reach it.
    pub reached_by: BTreeMap<String, BTreeSet<String>>,
    /// Service -> ports others name after its host name.
    pub named_ports: BTreeMap<String, BTreeSet<u16>>,
    /// Service -> link aliases other than its name, each a Service of its own.
    pub aliases: BTreeMap<String, BTreeSet<String>>,
}

impl Reach {
    /// True when the service gets a Service under its own name.
    pub fn needs_service(&self, name: &str, service: &Service) -> bool {
        self.reached_by.contains_key(name) || is_stateful(service)
    }
}

/// The ports `host` is named with in `value` (`host:5432`), and whether it is named at all:
/// `Some` when `host` stands as a whole host name (not inside a longer word).
pub fn host_mentions(value: &str, host: &str) -> Option<BTreeSet<u16>> {
    let is_host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut found = None;
    for (i, _) in value.match_indices(host) {
        let before = value[..i].chars().next_back();
        let after = &value[i + host.len()..];
        let scheme = after.starts_with("://");
        if scheme || before.is_some_and(is_host_char) || after.starts_with(is_host_char) {
            continue;
        }
        let ports = found.get_or_insert_with(BTreeSet::new);
        if let Some(digits) = after.strip_prefix(':') {
            let end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            if let Ok(port) = digits[..end].parse::<u16>() {
                ports.insert(port);
            }
        }
    }
    found
}

/// Finds who reaches whom.
pub fn reach(project: &Project, warnings: &mut Vec<String>) -> Reach {
    let mut reach = Reach::default();
    for (from, service) in &project.services {
        for to in service.dependencies() {
            reach
                .reached_by
                .entry(to.to_owned())
                .or_default()
                .insert(from.clone());
        }
        for link in &service.links {
            if link.alias != link.service {
                reach
                    .aliases
                    .entry(link.service.clone())
                    .or_default()
                    .insert(link.alias.clone());
            }
        }
        for to in project.services.keys().filter(|to| *to != from) {
            for value in service.environment.values().flatten() {
                if let Some(ports) = host_mentions(value, to) {
                    reach
                        .reached_by
                        .entry(to.clone())
                        .or_default()
                        .insert(from.clone());
                    reach
                        .named_ports
                        .entry(to.clone())
                        .or_default()
                        .extend(ports);
                }
            }
        }
        for (network, attachment) in &service.networks {
            if !attachment.aliases.is_empty() {
                warnings.push(format!(
                    "services.{from}.networks.{network}.aliases ({}): not converted; a pod is \
                     reached by its Service's name only",
                    attachment.aliases.join(", ")
                ));
            }
        }
    }
    let networks: BTreeSet<&String> = project
        .services
        .values()
        .flat_map(|s| s.networks.keys())
        .filter(|n| *n != "default")
        .collect();
    if !networks.is_empty() || project.networks.values().any(|n| n.internal) {
        let names: Vec<&str> = networks.iter().map(|n| n.as_str()).collect();
        warnings.push(format!(
            "networks ({}): Kubernetes gives all pods one network; isolate them with \
             NetworkPolicies",
            names.join(", ")
        ));
    }
    reach
}

/// Every port a service's container listens on: exposed, published, and named by others.
pub fn container_ports(name: &str, service: &Service, reach: &Reach) -> Vec<ContainerPort> {
    let mut ports = BTreeSet::new();
    for expose in &service.expose {
        let (range, protocol) = expose.split_once('/').unwrap_or((expose, "tcp"));
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        if let (Ok(first), Ok(last)) = (first.parse::<u16>(), last.parse::<u16>()) {
            for port in first..=last {
                ports.insert(ContainerPort {
                    port,
                    protocol: protocol.to_ascii_uppercase(),
                });
            }
        }
    }
    for p in &service.ports {
        ports.insert(ContainerPort {
            port: p.target,
            protocol: p.protocol.to_ascii_uppercase(),
        });
    }
    for &port in reach.named_ports.get(name).into_iter().flatten() {
        ports.insert(ContainerPort {
            port,
            protocol: "TCP".into(),
        });
    }
    ports.into_iter().collect()
}

fn service_port(port: u16, target: u16, protocol: &str, node_port: Option<i32>) -> ServicePort {
    ServicePort {
        name: Some(
            ContainerPort {
                port,
                protocol: protocol.into(),
            }
            .name(),
        ),
        port: i32::from(port),
        target_port: Some(IntOrString::Int(i32::from(target))),
        protocol: Some(protocol.into()),
        node_port,
        ..ServicePort::default()
    }
}

fn service_object(name: &str, project: &str, service: &str, spec: ServiceSpec) -> Object {
    Object::Service(KubeService {
        metadata: metadata(name, project, Some(service)),
        spec: Some(ServiceSpec {
            selector: Some(selector(project, Some(service))),
            ..spec
        }),
        ..KubeService::default()
    })
}

/// The Services: one per reached service (and per link alias), one per service that
/// publishes ports.
pub fn services(
    project: &Project,
    reach: &Reach,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Vec<Object> {
    let mut objects = Vec::new();
    for (name, service) in &project.services {
        if reach.needs_service(name, service) {
            let ports = container_ports(name, service, reach);
            let spec = if ports.is_empty() {
                if let Some(by) = reach.reached_by.get(name) {
                    let by: Vec<&str> = by.iter().map(String::as_str).collect();
                    warnings.push(format!(
                        "services.{name} is reached by {} but names no port: its Service is \
                         headless (the name resolves to its ready pods); add `expose:` for a \
                         stable cluster IP",
                        by.join(", ")
                    ));
                }
                ServiceSpec {
                    cluster_ip: Some("None".into()),
                    ..ServiceSpec::default()
                }
            } else {
                ServiceSpec {
                    ports: Some(
                        ports
                            .iter()
                            .map(|p| service_port(p.port, p.port, &p.protocol, None))
                            .collect(),
                    ),
                    ..ServiceSpec::default()
                }
            };
            for alias in reach.aliases.get(name).into_iter().flatten() {
                objects.push(service_object(
                    &label_name(alias),
                    &project.name,
                    name,
                    spec.clone(),
                ));
            }
            objects.push(service_object(&label_name(name), &project.name, name, spec));
        }
        if let Some(spec) = published(name, service, options, warnings) {
            let public = format!("{}-public", label_name(name));
            objects.push(service_object(&public, &project.name, name, spec));
        }
    }
    objects
}

/// The Service for a service's published ports, if it publishes any.
fn published(
    name: &str,
    service: &Service,
    options: &Options,
    warnings: &mut Vec<String>,
) -> Option<ServiceSpec> {
    let mut ports: Vec<ServicePort> = Vec::new();
    for (i, p) in service.ports.iter().enumerate() {
        let Some(published) = &p.published else {
            continue;
        };
        let path = format!("services.{name}.ports[{i}]");
        let host_port = published
            .split('-')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or(p.target);
        if published.contains('-') {
            warnings.push(format!(
                "{path}: the host port range {published} becomes its first port, {host_port}"
            ));
        }
        if let Some(ip) = &p.host_ip {
            warnings.push(format!(
                "{path}: host_ip {ip} is not converted; the Service listens on every address"
            ));
        }
        let node_port = match options.published {
            Published::NodePort if (30000..=32767).contains(&host_port) => {
                Some(i32::from(host_port))
            }
            Published::NodePort => {
                warnings.push(format!(
                    "{path}: {host_port} is outside the node port range (30000-32767); \
                     Kubernetes picks the node port"
                ));
                None
            }
            Published::LoadBalancer => None,
        };
        let port = service_port(
            host_port,
            p.target,
            &p.protocol.to_ascii_uppercase(),
            node_port,
        );
        if !ports.iter().any(|q| q.name == port.name) {
            ports.push(port);
        }
    }
    (!ports.is_empty()).then(|| ServiceSpec {
        type_: Some(
            match options.published {
                Published::LoadBalancer => "LoadBalancer",
                Published::NodePort => "NodePort",
            }
            .into(),
        ),
        ports: Some(ports),
        ..ServiceSpec::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_name_is_found_with_its_port_but_not_inside_other_words() {
        let url = "postgres://board:pw@postgres:5432/board";
        assert_eq!(host_mentions(url, "postgres"), Some(BTreeSet::from([5432])));
        assert_eq!(host_mentions("redis", "redis"), Some(BTreeSet::new()));
        assert_eq!(host_mentions("http://myapp:80/", "app"), None);
        assert_eq!(host_mentions("app.example.com", "app"), None);
        assert_eq!(host_mentions("info", "app"), None);
        assert_eq!(
            host_mentions("redis://cache:6379", "redis"),
            None,
            "a scheme"
        );
    }
}
