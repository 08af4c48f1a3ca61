//! Checks that need the whole project: references between services and to top-level objects,
//! and dependency cycles.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    diag::{Diagnostic, DocPath},
    model::{MountKind, Project, Service},
};

/// Every cross-reference problem in the project.
pub fn validate(project: &Project, legacy: bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let all: BTreeMap<&str, &Service> = project
        .services
        .iter()
        .chain(&project.disabled_services)
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    for (name, s) in &all {
        let path = DocPath::root().key("services").key(name);
        if s.image.is_none() && s.build.is_none() {
            out.push(Diagnostic::error(
                path.clone(),
                "the service has neither an image nor a build",
            ));
        }
        for dep in s.depends_on.keys() {
            if dep == name {
                out.push(Diagnostic::error(
                    path.key("depends_on").key(dep),
                    "a service cannot depend on itself",
                ));
            } else if !all.contains_key(dep.as_str()) {
                out.push(Diagnostic::error(
                    path.key("depends_on").key(dep),
                    format!("depends on undefined service {dep:?}"),
                ));
            } else if project.disabled_services.contains_key(dep)
                && project.services.contains_key(*name)
                && s.depends_on[dep].required
            {
                out.push(Diagnostic::error(
                    path.key("depends_on").key(dep),
                    format!("depends on {dep:?}, which none of the active profiles enables"),
                ));
            }
        }
        for (i, link) in s.links.iter().enumerate() {
            if !all.contains_key(link.service.as_str()) {
                out.push(Diagnostic::error(
                    path.key("links").index(i),
                    format!("links to undefined service {:?}", link.service),
                ));
            }
        }
        for (i, from) in s.volumes_from.iter().enumerate() {
            let target = from.split(':').next().unwrap_or("");
            if target == "container" {
                continue;
            }
            if !all.contains_key(target) {
                out.push(Diagnostic::error(
                    path.key("volumes_from").index(i),
                    format!("takes volumes from undefined service {target:?}"),
                ));
            }
        }
        for (key, mode) in [
            ("network_mode", &s.network_mode),
            ("ipc", &s.ipc),
            ("pid", &s.pid),
        ] {
            let Some(target) = mode.as_deref().and_then(|m| m.strip_prefix("service:")) else {
                continue;
            };
            if !all.contains_key(target) {
                out.push(Diagnostic::error(
                    path.key(key),
                    format!("shares the namespace of undefined service {target:?}"),
                ));
            }
        }
        for net in s.networks.keys() {
            if !project.networks.contains_key(net) {
                out.push(Diagnostic::error(
                    path.key("networks").key(net),
                    format!("network {net:?} is not declared under the top-level networks"),
                ));
            }
        }
        for (i, m) in s.volumes.iter().enumerate() {
            if let (MountKind::Volume, Some(source)) = (m.kind, &m.source) {
                if !legacy && !project.volumes.contains_key(source) {
                    out.push(Diagnostic::error(
                        path.key("volumes").index(i),
                        format!(
                            "named volume {source:?} is not declared under the top-level volumes"
                        ),
                    ));
                }
            }
        }
        for (kind, refs, defined) in [
            ("secret", &s.secrets, &project.secrets),
            ("config", &s.configs, &project.configs),
        ] {
            for (i, r) in refs.iter().map(|r| &r.source).enumerate() {
                if !defined.contains_key(r) {
                    out.push(Diagnostic::error(
                        path.key(&format!("{kind}s")).index(i),
                        format!("{kind} {r:?} is not declared under the top-level {kind}s"),
                    ));
                }
            }
        }
    }
    for (name, budget) in &project.budgets {
        for service in budget.per_replica.keys() {
            if !all.contains_key(service.as_str()) {
                out.push(Diagnostic::error(
                    DocPath::root()
                        .key("x-budgets")
                        .key(name)
                        .key("per-replica")
                        .key(service),
                    format!("counts replicas of undefined service {service:?}"),
                ));
            }
        }
    }
    out.extend(cycles(&all));
    out
}

/// One error per dependency cycle, naming it: `a -> b -> a`.
fn cycles(services: &BTreeMap<&str, &Service>) -> Vec<Diagnostic> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = services.keys().map(|k| (*k, Mark::New)).collect();
    let mut reported = BTreeSet::new();
    let mut out = Vec::new();

    fn visit<'a>(
        node: &'a str,
        services: &BTreeMap<&'a str, &'a Service>,
        marks: &mut BTreeMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
        reported: &mut BTreeSet<Vec<&'a str>>,
        out: &mut Vec<Diagnostic>,
    ) {
        marks.insert(node, Mark::Active);
        stack.push(node);
        let deps: Vec<&str> = services[node]
            .dependencies()
            .chain(services[node].volumes_from.iter().filter_map(|v| {
                let s = v.split(':').next()?;
                (s != "container").then_some(s)
            }))
            .filter(|d| *d != node)
            .collect();
        for dep in deps {
            let Some((dep, _)) = services.get_key_value(dep) else {
                continue;
            };
            match marks[dep] {
                Mark::New => visit(dep, services, marks, stack, reported, out),
                Mark::Active => {
                    let start = stack.iter().position(|s| s == dep).unwrap_or(0);
                    let mut cycle: Vec<&str> = stack[start..].to_vec();
                    let mut key = cycle.clone();
                    key.sort();
                    if reported.insert(key) {
                        cycle.push(dep);
                        out.push(Diagnostic::error(
                            DocPath::root().key("services").key(cycle[0]),
                            format!("dependency cycle: {}", cycle.join(" -> ")),
                        ));
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks.insert(node, Mark::Done);
    }

    let names: Vec<&str> = services.keys().copied().collect();
    for name in names {
        if marks[name] == Mark::New {
            visit(
                name,
                services,
                &mut marks,
                &mut Vec::new(),
                &mut reported,
                &mut out,
            );
        }
    }
    out
}

/// The services in an order where each comes after everything it depends on.
pub fn start_order(project: &Project) -> Vec<String> {
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    fn visit(name: &str, p: &Project, done: &mut BTreeSet<String>, order: &mut Vec<String>) {
        if !done.insert(name.to_owned()) {
            return;
        }
        if let Some(s) = p.services.get(name) {
            for dep in s.dependencies() {
                visit(dep, p, done, order);
            }
            order.push(name.to_owned());
        }
    }
    for name in project.services.keys() {
        visit(name, project, &mut done, &mut order);
    }
    order
}
