//! Start-first updates on the real engine: a new container must be up before its old one
//! stops, and a new container that exits, crash-loops or stays unhealthy is removed while the
//! old ones keep running, untouched, with the old configuration recorded.

use crate::helpers::{docker, text, TestProject};

/// Two replicas answering HTTP; `MODE` is what a release changes. No published port, no
/// volume: start-first applies by default.
const SERVICE: &str = r#"
services:
  web:
    image: $BOX
    command: ["sh", "-c", "echo starting in mode $$MODE; exec httpd -f -p 8080"]
    environment:
      MODE: one
    stop_grace_period: 1s
    restart: unless-stopped
    deploy:
      replicas: 2
      update_config: {monitor: 2s}
"#;

/// The service's containers: (name, ID, running, config hash).
fn containers(p: &TestProject) -> Vec<(String, String, bool, String)> {
    let mut rows: Vec<(String, String, bool, String)> = p
        .containers()
        .into_iter()
        .map(|name| {
            let row = docker(&[
                "inspect",
                "-f",
                r#"{{.Id}} {{.State.Running}} {{index .Config.Labels "com.docker.compose.config-hash"}}"#,
                &name,
            ]);
            let mut parts = row.split(' ');
            let id = parts.next().unwrap().to_owned();
            let running = parts.next() == Some("true");
            let hash = parts.next().unwrap_or_default().to_owned();
            (name, id, running, hash)
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn rollout_replaces_start_first_each_new_container_up_before_its_old_one_stops() {
    let p = TestProject::new(SERVICE);
    p.ok(&["up", "-d"]);
    let before = containers(&p);
    p.write("compose.yaml", &SERVICE.replace("MODE: one", "MODE: two"));
    let out = p.ok(&["up", "-d"]);
    assert!(
        out.contains("service web: start-first: no published host ports, container_name or named volumes; 1 at a time, on failure roll back"),
        "{out}"
    );
    // Each new container ran 2 s (monitor) before its old one was stopped, one at a time.
    let position = |line: &str| {
        out.find(line)
            .unwrap_or_else(|| panic!("{line:?} missing:\n{out}"))
    };
    for n in 1..=2 {
        let old = &before[n - 1];
        let temp = format!("{}_{}-web-{n}", &old.1[..12], p.name);
        assert!(
            position(&format!("Container {temp}  Running"))
                < position(&format!("Container {}-web-{n}  Stopped", p.name)),
            "{out}"
        );
    }
    assert!(
        position(&format!("Container {}-web-1  Stopped", p.name))
            < position(&format!(
                "Container {}_{}-web-2  Created",
                &before[1].1[..12],
                p.name
            )),
        "batches of one: {out}"
    );
    let after = containers(&p);
    let names: Vec<&str> = after.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [format!("{}-web-1", p.name), format!("{}-web-2", p.name)],
        "the new containers took the old names; nothing else is left"
    );
    for (old, new) in before.iter().zip(&after) {
        assert_ne!(old.1, new.1, "replaced");
        assert!(new.2, "running");
        assert_ne!(old.3, new.3, "the new configuration is recorded");
    }
    assert!(p.sh("web", "env").contains("MODE=two"));
}

/// Runs a release that fails and checks that it changed nothing: the same containers, running,
/// with the old configuration, and no replacement left. Returns what `up` said.
fn a_failing_release_changes_nothing(release: &str) -> String {
    let p = TestProject::new(SERVICE);
    p.ok(&["up", "-d"]);
    let before = containers(&p);
    p.write("compose.yaml", release);
    let out = p.run(&["up", "-d"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("service web was not updated: "),
        "names the service: {said}"
    );
    assert!(
        said.contains(
            "the update was rolled back: the old containers kept serving, and nothing was changed"
        ),
        "{said}"
    );
    assert!(
        !said.contains(&format!("{}-web-1  Stopped", p.name)),
        "{said}"
    );
    assert_eq!(
        containers(&p),
        before,
        "the same containers, running, with the old hash"
    );
    said
}

#[test]
fn rollout_a_new_container_that_exits_at_start_is_rolled_back() {
    let release = SERVICE.replace(
        "exec httpd -f -p 8080",
        "echo MODE=broken is not a mode this release knows >&2; exit 3",
    );
    let said = a_failing_release_changes_nothing(&release);
    assert!(
        said.contains("exited with code 3")
            || said.contains("crash-looping: it exited with code 3"),
        "the exit code: {said}"
    );
    assert!(
        said.contains("| MODE=broken is not a mode this release knows"),
        "the container's last log lines: {said}"
    );
}

#[test]
fn rollout_a_new_container_that_stays_unhealthy_is_rolled_back() {
    let release = SERVICE.replace(
        "    stop_grace_period: 1s\n",
        "    stop_grace_period: 1s\n    healthcheck:\n      test: [\"CMD\", \"sh\", \"-c\", \"echo no answer on 8081; exit 1\"]\n      interval: 1s\n      retries: 2\n",
    );
    let said = a_failing_release_changes_nothing(&release);
    assert!(
        said.contains("is unhealthy; last health check: exit 1: no answer on 8081"),
        "the last health-check output: {said}"
    );
}

#[test]
fn rollout_paused_on_failure_leaves_new_and_old_side_by_side() {
    let p = TestProject::new(SERVICE);
    p.ok(&["up", "-d"]);
    let release = SERVICE
        .replace("exec httpd -f -p 8080", "exit 4")
        .replace("{monitor: 2s}", "{monitor: 2s, failure_action: pause}");
    p.write("compose.yaml", &release);
    let out = p.run(&["up", "-d"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("service web: the update is paused (update_config.failure_action: pause)"),
        "{said}"
    );
    assert!(said.contains("left side by side"), "{said}");
    let rows = containers(&p);
    assert_eq!(rows.len(), 3, "two old and the failed new one: {rows:?}");
    let ps = p.ok(&["ps", "-a"]);
    assert!(
        ps.contains(&format!("updating, replaces {}-web-1", p.name)),
        "ps shows the update in progress: {ps}"
    );
}
