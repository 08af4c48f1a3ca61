//! The config hash that decides recreation: a digest of everything a service's containers are
//! made from, and nothing else. Replica count, profiles, pull policy, build instructions, watch
//! rules (`develop`) and start order change no container, so they are left out; the image ID is
//! put in, so a rebuilt or re-pulled image recreates the container even under the same tag.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::project::model::{Project, Service};

/// The hash of service `name` as it would run on `image_id`, with the network aliases others'
/// links give it.
pub fn config_hash(
    project: &Project,
    name: &str,
    service: &Service,
    image_id: &str,
    aliases: &[String],
) -> String {
    let mut relevant = service.clone();
    relevant.build = None;
    relevant.pull_policy = String::new();
    relevant.profiles.clear();
    relevant.depends_on.clear();
    relevant.develop = None;
    if let Some(deploy) = relevant.deploy.as_mut() {
        deploy.replicas = None;
    }
    // `deploy: {replicas: 3}` and no `deploy` at all run the same containers.
    if relevant
        .deploy
        .as_ref()
        .is_some_and(|d| *d == Default::default())
    {
        relevant.deploy = None;
    }
    let networks: Vec<(&String, Option<&String>)> = service
        .networks
        .keys()
        .map(|k| (k, project.networks.get(k).map(|n| &n.name)))
        .collect();
    let input = json!({
        "service": relevant,
        "image": image_id,
        "aliases": aliases,
        "networks": networks,
        "project": project.name,
        "name": name,
    });
    let digest = Sha256::digest(input.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::model::Deploy;

    fn project_with(service: Service) -> Project {
        let mut project = Project::new("p", Default::default());
        project.services.insert("web".to_string(), service);
        project
    }

    #[test]
    fn what_changes_no_container_changes_no_hash() {
        let base = Service {
            image: Some("nginx".into()),
            ..Service::default()
        };
        let p = project_with(base.clone());
        let h = config_hash(&p, "web", &base, "sha256:1", &[]);
        let mut scaled = base.clone();
        scaled.deploy = Some(Deploy {
            replicas: Some(3),
            ..Deploy::default()
        });
        scaled.pull_policy = "always".into();
        assert_eq!(config_hash(&p, "web", &scaled, "sha256:1", &[]), h);

        let mut changed = base.clone();
        changed.environment.insert("A".into(), Some("1".into()));
        assert_ne!(config_hash(&p, "web", &changed, "sha256:1", &[]), h);
        assert_ne!(
            config_hash(&p, "web", &base, "sha256:2", &[]),
            h,
            "a new image"
        );
        assert_ne!(
            config_hash(&p, "web", &base, "sha256:1", &["alias".into()]),
            h
        );
    }
}
