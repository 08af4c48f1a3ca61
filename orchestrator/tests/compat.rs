//! Compatibility with an existing implementation: `docker-compose` 1.29 (Debian's package)
//! prints its own normalized `config`; ours must agree with it on every fixture both accept, on
//! what a deployment depends on: services, images, build contexts, ports, volumes,
//! environment, dependencies and links. Deliberate differences are in docs/compose-compat.md.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::Command,
};

use serde_json::Value;

/// What a deployment depends on, in one comparable form.
#[derive(Debug, Default, PartialEq)]
struct Facts {
    image: Option<String>,
    context: Option<String>,
    ports: BTreeSet<String>,
    volumes: BTreeSet<String>,
    environment: BTreeMap<String, Option<String>>,
    depends_on: BTreeSet<String>,
    links: BTreeSet<String>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// docker-compose's YAML as JSON, through the PyYAML it runs on (no YAML crate in tests).
fn yaml_to_json(yaml: &[u8]) -> Value {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(yaml).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "PyYAML (python3-yaml) is installed with docker-compose"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// A mount as `SOURCE:TARGET:ro|rw` (an anonymous volume has no source).
fn volume_key(source: &str, target: &str, read_only: bool) -> String {
    format!("{source}:{target}:{}", if read_only { "ro" } else { "rw" })
}

/// A long-syntax volume entry (either tool's) as its key.
fn long_volume_key(m: &serde_json::Map<String, Value>) -> String {
    volume_key(
        m.get("source").and_then(Value::as_str).unwrap_or(""),
        m["target"].as_str().unwrap(),
        m.get("read_only") == Some(&Value::Bool(true)),
    )
}

fn port_key(ip: &str, published: &str, target: &str, protocol: &str) -> String {
    format!("{ip}:{published}:{target}/{protocol}")
}

/// docker-compose's short port form: `[IP:][PUBLISHED:]TARGET[/PROTO]`, ranges expanded.
fn their_ports(spec: &str) -> Vec<String> {
    let (rest, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let parts: Vec<&str> = rest.rsplitn(3, ':').collect();
    let target = parts[0];
    let published = parts.get(1).copied().unwrap_or("");
    let ip = parts.get(2).copied().unwrap_or("");
    let range = |r: &str| -> Vec<u32> {
        match r.split_once('-') {
            Some((a, b)) => (a.parse().unwrap()..=b.parse().unwrap()).collect(),
            None if r.is_empty() => vec![],
            None => vec![r.parse().unwrap()],
        }
    };
    let targets = range(target);
    let publisheds = range(published);
    targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = if publisheds.len() == targets.len() {
                publisheds[i].to_string()
            } else {
                published.to_owned()
            };
            port_key(ip, &p, &t.to_string(), proto)
        })
        .collect()
}

fn facts_from_compose(doc: &Value) -> BTreeMap<String, Facts> {
    let mut out = BTreeMap::new();
    for (name, s) in doc["services"].as_object().unwrap() {
        let mut f = Facts {
            image: s.get("image").and_then(text),
            context: s.get("build").map(|b| match b {
                Value::String(c) => c.clone(),
                other => other["context"].as_str().unwrap().to_owned(),
            }),
            ..Facts::default()
        };
        for p in s
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match p {
                Value::Object(m) => f.ports.insert(port_key(
                    m.get("host_ip").and_then(Value::as_str).unwrap_or(""),
                    &m.get("published").and_then(text).unwrap_or_default(),
                    &text(&m["target"]).unwrap(),
                    m.get("protocol").and_then(Value::as_str).unwrap_or("tcp"),
                )),
                other => {
                    f.ports.extend(their_ports(&text(other).unwrap()));
                    true
                }
            };
        }
        for v in s
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = match v {
                Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("tmpfs") => {
                    continue
                }
                Value::Object(m) => long_volume_key(m),
                other => {
                    let s = other.as_str().unwrap();
                    let parts: Vec<&str> = s.split(':').collect();
                    match parts.as_slice() {
                        [t] => volume_key("", t, false),
                        [src, t] => volume_key(src, t, false),
                        [src, t, mode] => volume_key(src, t, mode.split(',').any(|m| m == "ro")),
                        _ => panic!("unexpected volume {s}"),
                    }
                }
            };
            f.volumes.insert(key);
        }
        match s.get("environment") {
            Some(Value::Object(m)) => {
                f.environment = m.iter().map(|(k, v)| (k.clone(), text(v))).collect()
            }
            Some(Value::Array(items)) => {
                f.environment = items
                    .iter()
                    .map(|i| {
                        let i = i.as_str().unwrap();
                        match i.split_once('=') {
                            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                            None => (i.to_owned(), None),
                        }
                    })
                    .collect()
            }
            _ => {}
        }
        match s.get("depends_on") {
            Some(Value::Object(m)) => f.depends_on = m.keys().cloned().collect(),
            Some(Value::Array(items)) => {
                f.depends_on = items
                    .iter()
                    .map(|i| i.as_str().unwrap().to_owned())
                    .collect()
            }
            _ => {}
        }
        for l in s
            .get("links")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let l = l.as_str().unwrap();
            f.links.insert(if l.contains(':') {
                l.to_owned()
            } else {
                format!("{l}:{l}")
            });
        }
        out.insert(name.clone(), f);
    }
    out
}

fn facts_from_ours(doc: &Value) -> BTreeMap<String, Facts> {
    let mut out = BTreeMap::new();
    for (name, s) in doc["services"].as_object().unwrap() {
        let mut f = Facts {
            image: s.get("image").and_then(text),
            context: s
                .get("build")
                .map(|b| b["context"].as_str().unwrap().to_owned()),
            ..Facts::default()
        };
        for p in s
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            f.ports.insert(port_key(
                p.get("host_ip").and_then(Value::as_str).unwrap_or(""),
                p.get("published").and_then(Value::as_str).unwrap_or(""),
                &p["target"].to_string(),
                p["protocol"].as_str().unwrap(),
            ));
        }
        for v in s
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if v["type"] == "tmpfs" {
                continue;
            }
            f.volumes.insert(long_volume_key(v.as_object().unwrap()));
        }
        if let Some(Value::Object(m)) = s.get("environment") {
            f.environment = m.iter().map(|(k, v)| (k.clone(), text(v))).collect();
        }
        if let Some(Value::Object(m)) = s.get("depends_on") {
            f.depends_on = m.keys().cloned().collect();
        }
        for l in s
            .get("links")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            f.links.insert(l.as_str().unwrap().to_owned());
        }
        out.insert(name.clone(), f);
    }
    out
}

#[test]
fn our_config_agrees_with_docker_compose_1_29_wherever_both_accept_the_file() {
    let which = Command::new("docker-compose").arg("version").output();
    let version = which
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .expect("docker-compose 1.29 must be installed (apt-get install docker-compose; scripts/test does it)");
    assert!(
        version.contains("1.29"),
        "expected docker-compose 1.29, found {version}"
    );

    // docker-compose 1.29 prints every service whatever the profiles, so enable them all.
    let env: &[(&str, &str)] = &[
        ("BOTH", "from-shell"),
        ("SECRET_KEY", "from-shell"),
        ("HOME", "/home/tester"),
        ("COMPOSE_PROFILES", "dev,bench,debug"),
    ];
    // (fixture, files): every valid fixture, files named for both tools alike.
    let cases: &[(&str, &[&str])] = &[
        ("v1-article", &["build.yml"]),
        ("v2-legacy", &["docker-compose.yml"]),
        ("v3-stack", &["docker-compose.yml"]),
        ("wordpress", &["docker-compose.yml"]),
        ("monitoring", &["compose.yml"]),
        ("merge-override", &["compose.yaml", "compose.override.yaml"]),
        ("interpolation", &["compose.yaml"]),
        ("anchors", &["compose.yaml"]),
        ("profiles", &["compose.yaml"]),
        ("spec-full", &["compose.yaml"]),
    ];
    let mut compared = Vec::new();
    let mut refused = Vec::new();
    for (case, files) in cases {
        let dir = fixtures().join(case);
        let mut args: Vec<&str> = vec!["-p", case];
        for f in *files {
            args.extend(["-f", f]);
        }
        let theirs = Command::new("docker-compose")
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .args(&args)
            .arg("config")
            .output()
            .unwrap();
        if !theirs.status.success() {
            refused.push(format!(
                "{case}: {}",
                String::from_utf8_lossy(&theirs.stderr).trim()
            ));
            continue;
        }
        let ours = Command::new(env!("CARGO_BIN_EXE_orchestrator"))
            .current_dir(&dir)
            .env_clear()
            .envs(env.iter().copied())
            .args(&args)
            .args(["config", "--format", "json"])
            .output()
            .unwrap();
        assert!(
            ours.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let theirs = facts_from_compose(&yaml_to_json(&theirs.stdout));
        let ours = facts_from_ours(&serde_json::from_slice(&ours.stdout).unwrap());
        assert_eq!(
            theirs.keys().collect::<Vec<_>>(),
            ours.keys().collect::<Vec<_>>(),
            "{case}: services"
        );
        for (name, their) in &theirs {
            assert_eq!(
                their, &ours[name],
                "{case}: service {name} (left: docker-compose, right: ours)"
            );
        }
        compared.push(*case);
    }
    eprintln!("compared: {compared:?}\nrefused by docker-compose 1.29: {refused:#?}");
    assert!(
        compared.len() >= 7,
        "too few fixtures compared: {compared:?}; refused: {refused:#?}"
    );
}
