//! The project's own `build.yml` (Postgres, the app, nginx) on a three-node swarm where no node
//! has any image: built on this machine's engine (where the images and their build cache are),
//! pushed through a loopback tunnel to the in-swarm registry, pulled by every node by digest.
//! One cluster and one deployed stack serve every case, in order: deploy from nothing, a bad
//! release and a rollout under load, a node lost under load, a partition and its recovery.
//! Load goes to node 1's published port only (node 1 is the manager, which stays up), from
//! `e2e::load`: users alternating page views and form posts.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use e2e::load::{Load, Report, UNLIMITED_POSTS};
use reqwest::blocking::Client;
use serde_json::Value;

use crate::cluster::{eventually, Cluster};

/// The Swarm-only settings the cases use, over build.yml: the app updated start-first (a new
/// replica healthy before an old one stops), checked for 5 s after each replica starts.
const SWARM_OVERRIDE: &str =
    "services:\n  app:\n    deploy:\n      update_config: {order: start-first, monitor: 5s}\n";
/// Users in each load.
const USERS: usize = 6;

/// The project name on the swarm: services `swb_postgres`, `swb_app`, `swb_nginx`.
const PROJECT: &str = "swb";
/// The port nginx publishes on every node (host mode).
const PORT: u16 = 18088;
/// This machine's engine: it builds the images (or finds them cached) and pushes them.
const LOCAL_ENGINE: &str = "unix:///var/run/docker.sock";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The cluster, and the override file beside it.
struct Board {
    cluster: Cluster,
    dir: tempfile::TempDir,
}

impl Board {
    /// Runs `orchestrator -f build.yml -f OVERRIDE -p swb ARGS` against the cluster's manager,
    /// posts unlimited (the load's writers are one address), with `env` on top.
    fn orchestrator(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        let file = self.dir.path().join("swarm.yml");
        let file = file.to_str().unwrap();
        let mut all = vec![
            "-f",
            "build.yml",
            "-f",
            file,
            "-p",
            PROJECT,
            "--progress",
            "plain",
        ];
        all.extend_from_slice(args);
        Command::new(env!("CARGO_BIN_EXE_orchestrator"))
            .current_dir(repo())
            .args(&all)
            .env("DOCKER_HOST", self.cluster.manager())
            .env("POSTGRES_PASSWORD", "swarm-test-only")
            .env("APP_DB_PASSWORD", "swarm-test-only-app")
            .env("HTTP_PORT", PORT.to_string())
            .envs(UNLIMITED_POSTS.iter().copied())
            .envs(env.iter().copied())
            .env_remove("COMPOSE_FILE")
            .env_remove("COMPOSE_PROJECT_NAME")
            .output()
            .expect("the orchestrator runs")
    }

    /// `swarm up` as the cases deploy: no-IPVS layout, built here, three app replicas.
    fn up(&self, env: &[(&str, &str)]) -> Output {
        let up = [
            "swarm",
            "up",
            "--dnsrr",
            "--build-host",
            LOCAL_ENGINE,
            "--scale",
            "app=3",
        ];
        self.orchestrator(env, &up)
    }

    fn inspect(&self, service: &str, format: &str) -> String {
        self.cluster
            .docker(0, &["service", "inspect", service, "--format", format])
    }

    /// The node address of each running task of `service` (`swarm ps`: SERVICE SLOT NODE
    /// DESIRED STATE ...).
    fn running(&self, service: &str) -> Vec<String> {
        let out = self.orchestrator(&[], &["swarm", "ps"]);
        let ps = text(&out);
        assert!(out.status.success(), "swarm ps failed:\n{ps}");
        ps.lines()
            .filter(|l| l.starts_with(&format!("{PROJECT}_{service} ")))
            .filter(|l| l.contains(" running running"))
            .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
            .collect()
    }
}

/// The loaded board's base URL: node 1's published port.
fn load_base(board: &Board) -> String {
    base(&board.cluster.nodes[0].address)
}

/// How much a case may fail.
#[derive(Clone, Copy, PartialEq)]
enum Allowed {
    Nothing,
    /// Only requests on a kept-alive connection that node 1's nginx closed as it reloaded (the
    /// stand-in's nginx 1.22 reloads to follow the replica set), at most one per user per
    /// reload it logged during the case (a browser sends such a GET again by itself; this
    /// load's client does not; docs/benchmarks.md says what that leaves).
    ReloadRaces {
        reloads: usize,
    },
    /// Counted and reported, not judged.
    Counted,
}

/// A failure of the keep-alive race: the server closed an idle connection as the client sent.
fn keep_alive_race(what: &str) -> bool {
    what.contains("Connection reset by peer") || what.contains("connection closed before message")
}

/// Stops the load after `settle` more seconds and asserts that nothing failed beyond what is
/// `allowed` and that no acknowledged comment was lost; returns the report.
fn finish(load: Load, board: &Board, case: &str, settle: Duration, allowed: Allowed) -> Report {
    std::thread::sleep(settle);
    let report = load.stop();
    eprintln!("{case}: {}", report.summary());
    let (races, other): (Vec<_>, Vec<_>) = report
        .failures
        .iter()
        .partition(|f| keep_alive_race(&f.what));
    match allowed {
        Allowed::Nothing => assert!(report.failures.is_empty(), "{case}: {:#?}", report.failures),
        Allowed::ReloadRaces { reloads } => {
            eprintln!("{case}: nginx on node 1 reloaded {reloads} time(s)");
            assert!(other.is_empty(), "{case}: {other:#?}");
            assert!(races.len() <= reloads * USERS, "{case}: {races:#?}");
        }
        Allowed::Counted => {}
    }
    let lost = report.lost(&load_base(board));
    assert!(lost.is_empty(), "{case}: acknowledged and lost: {lost:?}");
    report
}

/// How many times node 1's nginx has reloaded its upstream, from its own log (`swarm logs`).
fn nginx_reloads(board: &Board) -> usize {
    let out = board.orchestrator(&[], &["swarm", "logs", "nginx"]);
    let node = format!("@{} ", board.cluster.nodes[0].address);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&node) && l.contains("nginx reloaded"))
        .count()
}

/// stdout and stderr, each line's runs of spaces made one (progress lines align columns).
fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .lines()
    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    .collect::<Vec<_>>()
    .join("\n")
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn base(address: &str) -> String {
    format!("http://{address}:{PORT}")
}

/// The titles of the newest page, read through `address`'s published port.
fn titles(client: &Client, address: &str) -> Option<Vec<String>> {
    let page: Value = client
        .get(format!("{}/api/comments", base(address)))
        .send()
        .ok()?
        .json()
        .ok()?;
    let comments = page.get("comments")?.as_array()?;
    Some(
        comments
            .iter()
            .filter_map(|c| c.get("title")?.as_str().map(str::to_owned))
            .collect(),
    )
}

/// The position of the first line holding `needle`, or a panic naming it.
fn line_of(output: &str, needle: &str) -> usize {
    output
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{output}"))
}

#[test]
fn the_board_on_three_nodes_from_nothing_through_releases_node_loss_and_partition() {
    let started = Instant::now();
    let cluster = Cluster::up(3);
    cluster.load_registry_image();
    eprintln!("cluster and registry: {:?}", started.elapsed());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("swarm.yml"), SWARM_OVERRIDE).unwrap();
    let board = Board { cluster, dir };

    deploy_from_nothing(&board);
    let http = client();
    let app_image = board.inspect("swb_app", "{{.Spec.TaskTemplate.ContainerSpec.Image}}");
    bad_release_rolled_back_under_load(&board, &app_image);
    rollout_start_first_under_load(&board, &app_image);
    let worker = node_lost_under_load(&board);
    partition_and_recovery(&board, worker, &http);

    // The images this test built or tagged on this machine's engine.
    for image in ["swb-app", "swb-nginx"] {
        let _ = Command::new("docker").args(["rmi", image]).output();
    }
    board.cluster.down();
    eprintln!("whole test: {:?}", started.elapsed());
}

fn deploy_from_nothing(board: &Board) {
    let cluster = &board.cluster;
    // From nothing: no node has an image (but the registry's, on the manager).
    for i in 0..3 {
        let images = cluster.docker(i, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        let images: Vec<&str> = images.lines().filter(|l| *l != "registry:2").collect();
        assert!(images.is_empty(), "node {} has {images:?}", i + 1);
    }

    let deploy = Instant::now();
    let out = board.up(&[]);
    let first = text(&out);
    assert!(out.status.success(), "swarm up failed:\n{first}");
    eprintln!("cold swarm up of build.yml: {:?}", deploy.elapsed());

    // depends_on: postgres runs (healthy) before the app is created, the app before nginx.
    let postgres_running = line_of(&first, "Service swb_postgres Running");
    let app_created = line_of(&first, "Service swb_app Created");
    let app_running = line_of(&first, "Service swb_app Running");
    let nginx_created = line_of(&first, "Service swb_nginx Created");
    assert!(postgres_running < app_created, "{first}");
    assert!(app_running < nginx_created, "{first}");
    // Postgres is pinned to one node, and the deploy says so.
    let manager = cluster.docker(0, &["info", "--format", "{{.Swarm.NodeID}}"]);
    assert!(
        first.contains(&format!(
            "service postgres: volumes swb_pgdata live on one node each: the service is pinned to node {manager}"
        )),
        "{first}"
    );
    assert_eq!(
        board.inspect(
            "swb_postgres",
            "{{.Spec.TaskTemplate.Placement.Constraints}}"
        ),
        format!("[node.id == {manager}]")
    );
    // Every image is pinned to what was pushed, at the address the nodes pull from.
    for service in ["swb_postgres", "swb_app", "swb_nginx"] {
        let image = board.inspect(service, "{{.Spec.TaskTemplate.ContainerSpec.Image}}");
        assert!(
            image.starts_with(&format!("{}/", cluster.registry)) && image.contains("@sha256:"),
            "{service}: {image}"
        );
    }
    // The no-IPVS layout: names by DNS round robin, nginx on every node.
    assert_eq!(
        board.inspect("swb_app", "{{.Spec.EndpointSpec.Mode}}"),
        "dnsrr"
    );
    assert_eq!(
        board.inspect("swb_app", "{{.Spec.Mode.Replicated.Replicas}}"),
        "3"
    );
    assert_eq!(
        board.inspect("swb_nginx", "{{if .Spec.Mode.Global}}global{{end}}"),
        "global"
    );
    // The push's loopback tag is gone from this machine's engine.
    let local = Command::new("docker")
        .args(["images", "--format", "{{.Repository}}"])
        .output()
        .unwrap();
    let local = String::from_utf8_lossy(&local.stdout);
    assert!(!local.contains("127.0.0.1:"), "{local}");

    // The board answers through every node's published port.
    let http = client();
    let answering = Instant::now();
    for node in &cluster.nodes {
        eventually(
            &format!("the board through {}:{PORT}", node.address),
            Duration::from_secs(60),
            || {
                let r = http.get(format!("{}/readyz", base(&node.address))).send();
                r.ok().filter(|r| r.status() == 200)
            },
        );
        let page = http.get(base(&node.address)).send().unwrap();
        assert_eq!(page.status(), 200, "GET / through {}", node.address);
    }
    eprintln!(
        "every node answering: {:?} after swarm up",
        answering.elapsed()
    );

    // A comment posted through one node is read back through the others.
    let title = format!("posted through node 1 at {:?}", deploy.elapsed());
    let posted = http
        .post(format!("{}/api/comments", base(&cluster.nodes[0].address)))
        .json(&serde_json::json!({"title": title, "author": "swarm", "text": "across nodes"}))
        .send()
        .unwrap();
    assert_eq!(posted.status(), 201, "{:?}", posted.text());
    for node in &cluster.nodes[1..] {
        let seen = titles(&http, &node.address).unwrap_or_default();
        assert!(seen.contains(&title), "{}: {seen:?}", node.address);
    }

    // Nothing changed: nothing sent.
    let again = Instant::now();
    let out = board.up(&[]);
    let second = text(&out);
    assert!(out.status.success(), "second swarm up failed:\n{second}");
    eprintln!(
        "swarm up of build.yml, nothing changed: {:?}",
        again.elapsed()
    );
    assert!(!second.contains("Updated"), "{second}");
    assert!(second.contains("Service swb_app Unchanged"), "{second}");
}

/// The app exits at start (its configuration is refused): Swarm rolls the update back with no
/// flag, the old replicas serve throughout, and `swarm up` exits 1 with the app's own words.
fn bad_release_rolled_back_under_load(board: &Board, app_image: &str) {
    let load = Load::start(&load_base(board), USERS);
    std::thread::sleep(Duration::from_secs(3));
    let release = Instant::now();
    let out = board.up(&[("HTTP_WORKERS", "none")]);
    eprintln!(
        "bad release rolled back and reported: {:?}",
        release.elapsed()
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("service swb_app is not running: its update ended rollback_completed"),
        "{said}"
    );
    assert!(
        said.contains("HTTP_WORKERS is not valid: expected a whole number above 0"),
        "the container's own error: {said}"
    );
    finish(
        load,
        board,
        "bad release under load",
        Duration::from_secs(2),
        Allowed::Nothing,
    );
    assert_eq!(
        board.inspect("swb_app", "{{.Spec.TaskTemplate.ContainerSpec.Image}}"),
        app_image
    );
    assert_eq!(board.running("app").len(), 3);
}

/// A changed app image (one more label: new bytes, a new digest) rolled out start-first.
fn rollout_start_first_under_load(board: &Board, app_image: &str) {
    let dockerfile = "FROM swb-app\nLABEL dev.orchestrator.test.release=2\n";
    let mut build = Command::new("docker")
        .args(["build", "-q", "-t", "swb-app", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    build
        .stdin
        .take()
        .unwrap()
        .write_all(dockerfile.as_bytes())
        .unwrap();
    assert!(build.wait().unwrap().success(), "the changed image builds");

    let reloads = nginx_reloads(board);
    let load = Load::start(&load_base(board), USERS);
    std::thread::sleep(Duration::from_secs(3));
    let rollout = Instant::now();
    let out = board.up(&[]);
    let said = text(&out);
    assert!(out.status.success(), "the rollout failed:\n{said}");
    eprintln!("start-first rollout of 3 replicas: {:?}", rollout.elapsed());
    assert!(said.contains("Service swb_app Updated"), "{said}");
    finish(
        load,
        board,
        "start-first rollout under load",
        Duration::from_secs(2),
        Allowed::ReloadRaces {
            reloads: nginx_reloads(board).saturating_sub(reloads),
        },
    );
    let now = board.inspect("swb_app", "{{.Spec.TaskTemplate.ContainerSpec.Image}}");
    assert_ne!(now, app_image, "a new digest");
    assert_eq!(board.running("app").len(), 3);
}

/// A worker that runs app replicas dies under load: they run again on the nodes left.
/// Returns the index of the worker still alive.
fn node_lost_under_load(board: &Board) -> usize {
    let cluster = &board.cluster;
    let running = board.running("app");
    let replicas = |i: usize| {
        running
            .iter()
            .filter(|n| **n == cluster.nodes[i].address)
            .count()
    };
    let victim = if replicas(2) >= replicas(1) { 2 } else { 1 };
    assert!(
        replicas(victim) > 0,
        "no app replica on a worker: {running:?}"
    );
    let load = Load::start(&load_base(board), USERS);
    std::thread::sleep(Duration::from_secs(3));
    let killed = Instant::now();
    cluster.kill(victim);
    let gone = &cluster.nodes[victim].address;
    eventually(
        "3 app replicas on the nodes left",
        Duration::from_secs(90),
        || {
            let running = board.running("app");
            (running.len() == 3 && !running.contains(gone)).then_some(())
        },
    );
    eprintln!(
        "node lost: {} app replica(s) running again elsewhere after {:?}",
        replicas(victim),
        killed.elapsed()
    );
    finish(
        load,
        board,
        "node lost under load",
        Duration::from_secs(3),
        Allowed::Counted,
    );
    3 - victim
}

/// The other worker is cut off: `swarm ps` says its node is down and its tasks run elsewhere;
/// once it is back, it serves on its own address again.
fn partition_and_recovery(board: &Board, worker: usize, http: &Client) {
    let cluster = &board.cluster;
    let address = cluster.nodes[worker].address.clone();
    let load = Load::start(&load_base(board), USERS);
    std::thread::sleep(Duration::from_secs(3));
    let cut = Instant::now();
    cluster.partition(worker, true);
    let down = format!("{address} (down)");
    let ps = eventually(
        "swarm ps shows the node down",
        Duration::from_secs(60),
        || {
            let out = board.orchestrator(&[], &["swarm", "ps"]);
            let ps = text(&out);
            ps.contains(&down).then_some(ps)
        },
    );
    eprintln!(
        "partition: node down in swarm ps after {:?}:\n{ps}",
        cut.elapsed()
    );
    eventually(
        "3 app replicas on the manager",
        Duration::from_secs(90),
        || {
            let running = board.running("app");
            (running.len() == 3 && !running.contains(&address)).then_some(())
        },
    );
    eprintln!(
        "partition: app replicas running on the manager after {:?}",
        cut.elapsed()
    );
    finish(
        load,
        board,
        "partition under load",
        Duration::from_secs(3),
        Allowed::Counted,
    );

    let healed = Instant::now();
    cluster.partition(worker, false);
    eventually(
        "the node answers on its published port again",
        Duration::from_secs(120),
        || {
            let r = http.get(format!("{}/readyz", base(&address))).send();
            r.ok().filter(|r| r.status() == 200)
        },
    );
    eprintln!(
        "partition healed: the node serves again after {:?}",
        healed.elapsed()
    );
    eventually(
        "swarm ps shows the node ready",
        Duration::from_secs(60),
        || {
            let ps = text(&board.orchestrator(&[], &["swarm", "ps"]));
            (!ps.contains(&down)).then_some(())
        },
    );
    eprintln!(
        "partition healed: the node ready in swarm ps after {:?}",
        healed.elapsed()
    );
}
