//! Merging `-f a.yml -f b.yml`, by Compose's rules: mappings merge key by key, scalars and most
//! lists are replaced by the later file, and some lists combine: ports by (host IP, published
//! port, target, protocol), volumes by their target, and the lists of names (`expose`,
//! `cap_add`, `dns`, ...) by value.
//!
//! Fields that may be a list or a mapping (`environment`, `labels`, `depends_on`, `networks`,
//! `build`, `extra_hosts`) are brought to their mapping form first, so both forms merge alike.

use serde_json::{Map, Value as Tree};

use super::{normalize, ports};

/// Brings one service's list-or-mapping fields to mapping form, in place.
pub fn canonicalize_service(service: &mut Tree) {
    let Tree::Object(map) = service else { return };
    for key in ["environment", "labels"] {
        if let Some(v) = map.get_mut(key) {
            list_to_map(v, '=');
        }
    }
    if let Some(Tree::Object(build)) = map.get_mut("build") {
        if let Some(args) = build.get_mut("args") {
            list_to_map(args, '=');
        }
    }
    if let Some(Tree::String(context)) = map.get("build").cloned().as_ref() {
        let mut build = Map::new();
        build.insert("context".into(), Tree::String(context.clone()));
        map.insert("build".into(), Tree::Object(build));
    }
    for key in ["depends_on", "networks"] {
        if let Some(Tree::Array(items)) = map.get(key) {
            if items.iter().all(Tree::is_string) {
                let as_map: Map<String, Tree> = items
                    .iter()
                    .filter_map(|i| i.as_str().map(|s| (s.to_owned(), Tree::Null)))
                    .collect();
                map.insert(key.into(), Tree::Object(as_map));
            }
        }
    }
}

/// Turns `["A=1", "B"]` into `{A: "1", B: null}`; leaves anything else alone.
fn list_to_map(value: &mut Tree, separator: char) {
    let Tree::Array(items) = value else { return };
    if !items.iter().all(Tree::is_string) {
        return;
    }
    let map: Map<String, Tree> = items
        .iter()
        .filter_map(Tree::as_str)
        .map(|item| match item.split_once(separator) {
            Some((k, v)) => (k.to_owned(), Tree::String(v.to_owned())),
            None => (item.to_owned(), Tree::Null),
        })
        .collect();
    *value = Tree::Object(map);
}

/// Lists whose later entries are added to the earlier ones, each value once.
const UNION_LISTS: &[&str] = &[
    "expose",
    "cap_add",
    "cap_drop",
    "dns",
    "dns_search",
    "external_links",
    "extra_hosts",
    "links",
    "profiles",
    "security_opt",
    "volumes_from",
    "env_file",
    "devices",
    "group_add",
    "tmpfs",
];

/// `!reset`: the later file removes what earlier ones set for this key.
pub const RESET: &str = "!reset";
/// `!override`: the later file's value replaces the earlier one whole, without merging.
pub const OVERRIDE: &str = "!override";

/// The tree form of a `!reset` or `!override` tag: a mapping of the tag to its value.
pub fn marker(tag: &str, value: Tree) -> Tree {
    let mut m = Map::new();
    m.insert(tag.to_owned(), value);
    Tree::Object(m)
}

/// The tag and value of a marker.
fn as_marker(value: &Tree) -> Option<(&str, &Tree)> {
    match value {
        Tree::Object(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            [RESET, OVERRIDE]
                .contains(&k.as_str())
                .then_some((k.as_str(), v))
        }
        _ => None,
    }
}

/// Resolves the markers no merge consumed: a `!reset` key is removed, an `!override` value
/// is the value itself.
pub fn strip_markers(tree: &mut Tree) {
    match tree {
        Tree::Object(m) => {
            m.retain(|_, v| as_marker(v).is_none_or(|(tag, _)| tag != RESET));
            for v in m.values_mut() {
                if let Some((_, inner)) = as_marker(v) {
                    *v = inner.clone();
                }
                strip_markers(v);
            }
        }
        Tree::Array(items) => items.iter_mut().for_each(strip_markers),
        _ => {}
    }
}

/// Lists that the later file replaces whole.
const REPLACED: &[&str] = &["command", "entrypoint", "test"];

/// Merges `over` into `base`, where both are the top level of a compose document.
pub fn merge_documents(base: &mut Tree, over: Tree) {
    merge_at(base, over, &[]);
}

/// Merges the service `over` into `base`, both canonical, as a later file's service would be
/// (what `extends` does with the service it extends).
pub fn merge_service(base: &mut Tree, over: Tree) {
    merge_at(base, over, &["services", "-"]);
}

fn merge_at(base: &mut Tree, over: Tree, path: &[&str]) {
    match (base, over) {
        (Tree::Object(b), Tree::Object(o)) => {
            for (key, value) in o {
                let child_path: Vec<&str> = path.iter().copied().chain([key.as_str()]).collect();
                if let Some((tag, inner)) = as_marker(&value) {
                    if tag == RESET {
                        b.remove(&key);
                    } else {
                        b.insert(key, inner.clone());
                    }
                    continue;
                }
                match b.get_mut(&key) {
                    // An empty value in a later file never erases what an earlier one set.
                    Some(_) if value.is_null() => {}
                    Some(existing) => merge_at(existing, value, &child_path),
                    None => {
                        b.insert(key, value);
                    }
                }
            }
        }
        (Tree::Array(b), Tree::Array(o)) => {
            let field = path.last().copied().unwrap_or("");
            let in_service = path.len() == 3 && path[0] == "services";
            if in_service && field == "ports" {
                merge_keyed(b, o, ports::merge_key);
            } else if in_service && field == "volumes" {
                merge_keyed(b, o, volume_target);
            } else if in_service && (field == "secrets" || field == "configs") {
                merge_keyed(b, o, |v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.get("source").and_then(Tree::as_str).map(str::to_owned))
                });
            } else if in_service && UNION_LISTS.contains(&field) && !REPLACED.contains(&field) {
                for item in o {
                    if !b.contains(&item) {
                        b.push(item);
                    }
                }
            } else {
                *b = o;
            }
        }
        (b, o) => *b = o,
    }
}

/// Replaces entries of `base` whose key matches one in `over`, and appends the rest.
fn merge_keyed(base: &mut Vec<Tree>, over: Vec<Tree>, key: impl Fn(&Tree) -> Option<String>) {
    for item in over {
        let k = key(&item);
        match k.and_then(|k| {
            base.iter()
                .position(|b| key(b).as_deref() == Some(k.as_str()))
        }) {
            Some(i) => base[i] = item,
            None => base.push(item),
        }
    }
}

/// The container path of a volume entry, short or long syntax.
fn volume_target(v: &Tree) -> Option<String> {
    let target = match v {
        Tree::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            match parts.len() {
                1 => parts[0],
                _ => parts[1],
            }
        }
        Tree::Object(m) => m.get("target").and_then(Tree::as_str)?,
        _ => return None,
    };
    Some(normalize::container_path(target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(a: Tree, b: Tree) -> Tree {
        let mut a = a;
        let mut b = b;
        for doc in [&mut a, &mut b] {
            if let Some(Tree::Object(services)) = doc.get_mut("services") {
                for s in services.values_mut() {
                    canonicalize_service(s);
                }
            }
        }
        merge_documents(&mut a, b);
        a
    }

    #[test]
    fn scalars_are_overridden_and_maps_merged() {
        let m = merged(
            json!({"services": {"web": {"image": "a", "environment": ["A=1", "B=2"], "labels": {"x": "1"}}}}),
            json!({"services": {"web": {"image": "b", "environment": {"B": "3", "C": "4"}, "labels": ["y=2"]}}}),
        );
        assert_eq!(m["services"]["web"]["image"], "b");
        assert_eq!(
            m["services"]["web"]["environment"],
            json!({"A": "1", "B": "3", "C": "4"})
        );
        assert_eq!(m["services"]["web"]["labels"], json!({"x": "1", "y": "2"}));
    }

    #[test]
    fn ports_combine_by_published_port_and_volumes_by_target() {
        let m = merged(
            json!({"services": {"web": {
                "ports": ["8080:80", "9000:9000"],
                "volumes": ["data:/data", "./src:/src"]}}}),
            json!({"services": {"web": {
                "ports": ["8080:80", {"target": 443, "published": 8443}],
                "volumes": [{"type": "bind", "source": "./other", "target": "/src"}, "/cache"]}}}),
        );
        assert_eq!(
            m["services"]["web"]["ports"],
            json!(["8080:80", "9000:9000", {"target": 443, "published": 8443}])
        );
        assert_eq!(
            m["services"]["web"]["volumes"],
            json!(["data:/data", {"type": "bind", "source": "./other", "target": "/src"}, "/cache"])
        );
    }

    #[test]
    fn commands_are_replaced_and_name_lists_joined() {
        let m = merged(
            json!({"services": {"web": {"command": ["a", "b"], "expose": ["80"], "cap_add": ["NET_ADMIN"],
                                        "depends_on": ["db"], "build": "."}}}),
            json!({"services": {"web": {"command": ["c"], "expose": ["80", "81"],
                                        "depends_on": {"cache": {"condition": "service_healthy"}},
                                        "build": {"target": "dev"}}}}),
        );
        let web = &m["services"]["web"];
        assert_eq!(web["command"], json!(["c"]));
        assert_eq!(web["expose"], json!(["80", "81"]));
        assert_eq!(web["cap_add"], json!(["NET_ADMIN"]));
        assert_eq!(
            web["depends_on"],
            json!({"db": null, "cache": {"condition": "service_healthy"}})
        );
        assert_eq!(web["build"], json!({"context": ".", "target": "dev"}));
    }

    #[test]
    fn reset_removes_and_override_replaces_whole() {
        let mut m = merged(
            json!({"services": {"web": {"command": ["a"], "ports": ["80:80"], "environment": {"A": "1"}}}}),
            json!({"services": {"web": {
                "command": marker(RESET, Tree::Null),
                "ports": marker(OVERRIDE, json!(["81:81"])),
                "environment": marker(OVERRIDE, json!({"B": "2"})),
                "labels": marker(RESET, Tree::Null)}}}),
        );
        strip_markers(&mut m);
        let web = &m["services"]["web"];
        assert!(web.get("command").is_none());
        assert!(
            web.get("labels").is_none(),
            "a reset of nothing leaves nothing"
        );
        assert_eq!(web["ports"], json!(["81:81"]));
        assert_eq!(web["environment"], json!({"B": "2"}));
    }

    #[test]
    fn new_services_and_top_level_sections_are_added() {
        let m = merged(
            json!({"services": {"a": {"image": "a"}}, "volumes": {"v1": {}}}),
            json!({"services": {"b": {"image": "b"}}, "volumes": {"v2": {"driver": "local"}}}),
        );
        assert_eq!(m["services"].as_object().unwrap().len(), 2);
        assert_eq!(m["volumes"], json!({"v1": {}, "v2": {"driver": "local"}}));
    }
}
