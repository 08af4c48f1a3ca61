//! Which compose files make up a project, and what the project is called.

use std::path::{Path, PathBuf};

/// The names looked for when `-f` is not given, in order: this project's own `build.yml`, then
/// the names Docker Compose looks for.
pub const DEFAULT_FILES: [&str; 5] = [
    "build.yml",
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Finds the compose file in `dir` or the nearest parent that has one, and its override file
/// beside it (`compose.override.yaml` for `compose.yaml`, `build.override.yml` for `build.yml`).
pub fn discover(dir: &Path) -> Option<Vec<PathBuf>> {
    for candidate_dir in dir.ancestors() {
        for name in DEFAULT_FILES {
            let path = candidate_dir.join(name);
            if path.is_file() {
                let mut files = vec![path.clone()];
                if let Some(over) = override_for(&path) {
                    files.push(over);
                }
                return Some(files);
            }
        }
    }
    None
}

fn override_for(path: &Path) -> Option<PathBuf> {
    let stem = path.file_stem()?.to_str()?;
    let dir = path.parent()?;
    ["yaml", "yml"]
        .iter()
        .map(|ext| dir.join(format!("{stem}.override.{ext}")))
        .find(|p| p.is_file())
}

/// Makes a project name the way Compose does: lower case, only `a-z 0-9 _ -`, starting with a
/// letter or digit.
pub fn normalize_project_name(raw: &str) -> String {
    let kept: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    kept.trim_start_matches(['_', '-']).to_owned()
}

/// True if `name` is already a valid project name.
pub fn is_valid_project_name(name: &str) -> bool {
    !name.is_empty() && normalize_project_name(name) == name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_normalized_like_compose() {
        let cases = [
            ("MyApp", "myapp"),
            ("my app.v2", "myappv2"),
            ("_hidden", "hidden"),
            ("--x--", "x--"),
            ("Ünïcode", "ncode"),
            ("web_1-a", "web_1-a"),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize_project_name(raw), expected, "{raw}");
        }
        assert!(is_valid_project_name("board"));
        assert!(!is_valid_project_name("Board"));
        assert!(!is_valid_project_name(""));
    }

    #[test]
    fn discovery_prefers_build_yml_then_compose_names_and_walks_up() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(discover(&nested), None);
        std::fs::write(root.path().join("docker-compose.yml"), "services: {}").unwrap();
        assert_eq!(
            discover(&nested).unwrap(),
            [root.path().join("docker-compose.yml")]
        );
        std::fs::write(root.path().join("build.yml"), "services: {}").unwrap();
        std::fs::write(root.path().join("build.override.yml"), "services: {}").unwrap();
        assert_eq!(
            discover(&nested).unwrap(),
            [
                root.path().join("build.yml"),
                root.path().join("build.override.yml")
            ]
        );
    }
}
