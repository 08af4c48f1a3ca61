//! A throwaway project: a folder with a compose file, a unique name, the real binary, and
//! removal of everything labelled with that name when it is dropped.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// The image every test runs: busybox on `scratch`, a few MB, built once per test run.
pub const BOX: &str = "orchestrator-test-box:1";
/// The label `scripts/test` removes test images by.
pub const TEST_LABEL: &str = "dev.orchestrator.test=1";

/// Runs the docker CLI and returns its stdout; panics with its stderr when it fails.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Builds [`BOX`] once: a static busybox is all it holds.
pub fn test_image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("a static busybox (apt-get install busybox-static; scripts/test does it)");
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(busybox, dir.path().join("busybox")).unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            format!(
                "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nRUN [\"/bin/mkdir\", \"-p\", \"/tmp\", \"/var/www\"]\nLABEL {TEST_LABEL}\nCMD [\"sh\"]\n"
            ),
        )
        .unwrap();
        docker(&["build", "-q", "-t", BOX, dir.path().to_str().unwrap()]);
    });
    BOX
}

/// A project of the test's own.
pub struct TestProject {
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl TestProject {
    /// A new project with `compose` as its `compose.yaml` (`$BOX` stands for the test image).
    pub fn new(compose: &str) -> Self {
        test_image();
        let dir = tempfile::Builder::new()
            .prefix("orch-test-")
            .tempdir()
            .unwrap();
        let name = format!("orct{}", &uuid_like()[..10]);
        let project = Self { dir, name };
        project.write("compose.yaml", compose);
        project
    }

    /// Writes a file into the project folder (`$BOX` replaced by the test image).
    pub fn write(&self, path: &str, text: &str) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text.replace("$BOX", BOX)).unwrap();
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Runs `orchestrator -p NAME ARGS...` in the project folder.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// Same, with extra environment variables.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut all = vec!["-p", &self.name, "--progress", "plain"];
        all.extend_from_slice(args);
        Command::new(env!("CARGO_BIN_EXE_orchestrator"))
            .current_dir(self.dir.path())
            .args(&all)
            .envs(env.iter().copied())
            .env_remove("COMPOSE_FILE")
            .env_remove("COMPOSE_PROJECT_NAME")
            .output()
            .expect("the orchestrator runs")
    }

    /// Runs and asserts success; returns stdout and stderr together.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "orchestrator {args:?} failed:\n{text}"
        );
        text
    }

    /// The ID of container `service-N`, or `None`.
    pub fn container_id(&self, service: &str, n: u32) -> Option<String> {
        let out = Command::new("docker")
            .args([
                "inspect",
                "-f",
                "{{.Id}}",
                &format!("{}-{service}-{n}", self.name),
            ])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// `docker inspect -f FORMAT` of container `service-N`.
    pub fn inspect(&self, service: &str, n: u32, format: &str) -> String {
        docker(&[
            "inspect",
            "-f",
            format,
            &format!("{}-{service}-{n}", self.name),
        ])
    }

    /// Runs a command in container `service-1` through the docker CLI.
    pub fn sh(&self, service: &str, script: &str) -> String {
        docker(&[
            "exec",
            &format!("{}-{service}-1", self.name),
            "sh",
            "-c",
            script,
        ])
    }

    /// Names of the project's containers (all states).
    pub fn containers(&self) -> Vec<String> {
        let out = docker(&[
            "ps",
            "-a",
            "--format",
            "{{.Names}}",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
        ]);
        let mut names: Vec<String> = out.lines().map(str::to_owned).collect();
        names.sort();
        names
    }

    /// Names of the project's volumes.
    pub fn volumes(&self) -> Vec<String> {
        let out = docker(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
        ]);
        let mut names: Vec<String> = out.lines().map(str::to_owned).collect();
        names.sort();
        names
    }

    /// Waits until `check` holds, or panics after `timeout`.
    pub fn eventually(&self, what: &str, timeout: Duration, check: impl Fn() -> bool) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if check() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("{what}: not within {timeout:?}");
    }
}

impl Drop for TestProject {
    fn drop(&mut self) {
        let label = format!("label=com.docker.compose.project={}", self.name);
        let ids = |args: &[&str]| -> Vec<String> {
            Command::new("docker")
                .args(args)
                .output()
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        for id in ids(&["ps", "-aq", "--filter", &label]) {
            let _ = Command::new("docker")
                .args(["rm", "-f", "-v", &id])
                .output();
        }
        for id in ids(&["network", "ls", "-q", "--filter", &label]) {
            let _ = Command::new("docker").args(["network", "rm", &id]).output();
        }
        for id in ids(&["volume", "ls", "-q", "--filter", &label]) {
            let _ = Command::new("docker")
                .args(["volume", "rm", "-f", &id])
                .output();
        }
        for id in ids(&["images", "-q", "--filter", &label]) {
            let _ = Command::new("docker").args(["rmi", "-f", &id]).output();
        }
    }
}

/// A random hex string (no extra dependency for it).
pub fn uuid_like() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    format!("{:016x}", h.finish())
}

/// stdout and stderr of an output, together.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
