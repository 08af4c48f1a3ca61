//! `include`: other compose projects pulled into this one, as compose-go's `loader/include.go`
//! does it. Each entry is loaded on its own (its files merged in order, interpolated with its
//! own `env_file`, relative paths taken from its `project_directory`), then its services,
//! networks, volumes, secrets and configs are added to the including file. A name defined on
//! both sides is an error unless both definitions are the same; an include that comes back to
//! a file already being included is an error that shows the chain.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Tree};

use super::{
    diag::{Diagnostic, DocPath},
    env::{read_env_file, Environment},
    extends, merge, normalize,
};

/// The sections an included project adds to the including one.
const SECTIONS: &[&str] = &["services", "networks", "volumes", "secrets", "configs"];

/// One `include` entry, its paths already absolute.
struct Entry {
    paths: Vec<PathBuf>,
    project_directory: PathBuf,
    env_files: Vec<PathBuf>,
}

/// Expands a document read from `file`: its `extends` resolved, then its `include`s merged in.
/// `working_dir` is where the document's relative paths start; `chain` holds the files being
/// included around this one (to find cycles).
pub fn expand(
    tree: &mut Tree,
    file: &Path,
    working_dir: &Path,
    env: &Environment,
    chain: &mut Vec<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    extends::apply(tree, file, env, diagnostics);
    let Some(Tree::Object(top)) = Some(&mut *tree) else {
        return;
    };
    let Some(include) = top.remove("include") else {
        return;
    };
    let path = DocPath::root().key("include");
    let error = |path: DocPath, message: String| {
        let mut d = Diagnostic::error(path, message);
        d.file = Some(file.to_path_buf());
        d
    };
    let items = match include {
        Tree::Array(items) => items,
        Tree::Null => Vec::new(),
        other => vec![other],
    };
    for (i, item) in items.iter().enumerate() {
        let item_path = path.index(i);
        let entry = match entry(item, working_dir) {
            Ok(e) => e,
            Err(message) => {
                diagnostics.push(error(item_path, message));
                continue;
            }
        };
        let Some(main) = entry.paths.first() else {
            continue;
        };
        if chain.contains(main) || main == file {
            let shown: Vec<String> = chain
                .iter()
                .chain([&file.to_path_buf(), main])
                .map(|p| p.display().to_string())
                .collect();
            diagnostics.push(error(
                item_path,
                format!("include makes a cycle: {}", shown.join(" includes ")),
            ));
            continue;
        }
        chain.push(file.to_path_buf());
        let imported = load_entry(&entry, env, chain, diagnostics);
        chain.pop();
        if let Some(imported) = imported {
            import(top, imported, &item_path, file, diagnostics);
        }
    }
}

/// Reads an entry: a path, or a mapping of `path` (one or a list), `project_directory` and
/// `env_file` (one or a list), each relative to `working_dir`.
fn entry(item: &Tree, working_dir: &Path) -> Result<Entry, String> {
    let absolute = |p: &str| normalize::clean(&working_dir.join(p));
    let list = |v: Option<&Tree>| -> Result<Vec<PathBuf>, String> {
        match v {
            None | Some(Tree::Null) => Ok(Vec::new()),
            Some(Tree::String(s)) => Ok(vec![absolute(s)]),
            Some(Tree::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(absolute)
                        .ok_or_else(|| "expected a path".to_owned())
                })
                .collect(),
            Some(_) => Err("expected a path or a list of paths".into()),
        }
    };
    let (paths, project_directory, env_files) = match item {
        Tree::String(s) => (vec![absolute(s)], None, Vec::new()),
        Tree::Object(m) => {
            for key in m.keys() {
                if !matches!(key.as_str(), "path" | "project_directory" | "env_file") {
                    return Err(format!(
                        "unknown key {key:?} (path, project_directory, env_file)"
                    ));
                }
            }
            let dir = match m.get("project_directory") {
                Some(Tree::String(d)) => Some(absolute(d)),
                None | Some(Tree::Null) => None,
                Some(_) => return Err("project_directory must be a path".into()),
            };
            (list(m.get("path"))?, dir, list(m.get("env_file"))?)
        }
        _ => return Err("expected a path or a mapping with path".into()),
    };
    let Some(first) = paths.first() else {
        return Err("an include needs a path".into());
    };
    let project_directory = project_directory
        .unwrap_or_else(|| first.parent().map(Path::to_path_buf).unwrap_or_default());
    Ok(Entry {
        paths,
        project_directory,
        env_files,
    })
}

/// Loads an included project: its files expanded and merged in order, relative paths made
/// absolute against its project directory.
fn load_entry(
    entry: &Entry,
    env: &Environment,
    chain: &mut Vec<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Tree> {
    let env_files = if entry.env_files.is_empty() {
        let default = entry.project_directory.join(".env");
        if default.is_file() {
            vec![default]
        } else {
            Vec::new()
        }
    } else {
        entry.env_files.clone()
    };
    let mut vars = std::collections::BTreeMap::new();
    for f in &env_files {
        match read_env_file(f, &|n| vars.get(n).cloned().or_else(|| env.get(n))) {
            Ok(read) => vars.extend(read),
            Err(e) => {
                let mut d = Diagnostic::error(DocPath::root(), e);
                d.file = Some(f.clone());
                diagnostics.push(d);
            }
        }
    }
    let env = env.overlaid(vars);
    let mut merged = Tree::Object(Map::new());
    let mut complete = true;
    for path in &entry.paths {
        let Some(source) = super::read_source(path, &env, diagnostics) else {
            complete = false;
            continue;
        };
        let mut tree = source.tree;
        expand(
            &mut tree,
            path,
            &entry.project_directory,
            &env,
            chain,
            diagnostics,
        );
        if let Some(Tree::Object(services)) = tree.get_mut("services") {
            services.values_mut().for_each(merge::canonicalize_service);
        }
        merge::merge_documents(&mut merged, tree);
    }
    extends::resolve_document_paths(&mut merged, &entry.project_directory);
    complete.then_some(merged)
}

/// Adds what an included project defines to the including document; a name both define
/// differently is an error.
fn import(
    top: &mut Map<String, Tree>,
    imported: Tree,
    path: &DocPath,
    file: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Tree::Object(mut imported) = imported else {
        return;
    };
    for section in SECTIONS {
        let Some(Tree::Object(from)) = imported.remove(*section) else {
            continue;
        };
        let to = top
            .entry(section.to_string())
            .or_insert_with(|| Tree::Object(Map::new()));
        if to.is_null() {
            *to = Tree::Object(Map::new());
        }
        let Tree::Object(to) = to else { continue };
        for (name, definition) in from {
            match to.get(&name) {
                Some(existing) if *existing == definition => {}
                Some(_) => {
                    let mut d = Diagnostic::error(
                        path.clone(),
                        format!("{section}.{name} is defined here and in the included project"),
                    );
                    d.file = Some(file.to_path_buf());
                    diagnostics.push(d);
                }
                None => {
                    to.insert(name, definition);
                }
            }
        }
    }
}
