//! `extends`: a service built on another one, from the same file or another, as compose-go's
//! `loader/extends.go` does it. The base is resolved first (chains are followed to their end),
//! then the extending service is merged over it by the same rules as `-f a -f b`. A base taken
//! from another file has its relative paths made absolute against that file's folder, so
//! `build: .` there still means that folder. A chain that comes back to itself is an error that
//! shows the whole chain.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Tree};

use super::{
    diag::{Diagnostic, DocPath},
    env::Environment,
    merge, normalize,
};

/// One link of an `extends` chain: a service in a file.
type Link = (PathBuf, String);

/// Resolves the `extends` of every service of `tree`, the document read from `file`.
pub fn apply(tree: &mut Tree, file: &Path, env: &Environment, diagnostics: &mut Vec<Diagnostic>) {
    let Some(Tree::Object(services)) = tree.get("services") else {
        return;
    };
    let services = services.clone();
    let mut resolved = Map::new();
    for name in services.keys() {
        let mut chain = Vec::new();
        match resolve(&services, name, file, env, &mut chain, diagnostics) {
            Ok(service) => {
                resolved.insert(name.clone(), service);
            }
            Err(mut d) => {
                if d.file.is_none() {
                    d.file = Some(file.to_path_buf());
                }
                diagnostics.push(d);
                let mut service = services[name].clone();
                if let Tree::Object(m) = &mut service {
                    m.remove("extends");
                }
                resolved.insert(name.clone(), service);
            }
        }
    }
    tree["services"] = Tree::Object(resolved);
}

/// The service `name` of `services` (read from `file`) with its `extends` resolved.
fn resolve(
    services: &Map<String, Tree>,
    name: &str,
    file: &Path,
    env: &Environment,
    chain: &mut Vec<Link>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Tree, Diagnostic> {
    let service = services.get(name).cloned().unwrap_or(Tree::Null);
    let Some(extends) = service.get("extends") else {
        return Ok(service);
    };
    let path = DocPath::root().key("services").key(name).key("extends");
    let error = |message: String| {
        let mut d = Diagnostic::error(path.clone(), message);
        d.file = Some(file.to_path_buf());
        d
    };
    let (base_name, base_file) = match extends {
        Tree::String(s) => (s.clone(), None),
        Tree::Object(m) => match m.get("service") {
            Some(Tree::String(s)) => (
                s.clone(),
                m.get("file").and_then(Tree::as_str).map(str::to_owned),
            ),
            _ => return Err(error("extends needs a service".into())),
        },
        _ => {
            return Err(error(
                "expected a service name or a mapping with service (and file)".into(),
            ))
        }
    };
    let link = (file.to_path_buf(), name.to_owned());
    if chain.contains(&link) {
        return Err(error(format!(
            "extends makes a cycle: {}",
            show_chain(chain, &link)
        )));
    }
    chain.push(link);
    let base = match base_file {
        None => {
            if !services.contains_key(&base_name) {
                return Err(error(format!("extends an unknown service {base_name:?}")));
            }
            resolve(services, &base_name, file, env, chain, diagnostics)?
        }
        Some(other) => {
            let dir = file.parent().unwrap_or(Path::new(""));
            let other = normalize::clean(&dir.join(other));
            let Some(source) = super::read_source(&other, env, diagnostics) else {
                return Err(error(format!("cannot extend from {}", other.display())));
            };
            let Some(Tree::Object(other_services)) = source.tree.get("services") else {
                return Err(error(format!("{} has no services", other.display())));
            };
            if !other_services.contains_key(&base_name) {
                return Err(error(format!(
                    "{} has no service {base_name:?} to extend",
                    other.display()
                )));
            }
            let mut base = resolve(other_services, &base_name, &other, env, chain, diagnostics)?;
            resolve_service_paths(&mut base, other.parent().unwrap_or(Path::new("")));
            base
        }
    };
    chain.pop();
    let mut merged = base;
    merge::canonicalize_service(&mut merged);
    let mut over = service;
    merge::canonicalize_service(&mut over);
    if let Tree::Object(m) = &mut over {
        m.remove("extends");
    }
    if merged.is_null() {
        merged = Tree::Object(Map::new());
    }
    merge::merge_service(&mut merged, over);
    Ok(merged)
}

/// `web (compose.yaml) -> base (base.yaml) -> web (compose.yaml)`.
fn show_chain(chain: &[Link], back: &Link) -> String {
    chain
        .iter()
        .chain(std::iter::once(back))
        .map(|(file, name)| {
            let file = file.file_name().unwrap_or_default().to_string_lossy();
            format!("{name} ({file})")
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// True for a build context that is not a folder (a URL or a Git remote).
pub fn is_remote(context: &str) -> bool {
    ["http://", "https://", "git://", "git@", "github.com/"]
        .iter()
        .any(|prefix| context.starts_with(prefix))
}

/// Makes the relative paths of one service absolute against `dir`: its build context, env
/// files and bind mounts (what compose-go's `paths.ResolveRelativePaths` covers).
pub fn resolve_service_paths(service: &mut Tree, dir: &Path) {
    let Tree::Object(m) = service else { return };
    let absolute = |p: &str| normalize::clean(&dir.join(p)).display().to_string();
    match m.get_mut("build") {
        Some(Tree::String(context)) if !is_remote(context) => *context = absolute(context),
        Some(Tree::Object(build)) => match build.get_mut("context") {
            Some(Tree::String(context)) if !is_remote(context) => *context = absolute(context),
            Some(_) => {}
            None => {
                build.insert("context".into(), Tree::String(absolute(".")));
            }
        },
        _ => {}
    }
    match m.get_mut("env_file") {
        Some(Tree::String(f)) => *f = absolute(f),
        Some(Tree::Array(items)) => {
            for item in items {
                match item {
                    Tree::String(f) => *f = absolute(f),
                    Tree::Object(e) => {
                        if let Some(Tree::String(f)) = e.get_mut("path") {
                            *f = absolute(f);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if let Some(Tree::Array(volumes)) = m.get_mut("volumes") {
        for v in volumes {
            match v {
                Tree::String(spec) => {
                    if let Some((source, rest)) = spec.split_once(':') {
                        if source.starts_with('.') {
                            *spec = format!("{}:{rest}", absolute(source));
                        }
                    }
                }
                Tree::Object(long) => {
                    let bind = long.get("type").and_then(Tree::as_str) == Some("bind");
                    if let (true, Some(Tree::String(source))) = (bind, long.get_mut("source")) {
                        if !source.starts_with('/') && !source.starts_with('~') {
                            *source = absolute(source);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Makes every relative path of a whole document absolute against `dir`: each service's, and
/// the files of secrets and configs.
pub fn resolve_document_paths(tree: &mut Tree, dir: &Path) {
    if let Some(Tree::Object(services)) = tree.get_mut("services") {
        services
            .values_mut()
            .for_each(|s| resolve_service_paths(s, dir));
    }
    for section in ["secrets", "configs"] {
        if let Some(Tree::Object(objects)) = tree.get_mut(section) {
            for object in objects.values_mut() {
                if let Some(Tree::String(f)) = object.get_mut("file") {
                    *f = normalize::clean(&dir.join(&*f)).display().to_string();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn extended(doc: Tree) -> (Tree, Vec<Diagnostic>) {
        let mut doc = doc;
        let mut diagnostics = Vec::new();
        apply(
            &mut doc,
            Path::new("/p/compose.yaml"),
            &Environment::default(),
            &mut diagnostics,
        );
        (doc, diagnostics)
    }

    #[test]
    fn a_chain_in_one_file_merges_by_the_override_rules() {
        let (doc, diags) = extended(json!({"services": {
            "base": {"image": "a", "environment": ["A=1"], "ports": ["80:80"], "command": ["x"]},
            "mid": {"extends": "base", "environment": {"B": "2"}},
            "web": {"extends": {"service": "mid"}, "ports": ["81:81"], "command": "y"},
        }}));
        assert!(diags.is_empty(), "{diags:?}");
        let web = &doc["services"]["web"];
        assert_eq!(web["image"], "a");
        assert_eq!(web["environment"], json!({"A": "1", "B": "2"}));
        assert_eq!(web["ports"], json!(["80:80", "81:81"]));
        assert_eq!(web["command"], "y");
        assert!(web.get("extends").is_none());
    }

    #[test]
    fn a_cycle_is_reported_with_its_chain() {
        let (_, diags) = extended(json!({"services": {
            "a": {"extends": "b", "image": "x"},
            "b": {"extends": "a"},
        }}));
        let message = diags[0].to_string();
        assert!(
            message.contains("a (compose.yaml) -> b (compose.yaml) -> a (compose.yaml)"),
            "{message}"
        );
    }

    #[test]
    fn an_unknown_base_is_an_error_at_the_extends_key() {
        let (_, diags) = extended(json!({"services": {"a": {"extends": "nope"}}}));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].path.to_string(), "services.a.extends");
    }

    #[test]
    fn relative_paths_are_made_absolute() {
        let mut s = json!({"build": {"dockerfile": "D"}, "env_file": ["a.env", {"path": "../b.env"}],
                           "volumes": ["./src:/src", "data:/data", {"type": "bind", "source": "x", "target": "/x"}]});
        resolve_service_paths(&mut s, Path::new("/base/dir"));
        assert_eq!(s["build"]["context"], "/base/dir");
        assert_eq!(
            s["env_file"],
            json!(["/base/dir/a.env", {"path": "/base/b.env"}])
        );
        assert_eq!(s["volumes"][0], "/base/dir/src:/src");
        assert_eq!(s["volumes"][1], "data:/data");
        assert_eq!(s["volumes"][2]["source"], "/base/dir/x");
    }
}
