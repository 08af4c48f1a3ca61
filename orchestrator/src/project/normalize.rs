//! From the merged tree to the typed [`Project`]: each field read by its own rule, every broken
//! rule reported (not just the first), defaults filled in, paths made absolute.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use serde_json::{Map, Value as Tree};

use super::{
    diag::{Diagnostic, DocPath},
    env::{read_env_file, Environment},
    model::*,
    ports,
    units::{parse_bytes, parse_duration, shell_words},
};

/// Service keys of the Compose Specification that this orchestrator reads but does not apply,
/// each with the reason: none has a mapping the engine's API 1.41 takes on Linux.
const UNSUPPORTED_SERVICE_KEYS: &[(&str, &str)] = &[
    ("annotations", "it needs Docker Engine API 1.43"),
    (
        "attach",
        "it chooses which logs `up` follows, which `up` does not do per service yet",
    ),
    ("cpu_count", "the engine applies it on Windows only"),
    ("cpu_percent", "the engine applies it on Windows only"),
    ("credential_spec", "the engine applies it on Windows only"),
    ("isolation", "the engine applies it on Windows only"),
    ("mac_address", "it needs Docker Engine API 1.44"),
    (
        "post_start",
        "lifecycle hooks are not run by this orchestrator yet",
    ),
    (
        "pre_stop",
        "lifecycle hooks are not run by this orchestrator yet",
    ),
];

/// Everything normalization needs to know besides the tree.
pub struct Ctx<'a> {
    pub diagnostics: Vec<Diagnostic>,
    pub working_dir: &'a Path,
    pub env: &'a Environment,
    pub project: &'a str,
    /// The document came from the v1 format: named volumes need no declaration.
    pub legacy: bool,
}

fn kind(v: &Tree) -> &'static str {
    match v {
        Tree::Null => "nothing",
        Tree::Bool(_) => "a boolean",
        Tree::Number(_) => "a number",
        Tree::String(_) => "a string",
        Tree::Array(_) => "a list",
        Tree::Object(_) => "a mapping",
    }
}

impl Ctx<'_> {
    fn error(&mut self, path: &DocPath, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(path.clone(), message));
    }

    fn warn(&mut self, path: &DocPath, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::warning(path.clone(), message));
    }

    fn expected(&mut self, path: &DocPath, what: &str, v: &Tree) {
        self.error(path, format!("expected {what}, got {}", kind(v)));
    }

    fn string(&mut self, v: &Tree, path: &DocPath) -> Option<String> {
        match v {
            Tree::String(s) => Some(s.clone()),
            other => {
                self.expected(path, "a string", other);
                None
            }
        }
    }

    /// A string, number or boolean, as text (environment values, labels, args).
    fn scalar(&mut self, v: &Tree, path: &DocPath) -> Option<String> {
        match v {
            Tree::String(s) => Some(s.clone()),
            Tree::Number(n) => Some(n.to_string()),
            Tree::Bool(b) => Some(b.to_string()),
            other => {
                self.expected(path, "a string or a number", other);
                None
            }
        }
    }

    fn bool(&mut self, v: &Tree, path: &DocPath) -> Option<bool> {
        match v {
            Tree::Bool(b) => Some(*b),
            Tree::String(s) if s == "true" => Some(true),
            Tree::String(s) if s == "false" => Some(false),
            other => {
                self.expected(path, "true or false", other);
                None
            }
        }
    }

    fn uint(&mut self, v: &Tree, path: &DocPath) -> Option<u64> {
        match v {
            Tree::Number(n) if n.as_u64().is_some() => n.as_u64(),
            Tree::String(s) if s.parse::<u64>().is_ok() => s.parse().ok(),
            other => {
                self.expected(path, "a whole number", other);
                None
            }
        }
    }

    fn int(&mut self, v: &Tree, path: &DocPath) -> Option<i64> {
        match v {
            Tree::Number(n) if n.as_i64().is_some() => n.as_i64(),
            Tree::String(s) if s.parse::<i64>().is_ok() => s.parse().ok(),
            other => {
                self.expected(path, "a whole number", other);
                None
            }
        }
    }

    /// Microseconds: a number of them, or a duration (`400ms`).
    fn micros(&mut self, v: &Tree, path: &DocPath) -> Option<i64> {
        match v {
            Tree::Number(_) => self.int(v, path),
            _ => self.duration(v, path).map(|d| d.as_micros() as i64),
        }
    }

    /// A size in bytes: a number, or text such as `512m` (`-1` for unlimited).
    fn bytes(&mut self, v: &Tree, path: &DocPath) -> Option<i64> {
        let text = self.scalar(v, path)?;
        if text.trim() == "-1" {
            return Some(-1);
        }
        parse_bytes(&text)
            .map(|b| b as i64)
            .map_err(|e| self.error(path, e))
            .ok()
    }

    fn duration(&mut self, v: &Tree, path: &DocPath) -> Option<Duration> {
        let text = self.scalar(v, path)?;
        parse_duration(&text).map_err(|e| self.error(path, e)).ok()
    }

    fn object<'t>(&mut self, v: &'t Tree, path: &DocPath) -> Option<&'t Map<String, Tree>> {
        match v {
            Tree::Object(m) => Some(m),
            other => {
                self.expected(path, "a mapping", other);
                None
            }
        }
    }

    /// A list of scalars (a lone string is accepted as a list of one where `single` is true).
    fn strings(&mut self, v: &Tree, path: &DocPath, single: bool) -> Vec<String> {
        match v {
            Tree::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| self.scalar(item, &path.index(i)))
                .collect(),
            Tree::String(s) if single => vec![s.clone()],
            Tree::Null => Vec::new(),
            other => {
                self.expected(path, "a list", other);
                Vec::new()
            }
        }
    }

    /// A command or entrypoint: a list of words, or a string split as a shell would.
    fn command(&mut self, v: &Tree, path: &DocPath) -> Option<Vec<String>> {
        match v {
            Tree::String(s) => shell_words(s).map_err(|e| self.error(path, e)).ok(),
            Tree::Array(_) => Some(self.strings(v, path, false)),
            Tree::Null => None,
            other => {
                self.expected(path, "a string or a list", other);
                None
            }
        }
    }

    /// A mapping of names to optional values, or a list of `NAME=value` (already canonical
    /// after merging, but a single file's list form is accepted too).
    fn vars(&mut self, v: &Tree, path: &DocPath) -> BTreeMap<String, Option<String>> {
        let mut out = BTreeMap::new();
        match v {
            Tree::Object(m) => {
                for (k, val) in m {
                    let value = match val {
                        Tree::Null => None,
                        other => self.scalar(other, &path.key(k)),
                    };
                    out.insert(k.clone(), value);
                }
            }
            Tree::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(s) = self.string(item, &path.index(i)) {
                        match s.split_once('=') {
                            Some((k, val)) => out.insert(k.to_owned(), Some(val.to_owned())),
                            None => out.insert(s, None),
                        };
                    }
                }
            }
            Tree::Null => {}
            other => self.expected(path, "a mapping or a list of NAME=value", other),
        }
        out
    }

    fn labels(&mut self, v: &Tree, path: &DocPath) -> BTreeMap<String, String> {
        self.vars(v, path)
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect()
    }

    fn absolute(&self, relative: &str) -> PathBuf {
        let expanded = match relative.strip_prefix("~/") {
            Some(rest) => match self.env.get("HOME") {
                Some(home) => PathBuf::from(home).join(rest),
                None => PathBuf::from(relative),
            },
            None => PathBuf::from(relative),
        };
        clean(&self.working_dir.join(expanded))
    }
}

/// Removes `.` and resolves `..` without touching the file system.
pub fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// An `x-stand-ins` entry: a program inside the project directory and its arguments, written
/// as a list or as one string split into words (no shell reads it).
fn stand_in(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<StandIn> {
    let mut words = ctx.command(v, path)?.into_iter();
    let Some(program) = words.next() else {
        ctx.error(path, "a stand-in needs a program to run");
        return None;
    };
    let relative = Path::new(&program);
    if !program.contains('/') {
        ctx.error(
            path,
            format!("the stand-in program {program:?} must be a path inside the project directory (e.g. ./scripts/{program}); programs are not looked up on PATH"),
        );
        return None;
    }
    let absolute = clean(&ctx.working_dir.join(relative));
    if !absolute.starts_with(ctx.working_dir) {
        ctx.error(
            path,
            format!(
                "the stand-in program {program:?} is outside the project directory {}: a compose file may only run programs the project ships",
                ctx.working_dir.display()
            ),
        );
        return None;
    }
    Some(StandIn {
        program: absolute,
        args: words.collect(),
    })
}

/// An `x-budgets` entry: `limit: N` and `per-replica: {SERVICE: N, ...}`.
fn budget(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<Budget> {
    let body = ctx.object(v, path)?;
    let mut limit = None;
    let mut per_replica = BTreeMap::new();
    for (key, value) in body {
        let p = path.key(key);
        match key.as_str() {
            "limit" => limit = ctx.uint(value, &p),
            "per-replica" => {
                if let Some(services) = ctx.object(value, &p) {
                    for (service, each) in services {
                        if let Some(n) = ctx.uint(each, &p.key(service)) {
                            per_replica.insert(service.clone(), n);
                        }
                    }
                }
            }
            other => ctx.error(
                &p,
                format!("unknown budget key {other:?} (a budget has limit and per-replica)"),
            ),
        }
    }
    let Some(limit) = limit else {
        ctx.error(path, "a budget needs a limit");
        return None;
    };
    Some(Budget { limit, per_replica })
}

/// A path inside a container, cleaned as Compose cleans it (`/media/` is `/media`), so the same
/// mount written two ways is one mount.
pub fn container_path(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    clean(Path::new(path)).display().to_string()
}

/// Reads the whole merged document into a project.
pub fn project(ctx: &mut Ctx, tree: &Tree, active_profiles: &[String]) -> Project {
    let root = DocPath::root();
    let mut project = Project::new(ctx.project, ctx.working_dir.to_path_buf());
    let Some(top) = ctx.object(tree, &root) else {
        return project;
    };
    for (key, value) in top {
        let path = root.key(key);
        match key.as_str() {
            "version" | "name" => {}
            "services" => {
                if let Some(services) = ctx.object(value, &path) {
                    for (name, body) in services {
                        let spath = path.key(name);
                        if !valid_service_name(name) {
                            ctx.error(&spath, format!("{name:?} is not a valid service name (letters, digits, '.', '_', '-')"));
                            continue;
                        }
                        let service = service(ctx, body, &spath);
                        let enabled = service.profiles.is_empty()
                            || service.profiles.iter().any(|p| active_profiles.contains(p))
                            || active_profiles.iter().any(|p| p == "*");
                        if enabled {
                            project.services.insert(name.clone(), service);
                        } else {
                            project.disabled_services.insert(name.clone(), service);
                        }
                    }
                }
            }
            "networks" => project.networks = section(ctx, value, &path, network),
            "volumes" => project.volumes = section(ctx, value, &path, volume),
            "secrets" => project.secrets = section(ctx, value, &path, file_object),
            "configs" => project.configs = section(ctx, value, &path, file_object),
            "x-stand-ins" => {
                if let Some(entries) = ctx.object(value, &path) {
                    for (image, command) in entries {
                        if let Some(stand_in) = stand_in(ctx, command, &path.key(image)) {
                            project.stand_ins.insert(image.clone(), stand_in);
                        }
                    }
                }
            }
            "x-budgets" => {
                if let Some(entries) = ctx.object(value, &path) {
                    for (name, body) in entries {
                        if let Some(budget) = budget(ctx, body, &path.key(name)) {
                            project.budgets.insert(name.clone(), budget);
                        }
                    }
                }
            }
            k if k.starts_with("x-") => {
                project.extensions.insert(k.to_owned(), value.clone());
            }
            other => ctx.warn(&path, format!("unknown top-level key {other:?}; ignored")),
        }
    }
    let names: std::collections::BTreeSet<String> = project
        .services
        .keys()
        .chain(project.disabled_services.keys())
        .cloned()
        .collect();
    for s in project.services.values_mut() {
        implicit_dependencies(s, &|n| names.contains(n));
    }
    drop_unused(&mut project);
    if project.services.is_empty() && project.disabled_services.is_empty() {
        ctx.warn(
            &root.key("services"),
            "the project defines no services: there is nothing to run",
        );
    }
    // Every project has a default network, as in Compose.
    let uses_default = project
        .services
        .values()
        .any(|s| s.networks.contains_key("default"));
    if uses_default && !project.networks.contains_key("default") {
        project.networks.insert(
            "default".into(),
            Network {
                name: format!("{}_default", ctx.project),
                ..Network::default()
            },
        );
    }
    if ctx.legacy {
        // The v1 format named volumes without declaring them.
        for s in project.services.values() {
            for m in &s.volumes {
                if let (MountKind::Volume, Some(source)) = (m.kind, &m.source) {
                    project
                        .volumes
                        .entry(source.clone())
                        .or_insert_with(|| Volume {
                            name: format!("{}_{source}", ctx.project),
                            ..Volume::default()
                        });
                }
            }
        }
    }
    project
}

/// Leaves out the networks, volumes, secrets and configs no enabled service uses, as Compose
/// does: `config` does not print them and `up` does not create them.
fn drop_unused(project: &mut Project) {
    let services = project.services.values();
    let mut networks = std::collections::BTreeSet::new();
    let mut volumes = std::collections::BTreeSet::new();
    let mut objects = std::collections::BTreeSet::new();
    for s in services {
        networks.extend(s.networks.keys().cloned());
        volumes.extend(
            s.volumes
                .iter()
                .filter(|m| m.kind == MountKind::Volume)
                .filter_map(|m| m.source.clone()),
        );
        objects.extend(s.secrets.iter().chain(&s.configs).map(|r| r.source.clone()));
    }
    project.networks.retain(|k, _| networks.contains(k));
    project.volumes.retain(|k, _| volumes.contains(k));
    project.secrets.retain(|k, _| objects.contains(k));
    project.configs.retain(|k, _| objects.contains(k));
}

fn valid_service_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn section<T>(
    ctx: &mut Ctx,
    value: &Tree,
    path: &DocPath,
    read: fn(&mut Ctx, &str, &Tree, &DocPath) -> Option<T>,
) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    if value.is_null() {
        return out;
    }
    if let Some(entries) = ctx.object(value, path) {
        for (key, body) in entries {
            if let Some(item) = read(ctx, key, body, &path.key(key)) {
                out.insert(key.clone(), item);
            }
        }
    }
    out
}

/// `external: true` or the legacy `external: {name: x}`; returns (external, legacy name).
fn external(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> (bool, Option<String>) {
    match v {
        Tree::Object(m) => (
            true,
            m.get("name").and_then(Tree::as_str).map(str::to_owned),
        ),
        other => (ctx.bool(other, path).unwrap_or(false), None),
    }
}

/// The engine's name for a top-level object: `name:` if given, the key itself if external,
/// else `project_key`.
fn engine_name(ctx: &Ctx, key: &str, name: Option<String>, external: bool) -> String {
    name.unwrap_or_else(|| {
        if external {
            key.to_owned()
        } else {
            format!("{}_{key}", ctx.project)
        }
    })
}

/// The keys networks and volumes share: `name`, `driver`, `driver_opts`, `external`, `labels`.
#[derive(Default)]
struct Common {
    name: Option<String>,
    driver: Option<String>,
    driver_opts: BTreeMap<String, String>,
    external: bool,
    labels: BTreeMap<String, String>,
}

impl Common {
    /// Reads one key if it is a shared one (or an `x-` extension); false for the others.
    fn read(&mut self, ctx: &mut Ctx, key: &str, v: &Tree, p: &DocPath) -> bool {
        match key {
            "name" => self.name = ctx.string(v, p),
            "driver" => self.driver = ctx.string(v, p),
            "driver_opts" => self.driver_opts = ctx.labels(v, p),
            "external" => {
                let (ext, legacy_name) = external(ctx, v, p);
                self.external = ext;
                self.name = self.name.take().or(legacy_name);
            }
            "labels" => self.labels = ctx.labels(v, p),
            x if x.starts_with("x-") => {}
            _ => return false,
        }
        true
    }

    /// The engine's name: `name:`, the key itself if external, else `project_key`.
    fn engine_name(&self, ctx: &Ctx, key: &str) -> String {
        engine_name(ctx, key, self.name.clone(), self.external)
    }
}

/// The entries of a top-level object's body; an empty body (`data:`) has none.
fn entries<'t>(
    ctx: &mut Ctx,
    body: &'t Tree,
    path: &DocPath,
) -> Option<Vec<(&'t String, &'t Tree)>> {
    if body.is_null() {
        return Some(Vec::new());
    }
    Some(ctx.object(body, path)?.iter().collect())
}

fn network(ctx: &mut Ctx, key: &str, body: &Tree, path: &DocPath) -> Option<Network> {
    let mut common = Common::default();
    let (mut internal, mut attachable, mut ipam_config) = (false, false, None);
    for (k, v) in entries(ctx, body, path)? {
        let p = path.key(k);
        if common.read(ctx, k, v, &p) {
            continue;
        }
        match k.as_str() {
            "internal" => internal = ctx.bool(v, &p).unwrap_or(false),
            "attachable" => attachable = ctx.bool(v, &p).unwrap_or(false),
            "ipam" => ipam_config = ipam(ctx, v, &p),
            "enable_ipv4" | "enable_ipv6" => {
                ctx.warn(&p, format!("{k} is not supported yet; ignored"))
            }
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    Some(Network {
        name: common.engine_name(ctx, key),
        driver: common.driver,
        driver_opts: common.driver_opts,
        external: common.external,
        internal,
        attachable,
        ipam: ipam_config,
        labels: common.labels,
    })
}

fn ipam(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<Ipam> {
    let m = ctx.object(v, path)?;
    let mut ipam = Ipam::default();
    for (k, val) in m {
        let p = path.key(k);
        match k.as_str() {
            "driver" => ipam.driver = ctx.string(val, &p),
            "options" => ipam.options = ctx.labels(val, &p),
            "config" => {
                let Tree::Array(pools) = val else {
                    ctx.expected(&p, "a list of address pools", val);
                    continue;
                };
                for (i, pool) in pools.iter().enumerate() {
                    let pp = p.index(i);
                    let Some(pool) = ctx.object(pool, &pp) else {
                        continue;
                    };
                    let mut out = IpamPool::default();
                    for (pk, pv) in pool {
                        let kp = pp.key(pk);
                        match pk.as_str() {
                            "subnet" => out.subnet = ctx.string(pv, &kp),
                            "ip_range" => out.ip_range = ctx.string(pv, &kp),
                            "gateway" => out.gateway = ctx.string(pv, &kp),
                            "aux_addresses" => out.aux_addresses = ctx.labels(pv, &kp),
                            other => ctx.warn(&kp, format!("unknown key {other:?}; ignored")),
                        }
                    }
                    ipam.config.push(out);
                }
            }
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    Some(ipam)
}

fn volume(ctx: &mut Ctx, key: &str, body: &Tree, path: &DocPath) -> Option<Volume> {
    let mut common = Common::default();
    for (k, v) in entries(ctx, body, path)? {
        let p = path.key(k);
        if !common.read(ctx, k, v, &p) {
            ctx.warn(&p, format!("unknown key {k:?}; ignored"));
        }
    }
    // A local volume bound to a host folder names it relative to the project, as in Compose.
    let binds = common
        .driver_opts
        .get("o")
        .is_some_and(|o| o.split(',').any(|o| o == "bind"));
    if binds && common.driver.as_deref().is_none_or(|d| d == "local") {
        if let Some(device) = common.driver_opts.get_mut("device") {
            *device = ctx.absolute(device).display().to_string();
        }
    }
    Some(Volume {
        name: common.engine_name(ctx, key),
        driver: common.driver,
        driver_opts: common.driver_opts,
        external: common.external,
        labels: common.labels,
    })
}

fn file_object(ctx: &mut Ctx, key: &str, body: &Tree, path: &DocPath) -> Option<FileObject> {
    let mut obj = FileObject::default();
    let mut name = None;
    for (k, v) in ctx.object(body, path)? {
        let p = path.key(k);
        match k.as_str() {
            "name" => name = ctx.string(v, &p),
            "file" => obj.file = ctx.string(v, &p).map(|f| ctx.absolute(&f)),
            "environment" => obj.environment = ctx.string(v, &p),
            "content" => obj.content = ctx.string(v, &p),
            "external" => {
                let (ext, legacy_name) = external(ctx, v, &p);
                obj.external = ext;
                name = name.or(legacy_name);
            }
            "labels" | "driver" | "driver_opts" | "template_driver" => {}
            x if x.starts_with("x-") => {}
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    let sources = [
        obj.file.is_some(),
        obj.environment.is_some(),
        obj.content.is_some(),
        obj.external,
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if sources != 1 {
        ctx.error(
            path,
            "give exactly one of file, environment, content or external",
        );
    }
    obj.name = engine_name(ctx, key, name, obj.external);
    Some(obj)
}

/// Reads one service.
pub fn service(ctx: &mut Ctx, body: &Tree, path: &DocPath) -> Service {
    let mut s = Service {
        pull_policy: "missing".into(),
        ..Service::default()
    };
    if body.is_null() {
        return s; // reported by validation: neither an image nor a build
    }
    let Some(map) = ctx.object(body, path) else {
        return s;
    };
    let mut env_files: Vec<(PathBuf, bool, DocPath)> = Vec::new();
    let mut label_files: Vec<(PathBuf, DocPath)> = Vec::new();
    let mut scale = None;
    for (key, v) in map {
        let p = path.key(key);
        match key.as_str() {
            "build" => s.build = build(ctx, v, &p),
            "image" => {
                // An image that breaks its rule is reported here; keeping a value spares the
                // user a second error saying the service has no image at all.
                s.image = match ctx.string(v, &p) {
                    Some(image) => {
                        check_image(ctx, &image, &p);
                        Some(image)
                    }
                    None => Some(String::new()),
                };
            }
            "container_name" => s.container_name = ctx.string(v, &p),
            "command" => s.command = ctx.command(v, &p),
            "entrypoint" => s.entrypoint = ctx.command(v, &p),
            "environment" => s.environment = ctx.vars(v, &p),
            "env_file" => env_files = env_file_list(ctx, v, &p),
            "ports" => s.ports = port_list(ctx, v, &p),
            "expose" => {
                s.expose = ctx.strings(v, &p, false);
                for (i, e) in s.expose.iter().enumerate() {
                    if !valid_expose(e) {
                        let msg = format!("{e:?} is not a port or a port range");
                        ctx.error(&p.index(i), msg);
                    }
                }
            }
            "links" => {
                s.links = ctx
                    .strings(v, &p, false)
                    .into_iter()
                    .map(|l| match l.split_once(':') {
                        Some((svc, alias)) => Link {
                            service: svc.to_owned(),
                            alias: alias.to_owned(),
                        },
                        None => Link {
                            service: l.clone(),
                            alias: l,
                        },
                    })
                    .collect()
            }
            "volumes" => s.volumes = mounts(ctx, v, &p),
            "volumes_from" => s.volumes_from = ctx.strings(v, &p, false),
            "networks" => s.networks = service_networks(ctx, v, &p),
            "depends_on" => s.depends_on = depends_on(ctx, v, &p),
            "healthcheck" => s.healthcheck = healthcheck(ctx, v, &p),
            "restart" => s.restart = restart(ctx, v, &p),
            "labels" => s.labels = ctx.labels(v, &p),
            "user" => s.user = ctx.scalar(v, &p),
            "working_dir" => s.working_dir = ctx.string(v, &p),
            "hostname" => s.hostname = ctx.string(v, &p),
            "stop_signal" => s.stop_signal = ctx.string(v, &p),
            "stop_grace_period" => s.stop_grace_period = ctx.duration(v, &p),
            "profiles" => s.profiles = ctx.strings(v, &p, false),
            "deploy" => s.deploy = deploy(ctx, v, &p),
            "scale" => scale = ctx.uint(v, &p),
            "pull_policy" => s.pull_policy = pull_policy(ctx, v, &p).unwrap_or(s.pull_policy),
            "init" => s.init = ctx.bool(v, &p),
            "tty" => s.tty = ctx.bool(v, &p).unwrap_or(false),
            "stdin_open" => s.stdin_open = ctx.bool(v, &p).unwrap_or(false),
            "read_only" => s.read_only = ctx.bool(v, &p).unwrap_or(false),
            "cap_add" => s.cap_add = ctx.strings(v, &p, false),
            "cap_drop" => s.cap_drop = ctx.strings(v, &p, false),
            "extra_hosts" => s.extra_hosts = extra_hosts(ctx, v, &p),
            "secrets" => s.secrets = object_refs(ctx, v, &p, Some("/run/secrets")),
            "configs" => s.configs = object_refs(ctx, v, &p, None),
            "logging" => s.logging = logging(ctx, v, &p),
            "ulimits" => s.ulimits = ulimits(ctx, v, &p),
            "tmpfs" => s.tmpfs = ctx.strings(v, &p, true),
            "shm_size" => s.shm_size = ctx.bytes(v, &p),
            "sysctls" => s.sysctls = ctx.labels(v, &p),
            "network_mode" => s.network_mode = ctx.string(v, &p),
            "mem_limit" => s.mem_limit = ctx.bytes(v, &p),
            "memswap_limit" => s.memswap_limit = ctx.bytes(v, &p),
            "mem_reservation" => s.mem_reservation = ctx.bytes(v, &p),
            "cpus" => s.cpus = cpus(ctx, v, &p),
            "cpu_shares" => s.cpu_shares = ctx.uint(v, &p).map(|n| n as i64),
            "cpuset" => s.cpuset = ctx.scalar(v, &p),
            "pids_limit" => s.pids_limit = ctx.int(v, &p),
            "privileged" => s.privileged = ctx.bool(v, &p).unwrap_or(false),
            "security_opt" => s.security_opt = ctx.strings(v, &p, false),
            "devices" => s.devices = devices(ctx, v, &p),
            "dns" => s.dns = ctx.strings(v, &p, true),
            "dns_search" => s.dns_search = ctx.strings(v, &p, true),
            "dns_opt" => s.dns_opt = ctx.strings(v, &p, false),
            "pid" => s.pid = ctx.string(v, &p),
            "ipc" => s.ipc = ctx.string(v, &p),
            "group_add" => s.group_add = ctx.strings(v, &p, false),
            "platform" => s.platform = ctx.string(v, &p),
            "runtime" => s.runtime = ctx.string(v, &p),
            "oom_score_adj" => s.oom_score_adj = ctx.int(v, &p),
            "external_links" => s.external_links = ctx.strings(v, &p, false),
            "cgroup" => s.cgroup = ctx.string(v, &p),
            "cgroup_parent" => s.cgroup_parent = ctx.string(v, &p),
            "cpu_period" => s.cpu_period = ctx.micros(v, &p),
            "cpu_quota" => s.cpu_quota = ctx.micros(v, &p),
            "cpu_rt_period" => s.cpu_rt_period = ctx.micros(v, &p),
            "cpu_rt_runtime" => s.cpu_rt_runtime = ctx.micros(v, &p),
            "device_cgroup_rules" => s.device_cgroup_rules = ctx.strings(v, &p, false),
            "domainname" => s.domainname = ctx.string(v, &p),
            "mem_swappiness" => s.mem_swappiness = ctx.int(v, &p),
            "oom_kill_disable" => s.oom_kill_disable = ctx.bool(v, &p).unwrap_or(false),
            "storage_opt" => s.storage_opt = ctx.labels(v, &p),
            "userns_mode" => s.userns_mode = ctx.string(v, &p),
            "uts" => s.uts = ctx.string(v, &p),
            "volume_driver" => s.volume_driver = ctx.string(v, &p),
            "label_file" => {
                label_files = ctx
                    .strings(v, &p, true)
                    .into_iter()
                    .map(|f| (ctx.absolute(&f), p.clone()))
                    .collect()
            }
            "gpus" => s.gpus = gpus(ctx, v, &p),
            "blkio_config" => s.blkio_config = blkio_config(ctx, v, &p),
            "develop" => {
                ctx.warn(
                    &p,
                    "develop (watch) is not supported by this orchestrator; ignored",
                );
                s.develop = Some(develop(ctx, v));
            }
            x if x.starts_with("x-") => {}
            x if UNSUPPORTED_SERVICE_KEYS.iter().any(|(k, _)| *k == x) => {
                let why = UNSUPPORTED_SERVICE_KEYS
                    .iter()
                    .find(|(k, _)| *k == x)
                    .map_or("", |(_, why)| why);
                ctx.warn(&p, format!("{x} is not applied ({why}); ignored"))
            }
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    if let Some(n) = scale {
        let deploy = s.deploy.get_or_insert_with(Deploy::default);
        match deploy.replicas {
            Some(r) if u64::from(r) != n => ctx.error(
                &path.key("scale"),
                format!("scale ({n}) and deploy.replicas ({r}) disagree"),
            ),
            _ => deploy.replicas = Some(n as u32),
        }
    }
    // `NAME` without a value takes the shell's value, as `docker run -e NAME` does.
    for (name, value) in s.environment.iter_mut() {
        if value.is_none() {
            *value = ctx.env.get(name);
        }
    }
    // `label_file` lines are labels beneath those written in `labels`.
    for (file, p) in label_files {
        match read_env_file(&file, &|_| None) {
            Ok(vars) => {
                for (k, v) in vars {
                    s.labels.entry(k).or_insert(v);
                }
            }
            Err(e) => ctx.error(&p, e),
        }
    }
    for (file, required, p) in env_files {
        if !file.exists() && !required {
            continue;
        }
        let env = ctx.env;
        match read_env_file(&file, &|n| env.get(n)) {
            Ok(vars) => {
                for (k, v) in vars {
                    s.environment.entry(k).or_insert(Some(v));
                }
            }
            Err(e) => ctx.error(&p, e),
        }
    }
    if s.network_mode.is_some() && !s.networks.is_empty() {
        ctx.error(
            &path.key("network_mode"),
            "network_mode and networks exclude each other: a container shares a network namespace or joins networks",
        );
    }
    if s.networks.is_empty() && s.network_mode.is_none() {
        s.networks
            .insert("default".into(), ServiceNetwork::default());
    }
    s
}

/// A service whose network, IPC or PID namespace, or volumes, come from another service's
/// container starts after it, as Compose adds it to `depends_on`. A name that is no service is
/// left for validation to report where it is written.
fn implicit_dependencies(s: &mut Service, known: &dyn Fn(&str) -> bool) {
    // A shared namespace dies with its container: the service restarts with it. Volumes do not.
    let from_modes = [&s.network_mode, &s.ipc, &s.pid]
        .into_iter()
        .flatten()
        .filter_map(|mode| mode.strip_prefix("service:"))
        .map(|n| (n.to_owned(), true));
    let from_volumes = s
        .volumes_from
        .iter()
        .filter(|v| !v.starts_with("container:"))
        .map(|v| (v.split(':').next().unwrap_or_default().to_owned(), false));
    let found: Vec<(String, bool)> = from_modes
        .chain(from_volumes)
        .filter(|(n, _)| known(n))
        .collect();
    for (name, restart) in found {
        s.depends_on.entry(name).or_insert(Dependency {
            condition: Condition::ServiceStarted,
            restart,
            required: true,
        });
    }
}

/// `develop` as written, each watch rule's `path` made absolute.
fn develop(ctx: &Ctx, v: &Tree) -> Tree {
    let mut develop = v.clone();
    if let Some(Tree::Array(rules)) = develop.get_mut("watch") {
        for rule in rules {
            if let Some(Tree::String(path)) = rule.get_mut("path") {
                *path = ctx.absolute(path).display().to_string();
            }
        }
    }
    develop
}

/// `gpus: all`, or a list of `{driver, count, device_ids, capabilities, options}`.
fn gpus(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Vec<GpuRequest> {
    match v {
        Tree::String(s) if s == "all" => vec![GpuRequest {
            count: Some(-1),
            ..GpuRequest::default()
        }],
        Tree::Array(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let p = path.index(i);
                let m = ctx.object(item, &p)?;
                let mut g = GpuRequest::default();
                for (k, val) in m {
                    let kp = p.key(k);
                    match k.as_str() {
                        "driver" => g.driver = ctx.string(val, &kp),
                        "count" => {
                            g.count = match val {
                                Tree::String(s) if s == "all" => Some(-1),
                                other => ctx.int(other, &kp),
                            }
                        }
                        "device_ids" => g.device_ids = ctx.strings(val, &kp, false),
                        "capabilities" => g.capabilities = ctx.strings(val, &kp, false),
                        "options" => g.options = ctx.labels(val, &kp),
                        other => ctx.warn(&kp, format!("unknown key {other:?}; ignored")),
                    }
                }
                Some(g)
            })
            .collect(),
        other => {
            ctx.expected(path, "all or a list of GPU requests", other);
            Vec::new()
        }
    }
}

/// `blkio_config`: a weight, per-device weights, and per-device rate limits.
fn blkio_config(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<Blkio> {
    let m = ctx.object(v, path)?;
    let mut b = Blkio::default();
    for (k, val) in m {
        let p = path.key(k);
        // Each entry: `path` and `key` (a size for the byte rates, else a number).
        let entries = |ctx: &mut Ctx, key: &str, bytes: bool| -> Vec<(String, i64)> {
            let Tree::Array(items) = val else {
                ctx.expected(&p, "a list of devices", val);
                return Vec::new();
            };
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let ip = p.index(i);
                let Some(d) = ctx.object(item, &ip) else {
                    continue;
                };
                let (Some(Tree::String(device)), Some(value)) = (d.get("path"), d.get(key)) else {
                    ctx.error(&ip, format!("a device needs path and {key}"));
                    continue;
                };
                let value = if bytes {
                    ctx.bytes(value, &ip.key(key))
                } else {
                    ctx.int(value, &ip.key(key))
                };
                if let Some(value) = value {
                    out.push((device.clone(), value));
                }
            }
            out
        };
        let rates = |pairs: Vec<(String, i64)>| -> Vec<BlkioDevice> {
            pairs
                .into_iter()
                .map(|(path, rate)| BlkioDevice { path, rate })
                .collect()
        };
        match k.as_str() {
            "weight" => b.weight = ctx.int(val, &p),
            "weight_device" => {
                b.weight_device = entries(ctx, "weight", false)
                    .into_iter()
                    .map(|(path, weight)| BlkioWeight { path, weight })
                    .collect()
            }
            "device_read_bps" => b.device_read_bps = rates(entries(ctx, "rate", true)),
            "device_write_bps" => b.device_write_bps = rates(entries(ctx, "rate", true)),
            "device_read_iops" => b.device_read_iops = rates(entries(ctx, "rate", false)),
            "device_write_iops" => b.device_write_iops = rates(entries(ctx, "rate", false)),
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    Some(b)
}

fn logging(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<Logging> {
    let m = ctx.object(v, path)?;
    let mut l = Logging::default();
    for (k, val) in m {
        let p = path.key(k);
        match k.as_str() {
            "driver" => l.driver = ctx.string(val, &p),
            "options" => l.options = ctx.labels(val, &p),
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    Some(l)
}

fn ulimits(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> BTreeMap<String, Ulimit> {
    let mut out = BTreeMap::new();
    let Some(m) = ctx.object(v, path) else {
        return out;
    };
    for (name, val) in m {
        let p = path.key(name);
        let limit = match val {
            Tree::Object(pair) => {
                let soft = pair.get("soft").and_then(|s| ctx.int(s, &p.key("soft")));
                let hard = pair.get("hard").and_then(|h| ctx.int(h, &p.key("hard")));
                match (soft, hard) {
                    (Some(soft), Some(hard)) => Some(Ulimit { soft, hard }),
                    _ => {
                        ctx.error(&p, "a ulimit needs soft and hard (or one number)");
                        None
                    }
                }
            }
            single => ctx.int(single, &p).map(|n| Ulimit { soft: n, hard: n }),
        };
        if let Some(limit) = limit {
            out.insert(name.clone(), limit);
        }
    }
    out
}

fn cpus(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<f64> {
    let cpus = match v {
        Tree::Number(n) => n.as_f64(),
        Tree::String(s) => s.parse().ok(),
        _ => None,
    };
    if cpus.is_none_or(|c| c < 0.0) {
        ctx.error(path, "cpus must be a number of CPUs, e.g. 0.5");
        return None;
    }
    cpus
}

/// `devices`: `HOST[:CONTAINER[:PERMISSIONS]]` strings or `{source, target, permissions}`.
fn devices(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Vec<Device> {
    let Tree::Array(items) = v else {
        ctx.expected(path, "a list of devices", v);
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let device = match item {
            Tree::String(spec) => {
                let parts: Vec<&str> = spec.split(':').collect();
                match parts.as_slice() {
                    [source] => Some((*source, *source, "rwm")),
                    [source, target] => Some((*source, *target, "rwm")),
                    [source, target, perms] => Some((*source, *target, *perms)),
                    _ => None,
                }
                .map(|(s, t, perms)| Device {
                    source: s.to_owned(),
                    target: t.to_owned(),
                    permissions: perms.to_owned(),
                })
            }
            Tree::Object(m) => m.get("source").and_then(Tree::as_str).map(|source| Device {
                source: source.to_owned(),
                target: m
                    .get("target")
                    .and_then(Tree::as_str)
                    .unwrap_or(source)
                    .to_owned(),
                permissions: m
                    .get("permissions")
                    .and_then(Tree::as_str)
                    .unwrap_or("rwm")
                    .to_owned(),
            }),
            _ => None,
        };
        match device {
            Some(d) if d.permissions.chars().all(|c| "rwm".contains(c)) => out.push(d),
            _ => ctx.error(
                &p,
                "expected HOST[:CONTAINER[:PERMISSIONS]], permissions of r, w, m",
            ),
        }
    }
    out
}

fn check_image(ctx: &mut Ctx, image: &str, path: &DocPath) {
    if image.is_empty() || image.chars().any(char::is_whitespace) {
        ctx.error(path, format!("{image:?} is not an image reference"));
    }
}

fn valid_expose(e: &str) -> bool {
    let ports = e.split_once('/').map_or(e, |(p, proto)| {
        if matches!(proto, "tcp" | "udp" | "sctp") {
            p
        } else {
            ""
        }
    });
    let ok = |p: &str| p.parse::<u16>().is_ok_and(|n| n > 0);
    match ports.split_once('-') {
        Some((a, b)) => ok(a) && ok(b),
        None => ok(ports),
    }
}

fn build(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<Build> {
    let mut b = Build {
        dockerfile: "Dockerfile".into(),
        ..Build::default()
    };
    let mut context = ".".to_owned();
    match v {
        Tree::String(s) => context = s.clone(),
        Tree::Object(m) => {
            for (k, val) in m {
                let p = path.key(k);
                match k.as_str() {
                    "context" => context = ctx.string(val, &p).unwrap_or(context),
                    "dockerfile" => b.dockerfile = ctx.string(val, &p).unwrap_or(b.dockerfile),
                    "args" => b.args = ctx.vars(val, &p),
                    "target" => b.target = ctx.string(val, &p),
                    "labels" => b.labels = ctx.labels(val, &p),
                    x if x.starts_with("x-") => {}
                    "cache_from"
                    | "cache_to"
                    | "network"
                    | "shm_size"
                    | "ssh"
                    | "secrets"
                    | "platforms"
                    | "tags"
                    | "extra_hosts"
                    | "no_cache"
                    | "pull"
                    | "additional_contexts"
                    | "dockerfile_inline"
                    | "isolation"
                    | "privileged"
                    | "ulimits"
                    | "entitlements"
                    | "provenance"
                    | "sbom" => {
                        ctx.warn(
                            &p,
                            format!("build.{k} is not supported by this orchestrator yet; ignored"),
                        );
                        b.unapplied.insert(k.clone(), val.clone());
                    }
                    other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
                }
            }
        }
        other => {
            ctx.expected(path, "a path or a mapping", other);
            return None;
        }
    }
    b.context = if super::extends::is_remote(&context) {
        PathBuf::from(&context)
    } else {
        let dir = ctx.absolute(&context);
        if !dir.is_dir() {
            ctx.error(
                &path.key("context"),
                format!("the build context {} is not a directory", dir.display()),
            );
        }
        dir
    };
    // `args: [NAME]` takes the shell's value.
    for (name, value) in b.args.iter_mut() {
        if value.is_none() {
            *value = ctx.env.get(name);
        }
    }
    Some(b)
}

fn env_file_list(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Vec<(PathBuf, bool, DocPath)> {
    let items: Vec<(usize, &Tree)> = match v {
        Tree::Array(items) => items.iter().enumerate().collect(),
        single => vec![(0, single)],
    };
    let mut out = Vec::new();
    for (i, item) in items {
        let p = if v.is_array() {
            path.index(i)
        } else {
            path.clone()
        };
        match item {
            Tree::String(s) => out.push((ctx.absolute(s), true, p)),
            Tree::Object(m) => {
                let Some(file) = m.get("path").and_then(Tree::as_str) else {
                    ctx.error(&p, "an env_file entry needs a path");
                    continue;
                };
                let required = match m.get("required") {
                    Some(r) => ctx.bool(r, &p.key("required")).unwrap_or(true),
                    None => true,
                };
                out.push((ctx.absolute(file), required, p));
            }
            other => ctx.expected(&p, "a path", other),
        }
    }
    out
}

fn port_list(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Vec<Port> {
    let Tree::Array(items) = v else {
        ctx.expected(path, "a list of ports", v);
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match ports::parse(item) {
            Ok(p) => out.extend(p),
            Err(e) => ctx.error(&path.index(i), e),
        }
    }
    out
}

fn mounts(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Vec<Mount> {
    let Tree::Array(items) = v else {
        ctx.expected(path, "a list of volumes", v);
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let mount = match item {
            Tree::String(s) => short_mount(ctx, s),
            Tree::Object(m) => long_mount(ctx, m),
            other => Err(format!(
                "expected a string or a mapping, got {}",
                kind(other)
            )),
        };
        match mount {
            Ok(m) if !m.target.starts_with('/') => ctx.error(
                &p,
                format!("the container path {:?} must be absolute", m.target),
            ),
            Ok(m) => {
                if out.iter().any(|o: &Mount| o.target == m.target) {
                    ctx.error(&p, format!("{} is mounted twice", m.target));
                }
                out.push(m)
            }
            Err(e) => ctx.error(&p, e),
        }
    }
    out
}

fn is_host_path(source: &str) -> bool {
    source.starts_with('/') || source.starts_with('.') || source.starts_with('~')
}

fn short_mount(ctx: &mut Ctx, spec: &str) -> Result<Mount, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, ""),
        [source, target] => (Some(*source), *target, ""),
        [source, target, mode] => (Some(*source), *target, *mode),
        _ => {
            return Err(format!(
                "bad volume spec {spec:?}: expected [SOURCE:]TARGET[:MODE]"
            ))
        }
    };
    let mut read_only = false;
    for option in mode.split(',').filter(|o| !o.is_empty()) {
        match option {
            "ro" => read_only = true,
            "rw" | "z" | "Z" | "nocopy" | "consistent" | "cached" | "delegated" | "shared"
            | "slave" | "private" | "rshared" | "rslave" | "rprivate" => {}
            other => return Err(format!("bad volume spec {spec:?}: unknown mode {other:?}")),
        }
    }
    Ok(match source {
        None => Mount {
            kind: MountKind::Volume,
            source: None,
            target: container_path(target),
            read_only,
            bind: None,
        },
        Some("") => return Err(format!("bad volume spec {spec:?}: empty source")),
        Some(s) if is_host_path(s) => Mount {
            kind: MountKind::Bind,
            source: Some(ctx.absolute(s).display().to_string()),
            target: container_path(target),
            read_only,
            // The short syntax creates a missing host folder, as `docker run -v` does.
            bind: Some(BindOptions {
                create_host_path: true,
            }),
        },
        Some(s) => Mount {
            kind: MountKind::Volume,
            source: Some(s.to_owned()),
            target: container_path(target),
            read_only,
            bind: None,
        },
    })
}

fn long_mount(ctx: &mut Ctx, m: &Map<String, Tree>) -> Result<Mount, String> {
    let kind = match m.get("type").and_then(Tree::as_str) {
        Some("volume") => MountKind::Volume,
        Some("bind") => MountKind::Bind,
        Some("tmpfs") => MountKind::Tmpfs,
        Some(other) => {
            return Err(format!(
                "unknown volume type {other:?} (volume, bind or tmpfs)"
            ))
        }
        None => return Err("a long-syntax volume needs a type".into()),
    };
    let target = m
        .get("target")
        .and_then(Tree::as_str)
        .map(container_path)
        .ok_or("a long-syntax volume needs a target")?;
    let source = m.get("source").and_then(Tree::as_str).map(str::to_owned);
    let source = match (kind, source) {
        (MountKind::Bind, None) => return Err("a bind mount needs a source".into()),
        (MountKind::Bind, Some(s)) => Some(ctx.absolute(&s).display().to_string()),
        (MountKind::Tmpfs, _) => None,
        (MountKind::Volume, s) => s.filter(|s| !s.is_empty()),
    };
    let read_only = matches!(m.get("read_only"), Some(Tree::Bool(true)));
    let bind = match m.get("bind") {
        Some(Tree::Object(options)) => Some(BindOptions {
            create_host_path: matches!(options.get("create_host_path"), Some(Tree::Bool(true))),
        }),
        _ => None,
    };
    Ok(Mount {
        kind,
        source,
        target,
        read_only,
        bind,
    })
}

fn service_networks(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> BTreeMap<String, ServiceNetwork> {
    let mut out = BTreeMap::new();
    match v {
        Tree::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(name) = ctx.string(item, &path.index(i)) {
                    out.insert(name, ServiceNetwork::default());
                }
            }
        }
        Tree::Object(m) => {
            for (name, body) in m {
                let p = path.key(name);
                let mut net = ServiceNetwork::default();
                if let Tree::Object(opts) = body {
                    for (k, val) in opts {
                        match k.as_str() {
                            "aliases" => net.aliases = ctx.strings(val, &p.key(k), false),
                            "ipv4_address" => net.ipv4_address = ctx.string(val, &p.key(k)),
                            "ipv6_address" | "link_local_ips" | "priority" | "mac_address"
                            | "driver_opts" | "gw_priority" | "interface_name" => {
                                ctx.warn(&p.key(k), format!("{k} is not supported yet; ignored"))
                            }
                            other => ctx.warn(&p.key(k), format!("unknown key {other:?}; ignored")),
                        }
                    }
                } else if !body.is_null() {
                    ctx.expected(&p, "a mapping", body);
                }
                out.insert(name.clone(), net);
            }
        }
        other => ctx.expected(path, "a list or a mapping of networks", other),
    }
    out
}

fn depends_on(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> BTreeMap<String, Dependency> {
    let started = || Dependency {
        condition: Condition::ServiceStarted,
        restart: false,
        required: true,
    };
    let mut out = BTreeMap::new();
    match v {
        Tree::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(name) = ctx.string(item, &path.index(i)) {
                    out.insert(name, started());
                }
            }
        }
        Tree::Object(m) => {
            for (name, body) in m {
                let p = path.key(name);
                let mut dep = started();
                if let Tree::Object(opts) = body {
                    for (k, val) in opts {
                        let kp = p.key(k);
                        match k.as_str() {
                            "condition" => match val.as_str() {
                                Some("service_started") => dep.condition = Condition::ServiceStarted,
                                Some("service_healthy") => dep.condition = Condition::ServiceHealthy,
                                Some("service_completed_successfully") => {
                                    dep.condition = Condition::ServiceCompletedSuccessfully
                                }
                                _ => ctx.error(&kp, "condition must be service_started, service_healthy or service_completed_successfully"),
                            },
                            "restart" => dep.restart = ctx.bool(val, &kp).unwrap_or(false),
                            "required" => dep.required = ctx.bool(val, &kp).unwrap_or(true),
                            other => ctx.warn(&kp, format!("unknown key {other:?}; ignored")),
                        }
                    }
                } else if !body.is_null() {
                    ctx.expected(&p, "a mapping", body);
                }
                out.insert(name.clone(), dep);
            }
        }
        other => ctx.expected(path, "a list or a mapping of services", other),
    }
    out
}

fn healthcheck(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<Healthcheck> {
    let m = ctx.object(v, path)?;
    let mut h = Healthcheck {
        test: Vec::new(),
        interval: None,
        timeout: None,
        retries: None,
        start_period: None,
        start_interval: None,
    };
    let mut disable = false;
    for (k, val) in m {
        let p = path.key(k);
        match k.as_str() {
            "test" => {
                h.test = match val {
                    Tree::String(s) => vec!["CMD-SHELL".into(), s.clone()],
                    Tree::Array(_) => {
                        let words = ctx.strings(val, &p, false);
                        if !matches!(
                            words.first().map(String::as_str),
                            Some("CMD" | "CMD-SHELL" | "NONE")
                        ) {
                            ctx.error(&p, "a test list starts with CMD, CMD-SHELL or NONE");
                        }
                        words
                    }
                    other => {
                        ctx.expected(&p, "a string or a list", other);
                        Vec::new()
                    }
                }
            }
            "interval" => h.interval = ctx.duration(val, &p),
            "timeout" => h.timeout = ctx.duration(val, &p),
            "start_period" => h.start_period = ctx.duration(val, &p),
            "start_interval" => h.start_interval = ctx.duration(val, &p),
            "retries" => h.retries = ctx.uint(val, &p).map(|n| n as u32),
            "disable" => disable = ctx.bool(val, &p).unwrap_or(false),
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    if disable {
        h.test = vec!["NONE".into()];
    } else if h.test.is_empty() {
        ctx.error(path, "a healthcheck needs a test (or disable: true)");
    }
    Some(h)
}

fn restart(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<String> {
    let policy = match v {
        // `restart: ""` reads as `no`, as in Compose.
        Tree::Bool(false) => "no".to_owned(),
        Tree::String(s) if s.is_empty() => "no".to_owned(),
        other => ctx.string(other, path)?,
    };
    let valid = match policy.split_once(':') {
        Some(("on-failure", n)) => n.parse::<u32>().is_ok(),
        Some(_) => false,
        None => matches!(
            policy.as_str(),
            "no" | "always" | "on-failure" | "unless-stopped"
        ),
    };
    if !valid {
        ctx.error(
            path,
            format!(
                "{policy:?} is not a restart policy (no, always, on-failure[:N], unless-stopped)"
            ),
        );
        return None;
    }
    Some(policy)
}

fn pull_policy(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<String> {
    let policy = ctx.string(v, path)?;
    match policy.as_str() {
        "always" | "never" | "missing" | "build" | "daily" | "weekly" => Some(policy),
        "if_not_present" => Some("missing".into()),
        other => {
            ctx.error(
                path,
                format!("{other:?} is not a pull policy (always, never, missing, build)"),
            );
            None
        }
    }
}

fn deploy(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<Deploy> {
    let m = ctx.object(v, path)?;
    let mut d = Deploy::default();
    for (k, val) in m {
        let p = path.key(k);
        match k.as_str() {
            "replicas" => d.replicas = ctx.uint(val, &p).map(|n| n as u32),
            "resources" => {
                if let Some(r) = ctx.object(val, &p) {
                    for (rk, rv) in r {
                        let rp = p.key(rk);
                        match rk.as_str() {
                            "limits" => d.resources.limits = resource_set(ctx, rv, &rp),
                            "reservations" => d.resources.reservations = resource_set(ctx, rv, &rp),
                            other => ctx.warn(&rp, format!("unknown key {other:?}; ignored")),
                        }
                    }
                }
            }
            "restart_policy" => {
                d.restart_policy = deploy_restart_policy(ctx, val, &p);
                d.swarm.insert(k.clone(), val.clone());
            }
            // How up replaces the service's containers (project::update); Swarm reads it too.
            "update_config" => {
                d.swarm.insert(k.clone(), val.clone());
            }
            "mode" | "placement" | "rollback_config" | "labels" | "endpoint_mode" => {
                d.swarm.insert(k.clone(), val.clone());
                ctx.warn(
                    &p,
                    format!("deploy.{k} applies to Swarm mode only; ignored on a single engine"),
                )
            }
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    Some(d)
}

fn deploy_restart_policy(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<DeployRestartPolicy> {
    let m = ctx.object(v, path)?;
    let mut r = DeployRestartPolicy::default();
    for (k, val) in m {
        let p = path.key(k);
        match k.as_str() {
            "condition" => {
                r.condition = ctx.string(val, &p);
                if !matches!(r.condition.as_deref(), Some("none" | "on-failure" | "any")) {
                    ctx.error(&p, "condition must be none, on-failure or any");
                }
            }
            "delay" => r.delay = ctx.duration(val, &p),
            "max_attempts" => r.max_attempts = ctx.uint(val, &p),
            "window" => r.window = ctx.duration(val, &p),
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    Some(r)
}

fn resource_set(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Option<ResourceSet> {
    let m = ctx.object(v, path)?;
    let mut r = ResourceSet::default();
    for (k, val) in m {
        let p = path.key(k);
        match k.as_str() {
            "cpus" => {
                r.cpus = match val {
                    Tree::Number(n) => n.as_f64(),
                    Tree::String(s) => s.parse().ok(),
                    _ => None,
                };
                if r.cpus.is_none_or(|c| c <= 0.0) {
                    ctx.error(&p, "cpus must be a positive number, e.g. 0.5");
                }
            }
            "memory" => {
                let text = ctx.scalar(val, &p);
                r.memory = text.and_then(|t| parse_bytes(&t).map_err(|e| ctx.error(&p, e)).ok());
            }
            "pids" => r.pids = ctx.uint(val, &p).map(|n| n as i64),
            "devices" | "generic_resources" => {
                ctx.warn(&p, format!("{k} is not supported yet; ignored"))
            }
            other => ctx.warn(&p, format!("unknown key {other:?}; ignored")),
        }
    }
    Some(r)
}

fn extra_hosts(ctx: &mut Ctx, v: &Tree, path: &DocPath) -> Vec<String> {
    let pairs: Vec<(String, String, DocPath)> = match v {
        Tree::Object(m) => m
            .iter()
            .filter_map(|(host, ip)| {
                let p = path.key(host);
                ctx.scalar(ip, &p).map(|ip| (host.clone(), ip, p))
            })
            .collect(),
        Tree::Array(_) => ctx
            .strings(v, path, false)
            .into_iter()
            .enumerate()
            .filter_map(|(i, entry)| {
                let split = entry.split_once('=').or_else(|| entry.split_once(':'));
                match split {
                    Some((h, ip)) => Some((h.to_owned(), ip.to_owned(), path.index(i))),
                    None => {
                        ctx.error(&path.index(i), format!("{entry:?} is not HOST=IP"));
                        None
                    }
                }
            })
            .collect(),
        other => {
            ctx.expected(path, "a list or a mapping", other);
            Vec::new()
        }
    };
    pairs
        .into_iter()
        .filter_map(|(host, ip, p)| {
            let ip = ip.trim_start_matches('[').trim_end_matches(']').to_owned();
            if ip != "host-gateway" && ip.parse::<std::net::IpAddr>().is_err() {
                ctx.error(&p, format!("{ip:?} is not an IP address"));
                return None;
            }
            Some(format!("{host}:{ip}"))
        })
        .collect()
}

/// A service's `secrets` or `configs`: names, or `{source, target, uid, gid, mode}`. A
/// secret's relative target (or none) is under `secret_dir`, as Compose writes it.
fn object_refs(
    ctx: &mut Ctx,
    v: &Tree,
    path: &DocPath,
    secret_dir: Option<&str>,
) -> Vec<ObjectRef> {
    let Tree::Array(items) = v else {
        ctx.expected(path, "a list", v);
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let mut r = match item {
            Tree::String(s) => ObjectRef {
                source: s.clone(),
                ..ObjectRef::default()
            },
            Tree::Object(m) => {
                let Some(source) = m.get("source").and_then(Tree::as_str) else {
                    ctx.error(&p, "needs a source");
                    continue;
                };
                let mut r = ObjectRef {
                    source: source.to_owned(),
                    ..ObjectRef::default()
                };
                for (k, val) in m {
                    let kp = p.key(k);
                    match k.as_str() {
                        "source" => {}
                        "target" => r.target = ctx.string(val, &kp),
                        "uid" => r.uid = ctx.scalar(val, &kp),
                        "gid" => r.gid = ctx.scalar(val, &kp),
                        "mode" => r.mode = ctx.uint(val, &kp).map(|n| n as u32),
                        other => ctx.warn(&kp, format!("unknown key {other:?}; ignored")),
                    }
                }
                r
            }
            other => {
                ctx.expected(&p, "a name or a mapping", other);
                continue;
            }
        };
        if let Some(dir) = secret_dir {
            let target = r.target.take().unwrap_or_else(|| r.source.clone());
            r.target = Some(if target.starts_with('/') {
                target
            } else {
                format!("{dir}/{target}")
            });
        }
        out.push(r);
    }
    out
}
