//! Issue 10's three releases, under the same counted load (`e2e::load`) through nginx on
//! 127.0.0.1, deployed by the orchestrator and by Compose v2.26 in turn: a good release (the
//! app image rebuilt under a new `BOARD_RELEASE`), a release whose app exits at start
//! (`LOG_FORMAT=xml`, which its configuration refuses) and one whose health check never passes
//! (`tests/releases/unhealthy.yml`). Each stack is `build.yml` with `--scale app=3`. Compose
//! deploys images the orchestrator built (`--no-build`), so only the deploys are compared.
//! Prints one Markdown row per tool and release. Run by `bench/rollout/run.sh`.

use std::{
    process::{Command, Output},
    time::{Duration, Instant},
};

use e2e::{
    free_port,
    load::{Load, UNLIMITED_POSTS},
    on_build_yml, repo, text,
};

/// Users of the load, as in tests/tests/rollout.rs.
const CONNECTIONS: usize = 8;

/// One deploy tool, on a project of its own.
struct Tool {
    name: &'static str,
    project: String,
    port: u16,
    /// Compose v2's binary; `None` for the orchestrator.
    compose: Option<String>,
}

impl Tool {
    fn env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = UNLIMITED_POSTS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.push(("HTTP_PORT".into(), self.port.to_string()));
        env.push(("POSTGRES_PASSWORD".into(), "bench-only-password".into()));
        env.push(("APP_DB_PASSWORD".into(), "bench-only-app-password".into()));
        env
    }

    /// The orchestrator on this project (builds, and `up` when the tool is ours).
    fn orchestrator(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        on_build_yml(&self.project, args)
            .envs(self.env())
            .envs(env.iter().copied())
            .output()
            .expect("the orchestrator runs")
    }

    /// `up -d --wait --scale app=3` by this tool, with `files` merged after build.yml.
    fn up(&self, files: &[&str], env: &[(&str, &str)]) -> Output {
        let mut args: Vec<&str> = files.iter().flat_map(|f| ["-f", *f]).collect();
        args.extend([
            "up",
            "-d",
            "--wait",
            "--wait-timeout",
            "120",
            "--scale",
            "app=3",
        ]);
        match &self.compose {
            None => {
                args.push("--build");
                self.orchestrator(&args, env)
            }
            Some(compose) => {
                // The images as this release would have them, built by the orchestrator.
                let built = self.orchestrator(&["build"], env);
                assert!(built.status.success(), "build: {}", text(&built));
                args.push("--no-build");
                let mut all = vec!["-f", "build.yml", "-p", &self.project];
                all.extend(args);
                Command::new(compose)
                    .current_dir(repo())
                    .args(&all)
                    .envs(self.env())
                    .envs(env.iter().copied())
                    .output()
                    .expect("Compose v2 runs")
            }
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the board answers with, as X-Board-Release of a few page views (or the error).
    fn served(&self) -> String {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut seen: Vec<String> = (0..9)
            .map(|_| match client.get(self.url()).send() {
                Ok(r) if r.status() == 200 => r
                    .headers()
                    .get("x-board-release")
                    .map(|v| v.to_str().unwrap_or("?").to_owned())
                    .unwrap_or_else(|| "(none)".into()),
                Ok(r) => format!("HTTP {}", r.status().as_u16()),
                Err(_) => "no answer".into(),
            })
            .collect();
        seen.sort();
        seen.dedup();
        seen.join(" + ")
    }

    fn wait_until_served(&self, release: &str) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while self.served() != release {
            assert!(
                Instant::now() < deadline,
                "{}: {release} not served",
                self.name
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Back to release two, whatever a bad release left.
    fn restore(&self) {
        let _ = self.up(&[], &[("BOARD_RELEASE", "two")]);
        self.wait_until_served("two");
    }

    fn down(&self) {
        let _ = self.orchestrator(&["down", "-v", "--yes", "-t", "2", "--rmi", "local"], &[]);
    }
}

/// One release under load: a Markdown row.
fn release(tool: &Tool, case: &str, files: &[&str], env: &[(&str, &str)]) -> String {
    let load = Load::start(&tool.url(), CONNECTIONS);
    std::thread::sleep(Duration::from_secs(2));
    let started = Instant::now();
    let out = tool.up(files, env);
    let took = started.elapsed();
    std::thread::sleep(Duration::from_secs(3));
    let report = load.stop();
    let served = tool.served();
    // A board the release took down cannot be read back: its comments are counted once the
    // good release is back.
    let lost = std::panic::catch_unwind(|| report.lost(&tool.url()))
        .map(|lost| lost.len().to_string())
        .unwrap_or_else(|_| {
            tool.restore();
            format!("{} (read after restoring)", report.lost(&tool.url()).len())
        });
    let said = text(&out);
    let first_error = said
        .lines()
        .find(|l| {
            let l = l.trim_start().to_lowercase();
            l.starts_with("error") || l.contains("dependency failed") || l.contains("unhealthy")
        })
        .unwrap_or("")
        .chars()
        .take(90)
        .collect::<String>();
    eprintln!("{} {case}: {}\n{said}", tool.name, report.summary());
    format!(
        "| {} | {case} | {} in {:.1} s | {} | {} | {} | {} | {} | {} |",
        tool.name,
        out.status
            .code()
            .map_or("killed".into(), |c| format!("exit {c}")),
        took.as_secs_f64(),
        report.requests,
        report.failures.len(),
        report.slow,
        lost,
        served,
        first_error.replace('|', "/"),
    )
}

fn main() {
    let compose =
        std::env::var("COMPOSE_V2").expect("COMPOSE_V2: the Compose v2 binary (run.sh sets it)");
    let tools = [
        Tool {
            name: "orchestrator",
            project: format!("benchroll{}", std::process::id()),
            port: free_port(),
            compose: None,
        },
        Tool {
            name: "Compose v2.26",
            project: format!("benchrollv2{}", std::process::id()),
            port: free_port(),
            compose: Some(compose),
        },
    ];
    println!("| tool | release | up | requests | failed | slower than 2 s | lost comments | served after | up's first error line |");
    println!("| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- |");
    for tool in &tools {
        let measured = std::panic::catch_unwind(|| measure(tool));
        tool.down();
        if let Err(panic) = measured {
            std::panic::resume_unwind(panic);
        }
    }
}

/// The three releases by one tool, from a stack it brings up; prints their rows. The caller
/// takes the stack down, even when this panics.
fn measure(tool: &Tool) {
    let one = [("BOARD_RELEASE", "one")];
    let two = [("BOARD_RELEASE", "two")];
    let first = tool.up(&[], &one);
    if !first.status.success() {
        eprintln!("{}: the first up failed:\n{}", tool.name, text(&first));
    }
    tool.wait_until_served("one");
    let old = e2e::docker(&[
        "image",
        "inspect",
        "-f",
        "{{.Id}}",
        &format!("{}-app", tool.project),
    ]);
    println!("{}", release(tool, "good (image rebuilt)", &[], &two));
    let exits = [("BOARD_RELEASE", "two"), ("LOG_FORMAT", "xml")];
    println!("{}", release(tool, "exits at start", &[], &exits));
    tool.restore();
    let unhealthy = ["tests/releases/unhealthy.yml"];
    println!("{}", release(tool, "never healthy", &unhealthy, &two));
    // The release-one image, untagged by the rebuild (down --rmi removes the tagged ones).
    let _ = Command::new("docker").args(["rmi", &old]).output();
}
