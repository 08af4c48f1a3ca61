//! The article's "my database data are lost": named and anonymous volumes survive every
//! command except an explicit, confirmed `down -v` / `rm -v`.

use crate::helpers::{text, TestProject};

/// A service with a named volume, an anonymous one, and an image `VOLUME` no mount covers.
const STATEFUL: &str = r#"
services:
  db:
    build: ./db
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    volumes:
      - data:/named
      - /anonymous
volumes:
  data:
"#;

fn stateful_project() -> TestProject {
    let p = TestProject::new(STATEFUL);
    p.write("db/Dockerfile", "FROM $BOX\nVOLUME /declared\n");
    p
}

fn write_data(p: &TestProject) {
    p.sh(
        "db",
        "echo named > /named/f; echo anonymous > /anonymous/f; echo declared > /declared/f",
    );
}

fn read_data(p: &TestProject) -> String {
    p.sh("db", "cat /named/f /anonymous/f /declared/f")
}

#[test]
fn data_survives_down_rm_force_recreate_and_rebuild() {
    let p = stateful_project();
    let out = p.ok(&["up", "-d"]);
    assert!(
        out.contains("declares VOLUME /declared, which no named volume covers"),
        "{out}"
    );
    write_data(&p);
    let expected = "named\nanonymous\ndeclared";

    p.ok(&["down"]);
    assert!(p.containers().is_empty());
    p.ok(&["up", "-d"]);
    assert_eq!(read_data(&p), expected, "after down then up");

    p.ok(&["rm", "-f", "-s"]);
    assert!(p.containers().is_empty());
    p.ok(&["up", "-d"]);
    assert_eq!(read_data(&p), expected, "after rm -f -s then up");

    let before = p.container_id("db", 1).unwrap();
    p.ok(&["up", "-d", "--force-recreate"]);
    assert_ne!(p.container_id("db", 1).unwrap(), before);
    assert_eq!(read_data(&p), expected, "after up --force-recreate");

    p.write(
        "db/Dockerfile",
        "FROM $BOX\nVOLUME /declared\nLABEL rebuilt=yes\n",
    );
    let out = p.ok(&["up", "-d", "--build"]);
    assert!(out.contains("Recreated"), "a new image recreates: {out}");
    assert_eq!(
        p.inspect("db", 1, "{{index .Config.Labels \"rebuilt\"}}"),
        "yes"
    );
    assert_eq!(read_data(&p), expected, "after up --build");
}

#[test]
fn down_v_lists_the_volumes_and_refuses_without_a_terminal_unless_yes() {
    let p = stateful_project();
    p.ok(&["up", "-d"]);
    write_data(&p);
    let volumes = p.volumes();
    assert_eq!(volumes.len(), 3, "named, anonymous, declared: {volumes:?}");

    let out = p.run(&["down", "-v"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("{}_data  (named volume data, 6 B)", p.name)),
        "{said}"
    );
    assert!(
        said.contains("anonymous volume of db-1 at /anonymous"),
        "{said}"
    );
    assert!(
        said.contains("pass --yes") && said.contains("nothing was removed"),
        "{said}"
    );
    assert_eq!(
        read_data(&p),
        "named\nanonymous\ndeclared",
        "the stack is as it was"
    );

    p.ok(&["down", "-v", "--yes"]);
    assert!(p.volumes().is_empty());
    assert!(p.containers().is_empty());
}

#[test]
fn rm_v_removes_only_the_containers_anonymous_volumes() {
    let p = stateful_project();
    p.ok(&["up", "-d"]);
    p.ok(&["stop"]);
    p.ok(&["rm", "-f", "-v"]);
    assert_eq!(
        p.volumes(),
        [format!("{}_data", p.name)],
        "the named volume stays"
    );
}
