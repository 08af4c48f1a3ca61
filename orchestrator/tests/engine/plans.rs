//! The plan on the real engine: a recreation that cannot complete leaves the old container
//! running, and `--dry-run` shows the plan and changes nothing.

use crate::helpers::{docker, text, TestProject};

const WEB: &str = r#"
services:
  web:
    image: $BOX
    command: ["httpd", "-f", "-p", "8080"]
    environment:
      GREETING: hello
    stop_grace_period: 1s
"#;

#[test]
fn a_replacement_that_cannot_be_created_leaves_the_old_container_running() {
    let p = TestProject::new(WEB);
    p.ok(&["up", "-d"]);
    let id = p.container_id("web", 1).unwrap();
    let started = p.inspect("web", 1, "{{.State.StartedAt}}");

    // A change the engine refuses at create time: the replacement cannot exist.
    p.write(
        "compose.yaml",
        &WEB.replace(
            "    stop_grace_period: 1s",
            "    stop_grace_period: 1s\n    volumes_from: [\"container:no-such-container-for-orct\"]",
        ),
    );
    let out = p.run(&["up", "-d"]);
    let said = text(&out);
    assert!(!out.status.success(), "up must fail: {said}");
    assert!(
        said.contains("service web")
            && said.contains("is still running")
            && said.contains("No such container: no-such-container-for-orct"),
        "the service and the engine's reason, once: {said}"
    );
    assert_eq!(
        said.matches("No such container").count(),
        1,
        "the cause is printed once: {said}"
    );
    assert_eq!(
        p.container_id("web", 1).unwrap(),
        id,
        "the old container stays"
    );
    assert_eq!(p.inspect("web", 1, "{{.State.Running}}"), "true");
    assert_eq!(
        p.inspect("web", 1, "{{.State.StartedAt}}"),
        started,
        "not even restarted"
    );
    assert_eq!(
        p.containers(),
        vec![format!("{}-web-1", p.name)],
        "no half-made replacement"
    );

    // Once the change can be made, the same up recreates it under its own name.
    p.write("compose.yaml", &WEB.replace("hello", "bonjour"));
    let said = p.ok(&["up", "-d"]);
    assert!(
        said.contains(&format!("Container {}-web-1  Recreated", p.name)),
        "{said}"
    );
    assert_ne!(p.container_id("web", 1).unwrap(), id);
    assert!(p
        .inspect("web", 1, "{{.Config.Env}}")
        .contains("GREETING=bonjour"));
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let p = TestProject::new(WEB);
    let out = p.ok(&["--dry-run", "up", "-d"]);
    assert!(
        out.contains(&format!("create container {}-web-1", p.name))
            && out.contains(&format!("start {}-web-1", p.name)),
        "{out}"
    );
    assert!(p.container_id("web", 1).is_none(), "nothing was created");
    let networks = docker(&[
        "network",
        "ls",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={}", p.name),
    ]);
    assert!(networks.is_empty(), "no network either: {networks}");

    p.ok(&["up", "-d"]);
    let id = p.container_id("web", 1).unwrap();
    p.write("compose.yaml", &WEB.replace("hello", "bonjour"));
    let out = p.ok(&["up", "-d", "--dry-run"]);
    assert!(
        out.contains(&format!("to replace {}-web-1", p.name)),
        "{out}"
    );
    for verb in [
        &["down"][..],
        &["stop"],
        &["restart"],
        &["kill"],
        &["rm", "-f", "-s"],
    ] {
        let mut args = vec!["--dry-run"];
        args.extend_from_slice(verb);
        let out = p.ok(&args);
        assert!(
            out.contains("dry run: nothing is changed"),
            "{verb:?}: {out}"
        );
        assert!(
            out.contains(&format!("{}-web-1", p.name)),
            "{verb:?}: {out}"
        );
    }
    assert_eq!(
        p.container_id("web", 1).unwrap(),
        id,
        "still the same container"
    );
    assert_eq!(p.inspect("web", 1, "{{.State.Running}}"), "true");
    assert!(!p
        .inspect("web", 1, "{{.Config.Env}}")
        .contains("GREETING=bonjour"));
}
