//! `orchestrator config` on the fixtures in `tests/fixtures`: the real binary on real files.
//!
//! Valid projects are compared with their `expected.yaml` (run with `UPDATE_GOLDEN=1` to
//! rewrite them, then review the diff); broken ones must report every problem, placed.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs the orchestrator in `dir` with only the given environment.
fn orchestrator(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .current_dir(dir)
        .env_clear()
        .env("HOME", "/home/tester")
        .envs(env.iter().copied())
        .args(args)
        .output()
        .expect("the orchestrator runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The environment the golden files were made with.
const GOLDEN_ENV: &[(&str, &str)] = &[("BOTH", "from-shell"), ("SECRET_KEY", "from-shell")];

#[test]
fn valid_projects_normalize_to_their_expected_form() {
    let cases = [
        "v1-article",
        "v2-legacy",
        "v3-stack",
        "spec-full",
        "merge-override",
        "interpolation",
        "anchors",
        "profiles",
        "wordpress",
        "monitoring",
        "extends-include",
    ];
    let mut failures = Vec::new();
    for case in cases {
        let dir = fixtures().join(case);
        let out = orchestrator(&dir, &["-p", case, "config"], GOLDEN_ENV);
        assert!(out.status.success(), "{case}: {}", stderr(&out));
        let actual = stdout(&out).replace(&dir.display().to_string(), "$FIXTURE");
        let golden = dir.join("expected.yaml");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden)
            .unwrap_or_else(|_| panic!("{case}: no expected.yaml (run with UPDATE_GOLDEN=1)"));
        if actual != expected {
            failures.push(format!(
                "{case}:\n--- expected\n{expected}\n--- actual\n{actual}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn broken_projects_report_every_problem_with_file_line_column_and_path() {
    // (fixture, what stderr must hold, line by line)
    let cases: &[(&str, &[&str])] = &[
        ("yaml-syntax.yml", &["yaml-syntax.yml:5:1: YAML syntax: did not find expected ',' or ']'"]),
        (
            "wrong-types.yml",
            &[
                "wrong-types.yml:3:12: services.web.image: expected a string, got a list",
                "wrong-types.yml:4:12: services.web.ports: expected a list of ports, got a string",
                "wrong-types.yml:5:18: services.web.environment: expected a mapping or a list of NAME=value, got a number",
                "wrong-types.yml:6:10: services.web.tty: expected true or false, got a string",
                "wrong-types.yml:8:13: services.web.healthcheck.test: a test list starts with CMD, CMD-SHELL or NONE",
                "wrong-types.yml:9:17: services.web.healthcheck.interval: \"10\" is not a duration",
                "wrong-types.yml:10:16: services.web.healthcheck.retries: expected a whole number, got a string",
                "(7 errors)",
            ],
        ),
        (
            "bad-ports.yml",
            &[
                "bad-ports.yml:6:9: services.web.ports[1]: bad port spec \"99999:80\": port 99999 is out of range (1-65535)",
                "bad-ports.yml:7:9: services.web.ports[2]: bad port spec \"8080-8082:80-81\": the host and container ranges differ in length",
                "bad-ports.yml:8:9: services.web.ports[3]: bad port spec \"80/icmp\": unknown protocol \"icmp\"",
                "bad-ports.yml:9:9: services.web.ports[4]: a long-syntax port needs a target",
                "(4 errors)",
            ],
        ),
        (
            "unknown-refs.yml",
            &[
                "unknown-refs.yml:4:18: services.web.depends_on.api: depends on undefined service \"api\"",
                "unknown-refs.yml:5:13: services.web.links[0]: links to undefined service \"cache\"",
                "unknown-refs.yml:6:20: services.web.volumes_from[0]: takes volumes from undefined service \"storage\"",
                "unknown-refs.yml:7:16: services.web.networks.frontend: network \"frontend\" is not declared",
                "unknown-refs.yml:9:9: services.web.volumes[0]: named volume \"uploads\" is not declared",
                "(5 errors)",
            ],
        ),
        ("cycle.yml", &["cycle.yml:3:5: services.a: dependency cycle: a -> b -> c -> a", "(1 error)"]),
        (
            "required-var.yml",
            &[
                "required-var.yml:5:26: services.db.environment.POSTGRES_PASSWORD: required variable DB_PASSWORD is missing a value: set DB_PASSWORD in .env",
                "required-var.yml:6:14: services.db.environment.OTHER: invalid interpolation format in \"${BROKEN\"",
                "(2 errors)",
            ],
        ),
        (
            "no-image.yml",
            &[
                "no-image.yml:4:9: services.empty: the service has neither an image nor a build",
                "no-image.yml:3:5: services.web: the service has neither an image nor a build",
                "(2 errors)",
            ],
        ),
        (
            "bad-values.yml",
            &[
                "bad-values.yml:4:14: services.web.restart: \"sometimes\" is not a restart policy",
                "bad-values.yml:5:18: services.web.pull_policy: \"whenever\" is not a pull policy",
                "bad-values.yml:6:24: services.web.stop_grace_period: \"soon\" is not a duration",
                "bad-values.yml:8:9: services.web.volumes[0]: the container path \"data\" must be absolute",
                "bad-values.yml:9:9: services.web.volumes[1]: the container path \"relative/path\" must be absolute",
                "bad-values.yml:10:9: services.web.volumes[2]: bad volume spec \"a:/b:rx\": unknown mode \"rx\"",
                "bad-values.yml:13:20: services.web.depends_on.db.condition: condition must be",
                "bad-values.yml:16:26: services.web.deploy.resources.limits.memory: \"lots\" is not a size",
                "(8 errors)",
            ],
        ),
        ("not-a-mapping.yml", &["not-a-mapping.yml: the top level of a compose file must be a mapping"]),
        (
            "extends-cycle.yml",
            &[
                "extends-cycle.yml:3:14: services.a.extends: extends makes a cycle: a (extends-cycle.yml) -> b (extends-cycle.yml) -> a (extends-cycle.yml)",
                "extends-cycle.yml:9:14: services.c.extends: extends an unknown service \"nowhere\"",
            ],
        ),
        (
            "include-conflict.yml",
            &["include-conflict.yml:2:5: include[0]: services.db is defined here and in the included project"],
        ),
    ];
    let dir = fixtures().join("errors");
    for (file, expected) in cases {
        let out = orchestrator(&dir, &["-p", "errors", "-f", file, "config"], &[]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(stdout(&out).is_empty(), "{file}: nothing printed on stdout");
        let err = stderr(&out);
        for line in *expected {
            assert!(err.contains(line), "{file}: missing {line:?} in\n{err}");
        }
        assert!(!err.contains("panicked"), "{file}: {err}");
    }
}

#[test]
fn unknown_keys_warn_and_strict_makes_them_errors() {
    let dir = fixtures().join("errors");
    let args = ["-p", "x", "-f", "unknown-keys.yml", "config", "-q"];
    let out = orchestrator(&dir, &args, &[]);
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("warning: ")
            && err.contains(
                "unknown-keys.yml:4:13: services.web.imagee: unknown key \"imagee\"; ignored"
            ),
        "{err}"
    );
    assert!(
        err.contains("services.web.post_start: post_start is not applied (lifecycle hooks"),
        "{err}"
    );
    assert!(
        err.contains("unknown-keys.yml:6:8: magic: unknown top-level key"),
        "{err}"
    );
    assert!(stdout(&out).is_empty(), "-q prints nothing");

    let out = orchestrator(
        &dir,
        &[
            "--strict",
            "-p",
            "x",
            "-f",
            "unknown-keys.yml",
            "config",
            "-q",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error: ") && stderr(&out).contains("(3 errors)"));
    assert!(
        stderr(&out).contains("error: ")
            && stderr(&out).contains("services.web.post_start: post_start is not applied"),
        "--strict fails on a key that is read but not applied: {}",
        stderr(&out)
    );
}

#[test]
fn the_articles_build_yml_loads_unmodified_as_links_on_a_default_network() {
    let dir = fixtures().join("v1-article");
    let out = orchestrator(&dir, &["config", "--format", "json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["name"], "v1-article", "named after its directory");
    assert_eq!(p["services"]["nginx"]["links"][0], "python:python");
    assert_eq!(p["services"]["python"]["links"][0], "postgres:postgres");
    assert_eq!(p["services"]["python"]["command"][1], "-w");
    assert_eq!(
        p["services"]["nginx"]["volumes"][0]["target"],
        "/www/static"
    );
    assert_eq!(p["networks"]["default"]["name"], "v1-article_default");
    let order = orchestrator(&dir, &["config", "--services"], &[]);
    assert_eq!(
        stdout(&order),
        "postgres\npython\nnginx\n",
        "links order the start"
    );
    let images = orchestrator(&dir, &["config", "--images"], &[]);
    assert_eq!(
        stdout(&images),
        "postgres\nv1-article-python\nv1-article-nginx\n"
    );
}

#[test]
fn interpolation_reads_the_shell_then_the_dotenv_file() {
    let dir = fixtures().join("interpolation");
    let out = orchestrator(
        &dir,
        &["config", "--format", "json"],
        &[("BOTH", "from-shell"), ("HTTP_PORT", "9999")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let web = &p["services"]["web"];
    assert_eq!(web["image"], "docker.io/library/nginx:1.25");
    let env = &web["environment"];
    // A `$$` of the file is a literal `$`, printed as `$$` so the output loads back the same.
    assert_eq!(env["GREETING"], "hello $$USER");
    assert_eq!(env["FROM_DOTENV"], "from-dotenv");
    assert_eq!(env["SHELL_WINS"], "from-shell");
    assert_eq!(env["EMPTY_DEFAULT"], "fallback");
    assert_eq!(env["EMPTY_DASH"], "xx");
    assert_eq!(env["ALT"], "set");
    assert_eq!(env["NESTED"], "deep");
    assert_eq!(env["LITERAL"], "$$HOME");

    // --no-interpolate prints the file as written.
    let raw = orchestrator(
        &dir,
        &["config", "--format", "json", "--no-interpolate"],
        &[("BOTH", "from-shell")],
    );
    assert!(raw.status.success(), "{}", stderr(&raw));
    let raw: serde_json::Value = serde_json::from_slice(&raw.stdout).unwrap();
    let raw_env = &raw["services"]["web"]["environment"];
    assert_eq!(raw_env["SHELL_WINS"], "${BOTH}");
    assert_eq!(raw_env["LITERAL"], "$$HOME");
    assert_eq!(web["ports"][0]["published"], "9999");

    // --env-file replaces .env
    let tmp = tempfile::tempdir().unwrap();
    let other = tmp.path().join("other.env");
    std::fs::write(&other, "DOTENV_ONLY=from-other\nNGINX_TAG=1.27\n").unwrap();
    let out = orchestrator(
        &dir,
        &[
            "--env-file",
            other.to_str().unwrap(),
            "config",
            "--format",
            "json",
        ],
        &[],
    );
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        p["services"]["web"]["environment"]["FROM_DOTENV"],
        "from-other"
    );
    assert_eq!(
        p["services"]["web"]["image"],
        "docker.io/library/nginx:1.27"
    );
    let missing = orchestrator(&dir, &["--env-file", "nope.env", "config"], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("nope.env"));
}

#[test]
fn several_files_merge_in_order_and_the_override_file_is_read_automatically() {
    let dir = fixtures().join("merge-override");
    let out = orchestrator(&dir, &["config", "--format", "json"], &[]);
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let web = &p["services"]["web"];
    assert_eq!(web["image"], "example/web:dev");
    assert_eq!(web["command"], serde_json::json!(["serve", "--reload"]));
    assert_eq!(
        web["environment"],
        serde_json::json!({"KEEP": "1", "MODE": "dev"})
    );
    let published: Vec<_> = web["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["published"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        published,
        ["8080", "9000", "5678"],
        "ports combined, the repeated one once"
    );
    assert_eq!(
        web["volumes"].as_array().unwrap().len(),
        1,
        "volumes combined by target"
    );
    assert_eq!(web["volumes"][0]["type"], "bind");
    assert_eq!(
        web["labels"],
        serde_json::json!({"debug": "true", "tier": "web"})
    );
    assert!(p["services"]["adminer"].is_object());

    // With -f, the override is not read unless named.
    let only = orchestrator(
        &dir,
        &["-f", "compose.yaml", "config", "--format", "json"],
        &[],
    );
    let p: serde_json::Value = serde_json::from_slice(&only.stdout).unwrap();
    assert_eq!(p["services"]["web"]["image"], "example/web:1");
    let both = orchestrator(
        &dir,
        &[
            "-f",
            "compose.yaml",
            "-f",
            "compose.override.yaml",
            "config",
            "--services",
        ],
        &[],
    );
    assert_eq!(
        stdout(&both),
        "adminer\ndb\nweb\n".replace("adminer\ndb", "db\nadminer")
    );
}

#[test]
fn discovery_walks_up_from_a_subdirectory() {
    let dir = fixtures().join("spec-full/app");
    let out = orchestrator(&dir, &["config", "--services"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "db\nmigrate\napp\n");
    let nowhere = tempfile::tempdir().unwrap();
    let out = orchestrator(nowhere.path(), &["config"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no compose file found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_project_name_comes_from_p_then_the_environment_then_name_then_the_directory() {
    let dir = fixtures().join("spec-full");
    let name = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = args.to_vec();
        all.extend(["config", "--format", "json"]);
        let out = orchestrator(&dir, &all, env);
        assert!(out.status.success(), "{}", stderr(&out));
        let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        p["name"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        name(&["-p", "flag"], &[("COMPOSE_PROJECT_NAME", "env")]),
        "flag"
    );
    assert_eq!(name(&[], &[("COMPOSE_PROJECT_NAME", "env")]), "env");
    assert_eq!(name(&[], &[]), "fullstack");
    assert_eq!(
        name(&["-f", "../wordpress/docker-compose.yml"], &[]),
        "wordpress"
    );
    let bad = orchestrator(&dir, &["-p", "Bad Name", "config"], &[]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("\"Bad Name\" (from -p) is not a valid project name"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn profiles_enable_their_services() {
    let dir = fixtures().join("profiles");
    let services = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = args.to_vec();
        all.extend(["config", "--services"]);
        stdout(&orchestrator(&dir, &all, env))
    };
    assert_eq!(services(&[], &[]), "app\n");
    assert_eq!(services(&["--profile", "bench"], &[]), "app\nloadtest\n");
    assert_eq!(
        services(&[], &[("COMPOSE_PROFILES", "dev")]),
        "app\nloadtest\nmailcatcher\n"
    );
}

#[test]
fn anchors_and_merge_keys_expand() {
    let dir = fixtures().join("anchors");
    let out = orchestrator(&dir, &["config", "--format", "json"], &[]);
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["services"]["api"]["restart"], "always");
    assert_eq!(
        p["services"]["worker"]["environment"],
        serde_json::json!({"LANG": "C.UTF-8", "QUEUE": "jobs", "TZ": "UTC"})
    );
    assert!(
        p.get("x-base").is_some_and(|x| x.is_object()),
        "top-level extension fields are printed as written, as Compose v2 prints them"
    );
    assert!(p["services"]["api"].get("<<").is_none());
}
