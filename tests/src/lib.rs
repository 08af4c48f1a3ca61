//! End-to-end harness: the repository's own `build.yml`, brought up by the orchestrator under a
//! project name and an HTTP port of the test's own, torn down (volumes too) when the test ends,
//! pass or fail.

pub mod load;

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// The repository root, where `build.yml` is.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The orchestrator binary, built once for the whole test run.
pub fn orchestrator() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .current_dir(repo())
                .args(["build", "-q", "-p", "orchestrator"])
                .status()
                .expect("cargo runs");
            assert!(status.success(), "the orchestrator builds");
            repo().join("target/debug/orchestrator")
        })
        .clone()
}

/// The password every test stack's Postgres gets (tests only; never committed for real use).
const TEST_PASSWORD: &str = "e2e-only-password";
/// The password of the board's own role in every test stack (tests only).
pub const TEST_APP_PASSWORD: &str = "e2e-only-app-password";

/// Who `Stack::psql` logs in as.
#[derive(Debug, Clone, Copy)]
pub enum DbUser {
    /// `POSTGRES_USER`: the administrator, a superuser.
    Admin,
    /// `APP_DB_USER`: the board's own role.
    App,
}

/// A free TCP port (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One stack of the test's own.
pub struct Stack {
    pub project: String,
    pub port: u16,
    /// Variables every orchestrator call of this stack gets (`LOG_FORMAT=json`, ...).
    env: Vec<(String, String)>,
    /// Stacks run one at a time: four Postgres and six apps at once on two cores would make
    /// the timing assertions (a 503 within seconds) measure the machine, not the board.
    _turn: std::sync::MutexGuard<'static, ()>,
}

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Stack {
    /// Brings the stack up (`up -d --wait`), building what it must: the first stack of a run
    /// pays for the images (and, on an engine without a registry, the stand-ins); the others
    /// find them cached.
    pub fn up(name: &str) -> Self {
        Self::up_with(name, &[])
    }

    /// Brings the stack up with `env` set for `build.yml`'s variables.
    pub fn up_with(name: &str, env: &[(&str, &str)]) -> Self {
        Self::up_prepared(name, env, |_| {})
    }

    /// Brings the stack up after `prepare` has run with its project name and port chosen (to
    /// make a volume of the project's own beforehand, say; label it with
    /// `com.docker.compose.project` and teardown removes it too).
    pub fn up_prepared(name: &str, env: &[(&str, &str)], prepare: impl FnOnce(&Stack)) -> Self {
        let turn = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        build_images_once();
        let stack = Self {
            project: format!("e2e{name}{}", std::process::id()),
            port: free_port(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            _turn: turn,
        };
        prepare(&stack);
        let out = stack.orchestrator(&["up", "-d", "--wait", "--wait-timeout", "240"]);
        assert!(out.status.success(), "up failed:\n{}", text(&out));
        stack.wait_until_served();
        stack
    }

    /// Scales `service` to `n` containers (`up -d --wait --scale`), asserting it worked. For
    /// the app it also waits until nginx sends to every replica, so that what a test measures
    /// next does not meet the reload that lets a new replica in.
    pub fn scale(&self, service: &str, n: u32) -> String {
        let said = self.ok(&[
            "up",
            "-d",
            "--wait",
            "--wait-timeout",
            "240",
            "--scale",
            &format!("{service}={n}"),
        ]);
        if service == "app" {
            self.wait_until_nginx_routes_to_apps(n);
        }
        said
    }

    /// Waits until nginx sends to `n` app replicas. On an nginx that re-resolves the app's
    /// name itself (1.27.3 and newer: one `server ... resolve` line) there is nothing to wait
    /// for; on older ones the upstream watcher (nginx/docker-entrypoint.d/40-board-upstream.sh)
    /// writes one line per replica it lets in and then reloads nginx, saying so in its log:
    /// this waits for that word, then a second more for the old workers to finish closing
    /// their idle connections.
    pub fn wait_until_nginx_routes_to_apps(&self, n: u32) {
        let nginx = self.container("nginx", 1);
        let conf = docker(&[
            "exec",
            &nginx,
            "cat",
            "/etc/nginx/conf.d/board-upstream.conf",
        ]);
        if conf.contains(" resolve") {
            return;
        }
        self.eventually(
            &format!("nginx sends to all {n} app replicas"),
            Duration::from_secs(60),
            || {
                let logs = docker(&["logs", &nginx]);
                let Some(last) = logs
                    .lines()
                    .rev()
                    .find(|l| l.contains("40-board-upstream:"))
                else {
                    return false;
                };
                let addresses = last
                    .split([' ', ';'])
                    .filter(|word| word.parse::<std::net::Ipv4Addr>().is_ok())
                    .count();
                addresses == n as usize
            },
        );
        std::thread::sleep(Duration::from_secs(1));
    }

    /// Waits until the board answers through nginx on the published port.
    pub fn wait_until_served(&self) {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        self.eventually(
            "the board answers through nginx",
            Duration::from_secs(60),
            || {
                client
                    .get(self.url("/readyz"))
                    .send()
                    .is_ok_and(|r| r.status() == 200)
            },
        );
    }

    /// Runs the orchestrator on `build.yml` under this stack's name and port.
    pub fn orchestrator(&self, args: &[&str]) -> Output {
        self.orchestrator_with(args, &[])
    }

    /// The same, with `env` set on top of the stack's own (a release: `BOARD_RELEASE=two`).
    pub fn orchestrator_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        on_build_yml(&self.project, args)
            .env("HTTP_PORT", self.port.to_string())
            .env("POSTGRES_PASSWORD", TEST_PASSWORD)
            .env("APP_DB_PASSWORD", TEST_APP_PASSWORD)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(env.iter().copied())
            .output()
            .expect("the orchestrator runs")
    }

    /// `psql` as `user` over TCP inside the Postgres container (as an operator would connect,
    /// taking a connection slot like any client), running `sql`; its output, or why it failed.
    pub fn psql(&self, user: DbUser, sql: &str) -> Result<String, String> {
        let (name, password) = match user {
            DbUser::Admin => ("board", TEST_PASSWORD),
            DbUser::App => ("board_app", TEST_APP_PASSWORD),
        };
        let out = Command::new("docker")
            .args(["exec", "-e", &format!("PGPASSWORD={password}")])
            .arg(self.container("postgres", 1))
            .args([
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                name,
                "-d",
                "board",
                "-XAtc",
                sql,
            ])
            .output()
            .expect("docker runs");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(text(&out))
        }
    }

    /// A container's address on the project's network (reachable from this host).
    pub fn address(&self, service: &str, n: u32) -> String {
        docker(&[
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            &self.container(service, n),
        ])
    }

    /// Runs the orchestrator and asserts success; returns its output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.orchestrator(args);
        assert!(
            out.status.success(),
            "orchestrator {args:?} failed:\n{}",
            text(&out)
        );
        text(&out)
    }

    /// `http://127.0.0.1:PORT` + `path`: through nginx, as a browser would.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A container's name.
    pub fn container(&self, service: &str, n: u32) -> String {
        format!("{}-{service}-{n}", self.project)
    }

    /// Polls until `check` holds or panics after `timeout`.
    pub fn eventually(&self, what: &str, timeout: Duration, check: impl Fn() -> bool) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if check() {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("{what}: not within {timeout:?}");
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.orchestrator(&["down", "-v", "--yes", "-t", "2", "--rmi", "local"]);
        let label = format!("label=com.docker.compose.project={}", self.project);
        for kind in [
            &["ps", "-aq"][..],
            &["volume", "ls", "-q"],
            &["network", "ls", "-q"],
        ] {
            let mut args = kind.to_vec();
            args.extend(["--filter", &label]);
            let ids = Command::new("docker")
                .args(&args)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            for id in ids.lines() {
                let rm: &[&str] = match kind[0] {
                    "ps" => &["rm", "-f", "-v"],
                    "volume" => &["volume", "rm", "-f"],
                    _ => &["network", "rm"],
                };
                let _ = Command::new("docker").args(rm).arg(id).output();
            }
        }
    }
}

/// Builds the stack's images once per run (and the stand-ins where no registry answers), so
/// tests running side by side do not all build them at once.
fn build_images_once() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = Command::new(orchestrator())
            .current_dir(repo())
            .args([
                "-f",
                "build.yml",
                "-p",
                "e2ebuild",
                "--progress",
                "plain",
                "build",
            ])
            .env("POSTGRES_PASSWORD", TEST_PASSWORD)
            .env("APP_DB_PASSWORD", TEST_APP_PASSWORD)
            .output()
            .expect("the orchestrator runs");
        assert!(
            out.status.success(),
            "building the stack failed:\n{}",
            text(&out)
        );
    });
}

/// The orchestrator on the repository's `build.yml` under `project`, plain progress, and the
/// environment's project name ignored: a test stack's or a benchmark's command, to which the
/// caller adds the stack's variables.
pub fn on_build_yml(project: &str, args: &[&str]) -> Command {
    let mut command = Command::new(orchestrator());
    command
        .current_dir(repo())
        .args(["-f", "build.yml", "-p", project, "--progress", "plain"])
        .args(args)
        .env_remove("COMPOSE_PROJECT_NAME");
    command
}

/// stdout and stderr together.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The docker CLI's stdout.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
