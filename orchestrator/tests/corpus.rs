//! The corpus: ~120 compose files from the Compose projects' own test suites (docker/compose's
//! e2e fixtures, compose-go's loader tests), at `../shared/corpus` beside the checkout.
//!
//! `config_agrees_with_compose_v2` runs Compose v2.26 (`scripts/compose-v2` unpacks it) and our
//! `config` on every file and sorts each into: same, differs (on which paths), or rejected by
//! one side or both. Two outputs are the same when they hold the same values once values that
//! mean "nothing set" (null, false, "", {}, []) and defaults one side prints and the other
//! leaves out are removed. Every file that is not the same must be named, with its reason, in
//! docs/compose-compat.md.
//!
//! `config_output_loads_back_to_the_same_project` loads what `config` prints and checks that it
//! is the same project, for every fixture and every corpus file we accept.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is in a workspace")
        .to_path_buf()
}

/// `$CORPUS_DIR`, else the first `shared/corpus` beside the checkout or one of its parents.
fn corpus() -> PathBuf {
    if let Some(dir) = std::env::var_os("CORPUS_DIR") {
        return PathBuf::from(dir);
    }
    workspace()
        .ancestors()
        .map(|a| a.join("shared/corpus"))
        .find(|c| c.is_dir())
        .expect("the corpus is at ../shared/corpus (or set CORPUS_DIR)")
}

/// Every compose file of the corpus (the expected Kubernetes and Helm outputs are not ones).
fn corpus_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("the corpus is readable")
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                if !name.starts_with("expected-") {
                    walk(&path, out);
                }
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&corpus(), &mut out);
    out
}

/// Compose v2's binary, unpacked by `scripts/compose-v2` on first use.
fn compose_v2() -> PathBuf {
    let out = Command::new(workspace().join("scripts/compose-v2"))
        .output()
        .expect("scripts/compose-v2 runs");
    assert!(
        out.status.success(),
        "scripts/compose-v2 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Runs `program [before...] -f FILE config [after...]` in the file's folder, with only HOME
/// and PATH set.
fn run_config(program: &Path, file: &Path, before: &[&str], after: &[&str]) -> Output {
    Command::new(program)
        .current_dir(file.parent().expect("a file has a folder"))
        .env_clear()
        .env("HOME", "/home/tester")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(before)
        .arg("-f")
        .arg(file)
        .arg("config")
        .args(after)
        .output()
        .expect("config runs")
}

/// `program config --format json` on `file`.
fn config_json(program: &Path, file: &Path) -> Output {
    run_config(program, file, &[], &["--format", "json"])
}

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_orchestrator"))
}

/// Removes what means "nothing set", and the defaults that one side prints and the other
/// leaves out, so that only meaning is compared.
fn meaning(value: &mut Value, path: &str) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                meaning(v, &format!("{path}.{k}"));
            }
            map.retain(|k, v| !is_nothing(v) && !is_default(path, k, v));
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                meaning(v, path);
            }
        }
        _ => {}
    }
}

fn is_nothing(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Number(_) | Value::Bool(true) => false,
    }
}

/// Defaults printed by one side only: our `pull_policy: missing` and `build.dockerfile`.
fn is_default(path: &str, key: &str, v: &Value) -> bool {
    let service = path.starts_with(".services.") && path.matches('.').count() == 2;
    (service && key == "pull_policy" && v == "missing")
        || (path.ends_with(".build") && key == "dockerfile" && v == "Dockerfile")
}

/// The paths where two values differ, at most a few.
fn differences(a: &Value, b: &Value, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(l), Some(r)) => differences(l, r, &p, out),
                    (Some(_), None) => out.push(format!("{p} (v2 only)")),
                    (None, Some(_)) => out.push(format!("{p} (ours only)")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (l, r)) in x.iter().zip(y).enumerate() {
                differences(l, r, &format!("{path}[{i}]"), out);
            }
        }
        (l, r) if l == r => {}
        (l, r) => out.push(format!("{path}: v2 {l}, ours {r}")),
    }
}

/// How one corpus file fares.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Outcome {
    Same,
    Differs,
    RejectedByUs,
    RejectedByV2,
    RejectedByBoth,
}

fn parse(out: &Output) -> Option<Value> {
    if !out.status.success() {
        return None;
    }
    let mut v: Value = serde_json::from_slice(&out.stdout).ok()?;
    meaning(&mut v, "");
    Some(v)
}

fn first_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find(|l| !l.trim().is_empty() && !l.contains("level=warning"))
        .unwrap_or("")
        .chars()
        .take(160)
        .collect()
}

#[test]
fn config_agrees_with_compose_v2() {
    let v2 = compose_v2();
    let root = corpus();
    let docs = std::fs::read_to_string(workspace().join("docs/compose-compat.md"))
        .expect("docs/compose-compat.md is readable");
    let mut outcomes: BTreeMap<Outcome, Vec<String>> = BTreeMap::new();
    let mut report = String::new();
    let mut unexplained = Vec::new();
    for file in corpus_files() {
        let name = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let (theirs, mine) = (config_json(&v2, &file), config_json(&ours(), &file));
        let (outcome, detail) = match (parse(&theirs), parse(&mine)) {
            (Some(a), Some(b)) => {
                let mut diffs = Vec::new();
                differences(&a, &b, "", &mut diffs);
                if diffs.is_empty() {
                    (Outcome::Same, String::new())
                } else {
                    diffs.truncate(6);
                    (Outcome::Differs, diffs.join("; "))
                }
            }
            (Some(_), None) => (Outcome::RejectedByUs, first_line(&mine)),
            (None, Some(_)) => (Outcome::RejectedByV2, first_line(&theirs)),
            (None, None) => (
                Outcome::RejectedByBoth,
                format!("v2: {} | ours: {}", first_line(&theirs), first_line(&mine)),
            ),
        };
        report.push_str(&format!("{outcome:?}\t{name}\t{detail}\n"));
        if matches!(outcome, Outcome::Differs | Outcome::RejectedByUs) && !docs.contains(&name) {
            unexplained.push(format!("{name}: {outcome:?}: {detail}"));
        }
        outcomes.entry(outcome).or_default().push(name);
    }
    let count = |o: Outcome| outcomes.get(&o).map_or(0, Vec::len);
    let accepted_by_v2 =
        count(Outcome::Same) + count(Outcome::Differs) + count(Outcome::RejectedByUs);
    let summary = format!(
        "{} files: {} same, {} differ, {} rejected by us only, {} rejected by v2 only, {} rejected by both; {} of the {accepted_by_v2} that v2 accepts are the same",
        outcomes.values().map(Vec::len).sum::<usize>(),
        count(Outcome::Same),
        count(Outcome::Differs),
        count(Outcome::RejectedByUs),
        count(Outcome::RejectedByV2),
        count(Outcome::RejectedByBoth),
        count(Outcome::Same),
    );
    let report_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-report.tsv");
    std::fs::write(&report_path, format!("{report}{summary}\n")).expect("the report is written");
    eprintln!("{report}{summary}\n(report in {})", report_path.display());
    assert!(
        unexplained.is_empty(),
        "differences not listed in docs/compose-compat.md:\n{}",
        unexplained.join("\n")
    );
    assert!(
        count(Outcome::Same) * 100 >= accepted_by_v2 * 95,
        "fewer than 95% of the files v2 accepts are the same: {summary}"
    );
}

/// Loads `file` with our `config`, then loads what it printed, and compares the two projects.
fn round_trip(file: &Path, args: &[&str]) -> Result<(), String> {
    let first = run_config(&ours(), file, args, &[]);
    if !first.status.success() {
        return Ok(()); // not a project we accept: nothing to round-trip
    }
    let printed = file.with_file_name(".round-trip.yaml");
    std::fs::write(&printed, &first.stdout).expect("the output is written");
    let again = run_config(&ours(), &printed, args, &[]);
    std::fs::remove_file(&printed).expect("the copy is removed");
    if !again.status.success() {
        return Err(format!(
            "its output does not load: {}",
            String::from_utf8_lossy(&again.stderr)
        ));
    }
    if again.stdout != first.stdout {
        return Err(format!(
            "loads as another project:\n--- first\n{}\n--- again\n{}",
            String::from_utf8_lossy(&first.stdout),
            String::from_utf8_lossy(&again.stdout)
        ));
    }
    Ok(())
}

#[test]
fn config_output_loads_back_to_the_same_project() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<(PathBuf, Vec<&str>)> = Vec::new();
    for entry in std::fs::read_dir(&fixtures).expect("the fixtures are readable") {
        let dir = entry.expect("a directory entry").path();
        for name in ["build.yml", "compose.yaml", "docker-compose.yml"] {
            if dir.join(name).is_file() {
                files.push((dir.join(name), vec!["-p", "roundtrip"]));
            }
        }
    }
    // The copies are written beside the originals; the corpus is not ours to write in.
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-copy");
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&corpus(), &copy);
    files.extend(corpus_files().into_iter().map(|f| {
        let relative = f
            .strip_prefix(corpus())
            .expect("a corpus file")
            .to_path_buf();
        (copy.join(relative), vec!["-p", "roundtrip"])
    }));
    let mut tried = 0;
    let mut failures = Vec::new();
    for (file, args) in &files {
        tried += 1;
        if let Err(e) = round_trip(file, args) {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(tried > 100, "only {tried} files were tried");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the copy's folder is made");
    for entry in std::fs::read_dir(from).expect("the corpus is readable") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a file is copied");
        }
    }
}
