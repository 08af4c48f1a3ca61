//! Convergence: what `up` creates, keeps, recreates and removes, and in what order.

use std::time::Duration;

use crate::helpers::{docker, text, TestProject};

const TWO_SERVICES: &str = r#"
services:
  web:
    image: $BOX
    command: ["httpd", "-f", "-p", "8080"]
    environment:
      GREETING: hello
    depends_on: [db]
  db:
    image: $BOX
    command: ["sleep", "3600"]
    stop_grace_period: 1s
"#;

#[test]
fn a_second_up_with_nothing_changed_changes_nothing() {
    let p = TestProject::new(TWO_SERVICES);
    let first = p.ok(&["up", "-d"]);
    assert!(
        first.contains(&format!("Container {}-db-1  Started", p.name)),
        "{first}"
    );
    let ids = (
        p.container_id("web", 1).unwrap(),
        p.container_id("db", 1).unwrap(),
    );
    let started = p.inspect("web", 1, "{{.State.StartedAt}}");

    let second = p.ok(&["up", "-d"]);
    assert!(
        second.contains(&format!("Container {}-web-1  Running", p.name)),
        "{second}"
    );
    assert!(
        !second.contains("Created") && !second.contains("Started") && !second.contains("Recreated"),
        "{second}"
    );
    assert_eq!(
        (
            p.container_id("web", 1).unwrap(),
            p.container_id("db", 1).unwrap()
        ),
        ids
    );
    assert_eq!(
        p.inspect("web", 1, "{{.State.StartedAt}}"),
        started,
        "not even restarted"
    );
}

#[test]
fn only_the_changed_service_is_recreated() {
    let p = TestProject::new(TWO_SERVICES);
    p.ok(&["up", "-d"]);
    let db = p.container_id("db", 1).unwrap();
    let web = p.container_id("web", 1).unwrap();
    p.write(
        "compose.yaml",
        &TWO_SERVICES.replace("GREETING: hello", "GREETING: bonjour"),
    );
    let out = p.ok(&["up", "-d"]);
    assert!(
        out.contains(&format!("Container {}-web-1  Recreated", p.name)),
        "{out}"
    );
    assert!(
        out.contains(&format!("Container {}-db-1  Running", p.name)),
        "{out}"
    );
    assert_eq!(p.container_id("db", 1).unwrap(), db, "db untouched");
    assert_ne!(p.container_id("web", 1).unwrap(), web, "web recreated");
    assert!(p
        .inspect("web", 1, "{{.Config.Env}}")
        .contains("GREETING=bonjour"));
}

#[test]
fn force_recreate_and_no_recreate_do_what_they_say() {
    let p = TestProject::new(TWO_SERVICES);
    p.ok(&["up", "-d"]);
    let db = p.container_id("db", 1).unwrap();
    p.ok(&["up", "-d", "--force-recreate", "db"]);
    let db2 = p.container_id("db", 1).unwrap();
    assert_ne!(db2, db);
    p.write("compose.yaml", &TWO_SERVICES.replace("3600", "3601"));
    let out = p.ok(&["up", "-d", "--no-recreate"]);
    assert_eq!(p.container_id("db", 1).unwrap(), db2, "{out}");
}

#[test]
fn containers_networks_and_volumes_carry_composes_labels_and_names() {
    let p = TestProject::new(
        r#"
services:
  app:
    image: $BOX
    command: ["sleep", "3600"]
    volumes: ["data:/data"]
    depends_on:
      cache: {condition: service_started}
  cache:
    image: $BOX
    command: ["sleep", "3600"]
volumes:
  data:
"#,
    );
    p.ok(&["up", "-d"]);
    let labels = p.inspect("app", 1, "{{json .Config.Labels}}");
    let labels: serde_json::Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels["com.docker.compose.project"], p.name.as_str());
    assert_eq!(labels["com.docker.compose.service"], "app");
    assert_eq!(labels["com.docker.compose.container-number"], "1");
    assert_eq!(labels["com.docker.compose.oneoff"], "False");
    assert_eq!(
        labels["com.docker.compose.config-hash"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert_eq!(
        labels["com.docker.compose.project.working_dir"],
        p.path().display().to_string().as_str()
    );
    assert!(labels["com.docker.compose.project.config_files"]
        .as_str()
        .unwrap()
        .ends_with("compose.yaml"));
    assert_eq!(
        labels["com.docker.compose.depends_on"],
        "cache:service_started:false"
    );
    assert!(labels["com.docker.compose.version"]
        .as_str()
        .unwrap()
        .starts_with("orchestrator-"));
    let net = docker(&[
        "network",
        "inspect",
        "-f",
        "{{json .Labels}}",
        &format!("{}_default", p.name),
    ]);
    assert!(
        net.contains(&format!("\"com.docker.compose.project\":\"{}\"", p.name)),
        "{net}"
    );
    assert!(
        net.contains("\"com.docker.compose.network\":\"default\""),
        "{net}"
    );
    let vol = docker(&[
        "volume",
        "inspect",
        "-f",
        "{{json .Labels}}",
        &format!("{}_data", p.name),
    ]);
    assert!(
        vol.contains("\"com.docker.compose.volume\":\"data\""),
        "{vol}"
    );
}

#[test]
fn services_reach_each_other_by_name_and_by_link_alias_in_a_v1_file() {
    let p = TestProject::new("");
    // The article's format: no `services:`, links with aliases.
    p.write(
        "build.yml",
        r#"
python:
  image: $BOX
  command: ["sleep", "3600"]
  links:
    - postgres:database
postgres:
  image: $BOX
  command: ["sleep", "3600"]
"#,
    );
    std::fs::remove_file(p.path().join("compose.yaml")).unwrap();
    let out = p.ok(&["up", "-d"]);
    assert!(
        out.find("postgres-1  Started").unwrap() < out.find("python-1  Started").unwrap(),
        "links order the start: {out}"
    );
    for name in ["postgres", "database"] {
        let ping = p.sh(
            "python",
            &format!("ping -c 1 -W 2 {name} >/dev/null && echo reachable"),
        );
        assert_eq!(ping, "reachable", "{name}");
    }
}

#[test]
fn scaling_up_and_down_adds_and_removes_numbered_containers() {
    let p = TestProject::new(TWO_SERVICES);
    p.ok(&["up", "-d", "--scale", "web=3"]);
    assert_eq!(
        p.containers(),
        [
            format!("{}-db-1", p.name),
            format!("{}-web-1", p.name),
            format!("{}-web-2", p.name),
            format!("{}-web-3", p.name)
        ]
    );
    let web1 = p.container_id("web", 1).unwrap();
    let out = p.ok(&["up", "-d", "--scale", "web=1"]);
    assert!(out.contains(&format!("{}-web-3  Removed", p.name)), "{out}");
    assert_eq!(p.containers().len(), 2);
    assert_eq!(
        p.container_id("web", 1).unwrap(),
        web1,
        "the first replica stays"
    );
}

#[test]
fn orphans_are_reported_and_removed_on_request() {
    let p = TestProject::new(TWO_SERVICES);
    p.ok(&["up", "-d"]);
    p.write(
        "compose.yaml",
        "services:\n  db:\n    image: $BOX\n    command: [\"sleep\", \"3600\"]\n    stop_grace_period: 1s\n",
    );
    let out = p.ok(&["up", "-d"]);
    assert!(
        out.contains("orphan containers") && out.contains(&format!("{}-web-1", p.name)),
        "{out}"
    );
    assert!(p.container_id("web", 1).is_some());
    p.ok(&["up", "-d", "--remove-orphans"]);
    assert!(p.container_id("web", 1).is_none());
}

#[test]
fn healthy_and_completed_conditions_are_waited_for() {
    let p = TestProject::new(
        r#"
services:
  migrate:
    image: $BOX
    command: ["sh", "-c", "sleep 1; echo migrated > /shared/done"]
    volumes: ["shared:/shared"]
  db:
    image: $BOX
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 500ms
      retries: 20
  app:
    image: $BOX
    command: ["sh", "-c", "cat /shared/done; sleep 3600"]
    volumes: ["shared:/shared"]
    depends_on:
      migrate: {condition: service_completed_successfully}
      db: {condition: service_healthy}
volumes:
  shared:
"#,
    );
    let out = p.ok(&["up", "-d"]);
    assert!(out.contains("Waiting for db (healthy)"), "{out}");
    assert_eq!(
        p.inspect("db", 1, "{{.State.Health.Status}}"),
        "healthy",
        "app started after db was healthy"
    );
    assert_eq!(p.inspect("migrate", 1, "{{.State.ExitCode}}"), "0");
    p.eventually(
        "app read what migrate wrote",
        Duration::from_secs(10),
        || docker(&["logs", &format!("{}-app-1", p.name)]).contains("migrated"),
    );
}

#[test]
fn wait_returns_once_services_are_healthy() {
    let p = TestProject::new(
        r#"
services:
  db:
    image: $BOX
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 500ms
"#,
    );
    let out = p.ok(&["up", "-d", "--wait"]);
    assert!(out.contains("Service db  Healthy"), "{out}");
    assert_eq!(p.inspect("db", 1, "{{.State.Health.Status}}"), "healthy");
}

#[test]
fn a_failing_dependency_is_named_with_its_last_health_check_output() {
    let p = TestProject::new(
        r#"
services:
  db:
    image: $BOX
    command: ["sleep", "3600"]
    healthcheck:
      test: ["CMD-SHELL", "echo database not ready; exit 1"]
      interval: 300ms
      retries: 2
  app:
    image: $BOX
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy}
"#,
    );
    let out = p.run(&["up", "-d"]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("service db did not become healthy"), "{text}");
    assert!(
        text.contains("last health check: exit 1: database not ready"),
        "{text}"
    );
    assert!(p.container_id("app", 1).is_none(), "app was not started");

    // A dependency that never gets there within the timeout.
    p.write(
        "compose.yaml",
        &std::fs::read_to_string(p.path().join("compose.yaml"))
            .unwrap()
            .replace("retries: 2", "retries: 1000"),
    );
    let out = p.run(&["up", "-d", "--force-recreate", "--wait-timeout", "2"]);
    let text = crate::helpers::text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("did not become healthy within 2s"), "{text}");
}

#[test]
fn a_crash_looping_dependency_is_named_with_its_exit_code_and_last_log_lines() {
    let p = TestProject::new(
        r#"
services:
  db:
    image: $BOX
    command: ["sh", "-c", "echo 'config error: BOARD_MODE must be one of a, b'; exit 4"]
    restart: always
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
  app:
    image: $BOX
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy}
"#,
    );
    let out = p.run(&["up", "-d", "--wait-timeout", "60"]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("service db did not become healthy")
            && text.contains("crash-looping: it exited with code 4"),
        "{text}"
    );
    assert!(
        text.contains("| config error: BOARD_MODE must be one of a, b"),
        "the container's own words: {text}"
    );
    assert!(!text.contains("no health check has run yet"), "{text}");
    assert!(p.container_id("app", 1).is_none(), "app was not started");
}

#[test]
fn a_dependency_that_exits_non_zero_stops_the_dependents() {
    let p = TestProject::new(
        r#"
services:
  migrate:
    image: $BOX
    command: ["sh", "-c", "exit 3"]
  app:
    image: $BOX
    command: ["sleep", "3600"]
    depends_on:
      migrate: {condition: service_completed_successfully}
"#,
    );
    let out = p.run(&["up", "-d"]);
    let text = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("service migrate did not complete successfully")
            && text.contains("exited with code 3"),
        "{text}"
    );
    assert!(p.container_id("app", 1).is_none());
}
