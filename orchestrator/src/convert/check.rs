//! What the API server would reject, or what would break quietly, that a schema does not see:
//! names that are not DNS-1123 labels, selectors that miss their own pods, Services that
//! select nothing, probes on ports the container does not expose, secret values written in
//! clear in a pod spec, and ConfigMaps, Secrets, keys or volumes a pod uses that nothing makes.
//! Run on every conversion; any finding is an error.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::{
    api::core::v1::{Container, PodTemplateSpec, Probe},
    apimachinery::pkg::util::intstr::IntOrString,
};

use super::{env::MIN_SECRET_LEN, Object};

/// A DNS-1123 label: at most 63 lower-case letters, digits and `-`, starting and ending
/// with a letter or digit.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A label or annotation key: an optional DNS prefix and `/`, then at most 63 letters, digits,
/// `-`, `_` and `.`, starting and ending with a letter or digit.
pub fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
    let prefix_ok =
        prefix.is_empty() || (prefix.len() <= 253 && prefix.split('.').all(is_dns_label));
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    prefix_ok && name_ok
}

/// A Kubernetes quantity: `1Gi`, `500Mi`, `1.5`, `250m`, `1e3`.
pub fn is_quantity(s: &str) -> bool {
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_end);
    let number_ok = !number.is_empty() && number != "." && number.matches('.').count() <= 1;
    let suffix_ok = [
        "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "m", "k", "M", "G", "T", "P", "E",
    ]
    .contains(&suffix)
        || suffix
            .strip_prefix(['e', 'E'])
            .is_some_and(|e| e.trim_start_matches(['+', '-']).parse::<u32>().is_ok());
    number_ok && suffix_ok
}

/// Every problem found in `objects`, one sentence each; empty when all is well. `provided`
/// names the ConfigMaps and Secrets the user makes (external ones), which pods may use.
pub fn all(objects: &[Object], provided: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for o in objects {
        let what = format!("{} {}", o.kind(), o.name());
        if !seen.insert((o.kind(), o.name())) {
            problems.push(format!("{what} is made twice"));
        }
        if !is_dns_label(o.name()) {
            problems.push(format!("{what}: the name is not a DNS-1123 label"));
        }
    }
    let pods = pods(objects);
    for pod in &pods {
        let what = &pod.what;
        if pod.selector.is_empty() || !is_subset(&pod.selector, &pod.labels()) {
            problems.push(format!(
                "{what}: the selector does not match the pod's labels"
            ));
        }
        pod_problems(what, pod.template, &mut problems);
        references(pod, objects, provided, &mut problems);
    }
    for o in objects {
        if let Object::Service(service) = o {
            let selector = service
                .spec
                .as_ref()
                .and_then(|s| s.selector.clone())
                .unwrap_or_default();
            let selects = pods
                .iter()
                .any(|pod| !selector.is_empty() && is_subset(&selector, &pod.labels()));
            if !selects {
                problems.push(format!("Service {}: selects no pod", o.name()));
            }
            for port in service.spec.iter().flat_map(|s| s.ports.iter().flatten()) {
                if !port.name.as_deref().is_some_and(is_port_name) {
                    problems.push(format!(
                        "Service {}: port {} needs a valid name",
                        o.name(),
                        port.port
                    ));
                }
            }
        }
    }
    secrets_in_pods(objects, &pods, &mut problems);
    problems
}

fn is_subset(small: &BTreeMap<String, String>, big: &BTreeMap<String, String>) -> bool {
    small.iter().all(|(k, v)| big.get(k) == Some(v))
}

/// An IANA service name, as ports are named: at most 15 characters, a letter among them.
fn is_port_name(name: &str) -> bool {
    name.len() <= 15 && is_dns_label(name) && name.bytes().any(|b| b.is_ascii_lowercase())
}

/// A workload's pod, as the checks see it.
struct Pod<'o> {
    /// `Deployment NAME` or `StatefulSet NAME`.
    what: String,
    selector: BTreeMap<String, String>,
    template: &'o PodTemplateSpec,
    /// The StatefulSet's claim templates, which its containers mount like volumes.
    claims: Vec<&'o str>,
}

impl Pod<'_> {
    fn labels(&self) -> BTreeMap<String, String> {
        let meta = self.template.metadata.as_ref();
        meta.and_then(|m| m.labels.clone()).unwrap_or_default()
    }
}

/// Every workload's pod.
fn pods(objects: &[Object]) -> Vec<Pod<'_>> {
    objects
        .iter()
        .filter_map(|o| {
            let (selector, template, claims) = match o {
                Object::Deployment(d) => {
                    let spec = d.spec.as_ref()?;
                    (&spec.selector, &spec.template, Vec::new())
                }
                Object::StatefulSet(s) => {
                    let spec = s.spec.as_ref()?;
                    let templates = spec.volume_claim_templates.iter().flatten();
                    let claims = templates.filter_map(|c| c.metadata.name.as_deref());
                    (&spec.selector, &spec.template, claims.collect())
                }
                _ => return None,
            };
            Some(Pod {
                what: format!("{} {}", o.kind(), o.name()),
                selector: selector.match_labels.clone().unwrap_or_default(),
                template,
                claims,
            })
        })
        .collect()
}

/// The keys of an object's text and binary maps together.
fn key_names<'o, A, B>(
    text: &'o Option<BTreeMap<String, A>>,
    binary: &'o Option<BTreeMap<String, B>>,
) -> BTreeSet<&'o str> {
    let text = text.iter().flat_map(|m| m.keys());
    let binary = binary.iter().flat_map(|m| m.keys());
    text.chain(binary).map(String::as_str).collect()
}

/// The keys of each ConfigMap and Secret the conversion makes, by kind and name.
fn keys(objects: &[Object]) -> BTreeMap<(&'static str, &str), BTreeSet<&str>> {
    let mut keys = BTreeMap::new();
    for o in objects {
        let names = match o {
            Object::ConfigMap(c) => key_names(&c.data, &c.binary_data),
            Object::Secret(s) => key_names(&s.string_data, &s.data),
            _ => continue,
        };
        keys.insert((o.kind(), o.name()), names);
    }
    keys
}

/// Every ConfigMap, Secret, key and volume a pod uses must exist (or be the user's to make).
fn references(
    pod: &Pod,
    objects: &[Object],
    provided: &BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    let keys = keys(objects);
    let missing = |kind: &'static str, name: &str, key: Option<&str>| {
        if provided.contains(name) {
            return None;
        }
        match (keys.get(&(kind, name)), key) {
            (None, _) => Some(format!(
                "{}: uses {kind} {name}, which is not made",
                pod.what
            )),
            (Some(found), Some(key)) if !found.contains(key) => Some(format!(
                "{}: uses key {key} of {kind} {name}, which it does not hold",
                pod.what
            )),
            (Some(_), _) => None,
        }
    };
    let Some(spec) = &pod.template.spec else {
        return;
    };
    let mut volumes: BTreeSet<&str> = pod.claims.iter().copied().collect();
    for v in spec.volumes.iter().flatten() {
        volumes.insert(&v.name);
        if let Some(c) = &v.config_map {
            problems.extend(missing("ConfigMap", &c.name, None));
        }
        if let Some(name) = v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) {
            problems.extend(missing("Secret", name, None));
        }
    }
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        for source in c.env.iter().flatten().filter_map(|e| e.value_from.as_ref()) {
            if let Some(r) = &source.secret_key_ref {
                problems.extend(missing("Secret", &r.name, Some(&r.key)));
            }
            if let Some(r) = &source.config_map_key_ref {
                problems.extend(missing("ConfigMap", &r.name, Some(&r.key)));
            }
        }
        for from in c.env_from.iter().flatten() {
            if let Some(r) = &from.config_map_ref {
                problems.extend(missing("ConfigMap", &r.name, None));
            }
            if let Some(r) = &from.secret_ref {
                problems.extend(missing("Secret", &r.name, None));
            }
        }
        for m in c.volume_mounts.iter().flatten() {
            if !volumes.contains(m.name.as_str()) {
                problems.push(format!(
                    "{}, container {}: mounts {}, which the pod does not have",
                    pod.what, c.name, m.name
                ));
            }
        }
    }
}

fn pod_problems(what: &str, pod: &PodTemplateSpec, problems: &mut Vec<String>) {
    let Some(spec) = &pod.spec else {
        problems.push(format!("{what}: the pod has no spec"));
        return;
    };
    let volumes: BTreeSet<&str> = spec
        .volumes
        .iter()
        .flatten()
        .map(|v| v.name.as_str())
        .collect();
    for volume in &volumes {
        if !is_dns_label(volume) {
            problems.push(format!("{what}: volume {volume} is not a DNS-1123 label"));
        }
    }
    let containers = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten());
    for c in containers {
        container_problems(what, c, problems);
    }
}

fn container_problems(what: &str, c: &Container, problems: &mut Vec<String>) {
    let here = format!("{what}, container {}", c.name);
    if !is_dns_label(&c.name) {
        problems.push(format!("{here}: the name is not a DNS-1123 label"));
    }
    let ports = c.ports.iter().flatten();
    let numbers: BTreeSet<i32> = ports.clone().map(|p| p.container_port).collect();
    let names: BTreeSet<&str> = ports.filter_map(|p| p.name.as_deref()).collect();
    for name in &names {
        if !is_port_name(name) {
            problems.push(format!("{here}: port name {name} is not a valid port name"));
        }
    }
    let probes: [(&str, &Option<Probe>); 3] = [
        ("startup", &c.startup_probe),
        ("readiness", &c.readiness_probe),
        ("liveness", &c.liveness_probe),
    ];
    for (kind, probe) in probes {
        let Some(probe) = probe else { continue };
        let port = probe
            .http_get
            .as_ref()
            .map(|h| &h.port)
            .or(probe.tcp_socket.as_ref().map(|t| &t.port));
        let exposed = match port {
            None => true,
            Some(IntOrString::Int(n)) => numbers.contains(n),
            Some(IntOrString::String(s)) => names.contains(s.as_str()),
        };
        if !exposed {
            problems.push(format!("{here}: the {kind} probe's port is not exposed"));
        }
    }
}

/// Every text in a pod spec that a compose value is written into: variables' values,
/// commands and their arguments, probe commands, working directories, annotations. (Names and
/// images are left out: a password may be the word `wordpress` without leaking through the
/// image `wordpress:latest`.)
fn written_values(pod: &PodTemplateSpec) -> Vec<&str> {
    let mut texts: Vec<&str> = pod
        .metadata
        .iter()
        .flat_map(|m| m.annotations.iter().flatten())
        .map(|(_, v)| v.as_str())
        .collect();
    let containers = pod.spec.iter().flat_map(|s| {
        s.containers
            .iter()
            .chain(s.init_containers.iter().flatten())
    });
    for c in containers {
        texts.extend(c.env.iter().flatten().filter_map(|e| e.value.as_deref()));
        texts.extend(c.command.iter().flatten().map(String::as_str));
        texts.extend(c.args.iter().flatten().map(String::as_str));
        texts.extend(c.working_dir.as_deref());
        for probe in [&c.startup_probe, &c.readiness_probe, &c.liveness_probe] {
            let exec = probe.as_ref().and_then(|p| p.exec.as_ref());
            texts.extend(
                exec.and_then(|e| e.command.as_ref())
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            );
        }
    }
    texts
}

/// No value that a Secret holds may appear in a pod spec.
fn secrets_in_pods(objects: &[Object], pods: &[Pod], problems: &mut Vec<String>) {
    let mut values: Vec<(String, String)> = Vec::new();
    for o in objects {
        if let Object::Secret(secret) = o {
            for (key, value) in secret.string_data.iter().flatten() {
                values.push((format!("Secret {} key {key}", o.name()), value.clone()));
            }
            for (key, value) in secret.data.iter().flatten() {
                if let Ok(text) = String::from_utf8(value.0.clone()) {
                    values.push((format!("Secret {} key {key}", o.name()), text));
                }
            }
        }
    }
    for pod in pods {
        let what = &pod.what;
        let texts = written_values(pod.template);
        for (secret, value) in &values {
            let value = value.trim();
            if value.len() >= MIN_SECRET_LEN && texts.iter().any(|t| t.contains(value)) {
                problems.push(format!(
                    "{what}: the pod spec holds the value of {secret} in clear (in a command or \
                     health check, write $$NAME in the compose file so the container's shell \
                     reads the variable)"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dns_1123() {
        assert!(is_dns_label("postgres"));
        assert!(is_dns_label("wait-for-db-2"));
        assert!(!is_dns_label("web_1"));
        assert!(!is_dns_label("-web"));
        assert!(!is_dns_label("Web"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(!is_dns_label(""));
    }

    #[test]
    fn keys_and_quantities_are_checked() {
        assert!(is_qualified_name("com.example.team"));
        assert!(is_qualified_name("app.kubernetes.io/name"));
        assert!(!is_qualified_name("has space"));
        assert!(!is_qualified_name("Bad_Prefix/x"));
        assert!(is_quantity("1Gi"));
        assert!(is_quantity("1.5"));
        assert!(is_quantity("250m"));
        assert!(!is_quantity("1 GB"));
        assert!(!is_quantity("Gi"));
        assert!(!is_port_name("tcp-123456789012"));
        assert!(is_port_name("tcp-5432"));
    }
}
