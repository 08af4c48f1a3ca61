//! Deciding a Swarm deployment, with no engine: from the converted specs and what the manager
//! was observed to run, the operations to send, in order. Swarm has no `depends_on`, so the plan
//! deploys services in dependency order and, after creating or updating a service that others
//! depend on, waits until its tasks run (Swarm reports a task with a health check as running
//! only once it is healthy). The other services it created or updated are waited for at the
//! end, so that `swarm up` returns once everything runs, or fails with why (a release that
//! does not start is rolled back by Swarm, and reported). A service whose spec hash is
//! unchanged is kept: no update call.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use super::spec::{Converted, Pin};

/// A service as the manager runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedService {
    pub id: String,
    /// The version index an update must name.
    pub version: u64,
    /// Our [`super::spec::SPEC_HASH`] label, if the service has one.
    pub hash: Option<String>,
}

/// What the manager runs of one project.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// By Swarm service name.
    pub services: BTreeMap<String, ObservedService>,
    /// Network names.
    pub networks: BTreeSet<String>,
    /// Swarm service name -> the nodes its running tasks are on.
    pub nodes: BTreeMap<String, BTreeSet<String>>,
}

/// One operation: one call to the manager, or one wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Create project network `key` (its Swarm name is `name`).
    CreateNetwork {
        key: String,
        name: String,
    },
    /// Create compose service `service`.
    Create {
        service: String,
    },
    /// Update compose service `service` at `version` with its full spec.
    Update {
        service: String,
        version: u64,
    },
    /// Nothing to send: the spec is as wanted.
    Keep {
        service: String,
    },
    /// Wait until every task of `service` runs.
    WaitRunning {
        service: String,
    },
    /// Remove a Swarm service (`down`, or `--prune` of one no longer in the file).
    Remove {
        name: String,
    },
    RemoveNetwork {
        name: String,
    },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::CreateNetwork { name, .. } => write!(f, "create network {name}"),
            Op::Create { service } => write!(f, "create service {service}"),
            Op::Update { service, version } => {
                write!(f, "update service {service} (version {version})")
            }
            Op::Keep { service } => write!(f, "keep service {service}"),
            Op::WaitRunning { service } => write!(f, "wait for {service} (running)"),
            Op::Remove { name } => write!(f, "remove service {name}"),
            Op::RemoveNetwork { name } => write!(f, "remove network {name}"),
        }
    }
}

/// The operations of one deployment, in the order they run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub ops: Vec<Op>,
    /// Compose keys Swarm cannot apply, and what else the user should know.
    pub warnings: Vec<String>,
}

impl Plan {
    /// True when nothing would be sent to the manager.
    pub fn changes_nothing(&self) -> bool {
        self.ops.iter().all(|op| matches!(op, Op::Keep { .. }))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        for (i, op) in self.ops.iter().enumerate() {
            writeln!(f, "{}. {op}", i + 1)?;
        }
        Ok(())
    }
}

/// What a deployment is decided from.
pub struct DeployInput<'a> {
    pub project: &'a crate::project::Project,
    /// The services, in dependency order.
    pub order: &'a [String],
    /// Service -> its converted spec.
    pub specs: &'a BTreeMap<String, Converted>,
    pub observed: &'a Observed,
    /// `--prune`: remove the project's services that are no longer in the file.
    pub prune: bool,
    /// `--detach`: wait only where a dependent needs it, not for the last services.
    pub detach: bool,
}

/// The plan that brings the manager to the project.
pub fn deploy(input: &DeployInput) -> Plan {
    let project = input.project;
    let mut plan = Plan::default();
    let used: BTreeSet<&String> = input
        .order
        .iter()
        .flat_map(|s| project.services[s].networks.keys())
        .collect();
    for key in used {
        let Some(net) = project.networks.get(key) else {
            continue;
        };
        if net.external {
            continue;
        }
        if !input.observed.networks.contains(&net.name) {
            plan.ops.push(Op::CreateNetwork {
                key: key.clone(),
                name: net.name.clone(),
            });
        }
    }
    let depended_on: BTreeSet<&str> = input
        .order
        .iter()
        .flat_map(|s| project.services[s].dependencies())
        .collect();
    let mut last_waits = Vec::new();
    for service in input.order {
        let converted = &input.specs[service];
        plan.warnings.extend(converted.warnings.iter().cloned());
        let name = super::spec::service_name(&project.name, service);
        let op = match input.observed.services.get(&name) {
            None => Op::Create {
                service: service.clone(),
            },
            Some(o) if o.hash.as_deref() == Some(converted.hash.as_str()) => Op::Keep {
                service: service.clone(),
            },
            Some(o) => Op::Update {
                service: service.clone(),
                version: o.version,
            },
        };
        let changed = !matches!(op, Op::Keep { .. });
        plan.ops.push(op);
        if changed && depended_on.contains(service.as_str()) {
            plan.ops.push(Op::WaitRunning {
                service: service.clone(),
            });
        } else if changed && !input.detach {
            last_waits.push(Op::WaitRunning {
                service: service.clone(),
            });
        }
    }
    plan.ops.extend(last_waits);
    let wanted: BTreeSet<String> = input
        .order
        .iter()
        .map(|s| super::spec::service_name(&project.name, s))
        .collect();
    let orphans: Vec<&String> = input
        .observed
        .services
        .keys()
        .filter(|n| !wanted.contains(*n))
        .collect();
    if input.prune {
        for name in orphans {
            plan.ops.push(Op::Remove { name: name.clone() });
        }
    } else if !orphans.is_empty() {
        let names: Vec<&str> = orphans.iter().map(|s| s.as_str()).collect();
        plan.warnings.push(format!(
            "services no longer in the file still run ({}): --prune removes them",
            names.join(", ")
        ));
    }
    plan
}

/// Where a stateful service stays: the node its task runs on now (its data is there), else the
/// manager this deploy talks to.
pub fn stateful_pin(observed: &Observed, service: &str, manager: &str) -> Pin {
    match observed.nodes.get(service).and_then(|n| n.iter().next()) {
        Some(node) => Pin {
            node: node.clone(),
            why: "where it runs now".into(),
        },
        None => Pin {
            node: manager.to_owned(),
            why: "the manager this deploy talks to".into(),
        },
    }
}

/// The plan that removes the project's services, then its networks.
pub fn down(observed: &Observed) -> Plan {
    let mut plan = Plan::default();
    for name in observed.services.keys() {
        plan.ops.push(Op::Remove { name: name.clone() });
    }
    for name in &observed.networks {
        plan.ops.push(Op::RemoveNetwork { name: name.clone() });
    }
    plan
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use bollard::models::{
        EndpointPortConfigPublishModeEnum as Publish, EndpointSpecModeEnum as Endpoint,
        ServiceSpecUpdateConfigFailureActionEnum as Failure,
        ServiceSpecUpdateConfigOrderEnum as Order, TaskSpecRestartPolicyConditionEnum as Restart,
    };

    use super::*;
    use crate::{
        engine::swarm::spec::{self, Layout, SPEC_HASH, STACK_NAMESPACE},
        project::{self, env::Environment, LoadOptions},
    };

    /// A project named `s`, loaded as `swarm up` loads it.
    fn project(yaml: &str) -> project::Loaded {
        let dir = PathBuf::from("/stack");
        let options = LoadOptions {
            cwd: dir.clone(),
            project_name: Some("s".into()),
            ..LoadOptions::default()
        };
        let documents = vec![(dir.join("compose.yaml"), yaml.to_owned())];
        let environment = Environment::new(Default::default(), Default::default());
        project::load_documents(documents, &dir, environment, Vec::new(), &options)
            .expect("the test stack loads")
    }

    const STACK: &str = "
services:
  db:
    image: postgres
    healthcheck: {test: [CMD, pg_isready], interval: 2s}
    deploy:
      placement: {constraints: [node.role == manager]}
  app:
    image: app
    environment: {DATABASE_URL: postgres://db/board}
    depends_on: {db: {condition: service_healthy}}
    restart: on-failure:3
    deploy:
      replicas: 3
      resources: {limits: {cpus: '0.5', memory: 64M}}
      update_config: {parallelism: 1, delay: 2s, order: start-first}
  web:
    image: web
    ports: ['8080:80']
    depends_on: [app]
";

    /// `name`'s spec as `swarm up` makes it, pinned (where it must be) to the manager `n1`.
    fn pinned_spec(
        loaded: &project::Loaded,
        name: &str,
        image: &str,
        layout: Layout,
        ids: &crate::engine::swarm::objects::Ids,
    ) -> Converted {
        let pin = spec::Pin {
            node: "n1".into(),
            why: "the manager".into(),
        };
        spec::service_spec(&loaded.project, name, image, layout, Some(&pin), ids)
    }

    fn convert(loaded: &project::Loaded, layout: Layout) -> BTreeMap<String, Converted> {
        loaded
            .start_order
            .iter()
            .map(|s| {
                let image = format!("10.0.0.1:5000/{s}@sha256:{s}");
                (
                    s.clone(),
                    pinned_spec(loaded, s, &image, layout, &Default::default()),
                )
            })
            .collect()
    }

    fn plan(loaded: &project::Loaded, observed: &Observed, prune: bool) -> Plan {
        let specs = convert(loaded, Layout::AsWritten);
        deploy(&DeployInput {
            project: &loaded.project,
            order: &loaded.start_order,
            specs: &specs,
            observed,
            prune,
            detach: false,
        })
    }

    fn text(plan: &Plan) -> Vec<String> {
        plan.to_string().lines().map(str::to_owned).collect()
    }

    #[test]
    fn a_fresh_deploy_creates_in_dependency_order_and_waits_for_what_others_need() {
        let loaded = project(STACK);
        assert_eq!(
            text(&plan(&loaded, &Observed::default(), false)),
            [
                "1. create network s_default",
                "2. create service db",
                "3. wait for db (running)",
                "4. create service app",
                "5. wait for app (running)",
                "6. create service web",
                "7. wait for web (running)",
            ]
        );
    }

    /// What the manager would report after the deploy above.
    fn converged(loaded: &project::Loaded) -> Observed {
        let specs = convert(loaded, Layout::AsWritten);
        Observed {
            services: specs
                .iter()
                .enumerate()
                .map(|(i, (s, c))| {
                    let observed = ObservedService {
                        id: format!("id{i}"),
                        version: 10 + i as u64,
                        hash: Some(c.hash.clone()),
                    };
                    (spec::service_name("s", s), observed)
                })
                .collect(),
            networks: BTreeSet::from(["s_default".to_owned()]),
            nodes: BTreeMap::new(),
        }
    }

    #[test]
    fn a_second_deploy_with_nothing_changed_sends_nothing() {
        let loaded = project(STACK);
        let plan = plan(&loaded, &converged(&loaded), false);
        assert!(plan.changes_nothing(), "{plan}");
        assert_eq!(
            text(&plan),
            [
                "1. keep service db",
                "2. keep service app",
                "3. keep service web"
            ]
        );
    }

    #[test]
    fn a_changed_service_is_updated_at_its_version_and_others_are_kept() {
        let loaded = project(STACK);
        let observed = converged(&loaded);
        let changed = project(&STACK.replace("replicas: 3", "replicas: 4"));
        assert_eq!(
            text(&plan(&changed, &observed, false)),
            [
                "1. keep service db",
                // app sorts before db and web among the observed services: version 10.
                "2. update service app (version 10)",
                "3. wait for app (running)",
                "4. keep service web",
            ]
        );
    }

    #[test]
    fn services_no_longer_in_the_file_are_named_and_removed_with_prune() {
        let loaded = project(STACK);
        let mut observed = converged(&loaded);
        observed.services.insert(
            "s_old".into(),
            ObservedService {
                id: "x".into(),
                version: 1,
                hash: None,
            },
        );
        let kept = plan(&loaded, &observed, false);
        assert!(
            kept.warnings
                .iter()
                .any(|w| w.contains("(s_old): --prune removes them")),
            "{kept}"
        );
        assert!(!kept.to_string().contains("remove service"), "{kept}");
        let pruned = plan(&loaded, &observed, true);
        assert_eq!(text(&pruned).last().unwrap(), "4. remove service s_old");
        let detached = deploy(&DeployInput {
            project: &loaded.project,
            order: &loaded.start_order,
            specs: &convert(&loaded, Layout::AsWritten),
            observed: &Observed::default(),
            prune: false,
            detach: true,
        });
        // --detach: the waits dependents need stay; the last one goes.
        assert_eq!(
            text(&detached).last().unwrap(),
            "6. create service web",
            "{detached}"
        );
        assert_eq!(
            text(&down(&observed)),
            [
                "1. remove service s_app",
                "2. remove service s_db",
                "3. remove service s_old",
                "4. remove service s_web",
                "5. remove network s_default",
            ]
        );
    }

    #[test]
    fn the_spec_for_vip_and_ingress_is_what_the_file_says() {
        let loaded = project(STACK);
        let specs = convert(&loaded, Layout::AsWritten);
        let web = &specs["web"].spec;
        assert_eq!(web.name.as_deref(), Some("s_web"));
        let labels = web.labels.as_ref().unwrap();
        assert_eq!(labels[STACK_NAMESPACE], "s");
        assert_eq!(labels[SPEC_HASH], specs["web"].hash);
        let endpoint = web.endpoint_spec.as_ref().unwrap();
        assert_eq!(endpoint.mode, Some(Endpoint::VIP));
        let port = &endpoint.ports.as_ref().unwrap()[0];
        assert_eq!(
            (port.target_port, port.published_port, port.publish_mode),
            (Some(80), Some(8080), Some(Publish::INGRESS))
        );
        let mode = web.mode.as_ref().unwrap();
        assert_eq!(mode.replicated.as_ref().unwrap().replicas, Some(1));
        assert!(mode.global.is_none());
        let task = web.task_template.as_ref().unwrap();
        let container = task.container_spec.as_ref().unwrap();
        assert_eq!(
            container.image.as_deref(),
            Some("10.0.0.1:5000/web@sha256:web")
        );
        let networks = task.networks.as_ref().unwrap();
        assert_eq!(networks[0].target.as_deref(), Some("s_default"));
        assert_eq!(
            networks[0].aliases.as_deref(),
            Some(&["web".to_owned()][..])
        );
    }

    #[test]
    fn deploy_keys_map_to_the_spec() {
        let loaded = project(STACK);
        let specs = convert(&loaded, Layout::AsWritten);
        let app = &specs["app"].spec;
        assert_eq!(
            app.mode
                .as_ref()
                .unwrap()
                .replicated
                .as_ref()
                .unwrap()
                .replicas,
            Some(3)
        );
        let update = app.update_config.as_ref().unwrap();
        assert_eq!(update.order, Some(Order::START_FIRST));
        assert_eq!(update.delay, Some(2_000_000_000));
        // Swarm's own default pauses; ours rolls back.
        assert_eq!(update.failure_action, Some(Failure::ROLLBACK));
        let task = app.task_template.as_ref().unwrap();
        let restart = task.restart_policy.as_ref().unwrap();
        assert_eq!(
            (restart.condition, restart.max_attempts),
            (Some(Restart::ON_FAILURE), Some(3))
        );
        let limits = task.resources.as_ref().unwrap().limits.as_ref().unwrap();
        assert_eq!(
            (limits.nano_cpus, limits.memory_bytes),
            (Some(500_000_000), Some(64 * 1024 * 1024))
        );
        let env = task.container_spec.as_ref().unwrap().env.as_ref().unwrap();
        assert_eq!(env, &["DATABASE_URL=postgres://db/board".to_owned()]);

        let db = specs["db"].spec.task_template.as_ref().unwrap();
        assert_eq!(
            db.placement.as_ref().unwrap().constraints.as_deref(),
            Some(&["node.role == manager".to_owned()][..])
        );
        let health = db
            .container_spec
            .as_ref()
            .unwrap()
            .health_check
            .as_ref()
            .unwrap();
        assert_eq!(health.interval, Some(2_000_000_000));
        assert_eq!(
            db.restart_policy.as_ref().unwrap().condition,
            Some(Restart::ANY)
        );
    }

    #[test]
    fn the_dnsrr_layout_publishes_on_every_node_without_ipvs() {
        let loaded = project(STACK);
        let specs = convert(&loaded, Layout::DnsrrHost);
        let web = &specs["web"].spec;
        let endpoint = web.endpoint_spec.as_ref().unwrap();
        assert_eq!(endpoint.mode, Some(Endpoint::DNSRR));
        let port = &endpoint.ports.as_ref().unwrap()[0];
        assert_eq!(port.publish_mode, Some(Publish::HOST));
        // A host-mode port answers only where a task runs: one task on every node.
        let mode = web.mode.as_ref().unwrap();
        assert!(mode.global.is_some() && mode.replicated.is_none());
        // A service that publishes nothing keeps its replicas, reached by name (dnsrr).
        let app = &specs["app"].spec;
        assert_eq!(
            app.endpoint_spec.as_ref().unwrap().mode,
            Some(Endpoint::DNSRR)
        );
        assert!(app.endpoint_spec.as_ref().unwrap().ports.is_none());
        assert_ne!(
            specs["web"].hash,
            convert(&loaded, Layout::AsWritten)["web"].hash
        );
    }

    #[test]
    fn the_compose_files_own_keys_choose_dnsrr_and_host_mode() {
        let loaded = project(
            "
services:
  proxy:
    image: web
    ports: [{target: 80, published: 8080, mode: host}]
    deploy: {mode: global, endpoint_mode: dnsrr}
",
        );
        let spec = &convert(&loaded, Layout::AsWritten)["proxy"];
        let endpoint = spec.spec.endpoint_spec.as_ref().unwrap();
        assert_eq!(endpoint.mode, Some(Endpoint::DNSRR));
        assert_eq!(
            endpoint.ports.as_ref().unwrap()[0].publish_mode,
            Some(Publish::HOST)
        );
        assert!(spec.spec.mode.as_ref().unwrap().global.is_some());
        assert!(spec.warnings.is_empty(), "{:?}", spec.warnings);
    }

    #[test]
    fn keys_swarm_cannot_apply_are_named() {
        let loaded = project(
            "
services:
  db: {image: db}
  app:
    image: app
    container_name: the-app
    links: [db]
    ports: ['127.0.0.1:8000-8001:80']
    deploy:
      endpoint_mode: dnsrr
      update_config: {paralelism: 2}
",
        );
        let warnings = &convert(&loaded, Layout::AsWritten)["app"].warnings;
        let all = warnings.join("\n");
        for expected in [
            "service app: container_name cannot be set in Swarm",
            "service app: links do not exist in Swarm",
            "service app: ports (80) host_ip cannot be set in Swarm",
            "service app: ports (80) publishes a range (8000-8001)",
            "service app: ports in ingress mode cannot go with endpoint_mode: dnsrr",
            "service app: deploy.update_config.paralelism is not an update key",
        ] {
            assert!(all.contains(expected), "missing {expected:?} in:\n{all}");
        }
    }

    #[test]
    fn a_service_with_a_node_local_volume_is_pinned_and_told_how_to_choose_the_node() {
        let yaml = "
services:
  db:
    image: postgres
    volumes: [data:/var/lib/postgresql/data]
  cache:
    image: redis
    volumes: [shared:/data]
  chosen:
    image: postgres
    volumes: [data:/var/lib/postgresql/data]
    deploy: {placement: {constraints: [node.labels.db == true]}}
volumes:
  data: {}
  shared: {driver: nfs}
";
        let loaded = project(yaml);
        let specs = convert(&loaded, Layout::AsWritten);
        let constraints = |s: &str| {
            specs[s]
                .spec
                .task_template
                .as_ref()
                .unwrap()
                .placement
                .as_ref()
                .and_then(|p| p.constraints.clone())
        };
        assert_eq!(constraints("db"), Some(vec!["node.id == n1".to_owned()]));
        let db = specs["db"].spec.task_template.as_ref().unwrap();
        let mount = &db.container_spec.as_ref().unwrap().mounts.as_ref().unwrap()[0];
        assert_eq!(mount.source.as_deref(), Some("s_data"));
        let labels = mount
            .volume_options
            .as_ref()
            .unwrap()
            .labels
            .as_ref()
            .unwrap();
        assert_eq!(labels[STACK_NAMESPACE], "s");
        let warning = specs["db"].warnings.join("\n");
        assert!(
            warning.contains("service db: volumes s_data live on one node each: the service is pinned to node n1 (the manager)"),
            "{warning}"
        );
        assert!(
            warning.contains("docker node update --label-add db=true NODE"),
            "{warning}"
        );
        // A volume on a shared driver moves with the task; a constraint of the file's own wins.
        assert_eq!(constraints("cache"), None);
        assert_eq!(
            constraints("chosen"),
            Some(vec!["node.labels.db == true".to_owned()])
        );
        assert!(
            specs["chosen"].warnings.is_empty(),
            "{:?}",
            specs["chosen"].warnings
        );

        // Once it runs, it stays where its data is.
        let mut observed = Observed::default();
        assert_eq!(stateful_pin(&observed, "s_db", "m").node, "m");
        observed
            .nodes
            .insert("s_db".into(), BTreeSet::from(["n2".to_owned()]));
        let pin = stateful_pin(&observed, "s_db", "m");
        assert_eq!(
            (pin.node.as_str(), pin.why.as_str()),
            ("n2", "where it runs now")
        );
    }

    #[test]
    fn the_hash_does_not_depend_on_label_order() {
        let loaded = project(
            "
services:
  a:
    image: a
    labels: {one: '1', two: '2', three: '3', four: '4', five: '5'}
",
        );
        let hashes: BTreeSet<String> = (0..20)
            .map(|_| convert(&loaded, Layout::AsWritten)["a"].hash.clone())
            .collect();
        assert_eq!(hashes.len(), 1);
    }

    #[test]
    fn secrets_and_configs_become_objects_named_by_their_content_and_mounted_where_compose_says() {
        use crate::engine::swarm::objects::{self, Kind};
        let stack = |greeting: &str| {
            format!(
                "
services:
  a:
    image: a
    secrets: [token, {{source: key, target: api-key, uid: '100', mode: 256}}]
    configs: [greeting, {{source: site, target: /etc/site.conf}}]
secrets:
  token: {{content: t0ken}}
  key: {{external: true, name: shared-key}}
configs:
  greeting: {{content: {greeting}}}
  site: {{content: x}}
"
            )
        };
        let loaded = project(&stack("hello"));
        let order = ["a".to_owned()];
        let wanted = objects::wanted(&loaded.project, &order).unwrap();
        let names: Vec<(Kind, &str, bool)> = wanted
            .iter()
            .map(|w| (w.kind, w.name.as_str(), w.data.is_some()))
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(
            names.contains(&(Kind::Secret, "shared-key", false)),
            "external: by its name"
        );
        let greeting = |loaded: &project::Loaded| {
            objects::wanted(&loaded.project, &order)
                .unwrap()
                .into_iter()
                .find(|w| w.key == "greeting")
                .unwrap()
                .name
        };
        let first = greeting(&loaded);
        assert!(first.starts_with("s_greeting_"), "{first}");
        assert_ne!(
            first,
            greeting(&project(&stack("bonjour"))),
            "new content, new object"
        );
        assert_eq!(first, greeting(&project(&stack("hello"))));

        let ids: objects::Ids = wanted
            .iter()
            .map(|w| {
                (
                    (w.kind, w.key.clone()),
                    (w.name.clone(), format!("id-{}", w.key)),
                )
            })
            .collect();
        let converted = pinned_spec(&loaded, "a", "a", Layout::AsWritten, &ids);
        assert!(converted.warnings.is_empty(), "{:?}", converted.warnings);
        let container = converted
            .spec
            .task_template
            .unwrap()
            .container_spec
            .unwrap();
        let secrets: Vec<(String, String, String, u32)> = container
            .secrets
            .unwrap()
            .into_iter()
            .map(|s| {
                let f = s.file.unwrap();
                (
                    f.name.unwrap(),
                    f.uid.unwrap(),
                    s.secret_id.unwrap(),
                    f.mode.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            secrets,
            [
                (
                    "/run/secrets/token".into(),
                    "0".into(),
                    "id-token".into(),
                    0o444
                ),
                (
                    "/run/secrets/api-key".into(),
                    "100".into(),
                    "id-key".into(),
                    0o400
                ),
            ]
        );
        let configs: Vec<(String, String)> = container
            .configs
            .unwrap()
            .into_iter()
            .map(|c| (c.file.unwrap().name.unwrap(), c.config_id.unwrap()))
            .collect();
        assert_eq!(
            configs,
            [
                ("/greeting".into(), "id-greeting".into()),
                ("/etc/site.conf".into(), "id-site".into()),
            ]
        );
    }

    #[test]
    fn every_service_key_is_applied_or_named_in_a_warning() {
        let loaded = project(
            "
services:
  a:
    image: a
    dns: [10.0.0.2]
    dns_search: [example.internal]
    group_add: [audio]
    sysctls: {net.core.somaxconn: '1024'}
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    logging: {driver: json-file, options: {max-size: 10m}}
    tmpfs: [/run/cache]
    mem_limit: 64m
    cpus: 0.5
    privileged: true
    shm_size: 64m
    network_mode: host
    develop: {watch: [{path: ., action: rebuild}]}
",
        );
        let converted = pinned_spec(&loaded, "a", "a", Layout::AsWritten, &Default::default());
        let task = converted.spec.task_template.unwrap();
        let container = task.container_spec.unwrap();
        let dns = container.dns_config.unwrap();
        assert_eq!(dns.nameservers.unwrap(), ["10.0.0.2"]);
        assert_eq!(dns.search.unwrap(), ["example.internal"]);
        assert_eq!(container.groups.unwrap(), ["audio"]);
        assert_eq!(container.sysctls.unwrap()["net.core.somaxconn"], "1024");
        let nofile = &container.ulimits.unwrap()[0];
        assert_eq!((nofile.soft, nofile.hard), (Some(1024), Some(2048)));
        assert_eq!(task.log_driver.unwrap().name.as_deref(), Some("json-file"));
        let tmpfs = container.mounts.unwrap();
        assert_eq!(tmpfs[0].target.as_deref(), Some("/run/cache"));
        let limits = task.resources.unwrap().limits.unwrap();
        assert_eq!(
            (limits.memory_bytes, limits.nano_cpus),
            (Some(64 << 20), Some(500_000_000))
        );
        for key in ["privileged", "shm_size", "network_mode", "develop"] {
            assert!(
                converted
                    .warnings
                    .iter()
                    .any(|w| w.starts_with(&format!("service a: {key} "))),
                "{key}: {:?}",
                converted.warnings
            );
        }
        assert_eq!(converted.warnings.len(), 4, "{:?}", converted.warnings);
    }
}
