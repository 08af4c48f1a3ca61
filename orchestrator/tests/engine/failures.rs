//! Bad cases: each ends in a clear message and exit code 1, never a panic, and leaves what was
//! running alone.

use std::net::TcpListener;

use crate::helpers::{text, TestProject};

#[test]
fn an_engine_that_is_not_running_is_named() {
    let p = TestProject::new("services:\n  a:\n    image: $BOX\n");
    let out = p.run_with(
        &["ps"],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("cannot reach the Docker Engine at unix:///nonexistent/docker.sock"),
        "{said}"
    );
    assert!(said.contains("is the daemon running?"), "{said}");
    assert!(!said.contains("panicked"), "{said}");
}

#[test]
fn a_port_already_in_use_is_reported() {
    let taken = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let p = TestProject::new(&format!(
        "services:\n  web:\n    image: $BOX\n    command: [\"sleep\", \"3600\"]\n    ports: [\"{port}:80\"]\n"
    ));
    let out = p.run(&["up", "-d"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("could not start {}-web-1", p.name)),
        "{said}"
    );
    assert!(
        said.contains("address already in use") || said.contains("port is already allocated"),
        "{said}"
    );
    drop(taken);
}

#[test]
fn a_failed_build_shows_its_output_and_leaves_the_other_services_untouched() {
    let p = TestProject::new(
        r#"
services:
  steady:
    image: $BOX
    command: ["sleep", "3600"]
  broken:
    build: ./broken
    command: ["sleep", "3600"]
"#,
    );
    p.write(
        "broken/Dockerfile",
        "FROM $BOX\nRUN echo building step one\n",
    );
    p.ok(&["up", "-d"]);
    let steady = p.container_id("steady", 1).unwrap();
    let broken = p.container_id("broken", 1).unwrap();

    p.write(
        "broken/Dockerfile",
        "FROM $BOX\nRUN echo about to fail && exit 7\n",
    );
    p.write(
        "compose.yaml",
        &std::fs::read_to_string(p.path().join("compose.yaml"))
            .unwrap()
            .replace(
                "sleep\", \"3600\"]\n  broken",
                "sleep\", \"3601\"]\n  broken",
            ),
    );
    let out = p.run(&["up", "-d", "--build"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("building service broken failed"), "{said}");
    assert!(
        said.contains("about to fail"),
        "the build's output is shown: {said}"
    );
    assert_eq!(
        p.container_id("steady", 1).unwrap(),
        steady,
        "steady untouched, though its config changed"
    );
    assert_eq!(p.container_id("broken", 1).unwrap(), broken);
}

#[test]
fn an_image_that_cannot_be_pulled_says_how_to_provide_it() {
    let p = TestProject::new("services:\n  db:\n    image: example.invalid/nothing-here:1\n");
    let out = p.run(&["up", "-d"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("could not pull example.invalid/nothing-here:1 for service db"),
        "{said}"
    );
    assert!(said.contains("docker load"), "{said}");
    let out = p.run(&["pull"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("could not pull example.invalid/nothing-here:1"),
        "pull says the same"
    );
}

#[test]
fn unknown_services_are_refused() {
    let p = TestProject::new("services:\n  a:\n    image: $BOX\n");
    let out = p.run(&["up", "-d", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no such service: nope"));
}
