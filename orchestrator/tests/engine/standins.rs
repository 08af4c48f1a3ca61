//! Stand-ins: a program inside the project directory, run without a shell after its exact
//! command is printed; one outside is refused when the file is loaded; `--no-stand-ins` turns
//! them off.

use std::os::unix::fs::PermissionsExt;

use crate::helpers::{text, TestProject, BOX};

#[test]
fn a_stand_in_runs_without_a_shell_and_only_from_inside_the_project() {
    let image = format!("example.invalid/standin-{}:1", std::process::id());
    let compose = format!(
        "x-stand-ins:\n  {image}: [./make-standin, \"two words; echo INJECTED\", \"$$HOME\"]\nservices:\n  db:\n    image: {image}\n    command: [sleep, \"3600\"]\n    stop_grace_period: 1s\n"
    );
    let p = TestProject::new(&compose);
    // The program records its arguments one per line and makes the image by tagging ours.
    p.write(
        "make-standin",
        &format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > args.txt\ndocker tag {BOX} {image}\n"),
    );
    let script = p.path().join("make-standin");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    let refused = p.run(&["--no-stand-ins", "up", "-d"]);
    let said = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{said}");
    assert!(said.contains(&format!("could not pull {image}")), "{said}");
    assert!(
        !p.path().join("args.txt").exists(),
        "--no-stand-ins ran nothing"
    );

    let said = p.ok(&["up", "-d"]);
    let _untag = Untag(image.clone());
    assert!(
        said.contains(&format!(
            "running: {} two words; echo INJECTED $HOME",
            script.display()
        )),
        "the exact command is printed first: {said}"
    );
    let args = std::fs::read_to_string(p.path().join("args.txt")).unwrap();
    assert_eq!(
        args, "two words; echo INJECTED\n$HOME\n",
        "each argument as written, no shell read it"
    );
    assert!(!said.contains("\nINJECTED"), "{said}");
    assert_eq!(p.inspect("db", 1, "{{.State.Running}}"), "true");

    // A program outside the project directory is refused at load, with file:line:column.
    p.write(
        "compose.yaml",
        &compose.replace("./make-standin", "../elsewhere/make-standin"),
    );
    let out = p.run(&["config"]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("compose.yaml:2:") && said.contains("outside the project directory"),
        "{said}"
    );
    p.write("compose.yaml", &compose.replace("./make-standin", "sh"));
    let said = text(&p.run(&["config"]));
    assert!(
        said.contains("programs are not looked up on PATH"),
        "{said}"
    );
}

/// Removes the stand-in's tag when the test ends, pass or fail.
struct Untag(String);

impl Drop for Untag {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["rmi", &self.0])
            .output();
    }
}
