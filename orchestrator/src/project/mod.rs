//! Loading a project: from compose files to one validated, normalized [`Project`]. No engine
//! is involved here.
//!
//! The pipeline, as compose-go does it: find the files; read each into a tree (a v1 file's top
//! level becomes `services`); interpolate variables on the tree; merge the files in order; read
//! the merged tree into typed structs, every default filled in; check cross-references. Every
//! problem is collected with its file, line, column and document path, and all are reported at
//! once.

pub mod diag;
pub mod env;
pub mod extends;
pub mod files;
pub mod include;
pub mod interpolate;
pub mod merge;
pub mod model;
pub mod normalize;
pub mod ports;
pub mod reference;
pub mod services;
pub mod units;
pub mod update;
pub mod validate;
mod yaml;

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use serde_json::{Map, Value as Tree};

pub use diag::{Diagnostic, DocPath, PathSeg, Severity};
pub use model::Project;
/// A project that could not be written out (a value YAML cannot hold).
#[derive(Debug, thiserror::Error)]
#[error("could not write the project: {0}")]
pub struct WriteError(pub String);

/// What to load, as the command line and the environment say it.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f`: the compose files, in merge order; empty to look for the default names.
    pub files: Vec<PathBuf>,
    /// `-p`: the project name.
    pub project_name: Option<String>,
    /// `--project-directory`: where relative paths start (default: the first file's folder).
    pub project_directory: Option<PathBuf>,
    /// `--env-file`: the file of variables (default: `.env` in the project directory).
    pub env_file: Option<PathBuf>,
    /// `--profile`: profiles to enable, besides those in `COMPOSE_PROFILES`.
    pub profiles: Vec<String>,
    /// `--strict`: unknown keys, and keys read but not applied, are errors, not warnings.
    pub strict: bool,
    /// `config --no-interpolate`: read the files as written, `${...}` and `$$` kept.
    pub no_interpolate: bool,
    /// The process environment (passed in, so tests control it).
    pub environment: BTreeMap<String, String>,
    /// The directory the command runs in.
    pub cwd: PathBuf,
}

/// A loaded project and the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<Diagnostic>,
    /// The services in dependency order.
    pub start_order: Vec<String>,
    /// The merged, interpolated files before normalization, read-only: for readers of keys the
    /// model leaves out (`convert` reads `env_file`, `deploy.update_config`, `x-kubernetes`).
    pub tree: Tree,
    /// With `--no-interpolate`: the merged document as written (extends and includes
    /// resolved), which is what `config` prints then; its values may still hold `${...}`, so
    /// they are not read into the typed project.
    pub verbatim: Option<Tree>,
}

/// Why a project could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "no compose file found in {} or its parents (looked for {}); name one with -f",
        .dir.display(),
        files::DEFAULT_FILES.join(", ")
    )]
    NotFound { dir: PathBuf },
    #[error("could not read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", Listing(.diagnostics))]
    Invalid { diagnostics: Vec<Diagnostic> },
}

struct Listing<'a>(&'a [Diagnostic]);

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.0.iter().filter(|d| d.is_error()).count();
        write!(
            f,
            "the project is not valid ({errors} error{})",
            if errors == 1 { "" } else { "s" }
        )
    }
}

/// One compose file as read: its text for positions, its tree for paths.
struct Source {
    path: PathBuf,
    text: String,
    tree: Tree,
    legacy: bool,
}

impl Source {
    /// The path as it stands in this file's text (a v1 file has no `services` level).
    fn text_path<'p>(&self, path: &'p [PathSeg]) -> &'p [PathSeg] {
        match path.first() {
            Some(PathSeg::Key(k)) if self.legacy && k == "services" => &path[1..],
            _ => path,
        }
    }
}

/// How many leading segments of `path` exist in `tree`.
fn depth_in(tree: &Tree, path: &[PathSeg]) -> usize {
    let mut node = tree;
    for (i, seg) in path.iter().enumerate() {
        let next = match (seg, node) {
            (PathSeg::Key(k), Tree::Object(m)) => m.get(k),
            (PathSeg::Index(n), Tree::Array(a)) => a.get(*n),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return i,
        }
    }
    path.len()
}

/// Gives a diagnostic the file and position of the node it is about: the last file that holds
/// the path (later files override earlier ones), else the one holding most of it.
fn place(diagnostic: &mut Diagnostic, sources: &[Source]) {
    if diagnostic.file.is_some() || sources.is_empty() {
        return;
    }
    let path = &diagnostic.path.0;
    let best = sources
        .iter()
        .rev()
        .max_by_key(|s| depth_in(&s.tree, path))
        .expect("sources is not empty");
    let best = sources
        .iter()
        .rev()
        .find(|s| depth_in(&s.tree, path) == depth_in(&best.tree, path))
        .unwrap_or(best);
    diagnostic.file = Some(best.path.clone());
    if !path.is_empty() {
        diagnostic.location = yaml::locate(&best.text, best.text_path(path));
    }
}

/// Gives a line and column to diagnostics placed in a file but not yet in it (those that
/// `extends` and `include` report), reading the files that are not among `sources`.
fn locate_in_other_files(diagnostics: &mut [Diagnostic], sources: &[Source]) {
    for d in diagnostics.iter_mut() {
        let (Some(file), None) = (&d.file, d.location) else {
            continue;
        };
        if d.path.0.is_empty() {
            continue;
        }
        d.location = match sources.iter().find(|s| &s.path == file) {
            Some(s) => yaml::locate(&s.text, s.text_path(&d.path.0)),
            None => std::fs::read_to_string(file)
                .ok()
                .and_then(|text| yaml::locate(&text, &d.path.0)),
        };
    }
}

/// True for a document in the old v1 format: services at the top level.
fn is_legacy(tree: &Map<String, Tree>) -> bool {
    match tree.get("version") {
        Some(Tree::String(v)) => v.starts_with('1'),
        Some(Tree::Number(n)) => n.as_f64().is_some_and(|v| v < 2.0),
        Some(_) => false,
        None => {
            !["services", "include", "name"]
                .iter()
                .any(|k| tree.contains_key(*k))
                && tree.keys().any(|k| !k.starts_with("x-"))
        }
    }
}

/// Puts a v1 document's services under `services`, keeping `x-` extension fields on top.
fn wrap_legacy(tree: Map<String, Tree>) -> Map<String, Tree> {
    let mut top = Map::new();
    let mut services = Map::new();
    for (k, v) in tree {
        if k.starts_with("x-") {
            top.insert(k, v);
        } else if k != "version" {
            services.insert(k, v);
        }
    }
    top.insert("services".into(), Tree::Object(services));
    top
}

/// Loads, merges, normalizes and validates the project the options describe.
pub fn load(options: &LoadOptions) -> Result<Loaded, LoadError> {
    let files = if options.files.is_empty() {
        files::discover(&options.cwd).ok_or_else(|| LoadError::NotFound {
            dir: options.cwd.clone(),
        })?
    } else {
        options
            .files
            .iter()
            .map(|f| normalize::clean(&options.cwd.join(f)))
            .collect()
    };
    let working_dir = match &options.project_directory {
        Some(dir) => normalize::clean(&options.cwd.join(dir)),
        None => files[0].parent().map(Path::to_path_buf).unwrap_or_default(),
    };

    let mut diagnostics = Vec::new();
    let dotenv = match &options.env_file {
        Some(path) => {
            let path = options.cwd.join(path);
            if !path.is_file() {
                return Err(LoadError::Read {
                    path,
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                });
            }
            Some(path)
        }
        None => Some(working_dir.join(".env")).filter(|p| p.is_file()),
    };
    let process = options.environment.clone();
    let dotenv_vars = match dotenv {
        Some(path) => env::read_env_file(&path, &|n| process.get(n).cloned()).unwrap_or_else(|e| {
            let mut d = Diagnostic::error(DocPath::root(), e);
            d.file = Some(path.clone());
            diagnostics.push(d);
            BTreeMap::new()
        }),
        None => BTreeMap::new(),
    };
    let mut environment = env::Environment::new(process, dotenv_vars);
    if options.no_interpolate {
        environment = environment.verbatim();
    }

    let mut documents = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;
        documents.push((path.clone(), text));
    }
    load_documents(documents, &working_dir, environment, diagnostics, options)
}

/// Parses one document: YAML, the v1 format's wrapping, interpolation. Its problems go to
/// `diagnostics`, placed in it; `None` when it cannot be read as a compose document.
fn parse_document(
    path: &Path,
    text: &str,
    environment: &env::Environment,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Source> {
    let mut file_diags = Vec::new();
    let tree = match yaml::parse(text) {
        Ok(Tree::Object(map)) => {
            let legacy = is_legacy(&map);
            let map = if legacy { wrap_legacy(map) } else { map };
            let mut tree = Tree::Object(map);
            if environment.interpolates() {
                interpolate::interpolate_tree(&mut tree, &|n| environment.get(n), &mut file_diags);
            }
            Some((tree, legacy))
        }
        Ok(_) => {
            file_diags.push(Diagnostic::error(
                DocPath::root(),
                "the top level of a compose file must be a mapping",
            ));
            None
        }
        Err(e) => {
            let mut d = Diagnostic::error(DocPath::root(), format!("YAML syntax: {}", e.message));
            d.location = e.location;
            file_diags.push(d);
            None
        }
    };
    let source = tree.map(|(tree, legacy)| Source {
        path: path.to_path_buf(),
        text: text.to_owned(),
        tree,
        legacy,
    });
    for mut d in file_diags {
        d.file = Some(path.to_path_buf());
        if d.location.is_none() && !d.path.0.is_empty() {
            if let Some(s) = &source {
                d.location = yaml::locate(text, s.text_path(&d.path.0));
            }
        }
        diagnostics.push(d);
    }
    source
}

/// Reads and parses a file that another one names (`extends.file`, `include`).
fn read_source(
    path: &Path,
    environment: &env::Environment,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Source> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_document(path, &text, environment, diagnostics),
        Err(e) => {
            let mut d = Diagnostic::error(DocPath::root(), format!("cannot read it: {e}"));
            d.file = Some(path.to_path_buf());
            diagnostics.push(d);
            None
        }
    }
}

/// Everything after reading: parse, interpolate, merge, normalize and validate documents that
/// are already in memory (the fuzz target enters here).
pub fn load_documents(
    documents: Vec<(PathBuf, String)>,
    working_dir: &Path,
    environment: env::Environment,
    mut diagnostics: Vec<Diagnostic>,
    options: &LoadOptions,
) -> Result<Loaded, LoadError> {
    let files: Vec<PathBuf> = documents.iter().map(|(p, _)| p.clone()).collect();
    let mut sources = Vec::new();
    for (path, text) in &documents {
        if let Some(s) = parse_document(path, text, &environment, &mut diagnostics) {
            sources.push(s);
        }
    }
    if sources.len() != files.len() {
        return Err(finish_err(diagnostics, options.strict));
    }

    let mut merged = Tree::Object(Map::new());
    for source in &sources {
        let mut tree = source.tree.clone();
        include::expand(
            &mut tree,
            &source.path,
            working_dir,
            &environment,
            &mut Vec::new(),
            &mut diagnostics,
        );
        if let Some(Tree::Object(services)) = tree.get_mut("services") {
            services.values_mut().for_each(merge::canonicalize_service);
        }
        merge::merge_documents(&mut merged, tree);
    }
    merge::strip_markers(&mut merged);
    let legacy = sources.iter().all(|s| s.legacy);

    let name = project_name(options, &environment, &merged, working_dir).map_err(|message| {
        let mut d = Diagnostic::error(DocPath::root(), message);
        d.file = Some(files[0].clone());
        let mut all = diagnostics.clone();
        all.push(d);
        finish_err(all, options.strict)
    })?;

    let mut profiles = options.profiles.clone();
    if let Some(env_profiles) = environment.get("COMPOSE_PROFILES") {
        profiles.extend(
            env_profiles
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
    }
    let mut ctx = normalize::Ctx {
        diagnostics: Vec::new(),
        working_dir,
        env: &environment,
        project: &name,
        legacy,
    };
    let mut project = normalize::project(&mut ctx, &merged, &profiles);
    project.config_files = files.clone();
    let mut found = ctx.diagnostics;
    found.extend(validate::validate(&project, legacy));
    // A value whose interpolation failed is already reported; what it breaks further down is not.
    let poisoned: Vec<DocPath> = diagnostics
        .iter()
        .filter(|d| d.is_error() && !d.path.0.is_empty())
        .map(|d| d.path.clone())
        .collect();
    found.retain(|d| !poisoned.iter().any(|p| d.path.0.starts_with(&p.0)));
    for d in &mut found {
        place(d, &sources);
    }
    diagnostics.extend(found);
    locate_in_other_files(&mut diagnostics, &sources);
    let verbatim = (!environment.interpolates()).then(|| {
        // Typed checks see `${PORT}:80`, not the port it will be: only YAML and the files
        // themselves can be wrong here.
        diagnostics.retain(|d| !d.is_error() || d.path.0.is_empty());
        verbatim_document(merged.clone(), &name)
    });
    if options.strict {
        for d in &mut diagnostics {
            d.severity = Severity::Error;
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(finish_err(diagnostics, options.strict));
    }
    let start_order = validate::start_order(&project);
    Ok(Loaded {
        project,
        warnings: diagnostics,
        start_order,
        tree: merged,
        verbatim,
    })
}

/// The merged document as `config --no-interpolate` prints it: the project's name first.
fn verbatim_document(merged: Tree, name: &str) -> Tree {
    let mut top = Map::new();
    top.insert("name".into(), Tree::String(name.to_owned()));
    if let Tree::Object(m) = merged {
        top.extend(m.into_iter().filter(|(k, _)| k != "name" && k != "version"));
    }
    Tree::Object(top)
}

fn finish_err(mut diagnostics: Vec<Diagnostic>, strict: bool) -> LoadError {
    if strict {
        for d in &mut diagnostics {
            d.severity = Severity::Error;
        }
    }
    LoadError::Invalid { diagnostics }
}

/// `-p`, then `COMPOSE_PROJECT_NAME`, then `name:`, then the directory's name (normalized).
fn project_name(
    options: &LoadOptions,
    env: &env::Environment,
    merged: &Tree,
    working_dir: &Path,
) -> Result<String, String> {
    let explicit = options
        .project_name
        .clone()
        .map(|n| (n, "-p"))
        .or_else(|| {
            env.get("COMPOSE_PROJECT_NAME")
                .filter(|n| !n.is_empty())
                .map(|n| (n, "COMPOSE_PROJECT_NAME"))
        })
        .or_else(|| {
            merged
                .get("name")
                .and_then(Tree::as_str)
                .map(|n| (n.to_owned(), "name:"))
        });
    match explicit {
        Some((name, from)) => {
            if files::is_valid_project_name(&name) {
                Ok(name)
            } else {
                Err(format!(
                    "{name:?} (from {from}) is not a valid project name: use lower-case letters, digits, '_' and '-', starting with a letter or digit (e.g. {:?})",
                    files::normalize_project_name(&name)
                ))
            }
        }
        None => {
            let dir = working_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = files::normalize_project_name(&dir);
            if name.is_empty() {
                Err(format!(
                    "cannot make a project name from the directory {:?}: give one with -p",
                    working_dir.display()
                ))
            } else {
                Ok(name)
            }
        }
    }
}

/// The project as `config` prints it: every `$` of its (interpolated) strings is written `$$`,
/// so that loading the output again gives the same strings (a command's `echo $$HOME` stays
/// `echo $$HOME`, not the loader's `$HOME`).
pub fn printable(project: &Project) -> Result<Tree, WriteError> {
    let mut tree = serde_json::to_value(project).map_err(|e| WriteError(e.to_string()))?;
    escape_dollars(&mut tree);
    Ok(tree)
}

/// Writes `$` as `$$` in every string value (keys are not interpolated, so they stay).
fn escape_dollars(tree: &mut Tree) {
    match tree {
        Tree::String(s) if s.contains('$') => *s = s.replace('$', "$$"),
        Tree::Array(items) => items.iter_mut().for_each(escape_dollars),
        Tree::Object(map) => map.values_mut().for_each(escape_dollars),
        _ => {}
    }
}

/// A value as a YAML document that YAML 1.1 and 1.2 readers read alike.
pub fn to_yaml(value: &impl serde::Serialize) -> Result<String, WriteError> {
    yaml::to_string(value).map_err(WriteError)
}
