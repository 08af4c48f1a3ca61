//! The other verbs, each on a real stack.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::helpers::{docker, text, TestProject, BOX};

const STACK: &str = r#"
services:
  web:
    image: $BOX
    command: ["sh", "-c", "echo web says hello; exec httpd -f -p 8080"]
    ports: ["127.0.0.1::8080"]
    stop_grace_period: 1s
  worker:
    image: $BOX
    command: ["sh", "-c", "echo worker ready; exec sleep 3600"]
    stop_grace_period: 1s
"#;

#[test]
fn ps_lists_containers_as_a_table_json_and_ids() {
    let p = TestProject::new(STACK);
    p.ok(&["up", "-d"]);
    let table = p.ok(&["ps"]);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(
        table.contains(&format!("{}-web-1", p.name)) && table.contains("Up "),
        "{table}"
    );
    let json = p.run(&["ps", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[0]["Service"], "web");
    assert_eq!(rows[0]["State"], "running");
    let ids = String::from_utf8(p.run(&["ps", "-q"]).stdout).unwrap();
    assert_eq!(ids.lines().count(), 2);
    p.ok(&["stop", "worker"]);
    assert_eq!(
        String::from_utf8(p.run(&["ps", "-q"]).stdout)
            .unwrap()
            .lines()
            .count(),
        1
    );
    assert_eq!(
        String::from_utf8(p.run(&["ps", "-a", "-q"]).stdout)
            .unwrap()
            .lines()
            .count(),
        2
    );
}

#[test]
fn logs_prefix_each_line_with_its_container() {
    let p = TestProject::new(STACK);
    p.ok(&["up", "-d"]);
    p.eventually("both have logged", Duration::from_secs(10), || {
        let out = String::from_utf8(p.run(&["logs"]).stdout).unwrap();
        out.contains("web says hello") && out.contains("worker ready")
    });
    let out = String::from_utf8(p.run(&["logs", "--tail", "1", "worker"]).stdout).unwrap();
    assert_eq!(out, format!("{}-worker-1 | worker ready\n", p.name));
}

#[test]
fn stop_start_restart_and_kill_act_on_the_named_services() {
    let p = TestProject::new(STACK);
    p.ok(&["up", "-d"]);
    p.ok(&["stop", "web"]);
    assert_eq!(p.inspect("web", 1, "{{.State.Status}}"), "exited");
    assert_eq!(p.inspect("worker", 1, "{{.State.Status}}"), "running");
    p.ok(&["start"]);
    assert_eq!(p.inspect("web", 1, "{{.State.Status}}"), "running");
    let started = p.inspect("worker", 1, "{{.State.StartedAt}}");
    p.ok(&["restart", "worker"]);
    assert_ne!(p.inspect("worker", 1, "{{.State.StartedAt}}"), started);
    p.ok(&["kill", "-s", "SIGKILL", "worker"]);
    assert_eq!(p.inspect("worker", 1, "{{.State.ExitCode}}"), "137");
}

#[test]
fn exec_and_run_pass_output_and_exit_codes_through() {
    let p = TestProject::new(STACK);
    p.ok(&["up", "-d"]);
    let out = p.run(&["exec", "-T", "worker", "sh", "-c", "echo inside; exit 4"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "inside\n");

    let out = p.run(&[
        "run",
        "--rm",
        "worker",
        "sh",
        "-c",
        "echo one-off $ROLE; exit 5",
    ]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("one-off"));
    let out = p.run(&[
        "run",
        "--rm",
        "-e",
        "ROLE=admin",
        "worker",
        "sh",
        "-c",
        "echo role=$ROLE",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("role=admin"),
        "{}",
        text(&out)
    );
    let leftovers = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=com.docker.compose.project={}", p.name),
        "--filter",
        "label=com.docker.compose.oneoff=True",
    ]);
    assert!(leftovers.is_empty(), "--rm removed the one-off containers");
}

#[test]
fn port_images_top_and_ls_report_the_stack() {
    let p = TestProject::new(STACK);
    p.ok(&["up", "-d"]);
    let port = String::from_utf8(p.run(&["port", "web", "8080"]).stdout).unwrap();
    assert!(port.starts_with("127.0.0.1:"), "{port}");
    let host_port: u16 = port.trim().rsplit(':').next().unwrap().parse().unwrap();
    assert!(host_port > 0);
    let images = p.ok(&["images"]);
    assert!(
        images.contains("orchestrator-test-box") && images.contains("IMAGE ID"),
        "{images}"
    );
    let top = p.ok(&["top", "worker"]);
    assert!(top.contains("sleep 3600"), "{top}");
    let ls = String::from_utf8(p.run(&["ls"]).stdout).unwrap();
    let line = ls
        .lines()
        .find(|l| l.starts_with(&p.name))
        .expect("our project is listed");
    assert!(line.contains("running(2)"), "{line}");
}

#[test]
fn build_streams_the_context_without_what_dockerignore_excludes() {
    let p = TestProject::new(
        "services:\n  app:\n    build: .\n    command: [\"sleep\", \"3600\"]\n    stop_grace_period: 1s\n",
    );
    p.write("Dockerfile", "FROM $BOX\nCOPY . /ctx\n");
    p.write(".dockerignore", "target\n*.log\n!keep.log\n");
    p.write("src/main.rs", "fn main() {}");
    p.write("target/debug/big-artifact", "x");
    p.write("noise.log", "x");
    p.write("keep.log", "x");
    let out = p.ok(&["build"]);
    assert!(
        out.contains(&format!("Image {}-app  Built", p.name)),
        "{out}"
    );
    p.ok(&["up", "-d", "--no-build"]);
    let listing = p.sh("app", "cd /ctx && find . -type f | sort");
    assert!(
        listing.contains("./src/main.rs") && listing.contains("./keep.log"),
        "{listing}"
    );
    assert!(
        !listing.contains("target") && !listing.contains("noise.log"),
        "{listing}"
    );
}

/// Runs an attached `up` and returns it, with its PID for signals, once `service` runs.
fn attached_up(p: &TestProject, service: &str) -> (std::process::Child, nix::unistd::Pid) {
    let child = Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .current_dir(p.path())
        .args(["-p", &p.name, "--progress", "plain", "up"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    p.eventually("the stack runs", Duration::from_secs(30), || {
        p.container_id(service, 1)
            .is_some_and(|_| p.inspect(service, 1, "{{.State.Status}}") == "running")
    });
    std::thread::sleep(Duration::from_millis(500));
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    (child, pid)
}

#[test]
fn attached_up_stops_the_stack_on_ctrl_c() {
    let p = TestProject::new(STACK);
    let (mut child, pid) = attached_up(&p, "worker");
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "up did not stop after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    let said = text(&out);
    assert_eq!(status.code(), Some(130), "{said}");
    assert!(said.contains("Gracefully stopping"), "{said}");
    assert!(said.contains("worker ready"), "the logs were shown: {said}");
    assert_eq!(p.inspect("worker", 1, "{{.State.Status}}"), "exited");
    assert_eq!(p.inspect("web", 1, "{{.State.Status}}"), "exited");
    let _ = BOX;
}

#[test]
fn a_second_ctrl_c_kills_instead_of_waiting() {
    // `sleep` as PID 1 ignores SIGTERM, so a graceful stop would wait the whole grace period.
    let p = TestProject::new(
        "services:\n  slow:\n    image: $BOX\n    command: [\"sleep\", \"3600\"]\n    stop_grace_period: 60s\n",
    );
    let (mut child, pid) = attached_up(&p, "slow");
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the second Ctrl-C did not kill"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let said = text(&child.wait_with_output().unwrap());
    assert!(said.contains("Killing"), "{said}");
    assert_eq!(
        p.inspect("slow", 1, "{{.State.ExitCode}}"),
        "137",
        "killed, not stopped"
    );
}
