//! `orchestrator swarm` on a real three-node Docker Swarm made by `scripts/swarm-cluster` (root,
//! iproute2, iptables, dockerd; the registry:2 stand-in in this machine's engine, which
//! `scripts/stand-ins registry` makes). Nothing is pulled from outside: the stack's image is
//! built on the manager from a static busybox, pushed to the in-swarm registry, and pulled from
//! there by the other nodes. This kernel has no IPVS, so the stack is deployed with `--dnsrr`
//! (DNS round robin, ports published in host mode on every node); what is sent for VIP and
//! ingress is tested at the spec level (`engine::swarm::plan`'s tests).

mod board;
mod cluster;

use std::{
    path::Path,
    process::{Command, Output},
    time::{Duration, Instant},
};

use cluster::{eventually, http_get, leftovers, script_ok, Cluster};

/// A service `api` (two replicas, a health check), a service `web` that publishes port 18080
/// and answers `/cgi-bin/api` by asking `api` by name over the project's overlay network, and a
/// service `store` that keeps data in a named volume (so it is pinned to one node).
const STACK: &str = r#"
services:
  api:
    build: ./box
    image: swarmtest-box:1
    command: [sh, -c, "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8000 -h /www"]
    healthcheck:
      test: [CMD, wget, -q, -O, /dev/null, http://127.0.0.1:8000/]
      interval: 1s
      retries: 30
    stop_grace_period: 1s
    deploy:
      replicas: 2
      update_config: {order: start-first, monitor: 3s}
  web:
    image: swarmtest-box:1
    command:
      - sh
      - -c
      - |
        mkdir -p /www/cgi-bin
        printf '#!/bin/sh\necho Content-Type: text/plain\necho\nwget -q -O - http://api:8000/\n' > /www/cgi-bin/api
        chmod +x /www/cgi-bin/api
        exec httpd -f -p 80 -h /www
    ports: ["18080:80"]
    stop_grace_period: 1s
    depends_on:
      api: {condition: service_healthy}
  store:
    image: swarmtest-box:1
    command: [sh, -c, "date >> /data/starts && exec sleep 3600"]
    stop_grace_period: 1s
    volumes: [data:/data]
volumes:
  data: {}
"#;

/// Writes the stack and its image's build context (busybox on `scratch`) into `dir`.
fn write_stack(dir: &Path) {
    let busybox = ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("a static busybox (apt-get install busybox-static; scripts/test does it)");
    let context = dir.join("box");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::copy(busybox, context.join("busybox")).unwrap();
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCMD [\"sh\"]\n",
    )
    .unwrap();
    std::fs::write(dir.join("compose.yaml"), STACK).unwrap();
}

/// Runs `orchestrator -p swt ARGS` in `dir` against the cluster's manager.
fn orchestrator(dir: &Path, cluster: &Cluster, args: &[&str]) -> Output {
    orchestrator_command(dir, cluster, "swt", args)
        .output()
        .expect("the orchestrator runs")
}

/// `orchestrator -p PROJECT ARGS` in `dir` against the cluster's manager, not yet run.
fn orchestrator_command(dir: &Path, cluster: &Cluster, project: &str, args: &[&str]) -> Command {
    let mut all = vec!["-p", project, "--progress", "plain"];
    all.extend_from_slice(args);
    let mut command = Command::new(env!("CARGO_BIN_EXE_orchestrator"));
    command
        .current_dir(dir)
        .args(&all)
        .env("DOCKER_HOST", cluster.manager())
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME");
    command
}

/// A service that fails a second after each start, for ever: Swarm restarts it in a new task.
const CRASH_LOOP: &str = r#"
services:
  crash:
    build: ./box
    image: swarmtest-box:1
    command: [sh, -c, "echo attempt starts; echo failing on purpose >&2; sleep 1; exit 1"]
    deploy:
      restart_policy: {condition: any, delay: 1s}
"#;

/// The labels (`SERVICE.SLOT.TASK@NODE`) of the lines that hold `needle`.
fn labels_of(output: &str, needle: &str) -> std::collections::BTreeSet<String> {
    output
        .lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| l.split(" | ").next())
        .map(|l| l.trim().to_owned())
        .collect()
}

/// `swarm logs` returns while a task crash-loops, with the output of its attempts; `-f`
/// follows it, picking up each new attempt.
fn logs_of_a_crash_loop(cluster: &Cluster) {
    let dir = tempfile::tempdir().unwrap();
    write_stack(dir.path());
    std::fs::write(dir.path().join("compose.yaml"), CRASH_LOOP).unwrap();
    let up = orchestrator_command(
        dir.path(),
        cluster,
        "swc",
        &["swarm", "up", "-d", "--dnsrr"],
    )
    .output()
    .unwrap();
    ok(up, "swarm up of the crash loop");
    eventually("three attempts", Duration::from_secs(60), || {
        let tasks = cluster.docker(0, &["service", "ps", "-q", "swc_crash"]);
        (tasks.lines().count() >= 3).then_some(())
    });

    let logs = Instant::now();
    let mut child = orchestrator_command(dir.path(), cluster, "swc", &["swarm", "logs"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let returned = eventually("swarm logs returns", Duration::from_secs(30), || {
        child.try_wait().unwrap()
    });
    let output = child.wait_with_output().unwrap();
    assert!(returned.success());
    let text = String::from_utf8_lossy(&output.stdout);
    eprintln!(
        "swarm logs of a crash loop returned in {:?}",
        logs.elapsed()
    );
    let attempts = labels_of(&text, "failing on purpose");
    assert!(attempts.len() >= 2, "earlier attempts too: {text}");
    assert!(
        attempts.iter().all(|l| l.starts_with("swc_crash.1.")),
        "{text}"
    );

    // Following: the attempts that start after it began are shown too.
    let before: Vec<String> = cluster
        .docker(0, &["service", "ps", "-q", "--no-trunc", "swc_crash"])
        .lines()
        .map(|id| id.chars().take(12).collect())
        .collect();
    let mut child = orchestrator_command(dir.path(), cluster, "swc", &["swarm", "logs", "-f"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    std::thread::sleep(Duration::from_secs(10));
    assert!(child.try_wait().unwrap().is_none(), "-f keeps following");
    child.kill().unwrap();
    child.wait().unwrap();
    let followed = reader.join().unwrap();
    let new: Vec<String> = labels_of(&followed, "attempt starts")
        .into_iter()
        .filter(|label| !before.iter().any(|id| label.contains(&format!(".{id}"))))
        .collect();
    assert!(!new.is_empty(), "a new attempt followed: {followed}");

    ok(
        orchestrator_command(dir.path(), cluster, "swc", &["swarm", "down"])
            .output()
            .unwrap(),
        "swarm down of the crash loop",
    );
}

fn ok(out: Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    // Progress lines align their columns; one space between words is easier to look for.
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_stack_deployed_on_three_nodes_answers_on_every_node_and_a_second_deploy_changes_nothing() {
    let started = Instant::now();
    let cluster = Cluster::up(3);
    cluster.load_registry_image();
    eprintln!("cluster and registry: {:?}", started.elapsed());
    let dir = tempfile::tempdir().unwrap();
    write_stack(dir.path());

    // Not a manager: refused before anything is built or sent.
    let worker = Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .current_dir(dir.path())
        .args(["-p", "swt", "swarm", "up"])
        .env("DOCKER_HOST", &cluster.nodes[1].host)
        .output()
        .unwrap();
    let refused = String::from_utf8_lossy(&worker.stderr);
    assert!(
        !worker.status.success() && refused.contains("is not a swarm manager"),
        "{refused}"
    );

    let deploy = Instant::now();
    // No --registry: the in-swarm one, started by the first deploy.
    let up = ["swarm", "up", "--dnsrr"];
    let first = ok(orchestrator(dir.path(), &cluster, &up), "swarm up");
    eprintln!(
        "cold swarm up (build, push, deploy, wait for api): {:?}",
        deploy.elapsed()
    );
    assert!(
        first.contains("Service orchestrator-registry Created"),
        "{first}"
    );
    assert!(first.contains("Service swt_api Created"), "{first}");
    assert!(first.contains("Service swt_api Running"), "{first}");
    assert!(first.contains("Service swt_web Created"), "{first}");

    // `docker stack` sees our services; images are pinned to what was pushed.
    let services = cluster.docker(0, &["stack", "services", "swt", "--format", "{{.Name}}"]);
    let mut names: Vec<&str> = services.lines().collect();
    names.sort_unstable();
    assert_eq!(names, ["swt_api", "swt_store", "swt_web"]);
    // The stateful service is pinned to the manager, and the deploy says so.
    let manager = cluster.docker(0, &["info", "--format", "{{.Swarm.NodeID}}"]);
    let constraints = cluster.docker(
        0,
        &[
            "service",
            "inspect",
            "swt_store",
            "--format",
            "{{.Spec.TaskTemplate.Placement.Constraints}}",
        ],
    );
    let registry = cluster.docker(
        0,
        &[
            "service",
            "inspect",
            "orchestrator-registry",
            "--format",
            "{{.Spec.TaskTemplate.Placement.Constraints}}",
        ],
    );
    assert_eq!(
        registry,
        format!("[node.id == {manager}]"),
        "the registry stays on the manager"
    );
    assert_eq!(constraints, format!("[node.id == {manager}]"));
    assert!(first.contains(&format!("service store: volumes swt_data live on one node each: the service is pinned to node {manager}")), "{first}");
    let image = cluster.docker(
        0,
        &[
            "service",
            "inspect",
            "swt_web",
            "--format",
            "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
        ],
    );
    assert!(
        image.starts_with(&format!("{}/swarmtest-box:1@sha256:", cluster.registry)),
        "{image}"
    );

    // Every node answers on its own address, and reaches api by name over the overlay.
    let answering = Instant::now();
    for node in &cluster.nodes {
        let body = eventually(
            &format!("web on {}:18080", node.address),
            Duration::from_secs(60),
            || http_get(&node.address, 18080, "/cgi-bin/api").filter(|b| !b.trim().is_empty()),
        );
        assert_eq!(
            body.trim().len(),
            12,
            "api answers its container's hostname: {body:?}"
        );
    }
    eprintln!(
        "every node answering: {:?} after swarm up",
        answering.elapsed()
    );

    // The second deploy sends nothing: no service's version moves.
    let versions = || {
        cluster.docker(
            0,
            &[
                "service",
                "inspect",
                "swt_api",
                "swt_web",
                "--format",
                "{{.Version.Index}}",
            ],
        )
    };
    let before = versions();
    let again = Instant::now();
    let second = ok(orchestrator(dir.path(), &cluster, &up), "second swarm up");
    eprintln!("swarm up with nothing changed: {:?}", again.elapsed());
    assert!(second.contains("Service swt_api Unchanged"), "{second}");
    assert!(second.contains("Service swt_web Unchanged"), "{second}");
    assert!(second.contains("Service swt_store Unchanged"), "{second}");
    assert!(
        second.contains(&format!("pinned to node {manager} (where it runs now)")),
        "{second}"
    );
    assert!(!second.contains("Updated"), "{second}");
    assert_eq!(versions(), before);

    // A release that exits at start: rolled back with no flag, reported, exit 1; the old
    // replicas ran throughout (start-first), so the stack still answers.
    let good = std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap();
    let bad = good.replace(
        "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8000 -h /www",
        "echo this release cannot start >&2; exit 3",
    );
    std::fs::write(dir.path().join("compose.yaml"), bad).unwrap();
    let rollout = Instant::now();
    let failed = orchestrator(dir.path(), &cluster, &up);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    eprintln!(
        "bad release rolled back and reported: {:?}",
        rollout.elapsed()
    );
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("service swt_api is not running: its update ended rollback_completed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("non-zero exit (3)"),
        "the task's own error: {stderr}"
    );
    let state = cluster.docker(
        0,
        &[
            "service",
            "inspect",
            "swt_api",
            "--format",
            "{{.UpdateStatus.State}}",
        ],
    );
    assert_eq!(state, "rollback_completed");
    let node = &cluster.nodes[2];
    let body = http_get(&node.address, 18080, "/cgi-bin/api").unwrap_or_default();
    assert_eq!(body.trim().len(), 12, "the old api still answers: {body:?}");
    std::fs::write(dir.path().join("compose.yaml"), good).unwrap();

    logs_of_a_crash_loop(&cluster);

    let ps = ok(
        orchestrator(dir.path(), &cluster, &["swarm", "ps"]),
        "swarm ps",
    );
    let running = ps
        .lines()
        .filter(|l| l.contains(" running running "))
        .count();
    assert!(
        running >= 6,
        "2 api replicas, web on 3 nodes and store:\n{ps}"
    );

    // The store's volume is on the manager, where it is pinned. Without a terminal to ask on,
    // down -v refuses and removes nothing; with --yes the volume goes with the stack.
    let volumes = [
        "volume",
        "ls",
        "-q",
        "--filter",
        "label=com.docker.stack.namespace=swt",
    ];
    assert_eq!(cluster.docker(0, &volumes), "swt_data");
    let refused = orchestrator(dir.path(), &cluster, &["swarm", "down", "-v"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("pass --yes"), "{said}");
    assert_eq!(
        cluster
            .docker(0, &["service", "ls", "-q", "--filter", "name=swt_store"])
            .lines()
            .count(),
        1,
        "nothing removed"
    );
    let removing = Instant::now();
    let down = ok(
        orchestrator(dir.path(), &cluster, &["swarm", "down", "-v", "--yes"]),
        "swarm down -v",
    );
    eprintln!("swarm down -v: {:?}", removing.elapsed());
    assert!(down.contains("Volume swt_data Removed"), "{down}");
    assert_eq!(cluster.docker(0, &volumes), "");
    assert_eq!(
        cluster.docker(
            0,
            &[
                "service",
                "ls",
                "-q",
                "--filter",
                "label=com.docker.stack.namespace=swt"
            ]
        ),
        ""
    );
    assert_eq!(
        cluster.docker(
            0,
            &[
                "network",
                "ls",
                "-q",
                "--filter",
                "label=com.docker.stack.namespace=swt"
            ]
        ),
        ""
    );
    let registry = [
        "service",
        "ls",
        "-q",
        "--filter",
        "name=orchestrator-registry",
    ];
    assert_ne!(
        cluster.docker(0, &registry),
        "",
        "the registry is shared: down keeps it"
    );
    let teardown = Instant::now();
    cluster.down();
    eprintln!("cluster teardown: {:?}", teardown.elapsed());
    eprintln!("whole test: {:?}", started.elapsed());
}

#[test]
fn a_failing_test_leaves_no_namespace_bridge_rule_daemon_or_directory() {
    let id = std::thread::spawn(|| {
        let cluster = Cluster::up(2);
        let id = cluster.id.clone();
        assert!(
            !leftovers(&id).is_empty(),
            "a running cluster is found by its prefix"
        );
        // The test fails here; the guard's Drop tears the cluster down while unwinding.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let _cluster = cluster;
            panic!("a test that fails");
        }));
        assert!(result.is_err());
        id
    })
    .join()
    .expect("the thread reports the cluster's ID");
    assert_eq!(leftovers(&id), Vec::<String>::new());
}

#[test]
fn a_cluster_whose_test_process_died_is_reaped_by_its_prefix() {
    // A process that is gone owns the cluster, as if its test had been killed (no Drop ran).
    let mut gone = Command::new("true").spawn().unwrap();
    gone.wait().unwrap();
    let description = script_ok(&["up", "1", "--owner", &gone.id().to_string()]);
    let id = description
        .lines()
        .find_map(|l| l.strip_prefix("ID="))
        .expect("the description names the ID")
        .to_owned();
    script_ok(&["down", "stale"]);
    assert_eq!(leftovers(&id), Vec::<String>::new());
}
