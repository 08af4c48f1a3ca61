//! The labels and names that make our objects Docker Compose's: `docker compose ps` sees our
//! stacks and we see theirs.

use std::collections::HashMap;

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const NUMBER: &str = "com.docker.compose.container-number";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const VERSION: &str = "com.docker.compose.version";
pub const IMAGE: &str = "com.docker.compose.image";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";
/// Ours: the container path an anonymous volume is kept for, so the next `up` re-attaches it
/// (Compose orphans such volumes on `rm`; that is how the article lost its database).
pub const ANONYMOUS_PATH: &str = "dev.orchestrator.anonymous-volume.path";

/// The version we write in `com.docker.compose.version`.
pub fn version() -> String {
    format!("orchestrator-{}", env!("CARGO_PKG_VERSION"))
}

/// `project-service-N`, the name Compose v2 gives a service's Nth container.
pub fn container_name(project: &str, service: &str, number: u32) -> String {
    format!("{project}-{service}-{number}")
}

/// A label filter for the engine's list calls: `label=KEY=VALUE` for each pair.
pub fn filter(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    let labels = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    HashMap::from([("label".to_owned(), labels)])
}

/// A label filter for objects that carry `key`, whatever its value.
pub fn filter_present(key: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![key.to_owned()])])
}
