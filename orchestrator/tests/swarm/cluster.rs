//! A real Docker Swarm as a test fixture: `scripts/swarm-cluster` starts N dockerd processes,
//! each in a network namespace of its own on a private test bridge, and joins them; dropping
//! the [`Cluster`] tears everything down (daemons, namespaces, bridge, veths, the iptables rule,
//! mounts, directories), pass or fail. A cluster whose test process died is reaped by the next
//! `up` (the script finds it by its name prefix and its owner's PID).

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

/// The script, from the workspace root.
fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/swarm-cluster")
}

fn run_script(args: &[&str]) -> Output {
    Command::new(script())
        .args(args)
        .output()
        .expect("scripts/swarm-cluster runs")
}

/// Runs the script; returns its stdout, or panics with its stderr when it fails.
pub fn script_ok(args: &[&str]) -> String {
    let out = run_script(args);
    assert!(
        out.status.success(),
        "scripts/swarm-cluster {args:?} failed (it needs root, iproute2, iptables and dockerd):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One node: its address on the test bridge and its daemon's socket.
#[derive(Debug, Clone)]
pub struct Node {
    pub address: String,
    /// `unix:///run/osw<ID>/n<i>/docker.sock`, for DOCKER_HOST.
    pub host: String,
}

/// A running cluster; node 0 is the manager.
#[derive(Debug)]
pub struct Cluster {
    pub id: String,
    pub nodes: Vec<Node>,
    /// `ADDRESS:5000` of node 1, the manager, where the in-swarm registry runs (`--dnsrr`).
    pub registry: String,
    down: bool,
}

impl Cluster {
    /// Starts a cluster of `n` nodes owned by this test process.
    pub fn up(n: usize) -> Self {
        let owner = std::process::id().to_string();
        let description = script_ok(&["up", &n.to_string(), "--owner", &owner]);
        let value = |key: &str| {
            description
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("no {key} in the description:\n{description}"))
                .to_owned()
        };
        let nodes = (1..=n)
            .map(|i| {
                let line = value(&format!("NODE{i}"));
                let (address, host) = line.split_once(' ').expect("NODEi=ADDRESS HOST");
                Node {
                    address: address.to_owned(),
                    host: host.to_owned(),
                }
            })
            .collect();
        Self {
            id: value("ID"),
            nodes,
            registry: value("REGISTRY"),
            down: false,
        }
    }

    /// Copies this machine's registry:2 image onto node 1, the manager, where `swarm up` runs
    /// the in-swarm registry from it.
    pub fn load_registry_image(&self) {
        script_ok(&["registry", &self.id]);
    }

    /// The manager's DOCKER_HOST.
    pub fn manager(&self) -> &str {
        &self.nodes[0].host
    }

    /// Runs the docker CLI against node `i` (0-based); panics with its stderr on failure.
    pub fn docker(&self, i: usize, args: &[&str]) -> String {
        let out = Command::new("docker")
            .arg("-H")
            .arg(&self.nodes[i].host)
            .args(args)
            .output()
            .expect("the docker CLI runs");
        assert!(
            out.status.success(),
            "docker {args:?} on node {} failed: {}",
            i + 1,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Node `i` (0-based) dies as a machine that loses power: cut off, then everything in its
    /// namespace killed.
    pub fn kill(&self, i: usize) {
        script_ok(&["kill", &self.id, &(i + 1).to_string()]);
    }

    /// Node `i` is cut off by a partition (its link down; everything on it still runs), or
    /// back (`cut` false).
    pub fn partition(&self, i: usize, cut: bool) {
        let verb = if cut { "cut" } else { "heal" };
        script_ok(&[verb, &self.id, &(i + 1).to_string()]);
    }

    /// Tears the cluster down and asserts that nothing of it is left (the script checks).
    pub fn down(mut self) {
        self.down = true;
        script_ok(&["down", &self.id]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.down {
            let out = run_script(&["down", &self.id]);
            if !out.status.success() {
                eprintln!(
                    "cluster {} teardown: {}",
                    self.id,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
}

/// What is left on this machine of cluster `id`, found by its name prefix: namespaces, links
/// (bridge, veths), iptables rules, mounts, directories and daemons. Empty when it is all gone.
pub fn leftovers(id: &str) -> Vec<String> {
    let prefix = format!("osw{id}");
    let lines = |program: &str, args: &[&str]| -> Vec<String> {
        let out = Command::new(program)
            .args(args)
            .output()
            .expect("the tool runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let mut left: Vec<String> = Vec::new();
    let named = |line: &str| {
        line.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| {
                word.starts_with(&prefix) && word[prefix.len()..].starts_with(['n', 'h', 'p', 'b'])
            })
    };
    left.extend(
        lines("ip", &["netns", "list"])
            .into_iter()
            .filter(|l| named(l)),
    );
    left.extend(
        lines("ip", &["-o", "link", "show"])
            .into_iter()
            .filter(|l| named(l)),
    );
    let comment = format!("--comment {prefix} ");
    left.extend(
        lines("iptables", &["-S", "FORWARD"])
            .into_iter()
            .filter(|l| l.contains(&comment) || l.contains(&format!("--comment \"{prefix}\""))),
    );
    let dirs = [format!("/run/{prefix}"), format!("/tmp/{prefix}")];
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    left.extend(
        mounts
            .lines()
            .filter(|l| {
                dirs.iter()
                    .any(|d| l.contains(&format!(" {d}/")) || l.contains(&format!(" {d} ")))
            })
            .map(str::to_owned),
    );
    left.extend(dirs.iter().filter(|d| Path::new(d).exists()).cloned());
    left.extend(
        lines("ps", &["-eo", "args"])
            .into_iter()
            .filter(|l| l.contains(&format!("/tmp/{prefix}/"))),
    );
    left
}

/// A plain HTTP GET of `path` at `address:port` (a node of a test cluster only); the body, or
/// `None` when it does not answer 200 within two seconds.
pub fn http_get(address: &str, port: u16, path: &str) -> Option<String> {
    let addr: SocketAddr = format!("{address}:{port}").parse().ok()?;
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    // A CGI script's own headers end in bare newlines, which busybox httpd passes on.
    let response = response.replace("\r\n", "\n");
    let (head, body) = response.split_once("\n\n")?;
    let status = head.lines().next()?;
    (status.starts_with("HTTP/1.") && status.contains(" 200 ")).then(|| body.to_owned())
}

/// Polls `check` until it returns `Some`, or panics naming `what` after `timeout`.
pub fn eventually<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
}
